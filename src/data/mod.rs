//! Seeded datasets (2-D classification on `[-6, 6]^2`, 1-D regression on `[-1, 1]`) and the
//! input grid on which neuron maps are drawn.

pub mod grid;

pub use grid::InputGrid;

use ndarray::Array2;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nn::Loss;
use crate::nn::numerics::{cos, sin, standard_normal};

/// Half the side of the 2-D domain: inputs lie in `[-6, 6]^2`.
pub const PLANE_EXTENT: f32 = 6.0;
/// Half the length of the 1-D domain: inputs lie in `[-1, 1]`.
pub const LINE_EXTENT: f32 = 1.0;
/// The fewest points a dataset may have.
pub const MIN_POINTS: usize = 100;
/// The most points a dataset may have.
pub const MAX_POINTS: usize = 2000;
/// Noise is a fraction in `[0, MAX_NOISE]`.
pub const MAX_NOISE: f64 = 0.5;

/// Which dataset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// A disc of one class inside a ring of the other.
    #[default]
    Circle,
    /// Four quadrants, the class is the sign of `x * y`.
    Xor,
    /// Two Gaussian blobs at (2, 2) and (-2, -2).
    Gaussians,
    /// Two interleaved spiral arms.
    Spiral,
    /// Two interleaved half circles.
    Moons,
    /// Regression of `|x|` on `[-1, 1]`.
    Abs,
    /// Regression of `sin(pi x)` on `[-1, 1]`.
    Sine,
    /// Regression of a step (`-0.5` left of 0, `0.5` right) on `[-1, 1]`.
    Step,
}

impl DatasetKind {
    /// Every dataset, in menu order.
    pub const ALL: [Self; 8] =
        [Self::Circle, Self::Xor, Self::Gaussians, Self::Spiral, Self::Moons, Self::Abs, Self::Sine, Self::Step];

    /// The name a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Circle => "Circle",
            Self::Xor => "XOR",
            Self::Gaussians => "Two Gaussians",
            Self::Spiral => "Spiral",
            Self::Moons => "Two moons",
            Self::Abs => "|x| (1-D)",
            Self::Sine => "sin(πx) (1-D)",
            Self::Step => "Step (1-D)",
        }
    }

    /// The kebab-case name used in configs.
    pub fn key(self) -> &'static str {
        match self {
            Self::Circle => "circle",
            Self::Xor => "xor",
            Self::Gaussians => "gaussians",
            Self::Spiral => "spiral",
            Self::Moons => "moons",
            Self::Abs => "abs",
            Self::Sine => "sine",
            Self::Step => "step",
        }
    }

    /// The number of inputs: 2 for classification, 1 for regression.
    pub fn input_size(self) -> usize {
        if self.is_classification() { 2 } else { 1 }
    }

    /// Whether this is a 2-D classification set (else a 1-D regression set).
    pub fn is_classification(self) -> bool {
        matches!(self, Self::Circle | Self::Xor | Self::Gaussians | Self::Spiral | Self::Moons)
    }

    /// The loss the network trains on for this dataset.
    pub fn loss(self) -> Loss {
        if self.is_classification() { Loss::BinaryCrossEntropy } else { Loss::MeanSquaredError }
    }

    /// Half the side of the input domain.
    pub fn extent(self) -> f32 {
        if self.is_classification() { PLANE_EXTENT } else { LINE_EXTENT }
    }
}

/// A dataset split into training and test points.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Which dataset.
    pub kind: DatasetKind,
    /// `[n_train, n_in]`.
    pub train_inputs: Array2<f32>,
    /// `[n_train, 1]`: a class (0 or 1) or a regression target.
    pub train_targets: Array2<f32>,
    /// `[n_test, n_in]`.
    pub test_inputs: Array2<f32>,
    /// `[n_test, 1]`.
    pub test_targets: Array2<f32>,
    /// Set when the inputs above are standardized: how to go back to the original axes.
    pub scaling: Option<InputScaling>,
}

/// Per input feature, the mean and standard deviation of the training split: the network sees
/// `(x - mean) / std` instead of `x`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputScaling {
    /// Per feature.
    pub mean: Vec<f32>,
    /// Per feature; 1 for a feature that does not vary.
    pub std: Vec<f32>,
}

impl InputScaling {
    /// The mean and standard deviation of each column of `inputs` (in `f64`).
    ///
    /// # Shapes
    /// `inputs: [n, n_in]`.
    pub fn fit(inputs: &Array2<f32>) -> Self {
        let n = inputs.nrows().max(1) as f64;
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for column in inputs.columns() {
            let mu = column.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let variance = column.iter().map(|&v| (f64::from(v) - mu) * (f64::from(v) - mu)).sum::<f64>() / n;
            let sigma = variance.sqrt();
            mean.push(mu as f32);
            std.push(if sigma > 1e-12 { sigma as f32 } else { 1.0 });
        }
        Self { mean, std }
    }

    /// Standardizes `inputs` in place.
    ///
    /// # Shapes
    /// `inputs: [n, n_in]`.
    pub fn apply(&self, inputs: &mut Array2<f32>) {
        for mut row in inputs.rows_mut() {
            for ((value, &mean), &std) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *value = (*value - mean) / std;
            }
        }
    }

    /// Feature `feature` of a standardized input, back on the original axis.
    pub fn original(&self, feature: usize, value: f32) -> f32 {
        value * self.std[feature] + self.mean[feature]
    }
}

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    /// Which dataset.
    pub kind: DatasetKind,
    /// Points in all, train and test together.
    pub points: usize,
    /// Noise as a fraction in `[0, 0.5]`: input jitter with a standard deviation of
    /// `3 * noise` domain units for 2-D sets, target noise of `noise` for 1-D sets.
    pub noise: f64,
    /// Fraction of points used for training, the rest for testing.
    pub train_fraction: f64,
    /// Standardize the inputs with the training split's mean and standard deviation.
    pub standardize: bool,
}

impl Dataset {
    /// Generates the dataset `spec` from `rng`: the same generator state gives the same points.
    pub fn generate(spec: DataSpec, rng: &mut ChaCha8Rng) -> Self {
        let points = spec.points.clamp(MIN_POINTS, MAX_POINTS);
        let noise = spec.noise.clamp(0.0, MAX_NOISE);
        let mut samples = generate_samples(spec.kind, points, noise, rng);
        samples.shuffle(rng);
        let n_train = ((points as f64 * spec.train_fraction).round() as usize).clamp(1, points);
        let (train, test) = samples.split_at(n_train);
        let n_in = spec.kind.input_size();
        let (mut train_inputs, train_targets) = to_arrays(train, n_in);
        let (mut test_inputs, test_targets) = to_arrays(test, n_in);
        let scaling = spec.standardize.then(|| InputScaling::fit(&train_inputs));
        if let Some(scaling) = &scaling {
            scaling.apply(&mut train_inputs);
            scaling.apply(&mut test_inputs);
        }
        Self { kind: spec.kind, train_inputs, train_targets, test_inputs, test_targets, scaling }
    }

    /// The number of training points.
    pub fn train_len(&self) -> usize {
        self.train_inputs.nrows()
    }
}

/// One point: up to two inputs and a target.
#[derive(Clone, Copy, Debug)]
struct Sample {
    input: [f32; 2],
    target: f32,
}

fn to_arrays(samples: &[Sample], n_in: usize) -> (Array2<f32>, Array2<f32>) {
    let inputs = Array2::from_shape_fn((samples.len(), n_in), |(i, j)| samples[i].input[j]);
    let targets = Array2::from_shape_fn((samples.len(), 1), |(i, _)| samples[i].target);
    (inputs, targets)
}

/// A standard normal draw, the same on every machine.
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    standard_normal(rng)
}

fn generate_samples(kind: DatasetKind, points: usize, noise: f64, rng: &mut ChaCha8Rng) -> Vec<Sample> {
    if !kind.is_classification() {
        return (0..points).map(|_| regression_sample(kind, noise, rng)).collect();
    }
    let jitter = 3.0 * noise;
    (0..points)
        .map(|index| {
            let (x, y, label) = classification_point(kind, index, points, rng);
            let x = x + jitter * gaussian(rng);
            let y = y + jitter * gaussian(rng);
            Sample { input: [x as f32, y as f32], target: label }
        })
        .collect()
}

/// The clean point `index` of `points` and its class.
fn classification_point(kind: DatasetKind, index: usize, points: usize, rng: &mut ChaCha8Rng) -> (f64, f64, f32) {
    use std::f64::consts::PI;
    let half = points / 2;
    let is_positive = index < half;
    let label = if is_positive { 1.0 } else { 0.0 };
    match kind {
        DatasetKind::Circle => {
            let radius = if is_positive { rng.random_range(0.0..2.5) } else { rng.random_range(3.5..5.0) };
            let angle = rng.random_range(0.0..2.0 * PI);
            (radius * sin(angle), radius * cos(angle), label)
        }
        DatasetKind::Xor => {
            let push = |v: f64| if v > 0.0 { v + 0.3 } else { v - 0.3 };
            let x = push(rng.random_range(-5.0..5.0));
            let y = push(rng.random_range(-5.0..5.0));
            (x, y, if x * y >= 0.0 { 1.0 } else { 0.0 })
        }
        DatasetKind::Gaussians => {
            let center = if is_positive { 2.0 } else { -2.0 };
            (center + gaussian(rng), center + gaussian(rng), label)
        }
        DatasetKind::Spiral => {
            let arm_index = if is_positive { index } else { index - half };
            let arm_len = if is_positive { half } else { points - half }.max(1) as f64;
            let t = arm_index as f64 / arm_len;
            let radius = 5.0 * t;
            let angle = 1.75 * 2.0 * PI * t + if is_positive { 0.0 } else { PI };
            (radius * sin(angle), radius * cos(angle), label)
        }
        DatasetKind::Moons => {
            let t = rng.random_range(0.0..PI);
            let (x, y) = if is_positive { (cos(t), sin(t)) } else { (1.0 - cos(t), 0.5 - sin(t)) };
            (3.0 * (x - 0.5), 3.0 * (y - 0.25), label)
        }
        DatasetKind::Abs | DatasetKind::Sine | DatasetKind::Step => (0.0, 0.0, 0.0),
    }
}

fn regression_sample(kind: DatasetKind, noise: f64, rng: &mut ChaCha8Rng) -> Sample {
    let x: f64 = rng.random_range(-1.0..=1.0);
    let clean = regression_target(kind, x);
    let target = clean + noise * gaussian(rng);
    Sample { input: [x as f32, 0.0], target: target as f32 }
}

/// The noise-free target of a 1-D regression set at `x`.
pub fn regression_target(kind: DatasetKind, x: f64) -> f64 {
    match kind {
        DatasetKind::Abs => x.abs(),
        DatasetKind::Sine => sin(std::f64::consts::PI * x),
        DatasetKind::Step => {
            if x < 0.0 {
                -0.5
            } else {
                0.5
            }
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn spec(kind: DatasetKind) -> DataSpec {
        DataSpec { kind, points: 500, noise: 0.1, train_fraction: 0.5, standardize: false }
    }

    #[test]
    fn same_seed_same_points() {
        for kind in DatasetKind::ALL {
            let a = Dataset::generate(spec(kind), &mut ChaCha8Rng::seed_from_u64(3));
            let b = Dataset::generate(spec(kind), &mut ChaCha8Rng::seed_from_u64(3));
            assert_eq!(a, b);
            assert_eq!(a.train_len() + a.test_inputs.nrows(), 500);
            assert_eq!(a.train_inputs.ncols(), kind.input_size());
        }
    }

    #[test]
    fn standardized_training_inputs_have_zero_mean_and_unit_variance() {
        for kind in DatasetKind::ALL {
            let spec = DataSpec { standardize: true, ..spec(kind) };
            let data = Dataset::generate(spec, &mut ChaCha8Rng::seed_from_u64(5));
            let raw = Dataset::generate(DataSpec { standardize: false, ..spec }, &mut ChaCha8Rng::seed_from_u64(5));
            let scaling = data.scaling.as_ref().unwrap();
            for (feature, column) in data.train_inputs.columns().into_iter().enumerate() {
                let n = column.len() as f64;
                let mean = column.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
                let variance = column.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
                assert!(mean.abs() < 1e-5, "{kind:?} feature {feature}: mean {mean}");
                assert!((variance - 1.0).abs() < 1e-4, "{kind:?} feature {feature}: variance {variance}");
                let back = scaling.original(feature, data.train_inputs[[0, feature]]);
                assert!((back - raw.train_inputs[[0, feature]]).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn classes_are_balanced_and_inside_the_domain() {
        let data =
            Dataset::generate(DataSpec { noise: 0.0, ..spec(DatasetKind::Spiral) }, &mut ChaCha8Rng::seed_from_u64(1));
        let positives = data.train_targets.iter().chain(&data.test_targets).filter(|&&t| t == 1.0).count();
        assert_eq!(positives, 250);
        assert!(data.train_inputs.iter().all(|v| v.abs() <= PLANE_EXTENT));
    }
}

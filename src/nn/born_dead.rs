//! Is a ReLU network born dead? An exact test for one input on `[-1, 1]`, and a Monte-Carlo
//! estimate of the probability over random initializations.
//!
//! With one input, every hidden layer's output is a piecewise-linear function of `x`. We track
//! it exactly as its values at a sorted list of breakpoints, between which it is affine: a
//! layer's pre-activations are then affine between the same points, and the ReLU adds a
//! breakpoint wherever a neuron's pre-activation changes sign inside a segment. A layer is dead
//! on the domain exactly when all its outputs are zero at every breakpoint.
//!
//! A network is drawn and tested one layer at a time, so a wide, deep one (512 x 64 holds 16
//! million weights, 134 MB as `f64`) never sits in memory whole: one layer and the breakpoints
//! do. Once a layer is dead the rest are still drawn (and dropped), so every network takes the
//! same draws from the random stream as when all were drawn first. A long count can be asked
//! to stop ([`BornDeadSetup::count_chunk_until`]): it looks between layers and every
//! [`STOP_CHECK_EVERY`] breakpoints, so it stops within a fraction of a second even where one
//! network takes minutes.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::Init;

/// The domain's ends.
const DOMAIN: (f64, f64) = (-1.0, 1.0);

/// One hidden layer of a 1-input ReLU network, stored by neuron.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PiecewiseLayer {
    /// `weights[neuron][input]`.
    pub weights: Vec<Vec<f64>>,
    /// One per neuron.
    pub biases: Vec<f64>,
}

/// The result of [`estimate`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BornDeadEstimate {
    /// Networks drawn.
    pub trials: u64,
    /// Of those, how many were born dead.
    pub born_dead: u64,
    /// `born_dead / trials`.
    pub probability: f64,
    /// The Monte-Carlo standard error, `sqrt(p (1 - p) / trials)`.
    pub standard_error: f64,
}

/// Networks per chunk: each chunk draws from its own random stream, so the result is the same
/// however the chunks are shared out between threads.
pub const CHUNK_TRIALS: u64 = 4096;

/// Breakpoints (or segments) handled between two looks at the stop signal within a layer.
pub const STOP_CHECK_EVERY: usize = 64;

/// What a count that may be stopped did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkCount {
    /// Networks tested to the end.
    pub networks: u64,
    /// Of those, how many were born dead.
    pub born_dead: u64,
    /// Whether every network of the chunk was tested (not stopped).
    pub is_complete: bool,
}

/// The test stopped before it had an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stopped;

/// The shape of the networks drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BornDeadSetup {
    /// Neurons per hidden layer.
    pub width: usize,
    /// Hidden layers.
    pub hidden_layers: usize,
    /// How weights (and RAI's biases) are drawn.
    pub init: Init,
    /// Added to every bias.
    pub bias: f64,
    /// Seeds every chunk's stream.
    pub seed: u64,
}

impl BornDeadSetup {
    /// The chunks `trials` networks take.
    pub fn chunk_count(trials: u64) -> u64 {
        trials.div_ceil(CHUNK_TRIALS)
    }

    /// How many of chunk `chunk`'s networks are born dead; the chunk holds `CHUNK_TRIALS`
    /// networks, fewer if it is the last of `trials`.
    pub fn count_chunk(&self, chunk: u64, trials: u64) -> u64 {
        self.count_chunk_until(chunk, trials, &|| false).born_dead
    }

    /// [`BornDeadSetup::count_chunk`], but stops soon after `stop` returns true (it is asked
    /// between layers and every [`STOP_CHECK_EVERY`] breakpoints); the networks tested so far
    /// are counted.
    pub fn count_chunk_until(&self, chunk: u64, trials: u64, stop: &dyn Fn() -> bool) -> ChunkCount {
        let first = chunk * CHUNK_TRIALS;
        let count = trials.saturating_sub(first).min(CHUNK_TRIALS);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(chunk);
        let mut scratch = Scratch::default();
        let mut layer = PiecewiseLayer::default();
        let mut done = ChunkCount::default();
        for _ in 0..count {
            match self.draw_and_test(&mut layer, &mut rng, &mut scratch, stop) {
                Ok(is_dead) => {
                    done.networks += 1;
                    done.born_dead += u64::from(is_dead);
                }
                Err(Stopped) => return done,
            }
        }
        done.is_complete = true;
        done
    }

    /// Draws one network layer by layer, testing each as it comes; whether it is born dead.
    fn draw_and_test(
        &self,
        layer: &mut PiecewiseLayer,
        rng: &mut ChaCha8Rng,
        scratch: &mut Scratch,
        stop: &dyn Fn() -> bool,
    ) -> Result<bool, Stopped> {
        scratch.start();
        let mut is_dead = false;
        for index in 0..self.hidden_layers {
            if stop() {
                return Err(Stopped);
            }
            self.draw_layer(index, layer, rng);
            // A dead network's later layers are drawn only to keep the stream in step.
            if !is_dead {
                is_dead = scratch.layer(layer, stop)?;
            }
        }
        Ok(is_dead)
    }

    fn draw_layer(&self, index: usize, layer: &mut PiecewiseLayer, rng: &mut ChaCha8Rng) {
        let Self { width, hidden_layers, init, bias, .. } = *self;
        let fan_in = if index == 0 { 1 } else { width };
        let fan_out = if index + 1 == hidden_layers { 1 } else { width };
        layer.weights.clear();
        layer.biases.clear();
        for _ in 0..width {
            let (weights, drawn_bias) = init.draw_neuron(rng, fan_in, fan_out);
            layer.weights.push(weights);
            layer.biases.push(drawn_bias + bias);
        }
    }
}

impl BornDeadEstimate {
    /// The estimate from `born_dead` of `trials` networks.
    pub fn new(born_dead: u64, trials: u64) -> Self {
        let probability = if trials == 0 { 0.0 } else { born_dead as f64 / trials as f64 };
        let standard_error = if trials == 0 { 0.0 } else { (probability * (1.0 - probability) / trials as f64).sqrt() };
        Self { trials, born_dead, probability, standard_error }
    }
}

/// Draws `trials` networks with 1 input, `hidden_layers` ReLU layers of `width` and 1 output,
/// and counts those born dead on `[-1, 1]`, on this thread. Symmetric initializers give every
/// bias `bias`; RAI draws its biases by its recipe and adds `bias`. The same as summing
/// [`BornDeadSetup::count_chunk`] over the chunks in any order, on any number of threads.
pub fn estimate(width: usize, hidden_layers: usize, init: Init, bias: f64, trials: u64, seed: u64) -> BornDeadEstimate {
    let setup = BornDeadSetup { width, hidden_layers, init, bias, seed };
    let born_dead = (0..BornDeadSetup::chunk_count(trials)).map(|chunk| setup.count_chunk(chunk, trials)).sum();
    BornDeadEstimate::new(born_dead, trials)
}

/// Whether the hidden layers of `mlp`, a ReLU network with one input, output zero for every
/// `x` in `[-1, 1]` in some layer (exact, in `f64` from the network's `f32` parameters).
/// `None` for a network with another input count or activation.
pub fn is_network_born_dead(mlp: &crate::nn::Mlp<f32>) -> Option<bool> {
    is_network_born_dead_on(mlp, DOMAIN)
}

/// Whether the hidden layers of `mlp`, a ReLU network with one input, output zero for every
/// `x` in `[domain.0, domain.1]` in some layer: the same exact check on another interval (the
/// standardized one, when the inputs are standardized).
pub fn is_network_born_dead_on(mlp: &crate::nn::Mlp<f32>, domain: (f64, f64)) -> Option<bool> {
    if mlp.input_size() != 1 || mlp.activation != crate::nn::Activation::Relu {
        return None;
    }
    let layers: Vec<PiecewiseLayer> = mlp.layers[..mlp.hidden_layer_count()]
        .iter()
        .map(|layer| PiecewiseLayer {
            weights: layer
                .weights
                .columns()
                .into_iter()
                .map(|column| column.iter().map(|&w| f64::from(w)).collect())
                .collect(),
            biases: layer.biases.iter().map(|&b| f64::from(b)).collect(),
        })
        .collect();
    let mut scratch = Scratch::default();
    scratch.start_on(domain);
    Some(layers.iter().any(|layer| scratch.layer(layer, &|| false).unwrap_or(false)))
}

/// Whether some hidden layer outputs zero for every `x` in `[-1, 1]` (exact).
pub fn is_born_dead(layers: &[PiecewiseLayer]) -> bool {
    let mut scratch = Scratch::default();
    scratch.start();
    layers.iter().any(|layer| scratch.layer(layer, &|| false).unwrap_or(false))
}

/// Reused buffers: breakpoints and, per breakpoint, the current layer's outputs.
#[derive(Default)]
struct Scratch {
    xs: Vec<f64>,
    values: Vec<f64>,
    /// Outputs per breakpoint of the layer before (1 for the input).
    input_width: usize,
    pre: Vec<f64>,
    next_xs: Vec<f64>,
    next_pre: Vec<f64>,
    crossings: Vec<f64>,
}

impl Scratch {
    /// Back to the input: the domain's two ends, where `x` is itself.
    fn start(&mut self) {
        self.start_on(DOMAIN);
    }

    /// Back to the input, on the interval `domain`.
    fn start_on(&mut self, domain: (f64, f64)) {
        self.xs.clear();
        self.xs.extend([domain.0, domain.1]);
        self.values.clear();
        self.values.extend([domain.0, domain.1]);
        self.input_width = 1;
    }

    /// Passes the outputs so far through `layer`; whether it is dead on the whole domain.
    fn layer(&mut self, layer: &PiecewiseLayer, stop: &dyn Fn() -> bool) -> Result<bool, Stopped> {
        let width = layer.biases.len();
        // Pre-activations at every breakpoint: affine in the previous outputs.
        self.pre.clear();
        for (index, point) in self.values.chunks_exact(self.input_width).enumerate() {
            if index % STOP_CHECK_EVERY == STOP_CHECK_EVERY - 1 && stop() {
                return Err(Stopped);
            }
            for (weights, &bias) in layer.weights.iter().zip(&layer.biases) {
                self.pre.push(bias + weights.iter().zip(point).map(|(w, v)| w * v).sum::<f64>());
            }
        }
        insert_zero_crossings(self, width, stop)?;
        // ReLU, and the death test.
        let mut any_positive = false;
        self.values.clear();
        for &z in &self.pre {
            let a = z.max(0.0);
            any_positive |= a > 0.0;
            self.values.push(a);
        }
        self.input_width = width;
        Ok(!any_positive)
    }
}

/// Adds a breakpoint wherever a neuron's pre-activation changes sign strictly inside a segment,
/// with the pre-activations there interpolated (exact, since they are affine on the segment).
fn insert_zero_crossings(s: &mut Scratch, width: usize, stop: &dyn Fn() -> bool) -> Result<(), Stopped> {
    s.next_xs.clear();
    s.next_pre.clear();
    for segment in 0..s.xs.len() {
        if segment % STOP_CHECK_EVERY == STOP_CHECK_EVERY - 1 && stop() {
            return Err(Stopped);
        }
        let left = &s.pre[segment * width..(segment + 1) * width];
        s.next_xs.push(s.xs[segment]);
        s.next_pre.extend_from_slice(left);
        let Some(&x_right) = s.xs.get(segment + 1) else {
            break;
        };
        let right = &s.pre[(segment + 1) * width..(segment + 2) * width];
        s.crossings.clear();
        for (&l, &r) in left.iter().zip(right) {
            if (l < 0.0 && r > 0.0) || (l > 0.0 && r < 0.0) {
                s.crossings.push(l / (l - r));
            }
        }
        s.crossings.sort_by(f64::total_cmp);
        let x_left = s.xs[segment];
        for &t in &s.crossings {
            s.next_xs.push(x_left + t * (x_right - x_left));
            s.next_pre.extend(left.iter().zip(right).map(|(&l, &r)| l + t * (r - l)));
        }
    }
    std::mem::swap(&mut s.xs, &mut s.next_xs);
    std::mem::swap(&mut s.pre, &mut s.next_pre);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(weights: Vec<Vec<f64>>, biases: Vec<f64>) -> PiecewiseLayer {
        PiecewiseLayer { weights, biases }
    }

    #[test]
    fn a_negative_bias_larger_than_the_weight_kills_the_layer() {
        // relu(0.5 x - 1) is zero on [-1, 1].
        assert!(is_born_dead(&[layer(vec![vec![0.5]], vec![-1.0])]));
        // relu(2 x - 1) is positive for x > 0.5.
        assert!(!is_born_dead(&[layer(vec![vec![2.0]], vec![-1.0])]));
    }

    #[test]
    fn a_kink_inside_the_domain_is_found() {
        // Layer 1: h1 = relu(x), h2 = relu(-x): a V shape. Layer 2: relu(h1 + h2 - 0.9) is
        // positive only for |x| > 0.9, which only the breakpoints at the ends reveal;
        // relu(-h1 - h2 + 0.1) is positive only near x = 0, which needs the kink at 0.
        let first = layer(vec![vec![1.0], vec![-1.0]], vec![0.0, 0.0]);
        assert!(!is_born_dead(&[first.clone(), layer(vec![vec![1.0, 1.0]], vec![-0.9])]));
        assert!(!is_born_dead(&[first.clone(), layer(vec![vec![-1.0, -1.0]], vec![0.1])]));
        assert!(is_born_dead(&[first, layer(vec![vec![1.0, 1.0]], vec![-1.5])]));
    }

    #[test]
    fn drawing_layer_by_layer_counts_as_drawing_whole_networks_first() {
        for init in [Init::HeNormal, Init::Rai] {
            let setup = BornDeadSetup { width: 3, hidden_layers: 9, init, bias: 0.0, seed: 7 };
            let trials = 500;
            let mut rng = ChaCha8Rng::seed_from_u64(setup.seed);
            rng.set_stream(0);
            let mut whole_first = 0;
            for _ in 0..trials {
                let mut layers = vec![PiecewiseLayer::default(); setup.hidden_layers];
                for (index, layer) in layers.iter_mut().enumerate() {
                    setup.draw_layer(index, layer, &mut rng);
                }
                whole_first += u64::from(is_born_dead(&layers));
            }
            assert!(whole_first > 0, "{init:?}: the comparison needs some dead networks");
            assert_eq!(setup.count_chunk(0, trials), whole_first, "{init:?}");
        }
    }

    #[test]
    fn a_stop_request_ends_even_one_huge_network_early() {
        let setup = BornDeadSetup { width: 512, hidden_layers: 64, init: Init::Rai, bias: 0.0, seed: 1 };
        let asked = std::cell::Cell::new(0);
        let stop = || {
            asked.set(asked.get() + 1);
            asked.get() > 3
        };
        let count = setup.count_chunk_until(0, 10, &stop);
        assert_eq!(count, ChunkCount { networks: 0, born_dead: 0, is_complete: false });
        assert_eq!(asked.get(), 4, "it stopped at the first look after the request");
        let small = BornDeadSetup { width: 3, hidden_layers: 9, ..setup };
        let done = small.count_chunk_until(0, 3, &|| false);
        assert!(done.is_complete);
        assert_eq!(done.networks, 3);
    }
}

//! Central-difference gradient checks, in `f64`, of `Mlp::backward` together with every loss's
//! `value_and_gradient`, for every activation on small random networks.
//!
//! For each weight, bias and (under `PReLU`) hidden slope `p`, the numeric gradient is
//! `(L(p + h) - L(p - h)) / 2h` with `L` computed by `Mlp::predict` and `Loss::value`; the
//! analytic one comes from `Mlp::forward`, `Loss::value_and_gradient` and `Mlp::backward`.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use relu_lab::nn::{Activation, ActivationKind, Dense, Gradients, Init, Loss, Mlp, Workspace};

/// The central-difference step.
const STEP: f64 = 1e-6;
/// A parameter is skipped when a hidden pre-activation it influences is this close to a kink.
const KINK_MARGIN: f64 = 1e-4;
/// Gradients agree when their relative error is under this...
const RELATIVE_TOLERANCE: f64 = 1e-5;
/// ...or their absolute error is under this.
const ABSOLUTE_TOLERANCE: f64 = 1e-8;
/// At least this fraction of all parameters must be checked (not skipped at a kink).
const MIN_CHECKED_FRACTION: f64 = 0.8;
/// Rows in each random batch.
const BATCH: usize = 6;
/// Every loss under test.
const LOSSES: [Loss; 3] = [Loss::BinaryCrossEntropy, Loss::SoftmaxCrossEntropy, Loss::MeanSquaredError];

/// Which of a layer's three tensors a parameter lives in (the order of `Dense::tensors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tensor {
    Weights,
    Biases,
    PreluSlopes,
}

impl Tensor {
    const ALL: [Self; 3] = [Self::Weights, Self::Biases, Self::PreluSlopes];

    fn index(self) -> usize {
        match self {
            Self::Weights => 0,
            Self::Biases => 1,
            Self::PreluSlopes => 2,
        }
    }
}

/// A network with a batch to check it on.
struct Case {
    /// What the case is, for failure messages.
    name: String,
    mlp: Mlp<f64>,
    loss: Loss,
    /// `[batch, n_in]`.
    inputs: Array2<f64>,
    /// `[batch, n_out]`.
    targets: Array2<f64>,
}

/// The outcome of comparing analytic gradients with central differences.
#[derive(Debug, Default)]
struct Report {
    /// Parameters compared.
    checked: usize,
    /// Parameters skipped because a pre-activation they influence sits near a kink.
    skipped: usize,
    /// Checked parameters whose numeric gradient is larger than the absolute tolerance, so
    /// that agreement is a real test rather than "both are about zero".
    informative: usize,
    /// One line per disagreement.
    failures: Vec<String>,
}

impl Report {
    fn total(&self) -> usize {
        self.checked + self.skipped
    }

    fn merge(&mut self, other: Self) {
        self.checked += other.checked;
        self.skipped += other.skipped;
        self.informative += other.informative;
        self.failures.extend(other.failures);
    }
}

fn is_relu_like(activation: Activation) -> bool {
    matches!(
        activation.kind(),
        ActivationKind::Relu
            | ActivationKind::LeakyRelu
            | ActivationKind::Prelu
            | ActivationKind::Elu
            | ActivationKind::Selu
    )
}

fn is_prelu(activation: Activation) -> bool {
    matches!(activation, Activation::Prelu { .. })
}

fn uniform_matrix(rng: &mut ChaCha8Rng, rows: usize, cols: usize, limit: f64) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| rng.random_range(-limit..=limit))
}

/// Targets fitting `loss`: 0/1 for binary cross-entropy, one-hot rows for softmax, real values
/// for mean squared error.
fn targets_for(loss: Loss, rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Array2<f64> {
    match loss {
        Loss::BinaryCrossEntropy => {
            Array2::from_shape_fn((rows, cols), |_| if rng.random_bool(0.5) { 1.0 } else { 0.0 })
        }
        Loss::SoftmaxCrossEntropy => {
            let mut targets = Array2::zeros((rows, cols));
            for mut row in targets.rows_mut() {
                row[rng.random_range(0..cols)] = 1.0;
            }
            targets
        }
        Loss::MeanSquaredError => uniform_matrix(rng, rows, cols, 1.5),
    }
}

/// Two architectures per loss: `[3, 4, 5, n_out]` under He normal with hidden biases 0.1, and
/// `[2, 3, n_out]` under RAI (which draws every bias), each from its own seed. Softmax gets 3 outputs, the others 2
/// and 1. Under `PReLU`, `prelu_slopes` (if given) draws every hidden neuron's slope.
fn cases(activation: Activation, seed: u64, prelu_slopes: Option<(f64, f64)>) -> Vec<Case> {
    let mut cases = Vec::new();
    for (loss_seed, loss) in (seed * 10..).zip(LOSSES) {
        let architectures: [(Vec<usize>, Init, f64); 2] = match loss {
            Loss::SoftmaxCrossEntropy => [(vec![3, 4, 5, 3], Init::HeNormal, 0.1), (vec![2, 3, 3], Init::Rai, 0.0)],
            _ => [(vec![3, 4, 5, 2], Init::HeNormal, 0.1), (vec![2, 3, 1], Init::Rai, 0.0)],
        };
        for (sizes, init, initial_bias) in architectures {
            let mut rng = ChaCha8Rng::seed_from_u64(loss_seed);
            let mut mlp = Mlp::<f64>::new(&sizes, activation, init, initial_bias, &mut rng);
            if let Some((low, high)) = prelu_slopes {
                let hidden = mlp.hidden_layer_count();
                for layer in &mut mlp.layers[..hidden] {
                    layer.prelu_slopes.mapv_inplace(|_| rng.random_range(low..=high));
                }
            }
            let inputs = uniform_matrix(&mut rng, BATCH, sizes[0], 2.0);
            let n_out = mlp.output_size();
            let targets = targets_for(loss, &mut rng, BATCH, n_out);
            cases.push(Case {
                name: format!("{activation} / {} / {sizes:?} / {init:?}", loss.label()),
                mlp,
                loss,
                inputs,
                targets,
            });
        }
    }
    cases
}

/// The analytic gradients, and the workspace of the forward pass that produced them.
fn analytic_gradients(case: &Case) -> (Gradients<f64>, Workspace<f64>) {
    let Case { mlp, loss, inputs, targets, .. } = case;
    let mut workspace = Workspace::new(mlp, inputs.nrows());
    mlp.forward(inputs.view(), &mut workspace);
    let outputs = workspace.activations.last().expect("an output layer");
    let deltas = workspace.deltas.last_mut().expect("an output layer");
    let value = loss.value_and_gradient(outputs.view(), targets.view(), deltas.view_mut());
    let predicted = mlp.predict(inputs.view());
    assert_eq!(
        value,
        loss.value(predicted.view(), targets.view()),
        "{}: value_and_gradient and value disagree",
        case.name
    );
    let mut gradients = Gradients::zeros_like(mlp);
    mlp.backward(inputs.view(), &mut workspace, &mut gradients);

    // Backward overwrites rather than accumulates: a second call gives the same gradients.
    let mut again = gradients.clone();
    mlp.backward(inputs.view(), &mut workspace, &mut again);
    for (first, second) in gradients.layers.iter().zip(&again.layers) {
        assert_eq!(first, second, "{}: a second backward changed the gradients", case.name);
    }
    (gradients, workspace)
}

/// Whether a parameter of neuron `neuron` in layer `layer_index` influences a hidden
/// pre-activation within `KINK_MARGIN` of 0: its own neuron's, on any row (if the layer is
/// hidden), or any neuron's in a later hidden layer.
fn is_near_kink(mlp: &Mlp<f64>, workspace: &Workspace<f64>, layer_index: usize, neuron: usize) -> bool {
    if !is_relu_like(mlp.activation) {
        return false;
    }
    let hidden = mlp.hidden_layer_count();
    let near = |z: &f64| z.abs() < KINK_MARGIN;
    let own = layer_index < hidden && workspace.pre_activations[layer_index].column(neuron).iter().any(near);
    let later = (layer_index + 1..hidden).any(|index| workspace.pre_activations[index].iter().any(near));
    own || later
}

fn loss_at(case: &Case, mlp: &Mlp<f64>) -> f64 {
    case.loss.value(mlp.predict(case.inputs.view()).view(), case.targets.view())
}

fn agrees(analytic: f64, numeric: f64) -> bool {
    let error = (analytic - numeric).abs();
    let scale = analytic.abs().max(numeric.abs()).max(1e-8);
    error / scale < RELATIVE_TOLERANCE || error < ABSOLUTE_TOLERANCE
}

/// Compares `gradients` with central differences on every parameter of `case`.
fn compare(case: &Case, gradients: &Gradients<f64>, workspace: &Workspace<f64>) -> Report {
    let mlp = &case.mlp;
    let hidden = mlp.hidden_layer_count();
    let mut report = Report::default();
    for (layer_index, layer) in mlp.layers.iter().enumerate() {
        let n_out = layer.output_size();
        for tensor in Tensor::ALL {
            // Slopes are parameters only under PReLU, and only in hidden layers (the output
            // layer is linear).
            if tensor == Tensor::PreluSlopes && !(is_prelu(mlp.activation) && layer_index < hidden) {
                continue;
            }
            let count = layer.tensors()[tensor.index()].len();
            for index in 0..count {
                // Weights are `[n_in, n_out]` in row-major order: column = neuron.
                let neuron = if tensor == Tensor::Weights { index % n_out } else { index };
                if is_near_kink(mlp, workspace, layer_index, neuron) {
                    report.skipped += 1;
                    continue;
                }
                let shifted = |by: f64| {
                    let mut shifted = mlp.clone();
                    shifted.layers[layer_index].tensors_mut()[tensor.index()][index] += by;
                    loss_at(case, &shifted)
                };
                let numeric = (shifted(STEP) - shifted(-STEP)) / (2.0 * STEP);
                let analytic = gradients.layers[layer_index].tensors()[tensor.index()][index];
                report.checked += 1;
                if numeric.abs() > ABSOLUTE_TOLERANCE {
                    report.informative += 1;
                }
                if !agrees(analytic, numeric) {
                    report.failures.push(format!(
                        "{}: layer {layer_index} {tensor:?}[{index}]: analytic {analytic:e}, numeric {numeric:e}",
                        case.name
                    ));
                }
            }
        }
    }
    report
}

/// Checks every case and asserts that the gradients agree and that the check had teeth.
fn check_all(cases: &[Case]) -> Report {
    let mut total = Report::default();
    for case in cases {
        let (gradients, workspace) = analytic_gradients(case);
        let report = compare(case, &gradients, &workspace);
        let min_checked = (MIN_CHECKED_FRACTION * report.total() as f64).ceil() as usize;
        assert!(
            report.checked >= min_checked,
            "{}: only {} of {} parameters checked; pick another seed",
            case.name,
            report.checked,
            report.total()
        );
        total.merge(report);
    }
    assert!(
        total.failures.is_empty(),
        "{} of {} gradients disagree:\n{}",
        total.failures.len(),
        total.checked,
        total.failures.join("\n")
    );
    // Most comparisons must be of gradients that are not both about zero, or agreement would
    // say little (dead ReLU neurons legitimately give some zero gradients).
    assert!(
        total.informative * 2 > total.checked,
        "only {} of {} checked gradients are non-negligible",
        total.informative,
        total.checked
    );
    total
}

/// Parameters in one set of cases: each loss's two networks, with or without hidden slopes.
fn parameter_total(cases: &[Case]) -> usize {
    cases
        .iter()
        .map(|case| {
            let mlp = &case.mlp;
            let hidden = mlp.hidden_layer_count();
            let slopes =
                if is_prelu(mlp.activation) { mlp.layers[..hidden].iter().map(Dense::output_size).sum() } else { 0 };
            mlp.layers.iter().map(|layer| layer.weights.len() + layer.biases.len()).sum::<usize>() + slopes
        })
        .sum()
}

#[test]
fn every_activation_kind_with_its_default_parameter() {
    for (seed, kind) in (1_u64..).zip(ActivationKind::ALL) {
        let cases = cases(kind.with_default_parameter(), seed, None);
        let report = check_all(&cases);
        assert_eq!(report.total(), parameter_total(&cases), "{}: every parameter visited", kind.label());
    }
}

#[test]
fn leaky_relu_with_slope_0_2() {
    let cases = cases(Activation::LeakyRelu { slope: 0.2 }, 20, None);
    check_all(&cases);
}

#[test]
fn elu_with_alpha_0_5() {
    let cases = cases(Activation::Elu { alpha: 0.5 }, 21, None);
    check_all(&cases);
}

#[test]
fn prelu_with_learned_slopes() {
    // Slopes as training might leave them: different per neuron, some above 1, one sign flip.
    let activation = Activation::Prelu { initial_slope: 0.25 };
    let cases = cases(activation, 22, Some((-0.3, 1.5)));
    for case in &cases {
        let slopes = &case.mlp.layers[0].prelu_slopes;
        assert!(slopes.iter().any(|&slope| slope != 0.25), "{}: slopes were redrawn", case.name);
    }
    let report = check_all(&cases);
    let slope_count: usize = cases
        .iter()
        .map(|case| {
            let hidden = case.mlp.hidden_layer_count();
            case.mlp.layers[..hidden].iter().map(Dense::output_size).sum::<usize>()
        })
        .sum();
    assert_eq!(report.total(), parameter_total(&cases), "every parameter visited");
    assert!(slope_count > 0, "the slopes are among them");
}

/// The checker itself: a gradient off by 0.1% in one entry, or a slope gradient left at zero,
/// must be reported.
#[test]
fn the_check_catches_a_wrong_gradient() {
    let cases = cases(Activation::Prelu { initial_slope: 0.25 }, 23, Some((0.1, 0.6)));
    let case = &cases[0];
    let (gradients, workspace) = analytic_gradients(case);
    assert!(compare(case, &gradients, &workspace).failures.is_empty());

    // Pick an entry whose gradient is clearly non-zero.
    let (layer_index, _) = gradients
        .layers
        .iter()
        .enumerate()
        .find(|(_, layer)| layer.weights[[0, 0]].abs() > 1e-3)
        .expect("some first weight has a clear gradient");
    let mut off = gradients.clone();
    off.layers[layer_index].weights[[0, 0]] *= 1.001;
    let report = compare(case, &off, &workspace);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);

    let mut no_slopes = gradients.clone();
    no_slopes.layers[0].prelu_slopes.fill(0.0);
    let report = compare(case, &no_slopes, &workspace);
    let slope_gradients = gradients.layers[0].prelu_slopes.iter().filter(|g| g.abs() > ABSOLUTE_TOLERANCE).count();
    assert!(slope_gradients > 0, "some slope has a gradient on this batch");
    assert_eq!(report.failures.len(), slope_gradients, "{:?}", report.failures);
}

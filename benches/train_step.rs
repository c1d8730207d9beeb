//! Training-step throughput, and the single-core matrix-multiply peak it is measured against.
//!
//! Group `train_step`: one step is forward, loss and its gradient, backward, and a plain SGD
//! update, in `f32` on one thread. Inputs and targets are drawn once, before timing, so the step
//! itself allocates nothing. Throughput is one element per step, so criterion reports steps per
//! second.
//!
//! | id | sizes                   | batch | loss                  |
//! |----|-------------------------|-------|-----------------------|
//! | W1 | 2-8-8-1                 | 10    | binary cross-entropy  |
//! | W2 | 2-32-32-32-32-1         | 64    | binary cross-entropy  |
//! | W3 | 2-256-256-256-1         | 256   | binary cross-entropy  |
//! | W4 | 784-512-512-10          | 128   | softmax cross-entropy |
//!
//! Every workload uses `Activation::Relu` in its hidden layers and `Init::HeNormal` weights.
//!
//! Group `matmul_peak`: `ndarray`'s `general_mat_mul` alone (the `matrixmultiply` kernels the
//! large layers use), at the shapes of W3's hidden layers and W4's first layer. Throughput is
//! `2 * m * k * n` elements per product, so criterion's "elem/s" reads as FLOP/s.
//!
//! Counting a step's FLOPs: a dense layer with `n_in` inputs and `n_out` neurons at batch `B`
//! does three products of `2 * B * n_in * n_out` FLOPs each (forward `a · W`, weight gradient
//! `aᵀ · δ`, and the delta sent down `δ · Wᵀ`), so a step does about
//! `6 * B * sum(n_in * n_out)` FLOPs. The first layer sends no delta down (its `4` is counted as
//! `6`); the element-wise work (activations, loss, SGD) is `O(B * sum(n_out) + parameters)` and
//! left out. The fraction of peak is `steps_per_sec * step_flops / matmul_flops_per_sec`.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use relu_lab::nn::{Activation, Gradients, Init, Loss, Mlp, Optimizer, OptimizerKind, Workspace};

/// Small enough that millions of steps on fixed data stay finite.
const LEARNING_RATE: f32 = 1e-3;

/// The seed of every draw (weights, inputs, targets).
const SEED: u64 = 0x5eed_2024;

/// The number of classes of W4's one-hot targets.
const CLASS_COUNT: usize = 10;

/// One benchmarked network and its batch.
struct Workload {
    /// The criterion bench id.
    id: &'static str,
    /// Layer sizes: input, hidden..., output.
    sizes: &'static [usize],
    /// Rows per step.
    batch_size: usize,
    /// The loss on the output layer.
    loss: Loss,
    /// Criterion samples (fewer for the slow steps).
    sample_size: usize,
    /// Flat for the slow steps, so their samples fit the measurement time.
    sampling_mode: SamplingMode,
}

const WORKLOADS: [Workload; 4] = [
    Workload {
        id: "W1",
        sizes: &[2, 8, 8, 1],
        batch_size: 10,
        loss: Loss::BinaryCrossEntropy,
        sample_size: 50,
        sampling_mode: SamplingMode::Auto,
    },
    Workload {
        id: "W2",
        sizes: &[2, 32, 32, 32, 32, 1],
        batch_size: 64,
        loss: Loss::BinaryCrossEntropy,
        sample_size: 50,
        sampling_mode: SamplingMode::Auto,
    },
    Workload {
        id: "W3",
        sizes: &[2, 256, 256, 256, 1],
        batch_size: 256,
        loss: Loss::BinaryCrossEntropy,
        sample_size: 20,
        sampling_mode: SamplingMode::Flat,
    },
    Workload {
        id: "W4",
        sizes: &[784, 512, 512, 10],
        batch_size: 128,
        loss: Loss::SoftmaxCrossEntropy,
        sample_size: 20,
        sampling_mode: SamplingMode::Flat,
    },
];

/// One training step: forward, loss and output deltas, backward, SGD update. Returns the loss
/// before the update.
///
/// # Shapes
/// `inputs: [batch, n_in]`, `targets: [batch, n_out]`; `workspace` is sized for `batch`.
#[expect(
    clippy::too_many_arguments,
    reason = "the step's parts are kept apart on purpose, as a training loop holds them"
)]
fn train_step(
    mlp: &mut Mlp<f32>,
    workspace: &mut Workspace<f32>,
    gradients: &mut Gradients<f32>,
    optimizer: &mut Optimizer<f32>,
    inputs: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    loss: Loss,
    learning_rate: f32,
) -> f32 {
    mlp.forward(inputs, workspace);
    let Workspace { activations, deltas, .. } = &mut *workspace;
    let outputs = activations.last().expect("a network has an output layer");
    let output_deltas = deltas.last_mut().expect("a network has an output layer");
    let value = loss.value_and_gradient(outputs.view(), targets, output_deltas.view_mut());
    mlp.backward(inputs, workspace, gradients);
    optimizer.update(mlp, gradients, learning_rate);
    value
}

/// A batch for `workload`: points in `[-1, 1]^2` labelled by XOR of their signs for the
/// binary workloads; pixels in `[0, 1)` with uniformly drawn one-hot classes for the softmax
/// one.
///
/// # Shapes
/// Returns `inputs: [batch, n_in]`, `targets: [batch, n_out]`.
fn draw_batch(workload: &Workload, rng: &mut ChaCha8Rng) -> (Array2<f32>, Array2<f32>) {
    let n_in = workload.sizes[0];
    let n_out = workload.sizes[workload.sizes.len() - 1];
    let batch = workload.batch_size;
    match workload.loss {
        Loss::SoftmaxCrossEntropy => {
            let inputs = Array2::from_shape_fn((batch, n_in), |_| rng.random::<f32>());
            let mut targets = Array2::zeros((batch, n_out));
            for mut row in targets.rows_mut() {
                row[rng.random_range(0..n_out.min(CLASS_COUNT))] = 1.0;
            }
            (inputs, targets)
        }
        Loss::BinaryCrossEntropy | Loss::MeanSquaredError => {
            let inputs = Array2::from_shape_fn((batch, n_in), |_| rng.random_range(-1.0..1.0_f32));
            let targets = Array2::from_shape_fn((batch, n_out), |(row, _)| {
                let is_same_sign = (inputs[[row, 0]] > 0.0) == (inputs[[row, 1]] > 0.0);
                if is_same_sign { 0.0 } else { 1.0 }
            });
            (inputs, targets)
        }
    }
}

fn bench_workload(group: &mut BenchmarkGroup<'_, WallTime>, workload: &Workload) {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut mlp = Mlp::<f32>::new(workload.sizes, Activation::Relu, Init::HeNormal, 0.0, &mut rng);
    let (inputs, targets) = draw_batch(workload, &mut rng);
    let mut workspace = Workspace::new(&mlp, workload.batch_size);
    let mut gradients = Gradients::zeros_like(&mlp);
    let mut optimizer = Optimizer::new(OptimizerKind::Sgd, &mlp);

    group.sample_size(workload.sample_size);
    group.sampling_mode(workload.sampling_mode);
    group.bench_function(workload.id, |bencher| {
        bencher.iter(|| {
            black_box(train_step(
                &mut mlp,
                &mut workspace,
                &mut gradients,
                &mut optimizer,
                black_box(inputs.view()),
                targets.view(),
                workload.loss,
                LEARNING_RATE,
            ))
        });
    });
    // A diverged net would time NaN arithmetic, not training.
    assert!(mlp.is_finite(), "{}: the parameters diverged while benchmarking", workload.id);
}

fn train_step_benches(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("train_step");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    for workload in &WORKLOADS {
        bench_workload(&mut group, workload);
    }
    group.finish();
}

/// `c = a · b` with `a: [m, k]`, `b: [k, n]`, timed alone.
fn matmul_peak_benches(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("matmul_peak");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(20);
    group.sampling_mode(SamplingMode::Flat);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    for (m, k, n) in [(256, 256, 256), (128, 784, 512)] {
        let a = Array2::from_shape_fn((m, k), |_| rng.random_range(-1.0..1.0_f32));
        let b = Array2::from_shape_fn((k, n), |_| rng.random_range(-1.0..1.0_f32));
        let mut c = Array2::<f32>::zeros((m, n));
        group.throughput(Throughput::Elements(2 * (m * k * n) as u64));
        group.bench_function(format!("{m}x{k}x{n}"), |bencher| {
            bencher.iter(|| general_mat_mul(1.0, black_box(&a), black_box(&b), 0.0, &mut c));
        });
        black_box(&c);
    }
    group.finish();
}

criterion_group!(benches, train_step_benches, matmul_peak_benches);
criterion_main!(benches);

//! The benchmark workloads W1-W4 and their training step, shared by `benches/train_step.rs`,
//! the bit-exactness test `tests/workload_digests.rs` and the cross-target check
//! `portability/` (which include this file by path), so that what is timed is what is checked.

use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use relu_lab::nn::{Activation, Gradients, Init, Loss, Mlp, Numerics, Optimizer, OptimizerKind, Workspace};

/// Small enough that millions of steps on fixed data stay finite.
pub(crate) const LEARNING_RATE: f32 = 1e-3;

/// The seed of every draw (weights, inputs, targets).
pub(crate) const SEED: u64 = 0x5eed_2024;

/// The number of classes of W4's one-hot targets.
const CLASS_COUNT: usize = 10;

/// One benchmarked network and its batch.
pub(crate) struct Workload {
    /// The criterion bench id.
    pub(crate) id: &'static str,
    /// Layer sizes: input, hidden..., output.
    pub(crate) sizes: &'static [usize],
    /// Rows per step.
    pub(crate) batch_size: usize,
    /// The loss on the output layer.
    pub(crate) loss: Loss,
    /// A slow step (the bench takes fewer, flat samples of it).
    pub(crate) is_slow: bool,
}

pub(crate) const WORKLOADS: [Workload; 4] = [
    Workload { id: "W1", sizes: &[2, 8, 8, 1], batch_size: 10, loss: Loss::BinaryCrossEntropy, is_slow: false },
    Workload {
        id: "W2",
        sizes: &[2, 32, 32, 32, 32, 1],
        batch_size: 64,
        loss: Loss::BinaryCrossEntropy,
        is_slow: false,
    },
    Workload {
        id: "W3",
        sizes: &[2, 256, 256, 256, 1],
        batch_size: 256,
        loss: Loss::BinaryCrossEntropy,
        is_slow: true,
    },
    Workload { id: "W4", sizes: &[784, 512, 512, 10], batch_size: 128, loss: Loss::SoftmaxCrossEntropy, is_slow: true },
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
pub(crate) fn train_step(
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
pub(crate) fn draw_batch(workload: &Workload, rng: &mut ChaCha8Rng) -> (Array2<f32>, Array2<f32>) {
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

/// A workload's network, batch, buffers and optimizer, drawn from [`SEED`].
pub(crate) struct Setup {
    /// The network.
    pub(crate) mlp: Mlp<f32>,
    /// `[batch, n_in]`.
    pub(crate) inputs: Array2<f32>,
    /// `[batch, n_out]`.
    pub(crate) targets: Array2<f32>,
    /// Forward and backward buffers.
    pub(crate) workspace: Workspace<f32>,
    /// The gradients.
    pub(crate) gradients: Gradients<f32>,
    /// Plain SGD.
    pub(crate) optimizer: Optimizer<f32>,
}

impl Setup {
    /// The network and batch of `workload`, with the numerics its size gets by default
    /// (portable for W1 and W2, fast for W3 and W4).
    pub(crate) fn new(workload: &Workload) -> Self {
        let sizes_default = Numerics::for_layer_sizes(workload.sizes);
        Self::with_numerics(workload, sizes_default)
    }

    /// The network and batch of `workload`, with `numerics`.
    pub(crate) fn with_numerics(workload: &Workload, numerics: Numerics) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mlp =
            Mlp::<f32>::new(workload.sizes, Activation::Relu, Init::HeNormal, 0.0, &mut rng).with_numerics(numerics);
        let (inputs, targets) = draw_batch(workload, &mut rng);
        Self {
            workspace: Workspace::new(&mlp, workload.batch_size),
            gradients: Gradients::zeros_like(&mlp),
            optimizer: Optimizer::new(OptimizerKind::Sgd, &mlp),
            mlp,
            inputs,
            targets,
        }
    }

    /// One step on the batch.
    pub(crate) fn step(&mut self, loss: Loss) -> f32 {
        train_step(
            &mut self.mlp,
            &mut self.workspace,
            &mut self.gradients,
            &mut self.optimizer,
            self.inputs.view(),
            self.targets.view(),
            loss,
            LEARNING_RATE,
        )
    }
}

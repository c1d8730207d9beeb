//! Per-neuron diagnostics over a probe set: alive, dying, below zero, dead, saturated; per-layer
//! gradient norms; whether the whole network has collapsed to a constant.
//!
//! Every state is measured on the probe set (the training inputs), not on the whole input
//! plane: a neuron that is dead on every training input can still be positive elsewhere.
//!
//! "Negative on every input" is one test for every activation. Under ReLU such a neuron gets
//! no gradient at all: it is *dead*. Under Leaky ReLU, PReLU or ELU it still gets some, so it is
//! only *below zero* and may climb back; under GELU, SiLU or softplus it also counts as below
//! zero, and [`NeuronStats::mean_gradient_factor`] says how little gradient it still passes
//! (far below zero they go flat, so from a bias of -5 they barely move).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::{Gradients, Loss, Mlp, Real, Workspace};

/// A neuron active (positive pre-activation) on fewer than this fraction of the probe inputs is
/// dying, if its gradient is not yet zero everywhere.
pub(crate) const DYING_ACTIVE_FRACTION: f64 = 0.01;
/// A tanh or sigmoid derivative under this is saturated.
pub(crate) const SATURATED_DERIVATIVE: f64 = 1e-3;
/// A neuron saturated on at least this fraction of the probe inputs is saturated.
pub(crate) const SATURATED_FRACTION: f64 = 0.95;

/// What a neuron is doing over the probe set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeuronState {
    /// Passes gradient on a useful share of the inputs.
    #[default]
    Alive,
    /// Active on under 1% of inputs: close to death (ReLU-like activations only).
    Dying,
    /// Negative on every input under an activation that still passes gradient there (Leaky
    /// ReLU, PReLU, ELU, SELU, GELU, SiLU, softplus): not dead, it may climb back.
    BelowZero,
    /// Zero gradient through the activation on every input, so no update reaches its incoming
    /// weights now. Only activations with a flat region (ReLU, or a zero slope) can die. In the
    /// first hidden layer under plain SGD on fixed data that is for good; deeper, it can come
    /// back when the layers below it change, and momentum or Adam carry it on for a while.
    Dead,
    /// A tanh or sigmoid neuron whose derivative is under 1e-3 on 95% or more of inputs.
    Saturated,
    /// A pre-activation is NaN or infinite.
    NotFinite,
}

impl NeuronState {
    /// Every state, in legend order.
    pub const ALL: [Self; 6] =
        [Self::Alive, Self::Dying, Self::BelowZero, Self::Dead, Self::Saturated, Self::NotFinite];

    /// Where `self` sits in [`NeuronState::ALL`] (and in every `state_counts` array).
    pub fn index(self) -> usize {
        match self {
            Self::Alive => 0,
            Self::Dying => 1,
            Self::BelowZero => 2,
            Self::Dead => 3,
            Self::Saturated => 4,
            Self::NotFinite => 5,
        }
    }

    /// The word a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Alive => "alive",
            Self::Dying => "dying",
            Self::BelowZero => "below zero",
            Self::Dead => "dead",
            Self::Saturated => "saturated",
            Self::NotFinite => "NaN",
        }
    }
}

/// One neuron's statistics over the probe set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NeuronStats {
    /// Fraction of inputs with a positive pre-activation.
    pub fraction_active: f32,
    /// The mean of `|f'(z)|` over the inputs: how much of the gradient arriving at the neuron
    /// it passes on to its weights (1 for an active ReLU, 0 for a dead one).
    pub mean_gradient_factor: f32,
    /// The pre-activation is `<= 0` on every input (the same test as ReLU's dead, for any
    /// activation).
    pub is_all_negative: bool,
    /// The state these figures give.
    pub state: NeuronState,
}

/// One hidden layer's diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerDiagnostics {
    /// Per neuron.
    pub neurons: Vec<NeuronStats>,
    /// How many neurons are in each state, indexed like [`NeuronState::ALL`].
    pub state_counts: [usize; 6],
    /// How many neurons are negative on every input, whatever the activation (under ReLU, the
    /// dead ones).
    pub all_negative: usize,
    /// The Frobenius norm of the gradient of the loss with respect to this layer's incoming
    /// weights, over the whole probe set.
    pub gradient_norm: f64,
    /// Every neuron outputs exactly zero on every probe input.
    pub is_silent: bool,
}

impl LayerDiagnostics {
    /// How many neurons are in `state`.
    pub fn count(&self, state: NeuronState) -> usize {
        self.state_counts[state.index()]
    }
}

/// Diagnostics for the whole network over a probe set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkDiagnostics {
    /// Per hidden layer.
    pub layers: Vec<LayerDiagnostics>,
    /// The gradient norm of the output layer's weights.
    pub output_gradient_norm: f64,
    /// The mean loss over the probe set.
    pub loss: f64,
    /// Some hidden layer outputs zero on every probe input, so the output is constant.
    pub is_collapsed: bool,
}

impl NetworkDiagnostics {
    /// The total count of neurons in `state` over every hidden layer.
    pub fn count(&self, state: NeuronState) -> usize {
        self.layers.iter().map(|layer| layer.count(state)).sum()
    }

    /// The total count of neurons negative on every input, over every hidden layer.
    pub fn all_negative(&self) -> usize {
        self.layers.iter().map(|layer| layer.all_negative).sum()
    }

    /// The number of hidden neurons.
    pub fn neuron_count(&self) -> usize {
        self.layers.iter().map(|layer| layer.neurons.len()).sum()
    }
}

/// Runs `mlp` forward and backward over the whole probe set and classifies every hidden neuron.
/// Changes no parameter.
///
/// # Shapes
/// `inputs: [n, n_in]`, `targets: [n, n_out]`.
pub(crate) fn diagnose<T: Real>(
    mlp: &Mlp<T>,
    inputs: ArrayView2<T>,
    targets: ArrayView2<T>,
    loss: Loss,
    workspace: &mut Workspace<T>,
    gradients: &mut Gradients<T>,
) -> NetworkDiagnostics {
    mlp.forward(inputs, workspace);
    let output_index = mlp.layers.len() - 1;
    let loss_value = {
        let (outputs, deltas) = (&workspace.activations[output_index], &mut workspace.deltas[output_index]);
        loss.value_and_gradient(outputs.view(), targets, deltas.view_mut())
    };
    mlp.backward(inputs, workspace, gradients);
    let layers: Vec<LayerDiagnostics> =
        (0..output_index).map(|index| layer_diagnostics(mlp, index, workspace, gradients.weight_norm(index))).collect();
    let is_collapsed = layers.iter().any(|layer| layer.is_silent);
    NetworkDiagnostics {
        layers,
        output_gradient_norm: gradients.weight_norm(output_index),
        loss: loss_value.as_f64(),
        is_collapsed,
    }
}

fn layer_diagnostics<T: Real>(
    mlp: &Mlp<T>,
    index: usize,
    workspace: &Workspace<T>,
    gradient_norm: f64,
) -> LayerDiagnostics {
    let a = &workspace.activations[index];
    let neurons = layer_neuron_stats(mlp, index, workspace);
    let (state_counts, all_negative) = count_states(&neurons);
    LayerDiagnostics {
        neurons,
        state_counts,
        all_negative,
        gradient_norm,
        is_silent: a.iter().all(|&v| v == T::zero()),
    }
}

/// Every neuron of hidden layer `index` classified from the pre-activations of the last
/// forward pass in `workspace` (over the probe set).
pub(crate) fn layer_neuron_stats<T: Real>(mlp: &Mlp<T>, index: usize, workspace: &Workspace<T>) -> Vec<NeuronStats> {
    let z = &workspace.pre_activations[index];
    let slopes = &mlp.layers[index].prelu_slopes;
    (0..z.ncols()).map(|neuron| neuron_stats(mlp, z.column(neuron).iter().copied(), slopes[neuron])).collect()
}

/// Neurons per state (indexed like [`NeuronState::ALL`]) and neurons negative on every input.
pub(crate) fn count_states(neurons: &[NeuronStats]) -> ([usize; 6], usize) {
    let mut state_counts = [0; 6];
    for stats in neurons {
        state_counts[stats.state.index()] += 1;
    }
    (state_counts, neurons.iter().filter(|stats| stats.is_all_negative).count())
}

/// Classifies one neuron from its pre-activations over the probe set.
pub(crate) fn neuron_stats<T: Real>(
    mlp: &Mlp<T>,
    pre_activations: impl Iterator<Item = T>,
    prelu_slope: T,
) -> NeuronStats {
    let activation = mlp.activation;
    let (mut total, mut active, mut zero_gradient, mut saturated, mut not_finite) = (0_usize, 0, 0, 0, 0);
    let mut gradient_factor_sum = 0.0_f64;
    let saturated_below = T::of(SATURATED_DERIVATIVE);
    for z in pre_activations {
        total += 1;
        if !z.is_finite() {
            not_finite += 1;
            continue;
        }
        let derivative = activation.derivative_with_slope(z, prelu_slope);
        active += usize::from(z > T::zero());
        zero_gradient += usize::from(derivative == T::zero());
        saturated += usize::from(derivative.abs() < saturated_below);
        gradient_factor_sum += derivative.abs().as_f64();
    }
    let fraction = |count: usize| if total == 0 { 0.0 } else { count as f64 / total as f64 };
    let is_all_negative = total > 0 && not_finite == 0 && active == 0;
    let state = if not_finite > 0 {
        NeuronState::NotFinite
    } else if activation.has_zero_gradient_region() && total > 0 && zero_gradient == total {
        NeuronState::Dead
    } else if activation.is_saturating() && fraction(saturated) >= SATURATED_FRACTION {
        NeuronState::Saturated
    } else if can_be_dying(activation) && is_all_negative {
        NeuronState::BelowZero
    } else if can_be_dying(activation) && fraction(active) < DYING_ACTIVE_FRACTION {
        NeuronState::Dying
    } else {
        NeuronState::Alive
    };
    NeuronStats {
        fraction_active: fraction(active) as f32,
        mean_gradient_factor: if total == 0 { 0.0 } else { (gradient_factor_sum / total as f64) as f32 },
        is_all_negative,
        state,
    }
}

/// The states a neuron under `activation` can be in, in legend order.
#[cfg_attr(not(feature = "gui"), expect(dead_code, reason = "only the app uses it"))]
pub(crate) fn possible_states(activation: super::Activation) -> Vec<NeuronState> {
    NeuronState::ALL
        .into_iter()
        .filter(|&state| match state {
            NeuronState::Alive | NeuronState::NotFinite => true,
            NeuronState::Dying => can_be_dying(activation),
            NeuronState::BelowZero => can_be_dying(activation) && !activation.has_zero_gradient_region(),
            NeuronState::Dead => activation.has_zero_gradient_region(),
            NeuronState::Saturated => activation.is_saturating(),
        })
        .collect()
}

/// ReLU-like activations (a large positive side, a small or zero negative side) can be dying.
fn can_be_dying(activation: super::Activation) -> bool {
    !activation.is_saturating() && !matches!(activation, super::Activation::Linear)
}

//! Optimizers (SGD, SGD with momentum, Adam) and learning-rate decay.

use serde::{Deserialize, Serialize};

use super::dispatch::run_wide;
use super::numerics::{pow, powi};
use super::{Dense, Gradients, Mlp, Real};

/// Which optimizer, with its parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OptimizerKind {
    /// Plain stochastic gradient descent: `w -= lr * g`.
    #[default]
    Sgd,
    /// SGD with (heavy-ball) momentum: `v = momentum * v + g; w -= lr * v`.
    Momentum {
        /// How much of the previous velocity is kept, in [0, 1).
        momentum: f64,
    },
    /// Adam (Kingma and Ba 2015) with bias correction.
    Adam {
        /// Decay of the first moment, in [0, 1).
        beta1: f64,
        /// Decay of the second moment, in [0, 1).
        beta2: f64,
        /// Added to the denominator, > 0.
        epsilon: f64,
    },
}

impl OptimizerKind {
    /// Adam with its usual defaults.
    pub const ADAM: Self = Self::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

    /// The name a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sgd => "SGD",
            Self::Momentum { .. } => "SGD + momentum",
            Self::Adam { .. } => "Adam",
        }
    }
}

/// How the learning rate decays, counted in steps since it was last set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Decay {
    /// A constant learning rate.
    #[default]
    None,
    /// Multiply by `factor` every `every_steps` steps.
    Step {
        /// Steps between two drops (at least 1).
        every_steps: u64,
        /// The factor of each drop, in (0, 1].
        factor: f64,
    },
    /// Halve smoothly every `half_life_steps` steps.
    Exponential {
        /// Steps for the learning rate to halve (> 0).
        half_life_steps: f64,
    },
}

impl Decay {
    /// The factor on the base learning rate after `steps` steps.
    pub fn factor(self, steps: u64) -> f64 {
        match self {
            Self::None => 1.0,
            Self::Step { every_steps, factor } => {
                let drops = steps / every_steps.max(1);
                powi(factor, drops.min(i32::MAX as u64) as i32)
            }
            Self::Exponential { half_life_steps } => pow(0.5_f64, steps as f64 / half_life_steps),
        }
    }

    /// A short description.
    pub fn label(self) -> String {
        match self {
            Self::None => "none".to_owned(),
            Self::Step { every_steps, factor } => format!("×{factor} every {every_steps} steps"),
            Self::Exponential { half_life_steps } => format!("halves every {half_life_steps} steps"),
        }
    }
}

/// An optimizer with its state (velocities or moments), shaped like the network.
#[derive(Clone, Debug)]
pub struct Optimizer<T> {
    kind: OptimizerKind,
    /// Velocity (momentum) or first moment (Adam).
    first: Vec<Dense<T>>,
    /// Second moment (Adam).
    second: Vec<Dense<T>>,
    /// Updates made so far (Adam's bias correction).
    updates: u64,
}

impl<T: Real> Optimizer<T> {
    /// A fresh optimizer of `kind` for `mlp`.
    pub fn new(kind: OptimizerKind, mlp: &Mlp<T>) -> Self {
        let zeros = || Gradients::zeros_like(mlp).layers;
        let (first, second) = match kind {
            OptimizerKind::Sgd => (Vec::new(), Vec::new()),
            OptimizerKind::Momentum { .. } => (zeros(), Vec::new()),
            OptimizerKind::Adam { .. } => (zeros(), zeros()),
        };
        Self { kind, first, second, updates: 0 }
    }

    /// The optimizer's kind and parameters.
    pub fn kind(&self) -> OptimizerKind {
        self.kind
    }

    /// Clears the state of one neuron (after it is revived).
    pub fn reset_neuron(&mut self, layer_index: usize, neuron: usize) {
        for state in [&mut self.first, &mut self.second] {
            if let Some(layer) = state.get_mut(layer_index)
                && neuron < layer.output_size()
            {
                layer.weights.column_mut(neuron).fill(T::zero());
                layer.biases[neuron] = T::zero();
                layer.prelu_slopes[neuron] = T::zero();
            }
        }
    }

    /// Applies one update with `learning_rate`. PReLU slopes move only under PReLU.
    pub fn update(&mut self, mlp: &mut Mlp<T>, gradients: &Gradients<T>, learning_rate: T) {
        self.updates += 1;
        let tensor_count = if matches!(mlp.activation, super::Activation::Prelu { .. }) { 3 } else { 2 };
        match self.kind {
            OptimizerKind::Sgd => {
                for (layer, grad) in mlp.layers.iter_mut().zip(&gradients.layers) {
                    for (params, grads) in layer.tensors_mut().into_iter().zip(grad.tensors()).take(tensor_count) {
                        run_wide(|| {
                            for (p, &g) in params.iter_mut().zip(grads) {
                                *p -= learning_rate * g;
                            }
                        });
                    }
                }
            }
            OptimizerKind::Momentum { momentum } => {
                let momentum = T::of(momentum);
                for ((layer, grad), velocity) in mlp.layers.iter_mut().zip(&gradients.layers).zip(&mut self.first) {
                    let tensors = layer.tensors_mut().into_iter().zip(grad.tensors()).zip(velocity.tensors_mut());
                    for ((params, grads), velocities) in tensors.take(tensor_count) {
                        for ((p, &g), v) in params.iter_mut().zip(grads).zip(velocities.iter_mut()) {
                            *v = momentum * *v + g;
                            *p -= learning_rate * *v;
                        }
                    }
                }
            }
            OptimizerKind::Adam { beta1, beta2, epsilon } => {
                let t = self.updates.min(i32::MAX as u64) as i32;
                let correction1 = T::of(1.0 - powi(beta1, t));
                let correction2 = T::of(1.0 - powi(beta2, t));
                let (beta1, beta2, epsilon) = (T::of(beta1), T::of(beta2), T::of(epsilon));
                let one = T::one();
                let layers = mlp.layers.iter_mut().zip(&gradients.layers).zip(&mut self.first).zip(&mut self.second);
                for (((layer, grad), first), second) in layers {
                    let tensors = layer
                        .tensors_mut()
                        .into_iter()
                        .zip(grad.tensors())
                        .zip(first.tensors_mut())
                        .zip(second.tensors_mut());
                    for (((params, grads), firsts), seconds) in tensors.take(tensor_count) {
                        for (((p, &g), m), v) in
                            params.iter_mut().zip(grads).zip(firsts.iter_mut()).zip(seconds.iter_mut())
                        {
                            *m = beta1 * *m + (one - beta1) * g;
                            *v = beta2 * *v + (one - beta2) * g * g;
                            let m_hat = *m / correction1;
                            let v_hat = *v / correction2;
                            *p -= learning_rate * m_hat / (v_hat.sqrt() + epsilon);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_decay_drops_on_schedule() {
        let decay = Decay::Step { every_steps: 100, factor: 0.5 };
        assert_eq!(decay.factor(99), 1.0);
        assert_eq!(decay.factor(100), 0.5);
        assert_eq!(decay.factor(250), 0.25);
    }

    #[test]
    fn exponential_decay_halves_at_the_half_life() {
        let decay = Decay::Exponential { half_life_steps: 1000.0 };
        assert!((decay.factor(1000) - 0.5).abs() < 1e-12);
        assert_eq!(Decay::None.factor(1_000_000), 1.0);
    }
}

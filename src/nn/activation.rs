//! Activation functions with their derivatives, side by side.
//!
//! Conventions at the kink follow PyTorch's autograd: ReLU'(0) = 0, LeakyReLU'(0) = slope,
//! PReLU'(0) = a, ELU'(0) = alpha (1 for the default alpha). That choice is the dying-ReLU story in one line: a
//! pre-activation that is `<= 0` passes no gradient back through a ReLU.

use serde::{Deserialize, Serialize};

use super::Real;
use super::numerics::{erf, exp, exp_m1, ln_1p, tanh};

/// SELU's alpha (Klambauer et al. 2017), as in PyTorch.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
/// SELU's scale (Klambauer et al. 2017), as in PyTorch.
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
/// Leaky ReLU's default negative slope, as in PyTorch.
pub const DEFAULT_LEAKY_SLOPE: f64 = 0.01;
/// PReLU's default initial slope, as in PyTorch.
pub const DEFAULT_PRELU_SLOPE: f64 = 0.25;
/// ELU's default alpha.
pub const DEFAULT_ELU_ALPHA: f64 = 1.0;
/// Above this input softplus is linear (PyTorch's threshold).
const SOFTPLUS_THRESHOLD: f64 = 20.0;

/// The activation of every hidden neuron, with its parameter where it has one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Activation {
    /// `max(0, x)`.
    #[default]
    Relu,
    /// `max(0, x) + slope * min(0, x)`.
    LeakyRelu {
        /// The slope for negative inputs.
        slope: f64,
    },
    /// Leaky ReLU whose slope `a` is learned per neuron; this is its initial value.
    Prelu {
        /// The initial slope of every neuron.
        initial_slope: f64,
    },
    /// `x` for `x > 0`, else `alpha * (exp(x) - 1)`.
    Elu {
        /// The negative saturation value is `-alpha`.
        alpha: f64,
    },
    /// Scaled ELU with fixed constants.
    Selu,
    /// `x * Phi(x)`, the exact form with `erf`.
    Gelu,
    /// `x * sigmoid(x)` (also called swish).
    Silu,
    /// `ln(1 + exp(x))`, linear above 20.
    Softplus,
    /// The hyperbolic tangent.
    Tanh,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// The identity.
    Linear,
}

/// The kind of an activation, without its parameter: what a menu lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivationKind {
    /// See [`Activation::Relu`].
    Relu,
    /// See [`Activation::LeakyRelu`].
    LeakyRelu,
    /// See [`Activation::Prelu`].
    Prelu,
    /// See [`Activation::Elu`].
    Elu,
    /// See [`Activation::Selu`].
    Selu,
    /// See [`Activation::Gelu`].
    Gelu,
    /// See [`Activation::Silu`].
    Silu,
    /// See [`Activation::Softplus`].
    Softplus,
    /// See [`Activation::Tanh`].
    Tanh,
    /// See [`Activation::Sigmoid`].
    Sigmoid,
    /// See [`Activation::Linear`].
    Linear,
}

impl ActivationKind {
    /// Every kind, in menu order.
    pub const ALL: [Self; 11] = [
        Self::Relu,
        Self::LeakyRelu,
        Self::Prelu,
        Self::Elu,
        Self::Selu,
        Self::Gelu,
        Self::Silu,
        Self::Softplus,
        Self::Tanh,
        Self::Sigmoid,
        Self::Linear,
    ];

    /// The name a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Relu => "ReLU",
            Self::LeakyRelu => "Leaky ReLU",
            Self::Prelu => "PReLU",
            Self::Elu => "ELU",
            Self::Selu => "SELU",
            Self::Gelu => "GELU",
            Self::Silu => "SiLU",
            Self::Softplus => "Softplus",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
            Self::Linear => "linear",
        }
    }

    /// The kebab-case name used in configs and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::LeakyRelu => "leaky-relu",
            Self::Prelu => "prelu",
            Self::Elu => "elu",
            Self::Selu => "selu",
            Self::Gelu => "gelu",
            Self::Silu => "silu",
            Self::Softplus => "softplus",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
            Self::Linear => "linear",
        }
    }

    /// Parses a kebab-case key.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// The name of this kind's parameter and its allowed range, if it has one.
    pub fn parameter(self) -> Option<ParameterSpec> {
        match self {
            Self::LeakyRelu => Some(ParameterSpec { name: "slope", min: 0.0, max: 1.0, default: DEFAULT_LEAKY_SLOPE }),
            Self::Prelu => {
                Some(ParameterSpec { name: "initial slope", min: 0.0, max: 1.0, default: DEFAULT_PRELU_SLOPE })
            }
            Self::Elu => Some(ParameterSpec { name: "alpha", min: 0.0, max: 10.0, default: DEFAULT_ELU_ALPHA }),
            _ => None,
        }
    }

    /// This kind with the given parameter (ignored by kinds without one).
    pub fn with_parameter(self, parameter: f64) -> Activation {
        match self {
            Self::Relu => Activation::Relu,
            Self::LeakyRelu => Activation::LeakyRelu { slope: parameter },
            Self::Prelu => Activation::Prelu { initial_slope: parameter },
            Self::Elu => Activation::Elu { alpha: parameter },
            Self::Selu => Activation::Selu,
            Self::Gelu => Activation::Gelu,
            Self::Silu => Activation::Silu,
            Self::Softplus => Activation::Softplus,
            Self::Tanh => Activation::Tanh,
            Self::Sigmoid => Activation::Sigmoid,
            Self::Linear => Activation::Linear,
        }
    }

    /// This kind with its default parameter.
    pub fn with_default_parameter(self) -> Activation {
        self.with_parameter(self.parameter().map_or(0.0, |spec| spec.default))
    }
}

/// An activation parameter's name, range and default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParameterSpec {
    /// The name a user reads.
    pub name: &'static str,
    /// The smallest allowed value.
    pub min: f64,
    /// The largest allowed value.
    pub max: f64,
    /// The default value.
    pub default: f64,
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let label = self.kind().label();
        match self.parameter() {
            Some(value) => write!(f, "{label} ({value})"),
            None => f.write_str(label),
        }
    }
}

/// `max(x, 0)`, written out: `f32::max` may return either zero when `x` is -0, and the sign
/// of a zero must not depend on the target. NaN gives 0, as `max` does.
#[inline]
pub(crate) fn positive_part<T: Real>(x: T) -> T {
    if x > T::zero() { x } else { T::zero() }
}

/// The logistic function, stable on both sides.
pub(crate) fn sigmoid<T: Real>(x: T) -> T {
    // Stable on both sides: exp never overflows.
    if x >= T::zero() {
        T::one() / (T::one() + exp(-x))
    } else {
        let e = exp(x);
        e / (T::one() + e)
    }
}

/// The standard normal density.
fn normal_density<T: Real>(x: T) -> T {
    T::of(1.0 / (2.0 * std::f64::consts::PI).sqrt()) * exp(-(x * x) * T::of(0.5))
}

/// The standard normal distribution function.
fn normal_cdf<T: Real>(x: T) -> T {
    T::of(0.5) * (T::one() + erf(x * T::of(std::f64::consts::FRAC_1_SQRT_2)))
}

impl Activation {
    /// The kind, without the parameter.
    pub fn kind(self) -> ActivationKind {
        match self {
            Self::Relu => ActivationKind::Relu,
            Self::LeakyRelu { .. } => ActivationKind::LeakyRelu,
            Self::Prelu { .. } => ActivationKind::Prelu,
            Self::Elu { .. } => ActivationKind::Elu,
            Self::Selu => ActivationKind::Selu,
            Self::Gelu => ActivationKind::Gelu,
            Self::Silu => ActivationKind::Silu,
            Self::Softplus => ActivationKind::Softplus,
            Self::Tanh => ActivationKind::Tanh,
            Self::Sigmoid => ActivationKind::Sigmoid,
            Self::Linear => ActivationKind::Linear,
        }
    }

    /// The parameter (Leaky slope, PReLU initial slope, ELU alpha), if this kind has one.
    pub fn parameter(self) -> Option<f64> {
        match self {
            Self::LeakyRelu { slope } => Some(slope),
            Self::Prelu { initial_slope } => Some(initial_slope),
            Self::Elu { alpha } => Some(alpha),
            _ => None,
        }
    }

    /// Whether the derivative is exactly zero on a whole half-line, so a neuron can die. PReLU
    /// never can: even at slope 0 its slope still gets gradient below zero and can move.
    pub fn has_zero_gradient_region(self) -> bool {
        match self {
            Self::Relu => true,
            Self::LeakyRelu { slope } => slope == 0.0,
            Self::Elu { alpha } => alpha == 0.0,
            _ => false,
        }
    }

    /// Whether the activation saturates on both sides (tanh, sigmoid), so a neuron can saturate.
    pub fn is_saturating(self) -> bool {
        matches!(self, Self::Tanh | Self::Sigmoid)
    }

    /// The value `f(x)` for a neuron whose PReLU slope is `prelu_slope` (ignored by other kinds).
    #[inline]
    pub fn value_with_slope<T: Real>(self, x: T, prelu_slope: T) -> T {
        let zero = T::zero();
        match self {
            // Not `x.max(0)`: that turns NaN into 0 and would hide a diverged neuron.
            Self::Relu => {
                if x > zero || x.is_nan() {
                    x
                } else {
                    zero
                }
            }
            Self::LeakyRelu { slope } => {
                if x > zero {
                    x
                } else {
                    T::of(slope) * x
                }
            }
            Self::Prelu { .. } => {
                if x > zero {
                    x
                } else {
                    prelu_slope * x
                }
            }
            Self::Elu { alpha } => {
                if x > zero {
                    x
                } else {
                    T::of(alpha) * exp_m1(x)
                }
            }
            Self::Selu => {
                let scale = T::of(SELU_SCALE);
                if x > zero { scale * x } else { scale * T::of(SELU_ALPHA) * exp_m1(x) }
            }
            Self::Gelu => x * normal_cdf(x),
            Self::Silu => x * sigmoid(x),
            Self::Softplus => {
                if x > T::of(SOFTPLUS_THRESHOLD) {
                    x
                } else {
                    positive_part(x) + ln_1p(exp(-x.abs()))
                }
            }
            Self::Tanh => tanh(x),
            Self::Sigmoid => sigmoid(x),
            Self::Linear => x,
        }
    }

    /// The derivative `f'(x)` for a neuron whose PReLU slope is `prelu_slope`.
    #[inline]
    pub fn derivative_with_slope<T: Real>(self, x: T, prelu_slope: T) -> T {
        let zero = T::zero();
        let one = T::one();
        match self {
            Self::Relu => {
                if x > zero {
                    one
                } else {
                    zero
                }
            }
            Self::LeakyRelu { slope } => {
                if x > zero {
                    one
                } else {
                    T::of(slope)
                }
            }
            Self::Prelu { .. } => {
                if x > zero {
                    one
                } else {
                    prelu_slope
                }
            }
            Self::Elu { alpha } => {
                if x > zero {
                    one
                } else {
                    T::of(alpha) * exp(x)
                }
            }
            Self::Selu => {
                let scale = T::of(SELU_SCALE);
                if x > zero { scale } else { scale * T::of(SELU_ALPHA) * exp(x) }
            }
            Self::Gelu => normal_cdf(x) + x * normal_density(x),
            Self::Silu => {
                let s = sigmoid(x);
                s * (one + x * (one - s))
            }
            Self::Softplus => {
                if x > T::of(SOFTPLUS_THRESHOLD) {
                    one
                } else {
                    sigmoid(x)
                }
            }
            Self::Tanh => {
                let t = tanh(x);
                one - t * t
            }
            Self::Sigmoid => {
                let s = sigmoid(x);
                s * (one - s)
            }
            Self::Linear => one,
        }
    }

    /// The value `f(x)`; PReLU uses its initial slope.
    pub fn value<T: Real>(self, x: T) -> T {
        self.value_with_slope(x, T::of(self.initial_prelu_slope()))
    }

    /// The derivative `f'(x)`; PReLU uses its initial slope.
    pub fn derivative<T: Real>(self, x: T) -> T {
        self.derivative_with_slope(x, T::of(self.initial_prelu_slope()))
    }

    /// The derivative of `f` with respect to the PReLU slope `a`: `min(0, x)`.
    #[inline]
    pub fn slope_derivative<T: Real>(x: T) -> T {
        // Not `x.min(0)`, which may give either zero for -0: this is the same on every target.
        if x < T::zero() { x } else { T::zero() }
    }

    /// The initial PReLU slope (or the default one for other kinds).
    pub fn initial_prelu_slope(self) -> f64 {
        match self {
            Self::Prelu { initial_slope } => initial_slope,
            _ => DEFAULT_PRELU_SLOPE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_kills_the_gradient_at_and_below_zero() {
        let relu = Activation::Relu;
        assert_eq!(relu.derivative(0.0_f64), 0.0);
        assert_eq!(relu.derivative(-3.0_f64), 0.0);
        assert_eq!(relu.derivative(1e-9_f64), 1.0);
    }

    #[test]
    fn keys_round_trip() {
        for kind in ActivationKind::ALL {
            assert_eq!(ActivationKind::from_key(kind.key()), Some(kind));
            assert_eq!(kind.with_default_parameter().kind(), kind);
        }
    }

    #[test]
    fn only_relu_like_kinds_can_die() {
        assert!(Activation::Relu.has_zero_gradient_region());
        assert!(!Activation::LeakyRelu { slope: 0.01 }.has_zero_gradient_region());
        assert!(!Activation::Gelu.has_zero_gradient_region());
    }
}

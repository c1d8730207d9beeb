//! Numerics only: activations, initializers, dense layers and the MLP, losses, optimizers and
//! per-neuron diagnostics. No threads, no I/O, no UI.
//!
//! The code is generic over [`Real`] so that training runs in `f32` while the gradient checks
//! in `tests/` run the very same code in `f64`. Every elementary function it calls comes from
//! [`numerics`], so a run gives the same bits on every machine.

pub mod activation;
pub mod born_dead;
mod chains;
pub mod diagnostics;
pub mod dispatch;
pub mod init;
mod kernels;
pub mod loss;
pub mod mlp;
pub mod numerics;
pub mod optimizer;
#[cfg(target_arch = "x86_64")]
mod simd_x86;

pub use activation::{Activation, ActivationKind};
pub use diagnostics::{LayerDiagnostics, NetworkDiagnostics, NeuronState, NeuronStats};
pub use init::Init;
pub use loss::Loss;
pub use mlp::{Dense, Gradients, Mlp, Workspace};
pub use numerics::Numerics;
pub use optimizer::{Decay, Optimizer, OptimizerKind};

/// A floating-point scalar the network can be computed in (`f32` for training, `f64` for checks).
pub trait Real:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + std::fmt::Debug
    + std::fmt::Display
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + Default
    + Send
    + Sync
    + numerics::Elementary
    + 'static
{
    /// Converts from `f64`, rounding to nearest.
    fn of(value: f64) -> Self;
    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;
    /// Whether every value is finite (a branch-free pass that vectorizes).
    fn all_finite(values: &[Self]) -> bool;
    /// `values` as `f32`, if this is `f32` (the kernels written with explicit vector
    /// instructions are `f32` only).
    fn as_f32s(values: &[Self]) -> Option<&[f32]>;
    /// `values` as `f32`, if this is `f32`.
    fn as_f32s_mut(values: &mut [Self]) -> Option<&mut [f32]>;
}

impl Real for f32 {
    fn of(value: f64) -> Self {
        value as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    fn all_finite(values: &[Self]) -> bool {
        const EXPONENT: u32 = 0x7f80_0000;
        values.iter().fold(0, |any, v| any | u32::from(v.to_bits() & EXPONENT == EXPONENT)) == 0
    }
    fn as_f32s(values: &[Self]) -> Option<&[f32]> {
        Some(values)
    }
    fn as_f32s_mut(values: &mut [Self]) -> Option<&mut [f32]> {
        Some(values)
    }
}

impl Real for f64 {
    fn of(value: f64) -> Self {
        value
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn all_finite(values: &[Self]) -> bool {
        const EXPONENT: u64 = 0x7ff0_0000_0000_0000;
        values.iter().fold(0, |any, v| any | u64::from(v.to_bits() & EXPONENT == EXPONENT)) == 0
    }
    fn as_f32s(_: &[Self]) -> Option<&[f32]> {
        None
    }
    fn as_f32s_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
}

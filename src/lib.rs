//! ReLU Lab: watch neurons live and die while a small network trains.
//!
//! - [`nn`]: numerics only (activations, initializers, the MLP, losses, optimizers,
//!   diagnostics).
//! - [`data`]: seeded datasets and the input grid for neuron maps.
//! - [`train`]: run configs, the deterministic session, presets.
//! - `app` (feature `gui`): the desktop app.

#[cfg(feature = "gui")]
pub mod app;
pub mod data;
pub mod media;
pub mod nn;
pub mod train;

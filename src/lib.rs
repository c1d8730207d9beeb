//! ReLU Lab: watch neurons live and die while a small network trains.
//!
//! - [`nn`]: numerics only (activations, initializers, the MLP, losses, optimizers,
//!   diagnostics).
//! - [`data`]: seeded datasets and the input grid for neuron maps.
//! - [`train`]: run configs, the deterministic session, presets.
//! - [`share_link`]: links that open a lesson with given settings (web and desktop).
//! - `app` (feature `gui`): the app, on the desktop and in a browser tab.

#[cfg(feature = "gui")]
pub mod app;
pub mod data;
pub mod media;
pub mod nn;
pub mod share_link;
pub mod train;

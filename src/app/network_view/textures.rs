//! The tiles' pictures: one texture per neuron, rebuilt only when a new snapshot arrives, and
//! the colour scales they are drawn on.

use egui::{Color32, TextureHandle, TextureOptions};

use super::NetworkView;
use crate::app::plots::snapshot_fingerprint;
use crate::app::shared::diverging_color;
use crate::train::Snapshot;
use crate::train::snapshot::LayerSnapshot;

/// Textures for every tile of one snapshot (2-D sets only; 1-D responses are drawn as curves).
pub(super) struct TileTextures {
    pub(super) key: u64,
    pub(super) inputs: Vec<TextureHandle>,
    /// Per hidden layer, the pictures of the neurons it shows (`LayerSnapshot::shown`), in order.
    pub(super) hidden: Vec<Vec<TextureHandle>>,
    pub(super) output: Option<TextureHandle>,
}

impl NetworkView {
    /// Rebuilds the textures when `snapshot` differs from the one they show.
    pub(super) fn refresh(&mut self, ctx: &egui::Context, snapshot: &Snapshot) {
        self.footprint.refresh(&snapshot.points);
        let key = snapshot_fingerprint(snapshot);
        if self.scales_key != Some(key) {
            self.scales = snapshot.layers.iter().map(layer_scale).collect();
            self.scales_key = Some(key);
        }
        if !snapshot.grid.is_plane {
            self.textures = None;
            return;
        }
        if self.textures.as_ref().is_some_and(|textures| textures.key == key) {
            return;
        }
        let old = self.textures.take();
        let side = snapshot.grid.resolution;
        let mut inputs = old.as_ref().map(|t| t.inputs.clone()).unwrap_or_default();
        if inputs.len() != 2 || inputs.iter().any(|t| t.size() != [side, side]) {
            inputs =
                (0..2).map(|axis| ctx.load_texture("input", input_image(side, axis), TextureOptions::LINEAR)).collect();
        }
        let mut old_hidden = old.as_ref().map(|t| t.hidden.clone()).unwrap_or_default();
        let hidden = snapshot
            .layers
            .iter()
            .enumerate()
            .map(|(index, layer)| {
                // Each tile on its own scale, so a weak but living neuron still shows where it
                // is on and off; a dead one (all zero) stays blank.
                // Only the neurons on screen have pictures: `layer.shown`, from its first.
                let slots = old_hidden.get_mut(index).map(std::mem::take).unwrap_or_default();
                let images = layer
                    .shown
                    .indices()
                    .filter_map(|neuron| layer.neurons.get(neuron))
                    .map(|n| response_image(n.response(), side, curve_scale(n.response())));
                update_textures(ctx, slots, images.collect())
            })
            .collect();
        let output_image =
            response_image(&snapshot.output.iter().map(|p| 2.0 * p - 1.0).collect::<Vec<_>>(), side, 1.0);
        let output_slots = old.and_then(|t| t.output).into_iter().collect();
        let output = update_textures(ctx, output_slots, vec![output_image]).pop();
        self.textures = Some(TileTextures { key, inputs, hidden, output });
    }
}

/// The largest finite |activation| of a layer's responses (1 when all are zero).
pub(super) fn layer_scale(layer: &LayerSnapshot) -> f32 {
    let largest = layer
        .neurons
        .iter()
        .flat_map(|neuron| neuron.response().iter())
        .filter(|v| v.is_finite())
        .fold(0.0_f32, |m, v| m.max(v.abs()));
    if largest > 0.0 { largest } else { 1.0 }
}

/// The largest finite |value| of a curve (1 when all are zero).
pub(crate) fn curve_scale(values: &[f32]) -> f32 {
    let largest = values.iter().filter(|v| v.is_finite()).fold(0.0_f32, |m, v| m.max(v.abs()));
    if largest > 0.0 { largest } else { 1.0 }
}

/// A response on the `side × side` grid as an image, values divided by `scale`.
pub(crate) fn response_image(values: &[f32], side: usize, scale: f32) -> egui::ColorImage {
    if side == 0 || values.len() != side * side {
        return egui::ColorImage::filled([1, 1], Color32::GRAY);
    }
    egui::ColorImage::new([side, side], values.iter().map(|&v| diverging_color(v / scale)).collect())
}

/// The input `axis` (0: x1, left to right; 1: x2, bottom to top) on the grid.
pub(super) fn input_image(side: usize, axis: usize) -> egui::ColorImage {
    let side = side.max(2);
    let at = |i: usize| 2.0 * i as f32 / (side - 1) as f32 - 1.0;
    let pixels = (0..side * side)
        .map(|index| {
            let (row, column) = (index / side, index % side);
            diverging_color(if axis == 0 { at(column) } else { -at(row) })
        })
        .collect();
    egui::ColorImage::new([side, side], pixels)
}

/// Textures holding `images`, reusing `slots` where they exist.
pub(crate) fn update_textures(
    ctx: &egui::Context,
    mut slots: Vec<TextureHandle>,
    images: Vec<egui::ColorImage>,
) -> Vec<TextureHandle> {
    slots.truncate(images.len());
    for (index, image) in images.into_iter().enumerate() {
        match slots.get_mut(index) {
            Some(handle) => handle.set(image, TextureOptions::LINEAR),
            None => slots.push(ctx.load_texture("neuron", image, TextureOptions::LINEAR)),
        }
    }
    slots
}

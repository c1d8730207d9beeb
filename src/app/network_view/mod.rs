//! The network, live: a column per layer (inputs, each hidden layer, the output), a tile per
//! neuron showing its response over the input plane, edges coloured by the sign of their weight
//! and as thick as its size. A tile's frame says the neuron's state; dead, dying, saturated and
//! NaN tiles also carry a mark and a word, so state never rests on colour alone. Hovering a tile
//! enlarges it and shows its numbers; clicking selects it for the detail plots.

mod layout;
mod paint;
pub(crate) mod textures;
mod tooltip;
mod window;

use egui::{Rect, Response, Sense, TextureHandle, vec2};

use self::layout::{Fonts, Layout, layout, tile_rect};
use self::paint::{legend_rows, paint_edges, paint_headers, paint_legend};
use self::textures::{TileTextures, curve_scale};
use self::window::{SharedWindows, strips_ui};
use crate::app::footprint::Footprint;
use crate::app::shared::{Intent, NeuronId, ViewSettings};
use crate::train::Snapshot;

/// How much a hovered tile grows.
const HOVER_SCALE: f32 = 1.4;

/// The network panel. It keeps the tiles' textures between frames and rebuilds them only when a
/// new snapshot arrives.
#[derive(Default)]
pub struct NetworkView {
    /// Leaves the colour key out (a comparison's branches share the screen's one).
    is_key_hidden: bool,
    textures: Option<TileTextures>,
    /// Per hidden layer, the largest |activation| on the grid, for the snapshot `scales_key`.
    scales: Vec<f32>,
    scales_key: Option<u64>,
    /// The outline of the training data, drawn on every hidden tile.
    footprint: Footprint,
    /// Which neurons of a wide layer the tiles show (shared with a view side by side).
    windows: SharedWindows,
}

impl NetworkView {
    /// A view without the colour key under the network, for a screen that shows it once.
    pub fn without_key() -> Self {
        Self { is_key_hidden: true, ..Self::default() }
    }

    /// A view that shows the same neurons of each wide layer as `other` (the two branches of
    /// a comparison, side by side).
    pub fn sharing_windows_with(mut self, other: &Self) -> Self {
        self.windows = std::rc::Rc::clone(&other.windows);
        self
    }
}

/// Where a tile's picture comes from.
#[derive(Clone, Copy)]
pub(super) enum Picture<'a> {
    /// A texture (2-D sets).
    Texture(&'a TextureHandle),
    /// A curve over `[-extent, extent]`, values divided by `scale` (1-D sets).
    Curve(&'a [f32], f32),
}

/// What identifies a tile.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TileKind {
    Input(usize),
    Hidden(NeuronId),
    Output,
}

impl NetworkView {
    /// Draws the network of `snapshot` into all of `ui`'s available space; returns
    /// [`Intent::Select`] when a neuron is clicked (or the background, to clear the selection).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        snapshot: &Snapshot,
        selected: Option<NeuronId>,
        settings: &ViewSettings,
    ) -> Vec<Intent> {
        let size = ui.available_size().min(vec2(4000.0, 1400.0)).max(vec2(240.0, 180.0));
        let (rect, background) = ui.allocate_exact_size(size, Sense::click());
        self.refresh(ui.ctx(), snapshot);
        let mut fonts = Fonts::new(ui, settings);
        let legend =
            if self.is_key_hidden { Vec::new() } else { legend_rows(ui, snapshot, rect.width(), &fonts, settings) };
        let legend_height = legend.len() as f32 * (fonts.label.size + 6.0) + 4.0;
        // The tiles show what the snapshot has pictures for; the windows say what to ask for.
        let firsts: Vec<usize> = snapshot.layers.iter().map(|layer| layer.shown.first).collect();
        let layout = layout(snapshot, rect, legend_height, &fonts, &firsts);
        fonts.gap_below = layout.pitch - layout.tile - fonts.frame;
        let painter = ui.painter_at(rect);
        paint_headers(ui, &painter, snapshot, &layout, &fonts, settings);
        paint_edges(&painter, snapshot, &layout, settings, None);
        strips_ui(ui, snapshot, &layout, &self.windows, settings);
        let mut intents: Vec<Intent> =
            self.windows.borrow_mut().request(snapshot.layers.len(), selected).into_iter().collect();
        let mut intent = None;
        let mut hovered = None;
        for kind in tile_kinds(snapshot, &layout) {
            let (tile, asked) = self.tile_ui(ui, snapshot, kind, &layout, &fonts, selected, settings);
            if asked.is_some() {
                intent = asked;
            }
            if tile.clicked()
                && let TileKind::Hidden(id) = kind
            {
                intent = Some(Intent::Select(Some(id)));
            }
            if tile.hovered() {
                hovered = Some(kind);
            }
        }
        if let Some(kind) = hovered {
            self.hover_ui(ui, snapshot, kind, &layout, &fonts, selected, settings);
        }
        paint_legend(&painter, rect, legend, &fonts);
        if intent.is_none() && background.clicked() && selected.is_some() {
            intent = Some(Intent::Select(None));
        }
        intents.extend(intent);
        intents
    }

    /// The picture of tile `kind`.
    fn picture<'a>(&'a self, snapshot: &'a Snapshot, kind: TileKind, scales: &[f32]) -> Option<Picture<'a>> {
        if let Some(textures) = &self.textures {
            return match kind {
                TileKind::Input(axis) => textures.inputs.get(axis),
                TileKind::Hidden((layer, neuron)) => {
                    let first = snapshot.layers.get(layer).map_or(0, |l| l.shown.first);
                    textures.hidden.get(layer).and_then(|l| l.get(neuron.checked_sub(first)?))
                }
                TileKind::Output => textures.output.as_ref(),
            }
            .map(Picture::Texture);
        }
        match kind {
            TileKind::Input(_) => None,
            TileKind::Hidden((layer, neuron)) => {
                let response = snapshot.neuron(layer, neuron)?.response();
                Some(Picture::Curve(response, scales.get(layer).copied().unwrap_or(1.0)))
            }
            TileKind::Output => Some(Picture::Curve(&snapshot.output, curve_scale(&snapshot.output))),
        }
    }

    /// One tile: picture, frame, mark, label, bias bar; its response carries the accessible
    /// label, the hover tooltip and, for a hidden neuron, a right-click menu. Returns what the
    /// tooltip or the menu asked for.
    #[expect(clippy::too_many_arguments, reason = "a tile needs the whole context of the view")]
    fn tile_ui(
        &self,
        ui: &egui::Ui,
        snapshot: &Snapshot,
        kind: TileKind,
        layout: &Layout,
        fonts: &Fonts,
        selected: Option<NeuronId>,
        settings: &ViewSettings,
    ) -> (Response, Option<Intent>) {
        let rect = tile_rect(layout, kind, snapshot);
        let response = ui.interact(rect, ui.scope_id().with(("network_tile", tile_key(kind))), Sense::click());
        let label = accessible_label(snapshot, kind);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        self.paint_tile(ui, snapshot, kind, rect, fonts, selected, settings);
        let mut intent = None;
        // Shown while the tile is hovered, and kept open while the pointer is over its button.
        let response = response.on_hover_ui(|ui| intent = self.tooltip_ui(ui, snapshot, kind, settings));
        if let TileKind::Hidden(id) = kind
            && let Some(cell) = snapshot.neuron(id.0, id.1)
        {
            response.context_menu(|ui| {
                let asked = tooltip::autopsy_button_ui(ui, cell, id);
                if asked.is_some() {
                    ui.close();
                    intent = asked;
                }
                if ui.button("Select for the detail plots").clicked() {
                    ui.close();
                    intent = Some(Intent::Select(Some(id)));
                }
            });
        }
        (response, intent)
    }

    /// The hovered tile again, enlarged and on top of its neighbours.
    #[expect(clippy::too_many_arguments, reason = "a tile needs the whole context of the view")]
    fn hover_ui(
        &self,
        ui: &egui::Ui,
        snapshot: &Snapshot,
        kind: TileKind,
        layout: &Layout,
        fonts: &Fonts,
        selected: Option<NeuronId>,
        settings: &ViewSettings,
    ) {
        let rect = tile_rect(layout, kind, snapshot);
        let bounds = layout.body;
        let mut big = Rect::from_center_size(rect.center(), rect.size() * HOVER_SCALE);
        big = big.translate(vec2(
            (bounds.left() - big.left()).max(0.0) + (bounds.right() - big.right()).min(0.0),
            (bounds.top() - big.top()).max(0.0) + (bounds.bottom() - big.bottom()).min(0.0),
        ));
        if let TileKind::Hidden((layer, neuron)) = kind {
            paint_edges(&ui.painter_at(bounds.expand(40.0)), snapshot, layout, settings, Some((layer, neuron)));
        }
        self.paint_tile(ui, snapshot, kind, big, fonts, selected, settings);
    }
}

/// Every tile on screen, in drawing order.
fn tile_kinds(snapshot: &Snapshot, layout: &Layout) -> Vec<TileKind> {
    let inputs = if snapshot.grid.is_plane { 2 } else { 1 };
    let mut kinds: Vec<TileKind> = (0..inputs).map(TileKind::Input).collect();
    for (layer, cells) in snapshot.layers.iter().enumerate() {
        let shown = (0..cells.neurons.len()).filter(|&neuron| layout.has_tile(layer + 1, neuron));
        kinds.extend(shown.map(|neuron| TileKind::Hidden((layer, neuron))));
    }
    kinds.push(TileKind::Output);
    kinds
}

/// A hashable key for a tile's id.
pub(super) fn tile_key(kind: TileKind) -> (usize, usize, usize) {
    match kind {
        TileKind::Input(axis) => (0, axis, 0),
        TileKind::Hidden((layer, neuron)) => (1, layer, neuron),
        TileKind::Output => (2, 0, 0),
    }
}

/// What a screen reader (and a test) reads for a tile: "Layer 1 neuron 3: dead".
pub(super) fn accessible_label(snapshot: &Snapshot, kind: TileKind) -> String {
    match kind {
        TileKind::Input(axis) => format!("Input x{}", axis + 1),
        TileKind::Hidden((layer, neuron)) => {
            let state = snapshot.neuron(layer, neuron).map_or("unknown", |n| n.state.label());
            format!("Layer {} neuron {}: {state}", layer + 1, neuron + 1)
        }
        TileKind::Output => "Output".to_owned(),
    }
}

/// The bias of tile `kind`, if it has one.
pub(super) fn tile_bias(snapshot: &Snapshot, kind: TileKind) -> Option<f32> {
    match kind {
        TileKind::Input(_) => None,
        TileKind::Hidden((layer, neuron)) => snapshot.neuron(layer, neuron).map(|n| n.bias),
        TileKind::Output => Some(snapshot.output_bias),
    }
}

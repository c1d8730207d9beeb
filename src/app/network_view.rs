//! The network, live: a column per layer (inputs, each hidden layer, the output), a tile per
//! neuron showing its response over the input plane, edges coloured by the sign of their weight
//! and as thick as its size. A tile's frame says the neuron's state; dead, dying, saturated and
//! NaN tiles also carry a mark and a word, so state never rests on colour alone. Hovering a tile
//! enlarges it and shows its numbers; clicking selects it for the detail plots.

use egui::{
    Align2, Color32, FontId, Pos2, Rect, Response, RichText, Sense, Stroke, StrokeKind, TextureHandle, TextureOptions,
    Vec2, pos2, vec2,
};

use super::footprint::{Footprint, to_tile};
use super::output_view::{CLASS_ONE_COLOR, CLASS_ZERO_COLOR};
use super::plots::snapshot_fingerprint;
use super::shared::{Intent, NeuronId, ViewSettings, diverging_color, state_color, state_mark};
use crate::nn::NeuronState;
use crate::nn::diagnostics::possible_states;
use crate::train::Snapshot;
use crate::train::config::OptimizerName;
use crate::train::snapshot::{LayerSnapshot, NeuronSnapshot};

/// The largest tile side, in points.
const MAX_TILE: f32 = 120.0;
/// The smallest tile side, in points.
const MIN_TILE: f32 = 10.0;
/// Below this tile side the state word under a tile is left out (the frame and mark remain).
const MIN_LABELLED_TILE: f32 = 22.0;
/// How much a hovered tile grows.
const HOVER_SCALE: f32 = 1.4;
/// The side of the enlarged response in the hover tooltip.
const TOOLTIP_TILE: f32 = 180.0;
/// The most incoming weights listed in a tooltip.
const MAX_LISTED_WEIGHTS: usize = 12;

/// The network panel. It keeps the tiles' textures between frames and rebuilds them only when a
/// new snapshot arrives.
#[derive(Default)]
pub struct NetworkView {
    textures: Option<TileTextures>,
    /// Per hidden layer, the largest |activation| on the grid, for the snapshot `scales_key`.
    scales: Vec<f32>,
    scales_key: Option<u64>,
    /// The outline of the training data, drawn on every hidden tile.
    footprint: Footprint,
}

/// Textures for every tile of one snapshot (2-D sets only; 1-D responses are drawn as curves).
struct TileTextures {
    key: u64,
    inputs: Vec<TextureHandle>,
    hidden: Vec<Vec<TextureHandle>>,
    output: Option<TextureHandle>,
}

/// Where a tile's picture comes from.
#[derive(Clone, Copy)]
enum Picture<'a> {
    /// A texture (2-D sets).
    Texture(&'a TextureHandle),
    /// A curve over `[-extent, extent]`, values divided by `scale` (1-D sets).
    Curve(&'a [f32], f32),
}

/// What identifies a tile.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TileKind {
    Input(usize),
    Hidden(NeuronId),
    Output,
}

/// The geometry of the view.
struct Layout {
    /// The side of a tile.
    tile: f32,
    /// The distance between the tops of two tiles of a column.
    pitch: f32,
    /// Where tiles start, below the column headers.
    body: Rect,
    /// The x of each column's centre.
    column_x: Vec<f32>,
    /// Tiles per column.
    counts: Vec<usize>,
}

impl Layout {
    /// The rectangle of tile `row` of column `column`.
    fn tile_rect(&self, column: usize, row: usize) -> Rect {
        let count = self.counts.get(column).copied().unwrap_or(1) as f32;
        let top = self.body.center().y - count * self.pitch / 2.0 + (self.pitch - self.tile) / 2.0;
        let x = self.column_x.get(column).copied().unwrap_or(self.body.center().x);
        Rect::from_center_size(pos2(x, top + row as f32 * self.pitch + self.tile / 2.0), Vec2::splat(self.tile))
    }
}

/// Sizes that follow the text size (larger in presentation mode).
struct Fonts {
    header: FontId,
    label: FontId,
    frame: f32,
    /// The room under a tile before the next one (set once the layout is known).
    gap_below: f32,
}

impl Fonts {
    fn new(ui: &egui::Ui, settings: &ViewSettings) -> Self {
        let body = ui.style().text_styles.get(&egui::TextStyle::Body).map_or(14.0, |font| font.size);
        Self {
            header: FontId::proportional(body),
            label: FontId::proportional((body * 0.85).max(11.0)),
            frame: if settings.presentation { 4.0 } else { 3.0 },
            gap_below: 0.0,
        }
    }
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
    ) -> Option<Intent> {
        let size = ui.available_size().min(vec2(4000.0, 1400.0)).max(vec2(240.0, 180.0));
        let (rect, background) = ui.allocate_exact_size(size, Sense::click());
        self.refresh(ui.ctx(), snapshot);
        let mut fonts = Fonts::new(ui, settings);
        let legend = legend_rows(ui, snapshot, rect.width(), &fonts, settings);
        let legend_height = legend.len() as f32 * (fonts.label.size + 6.0) + 4.0;
        let layout = layout(snapshot, rect, legend_height, &fonts);
        fonts.gap_below = layout.pitch - layout.tile - fonts.frame;
        let painter = ui.painter_at(rect);
        paint_headers(ui, &painter, snapshot, &layout, &fonts, settings);
        paint_edges(&painter, snapshot, &layout, settings, None);
        let mut intent = None;
        let mut hovered = None;
        for kind in tile_kinds(snapshot) {
            let tile = self.tile_ui(ui, snapshot, kind, &layout, &fonts, selected, settings);
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
        intent
    }

    /// Rebuilds the textures when `snapshot` differs from the one they show.
    fn refresh(&mut self, ctx: &egui::Context, snapshot: &Snapshot) {
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
                let mut slots = old_hidden.get_mut(index).map(std::mem::take).unwrap_or_default();
                slots.truncate(layer.neurons.len());
                let images = layer.neurons.iter().map(|n| response_image(&n.response, side, curve_scale(&n.response)));
                update_textures(ctx, slots, images.collect())
            })
            .collect();
        let output_image =
            response_image(&snapshot.output.iter().map(|p| 2.0 * p - 1.0).collect::<Vec<_>>(), side, 1.0);
        let output_slots = old.and_then(|t| t.output).into_iter().collect();
        let output = update_textures(ctx, output_slots, vec![output_image]).pop();
        self.textures = Some(TileTextures { key, inputs, hidden, output });
    }

    /// The picture of tile `kind`.
    fn picture<'a>(&'a self, snapshot: &'a Snapshot, kind: TileKind, scales: &[f32]) -> Option<Picture<'a>> {
        if let Some(textures) = &self.textures {
            return match kind {
                TileKind::Input(axis) => textures.inputs.get(axis),
                TileKind::Hidden((layer, neuron)) => textures.hidden.get(layer).and_then(|l| l.get(neuron)),
                TileKind::Output => textures.output.as_ref(),
            }
            .map(Picture::Texture);
        }
        match kind {
            TileKind::Input(_) => None,
            TileKind::Hidden((layer, neuron)) => {
                let response = &snapshot.neuron(layer, neuron)?.response;
                Some(Picture::Curve(response, scales.get(layer).copied().unwrap_or(1.0)))
            }
            TileKind::Output => Some(Picture::Curve(&snapshot.output, curve_scale(&snapshot.output))),
        }
    }

    /// One tile: picture, frame, mark, label, bias bar; its response carries the accessible
    /// label and the hover tooltip.
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
    ) -> Response {
        let rect = tile_rect(layout, kind, snapshot);
        let response = ui.interact(rect, ui.scope_id().with(("network_tile", tile_key(kind))), Sense::click());
        let label = accessible_label(snapshot, kind);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        self.paint_tile(ui, snapshot, kind, rect, fonts, selected, settings);
        if response.hovered() {
            response.clone().on_hover_ui(|ui| self.tooltip_ui(ui, snapshot, kind, settings))
        } else {
            response
        }
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

    /// Paints tile `kind` into `rect`.
    #[expect(clippy::too_many_arguments, reason = "a tile needs the whole context of the view")]
    fn paint_tile(
        &self,
        ui: &egui::Ui,
        snapshot: &Snapshot,
        kind: TileKind,
        rect: Rect,
        fonts: &Fonts,
        selected: Option<NeuronId>,
        settings: &ViewSettings,
    ) {
        let painter = ui.painter();
        match self.picture(snapshot, kind, &self.scales) {
            Some(Picture::Texture(texture)) => {
                let uv = Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0));
                painter.image(texture.id(), rect, uv, Color32::WHITE);
            }
            Some(Picture::Curve(values, scale)) => paint_curve(painter, rect, values, scale),
            None => paint_identity(painter, rect),
        }
        let state = match kind {
            TileKind::Hidden((layer, neuron)) => snapshot.neuron(layer, neuron).map(|n| n.state),
            _ => None,
        };
        if state.is_some() && snapshot.grid.is_plane {
            self.footprint.paint(painter, rect, snapshot.grid.extent, FOOTPRINT_COLOR);
        }
        let frame_color = state.map_or_else(|| ui.visuals().text_color(), |s| state_color(s, settings));
        painter.rect_stroke(rect, 2.0, Stroke::new(fonts.frame, frame_color), StrokeKind::Outside);
        if let Some(state) = state {
            paint_state(painter, rect, state, fonts, settings);
        }
        if let (TileKind::Hidden(id), Some(chosen)) = (kind, selected)
            && id == chosen
        {
            let ring = Stroke::new(2.0, ui.visuals().strong_text_color());
            painter.rect_stroke(rect.expand(fonts.frame + 3.0), 4.0, ring, StrokeKind::Outside);
        }
        if let Some(bias) = tile_bias(snapshot, kind) {
            paint_bias(painter, rect, bias, fonts);
        }
    }

    /// The tooltip: the response enlarged, then the neuron's live numbers.
    fn tooltip_ui(&self, ui: &mut egui::Ui, snapshot: &Snapshot, kind: TileKind, settings: &ViewSettings) {
        ui.label(RichText::new(accessible_label(snapshot, kind)).strong());
        let (rect, _) = ui.allocate_exact_size(Vec2::splat(TOOLTIP_TILE), Sense::hover());
        match self.picture(snapshot, kind, &self.scales) {
            Some(Picture::Texture(texture)) => {
                let uv = Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0));
                ui.painter().image(texture.id(), rect, uv, Color32::WHITE);
            }
            Some(Picture::Curve(values, scale)) => paint_curve(ui.painter(), rect, values, scale),
            None => paint_identity(ui.painter(), rect),
        }
        if matches!(kind, TileKind::Hidden(_)) && snapshot.grid.is_plane {
            paint_training_points(ui.painter(), rect, snapshot);
            self.footprint.paint(ui.painter(), rect, snapshot.grid.extent, FOOTPRINT_COLOR);
            ui.weak("Dots: the training inputs, where its state is measured");
        }
        match kind {
            TileKind::Hidden((layer, neuron)) => {
                if let Some(cell) = snapshot.neuron(layer, neuron) {
                    neuron_details_ui(ui, snapshot, cell, layer, settings);
                }
            }
            TileKind::Output => {
                ui.label(format!("Bias {:+.3}", snapshot.output_bias));
                ui.label(format!("Incoming weights: {}", weight_list(&snapshot.output_weights, "n")));
            }
            TileKind::Input(axis) => {
                ui.label(format!("The input x{}: blue where it is positive, orange where negative", axis + 1));
            }
        }
    }
}

/// The colour of the training data's outline on a tile: dark enough to show on white (a
/// switched-off neuron) and on the blue and orange of an active one.
const FOOTPRINT_COLOR: Color32 = Color32::from_rgba_premultiplied(27, 27, 27, 170);

/// The training inputs as small dots on an enlarged tile.
fn paint_training_points(painter: &egui::Painter, rect: Rect, snapshot: &Snapshot) {
    let extent = snapshot.grid.extent;
    for point in &snapshot.points.train {
        let position = to_tile([point[0], point[1]], rect, extent);
        painter.circle_filled(position, 1.6, Color32::from_black_alpha(150));
    }
}

/// The numbers of a hidden neuron, for its tooltip.
fn neuron_details_ui(
    ui: &mut egui::Ui,
    snapshot: &Snapshot,
    cell: &NeuronSnapshot,
    layer: usize,
    settings: &ViewSettings,
) {
    let color = state_color(cell.state, settings);
    let mark = state_mark(cell.state);
    let since = match cell.state {
        NeuronState::Alive => format!("alive since step {}", cell.state_since),
        NeuronState::Dead => format!("dead on every training input since step {}", cell.state_since),
        NeuronState::BelowZero => format!("below zero on every training input since step {}", cell.state_since),
        state => format!("{} since step {}", state.label(), cell.state_since),
    };
    ui.label(RichText::new(format!("{mark} {since}").trim().to_owned()).color(color).strong());
    if let Some(step) = cell.last_revived_at {
        let times = if cell.revivals > 1 { format!(" ({} times in all)", cell.revivals) } else { String::new() };
        ui.label(format!("Revived at step {step}{times}"));
    }
    ui.label(format!("Active (z > 0) on {:.1}% of training inputs", cell.fraction_active * 100.0));
    ui.label(format!("Bias {:+.3}", cell.bias));
    if let Some(slope) = cell.prelu_slope {
        ui.label(format!("PReLU slope {slope:.3}"));
    }
    let source = if layer == 0 { "x" } else { "n" };
    ui.label(format!("Incoming weights: {}", weight_list(&cell.incoming_weights, source)));
    if let Some(text) = state_explanation(snapshot, cell, layer) {
        ui.label(text);
    }
    ui.weak("Click to select it for the detail plots");
}

/// Why a dead or below-zero neuron is in that state and whether it can leave it: true for its
/// layer, activation and optimizer.
pub fn state_explanation(snapshot: &Snapshot, cell: &NeuronSnapshot, layer: usize) -> Option<String> {
    match cell.state {
        NeuronState::Dead => {
            let optimizer = snapshot.config.training.optimizer;
            let future = match (layer, optimizer) {
                (_, OptimizerName::Momentum | OptimizerName::Adam) => {
                    "The optimizer's memory still moves it for a while, so it may come back."
                }
                (0, OptimizerName::Sgd) => {
                    "In layer 1 under plain SGD no update can bring it back; moving the bias offset or reviving it can."
                }
                (_, OptimizerName::Sgd) => "It comes back only if the layers below it change its inputs.",
            };
            Some(format!(
                "Its pre-activation is ≤ 0 on every training input: it outputs 0 there and its weights get no \
                 gradient. {future}"
            ))
        }
        NeuronState::BelowZero => Some(match cell.prelu_slope {
            Some(slope) => format!(
                "Its pre-activation is ≤ 0 on every training input; PReLU passes it {} of the gradient (its \
                 slope, {slope:.3}) and still learns that slope, so it can climb back.",
                percent_text(cell.mean_gradient_factor)
            ),
            None => format!(
                "Its pre-activation is ≤ 0 on every training input, but {} still passes it {} of the gradient on \
                 average, so it can climb back.",
                snapshot.activation.kind().label(),
                percent_text(cell.mean_gradient_factor)
            ),
        }),
        _ => None,
    }
}

/// A share as a percentage that stays readable when it is tiny: "10%", "0.67%", "0.0045%".
fn percent_text(share: f32) -> String {
    let percent = f64::from(share) * 100.0;
    if percent >= 10.0 {
        format!("{percent:.0}%")
    } else if percent >= 0.01 {
        format!("{percent:.2}%")
    } else {
        format!("{percent:.1e}%")
    }
}

/// `x1 +0.52, x2 -1.20`, at most [`MAX_LISTED_WEIGHTS`] of them.
fn weight_list(weights: &[f32], source: &str) -> String {
    let mut parts: Vec<String> = weights
        .iter()
        .take(MAX_LISTED_WEIGHTS)
        .enumerate()
        .map(|(i, w)| format!("{source}{} {w:+.2}", i + 1))
        .collect();
    if weights.len() > MAX_LISTED_WEIGHTS {
        parts.push(format!("… ({} in all)", weights.len()));
    }
    parts.join(", ")
}

/// Every tile, in drawing order.
fn tile_kinds(snapshot: &Snapshot) -> Vec<TileKind> {
    let inputs = if snapshot.grid.is_plane { 2 } else { 1 };
    let mut kinds: Vec<TileKind> = (0..inputs).map(TileKind::Input).collect();
    for (layer, cells) in snapshot.layers.iter().enumerate() {
        kinds.extend((0..cells.neurons.len()).map(|neuron| TileKind::Hidden((layer, neuron))));
    }
    kinds.push(TileKind::Output);
    kinds
}

/// A hashable key for a tile's id.
fn tile_key(kind: TileKind) -> (usize, usize, usize) {
    match kind {
        TileKind::Input(axis) => (0, axis, 0),
        TileKind::Hidden((layer, neuron)) => (1, layer, neuron),
        TileKind::Output => (2, 0, 0),
    }
}

/// What a screen reader (and a test) reads for a tile: "Layer 1 neuron 3: dead".
fn accessible_label(snapshot: &Snapshot, kind: TileKind) -> String {
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
fn tile_bias(snapshot: &Snapshot, kind: TileKind) -> Option<f32> {
    match kind {
        TileKind::Input(_) => None,
        TileKind::Hidden((layer, neuron)) => snapshot.neuron(layer, neuron).map(|n| n.bias),
        TileKind::Output => Some(snapshot.output_bias),
    }
}

/// The rectangle of tile `kind`.
fn tile_rect(layout: &Layout, kind: TileKind, snapshot: &Snapshot) -> Rect {
    match kind {
        TileKind::Input(axis) => layout.tile_rect(0, axis),
        TileKind::Hidden((layer, neuron)) => layout.tile_rect(layer + 1, neuron),
        TileKind::Output => layout.tile_rect(snapshot.layers.len() + 1, 0),
    }
}

/// Places the columns and sizes the tiles to fit `rect`: tiles take most of each row's height
/// (the state word goes under a tile when the gap allows, on a band across it otherwise).
fn layout(snapshot: &Snapshot, rect: Rect, legend_height: f32, fonts: &Fonts) -> Layout {
    let inputs = if snapshot.grid.is_plane { 2 } else { 1 };
    let mut counts = vec![inputs];
    counts.extend(snapshot.layers.iter().map(|layer| layer.neurons.len().max(1)));
    counts.push(1);
    let header = fonts.header.size + fonts.label.size + 12.0;
    let body =
        Rect::from_min_max(pos2(rect.left(), rect.top() + header), pos2(rect.right(), rect.bottom() - legend_height));
    let column_width = rect.width() / counts.len() as f32;
    let rows = counts.iter().copied().max().unwrap_or(1) as f32;
    let pitch = body.height() / rows;
    let tile = (pitch * 0.78).min(column_width * 0.62).clamp(MIN_TILE, MAX_TILE);
    let pitch = pitch.min(tile + fonts.label.size + 8.0 + tile * 0.15).max(tile + 2.0);
    let column_x = (0..counts.len()).map(|i| rect.left() + column_width * (i as f32 + 0.5)).collect();
    Layout { tile, pitch, body, column_x, counts }
}

/// Column titles ("Layer 1", or "L1" where that does not fit), and under each hidden layer's
/// title its neurons that are not alive ("2 dead").
fn paint_headers(
    ui: &egui::Ui,
    painter: &egui::Painter,
    snapshot: &Snapshot,
    layout: &Layout,
    fonts: &Fonts,
    settings: &ViewSettings,
) {
    let top = layout.body.top() - fonts.header.size - fonts.label.size - 10.0;
    let last = layout.column_x.len().saturating_sub(1);
    let width = layout.column_x.get(1).zip(layout.column_x.first()).map_or(f32::INFINITY, |(b, a)| b - a) - 4.0;
    let strong = ui.visuals().strong_text_color();
    for (column, &x) in layout.column_x.iter().enumerate() {
        let (long, short) = match column {
            0 => ("Input".to_owned(), "In".to_owned()),
            c if c == last => ("Output".to_owned(), "Out".to_owned()),
            c => (format!("Layer {c}"), format!("L{c}")),
        };
        let mut galley = painter.layout_no_wrap(long, fonts.header.clone(), strong);
        if galley.size().x > width {
            galley = painter.layout_no_wrap(short, fonts.header.clone(), strong);
        }
        painter.galley(pos2(x - galley.size().x / 2.0, top), galley, strong);
        if let Some(layer) = column.checked_sub(1).and_then(|i| snapshot.layers.get(i)) {
            let (text, color) = count_summary(ui, layer, settings);
            let mut galley = painter.layout_no_wrap(text.join(" "), fonts.label.clone(), color);
            if galley.size().x > width {
                galley = painter.layout_no_wrap(text.first().cloned().unwrap_or_default(), fonts.label.clone(), color);
            }
            painter.galley(pos2(x - galley.size().x / 2.0, top + fonts.header.size + 4.0), galley, color);
        }
    }
}

/// The counts of a layer's neurons that are not alive, worst first ("2 dead", "1 dying"), or
/// "all alive"; coloured by the worst state present.
fn count_summary(ui: &egui::Ui, layer: &LayerSnapshot, settings: &ViewSettings) -> (Vec<String>, Color32) {
    let worst_first =
        [NeuronState::NotFinite, NeuronState::Dead, NeuronState::BelowZero, NeuronState::Dying, NeuronState::Saturated];
    let count = |state: NeuronState| layer.state_counts[state.index()];
    let present: Vec<NeuronState> = worst_first.into_iter().filter(|&state| count(state) > 0).collect();
    let Some(&worst) = present.first() else {
        return (vec!["all alive".to_owned()], ui.visuals().weak_text_color());
    };
    let parts = present.iter().map(|&state| format!("{} {}", count(state), state.label())).collect();
    (parts, state_color(worst, settings))
}

/// The edges: one per weight, blue for positive and orange for negative, as thick and opaque as
/// the weight is large relative to its layer's largest. With `only`, just that neuron's incoming
/// and outgoing edges, fully opaque.
fn paint_edges(
    painter: &egui::Painter,
    snapshot: &Snapshot,
    layout: &Layout,
    settings: &ViewSettings,
    only: Option<NeuronId>,
) {
    let columns = layout.counts.len();
    let thickness = if settings.presentation { 5.0 } else { 3.5 };
    for target_column in 1..columns {
        let weights = column_weights(snapshot, target_column);
        let largest =
            weights.iter().flat_map(|w| w.iter()).filter(|w| w.is_finite()).fold(0.0_f32, |m, w| m.max(w.abs()));
        if largest <= 0.0 {
            continue;
        }
        for (target, incoming) in weights.iter().enumerate() {
            for (source, &weight) in incoming.iter().enumerate() {
                if !is_shown(only, target_column, source, target) {
                    continue;
                }
                let strength = (weight.abs() / largest).clamp(0.0, 1.0);
                let alpha = if only.is_some() { 0.95 } else { 0.12 + 0.5 * strength };
                let color = if weight >= 0.0 { CLASS_ONE_COLOR } else { CLASS_ZERO_COLOR };
                let from = layout.tile_rect(target_column - 1, source).right_center();
                let to = layout.tile_rect(target_column, target).left_center();
                let stroke = Stroke::new(0.4 + thickness * strength, color.gamma_multiply(alpha));
                painter.line_segment([from + vec2(4.0, 0.0), to - vec2(9.0, 0.0)], stroke);
            }
        }
    }
}

/// Whether the edge from `source` to `target` (into `target_column`) belongs to neuron `only`.
fn is_shown(only: Option<NeuronId>, target_column: usize, source: usize, target: usize) -> bool {
    match only {
        None => true,
        Some((layer, neuron)) => {
            (target_column == layer + 1 && target == neuron) || (target_column == layer + 2 && source == neuron)
        }
    }
}

/// The incoming weights of every tile of `column` (a hidden layer or the output).
fn column_weights(snapshot: &Snapshot, column: usize) -> Vec<&[f32]> {
    match snapshot.layers.get(column - 1) {
        Some(layer) => layer.neurons.iter().map(|n| n.incoming_weights.as_slice()).collect(),
        None => vec![snapshot.output_weights.as_slice()],
    }
}

/// The state's mark in a badge at the tile's top-right corner, and its word under the tile (or,
/// when the rows are tight, on a band across the tile's foot).
fn paint_state(painter: &egui::Painter, rect: Rect, state: NeuronState, fonts: &Fonts, settings: &ViewSettings) {
    if state == NeuronState::Alive {
        return;
    }
    let color = state_color(state, settings);
    let badge_font = FontId::proportional((rect.width() * 0.3).clamp(9.0, fonts.header.size * 1.2));
    let galley = painter.layout_no_wrap(state_mark(state).to_owned(), badge_font, Color32::WHITE);
    let badge =
        Rect::from_min_size(rect.right_top() - vec2(galley.size().x + 6.0, 0.0), galley.size() + vec2(6.0, 2.0));
    painter.rect_filled(badge, 2.0, color);
    painter.galley(badge.min + vec2(3.0, 1.0), galley, Color32::WHITE);
    if rect.width() < MIN_LABELLED_TILE {
        return;
    }
    let gap = fonts.gap_below;
    if gap >= fonts.label.size + 2.0 {
        let pos = rect.center_bottom() + vec2(0.0, fonts.frame + 1.0);
        painter.text(pos, Align2::CENTER_TOP, state.label(), fonts.label.clone(), color);
    } else {
        let size = fonts.label.size.min(rect.height() * 0.4);
        let galley = painter.layout_no_wrap(state.label().to_owned(), FontId::proportional(size), Color32::WHITE);
        let band = Rect::from_min_max(pos2(rect.left(), rect.bottom() - galley.size().y), rect.right_bottom());
        painter.rect_filled(band, 0.0, color);
        painter.galley(pos2(rect.center().x - galley.size().x / 2.0, band.top()), galley, Color32::WHITE);
    }
}

/// The bias as a bar left of the tile: up and blue when positive, down and orange when
/// negative, its length `|b| / (|b| + 1)` of half the tile (so 1 fills half the way).
fn paint_bias(painter: &egui::Painter, rect: Rect, bias: f32, fonts: &Fonts) {
    if !bias.is_finite() {
        return;
    }
    let length = rect.height() / 2.0 * bias.abs() / (bias.abs() + 1.0);
    let x = rect.left() - fonts.frame - 5.0;
    let mid = rect.center().y;
    let (top, bottom, color) =
        if bias >= 0.0 { (mid - length, mid, CLASS_ONE_COLOR) } else { (mid, mid + length, CLASS_ZERO_COLOR) };
    let bar = Rect::from_min_max(pos2(x - 2.5, top), pos2(x + 2.5, bottom.max(top + 1.0)));
    painter.rect_filled(bar, 0.0, color);
    painter.hline(x - 4.0..=x + 4.0, mid, Stroke::new(1.0, Color32::from_gray(128)));
}

/// A 1-D response: the curve over a light background with the zero line.
fn paint_curve(painter: &egui::Painter, rect: Rect, values: &[f32], scale: f32) {
    painter.rect_filled(rect, 0.0, Color32::from_gray(245));
    painter.hline(rect.x_range(), rect.center().y, Stroke::new(1.0, Color32::from_gray(170)));
    let count = values.len().max(2) as f32 - 1.0;
    let half = rect.height() * 0.45;
    let points: Vec<Pos2> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, &v)| {
            pos2(rect.left() + rect.width() * i as f32 / count, rect.center().y - half * (v / scale).clamp(-1.0, 1.0))
        })
        .collect();
    painter.line(points, Stroke::new(2.0, CLASS_ONE_COLOR));
}

/// The 1-D input tile: the line y = x.
fn paint_identity(painter: &egui::Painter, rect: Rect) {
    let values: Vec<f32> = (0..=20).map(|i| i as f32 / 10.0 - 1.0).collect();
    paint_curve(painter, rect, &values, 1.0);
}

/// One entry of the legend.
struct LegendItem {
    text: std::sync::Arc<egui::Galley>,
    swatch: Swatch,
}

/// How a legend entry's swatch looks.
enum Swatch {
    /// A frame in a state's colour.
    Frame(Color32),
    /// A filled bar (weight and value colours).
    Fill(Color32),
    /// No swatch (a note).
    Note,
}

/// The legend's entries, laid out in rows that fit `width`: what a frame's colour, mark and
/// word mean, and what blue and orange mean.
fn legend_rows(
    ui: &egui::Ui,
    snapshot: &Snapshot,
    width: f32,
    fonts: &Fonts,
    settings: &ViewSettings,
) -> Vec<Vec<LegendItem>> {
    let painter = ui.painter();
    let text_color = ui.visuals().text_color();
    let mut items: Vec<LegendItem> = possible_states(snapshot.activation)
        .iter()
        .map(|&state| {
            let mark = state_mark(state);
            let text = if mark == state.label() {
                mark.to_owned()
            } else {
                format!("{mark} {}", state.label()).trim().to_owned()
            };
            let galley = painter.layout_no_wrap(text, fonts.label.clone(), text_color);
            LegendItem { text: galley, swatch: Swatch::Frame(state_color(state, settings)) }
        })
        .collect();
    for (text, color) in [("positive", CLASS_ONE_COLOR), ("negative", CLASS_ZERO_COLOR)] {
        let galley = painter.layout_no_wrap(text.to_owned(), fonts.label.clone(), text_color);
        items.push(LegendItem { text: galley, swatch: Swatch::Fill(color) });
    }
    let note = if snapshot.grid.is_plane {
        "tile: activation · dashed: training data · edge: weight · bar: bias"
    } else {
        "tile: activation · edge: weight · bar: bias"
    };
    let galley = painter.layout_no_wrap(note.to_owned(), fonts.label.clone(), ui.visuals().weak_text_color());
    items.push(LegendItem { text: galley, swatch: Swatch::Note });
    let mut rows: Vec<Vec<LegendItem>> = vec![Vec::new()];
    let mut used = 0.0;
    for item in items {
        let item_width = item.text.size().x + 34.0;
        if used + item_width > width && rows.last().is_some_and(|row| !row.is_empty()) {
            rows.push(Vec::new());
            used = 0.0;
        }
        used += item_width;
        if let Some(row) = rows.last_mut() {
            row.push(item);
        }
    }
    rows
}

/// Paints the legend rows at the foot of `rect`.
fn paint_legend(painter: &egui::Painter, rect: Rect, rows: Vec<Vec<LegendItem>>, fonts: &Fonts) {
    let row_height = fonts.label.size + 6.0;
    let mut y = rect.bottom() - rows.len() as f32 * row_height + row_height / 2.0 - 2.0;
    for row in rows {
        let mut x = rect.left() + 6.0;
        for item in row {
            let swatch = Rect::from_center_size(pos2(x + 7.0, y), vec2(13.0, 11.0));
            match item.swatch {
                Swatch::Frame(color) => {
                    painter.rect_stroke(swatch, 2.0, Stroke::new(fonts.frame, color), StrokeKind::Inside);
                }
                Swatch::Fill(color) => {
                    painter.rect_filled(swatch.shrink2(vec2(0.0, 2.0)), 1.0, color);
                }
                Swatch::Note => x -= 18.0,
            }
            let size = item.text.size();
            painter.galley(pos2(x + 18.0, y - size.y / 2.0), item.text, Color32::PLACEHOLDER);
            x += size.x + 34.0;
        }
        y += row_height;
    }
}

/// The largest finite |activation| of a layer's responses (1 when all are zero).
fn layer_scale(layer: &LayerSnapshot) -> f32 {
    let largest = layer
        .neurons
        .iter()
        .flat_map(|neuron| neuron.response.iter())
        .filter(|v| v.is_finite())
        .fold(0.0_f32, |m, v| m.max(v.abs()));
    if largest > 0.0 { largest } else { 1.0 }
}

/// The largest finite |value| of a curve (1 when all are zero).
fn curve_scale(values: &[f32]) -> f32 {
    let largest = values.iter().filter(|v| v.is_finite()).fold(0.0_f32, |m, v| m.max(v.abs()));
    if largest > 0.0 { largest } else { 1.0 }
}

/// A response on the `side × side` grid as an image, values divided by `scale`.
fn response_image(values: &[f32], side: usize, scale: f32) -> egui::ColorImage {
    if side == 0 || values.len() != side * side {
        return egui::ColorImage::filled([1, 1], Color32::GRAY);
    }
    egui::ColorImage::new([side, side], values.iter().map(|&v| diverging_color(v / scale)).collect())
}

/// The input `axis` (0: x1, left to right; 1: x2, bottom to top) on the grid.
fn input_image(side: usize, axis: usize) -> egui::ColorImage {
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
fn update_textures(
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

//! Where the tiles go: columns, tile sizes and the fonts that follow the text size.

use egui::{FontId, Rect, Vec2, pos2};

use super::TileKind;
use crate::app::shared::ViewSettings;
use crate::train::Snapshot;

/// The largest tile side, in points.
pub(super) const MAX_TILE: f32 = 120.0;

/// The smallest tile side, in points.
pub(super) const MIN_TILE: f32 = 10.0;

/// Below this tile side the state word under a tile is left out (the frame and mark remain).
pub(super) const MIN_LABELLED_TILE: f32 = 22.0;

/// The tile side a layer too wide to show whole gets: a window of tiles this size (or more
/// rows, to match a narrower layer shown whole), the rest in its strip.
pub(super) const WINDOW_TILE: f32 = 20.0;

/// The geometry of the view.
pub(super) struct Layout {
    /// The side of a tile.
    pub(super) tile: f32,
    /// The distance between the tops of two tiles of a column.
    pub(super) pitch: f32,
    /// Where tiles start, below the column headers.
    pub(super) body: Rect,
    /// The x of each column's centre.
    pub(super) column_x: Vec<f32>,
    /// Tiles per column.
    pub(super) counts: Vec<usize>,
    /// The neuron of each column's first tile (0 but for a layer shown through a window).
    pub(super) firsts: Vec<usize>,
    /// Neurons per column, shown or not.
    pub(super) widths: Vec<usize>,
}

impl Layout {
    /// The rectangle of the tile of neuron `neuron` of column `column`.
    pub(super) fn tile_rect(&self, column: usize, neuron: usize) -> Rect {
        let row = neuron.saturating_sub(self.firsts.get(column).copied().unwrap_or(0));
        let count = self.counts.get(column).copied().unwrap_or(1) as f32;
        let top = self.body.center().y - count * self.pitch / 2.0 + (self.pitch - self.tile) / 2.0;
        let x = self.column_x.get(column).copied().unwrap_or(self.body.center().x);
        Rect::from_center_size(pos2(x, top + row as f32 * self.pitch + self.tile / 2.0), Vec2::splat(self.tile))
    }

    /// Whether neuron `neuron` of `column` has a tile.
    pub(super) fn has_tile(&self, column: usize, neuron: usize) -> bool {
        let first = self.firsts.get(column).copied().unwrap_or(0);
        (first..first + self.counts.get(column).copied().unwrap_or(0)).contains(&neuron)
    }

    /// Whether `column` shows only some of its neurons (and so has a strip for the rest).
    pub(super) fn is_windowed(&self, column: usize) -> bool {
        self.counts.get(column) < self.widths.get(column)
    }
}

/// Sizes that follow the text size (larger in presentation mode).
pub(super) struct Fonts {
    pub(super) header: FontId,
    pub(super) label: FontId,
    pub(super) frame: f32,
    /// The room under a tile before the next one (set once the layout is known).
    pub(super) gap_below: f32,
    /// The share of a row's height a tile takes. Presenting, tiles take more of it (the state
    /// word goes on a band across a tile's foot): the neurons are what the room has to see.
    pub(super) tile_share: f32,
}

impl Fonts {
    pub(super) fn new(ui: &egui::Ui, settings: &ViewSettings) -> Self {
        let body = ui.style().text_styles.get(&egui::TextStyle::Body).map_or(14.0, |font| font.size);
        Self {
            header: FontId::proportional(body),
            label: FontId::proportional((body * 0.85).max(11.0)),
            frame: if settings.presentation { 4.0 } else { 3.0 },
            gap_below: 0.0,
            tile_share: if settings.presentation { 0.88 } else { 0.78 },
        }
    }
}

/// The rectangle of tile `kind`.
pub(super) fn tile_rect(layout: &Layout, kind: TileKind, snapshot: &Snapshot) -> Rect {
    match kind {
        TileKind::Input(axis) => layout.tile_rect(0, axis),
        TileKind::Hidden((layer, neuron)) => layout.tile_rect(layer + 1, neuron),
        TileKind::Output => layout.tile_rect(snapshot.layers.len() + 1, 0),
    }
}

/// How many rows of tiles `body_height` holds: at the least tile size, and at the size a
/// window of a wide layer gets.
fn rows_that_fit(body_height: f32) -> (usize, usize) {
    let at_least = (body_height / (MIN_TILE + 2.0)).floor().max(1.0) as usize;
    let window = (body_height * 0.78 / WINDOW_TILE).floor().max(1.0) as usize;
    (at_least, window.min(at_least))
}

/// The most tiles one column shows, and so the neurons of each layer the trainer draws.
pub(crate) const TILES_PER_LAYER: usize = 64;

/// Places the columns and sizes the tiles to fit `rect`: tiles take most of each row's height
/// (the state word goes under a tile when the gap allows, on a band across it otherwise). A
/// layer with more neurons than fit at the least tile size shows a window of them from its
/// neuron `firsts[layer]` (see [`super::window`]).
pub(super) fn layout(snapshot: &Snapshot, rect: Rect, legend_height: f32, fonts: &Fonts, firsts: &[usize]) -> Layout {
    let inputs = if snapshot.grid.is_plane { 2 } else { 1 };
    let header = fonts.header.size + fonts.label.size + 12.0;
    let body =
        Rect::from_min_max(pos2(rect.left(), rect.top() + header), pos2(rect.right(), rect.bottom() - legend_height));
    let (at_least, window) = rows_that_fit(body.height());
    let at_least = at_least.min(TILES_PER_LAYER);
    let widths: Vec<usize> = snapshot.layers.iter().map(|layer| layer.neurons.len().max(1)).collect();
    let whole = widths.iter().copied().filter(|&width| width <= at_least).max().unwrap_or(1);
    let window = window.max(whole).min(TILES_PER_LAYER);
    let mut counts = vec![inputs];
    let mut column_firsts = vec![0];
    for (index, &width) in widths.iter().enumerate() {
        let count = if width <= at_least { width } else { window };
        counts.push(count);
        column_firsts.push(firsts.get(index).copied().unwrap_or(0).min(width - count));
    }
    counts.push(1);
    column_firsts.push(0);
    let mut all_widths = vec![inputs];
    all_widths.extend(&widths);
    all_widths.push(1);
    let column_width = rect.width() / counts.len() as f32;
    let rows = counts.iter().copied().max().unwrap_or(1) as f32;
    let pitch = body.height() / rows;
    let tile = (pitch * fonts.tile_share).min(column_width * 0.62).clamp(MIN_TILE, MAX_TILE);
    let pitch = pitch.min(tile + fonts.label.size + 8.0 + tile * 0.15).max(tile + 2.0);
    let column_x = (0..counts.len()).map(|i| rect.left() + column_width * (i as f32 + 0.5)).collect();
    Layout { tile, pitch, body, column_x, counts, firsts: column_firsts, widths: all_widths }
}

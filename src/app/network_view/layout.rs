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
}

impl Layout {
    /// The rectangle of tile `row` of column `column`.
    pub(super) fn tile_rect(&self, column: usize, row: usize) -> Rect {
        let count = self.counts.get(column).copied().unwrap_or(1) as f32;
        let top = self.body.center().y - count * self.pitch / 2.0 + (self.pitch - self.tile) / 2.0;
        let x = self.column_x.get(column).copied().unwrap_or(self.body.center().x);
        Rect::from_center_size(pos2(x, top + row as f32 * self.pitch + self.tile / 2.0), Vec2::splat(self.tile))
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

/// Places the columns and sizes the tiles to fit `rect`: tiles take most of each row's height
/// (the state word goes under a tile when the gap allows, on a band across it otherwise).
pub(super) fn layout(snapshot: &Snapshot, rect: Rect, legend_height: f32, fonts: &Fonts) -> Layout {
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
    let tile = (pitch * fonts.tile_share).min(column_width * 0.62).clamp(MIN_TILE, MAX_TILE);
    let pitch = pitch.min(tile + fonts.label.size + 8.0 + tile * 0.15).max(tile + 2.0);
    let column_x = (0..counts.len()).map(|i| rect.left() + column_width * (i as f32 + 0.5)).collect();
    Layout { tile, pitch, body, column_x, counts }
}

//! A layer too wide to show whole (up to 512 neurons, 32 layers of them): a window of tiles,
//! and beside it a strip with every neuron of the layer as a line in its state's colour, so a
//! student sees at once how many died and where, and can bring any of them into view (scroll
//! over the column, or click or drag on the strip). The trainer computes the pictures of the
//! tiles on screen only (`WorkerCommand::ShowNeurons`): what a snapshot costs follows what
//! the screen shows, not the network's size.

use std::cell::RefCell;
use std::rc::Rc;

use egui::{Rect, Sense, Stroke, StrokeKind, pos2, vec2};

use super::layout::{Layout, TILES_PER_LAYER};
use crate::app::shared::{Intent, NeuronId, ViewSettings, state_color};
use crate::nn::NeuronState;
use crate::train::snapshot::{LayerSnapshot, NeuronRange, ShownNeurons};
use crate::train::{Snapshot, WorkerCommand};

/// The strip's width, in points.
const STRIP_WIDTH: f32 = 6.0;

/// Which neurons of each wide layer the tiles show, shared by the views that draw the same
/// network side by side (a comparison's A and B), and what was last asked of the trainer.
#[derive(Debug, Default)]
pub(super) struct NeuronWindows {
    /// Per hidden layer, the first neuron of its window, as the user moved it.
    firsts: Vec<usize>,
    /// The neurons last asked of the trainer.
    last_asked: Option<ShownNeurons>,
    /// Scrolled rows not moved yet (a smooth scroll comes in fractions of a row).
    scrolled_rows: f32,
}

/// [`NeuronWindows`] shared between views.
pub(super) type SharedWindows = Rc<RefCell<NeuronWindows>>;

impl NeuronWindows {
    /// Per hidden layer, the first neuron of its window.
    pub(super) fn firsts(&self) -> &[usize] {
        &self.firsts
    }

    /// The command that tells the trainer which neurons to draw, if that changed: each layer's
    /// window and the selected neuron.
    pub(super) fn request(&mut self, layers: usize, selected: Option<NeuronId>) -> Option<Intent> {
        self.firsts.resize(layers, 0);
        let shown = ShownNeurons {
            layers: self.firsts.iter().map(|&first| NeuronRange { first, count: TILES_PER_LAYER }).collect(),
            selected,
        };
        if self.last_asked.as_ref() == Some(&shown) {
            return None;
        }
        self.last_asked = Some(shown.clone());
        Some(Intent::Trainer(WorkerCommand::ShowNeurons(shown)))
    }

    /// Moves the window of `layer` to start at `first` (cut to fit its `width`).
    fn move_to(&mut self, layer: usize, first: usize, count: usize, width: usize) {
        if self.firsts.len() <= layer {
            self.firsts.resize(layer + 1, 0);
        }
        self.firsts[layer] = first.min(width.saturating_sub(count));
    }
}

/// The strips of every windowed layer: painted, and moving the windows when scrolled over the
/// column, clicked or dragged.
pub(super) fn strips_ui(
    ui: &egui::Ui,
    snapshot: &Snapshot,
    layout: &Layout,
    windows: &SharedWindows,
    settings: &ViewSettings,
) {
    for (index, layer) in snapshot.layers.iter().enumerate() {
        let column = index + 1;
        if !layout.is_windowed(column) {
            continue;
        }
        let count = layout.counts[column];
        let first = layout.firsts[column];
        let width = layer.neurons.len();
        let strip = strip_rect(layout, column);
        let id = ui.scope_id().with(("neuron_strip", index));
        let response = ui.interact(strip.expand2(vec2(3.0, 0.0)), id, Sense::click_and_drag());
        let label = strip_label(layer, index, first, count);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::ScrollBar, true, &label));
        paint_strip(ui, strip, layer, first, count, settings);
        let mut windows = windows.borrow_mut();
        if let Some(pointer) = response.interact_pointer_pos()
            && (response.clicked() || response.dragged())
        {
            let neuron = (((pointer.y - strip.top()) / strip.height()).clamp(0.0, 1.0) * width as f32) as usize;
            windows.move_to(index, neuron.saturating_sub(count / 2), count, width);
        }
        let column_rect = Rect::from_x_y_ranges(
            (layout.column_x[column] - layout.tile)..=(strip.right() + 4.0),
            layout.body.y_range(),
        );
        let scroll = ui.input(|input| input.smooth_scroll_delta.y);
        if scroll != 0.0 && ui.rect_contains_pointer(column_rect) {
            windows.scrolled_rows -= scroll / layout.pitch;
            let rows = windows.scrolled_rows.trunc();
            windows.scrolled_rows -= rows;
            let current = windows.firsts().get(index).copied().unwrap_or(first);
            let moved = current.saturating_add_signed(rows as isize);
            windows.move_to(index, moved, count, width);
        }
        drop(windows);
        response.on_hover_text(format!(
            "{label}.\nEach line is one neuron, in its state's colour; the frame marks the tiles on \
             screen. Scroll over the column, or click or drag here, to see others."
        ));
    }
}

/// Where the strip of `column` goes: right of its tiles, as tall as the network's body.
fn strip_rect(layout: &Layout, column: usize) -> Rect {
    let x = layout.column_x[column] + layout.tile / 2.0 + 6.0;
    Rect::from_x_y_ranges(x..=x + STRIP_WIDTH, layout.body.top() + 2.0..=layout.body.bottom() - 2.0)
}

/// "Layer 2: neurons 1–17 of 512 on screen; 480 alive, 32 dead".
pub(super) fn strip_label(layer: &LayerSnapshot, index: usize, first: usize, count: usize) -> String {
    let states: Vec<String> = NeuronState::ALL
        .iter()
        .filter(|state| layer.state_counts[state.index()] > 0)
        .map(|state| format!("{} {}", layer.state_counts[state.index()], state.label()))
        .collect();
    format!(
        "Layer {}: neurons {}–{} of {} on screen; {}",
        index + 1,
        first + 1,
        first + count,
        layer.neurons.len(),
        states.join(", ")
    )
}

/// The worse of two states for a line of the strip that stands for several neurons: what a
/// student should not miss wins (NaN, then dead, below zero, dying, saturated, alive).
fn worse(a: NeuronState, b: NeuronState) -> NeuronState {
    let rank = |state: NeuronState| match state {
        NeuronState::NotFinite => 5,
        NeuronState::Dead => 4,
        NeuronState::BelowZero => 3,
        NeuronState::Dying => 2,
        NeuronState::Saturated => 1,
        NeuronState::Alive => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// One line per neuron (per pixel row where they are more than the strip is tall, showing the
/// worst of them), and a frame around the neurons whose tiles are on screen.
fn paint_strip(ui: &egui::Ui, strip: Rect, layer: &LayerSnapshot, first: usize, count: usize, settings: &ViewSettings) {
    let painter = ui.painter();
    let width = layer.neurons.len().max(1);
    let rows = (strip.height().floor() as usize).clamp(1, width);
    let row_height = strip.height() / rows as f32;
    painter.rect_filled(strip.expand(1.0), 1.0, ui.visuals().extreme_bg_color);
    let mut runs: Vec<(usize, usize, NeuronState)> = Vec::new();
    for row in 0..rows {
        let neurons = (row * width / rows)..((row + 1) * width / rows).max(row * width / rows + 1);
        let state = layer.neurons[neurons].iter().map(|n| n.state).fold(NeuronState::Alive, worse);
        match runs.last_mut() {
            Some((_, end, last)) if *last == state => *end = row + 1,
            _ => runs.push((row, row + 1, state)),
        }
    }
    for (start, end, state) in runs {
        let color = if state == NeuronState::Alive {
            state_color(state, settings).gamma_multiply(0.55)
        } else {
            state_color(state, settings)
        };
        let rect = Rect::from_min_max(
            pos2(strip.left(), strip.top() + start as f32 * row_height),
            pos2(strip.right(), strip.top() + end as f32 * row_height),
        );
        painter.rect_filled(rect, 0.0, color);
    }
    let top = strip.top() + first as f32 / width as f32 * strip.height();
    let bottom = strip.top() + (first + count) as f32 / width as f32 * strip.height();
    let thumb = Rect::from_min_max(pos2(strip.left() - 2.0, top), pos2(strip.right() + 2.0, bottom.max(top + 2.0)));
    painter.rect_stroke(thumb, 1.0, Stroke::new(1.5, ui.visuals().strong_text_color()), StrokeKind::Outside);
}

//! What the network computes: for 2-D sets the decision surface (the probability of class 1 as
//! a heat image, with a colour bar under it that reads the colours back as 0, 0.5 and 1) with
//! the training points as filled dots and the test points as rings; for 1-D sets the fitted
//! curve through the data. Legends sit above the plots, never on the data.

use egui::{Color32, RichText, Vec2};
use egui_plot::{Line, MarkerShape, PlotImage, PlotPoint, Points};

use super::plots::{cached_texture, fixed_plot, legend_ui, title_ui};
use super::shared::{ViewSettings, diverging_color, state_color};
use crate::nn::NeuronState;
use crate::train::figures::{Figure, format_significant};
use crate::train::{Evaluation, Snapshot};

/// Class 1 (and positive values): the blue end of the diverging palette.
pub const CLASS_ONE_COLOR: Color32 = Color32::from_rgb(8, 119, 189);
/// Class 0 (and negative values): the orange end.
pub const CLASS_ZERO_COLOR: Color32 = Color32::from_rgb(235, 125, 20);
/// The colour of the fitted curve.
const FIT_COLOR: Color32 = Color32::from_rgb(0, 158, 115);
/// The height of the colour bar's gradient, in points.
const COLOR_BAR_HEIGHT: f32 = 10.0;
/// The colour bar's width as a share of the map's.
const COLOR_BAR_SHARE: f32 = 0.7;
/// Slices the colour bar's gradient is drawn in (the palette is piecewise linear, so an even
/// number puts a seam exactly at white).
const COLOR_BAR_SLICES: usize = 64;

/// The output view's title: the plane's in full when it fits on one line, else its short form.
fn output_title(ui: &egui::Ui, is_plane: bool) -> &'static str {
    const FULL: &str = "Output: probability of class 1";
    if !is_plane {
        return "Output: the fitted curve";
    }
    let font = egui::TextStyle::Body.resolve(ui.style());
    let width = ui.fonts_mut(|fonts| fonts.layout_no_wrap(FULL.to_owned(), font, egui::Color32::WHITE).size().x);
    // Strong text is a little wider than the body font measured here.
    if width * 1.05 <= ui.available_width() { FULL } else { "Output: P(class 1)" }
}

/// Draws the output view for `snapshot`.
pub fn output_ui(ui: &mut egui::Ui, snapshot: &Snapshot, settings: &ViewSettings) {
    title_ui(ui, output_title(ui, snapshot.grid.is_plane));
    ui.label(summary(snapshot));
    if snapshot.is_collapsed() {
        let color = state_color(NeuronState::Dead, settings);
        ui.label(RichText::new("✖ A whole layer is dead: the output is the same on every training input").color(color));
    }
    if snapshot.grid.is_plane {
        legend_ui(
            ui,
            &[
                ("●", "train".to_owned(), ui.visuals().text_color()),
                ("○", "test".to_owned(), ui.visuals().text_color()),
                ("■", "class 1".to_owned(), CLASS_ONE_COLOR),
                ("■", "class 0".to_owned(), CLASS_ZERO_COLOR),
            ],
        );
        let reserve = color_bar_height(ui);
        let map = surface_ui(ui, snapshot, settings, reserve);
        color_bar_ui(ui, map);
    } else {
        curve_ui(ui, snapshot, settings);
    }
}

/// The output map (or curve) of one branch of a comparison, without the legend and colour
/// scale the main view explains it with.
pub fn compact_output_map_ui(ui: &mut egui::Ui, snapshot: &Snapshot, settings: &ViewSettings) {
    // Centred and not stretched (a column's layout is justified), so the plane stays square.
    ui.with_layout(egui::Layout::top_down(egui::Align::Center), |ui| {
        if snapshot.grid.is_plane {
            surface_ui(ui, snapshot, settings, 0.0);
        } else {
            curve_ui(ui, snapshot, settings);
        }
    });
}

/// The output's numbers in a line, and a warning when a whole layer is dead.
pub fn output_summary_ui(ui: &mut egui::Ui, snapshot: &Snapshot, settings: &ViewSettings) {
    ui.label(summary(snapshot));
    if snapshot.is_collapsed() {
        let color = state_color(NeuronState::Dead, settings);
        ui.label(RichText::new("✖ A whole layer is dead: the output is constant").color(color));
    }
}

/// Losses and accuracies in one line, written as the lessons' texts write them (three
/// significant digits, "1.97e-5"; "45.6%"), so the screen and the text show the same figure.
fn summary(snapshot: &Snapshot) -> String {
    let evaluation = &snapshot.evaluation;
    let losses = format!(
        "Train loss {} · test loss {}",
        format_significant(evaluation.train_loss),
        format_significant(evaluation.test_loss)
    );
    match test_accuracy_text(evaluation) {
        Some(accuracy) => format!("{losses} · test accuracy {accuracy}"),
        None => losses,
    }
}

/// The test accuracy as the screen shows it ("45.6%"), `None` for a task without one. A network
/// whose losses are no longer numbers predicts nothing (its outputs are NaN, and every point
/// would count as one class): "—".
pub(super) fn test_accuracy_text(evaluation: &Evaluation) -> Option<String> {
    let accuracy = evaluation.test_accuracy?;
    if !evaluation.train_loss.is_finite() {
        return Some("—".to_owned());
    }
    Some(Figure::TestAccuracy.format(accuracy * 100.0))
}

/// The side of the square plot that fits `ui`, leaving `reserve` points below it.
fn square_side(ui: &egui::Ui, reserve: f32) -> f32 {
    ui.available_width().min(ui.available_height() - 4.0 - reserve).max(120.0)
}

/// The height the colour bar takes: its gradient and a row of small labels under it.
fn color_bar_height(ui: &egui::Ui) -> f32 {
    COLOR_BAR_HEIGHT + ui.text_style_height(&egui::TextStyle::Small) + 2.0 * ui.spacing().item_spacing.y
}

/// The colour bar under the map whose frame is `map`: P(class 1) from 0 (orange) through 0.5
/// (white) to 1 (blue), labelled 0, 0.5 and 1, in the map's own palette, starting at the map's
/// left edge.
pub fn color_bar_ui(ui: &mut egui::Ui, map: egui::Rect) {
    let font = egui::TextStyle::Small.resolve(ui.style());
    let size = egui::vec2(ui.available_width(), COLOR_BAR_HEIGHT + ui.text_style_height(&egui::TextStyle::Small));
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    let title = "P(class 1)";
    let title_width = ui.fonts_mut(|f| f.layout_no_wrap(title.to_owned(), font.clone(), Color32::WHITE).size().x);
    let left = map.left().clamp(rect.left() + 12.0, rect.right());
    let room = rect.right() - left - title_width - 16.0;
    let bar_width = (map.width() * COLOR_BAR_SHARE).min(room).max(40.0);
    let bar = egui::Rect::from_min_size(egui::pos2(left, rect.top()), egui::vec2(bar_width, COLOR_BAR_HEIGHT));
    let painter = ui.painter_at(rect);
    paint_gradient(&painter, bar);
    painter.rect_stroke(bar, 0.0, egui::Stroke::new(1.0, ui.visuals().weak_text_color()), egui::StrokeKind::Outside);
    let text_color = ui.visuals().text_color();
    for (value, label) in [(0.0, "0"), (0.5, "0.5"), (1.0, "1")] {
        let x = bar.left() + value * bar.width();
        painter.line_segment([egui::pos2(x, bar.bottom()), egui::pos2(x, bar.bottom() + 3.0)], (1.0, text_color));
        painter.text(egui::pos2(x, bar.bottom() + 2.0), egui::Align2::CENTER_TOP, label, font.clone(), text_color);
    }
    painter.text(bar.right_center() + egui::vec2(10.0, 0.0), egui::Align2::LEFT_CENTER, title, font, text_color);
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, true, "Colour scale P(class 1): 0 orange, 0.5 white, 1 blue")
    });
}

/// The map's palette from P = 0 (left) to P = 1 (right) across `bar`, in thin slices.
fn paint_gradient(painter: &egui::Painter, bar: egui::Rect) {
    for slice in 0..COLOR_BAR_SLICES {
        let (start, end) = (slice as f32 / COLOR_BAR_SLICES as f32, (slice + 1) as f32 / COLOR_BAR_SLICES as f32);
        let x = |t: f32| bar.left() + t * bar.width();
        let piece = egui::Rect::from_x_y_ranges(x(start)..=x(end), bar.y_range());
        painter.rect_filled(piece, 0.0, diverging_color(2.0 * f32::midpoint(start, end) - 1.0));
    }
}

/// The decision surface with the data points, leaving `reserve` points under it; returns the
/// map's frame.
fn surface_ui(ui: &mut egui::Ui, snapshot: &Snapshot, settings: &ViewSettings, reserve: f32) -> egui::Rect {
    let extent = f64::from(snapshot.grid.extent);
    let side = square_side(ui, reserve);
    let key = super::plots::snapshot_fingerprint(snapshot);
    // Scoped by the ui, so the two branches of a comparison keep their own pictures.
    let id = ui.scope_id().with("output_surface");
    let texture = cached_texture(ui, id, key, egui::TextureOptions::LINEAR, || surface_image(snapshot));
    let radius = (side / 90.0).clamp(1.5, if settings.presentation { 5.0 } else { 4.0 });
    let plot = fixed_plot("output_view", "x1", "x2", side)
        .width(side)
        .data_aspect(1.0)
        .show_grid(false)
        .include_x(-extent)
        .include_x(extent)
        .include_y(-extent)
        .include_y(extent);
    plot.show(ui, |plot_ui| {
        let size = Vec2::splat(2.0 * extent as f32);
        plot_ui.image(PlotImage::new("", texture.id(), PlotPoint::new(0.0, 0.0), size));
        for (class, color) in [(0.0, CLASS_ZERO_COLOR), (1.0, CLASS_ONE_COLOR)] {
            let train = points_of(&snapshot.points.train, class, true);
            let test = points_of(&snapshot.points.test, class, true);
            let label = class as u8;
            plot_ui.points(Points::new("", train.clone()).color(Color32::from_gray(30)).radius(radius + 1.0));
            plot_ui.points(Points::new(format!("train, class {label}"), train).color(color).radius(radius));
            plot_ui.points(Points::new("", test.clone()).color(Color32::WHITE).radius(radius));
            let ring = Points::new(format!("test, class {label}"), test).color(color).radius(radius).filled(false);
            plot_ui.points(ring.shape(MarkerShape::Circle));
        }
    })
    .response
    .rect
}

/// `[x, y]` of the points whose target is `class` (2-D), or `[x, target]` of all (1-D).
fn points_of(points: &[[f32; 3]], class: f32, is_plane: bool) -> Vec<[f64; 2]> {
    points
        .iter()
        .filter(|p| !is_plane || (p[2] - class).abs() < 0.5)
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect()
}

/// The probability of class 1 on the grid, `[resolution, resolution]`, row 0 at the top.
fn surface_image(snapshot: &Snapshot) -> egui::ColorImage {
    let side = snapshot.grid.resolution;
    let pixels: Vec<Color32> = snapshot.output.iter().map(|&p| diverging_color(2.0 * p - 1.0)).collect();
    if side > 0 && pixels.len() == side * side {
        egui::ColorImage::new([side, side], pixels)
    } else {
        egui::ColorImage::filled([1, 1], Color32::GRAY)
    }
}

/// The fitted curve with the data points (1-D sets).
fn curve_ui(ui: &mut egui::Ui, snapshot: &Snapshot, settings: &ViewSettings) {
    let extent = f64::from(snapshot.grid.extent);
    let count = snapshot.output.len();
    let fit: Vec<[f64; 2]> = snapshot
        .output
        .iter()
        .enumerate()
        .map(|(i, &y)| [-extent + 2.0 * extent * i as f64 / (count.max(2) - 1) as f64, f64::from(y)])
        .filter(|p| p[1].is_finite())
        .collect();
    let radius = if settings.presentation { 4.0 } else { 3.0 };
    legend_ui(
        ui,
        &[
            ("●", "train".to_owned(), CLASS_ONE_COLOR),
            ("○", "test".to_owned(), CLASS_ZERO_COLOR),
            ("—", "network".to_owned(), FIT_COLOR),
        ],
    );
    let height = (ui.available_height() - 4.0).max(120.0);
    let plot = fixed_plot("output_view", "x", "y", height);
    plot.show(ui, |plot_ui| {
        let train = points_of(&snapshot.points.train, 0.0, false);
        let test = points_of(&snapshot.points.test, 0.0, false);
        plot_ui.points(Points::new("train", train).color(CLASS_ONE_COLOR).radius(radius));
        plot_ui.points(Points::new("test", test).color(CLASS_ZERO_COLOR).radius(radius).filled(false));
        plot_ui.line(Line::new("network", fit).color(FIT_COLOR).width(settings.line_width() * 1.5));
    });
}

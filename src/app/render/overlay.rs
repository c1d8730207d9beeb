//! What a take draws over and under the app: the caption strip (the director's caption, big
//! enough to read at 720p, and the settings line) and the ring that points at a neuron or a
//! plot. Drawn with egui in the same pass as the app, so they are in the same pixels.

use egui::{Color32, CornerRadius, Id, LayerId, Margin, Order, Rect, RichText, Stroke, StrokeKind};

/// The strip's background: dark, so that light text reads on a projector and in a video.
const STRIP_BACKGROUND: Color32 = Color32::from_rgb(16, 18, 22);
/// The caption's colour.
const CAPTION_COLOR: Color32 = Color32::from_gray(240);
/// The settings line's colour.
const SETTINGS_COLOR: Color32 = Color32::from_gray(190);
/// The caption's size in points: at 720p, about 1/28 of the frame's height.
const CAPTION_SIZE: f32 = 26.0;
/// The settings line's size in points.
const SETTINGS_SIZE: f32 = 16.0;
/// The strip's height in points: the same in every frame, so the app above never moves.
const STRIP_HEIGHT: f32 = 74.0;
/// The ring: a colour that reads on both themes and on every neuron state's colour.
const RING_COLOR: Color32 = Color32::from_rgb(255, 196, 0);
/// The ring's line width in points.
const RING_WIDTH: f32 = 5.0;

/// The strip's two lines.
pub(super) struct StripText {
    /// The director's caption, if any.
    pub caption: Option<String>,
    /// The step, activation, learning rate and settings that differ from the start.
    pub settings: String,
}

/// The caption strip along the bottom of the window; returns where it is, in points.
pub(super) fn strip_ui(ui: &mut egui::Ui, text: &StripText) -> Rect {
    let frame = egui::Frame::NONE.fill(STRIP_BACKGROUND).inner_margin(Margin::symmetric(16, 8));
    egui::Panel::bottom("take_caption_strip")
        .resizable(false)
        .exact_size(STRIP_HEIGHT)
        .frame(frame)
        .show(ui, |ui| {
            let caption = text.caption.as_deref().unwrap_or("ReLU Lab");
            ui.add(
                egui::Label::new(RichText::new(caption).size(CAPTION_SIZE).color(CAPTION_COLOR).strong()).truncate(),
            );
            ui.add(
                egui::Label::new(RichText::new(&text.settings).size(SETTINGS_SIZE).color(SETTINGS_COLOR)).truncate(),
            );
        })
        .response
        .rect
}

/// Rings `rect` (in points) on top of everything: a circle around something about square (a
/// neuron's tile), a rounded frame around anything else (a plot, the output view).
pub(super) fn paint_ring(ctx: &egui::Context, rect: Rect) {
    let painter = ctx.layer_painter(LayerId::new(Order::Foreground, Id::unique("take_ring")));
    let stroke = Stroke::new(RING_WIDTH, RING_COLOR);
    let (long, short) = (rect.width().max(rect.height()), rect.width().min(rect.height()).max(1.0));
    if long / short < 1.5 {
        painter.circle_stroke(rect.center(), long * 0.5 * std::f32::consts::SQRT_2 + RING_WIDTH, stroke);
    } else {
        painter.rect_stroke(rect.shrink(RING_WIDTH), CornerRadius::same(10), stroke, StrokeKind::Inside);
    }
}

//! The user's changes on the time plots: each annotation's dashed line gets a small number at
//! the top of the plot ("1", "2", …), and hovering near the line shows what changed. Text
//! labels overlapped each other and the legend as soon as two changes came close; numbers are
//! small, laid out in up to [`MAX_ROWS`] staggered rows (covering at most 40% of the plot's
//! height), and neighbours that still do not fit merge into one range ("3–5"). The layout is a pure function ([`badge_layout`]) so a test
//! can check that no two numbers overlap and all stay inside the plot.

use egui::{Color32, FontId, Rect, Sense, Vec2, pos2, vec2};
use egui_plot::{PlotResponse, PlotTransform};

use crate::train::{Annotation, History};

/// The most rows of numbers.
pub const MAX_ROWS: usize = 3;
/// The width of a digit as a fraction of the font size, with a margin (digits are ~0.55).
const CHAR_WIDTH_EM: f32 = 0.65;
/// Space left and right of a number inside its box, in points.
const PAD_X: f32 = 3.0;
/// Space above and below a number inside its box, in points.
const PAD_Y: f32 = 1.0;
/// Space between two boxes, and between the frame's top and the first row, in points.
const GAP: f32 = 3.0;
/// The most of the frame's height the rows of numbers may cover (one row always, if it fits).
const MAX_HEIGHT_SHARE: f32 = 0.4;
/// How close to a line the pointer must be for its text to show, in points.
const HOVER_RADIUS_POINTS: f32 = 6.0;
/// The colour of a divergence's line.
pub const DIVERGENCE_COLOR: Color32 = Color32::from_rgb(220, 50, 50);

/// One number (or merged range) at the top of the annotation lines.
#[derive(Clone, Debug, PartialEq)]
pub struct AnnotationBadge {
    /// The annotations it stands for: indices into the steps given to [`badge_layout`] (as in
    /// [`History::annotations`]), in step order.
    pub indices: Vec<usize>,
    /// Where it is drawn, in screen points.
    pub rect: Rect,
}

impl AnnotationBadge {
    /// Its text: "3", or "3–5" for a run of neighbours (annotations are numbered from 1).
    pub fn text(&self) -> String {
        badge_text(&self.indices)
    }
}

/// "3" for one index (2), "3–5" for a run, "3, 7" when the indices are not consecutive.
fn badge_text(indices: &[usize]) -> String {
    let (Some(&low), Some(&high)) = (indices.iter().min(), indices.iter().max()) else { return String::new() };
    if low == high {
        format!("{}", low + 1)
    } else if high - low + 1 == indices.len() {
        format!("{}–{}", low + 1, high + 1)
    } else {
        indices.iter().map(|index| (index + 1).to_string()).collect::<Vec<_>>().join(", ")
    }
}

/// The height of a row of numbers in a font of `font_size` points.
fn row_height(font_size: f32) -> f32 {
    font_size * 1.3 + 2.0 * PAD_Y
}

/// The box a number needs.
fn badge_size(text: &str, font_size: f32) -> Vec2 {
    vec2(text.chars().count() as f32 * CHAR_WIDTH_EM * font_size + 2.0 * PAD_X, row_height(font_size))
}

/// A badge being laid out: a run `start..=end` of the visible annotations (sorted by x).
struct Placed {
    start: usize,
    end: usize,
    row: usize,
    rect: Rect,
}

/// The frame's rows and font.
struct Rows {
    frame: Rect,
    font_size: f32,
    count: usize,
}

impl Rows {
    fn new(frame: Rect, font_size: f32) -> Self {
        let height = row_height(font_size) + GAP;
        let rows_in = |room: f32| ((room - GAP) / height).floor().max(0.0) as usize;
        let fitting = rows_in(frame.height());
        let count = rows_in(frame.height() * MAX_HEIGHT_SHARE).max(fitting.min(1)).min(MAX_ROWS);
        Self { frame, font_size, count }
    }

    /// A box for the run `visible[start..=end]`, centred between its first and last line, in
    /// the first row where it clears everything placed so far; `None` when no row has room.
    fn place(&self, placed: &[Placed], visible: &[(usize, f32)], start: usize, end: usize) -> Option<Placed> {
        let indices: Vec<usize> = visible[start..=end].iter().map(|&(index, _)| index).collect();
        let size = badge_size(&badge_text(&indices), self.font_size);
        if size.x > self.frame.width() {
            return None;
        }
        let centre = f32::midpoint(visible[start].1, visible[end].1);
        let left = (centre - size.x / 2.0).clamp(self.frame.left(), self.frame.right() - size.x);
        (0..self.count).find_map(|row| {
            let floor =
                placed.iter().filter(|p| p.row == row).map(|p| p.rect.right()).fold(f32::NEG_INFINITY, f32::max);
            let top = self.frame.top() + GAP + row as f32 * (row_height(self.font_size) + GAP);
            (left >= floor + GAP).then(|| Placed { start, end, row, rect: Rect::from_min_size(pos2(left, top), size) })
        })
    }
}

/// Where the numbers of annotations at `steps` go in a plot `frame` whose x axis maps a step to
/// a screen x by `x_of_step`, in a font of `font_size` points. Annotations whose line is outside
/// the frame get none. Left to right, each number takes the first of up to [`MAX_ROWS`] rows
/// where it clears the numbers already there; when no row has room it merges with the number
/// before it ("3–5"), repeatedly if need be. The boxes never overlap and lie inside `frame`; a
/// frame too small for even one number gets none.
pub fn badge_layout(
    steps: &[u64],
    x_of_step: impl Fn(f64) -> f32,
    frame: Rect,
    font_size: f32,
) -> Vec<AnnotationBadge> {
    let rows = Rows::new(frame, font_size);
    if rows.count == 0 {
        return Vec::new();
    }
    let mut visible: Vec<(usize, f32)> = steps
        .iter()
        .enumerate()
        .map(|(index, &step)| (index, x_of_step(step as f64)))
        .filter(|&(_, x)| x >= frame.left() && x <= frame.right())
        .collect();
    visible.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut placed: Vec<Placed> = Vec::new();
    for end in 0..visible.len() {
        let mut start = end;
        loop {
            if let Some(badge) = rows.place(&placed, &visible, start, end) {
                placed.push(badge);
                break;
            }
            let Some(previous) = placed.pop() else { break };
            start = previous.start;
        }
    }
    placed
        .into_iter()
        .map(|p| AnnotationBadge { indices: visible[p.start..=p.end].iter().map(|&(i, _)| i).collect(), rect: p.rect })
        .collect()
}

/// [`badge_layout`] for a plot's transform.
pub fn badge_layout_for(steps: &[u64], transform: &PlotTransform, font_size: f32) -> Vec<AnnotationBadge> {
    badge_layout(steps, |step| transform.position_from_point_x(step), *transform.frame(), font_size)
}

/// The font of the numbers: the small text style, at least 10 points.
fn badge_font(ui: &egui::Ui) -> FontId {
    FontId::proportional(egui::TextStyle::Small.resolve(ui.style()).size.max(10.0))
}

/// Draws the numbers of `history`'s annotations on a time plot, each with an AccessKit node
/// ("Annotation 3"), and returns the text to show when the pointer is near a line or on a
/// number: one "3: learning rate 0.03 → 3 (step 4200)" per annotation there.
pub fn annotations_ui<R>(
    ui: &egui::Ui,
    response: &PlotResponse<R>,
    history: &History,
    color: Color32,
) -> Option<String> {
    let annotations = &history.annotations;
    if annotations.is_empty() {
        return None;
    }
    let transform = &response.transform;
    let font = badge_font(ui);
    let steps: Vec<u64> = annotations.iter().map(|annotation| annotation.step).collect();
    let badges = badge_layout_for(&steps, transform, font.size);
    let painter = ui.painter_at(*transform.frame());
    let background = ui.visuals().extreme_bg_color.gamma_multiply(0.9);
    for badge in &badges {
        let text = badge.text();
        painter.rect_filled(badge.rect, 3.0, background);
        painter.rect_stroke(badge.rect, 3.0, egui::Stroke::new(1.0, color), egui::StrokeKind::Inside);
        painter.text(badge.rect.center(), egui::Align2::CENTER_CENTER, &text, font.clone(), ui.visuals().text_color());
        let id = response.response.id.with(("annotation", badge.indices.first()));
        let node = ui.interact(badge.rect, id, Sense::hover());
        let label = if badge.indices.len() == 1 { "Annotation" } else { "Annotations" };
        node.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("{label} {text}")));
    }
    let pointer = response.response.hover_pos()?;
    hover_text(annotations, &badges, transform, pointer)
}

/// The text of every annotation whose line is near `pointer` or whose number is under it.
fn hover_text(
    annotations: &[Annotation],
    badges: &[AnnotationBadge],
    transform: &PlotTransform,
    pointer: egui::Pos2,
) -> Option<String> {
    let mut shown: Vec<usize> = (0..annotations.len())
        .filter(|&index| {
            let x = transform.position_from_point_x(annotations[index].step as f64);
            (x - pointer.x).abs() <= HOVER_RADIUS_POINTS
        })
        .collect();
    for badge in badges.iter().filter(|badge| badge.rect.expand(1.0).contains(pointer)) {
        shown.extend(&badge.indices);
    }
    shown.sort_unstable();
    shown.dedup();
    let lines: Vec<String> = shown
        .iter()
        .map(|&index| {
            let annotation = &annotations[index];
            format!("{}: {} (step {})", index + 1, annotation.text, annotation.step)
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Legend entries for the lines every time plot draws: the user's changes (when there are any)
/// and divergences (when the run diverged).
pub fn marker_legend(history: &History, color: Color32) -> Vec<(&'static str, String, Color32)> {
    let mut entries = Vec::new();
    if !history.annotations.is_empty() {
        entries.push(("┆", "your changes (numbered; hover for what)".to_owned(), color));
    }
    if !history.divergences.is_empty() {
        entries.push(("│", "diverged".to_owned(), DIVERGENCE_COLOR));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_texts_number_from_one_and_merge_runs() {
        assert_eq!(badge_text(&[2]), "3");
        assert_eq!(badge_text(&[2, 3, 4]), "3–5");
        assert_eq!(badge_text(&[6, 2]), "7, 3");
        assert_eq!(badge_text(&[]), "");
    }

    #[test]
    fn crowded_lines_merge_into_a_range() {
        // Ten changes within 5 points of each other in a frame too short for more than a row.
        let frame = Rect::from_min_size(pos2(0.0, 0.0), vec2(300.0, 25.0));
        let steps: Vec<u64> = (0..10).collect();
        let badges = badge_layout(&steps, |step| 100.0 + step as f32 * 0.5, frame, 11.0);
        let covered: Vec<usize> = badges.iter().flat_map(|badge| badge.indices.clone()).collect();
        assert_eq!(covered, (0..10).collect::<Vec<_>>(), "every change is in exactly one number");
        assert!(badges.len() < 10, "some merged");
        assert!(badges.iter().any(|badge| badge.text().contains('–')));
    }

    #[test]
    fn numbers_cover_at_most_the_top_of_the_plot() {
        let steps: Vec<u64> = (0..30).collect();
        let crowded = |step: f64| 150.0 + step as f32 * 2.0;
        let tall = Rect::from_min_size(pos2(0.0, 0.0), vec2(300.0, 400.0));
        let badges = badge_layout(&steps, crowded, tall, 11.0);
        let rows = |badges: &[AnnotationBadge]| {
            let mut tops: Vec<i32> = badges.iter().map(|badge| badge.rect.top() as i32).collect();
            tops.sort_unstable();
            tops.dedup();
            tops.len()
        };
        assert_eq!(rows(&badges), MAX_ROWS, "a tall plot staggers in every row");
        assert!(badges.iter().all(|badge| badge.rect.bottom() <= tall.top() + 0.4 * tall.height()));
        let short = Rect::from_min_size(pos2(0.0, 0.0), vec2(300.0, 60.0));
        let badges = badge_layout(&steps, crowded, short, 11.0);
        assert_eq!(rows(&badges), 1, "a short plot keeps one row");
    }

    #[test]
    fn lines_outside_the_frame_get_no_number() {
        let frame = Rect::from_min_size(pos2(10.0, 0.0), vec2(100.0, 80.0));
        let badges = badge_layout(&[0, 50, 500], |step| step as f32, frame, 11.0);
        assert_eq!(badges.len(), 1);
        assert_eq!(badges[0].indices, vec![1]);
        assert!((badges[0].rect.center().x - 50.0).abs() < 0.01, "centred on its line");
    }
}

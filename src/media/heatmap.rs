//! A heatmap image drawn headless: a grid of cells coloured by a value in `[0, 1]`, each with
//! its figures written in, labelled axes and a colour bar, in the built-in bitmap font. The
//! same heatmap always gives the same pixels.

use super::RgbaImage;
use super::bitmap_font::{Direction, draw_text, fill, text_height, text_width};

/// What to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// The line above the grid.
    pub title: String,
    /// The second line above the grid (smaller print: what was run).
    pub subtitle: String,
    /// Under the x ticks.
    pub x_label: String,
    /// Beside the y ticks, written upwards.
    pub y_label: String,
    /// One per column, left to right.
    pub x_ticks: Vec<String>,
    /// One per row, top to bottom.
    pub y_ticks: Vec<String>,
    /// Row by row from the top: `y_ticks.len() * x_ticks.len()` cells; `None` for one not
    /// computed (drawn hatched grey).
    pub cells: Vec<Option<HeatCell>>,
    /// What the colour means, beside the colour bar.
    pub color_label: String,
}

/// One cell: its colour's value and the lines written in it.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatCell {
    /// In `[0, 1]` (clamped).
    pub value: f64,
    /// Written centred, top to bottom; the first larger.
    pub lines: Vec<String>,
}

/// The font's pixel size for labels and cell text.
const SCALE: usize = 2;
const MARGIN: usize = 24;
const LINE_GAP: usize = 6;
const CELL_PADDING: usize = 14;
const BAR_WIDTH: usize = 24;
const WHITE: [u8; 4] = [255, 255, 255, 255];
const INK: [u8; 4] = [20, 20, 20, 255];
const GRID_LINE: [u8; 4] = [255, 255, 255, 255];

/// Stops of the colour map, from 0 to 1: pale yellow to dark red (ColorBrewer's YlOrRd), so
/// that more death reads as darker and hotter, in print and under colour-vision deficiencies.
const STOPS: [[u8; 3]; 6] =
    [[255, 255, 204], [254, 217, 118], [253, 141, 60], [240, 59, 32], [189, 0, 38], [110, 0, 30]];

/// The colour of `value` (clamped to `[0, 1]`).
pub(crate) fn color_of(value: f64) -> [u8; 4] {
    let t = if value.is_finite() { value.clamp(0.0, 1.0) } else { 0.0 } * (STOPS.len() - 1) as f64;
    let index = (t.floor() as usize).min(STOPS.len() - 2);
    let local = t - index as f64;
    let (a, b) = (STOPS[index], STOPS[index + 1]);
    let mix = |i: usize| (f64::from(a[i]) + (f64::from(b[i]) - f64::from(a[i])) * local).round() as u8;
    [mix(0), mix(1), mix(2), 255]
}

/// Dark text on light colours, white on dark ones.
fn ink_on(background: [u8; 4]) -> [u8; 4] {
    let luminance =
        0.299 * f64::from(background[0]) + 0.587 * f64::from(background[1]) + 0.114 * f64::from(background[2]);
    if luminance > 140.0 { INK } else { WHITE }
}

/// Where the parts of the picture go.
struct Frame {
    cell_width: usize,
    cell_height: usize,
    grid_left: usize,
    grid_top: usize,
    columns: usize,
    rows: usize,
    bar_left: usize,
    width: usize,
    height: usize,
}

impl Heatmap {
    fn frame(&self) -> Frame {
        let line = text_height(SCALE) + LINE_GAP;
        let widest_line =
            self.cells.iter().flatten().flat_map(|cell| cell.lines.iter()).map(|l| text_width(l, SCALE)).max();
        let widest_tick = self.x_ticks.iter().map(|tick| text_width(tick, SCALE)).max().unwrap_or(0);
        let cell_width = widest_line.unwrap_or(0).max(widest_tick).max(60) + 2 * CELL_PADDING;
        let most_lines = self.cells.iter().flatten().map(|cell| cell.lines.len()).max().unwrap_or(1);
        let cell_height = most_lines * line + 2 * CELL_PADDING;
        let y_tick_width = self.y_ticks.iter().map(|tick| text_width(tick, SCALE)).max().unwrap_or(0);
        let grid_left = MARGIN + text_height(SCALE) + 2 * LINE_GAP + y_tick_width + LINE_GAP;
        let grid_top = MARGIN + 2 * line + LINE_GAP;
        let (columns, rows) = (self.x_ticks.len().max(1), self.y_ticks.len().max(1));
        let bar_left = grid_left + columns * cell_width + 3 * LINE_GAP;
        let bar_labels = ["0%", "50%", "100%"].iter().map(|t| text_width(t, SCALE)).max().unwrap_or(0);
        let color_label_width = text_height(SCALE);
        let width = (bar_left + BAR_WIDTH + 4 + LINE_GAP + bar_labels + 2 * LINE_GAP + color_label_width + MARGIN)
            .max(MARGIN * 2 + text_width(&self.title, SCALE))
            .max(MARGIN * 2 + text_width(&self.subtitle, 1));
        let grid_height = rows * cell_height;
        let height =
            (grid_top + grid_height + 2 * line + MARGIN).max(grid_top + text_width(&self.color_label, SCALE) + MARGIN);
        Frame { cell_width, cell_height, grid_left, grid_top, columns, rows, bar_left, width, height }
    }

    /// The picture.
    pub fn draw(&self) -> RgbaImage {
        let frame = self.frame();
        let mut image = RgbaImage::filled(frame.width, frame.height, WHITE);
        draw_text(&mut image, &self.title, MARGIN, MARGIN, SCALE, INK, Direction::Across);
        let subtitle_top = MARGIN + text_height(SCALE) + LINE_GAP;
        draw_text(&mut image, &self.subtitle, MARGIN, subtitle_top, 1, INK, Direction::Across);
        self.draw_cells(&mut image, &frame);
        self.draw_axes(&mut image, &frame);
        self.draw_color_bar(&mut image, &frame);
        image
    }

    fn draw_cells(&self, image: &mut RgbaImage, frame: &Frame) {
        let line = text_height(SCALE) + LINE_GAP;
        for row in 0..frame.rows {
            for column in 0..frame.columns {
                let (left, top) =
                    (frame.grid_left + column * frame.cell_width, frame.grid_top + row * frame.cell_height);
                let Some(Some(cell)) = self.cells.get(row * frame.columns + column) else {
                    hatch(image, left, top, frame.cell_width, frame.cell_height);
                    continue;
                };
                let background = color_of(cell.value);
                fill(image, left, top, frame.cell_width, frame.cell_height, background);
                let ink = ink_on(background);
                let text_top = top + usize::midpoint(frame.cell_height - cell.lines.len() * line, LINE_GAP);
                for (index, text) in cell.lines.iter().enumerate() {
                    let x = left + frame.cell_width.saturating_sub(text_width(text, SCALE)) / 2;
                    draw_text(image, text, x, text_top + index * line, SCALE, ink, Direction::Across);
                }
                // A thin white grid between cells.
                fill(image, left, top, frame.cell_width, 1, GRID_LINE);
                fill(image, left, top, 1, frame.cell_height, GRID_LINE);
            }
        }
    }

    fn draw_axes(&self, image: &mut RgbaImage, frame: &Frame) {
        let grid_bottom = frame.grid_top + frame.rows * frame.cell_height;
        for (column, tick) in self.x_ticks.iter().enumerate() {
            let centre = frame.grid_left + column * frame.cell_width + frame.cell_width / 2;
            let x = centre.saturating_sub(text_width(tick, SCALE) / 2);
            draw_text(image, tick, x, grid_bottom + LINE_GAP, SCALE, INK, Direction::Across);
        }
        let x_label_top = grid_bottom + text_height(SCALE) + 3 * LINE_GAP;
        let grid_centre = frame.grid_left + frame.columns * frame.cell_width / 2;
        let x = grid_centre.saturating_sub(text_width(&self.x_label, SCALE) / 2);
        draw_text(image, &self.x_label, x, x_label_top, SCALE, INK, Direction::Across);
        for (row, tick) in self.y_ticks.iter().enumerate() {
            let middle = frame.grid_top + row * frame.cell_height + frame.cell_height / 2;
            let x = frame.grid_left.saturating_sub(LINE_GAP + text_width(tick, SCALE));
            draw_text(image, tick, x, middle.saturating_sub(text_height(SCALE) / 2), SCALE, INK, Direction::Across);
        }
        let grid_middle = frame.grid_top + frame.rows * frame.cell_height / 2;
        let y = grid_middle.saturating_sub(text_width(&self.y_label, SCALE) / 2);
        draw_text(image, &self.y_label, MARGIN, y, SCALE, INK, Direction::Up);
    }

    fn draw_color_bar(&self, image: &mut RgbaImage, frame: &Frame) {
        let (top, height) = (frame.grid_top, (frame.rows * frame.cell_height).max(60));
        for offset in 0..height {
            // Top is 1, bottom 0.
            let value = 1.0 - offset as f64 / (height - 1).max(1) as f64;
            fill(image, frame.bar_left, top + offset, BAR_WIDTH, 1, color_of(value));
        }
        let label_left = frame.bar_left + BAR_WIDTH + 4 + LINE_GAP;
        for (text, share) in [("100%", 0.0), ("50%", 0.5), ("0%", 1.0)] {
            let y = top + ((height - 1) as f64 * share) as usize;
            fill(image, frame.bar_left + BAR_WIDTH, y, 4, 1, INK);
            draw_text(image, text, label_left, y.saturating_sub(text_height(SCALE) / 2), SCALE, INK, Direction::Across);
        }
        let widest = text_width("100%", SCALE);
        let x = label_left + widest + 2 * LINE_GAP;
        let y = top + height / 2;
        let y = y.saturating_sub(text_width(&self.color_label, SCALE) / 2);
        draw_text(image, &self.color_label, x, y, SCALE, INK, Direction::Up);
    }
}

/// A cell not computed: light grey with diagonal lines.
fn hatch(image: &mut RgbaImage, left: usize, top: usize, width: usize, height: usize) {
    fill(image, left, top, width, height, [235, 235, 235, 255]);
    for row in 0..height {
        for column in 0..width {
            if (row + column) % 12 == 0 {
                fill(image, left + column, top + row, 1, 1, [200, 200, 200, 255]);
            }
        }
    }
    fill(image, left, top, width, 1, GRID_LINE);
    fill(image, left, top, 1, height, GRID_LINE);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(image: &RgbaImage, x: usize, y: usize) -> [u8; 4] {
        let at = (y * image.width + x) * 4;
        [image.pixels[at], image.pixels[at + 1], image.pixels[at + 2], image.pixels[at + 3]]
    }

    #[test]
    fn the_colour_map_runs_from_pale_to_dark() {
        assert_eq!(color_of(0.0), [255, 255, 204, 255]);
        assert_eq!(color_of(1.0), [110, 0, 30, 255]);
        let brightness = |c: [u8; 4]| u32::from(c[0]) + u32::from(c[1]) + u32::from(c[2]);
        let values: Vec<u32> = (0..=20).map(|i| brightness(color_of(f64::from(i) / 20.0))).collect();
        assert!(values.windows(2).all(|pair| pair[1] <= pair[0]), "{values:?}");
        assert_eq!(color_of(f64::NAN), color_of(0.0));
    }

    #[test]
    fn each_cell_takes_its_colour_and_a_missing_one_is_hatched() {
        let heatmap = Heatmap {
            title: "Title".to_owned(),
            subtitle: "sub".to_owned(),
            x_label: "x".to_owned(),
            y_label: "y".to_owned(),
            x_ticks: vec!["a".to_owned(), "b".to_owned()],
            y_ticks: vec!["c".to_owned()],
            cells: vec![Some(HeatCell { value: 1.0, lines: vec!["9".to_owned()] }), None],
            color_label: "dead".to_owned(),
        };
        let image = heatmap.draw();
        let frame = heatmap.frame();
        assert_eq!((image.width, image.height), (frame.width, frame.height));
        let (x, y) = (frame.grid_left + 3, frame.grid_top + 3);
        assert_eq!(pixel(&image, x, y), color_of(1.0));
        assert_eq!(pixel(&image, x + frame.cell_width + 1, y), [235, 235, 235, 255]);
        assert_eq!(heatmap.draw(), image, "the same heatmap, the same pixels");
    }
}

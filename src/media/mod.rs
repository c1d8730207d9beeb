//! Images and recordings: PNG images and GIF recordings (encoded on a background thread, or in
//! memory a frame at a time where there are no threads), with caption strips appended below
//! the picture. Works on plain RGBA pixels, so it knows nothing of the UI that captures them
//! (nor of its fonts: captions are drawn by a [`CaptionPainter`] the UI supplies).

pub mod bitmap_font;
pub mod caption;
pub mod director;
pub mod gif_recorder;
pub mod heatmap;
pub mod png_file;
pub mod video;

pub use caption::{CaptionPainter, StripMismatch, captioned};
pub use gif_recorder::{GifRecorder, GifSettings, RecorderStatus};
pub use png_file::{PngError, encode_png, write_png};

/// An image: RGBA, 8 bits per channel, row-major from the top-left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbaImage {
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `width * height * 4` bytes.
    pub pixels: Vec<u8>,
}

impl RgbaImage {
    /// An image of one colour.
    pub fn filled(width: usize, height: usize, rgba: [u8; 4]) -> Self {
        Self { width, height, pixels: rgba.repeat(width * height) }
    }

    /// Whether the pixel buffer matches the size.
    pub fn is_consistent(&self) -> bool {
        self.pixels.len() == self.width * self.height * 4 && self.width > 0 && self.height > 0
    }

    /// The part inside `x, y, width, height` (clamped to the image).
    pub fn crop(&self, x: usize, y: usize, width: usize, height: usize) -> Self {
        let x = x.min(self.width.saturating_sub(1));
        let y = y.min(self.height.saturating_sub(1));
        let width = width.clamp(1, self.width - x);
        let height = height.clamp(1, self.height - y);
        let mut pixels = Vec::with_capacity(width * height * 4);
        for row in y..y + height {
            let start = (row * self.width + x) * 4;
            pixels.extend_from_slice(&self.pixels[start..start + width * 4]);
        }
        Self { width, height, pixels }
    }

    /// This image scaled to `width x height` by averaging (down) or nearest pixel (up).
    pub fn resized(&self, width: usize, height: usize) -> Self {
        let (width, height) = (width.max(1), height.max(1));
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let mut pixels = Vec::with_capacity(width * height * 4);
        for row in 0..height {
            let (y0, y1) = span(row, height, self.height);
            for column in 0..width {
                let (x0, x1) = span(column, width, self.width);
                let mut sums = [0_u32; 4];
                for y in y0..y1 {
                    for x in x0..x1 {
                        let at = (y * self.width + x) * 4;
                        for (sum, &value) in sums.iter_mut().zip(&self.pixels[at..at + 4]) {
                            *sum += u32::from(value);
                        }
                    }
                }
                let count = ((y1 - y0) * (x1 - x0)).max(1) as u32;
                pixels.extend(sums.iter().map(|&sum| (sum / count) as u8));
            }
        }
        Self { width, height, pixels }
    }

    /// Copies `other` onto this image with its top-left corner at `(x, y)` (what falls
    /// outside is left out).
    pub fn paste(&mut self, other: &Self, x: usize, y: usize) {
        for row in 0..other.height.min(self.height.saturating_sub(y)) {
            let columns = other.width.min(self.width.saturating_sub(x));
            let to = ((y + row) * self.width + x) * 4;
            let from = row * other.width * 4;
            self.pixels[to..to + columns * 4].copy_from_slice(&other.pixels[from..from + columns * 4]);
        }
    }

    /// The size that fits within `max_width` keeping the aspect ratio (never enlarged).
    pub fn fit_width(&self, max_width: usize) -> (usize, usize) {
        if self.width <= max_width {
            return (self.width, self.height);
        }
        let height = (self.height * max_width).div_ceil(self.width);
        (max_width, height.max(1))
    }
}

/// The source range `[start, end)` that output index `index` of `out` covers in `source`.
fn span(index: usize, out: usize, source: usize) -> (usize, usize) {
    let start = index * source / out;
    let end = ((index + 1) * source / out).max(start + 1).min(source);
    (start.min(source - 1), end)
}

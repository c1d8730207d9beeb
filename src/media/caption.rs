//! Captions as strips of pixels appended below an image, so that they never cover what was
//! captured: the picture keeps every one of its rows and grows by the strip's height.
//!
//! This module knows no fonts. Whoever has them (the app, with egui's) implements
//! [`CaptionPainter`]; the strip is then drawn on the thread that encodes the image (the file
//! thread for a PNG, the encoder thread for a GIF), not on the UI thread.

use super::RgbaImage;

/// Draws caption strips: a caption's text on a band as wide as the image it goes under.
pub trait CaptionPainter: Send {
    /// `text` on a strip exactly `width` pixels wide, drawn at `pixels_per_point` (how many of
    /// the image's pixels make one point: the strip's text is as large, relative to the image,
    /// as the app's own text). Without `height` the strip is as tall as the text needs; with
    /// it, exactly that tall, and text that does not fit is cut short with `…` (a recording's
    /// frames must all have the same size).
    fn paint(&mut self, text: &str, width: usize, pixels_per_point: f32, height: Option<usize>) -> RgbaImage;
}

impl RgbaImage {
    /// This image with `strip` appended below it: the rows of `self` unchanged, then the rows of
    /// `strip`. `None` if their widths differ or either is inconsistent.
    ///
    /// # Shapes
    /// `self: [height, width]`, `strip: [strip_height, width]` → `[height + strip_height, width]`.
    pub fn with_strip_below(&self, strip: &Self) -> Option<Self> {
        if self.width != strip.width || !self.is_consistent() || !strip.is_consistent() {
            return None;
        }
        let mut pixels = Vec::with_capacity(self.pixels.len() + strip.pixels.len());
        pixels.extend_from_slice(&self.pixels);
        pixels.extend_from_slice(&strip.pixels);
        Some(Self { width: self.width, height: self.height + strip.height, pixels })
    }
}

/// `image` with the strip of `caption` appended below it, drawn by `painter` at
/// `pixels_per_point`. The one way both PNGs and GIF frames get their captions.
pub fn captioned(
    image: &RgbaImage,
    caption: &str,
    painter: &mut dyn CaptionPainter,
    pixels_per_point: f32,
    strip_height: Option<usize>,
) -> Result<RgbaImage, String> {
    let strip = painter.paint(caption, image.width, pixels_per_point, strip_height);
    image.with_strip_below(&strip).ok_or_else(|| {
        format!(
            "the caption strip ({}×{}) does not fit below the image ({}×{})",
            strip.width, strip.height, image.width, image.height
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paints a strip of one grey, as tall as the text is long (or `height`).
    struct Bars;

    impl CaptionPainter for Bars {
        fn paint(&mut self, text: &str, width: usize, _: f32, height: Option<usize>) -> RgbaImage {
            RgbaImage::filled(width, height.unwrap_or(text.len()), [7, 7, 7, 255])
        }
    }

    #[test]
    fn a_strip_goes_below_and_the_image_keeps_its_rows() {
        let image = RgbaImage { width: 2, height: 2, pixels: (0..16).collect() };
        let with_strip = captioned(&image, "abc", &mut Bars, 1.0, None).unwrap();
        assert_eq!((with_strip.width, with_strip.height), (2, 5));
        assert_eq!(with_strip.pixels[..16], image.pixels[..]);
        assert!(with_strip.pixels[16..].chunks(4).all(|pixel| pixel == [7, 7, 7, 255]));
        assert_eq!(captioned(&image, "abc", &mut Bars, 1.0, Some(1)).unwrap().height, 3);
    }

    #[test]
    fn a_strip_of_another_width_is_refused() {
        let image = RgbaImage::filled(3, 2, [0, 0, 0, 255]);
        assert!(image.with_strip_below(&RgbaImage::filled(2, 2, [0, 0, 0, 255])).is_none());
    }
}

//! Caption strips under screenshots and recorded frames, drawn with egui's own fonts (so they
//! look like the app) on any thread: the file thread and a GIF encoder each own one.

use std::sync::Arc;

use egui::epaint::text::{FontDefinitions, FontFamily, Fonts, Galley, LayoutJob, TextOptions, ViewportKey};
use egui::{Color32, ColorImage, FontId};

use crate::media::{CaptionPainter, RgbaImage};

/// The caption's text size, in points (the app's body text).
const CAPTION_FONT_SIZE: f32 = 14.0;
/// The space around the caption's text, in points.
const CAPTION_PADDING: f32 = 6.0;
/// The most rows a caption wraps to; the rest is cut short with `…`.
pub(super) const MAX_CAPTION_ROWS: usize = 3;
/// The strip's background: dark, so that light text reads on a projector.
const CAPTION_BACKGROUND: [u8; 4] = [16, 18, 22, 255];
/// The line between the picture and the strip.
const CAPTION_RULE: [u8; 4] = [90, 90, 90, 255];
/// The caption's text colour.
const CAPTION_TEXT: Color32 = Color32::from_gray(235);

/// Caption strips drawn with egui's own fonts, so they look like the app, but off the UI
/// thread: each thread that encodes images (the file thread, a GIF encoder thread) owns one,
/// with its own copy of the fonts, loaded at its first caption.
#[derive(Default)]
pub(super) struct CaptionStrips {
    fonts: Option<Fonts>,
}

impl CaptionPainter for CaptionStrips {
    fn paint(&mut self, text: &str, width: usize, pixels_per_point: f32, height: Option<usize>) -> RgbaImage {
        let pixels_per_point = if pixels_per_point.is_finite() { pixels_per_point.clamp(0.5, 8.0) } else { 1.0 };
        let width = width.max(1);
        let fonts = self.fonts.get_or_insert_with(|| Fonts::new(TextOptions::default(), caption_fonts()));
        // Clears the glyph atlas if it is filling up (it hardly grows: captions use few glyphs).
        let options = *fonts.options();
        fonts.begin_pass(options, ViewportKey::default());
        let font_id = FontId::proportional(CAPTION_FONT_SIZE);
        let row_pixels = fonts.with_pixels_per_point(pixels_per_point).row_height(&font_id) * pixels_per_point;
        let padding = (CAPTION_PADDING * pixels_per_point).round() as usize;
        let max_rows = match height {
            Some(height) => (height.saturating_sub(2 * padding) as f32 / row_pixels.max(1.0)).floor() as usize,
            None => MAX_CAPTION_ROWS,
        };
        let wrap_width = width.saturating_sub(2 * padding).max(1) as f32 / pixels_per_point;
        let mut job = LayoutJob::simple(text.to_owned(), font_id, CAPTION_TEXT, wrap_width);
        job.wrap.max_rows = max_rows.clamp(1, MAX_CAPTION_ROWS);
        job.wrap.overflow_character = Some('…');
        let galley = fonts.layout_uncached(pixels_per_point, Arc::new(job));
        let text_height = (galley.rect.height() * pixels_per_point).ceil() as usize;
        let strip_height = height.unwrap_or(text_height + 2 * padding).max(1);
        let mut strip = RgbaImage::filled(width, strip_height, CAPTION_BACKGROUND);
        strip.pixels[..width * 4].copy_from_slice(&CAPTION_RULE.repeat(width));
        let origin = [padding as i64, (strip_height.saturating_sub(text_height) / 2) as i64];
        draw_galley(&mut strip, &galley, fonts.texture_atlas().image(), pixels_per_point, origin);
        strip
    }
}

/// egui's default fonts, with the monospace one as a fallback for the proportional one, as the
/// app has them (arrows and maths signs get glyphs).
fn caption_fonts() -> FontDefinitions {
    let mut fonts = FontDefinitions::default();
    let fallback = fonts.families.get(&FontFamily::Monospace).and_then(|list| list.first()).cloned();
    if let (Some(fallback), Some(list)) = (fallback, fonts.families.get_mut(&FontFamily::Proportional))
        && !list.contains(&fallback)
    {
        list.push(fallback);
    }
    fonts
}

/// Draws `galley` (laid out at `pixels_per_point`) onto `image` with its top-left at `origin`
/// (in pixels), copying each glyph's pixels from the font `atlas` as egui's painter would:
/// coverage tints the text colour, colour glyphs keep their own, all blended over the image.
fn draw_galley(image: &mut RgbaImage, galley: &Galley, atlas: &ColorImage, pixels_per_point: f32, origin: [i64; 2]) {
    let to_pixel = |points: f32| (points * pixels_per_point).round() as i64;
    let tint = galley.job.sections.first().map_or(CAPTION_TEXT, |section| section.format.color);
    for placed in &galley.rows {
        for glyph in &placed.row.glyphs {
            let uv = glyph.uv_rect;
            if uv.is_nothing() {
                continue;
            }
            let left = origin[0] + to_pixel(placed.pos.x) + to_pixel(glyph.pos.x + uv.offset.x);
            let top = origin[1] + to_pixel(placed.pos.y) + to_pixel(glyph.pos.y + uv.offset.y);
            for texel_y in uv.min[1]..uv.max[1] {
                let y = top + i64::from(texel_y - uv.min[1]);
                for texel_x in uv.min[0]..uv.max[0] {
                    let x = left + i64::from(texel_x - uv.min[0]);
                    let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y)) else { continue };
                    if x >= image.width || y >= image.height {
                        continue;
                    }
                    let texel = atlas[(usize::from(texel_x), usize::from(texel_y))];
                    let source = if glyph.is_color { texel } else { texel * tint };
                    let at = (y * image.width + x) * 4;
                    blend_over(&mut image.pixels[at..at + 4], source);
                }
            }
        }
    }
}

/// `destination` (straight RGBA) with the premultiplied `source` blended over it.
fn blend_over(destination: &mut [u8], source: Color32) {
    let source = source.to_array();
    let keep = 255 - u16::from(source[3]);
    for (channel, &value) in destination.iter_mut().zip(&source).take(3) {
        *channel = (u16::from(value) + (u16::from(*channel) * keep + 127) / 255).min(255) as u8;
    }
    destination[3] = (u16::from(source[3]) + (u16::from(destination[3]) * keep + 127) / 255).min(255) as u8;
}

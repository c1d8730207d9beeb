//! Writing an image to a PNG file.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use super::RgbaImage;

/// Writes `image` to `path` as an RGBA PNG, with `caption` in a `Description` text chunk.
pub fn write_png(path: &Path, image: &RgbaImage, caption: &str) -> Result<(), String> {
    if !image.is_consistent() {
        return Err("the image is empty or its size does not match its pixels".to_owned());
    }
    let file = File::create(path).map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    let (width, height) = (u32::try_from(image.width), u32::try_from(image.height));
    let (Ok(width), Ok(height)) = (width, height) else {
        return Err("the image is too large for a PNG".to_owned());
    };
    let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let write_error = |error: png::EncodingError| format!("cannot write {}: {error}", path.display());
    encoder.add_text_chunk("Description".to_owned(), caption.to_owned()).map_err(write_error)?;
    let mut writer = encoder.write_header().map_err(write_error)?;
    writer.write_image_data(&image.pixels).map_err(write_error)?;
    writer.finish().map_err(write_error)
}

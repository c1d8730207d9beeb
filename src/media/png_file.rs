//! PNG images: encoded to bytes (which the desktop writes to a file and the browser offers as a
//! download), or written to a file.

use std::io::Write as _;
use std::path::Path;

use super::RgbaImage;

/// `image` as an RGBA PNG, with `caption` in a `Description` text chunk.
pub fn encode_png(image: &RgbaImage, caption: &str) -> Result<Vec<u8>, String> {
    if !image.is_consistent() {
        return Err("the image is empty or its size does not match its pixels".to_owned());
    }
    let (width, height) = (u32::try_from(image.width), u32::try_from(image.height));
    let (Ok(width), Ok(height)) = (width, height) else {
        return Err("the image is too large for a PNG".to_owned());
    };
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let encode_error = |error: png::EncodingError| format!("cannot encode the PNG: {error}");
    encoder.add_text_chunk("Description".to_owned(), caption.to_owned()).map_err(encode_error)?;
    let mut writer = encoder.write_header().map_err(encode_error)?;
    writer.write_image_data(&image.pixels).map_err(encode_error)?;
    writer.finish().map_err(encode_error)?;
    Ok(bytes)
}

/// Writes `image` to `path` as an RGBA PNG, with `caption` in a `Description` text chunk.
pub fn write_png(path: &Path, image: &RgbaImage, caption: &str) -> Result<(), String> {
    let bytes = encode_png(image, caption)?;
    let mut file = std::fs::File::create(path).map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    file.write_all(&bytes).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

//! PNG images: encoded to bytes (which the desktop writes to a file and the browser offers as a
//! download), or written to a file.

use std::io::Write as _;
use std::path::Path;

use super::RgbaImage;

/// Why a PNG could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    /// The image has no pixels, or not as many as its size says.
    #[error("the image is empty or its size does not match its pixels")]
    Inconsistent,
    /// Wider or taller than a PNG may be.
    #[error("the image is too large for a PNG")]
    TooLarge,
    /// The encoder failed.
    #[error("cannot encode the PNG: {0}")]
    Encode(#[from] png::EncodingError),
    /// The file could not be created.
    #[error("cannot create {path}: {error}")]
    Create {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write {path}: {error}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

/// `image` as an RGBA PNG, with `caption` in a `Description` text chunk.
pub fn encode_png(image: &RgbaImage, caption: &str) -> Result<Vec<u8>, PngError> {
    if !image.is_consistent() {
        return Err(PngError::Inconsistent);
    }
    let (width, height) = (u32::try_from(image.width), u32::try_from(image.height));
    let (Ok(width), Ok(height)) = (width, height) else {
        return Err(PngError::TooLarge);
    };
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let encode_error = PngError::Encode;
    encoder.add_text_chunk("Description".to_owned(), caption.to_owned()).map_err(encode_error)?;
    let mut writer = encoder.write_header().map_err(encode_error)?;
    writer.write_image_data(&image.pixels).map_err(encode_error)?;
    writer.finish().map_err(encode_error)?;
    Ok(bytes)
}

/// Writes `image` to `path` as an RGBA PNG, with `caption` in a `Description` text chunk.
pub fn write_png(path: &Path, image: &RgbaImage, caption: &str) -> Result<(), PngError> {
    let bytes = encode_png(image, caption)?;
    let mut file = std::fs::File::create(path).map_err(|error| PngError::Create { path: path.to_owned(), error })?;
    file.write_all(&bytes).map_err(|error| PngError::Write { path: path.to_owned(), error })
}

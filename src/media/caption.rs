//! Captions as strips of pixels appended below an image, so that they never cover what was
//! captured: the picture keeps every one of its rows and grows by the strip's height.
//!
//! This module knows no fonts. Whoever has them (the app, with egui's) implements
//! [`CaptionPainter`]; the strip is then drawn on the thread that encodes the image (the file
//! thread for a PNG, the encoder thread for a GIF), not on the UI thread.

use super::RgbaImage;
use crate::train::RunConfig;
use crate::train::command::SessionCommand;
use crate::train::settings::commands_between;
use crate::train::settings::short;

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
) -> Result<RgbaImage, StripMismatch> {
    let strip = painter.paint(caption, image.width, pixels_per_point, strip_height);
    image
        .with_strip_below(&strip)
        .ok_or(StripMismatch { strip: (strip.width, strip.height), image: (image.width, image.height) })
}

/// A caption strip that does not fit below its image (a painter that drew it at another
/// width, or an inconsistent image).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the caption strip ({}×{}) does not fit below the image ({}×{})", strip.0, strip.1, image.0, image.1)]
pub struct StripMismatch {
    /// The strip's width and height.
    pub strip: (usize, usize),
    /// The image's width and height.
    pub image: (usize, usize),
}

/// Every setting of `now` that differs from `start` (a lesson's preset, where the run
/// began), in words, in the order a link lists them: `["bias offset +5", "learning rate
/// 0.03"]`. A caption that shows these shows everything a viewer needs to reproduce the
/// picture from the lesson; an empty list means the lesson as it starts.
pub fn settings_that_differ(start: &RunConfig, now: &RunConfig) -> Vec<String> {
    commands_between(start, now).iter().filter_map(describe_setting).collect()
}

/// A change of a setting in words, as a caption shows it.
fn describe_setting(command: &SessionCommand) -> Option<String> {
    Some(match command {
        SessionCommand::SetLearningRate { learning_rate } => format!("learning rate {}", short(*learning_rate)),
        SessionCommand::SetDecay { decay } => format!("decay {}", decay.label()),
        SessionCommand::SetBiasOffset { bias_offset } => format!("bias offset {}", signed(*bias_offset)),
        SessionCommand::SetActivation { activation } => activation.to_string(),
        SessionCommand::SetOptimizer { optimizer } => optimizer.label().to_owned(),
        SessionCommand::SetGradientClipping { max_norm: Some(norm) } => format!("gradient clipped at {}", short(*norm)),
        SessionCommand::SetGradientClipping { max_norm: None } => "no gradient clipping".to_owned(),
        SessionCommand::SetBatchSize { batch_size } => format!("batch size {batch_size}"),
        SessionCommand::Reset { seed: Some(seed) } => format!("seed {seed}"),
        SessionCommand::SetArchitecture { hidden_layers } => {
            let widths: Vec<String> = hidden_layers.iter().map(ToString::to_string).collect();
            format!("hidden layers {}", widths.join("-"))
        }
        SessionCommand::SetInit { init } => format!("init {}", init.label()),
        SessionCommand::SetInitialBias { initial_bias } => format!("initial bias {}", signed(*initial_bias)),
        SessionCommand::SetData { data } => format!(
            "data {}, {} points, noise {}{}",
            data.dataset.label(),
            data.points,
            short(data.noise),
            if data.standardize { ", standardized" } else { "" }
        ),
        SessionCommand::Reset { seed: None }
        | SessionCommand::ReviveNeuron { .. }
        | SessionCommand::ReviveDead
        | SessionCommand::Undo => return None,
    })
}

/// A number with its sign: `+5`, `-0.5`, `0`.
fn signed(value: f64) -> String {
    if value > 0.0 { format!("+{}", short(value)) } else { short(value) }
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
    fn the_settings_that_differ_include_the_bias_offset() {
        let start = crate::train::presets::find("negative-bias").unwrap().config().unwrap();
        assert!(settings_that_differ(&start, &start).is_empty(), "the lesson as it starts");
        let mut now = start.clone();
        now.network.bias_offset = 5.0;
        now.training.learning_rate = 0.3;
        assert_eq!(settings_that_differ(&start, &now), ["bias offset +5", "learning rate 0.3"]);
        now.network.bias_offset = -0.25;
        assert_eq!(settings_that_differ(&start, &now)[0], "bias offset -0.25");
    }

    #[test]
    fn a_strip_of_another_width_is_refused() {
        let image = RgbaImage::filled(3, 2, [0, 0, 0, 255]);
        assert!(image.with_strip_below(&RgbaImage::filled(2, 2, [0, 0, 0, 255])).is_none());
    }
}

//! Videos from frames drawn at a fixed frame rate: an MP4 (H.264, 4:2:0, BT.709, which
//! browsers, PowerPoint, Keynote and video sites play), a GIF (the recorder's encoder, each
//! frame shown for exactly its share of the second), or a folder of numbered PNGs.
//!
//! The H.264 encoder is Cisco's OpenH264, built from source by the `openh264` crate (no
//! system library, no ffmpeg); `muxide` puts its frames in the MP4 with the index first, so a
//! browser starts playing before the whole file has arrived. The encoder runs on one thread
//! with frame skipping off and the stream's timestamps taken from the frame numbers, so the
//! same frames give the same bytes on the same machine, and every frame drawn is a frame in
//! the file.

use std::path::{Path, PathBuf};

use super::RgbaImage;
use super::gif_recorder::{GifRecorder, GifSettings};
use super::png_file::{PngError, encode_png};

/// The largest frame rate of a GIF: browsers show a delay under 2/100 s as 1/10 s.
pub const MAX_GIF_FRAMES_PER_SECOND: u32 = 50;

/// What a video is written as, from its file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoFormat {
    /// `.mp4`: H.264 in an MP4.
    Mp4,
    /// `.gif`.
    Gif,
    /// A folder (a name without an extension): `frame-00001.png`, …
    PngFolder,
}

impl VideoFormat {
    /// The format `path` asks for: `.mp4`, `.gif`, or, with no extension, a folder of PNGs.
    /// `None` for any other extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension().map(|extension| extension.to_string_lossy().to_ascii_lowercase()) {
            None => Some(Self::PngFolder),
            Some(extension) if extension == "mp4" => Some(Self::Mp4),
            Some(extension) if extension == "gif" => Some(Self::Gif),
            Some(_) => None,
        }
    }

    /// The name of the format, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Mp4 => "MP4",
            Self::Gif => "GIF",
            Self::PngFolder => "folder of PNGs",
        }
    }
}

/// Why a video could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// The frame size does not suit the format.
    #[error("{0}")]
    Size(String),
    /// The frame rate does not suit the format.
    #[error("{0}")]
    FrameRate(String),
    /// This build cannot write MP4s (built without the `video` feature, or for a browser).
    #[error("this build of relu-lab cannot write MP4 files; write a .gif or a folder of PNGs instead")]
    NoMp4,
    /// The H.264 encoder or the MP4 muxer failed.
    #[error("the MP4 encoder failed: {0}")]
    Mp4(String),
    /// The GIF encoder failed.
    #[error("the GIF encoder failed: {0}")]
    Gif(String),
    /// A PNG frame could not be encoded or written.
    #[error("{0}")]
    Png(#[from] PngError),
    /// A folder of PNGs was asked for without a folder.
    #[error("a folder of PNGs needs a folder")]
    NoFolder,
}

/// The name of frame `index` (from 0) in a folder of PNGs: `frame-00001.png` is the first.
pub fn png_frame_name(index: u64) -> String {
    format!("frame-{:05}.png", index + 1)
}

/// A video being encoded, frame by frame.
pub struct VideoEncoder {
    sink: Sink,
    size: (usize, usize),
    frames: u64,
}

/// Where the frames go.
enum Sink {
    #[cfg(all(feature = "video", not(target_arch = "wasm32")))]
    Mp4(Box<mp4::Mp4Encoder>),
    Gif(Box<GifRecorder>),
    /// PNG files written into this folder as they come.
    Png(PathBuf),
}

impl VideoEncoder {
    /// An encoder of `format` for frames of `size` (width, height) at `frames_per_second`.
    /// A folder of PNGs is written into `folder` (which must exist) as frames come; the other
    /// formats are kept in memory until [`VideoEncoder::finish`].
    pub fn new(
        format: VideoFormat,
        size: (usize, usize),
        frames_per_second: u32,
        folder: Option<&Path>,
    ) -> Result<Self, VideoError> {
        if size.0 == 0 || size.1 == 0 {
            return Err(VideoError::Size("a video needs frames at least 1 pixel wide and tall".to_owned()));
        }
        if frames_per_second == 0 {
            return Err(VideoError::FrameRate("a video needs at least 1 frame per second".to_owned()));
        }
        let sink = match format {
            VideoFormat::Mp4 => Self::mp4(size, frames_per_second)?,
            VideoFormat::Gif => {
                if frames_per_second > MAX_GIF_FRAMES_PER_SECOND {
                    return Err(VideoError::FrameRate(format!(
                        "a GIF plays at most {MAX_GIF_FRAMES_PER_SECOND} frames per second; choose a lower rate or an .mp4"
                    )));
                }
                if size.0 > usize::from(u16::MAX) || size.1 > usize::from(u16::MAX) {
                    return Err(VideoError::Size("a GIF is at most 65535 pixels wide and tall".to_owned()));
                }
                let settings = GifSettings { frames_per_second, max_width: size.0 };
                Sink::Gif(Box::new(GifRecorder::in_memory_at_fixed_rate(Path::new("take.gif"), settings)))
            }
            VideoFormat::PngFolder => {
                let folder = folder.ok_or(VideoError::NoFolder)?;
                Sink::Png(folder.to_owned())
            }
        };
        Ok(Self { sink, size, frames: 0 })
    }

    #[cfg(all(feature = "video", not(target_arch = "wasm32")))]
    fn mp4(size: (usize, usize), frames_per_second: u32) -> Result<Sink, VideoError> {
        mp4::Mp4Encoder::new(size, frames_per_second).map(|encoder| Sink::Mp4(Box::new(encoder)))
    }

    #[cfg(not(all(feature = "video", not(target_arch = "wasm32"))))]
    fn mp4(_size: (usize, usize), _frames_per_second: u32) -> Result<Sink, VideoError> {
        Err(VideoError::NoMp4)
    }

    /// Encodes the next frame, which must have the size given at the start.
    pub fn push(&mut self, frame: &RgbaImage) -> Result<(), VideoError> {
        if (frame.width, frame.height) != self.size || !frame.is_consistent() {
            return Err(VideoError::Size(format!(
                "frame {} is {}×{}, not {}×{}",
                self.frames + 1,
                frame.width,
                frame.height,
                self.size.0,
                self.size.1
            )));
        }
        match &mut self.sink {
            #[cfg(all(feature = "video", not(target_arch = "wasm32")))]
            Sink::Mp4(encoder) => encoder.push(frame, self.frames)?,
            Sink::Gif(recorder) => {
                if !recorder.push(frame.clone()) {
                    return Err(VideoError::Gif("the encoder refused a frame".to_owned()));
                }
                // In memory, one frame a pump: encoded now, so memory holds one frame.
                recorder.pump();
                if let Some(error) = recorder.status().error {
                    return Err(VideoError::Gif(error));
                }
            }
            Sink::Png(folder) => {
                let path = folder.join(png_frame_name(self.frames));
                let bytes = encode_png(frame, "ReLU Lab").map_err(VideoError::Png)?;
                std::fs::write(&path, bytes).map_err(|error| PngError::Write { path, error })?;
            }
        }
        self.frames += 1;
        Ok(())
    }

    /// Frames encoded so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Closes the video: an MP4's or a GIF's bytes (nothing for a folder, whose files are
    /// written).
    pub fn finish(self) -> Result<Vec<u8>, VideoError> {
        match self.sink {
            #[cfg(all(feature = "video", not(target_arch = "wasm32")))]
            Sink::Mp4(encoder) => encoder.finish(),
            Sink::Gif(mut recorder) => {
                recorder.finish();
                recorder.pump();
                let status = recorder.status();
                if let Some(error) = status.error {
                    return Err(VideoError::Gif(error));
                }
                recorder.take_bytes().ok_or_else(|| VideoError::Gif("no frame was recorded".to_owned()))
            }
            Sink::Png(_) => Ok(Vec::new()),
        }
    }
}

#[cfg(all(feature = "video", not(target_arch = "wasm32")))]
mod mp4 {
    use openh264::encoder::{
        BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, RateControlMode, UsageType, VuiConfig,
    };
    use openh264::formats::YUVBuffer;
    use openh264::{OpenH264API, Timestamp};

    use super::{RgbaImage, VideoError};

    /// Bits per pixel per frame the encoder aims at: UI frames are mostly still, so this
    /// keeps text sharp while a 720p take at 30 fps stays near 3 Mbit/s.
    const BITS_PER_PIXEL: f64 = 0.1;
    /// A key frame at least this often, in seconds, so that a player can seek.
    const KEY_FRAME_SECONDS: u32 = 2;

    /// H.264 frames on their way into an MP4.
    pub(super) struct Mp4Encoder {
        encoder: Encoder,
        muxer: muxide::api::Muxer<Vec<u8>>,
        size: (usize, usize),
        frames_per_second: u32,
    }

    impl Mp4Encoder {
        pub(super) fn new(size: (usize, usize), frames_per_second: u32) -> Result<Self, VideoError> {
            let (width, height) = size;
            if width % 2 == 1 || height % 2 == 1 || width < 16 || height < 16 {
                return Err(VideoError::Size(format!(
                    "an MP4's frames must be an even number of pixels wide and tall, at least 16 ({width}×{height} is not)"
                )));
            }
            if width.max(height) > 3840 || width.min(height) > 2160 {
                return Err(VideoError::Size(format!(
                    "an MP4's frames are at most 3840×2160 (H.264 level 5.2); {width}×{height} is larger"
                )));
            }
            let bits_per_second = (width * height) as f64 * f64::from(frames_per_second) * BITS_PER_PIXEL;
            let config = EncoderConfig::new()
                .usage_type(UsageType::ScreenContentRealTime)
                .rate_control_mode(RateControlMode::Off)
                .bitrate(BitRate::from_bps(bits_per_second.min(f64::from(u32::MAX / 2)) as u32))
                .max_frame_rate(FrameRate::from_hz(frames_per_second as f32))
                .skip_frames(false)
                // Neither is done for screen content: saying so keeps OpenH264 quiet.
                .adaptive_quantization(false)
                .background_detection(false)
                .num_threads(1)
                .intra_frame_period(IntraFramePeriod::from_num_frames(frames_per_second * KEY_FRAME_SECONDS))
                .vui(VuiConfig::bt709());
            let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
                .map_err(|error| VideoError::Mp4(error.to_string()))?;
            let muxer = muxide::api::MuxerBuilder::new(Vec::new())
                .video(muxide::api::VideoCodec::H264, width as u32, height as u32, f64::from(frames_per_second))
                .with_fast_start(true)
                .build()
                .map_err(|error| VideoError::Mp4(error.to_string()))?;
            Ok(Self { encoder, muxer, size, frames_per_second })
        }

        /// Encodes frame number `index` (from 0) and puts it in the MP4.
        pub(super) fn push(&mut self, frame: &RgbaImage, index: u64) -> Result<(), VideoError> {
            let mut planes = vec![0; self.size.0 * self.size.1 * 3 / 2];
            rgba_to_yuv420(frame, &mut planes);
            let yuv = YUVBuffer::from_vec(planes, self.size.0, self.size.1);
            let millis = index * 1000 / u64::from(self.frames_per_second);
            let encoded = self.encoder.encode_at(&yuv, Timestamp::from_millis(millis));
            let (data, frame_type) = match encoded {
                Ok(stream) => (stream.to_vec(), stream.frame_type()),
                Err(error) => return Err(VideoError::Mp4(error.to_string())),
            };
            if data.is_empty() || frame_type == FrameType::Skip {
                return Err(VideoError::Mp4(format!("the encoder skipped frame {}", index + 1)));
            }
            let seconds = index as f64 / f64::from(self.frames_per_second);
            self.muxer
                .write_video(seconds, &data, frame_type == FrameType::IDR)
                .map_err(|error| VideoError::Mp4(error.to_string()))
        }

        /// The MP4's bytes.
        pub(super) fn finish(mut self) -> Result<Vec<u8>, VideoError> {
            self.muxer.finish_in_place().map_err(|error| VideoError::Mp4(error.to_string()))?;
            Ok(self.muxer.into_writer())
        }
    }

    /// `frame` (opaque RGBA) as 4:2:0 YUV with BT.709's limited-range matrix, in integers:
    /// the whole Y plane, then U and V at half the width and height (each from the average
    /// of a 2×2 block).
    ///
    /// # Shapes
    /// `frame: [height, width, 4]` → `yuv: [height * width * 3 / 2]`; width and height even.
    pub(super) fn rgba_to_yuv420(frame: &RgbaImage, yuv: &mut [u8]) {
        let (width, height) = (frame.width, frame.height);
        let (luma, chroma) = yuv.split_at_mut(width * height);
        let (u_plane, v_plane) = chroma.split_at_mut(width * height / 4);
        let pixel = |x: usize, y: usize| {
            let at = (y * width + x) * 4;
            [i32::from(frame.pixels[at]), i32::from(frame.pixels[at + 1]), i32::from(frame.pixels[at + 2])]
        };
        for y in 0..height {
            for x in 0..width {
                let [r, g, b] = pixel(x, y);
                luma[y * width + x] = (16 + ((47 * r + 157 * g + 16 * b + 128) >> 8)).clamp(16, 235) as u8;
            }
        }
        for y in 0..height / 2 {
            for x in 0..width / 2 {
                let corners = [
                    pixel(2 * x, 2 * y),
                    pixel(2 * x + 1, 2 * y),
                    pixel(2 * x, 2 * y + 1),
                    pixel(2 * x + 1, 2 * y + 1),
                ];
                let [r, g, b] = [0, 1, 2].map(|channel| corners.iter().map(|corner| corner[channel]).sum::<i32>());
                // The sums are four pixels' worth: the shift takes 2 more bits. Each row of
                // coefficients adds up to 0, so a grey has no colour.
                let u = 128 + ((-26 * r - 86 * g + 112 * b + 512) >> 10);
                let v = 128 + ((112 * r - 102 * g - 10 * b + 512) >> 10);
                u_plane[y * (width / 2) + x] = u.clamp(16, 240) as u8;
                v_plane[y * (width / 2) + x] = v.clamp(16, 240) as u8;
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn white_black_and_grey_map_to_limited_range_luma_and_neutral_chroma() {
            let mut frame = RgbaImage::filled(2, 2, [255, 255, 255, 255]);
            let mut yuv = vec![0; 6];
            rgba_to_yuv420(&frame, &mut yuv);
            assert_eq!(yuv, [235, 235, 235, 235, 128, 128]);
            frame = RgbaImage::filled(2, 2, [0, 0, 0, 255]);
            rgba_to_yuv420(&frame, &mut yuv);
            assert_eq!(yuv, [16, 16, 16, 16, 128, 128]);
            // Pure red: BT.709 puts little of it in luma and most in V.
            frame = RgbaImage::filled(2, 2, [255, 0, 0, 255]);
            rgba_to_yuv420(&frame, &mut yuv);
            assert_eq!(yuv, [63, 63, 63, 63, 102, 240]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_extension() {
        assert_eq!(VideoFormat::from_path(Path::new("take.mp4")), Some(VideoFormat::Mp4));
        assert_eq!(VideoFormat::from_path(Path::new("take.GIF")), Some(VideoFormat::Gif));
        assert_eq!(VideoFormat::from_path(Path::new("frames")), Some(VideoFormat::PngFolder));
        assert_eq!(VideoFormat::from_path(Path::new("take.avi")), None);
        assert_eq!(png_frame_name(0), "frame-00001.png");
    }

    #[test]
    fn a_frame_of_another_size_is_refused() {
        let mut encoder = VideoEncoder::new(VideoFormat::Gif, (8, 8), 10, None).unwrap();
        assert!(encoder.push(&RgbaImage::filled(8, 6, [0, 0, 0, 255])).is_err());
        assert!(VideoEncoder::new(VideoFormat::Gif, (8, 8), 60, None).is_err());
    }
}

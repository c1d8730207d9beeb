//! Screenshots and GIF recordings of the app's own window, or of one of its panels.
//!
//! egui 0.37 hands a screenshot to a callback (`Context::request_screenshot`) once the frame
//! *after* the request has been painted. The callback only forwards the image through a bounded
//! queue; the app takes it from there between frames ([`Capture::poll`]), crops it to the area,
//! and either sends it to the file thread as a PNG or streams it to the GIF encoder thread.
//! A PNG carries a caption (step, activation, learning rate, lesson) in its pixels: the strip is
//! drawn over the area for as long as the screenshot is pending, so the captured frame shows it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

use egui::{Align2, Color32, ColorImage, FontId, Rect, Stroke, StrokeKind, vec2};

use super::file_jobs::{Content, FileJob, SaveTarget};
use crate::media::{GifRecorder, GifSettings, RgbaImage};
use crate::nn::Activation;
use crate::train::session::short;

/// Screenshots that may wait for the app (a few frames' worth).
const DELIVERY_CAPACITY: usize = 4;
/// How long a screenshot may take before it is given up (no renderer, a hidden window).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(3);
/// The height of the caption strip, in points.
const CAPTION_HEIGHT: f32 = 24.0;
/// The `what` of the job that reserves a GIF's file.
pub const GIF_WHAT: &str = "GIF recording";

/// The frame rates offered for recordings.
pub const FRAME_RATES: [u32; 4] = [5, 10, 15, 25];
/// The largest widths offered for recordings, in pixels.
pub const MAX_WIDTHS: [usize; 3] = [480, 800, 1280];

/// What part of the window to capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureArea {
    /// The whole window.
    Window,
    /// The network, neuron by neuron.
    NetworkView,
    /// What the network computes.
    OutputView,
    /// The plots along the bottom.
    Plots,
}

impl CaptureArea {
    /// Every area, window first.
    pub const ALL: [Self; 4] = [Self::Window, Self::NetworkView, Self::OutputView, Self::Plots];

    /// The name a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Window => "Whole window",
            Self::NetworkView => "Network view",
            Self::OutputView => "Output view",
            Self::Plots => "Plots",
        }
    }

    /// A short name for file names.
    pub fn key(self) -> &'static str {
        match self {
            Self::Window => "window",
            Self::NetworkView => "network",
            Self::OutputView => "output",
            Self::Plots => "plots",
        }
    }
}

/// Where each capturable area was in the last frame, in points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AreaRects {
    /// The whole window.
    pub window: Rect,
    /// The network view, once drawn.
    pub network_view: Option<Rect>,
    /// The output view, once drawn.
    pub output_view: Option<Rect>,
    /// The plots panel.
    pub plots: Option<Rect>,
}

impl Default for AreaRects {
    fn default() -> Self {
        Self { window: Rect::NOTHING, network_view: None, output_view: None, plots: None }
    }
}

impl AreaRects {
    /// The rect of `area`, if it was drawn.
    pub fn get(&self, area: CaptureArea) -> Option<Rect> {
        match area {
            CaptureArea::Window => Some(self.window).filter(Rect::is_positive),
            CaptureArea::NetworkView => self.network_view,
            CaptureArea::OutputView => self.output_view,
            CaptureArea::Plots => self.plots,
        }
    }
}

/// The part of `image` (a screenshot, in pixels) inside `rect` (in points), as plain RGBA.
/// `None` if the rect misses the image.
pub fn crop_to_rect(image: &ColorImage, rect: Rect, pixels_per_point: f32) -> Option<RgbaImage> {
    let [width, height] = image.size;
    let to_pixel = |value: f32, limit: usize| ((value * pixels_per_point).round().max(0.0) as usize).min(limit);
    let (left, right) = (to_pixel(rect.left(), width), to_pixel(rect.right(), width));
    let (top, bottom) = (to_pixel(rect.top(), height), to_pixel(rect.bottom(), height));
    if right <= left || bottom <= top || image.pixels.len() != width * height {
        return None;
    }
    let mut pixels = Vec::with_capacity((right - left) * (bottom - top) * 4);
    for row in top..bottom {
        for color in &image.pixels[row * width + left..row * width + right] {
            pixels.extend_from_slice(&color.to_srgba_unmultiplied());
        }
    }
    Some(RgbaImage { width: right - left, height: bottom - top, pixels })
}

/// The caption burned into a screenshot: what a reader needs to reproduce the picture.
pub fn caption_text(step: u64, activation: Activation, learning_rate: f64, lesson: Option<&str>) -> String {
    let mut text = format!("ReLU Lab · step {step} · {activation} · learning rate {}", short(learning_rate));
    if let Some(lesson) = lesson {
        text.push_str(" · ");
        text.push_str(lesson);
    }
    text
}

/// Why a screenshot was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// A PNG.
    Screenshot,
    /// One frame of the recording.
    GifFrame,
}

/// A screenshot waiting to be taken or delivered.
#[derive(Debug)]
struct PendingScreenshot {
    area: CaptureArea,
    caption: String,
    target: SaveTarget,
    /// When it was requested, once it was.
    requested_at: Option<Instant>,
}

/// A recording, from reserving its file to its last frame.
enum Recording {
    /// Waiting for the file thread to reserve the file.
    Preparing { area: CaptureArea, settings: GifSettings },
    /// Capturing frames.
    Active {
        recorder: GifRecorder,
        area: CaptureArea,
        interval: Duration,
        next_frame_at: Instant,
        /// When the frame in flight was requested.
        requested_at: Option<Instant>,
    },
}

/// What the app should do after [`Capture::poll`].
#[derive(Debug, PartialEq)]
pub enum CaptureOutput {
    /// Hand this to the file thread.
    Job(FileJob),
    /// Tell the user.
    Message(String),
    /// Tell the user something went wrong.
    Error(String),
}

/// The screenshot and recording state machine.
pub struct Capture {
    /// Screenshot callbacks → app: images, bounded.
    deliveries: SyncSender<(Purpose, Arc<ColorImage>)>,
    /// Read between frames.
    delivered: Receiver<(Purpose, Arc<ColorImage>)>,
    screenshot: Option<PendingScreenshot>,
    recording: Option<Recording>,
    /// A recording closing its file.
    finishing: Option<GifRecorder>,
}

impl Default for Capture {
    fn default() -> Self {
        let (deliveries, delivered) = sync_channel(DELIVERY_CAPACITY);
        Self { deliveries, delivered, screenshot: None, recording: None, finishing: None }
    }
}

impl Capture {
    /// Asks for a PNG of `area` with `caption` burned in, saved to `target`. Refused (with a
    /// message) while another screenshot is pending.
    pub fn start_screenshot(&mut self, area: CaptureArea, caption: String, target: SaveTarget) -> Result<(), String> {
        if self.screenshot.is_some() {
            return Err("a screenshot is already being taken".to_owned());
        }
        self.screenshot = Some(PendingScreenshot { area, caption, target, requested_at: None });
        Ok(())
    }

    /// Starts recording `area`: returns the job that reserves the file in `target`; frames
    /// follow once [`Capture::file_reserved`] reports it.
    pub fn start_recording(
        &mut self,
        area: CaptureArea,
        settings: GifSettings,
        target: SaveTarget,
    ) -> Result<FileJob, String> {
        if self.recording.is_some() || self.finishing.is_some() {
            return Err("a recording is already running or being finished".to_owned());
        }
        self.recording = Some(Recording::Preparing { area, settings });
        Ok(FileJob::Save { what: GIF_WHAT.to_owned(), target, content: Content::Reserve })
    }

    /// The GIF's file exists: start the encoder on it.
    pub fn file_reserved(&mut self, path: &std::path::Path) -> Result<(), String> {
        let Some(Recording::Preparing { area, settings }) = self.recording.take() else {
            // Stopped before it started: the empty file stays; nothing else to do.
            return Ok(());
        };
        let recorder = GifRecorder::start(path, settings)
            .map_err(|error| format!("cannot start the GIF encoder thread: {error}"))?;
        let interval = Duration::from_secs_f64(1.0 / f64::from(settings.frames_per_second.clamp(1, 50)));
        self.recording =
            Some(Recording::Active { recorder, area, interval, next_frame_at: Instant::now(), requested_at: None });
        Ok(())
    }

    /// The GIF's file could not be reserved: the recording is off.
    pub fn file_failed(&mut self) {
        self.recording = None;
    }

    /// Stops the recording: the encoder writes the frames it has and closes the file.
    pub fn stop_recording(&mut self) {
        match self.recording.take() {
            Some(Recording::Active { mut recorder, .. }) => {
                recorder.finish();
                self.finishing = Some(recorder);
            }
            Some(Recording::Preparing { .. }) | None => {}
        }
    }

    /// Whether a recording is starting or running.
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Whether a PNG screenshot is pending (the Files window hides meanwhile, so that it is not
    /// in the picture).
    pub fn is_taking_screenshot(&self) -> bool {
        self.screenshot.is_some()
    }

    /// The recording's progress in a few words, while one is starting, running or finishing.
    pub fn progress(&self) -> Option<String> {
        let counts = |recorder: &GifRecorder| {
            let status = recorder.status();
            (status.frames_written + status.frames_queued, status.frames_dropped)
        };
        match (&self.recording, &self.finishing) {
            (Some(Recording::Preparing { .. }), _) => Some("Recording… starting".to_owned()),
            (Some(Recording::Active { recorder, .. }), _) => {
                let (frames, dropped) = counts(recorder);
                Some(format!("Recording… {frames} frames, {dropped} dropped"))
            }
            (None, Some(recorder)) => {
                let (frames, _) = counts(recorder);
                Some(format!("Finishing the GIF… {frames} frames"))
            }
            (None, None) => None,
        }
    }

    /// Called before the frame's UI: asks for the screenshots due (the pending PNG, the next
    /// recording frame) and for the repaints that keep a recording going while paused.
    pub fn before_ui(&mut self, ctx: &egui::Context) {
        let now = Instant::now();
        if let Some(pending) = &mut self.screenshot
            && pending.requested_at.is_none()
        {
            pending.requested_at = Some(now);
            self.request(ctx, Purpose::Screenshot);
        }
        let mut is_due = false;
        if let Some(Recording::Active { interval, next_frame_at, requested_at, .. }) = &mut self.recording {
            let is_stuck = requested_at.is_some_and(|at| now.duration_since(at) > DELIVERY_TIMEOUT);
            if now >= *next_frame_at && (requested_at.is_none() || is_stuck) {
                *requested_at = Some(now);
                *next_frame_at = (*next_frame_at + *interval).max(now);
                is_due = true;
            }
            ctx.request_repaint_after(next_frame_at.saturating_duration_since(now));
        }
        if is_due {
            self.request(ctx, Purpose::GifFrame);
        }
    }

    fn request(&self, ctx: &egui::Context, purpose: Purpose) {
        let deliveries = self.deliveries.clone();
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            // A full queue drops this frame; the recording counts it below as not delivered.
            let _ = deliveries.try_send((purpose, image));
            repaint.request_repaint();
        });
    }

    /// Called after the frame's UI: draws `caption` (this frame's step, activation, …) over the
    /// area of a pending screenshot, so that the captured frame carries it, and keeps it for
    /// the PNG's description.
    pub fn paint_overlay(&mut self, ctx: &egui::Context, rects: &AreaRects, caption: String) {
        let Some(pending) = &mut self.screenshot else { return };
        pending.caption = caption;
        let Some(area) = rects.get(pending.area) else { return };
        let strip = Rect::from_min_max(area.left_bottom() - vec2(0.0, CAPTION_HEIGHT), area.right_bottom());
        let painter = ctx.layer_painter(egui::LayerId::new(egui::Order::Tooltip, egui::Id::unique("capture_caption")));
        painter.rect_filled(strip, 0.0, Color32::from_rgba_unmultiplied(10, 12, 16, 225));
        painter.rect_stroke(strip, 0.0, Stroke::new(1.0, Color32::from_gray(90)), StrokeKind::Inside);
        let galley = painter.layout_no_wrap(pending.caption.clone(), FontId::proportional(14.0), Color32::WHITE);
        let text_rect = Align2::LEFT_CENTER.anchor_size(strip.left_center() + vec2(8.0, 0.0), galley.size());
        painter.with_clip_rect(strip).galley(text_rect.min, galley, Color32::WHITE);
    }

    /// Takes the delivered screenshots (crops them to their areas, sends PNGs to the file
    /// thread, streams frames to the encoder) and checks the encoder. Never blocks.
    pub fn poll(&mut self, ctx: &egui::Context, rects: &AreaRects) -> Vec<CaptureOutput> {
        let mut outputs = Vec::new();
        let pixels_per_point = ctx.pixels_per_point();
        loop {
            match self.delivered.try_recv() {
                Ok((Purpose::Screenshot, image)) => {
                    if let Some(pending) = self.screenshot.take() {
                        outputs.push(screenshot_job(pending, &image, rects, pixels_per_point));
                    }
                }
                Ok((Purpose::GifFrame, image)) => {
                    if let Some(Recording::Active { recorder, area, requested_at, .. }) = &mut self.recording {
                        *requested_at = None;
                        match rects.get(*area).and_then(|rect| crop_to_rect(&image, rect, pixels_per_point)) {
                            Some(frame) => {
                                recorder.push(frame);
                            }
                            None => outputs.push(CaptureOutput::Error(format!(
                                "the {} is not on screen: nothing to record",
                                area.label().to_lowercase()
                            ))),
                        }
                    }
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        if let Some(pending) = &self.screenshot
            && pending.requested_at.is_some_and(|at| at.elapsed() > DELIVERY_TIMEOUT)
        {
            self.screenshot = None;
            outputs.push(CaptureOutput::Error(
                "the screenshot did not arrive (is the window shown and drawn by a GPU renderer?)".to_owned(),
            ));
        }
        self.check_encoder(&mut outputs);
        outputs
    }

    /// Ends a recording whose encoder failed, and reports a finished one.
    fn check_encoder(&mut self, outputs: &mut Vec<CaptureOutput>) {
        let failed = match &self.recording {
            Some(Recording::Active { recorder, .. }) => recorder.status().error.is_some(),
            _ => false,
        };
        if failed {
            self.stop_recording();
        }
        let Some(recorder) = &self.finishing else { return };
        let status = recorder.status();
        if !status.is_finished {
            return;
        }
        let path = recorder.path().display().to_string();
        let size = status.frame_size.map_or_else(String::new, |(width, height)| format!(", {width}×{height}"));
        let summary = format!("{} frames{size}, {} dropped", status.frames_written, status.frames_dropped);
        outputs.push(match status.error {
            Some(error) => CaptureOutput::Error(format!("{error} ({summary} in {path})")),
            None if status.frames_written == 0 => {
                CaptureOutput::Error(format!("the recording has no frames ({path} is empty)"))
            }
            None => CaptureOutput::Message(format!("Saved the GIF {path}: {summary}")),
        });
        // The encoder thread has ended, so dropping joins at once.
        self.finishing = None;
    }
}

/// The PNG job for a delivered screenshot, or why there is none.
fn screenshot_job(
    pending: PendingScreenshot,
    image: &ColorImage,
    rects: &AreaRects,
    pixels_per_point: f32,
) -> CaptureOutput {
    let PendingScreenshot { area, caption, target, .. } = pending;
    match rects.get(area).and_then(|rect| crop_to_rect(image, rect, pixels_per_point)) {
        Some(image) => CaptureOutput::Job(FileJob::Save {
            what: format!("screenshot ({})", area.label().to_lowercase()),
            target,
            content: Content::Png { image, caption },
        }),
        None => CaptureOutput::Error(format!("the {} is not on screen", area.label().to_lowercase())),
    }
}

/// A save target in `folder` named `stem` with `extension`.
pub fn target(folder: &std::path::Path, may_create_folder: bool, stem: String, extension: &'static str) -> SaveTarget {
    SaveTarget { folder: PathBuf::from(folder), stem, extension, may_create_folder }
}

#[cfg(test)]
mod tests {
    use egui::pos2;

    use super::*;

    /// A 4 × 3 image whose pixel (x, y) is grey level `10 * y + x`.
    fn ramp() -> ColorImage {
        let pixels = (0..3).flat_map(|y| (0..4).map(move |x| Color32::from_gray(10 * y + x))).collect();
        ColorImage::new([4, 3], pixels)
    }

    #[test]
    fn cropping_takes_the_rect_in_pixels() {
        // At 2 pixels per point, the rect (0.5, 0.5)–(1.5, 1.5) is pixels x 1..3, y 1..3.
        let crop = crop_to_rect(&ramp(), Rect::from_min_max(pos2(0.5, 0.5), pos2(1.5, 1.5)), 2.0).unwrap();
        assert_eq!((crop.width, crop.height), (2, 2));
        let greys: Vec<u8> = crop.pixels.chunks(4).map(|pixel| pixel[0]).collect();
        assert_eq!(greys, [11, 12, 21, 22]);
        assert!(crop.pixels.chunks(4).all(|pixel| pixel[3] == 255 && pixel[1] == pixel[0]));
    }

    #[test]
    fn cropping_clamps_to_the_image_and_refuses_an_empty_rect() {
        let whole = crop_to_rect(&ramp(), Rect::from_min_max(pos2(-5.0, -5.0), pos2(50.0, 50.0)), 1.0).unwrap();
        assert_eq!((whole.width, whole.height), (4, 3));
        assert!(whole.is_consistent());
        assert!(crop_to_rect(&ramp(), Rect::from_min_max(pos2(10.0, 0.0), pos2(20.0, 3.0)), 1.0).is_none());
    }

    #[test]
    fn the_caption_names_step_activation_learning_rate_and_lesson() {
        let text = caption_text(1234, Activation::LeakyRelu { slope: 0.01 }, 0.300_000_1, Some("4. Leaky ReLU"));
        assert!(text.contains("step 1234"), "{text}");
        assert!(text.contains("Leaky ReLU"), "{text}");
        assert!(text.contains("learning rate 0.3"), "{text}");
        assert!(text.ends_with("4. Leaky ReLU"), "{text}");
        assert!(!caption_text(0, Activation::Relu, 3.0, None).contains(" · 4."));
    }

    #[test]
    fn areas_without_a_rect_cannot_be_captured() {
        let rects =
            AreaRects { window: Rect::from_min_size(pos2(0.0, 0.0), vec2(100.0, 50.0)), ..AreaRects::default() };
        assert!(rects.get(CaptureArea::Window).is_some());
        assert!(rects.get(CaptureArea::Plots).is_none());
    }

    #[test]
    fn a_screenshot_becomes_a_png_job_of_its_area() {
        let rects = AreaRects {
            window: Rect::from_min_size(pos2(0.0, 0.0), vec2(4.0, 3.0)),
            plots: Some(Rect::from_min_max(pos2(0.0, 2.0), pos2(4.0, 3.0))),
            ..AreaRects::default()
        };
        let pending = PendingScreenshot {
            area: CaptureArea::Plots,
            caption: "caption".to_owned(),
            target: target(std::path::Path::new("/tmp"), false, "shot".to_owned(), "png"),
            requested_at: None,
        };
        let CaptureOutput::Job(FileJob::Save { content: Content::Png { image, caption }, .. }) =
            screenshot_job(pending, &ramp(), &rects, 1.0)
        else {
            panic!("expected a PNG job");
        };
        assert_eq!((image.width, image.height, caption.as_str()), (4, 1, "caption"));
        assert_eq!(image.pixels[0], 20);
    }
}

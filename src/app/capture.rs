//! Screenshots and GIF recordings of the app's own window, or of one of its panels.
//!
//! egui 0.37 hands a screenshot to a callback (`Context::request_screenshot`) once the frame
//! *after* the request has been painted. The callback only forwards the image through a bounded
//! queue; the app takes it from there between frames ([`Capture::poll`]), crops it to the area,
//! and either sends it to the file thread as a PNG or streams it to the GIF encoder thread.
//!
//! In a browser tab, which has neither threads nor files, the GIF is encoded in memory a frame
//! per app frame ([`Capture::in_memory`]) and offered as a download when it is done; PNGs are
//! downloads too (the file jobs decide where saved bytes go).
//!
//! Every PNG and every GIF frame carries a caption (step, activation, learning rate, lesson,
//! from [`caption_text`]) in a strip appended *below* the captured pixels, so it never covers
//! an axis or a neuron. The caption is the one of the frame that was captured: the app hands
//! over each frame's caption while a capture is under way ([`Capture::paint_overlay`]), and a
//! PNG's file name takes its step from that caption, not from the moment it was asked for.
//! A recording of the whole window leaves the top bar out: it holds controls (and the
//! recording's own indicator and Stop button), not content.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::time::Duration;

use egui::{ColorImage, Rect};
use web_time::Instant;

use super::caption_strips::CaptionStrips;
use super::file_job::{Content, FileJob, SaveTarget};
use crate::media::{CaptionPainter, GifRecorder, GifSettings, RgbaImage};
use crate::nn::Activation;
use crate::train::settings::short;

/// Screenshots that may wait for the app (a few frames' worth).
const DELIVERY_CAPACITY: usize = 4;
/// How long a screenshot may take before it is given up (no renderer, a hidden window).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(3);
/// How every caption begins; the step follows (see [`caption_step`]).
const CAPTION_PREFIX: &str = "ReLU Lab · step ";
/// The `what` of the job that reserves a GIF's file.
pub const GIF_WHAT: &str = "GIF recording";
/// The `what` of the job that offers a GIF recorded in memory as a download.
pub const GIF_DOWNLOAD_WHAT: &str = "GIF";

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
    /// The top bar, once drawn: left out of recordings of the whole window.
    pub top_bar: Option<Rect>,
    /// The network view, once drawn.
    pub network_view: Option<Rect>,
    /// The output view, once drawn.
    pub output_view: Option<Rect>,
    /// The plots panel.
    pub plots: Option<Rect>,
}

impl Default for AreaRects {
    fn default() -> Self {
        Self { window: Rect::NOTHING, top_bar: None, network_view: None, output_view: None, plots: None }
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

    /// The rect a recording of `area` captures: the area's own, except that a recording of the
    /// whole window starts below the top bar (its recording indicator and Stop button are
    /// controls, and would be in every frame).
    pub fn recorded(&self, area: CaptureArea) -> Option<Rect> {
        let rect = self.get(area)?;
        match (area, self.top_bar) {
            (CaptureArea::Window, Some(top_bar)) => {
                let mut below = rect;
                below.min.y = below.min.y.max(top_bar.max.y);
                Some(below).filter(Rect::is_positive)
            }
            _ => Some(rect),
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

/// One frame of a recording of `area`: the part of `image` (a screenshot, in pixels) that
/// [`AreaRects::recorded`] names, so a whole-window frame has no top bar. `None` if the area
/// is not on screen.
pub fn crop_recording_frame(
    image: &ColorImage,
    area: CaptureArea,
    rects: &AreaRects,
    pixels_per_point: f32,
) -> Option<RgbaImage> {
    crop_to_rect(image, rects.recorded(area)?, pixels_per_point)
}

/// The caption under every screenshot and recorded frame: what a reader needs to reproduce
/// the picture.
pub fn caption_text(step: u64, activation: Activation, learning_rate: f64, lesson: Option<&str>) -> String {
    let mut text = format!("{CAPTION_PREFIX}{step} · {activation} · learning rate {}", short(learning_rate));
    if let Some(lesson) = lesson {
        text.push_str(" · ");
        text.push_str(lesson);
    }
    text
}

/// The step a caption made by [`caption_text`] names; `None` for any other text (the bare
/// "ReLU Lab" of an app that has no run yet).
pub fn caption_step(caption: &str) -> Option<u64> {
    let rest = caption.strip_prefix(CAPTION_PREFIX)?;
    let digits = rest.find(|character: char| !character.is_ascii_digit()).map_or(rest, |end| &rest[..end]);
    digits.parse().ok()
}

/// `stem` stamped with `step`: its trailing `-step<digits>` replaced, or `-step<step>` added.
fn stem_at_step(stem: &str, step: u64) -> String {
    let unstamped = stem.rsplit_once("-step").and_then(|(base, digits)| {
        (!digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())).then_some(base)
    });
    format!("{}-step{step}", unstamped.unwrap_or(stem))
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
    /// The caption of the latest frame (the one captured, once it is delivered).
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
        /// The caption of the latest frame drawn: the one a delivered frame shows.
        caption: String,
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
    /// Recordings stopped while their file was being reserved: the reservations still to come
    /// back from the file thread (their files are removed when they do).
    abandoned_reservations: usize,
    /// Recordings closing their files (or removing them, when they have no frame).
    finishing: Vec<GifRecorder>,
    /// Record GIFs in memory, a frame per [`Capture::poll`] (a browser tab), not to a file on
    /// an encoder thread.
    is_in_memory: bool,
}

impl Default for Capture {
    fn default() -> Self {
        let (deliveries, delivered) = sync_channel(DELIVERY_CAPACITY);
        Self {
            deliveries,
            delivered,
            screenshot: None,
            recording: None,
            abandoned_reservations: 0,
            finishing: Vec::new(),
            is_in_memory: cfg!(target_arch = "wasm32"),
        }
    }
}

impl Capture {
    /// Captures that record GIFs in memory, a frame per [`Capture::poll`], and hand each
    /// finished one over as bytes to download ([`Content::Encoded`]): for a browser tab.
    pub fn in_memory() -> Self {
        Self { is_in_memory: true, ..Self::default() }
    }

    /// A recorder for the GIF at `path` (in memory: its download's name).
    fn recorder(
        &self,
        path: &std::path::Path,
        settings: GifSettings,
        has_captions: bool,
    ) -> Result<GifRecorder, String> {
        let captions = has_captions.then(|| Box::new(CaptionStrips::default()) as Box<dyn CaptionPainter>);
        if self.is_in_memory {
            return Ok(GifRecorder::in_memory(path, settings, captions));
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let started = match captions {
                Some(captions) => GifRecorder::start_with_captions(path, settings, captions),
                None => GifRecorder::start(path, settings),
            };
            started.map_err(|error| format!("cannot start the GIF encoder thread: {error}"))
        }
        #[cfg(target_arch = "wasm32")]
        Err("a browser tab records in memory only".to_owned())
    }

    /// Asks for a PNG of `area` with a caption strip below it, saved to `target`. `caption` is
    /// the one at the time of asking; the PNG gets the caption of the frame actually captured
    /// (see [`Capture::paint_overlay`]), and `target`'s name is stamped with that caption's
    /// step, so the name and the caption always agree. Refused (with a message) while another
    /// screenshot is pending.
    pub fn start_screenshot(&mut self, area: CaptureArea, caption: String, target: SaveTarget) -> Result<(), String> {
        if self.screenshot.is_some() {
            return Err("a screenshot is already being taken".to_owned());
        }
        self.screenshot = Some(PendingScreenshot { area, caption, target, requested_at: None });
        Ok(())
    }

    /// Starts recording `area`: returns the job that reserves the file in `target`; frames
    /// follow once [`Capture::file_reserved`] reports it.
    ///
    /// The file is named once, now, so its name carries the step at which the recording
    /// started; each frame's caption carries that frame's own step.
    pub fn start_recording(
        &mut self,
        area: CaptureArea,
        settings: GifSettings,
        target: SaveTarget,
    ) -> Result<FileJob, String> {
        if self.recording.is_some() || !self.finishing.is_empty() || self.abandoned_reservations > 0 {
            return Err("a recording is already running or being finished".to_owned());
        }
        self.recording = Some(Recording::Preparing { area, settings });
        Ok(FileJob::Save { what: GIF_WHAT.to_owned(), target, content: Content::Reserve })
    }

    /// The GIF's file exists: start the encoder on it. If the recording was stopped meanwhile,
    /// the file is removed (on the encoder thread) and [`Capture::poll`] says that nothing was
    /// recorded.
    pub fn file_reserved(&mut self, path: &std::path::Path) -> Result<(), String> {
        let recording = self.recording.take();
        let Some(Recording::Preparing { area, settings }) = recording else {
            self.recording = recording;
            self.abandoned_reservations = self.abandoned_reservations.saturating_sub(1);
            return self.discard(path);
        };
        let recorder = self.recorder(path, settings, true)?;
        let interval = Duration::from_secs_f64(1.0 / f64::from(settings.frames_per_second.clamp(1, 50)));
        self.recording = Some(Recording::Active {
            recorder,
            area,
            interval,
            next_frame_at: Instant::now(),
            requested_at: None,
            caption: "ReLU Lab".to_owned(),
        });
        Ok(())
    }

    /// Ends the file reserved for a recording that was stopped before it began: an encoder with
    /// no frame removes it and reports that nothing was recorded.
    fn discard(&mut self, path: &std::path::Path) -> Result<(), String> {
        let mut recorder = self
            .recorder(path, GifSettings::default(), false)
            .map_err(|error| format!("nothing was recorded, and {} cannot be removed: {error}", path.display()))?;
        recorder.finish();
        self.finishing.push(recorder);
        Ok(())
    }

    /// The GIF's file could not be reserved: the recording is off.
    pub fn file_failed(&mut self) {
        if self.abandoned_reservations > 0 {
            // The reservation of a recording already stopped: nothing to stop.
            self.abandoned_reservations -= 1;
        } else {
            self.recording = None;
        }
    }

    /// Stops the recording: the encoder writes the frames it has and closes the file, or
    /// removes it if there is no frame (then [`Capture::poll`] says that nothing was recorded).
    pub fn stop_recording(&mut self) {
        match self.recording.take() {
            Some(Recording::Active { mut recorder, .. }) => {
                recorder.finish();
                self.finishing.push(recorder);
            }
            Some(Recording::Preparing { .. }) => self.abandoned_reservations += 1,
            None => {}
        }
    }

    /// Whether a recording is starting or running.
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Whether a capture is under way: a PNG screenshot is pending, or a recording is taking
    /// frames. Meanwhile the app hands over each frame's caption ([`Capture::paint_overlay`])
    /// and keeps the Files window hidden, so that it is in no picture (a recording is stopped
    /// from the top bar, which whole-window recordings leave out).
    pub fn is_taking_screenshot(&self) -> bool {
        self.screenshot.is_some() || matches!(self.recording, Some(Recording::Active { .. }))
    }

    /// The recording's progress in a few words, while one is starting, running or finishing.
    pub fn progress(&self) -> Option<String> {
        let counts = |recorder: &GifRecorder| {
            let status = recorder.status();
            (status.frames_written + status.frames_queued, status.frames_dropped)
        };
        match (&self.recording, self.finishing.first()) {
            (Some(Recording::Preparing { .. }), _) => Some("Recording… starting".to_owned()),
            (Some(Recording::Active { recorder, .. }), _) => {
                let (frames, dropped) = counts(recorder);
                let dropped = if dropped > 0 { format!(", {dropped} dropped") } else { String::new() };
                Some(format!("Recording… {frames} frames{dropped}"))
            }
            (None, Some(recorder)) => {
                let (frames, _) = counts(recorder);
                Some(format!("Finishing the GIF… {frames} frames"))
            }
            (None, None) if self.abandoned_reservations > 0 => Some("Stopping the recording…".to_owned()),
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

    /// Called after the frame's UI, while [`Capture::is_taking_screenshot`], with `caption`:
    /// this frame's step, activation, … Keeps it for the screenshot or recording frame this
    /// frame may become; the last one before a delivery is the captured frame's own.
    ///
    /// Nothing is painted over the app any more (the caption goes in a strip below the
    /// captured pixels), so `ctx` and `rects` are not used; the name and arguments stay for the
    /// app's call site.
    pub fn paint_overlay(&mut self, _ctx: &egui::Context, _rects: &AreaRects, caption: String) {
        match (&mut self.screenshot, &mut self.recording) {
            (Some(pending), Some(Recording::Active { caption: frame_caption, .. })) => {
                pending.caption.clone_from(&caption);
                *frame_caption = caption;
            }
            (Some(pending), _) => pending.caption = caption,
            (None, Some(Recording::Active { caption: frame_caption, .. })) => *frame_caption = caption,
            (None, _) => {}
        }
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
                    if let Some(Recording::Active { recorder, area, requested_at, caption, .. }) = &mut self.recording {
                        *requested_at = None;
                        match crop_recording_frame(&image, *area, rects, pixels_per_point) {
                            Some(frame) => {
                                recorder.push_with_caption(frame, caption.clone());
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
        if self.is_in_memory && !self.finishing.is_empty() {
            // The frames still queued are encoded one a frame: keep the frames coming.
            ctx.request_repaint();
        }
        outputs
    }

    /// Encodes a waiting frame of each recording in memory (one each), ends a recording whose
    /// encoder failed, and reports the finished ones.
    fn check_encoder(&mut self, outputs: &mut Vec<CaptureOutput>) {
        if let Some(Recording::Active { recorder, .. }) = &mut self.recording {
            recorder.pump();
        }
        for recorder in &mut self.finishing {
            recorder.pump();
        }
        let failed = match &self.recording {
            Some(Recording::Active { recorder, .. }) => recorder.status().error.is_some(),
            _ => false,
        };
        if failed {
            self.stop_recording();
        }
        let mut still_finishing = Vec::new();
        for mut recorder in self.finishing.drain(..) {
            let status = recorder.status();
            if status.is_finished {
                outputs.extend(finished_outputs(&mut recorder, status));
                // The encoder thread has ended, so dropping joins at once.
            } else {
                still_finishing.push(recorder);
            }
        }
        self.finishing = still_finishing;
    }
}

/// What to tell the user about a recording whose encoder has finished; for one made in
/// memory, the job that offers what it recorded as a download (after the error that cut it
/// short, if one did).
fn finished_outputs(recorder: &mut GifRecorder, status: crate::media::RecorderStatus) -> Vec<CaptureOutput> {
    let Some(bytes) = recorder.take_bytes() else { return vec![finished_output(recorder, status)] };
    let path = recorder.path();
    let stem = path.file_stem().map_or_else(|| "recording".to_owned(), |stem| stem.to_string_lossy().into_owned());
    let folder = path.parent().unwrap_or_else(|| std::path::Path::new(""));
    let job = FileJob::Save {
        what: GIF_DOWNLOAD_WHAT.to_owned(),
        target: target(folder, false, stem, "gif"),
        content: Content::Encoded(bytes),
    };
    let error = status.error.is_some().then(|| finished_output(recorder, status));
    error.into_iter().chain([CaptureOutput::Job(job)]).collect()
}

/// What to tell the user about a recording whose encoder has finished.
fn finished_output(recorder: &GifRecorder, status: crate::media::RecorderStatus) -> CaptureOutput {
    let path = recorder.path().display().to_string();
    let size = status.frame_size.map_or_else(String::new, |(width, height)| format!(", {width}×{height}"));
    let summary = format!("{} frames{size}, {} dropped", status.frames_written, status.frames_dropped);
    match (status.frames_written, status.error) {
        (0, error) => {
            let left = if status.is_file_removed { "no file was left".to_owned() } else { format!("{path} is empty") };
            let why = error.unwrap_or_else(|| "the recording stopped before its first frame".to_owned());
            CaptureOutput::Error(format!("Nothing was recorded: {why}; {left}"))
        }
        (_, Some(error)) => CaptureOutput::Error(format!("{error} ({summary} in {path})")),
        (_, None) => CaptureOutput::Message(format!("Saved the GIF {path}: {summary}")),
    }
}

/// The PNG job for a delivered screenshot, or why there is none. Its name's step is the
/// caption's (the frame captured), whatever the step was when it was asked for.
fn screenshot_job(
    pending: PendingScreenshot,
    image: &ColorImage,
    rects: &AreaRects,
    pixels_per_point: f32,
) -> CaptureOutput {
    let PendingScreenshot { area, caption, mut target, .. } = pending;
    if let Some(step) = caption_step(&caption) {
        target.stem = stem_at_step(&target.stem, step);
    }
    match rects.get(area).and_then(|rect| crop_to_rect(image, rect, pixels_per_point)) {
        Some(image) => CaptureOutput::Job(FileJob::Save {
            what: format!("screenshot ({})", area.label().to_lowercase()),
            target,
            content: Content::Png { image, caption, pixels_per_point },
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
    use std::path::Path;

    use egui::{pos2, vec2};

    use super::*;
    use egui::Color32;

    /// The longest a test waits for an encoder thread.
    const TIMEOUT: Duration = Duration::from_secs(20);

    /// A 4 × 3 image whose pixel (x, y) is grey level `10 * y + x`.
    fn ramp() -> ColorImage {
        let pixels = (0..3).flat_map(|y| (0..4).map(move |x| Color32::from_gray(10 * y + x))).collect();
        ColorImage::new([4, 3], pixels)
    }

    /// A `width` × `height` window at 1 pixel per point whose top `bar` rows are red (the top
    /// bar and its recording indicator) and whose other rows are grey level `2 * row`.
    fn window_with_top_bar(width: usize, height: usize, bar: usize) -> (ColorImage, AreaRects) {
        let pixels = (0..height)
            .flat_map(|row| {
                let color = if row < bar { Color32::RED } else { Color32::from_gray(2 * row as u8) };
                std::iter::repeat_n(color, width)
            })
            .collect();
        let window = Rect::from_min_size(pos2(0.0, 0.0), vec2(width as f32, height as f32));
        let top_bar = Rect::from_min_size(pos2(0.0, 0.0), vec2(width as f32, bar as f32));
        let plots = Rect::from_min_max(pos2(0.0, height as f32 - 10.0), pos2(width as f32, height as f32));
        let rects = AreaRects { window, top_bar: Some(top_bar), plots: Some(plots), ..AreaRects::default() };
        (ColorImage::new([width, height], pixels), rects)
    }

    fn caption_at(step: u64) -> String {
        caption_text(step, Activation::Relu, 3.0, Some("2. Too high a learning rate kills neurons"))
    }

    fn temp_folder(name: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!("relu-lab-capture-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    fn gif_files(folder: &Path) -> Vec<PathBuf> {
        let entries = std::fs::read_dir(folder).unwrap();
        entries.map(|entry| entry.unwrap().path()).filter(|path| path.extension().is_some_and(|e| e == "gif")).collect()
    }

    /// Polls until a recording has reported how it ended.
    fn poll_until_finished(capture: &mut Capture, ctx: &egui::Context, rects: &AreaRects) -> Vec<CaptureOutput> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let outputs = capture.poll(ctx, rects);
            if !outputs.is_empty() {
                return outputs;
            }
            assert!(Instant::now() < deadline, "the recording did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The job that reserves a recording's file, done as the file thread does it.
    fn reserve(job: &FileJob) -> PathBuf {
        let FileJob::Save { target, content: Content::Reserve, .. } = job else { panic!("expected a reservation") };
        let path = target.folder.join(format!("{}.{}", target.stem, target.extension));
        std::fs::File::create_new(&path).unwrap();
        path
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
    fn a_window_recording_leaves_out_every_row_of_the_top_bar() {
        let (image, rects) = window_with_top_bar(6, 40, 7);
        let frame = crop_recording_frame(&image, CaptureArea::Window, &rects, 1.0).unwrap();
        assert_eq!((frame.width, frame.height), (6, 33), "the window less the bar's 7 rows");
        assert!(frame.pixels.chunks(4).all(|pixel| pixel != [255, 0, 0, 255]), "no pixel of the bar");
        assert_eq!(frame.pixels[..4], [14, 14, 14, 255], "the frame starts at the first row below the bar");
        // A PNG of the window keeps the bar; a recording of a panel is the panel.
        let png = crop_to_rect(&image, rects.get(CaptureArea::Window).unwrap(), 1.0).unwrap();
        assert_eq!(png.height, 40);
        assert_eq!(crop_recording_frame(&image, CaptureArea::Plots, &rects, 1.0).unwrap().height, 10);
    }

    #[test]
    fn at_two_pixels_per_point_the_top_bar_is_left_out_in_pixels() {
        // The image is in pixels, the rects in points: a 3-point bar is 6 rows.
        let (image, mut rects) = window_with_top_bar(8, 20, 6);
        rects.window = Rect::from_min_size(pos2(0.0, 0.0), vec2(4.0, 10.0));
        rects.top_bar = Some(Rect::from_min_size(pos2(0.0, 0.0), vec2(4.0, 3.0)));
        let frame = crop_recording_frame(&image, CaptureArea::Window, &rects, 2.0).unwrap();
        assert_eq!((frame.width, frame.height), (8, 14));
        assert!(frame.pixels.chunks(4).all(|pixel| pixel != [255, 0, 0, 255]));
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
    fn the_step_reads_back_from_a_caption_and_restamps_a_name() {
        assert_eq!(caption_step(&caption_at(6978)), Some(6978));
        assert_eq!(caption_step(&caption_text(0, Activation::Relu, 0.5, None)), Some(0));
        assert_eq!(caption_step("ReLU Lab"), None);
        assert_eq!(stem_at_step("window-step6965", 6978), "window-step6978");
        assert_eq!(stem_at_step("plots", 12), "plots-step12");
        assert_eq!(stem_at_step("a-stepwise-step", 3), "a-stepwise-step-step3");
    }

    #[test]
    fn areas_without_a_rect_cannot_be_captured() {
        let rects =
            AreaRects { window: Rect::from_min_size(pos2(0.0, 0.0), vec2(100.0, 50.0)), ..AreaRects::default() };
        assert!(rects.get(CaptureArea::Window).is_some());
        assert_eq!(rects.recorded(CaptureArea::Window), rects.get(CaptureArea::Window), "no bar drawn, none cut");
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
            target: target(Path::new("/tmp"), false, "shot".to_owned(), "png"),
            requested_at: None,
        };
        let CaptureOutput::Job(FileJob::Save { content: Content::Png { image, caption, pixels_per_point }, .. }) =
            screenshot_job(pending, &ramp(), &rects, 1.0)
        else {
            panic!("expected a PNG job");
        };
        assert_eq!((image.width, image.height, caption.as_str(), pixels_per_point), (4, 1, "caption", 1.0));
        assert_eq!(image.pixels[0], 20);
    }

    #[test]
    fn a_screenshot_is_named_after_the_step_in_its_caption() {
        // Asked for at step 6965; the frame captured is drawn at step 6978.
        let ctx = egui::Context::default();
        let (image, rects) = window_with_top_bar(40, 30, 5);
        let mut capture = Capture::default();
        let asked = target(Path::new("/tmp"), false, "window-step6965".to_owned(), "png");
        capture.start_screenshot(CaptureArea::Window, caption_at(6965), asked).unwrap();
        assert!(capture.is_taking_screenshot());
        capture.paint_overlay(&ctx, &rects, caption_at(6971));
        capture.paint_overlay(&ctx, &rects, caption_at(6978));
        capture.deliveries.try_send((Purpose::Screenshot, Arc::new(image))).unwrap();
        let outputs = capture.poll(&ctx, &rects);
        let [CaptureOutput::Job(FileJob::Save { target, content: Content::Png { caption, .. }, .. })] =
            outputs.as_slice()
        else {
            panic!("expected one PNG job: {outputs:?}");
        };
        let name_step = target.stem.rsplit_once("-step").and_then(|(_, digits)| digits.parse::<u64>().ok());
        assert_eq!(name_step, caption_step(caption), "{} vs {caption}", target.stem);
        assert_eq!(name_step, Some(6978));
        assert!(!capture.is_taking_screenshot());
    }

    #[test]
    fn caption_strips_have_the_width_asked_and_a_fixed_height_when_asked() {
        let mut strips = CaptionStrips::default();
        let long = format!("{} · {}", caption_at(123_456), "a very long lesson title ".repeat(20));
        let natural = strips.paint(&caption_at(5), 800, 1.0, None);
        assert_eq!(natural.width, 800);
        assert!((20..60).contains(&natural.height), "one row of text: {}", natural.height);
        let wrapped = strips.paint(&long, 300, 1.0, None);
        assert!(wrapped.height > natural.height, "a long caption wraps");
        assert!(
            wrapped.height < 4 * natural.height,
            "to at most {} rows: {}",
            super::super::caption_strips::MAX_CAPTION_ROWS,
            wrapped.height
        );
        let fixed = strips.paint(&long, 300, 1.0, Some(natural.height));
        assert_eq!((fixed.width, fixed.height), (300, natural.height), "cut short to the height asked");
        let sharp = strips.paint(&caption_at(5), 1600, 2.0, None);
        assert!(sharp.height >= 2 * natural.height - 2, "twice the pixels per point, twice as tall");
        assert!(fixed.is_consistent() && sharp.is_consistent());
    }

    #[test]
    fn each_recorded_frame_has_its_own_caption_below_a_picture_without_the_top_bar() {
        let folder = temp_folder("frames");
        let ctx = egui::Context::default();
        let (image, rects) = window_with_top_bar(120, 90, 12);
        let image = Arc::new(image);
        let mut capture = Capture::default();
        let settings = GifSettings { frames_per_second: 10, max_width: 400 };
        let named = target(&folder, false, "recording-window-step100".to_owned(), "gif");
        let job = capture.start_recording(CaptureArea::Window, settings, named).unwrap();
        let path = reserve(&job);
        capture.file_reserved(&path).unwrap();
        assert!(capture.is_taking_screenshot(), "the app hands over captions while recording");
        for step in [104, 109, 109] {
            capture.paint_overlay(&ctx, &rects, caption_at(step));
            capture.deliveries.try_send((Purpose::GifFrame, Arc::clone(&image))).unwrap();
            assert!(capture.poll(&ctx, &rects).is_empty());
            std::thread::sleep(Duration::from_millis(30));
        }
        capture.stop_recording();
        let outputs = poll_until_finished(&mut capture, &ctx, &rects);
        assert!(matches!(&outputs[..], [CaptureOutput::Message(text)] if text.contains("3 frames")), "{outputs:?}");
        assert_eq!(path.file_name().unwrap(), "recording-window-step100.gif", "named at the step it started");

        let strip_height = CaptionStrips::default().paint(&caption_at(104), 120, 1.0, None).height;
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options.read_info(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!((decoder.width(), decoder.height()), (120, (78 + strip_height) as u16));
        let mut strips = Vec::new();
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            let (picture, strip) = frame.buffer.split_at(120 * 78 * 4);
            // Quantized to a palette, so compared loosely: the picture's first row is the grey
            // row just below the bar, and no pixel of it is the bar's red.
            assert!(picture[..4].iter().take(3).all(|&channel| channel.abs_diff(24) <= 8), "{:?}", &picture[..4]);
            assert!(picture.chunks(4).all(|pixel| !(pixel[0] > 200 && pixel[1] < 60)), "no top bar");
            strips.push(strip.to_vec());
        }
        assert_eq!(strips.len(), 3);
        assert_ne!(strips[0], strips[1], "step 104 and step 109 are captioned apiece");
        assert_eq!(strips[1], strips[2], "the same step, the same caption");
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn in_memory_a_recording_becomes_a_gif_to_download_a_frame_per_poll() {
        let ctx = egui::Context::default();
        let (image, rects) = window_with_top_bar(120, 90, 12);
        let image = Arc::new(image);
        let mut capture = Capture::in_memory();
        let settings = GifSettings { frames_per_second: 10, max_width: 400 };
        let named = target(Path::new(""), false, "recording-window-step100".to_owned(), "gif");
        let job = capture.start_recording(CaptureArea::Window, settings, named).unwrap();
        assert!(matches!(job, FileJob::Save { content: Content::Reserve, .. }), "a browser reserves nothing");
        capture.file_reserved(Path::new("recording-window-step100.gif")).unwrap();
        for step in [104, 109] {
            capture.paint_overlay(&ctx, &rects, caption_at(step));
            capture.deliveries.try_send((Purpose::GifFrame, Arc::clone(&image))).unwrap();
            assert!(capture.poll(&ctx, &rects).is_empty(), "nothing to tell while recording");
        }
        capture.stop_recording();
        let mut outputs = Vec::new();
        for _ in 0..10 {
            outputs.extend(capture.poll(&ctx, &rects));
        }
        let [CaptureOutput::Job(FileJob::Save { what, target, content: Content::Encoded(bytes) })] = outputs.as_slice()
        else {
            panic!("expected one download: {outputs:?}");
        };
        assert_eq!((what.as_str(), target.file_name().as_str()), (GIF_DOWNLOAD_WHAT, "recording-window-step100.gif"));
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options.read_info(bytes.as_slice()).unwrap();
        let mut frames = 0;
        while decoder.read_next_frame().unwrap().is_some() {
            frames += 1;
        }
        assert_eq!(frames, 2, "both frames, captioned, in memory");
        assert!(capture.progress().is_none() && !capture.is_recording());
    }

    #[test]
    fn a_recording_stopped_before_its_first_frame_leaves_no_file() {
        let folder = temp_folder("no-frames");
        let ctx = egui::Context::default();
        let rects = AreaRects::default();
        let mut capture = Capture::default();
        let named = target(&folder, false, "recording-window-step7".to_owned(), "gif");
        let job = capture.start_recording(CaptureArea::Window, GifSettings::default(), named).unwrap();
        capture.file_reserved(&reserve(&job)).unwrap();
        assert_eq!(gif_files(&folder).len(), 1, "the file is reserved");
        capture.stop_recording();
        let outputs = poll_until_finished(&mut capture, &ctx, &rects);
        let [CaptureOutput::Error(message)] = outputs.as_slice() else { panic!("{outputs:?}") };
        assert!(message.starts_with("Nothing was recorded"), "{message}");
        assert!(message.contains("no file was left"), "{message}");
        assert!(gif_files(&folder).is_empty(), "no .gif is left");
        assert!(capture.progress().is_none() && !capture.is_recording());
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn a_recording_stopped_while_its_file_is_reserved_leaves_no_file() {
        let folder = temp_folder("stopped-early");
        let ctx = egui::Context::default();
        let rects = AreaRects::default();
        let mut capture = Capture::default();
        let named = target(&folder, false, "recording-window-step7".to_owned(), "gif");
        let job = capture.start_recording(CaptureArea::Window, GifSettings::default(), named.clone()).unwrap();
        capture.stop_recording();
        assert!(!capture.is_recording());
        assert!(capture.start_recording(CaptureArea::Window, GifSettings::default(), named).is_err(), "not yet");
        // The file thread answers after the stop.
        capture.file_reserved(&reserve(&job)).unwrap();
        let outputs = poll_until_finished(&mut capture, &ctx, &rects);
        assert!(
            matches!(&outputs[..], [CaptureOutput::Error(message)] if message.starts_with("Nothing was recorded")),
            "{outputs:?}"
        );
        assert!(gif_files(&folder).is_empty(), "no .gif is left");
        assert!(!capture.is_recording() && capture.progress().is_none());
        let _ = std::fs::remove_dir_all(folder);
    }
}

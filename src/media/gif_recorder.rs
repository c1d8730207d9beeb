//! GIF recording: frames stream through a bounded queue to an encoder thread, so memory stays
//! bounded however long the recording; a full queue drops a frame (and counts it) rather than
//! making the UI wait. A write error (full disk, unwritable folder) stops the recording, keeps
//! what was written and says so. A recording that ends before its first frame leaves no file.
//!
//! A recording started with a [`CaptionPainter`] gives every frame a caption strip below the
//! picture, drawn on the encoder thread after the frame is scaled to the GIF's width, so the
//! caption stays legible however much the picture shrinks.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use super::RgbaImage;
use super::caption::{CaptionPainter, captioned};

/// Frames that may wait for the encoder.
const QUEUE_FRAMES: usize = 4;
/// NeuQuant's speed (1 best, 30 fastest); 10 is a good trade for screen content.
const QUANTIZE_SPEED: i32 = 10;
/// Captions are drawn at one pixel per point (the app's text size) in the GIF's own pixels,
/// whatever the scale of the picture above them.
const CAPTION_PIXELS_PER_POINT: f32 = 1.0;

/// How to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GifSettings {
    /// Frames per second (1 to 50).
    pub frames_per_second: u32,
    /// Frames wider than this are scaled down, keeping the aspect ratio.
    pub max_width: usize,
}

impl Default for GifSettings {
    fn default() -> Self {
        Self { frames_per_second: 10, max_width: 800 }
    }
}

/// What the encoder has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecorderStatus {
    /// Frames encoded and written.
    pub frames_written: u64,
    /// Frames the UI offered while the encoder was busy (not recorded).
    pub frames_dropped: u64,
    /// Frames waiting for the encoder.
    pub frames_queued: u64,
    /// The frame size, once known (with the caption strip, if there is one).
    pub frame_size: Option<(usize, usize)>,
    /// Why the recording stopped early, if it did.
    pub error: Option<String>,
    /// The file is closed: complete, or cut short by `error`.
    pub is_finished: bool,
    /// No frame was written, and the file reserved for them was removed (or never made): the
    /// recording left nothing on disk.
    pub is_file_removed: bool,
}

/// A frame on its way to the encoder.
struct QueuedFrame {
    image: RgbaImage,
    /// The caption for its strip (recordings with captions only).
    caption: Option<String>,
    /// When it arrived: it shows until the next one's arrival.
    arrived: Instant,
}

/// A recording in progress: owns the encoder thread and the frame queue.
pub struct GifRecorder {
    /// UI → encoder: frames, bounded.
    frames: SyncSender<QueuedFrame>,
    /// Encoder → UI: progress and errors.
    status: Arc<Mutex<RecorderStatus>>,
    path: PathBuf,
    thread: Option<JoinHandle<()>>,
    is_finishing: bool,
}

impl GifRecorder {
    /// Starts recording to `path`, frames without captions. The file is created on the encoder
    /// thread; a failure shows in [`GifRecorder::status`].
    pub fn start(path: &Path, settings: GifSettings) -> std::io::Result<Self> {
        Self::spawn(path, settings, None)
    }

    /// Starts recording to `path`; every frame gets a caption strip below it, drawn by
    /// `captions` on the encoder thread (see [`GifRecorder::push_with_caption`]).
    pub fn start_with_captions(
        path: &Path,
        settings: GifSettings,
        captions: Box<dyn CaptionPainter>,
    ) -> std::io::Result<Self> {
        Self::spawn(path, settings, Some(captions))
    }

    fn spawn(path: &Path, settings: GifSettings, captions: Option<Box<dyn CaptionPainter>>) -> std::io::Result<Self> {
        let (sender, receiver) = sync_channel(QUEUE_FRAMES);
        let status = Arc::new(Mutex::new(RecorderStatus::default()));
        let thread_status = Arc::clone(&status);
        let thread_path = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("gif-encoder".to_owned())
            .spawn(move || encode(&thread_path, settings, captions, &receiver, &thread_status))?;
        Ok(Self { frames: sender, status, path: path.to_owned(), thread: Some(thread), is_finishing: false })
    }

    /// Offers a frame without waiting, stamped with the time it arrives: each frame is shown
    /// until the next one's time, so the GIF plays in real time even when frames come slower
    /// than the chosen rate. Returns false if it was dropped (encoder busy or done).
    pub fn push(&self, frame: RgbaImage) -> bool {
        self.offer(frame, None)
    }

    /// Like [`GifRecorder::push`], with the caption for this frame's strip (the frame's own
    /// step, …). Ignored by a recording started without captions.
    pub fn push_with_caption(&self, frame: RgbaImage, caption: String) -> bool {
        self.offer(frame, Some(caption))
    }

    fn offer(&self, image: RgbaImage, caption: Option<String>) -> bool {
        if self.is_finishing || !image.is_consistent() {
            return false;
        }
        match self.frames.try_send(QueuedFrame { image, caption, arrived: Instant::now() }) {
            Ok(()) => {
                self.update(|status| status.frames_queued += 1);
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.update(|status| status.frames_dropped += 1);
                false
            }
        }
    }

    /// Asks the encoder to close the file after the queued frames; never waits.
    pub fn finish(&mut self) {
        // Closing the queue ends the encoder loop once the frames already queued are written.
        let (closed, _) = sync_channel(0);
        self.frames = closed;
        self.is_finishing = true;
    }

    /// Whether [`GifRecorder::finish`] was called.
    pub fn is_finishing(&self) -> bool {
        self.is_finishing
    }

    /// Progress, errors and whether the file is closed.
    pub fn status(&self) -> RecorderStatus {
        self.status.lock().map(|status| status.clone()).unwrap_or_default()
    }

    /// Where the GIF goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn update(&self, change: impl FnOnce(&mut RecorderStatus)) {
        if let Ok(mut status) = self.status.lock() {
            change(&mut status);
        }
    }
}

impl Drop for GifRecorder {
    fn drop(&mut self) {
        self.finish();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn set_status(status: &Mutex<RecorderStatus>, change: impl FnOnce(&mut RecorderStatus)) {
    if let Ok(mut status) = status.lock() {
        change(&mut status);
    }
}

/// The encoder thread: writes each frame as it comes, closes the file at the end.
fn encode(
    path: &Path,
    settings: GifSettings,
    captions: Option<Box<dyn CaptionPainter>>,
    frames: &Receiver<QueuedFrame>,
    status: &Mutex<RecorderStatus>,
) {
    let nominal_delay = (100 / settings.frames_per_second.clamp(1, 50)) as u16;
    let mut writer = FrameWriter {
        path,
        settings,
        status,
        captions,
        encoder: None,
        content_size: None,
        strip_height: None,
        frame_size: None,
        frames_written: 0,
        has_opened: false,
        has_failed: false,
    };
    // Each frame waits for the next one's time, which sets how long it shows.
    let mut held: Option<QueuedFrame> = None;
    while let Ok(frame) = frames.recv() {
        set_status(status, |s| s.frames_queued = s.frames_queued.saturating_sub(1));
        if let Some(previous) = held.take() {
            let centiseconds = frame.arrived.duration_since(previous.arrived).as_millis().div_ceil(10);
            writer.write(&previous, u16::try_from(centiseconds).unwrap_or(u16::MAX).max(2));
        }
        held = Some(frame);
    }
    if let Some(last) = held {
        writer.write(&last, nominal_delay);
    }
    writer.close();
    set_status(status, |s| s.is_finished = true);
}

/// The encoder thread's output side: opens the file at the first frame, stops at the first
/// error and keeps what was written; removes the file if no frame was.
struct FrameWriter<'a> {
    path: &'a Path,
    settings: GifSettings,
    status: &'a Mutex<RecorderStatus>,
    /// Draws the caption strips, for a recording with captions.
    captions: Option<Box<dyn CaptionPainter>>,
    encoder: Option<gif::Encoder<BufWriter<File>>>,
    /// The size of the picture above the strip, set by the first frame.
    content_size: Option<(usize, usize)>,
    /// The strip's height, set by the first frame: every frame has the same size.
    strip_height: Option<usize>,
    /// The GIF's size (picture and strip).
    frame_size: Option<(usize, usize)>,
    frames_written: u64,
    /// Whether the file was created (truncated) here.
    has_opened: bool,
    has_failed: bool,
}

impl FrameWriter<'_> {
    fn fail(&mut self, message: String) {
        self.has_failed = true;
        set_status(self.status, |s| s.error = Some(message));
    }

    /// The picture scaled to the GIF's width, with its caption strip below if there is one.
    fn compose(&mut self, frame: &QueuedFrame) -> Result<RgbaImage, String> {
        let (width, height) =
            *self.content_size.get_or_insert_with(|| frame.image.fit_width(self.settings.max_width.max(16)));
        let picture = frame.image.resized(width, height);
        let Some(painter) = self.captions.as_mut() else { return Ok(picture) };
        let caption = frame.caption.as_deref().unwrap_or_default();
        let composed = captioned(&picture, caption, painter.as_mut(), CAPTION_PIXELS_PER_POINT, self.strip_height)?;
        self.strip_height.get_or_insert(composed.height - height);
        Ok(composed)
    }

    fn write(&mut self, frame: &QueuedFrame, delay: u16) {
        if self.has_failed {
            return;
        }
        let composed = match self.compose(frame) {
            Ok(composed) => composed,
            Err(message) => return self.fail(message),
        };
        let (width, height) = *self.frame_size.get_or_insert((composed.width, composed.height));
        // Every frame has the first one's size (a painter that ignored the strip height would
        // otherwise make a frame the GIF cannot hold).
        let composed = composed.resized(width, height);
        let (Ok(width16), Ok(height16)) = (u16::try_from(width), u16::try_from(height)) else {
            return self.fail("the frames are too large for a GIF".to_owned());
        };
        if self.encoder.is_none() {
            self.has_opened = true;
            match open(self.path, width16, height16) {
                Ok(opened) => self.encoder = Some(opened),
                Err(message) => return self.fail(message),
            }
            set_status(self.status, |s| s.frame_size = Some((width, height)));
        }
        let mut pixels = composed.pixels;
        let mut gif_frame = gif::Frame::from_rgba_speed(width16, height16, &mut pixels, QUANTIZE_SPEED);
        gif_frame.delay = delay;
        match self.encoder.as_mut().map(|encoder| encoder.write_frame(&gif_frame)) {
            Some(Ok(())) => {
                self.frames_written += 1;
                set_status(self.status, |s| s.frames_written += 1);
            }
            Some(Err(error)) => self.fail(format!(
                "recording stopped: cannot write {} ({error}); the frames before are kept",
                self.path.display()
            )),
            None => {}
        }
    }

    /// Writes the GIF trailer and flushes; with no frame written, removes the file instead.
    fn close(&mut self) {
        if let Some(encoder) = self.encoder.take() {
            let closed = encoder.into_inner().and_then(|mut file| std::io::Write::flush(&mut file).map_err(Into::into));
            if let Err(error) = closed {
                let path = self.path.display().to_string();
                set_status(self.status, |s| {
                    s.error.get_or_insert_with(|| format!("cannot finish {path}: {error}"));
                });
            }
        }
        if self.frames_written == 0 {
            match remove_unused(self.path, self.has_opened) {
                Ok(is_removed) => set_status(self.status, |s| s.is_file_removed = is_removed),
                Err(message) => set_status(self.status, |s| {
                    s.error.get_or_insert(message);
                }),
            }
        }
    }
}

/// Removes the file of a recording that wrote no frame: a regular file this recording created
/// (`has_opened`), or the empty one reserved for it. Anything else (a device such as
/// `/dev/full`, a file with content it did not write) is left alone. Returns whether nothing
/// is left at `path`.
fn remove_unused(path: &Path, has_opened: bool) -> Result<bool, String> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(error) => return Err(format!("cannot check {}: {error}", path.display())),
    };
    if !metadata.is_file() || !(has_opened || metadata.len() == 0) {
        return Ok(false);
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(format!("nothing was recorded, but the empty {} cannot be removed: {error}", path.display())),
    }
}

fn open(path: &Path, width: u16, height: u16) -> Result<gif::Encoder<BufWriter<File>>, String> {
    let file = File::create(path).map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    let mut encoder = gif::Encoder::new(BufWriter::new(file), width, height, &[])
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    encoder.set_repeat(gif::Repeat::Infinite).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(encoder)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A strip of one grey per caption: the step's last digit sets the shade.
    struct Shades;

    impl CaptionPainter for Shades {
        fn paint(&mut self, text: &str, width: usize, _: f32, height: Option<usize>) -> RgbaImage {
            let shade = text.bytes().last().map_or(0, |digit| digit.saturating_sub(b'0') * 25);
            RgbaImage::filled(width, height.unwrap_or(6), [shade, shade, shade, 255])
        }
    }

    fn temp_path(name: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!("relu-lab-gif-recorder-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        folder.join(name)
    }

    fn wait_finished(recorder: &GifRecorder) -> RecorderStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = recorder.status();
            if status.is_finished {
                return status;
            }
            assert!(Instant::now() < deadline, "the encoder did not finish: {status:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn captioned_frames_grow_by_the_strip_and_carry_their_own_caption() {
        let path = temp_path("captioned.gif");
        let settings = GifSettings { frames_per_second: 10, max_width: 40 };
        let mut recorder = GifRecorder::start_with_captions(&path, settings, Box::new(Shades)).unwrap();
        for step in [2_u8, 8] {
            // 80×20 pictures become 40×10, plus a 6-row strip.
            while !recorder.push_with_caption(RgbaImage::filled(80, 20, [0, 0, 255, 255]), format!("step {step}")) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        recorder.finish();
        let status = wait_finished(&recorder);
        assert_eq!((status.error, status.frames_written, status.frame_size), (None, 2, Some((40, 16))));
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options.read_info(File::open(&path).unwrap()).unwrap();
        let mut strip_shades = Vec::new();
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            assert_eq!((frame.width, frame.height), (40, 16));
            assert_eq!(&frame.buffer[..4], &[0, 0, 255, 255], "the picture is on top");
            strip_shades.push(frame.buffer[frame.buffer.len() - 4]);
        }
        assert_eq!(strip_shades, [50, 200], "each frame's strip shows its own caption");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_recording_without_frames_leaves_no_file() {
        // As the app does it: the file is reserved (created empty) before the recording starts.
        let path = temp_path("empty.gif");
        File::create(&path).unwrap();
        let mut recorder = GifRecorder::start(&path, GifSettings::default()).unwrap();
        recorder.finish();
        let status = wait_finished(&recorder);
        assert_eq!((status.frames_written, status.is_file_removed, status.error), (0, true, None));
        assert!(!path.exists());
    }

    #[test]
    fn a_file_with_content_is_never_removed() {
        let path = temp_path("not-ours.gif");
        std::fs::write(&path, b"someone else's").unwrap();
        let mut recorder = GifRecorder::start(&path, GifSettings::default()).unwrap();
        recorder.finish();
        assert!(!wait_finished(&recorder).is_file_removed);
        assert_eq!(std::fs::read(&path).unwrap(), b"someone else's");
        let _ = std::fs::remove_file(path);
    }
}

//! GIF recording: frames stream through a bounded queue to an encoder thread, so memory stays
//! bounded however long the recording; a full queue drops a frame (and counts it) rather than
//! making the UI wait. A write error (full disk, unwritable folder) stops the recording, keeps
//! what was written and says so.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use super::RgbaImage;

/// Frames that may wait for the encoder.
const QUEUE_FRAMES: usize = 4;
/// NeuQuant's speed (1 best, 30 fastest); 10 is a good trade for screen content.
const QUANTIZE_SPEED: i32 = 10;

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
    /// The frame size, once known.
    pub frame_size: Option<(usize, usize)>,
    /// Why the recording stopped early, if it did.
    pub error: Option<String>,
    /// The file is closed: complete, or cut short by `error`.
    pub is_finished: bool,
}

/// A recording in progress: owns the encoder thread and the frame queue.
pub struct GifRecorder {
    /// UI → encoder: frames, bounded.
    frames: SyncSender<(RgbaImage, Instant)>,
    /// Encoder → UI: progress and errors.
    status: Arc<Mutex<RecorderStatus>>,
    path: PathBuf,
    thread: Option<JoinHandle<()>>,
    is_finishing: bool,
}

impl GifRecorder {
    /// Starts recording to `path`. The file is created on the encoder thread; a failure shows
    /// in [`GifRecorder::status`].
    pub fn start(path: &Path, settings: GifSettings) -> std::io::Result<Self> {
        let (sender, receiver) = sync_channel(QUEUE_FRAMES);
        let status = Arc::new(Mutex::new(RecorderStatus::default()));
        let thread_status = Arc::clone(&status);
        let thread_path = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("gif-encoder".to_owned())
            .spawn(move || encode(&thread_path, settings, &receiver, &thread_status))?;
        Ok(Self { frames: sender, status, path: path.to_owned(), thread: Some(thread), is_finishing: false })
    }

    /// Offers a frame without waiting, stamped with the time it arrives: each frame is shown
    /// until the next one's time, so the GIF plays in real time even when frames come slower
    /// than the chosen rate. Returns false if it was dropped (encoder busy or done).
    pub fn push(&self, frame: RgbaImage) -> bool {
        if self.is_finishing || !frame.is_consistent() {
            return false;
        }
        match self.frames.try_send((frame, Instant::now())) {
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
fn encode(path: &Path, settings: GifSettings, frames: &Receiver<(RgbaImage, Instant)>, status: &Mutex<RecorderStatus>) {
    let nominal_delay = (100 / settings.frames_per_second.clamp(1, 50)) as u16;
    let mut writer = FrameWriter { path, settings, status, encoder: None, size: None, has_failed: false };
    // Each frame waits for the next one's time, which sets how long it shows.
    let mut held: Option<(RgbaImage, Instant)> = None;
    while let Ok((frame, arrived)) = frames.recv() {
        set_status(status, |s| s.frames_queued = s.frames_queued.saturating_sub(1));
        if let Some((previous, shown_at)) = held.take() {
            let centiseconds = arrived.duration_since(shown_at).as_millis().div_ceil(10);
            writer.write(&previous, u16::try_from(centiseconds).unwrap_or(u16::MAX).max(2));
        }
        held = Some((frame, arrived));
    }
    if let Some((last, _)) = held {
        writer.write(&last, nominal_delay);
    }
    writer.close();
    set_status(status, |s| s.is_finished = true);
}

/// The encoder thread's output side: opens the file at the first frame, stops at the first
/// error and keeps what was written.
struct FrameWriter<'a> {
    path: &'a Path,
    settings: GifSettings,
    status: &'a Mutex<RecorderStatus>,
    encoder: Option<gif::Encoder<BufWriter<File>>>,
    size: Option<(usize, usize)>,
    has_failed: bool,
}

impl FrameWriter<'_> {
    fn fail(&mut self, message: String) {
        self.has_failed = true;
        set_status(self.status, |s| s.error = Some(message));
    }

    fn write(&mut self, frame: &RgbaImage, delay: u16) {
        if self.has_failed {
            return;
        }
        let (width, height) = *self.size.get_or_insert_with(|| frame.fit_width(self.settings.max_width.max(16)));
        let (Ok(width16), Ok(height16)) = (u16::try_from(width), u16::try_from(height)) else {
            return self.fail("the frames are too large for a GIF".to_owned());
        };
        if self.encoder.is_none() {
            match open(self.path, width16, height16) {
                Ok(opened) => self.encoder = Some(opened),
                Err(message) => return self.fail(message),
            }
            set_status(self.status, |s| s.frame_size = Some((width, height)));
        }
        let mut pixels = frame.resized(width, height).pixels;
        let mut gif_frame = gif::Frame::from_rgba_speed(width16, height16, &mut pixels, QUANTIZE_SPEED);
        gif_frame.delay = delay;
        match self.encoder.as_mut().map(|encoder| encoder.write_frame(&gif_frame)) {
            Some(Ok(())) => set_status(self.status, |s| s.frames_written += 1),
            Some(Err(error)) => self.fail(format!(
                "recording stopped: cannot write {} ({error}); the frames before are kept",
                self.path.display()
            )),
            None => {}
        }
    }

    /// Writes the GIF trailer and flushes.
    fn close(&mut self) {
        let Some(encoder) = self.encoder.take() else {
            return;
        };
        let closed = encoder.into_inner().and_then(|mut file| std::io::Write::flush(&mut file).map_err(Into::into));
        if let Err(error) = closed {
            let path = self.path.display().to_string();
            set_status(self.status, |s| {
                s.error.get_or_insert_with(|| format!("cannot finish {path}: {error}"));
            });
        }
    }
}

fn open(path: &Path, width: u16, height: u16) -> Result<gif::Encoder<BufWriter<File>>, String> {
    let file = File::create(path).map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    let mut encoder = gif::Encoder::new(BufWriter::new(file), width, height, &[])
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    encoder.set_repeat(gif::Repeat::Infinite).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(encoder)
}

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
    frames: SyncSender<RgbaImage>,
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

    /// Offers a frame without waiting. Returns false if it was dropped (encoder busy or done).
    pub fn push(&self, frame: RgbaImage) -> bool {
        if self.is_finishing || !frame.is_consistent() {
            return false;
        }
        match self.frames.try_send(frame) {
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
fn encode(path: &Path, settings: GifSettings, frames: &Receiver<RgbaImage>, status: &Mutex<RecorderStatus>) {
    let mut encoder: Option<gif::Encoder<BufWriter<File>>> = None;
    let mut size = None;
    let delay = (100 / settings.frames_per_second.clamp(1, 50)) as u16;
    let fail = |message: String| set_status(status, |s| s.error = Some(message));
    let mut has_failed = false;
    while let Ok(frame) = frames.recv() {
        set_status(status, |s| s.frames_queued = s.frames_queued.saturating_sub(1));
        if has_failed {
            continue;
        }
        let (width, height) = *size.get_or_insert_with(|| frame.fit_width(settings.max_width.max(16)));
        let (Ok(width16), Ok(height16)) = (u16::try_from(width), u16::try_from(height)) else {
            fail("the frames are too large for a GIF".to_owned());
            has_failed = true;
            continue;
        };
        if encoder.is_none() {
            match open(path, width16, height16) {
                Ok(opened) => encoder = Some(opened),
                Err(message) => {
                    fail(message);
                    has_failed = true;
                    continue;
                }
            }
            set_status(status, |s| s.frame_size = Some((width, height)));
        }
        let mut pixels = frame.resized(width, height).pixels;
        let mut gif_frame = gif::Frame::from_rgba_speed(width16, height16, &mut pixels, QUANTIZE_SPEED);
        gif_frame.delay = delay;
        let written = encoder.as_mut().map(|e| e.write_frame(&gif_frame));
        match written {
            Some(Ok(())) => set_status(status, |s| s.frames_written += 1),
            Some(Err(error)) => {
                fail(format!(
                    "recording stopped: cannot write {} ({error}); the frames before are kept",
                    path.display()
                ));
                has_failed = true;
            }
            None => {}
        }
    }
    if let Some(encoder) = encoder
        && let Err(error) =
            encoder.into_inner().and_then(|mut writer| std::io::Write::flush(&mut writer).map_err(Into::into))
    {
        set_status(status, |s| {
            s.error.get_or_insert_with(|| format!("cannot finish {}: {error}", path.display()));
        });
    }
    set_status(status, |s| s.is_finished = true);
}

fn open(path: &Path, width: u16, height: u16) -> Result<gif::Encoder<BufWriter<File>>, String> {
    let file = File::create(path).map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    let mut encoder = gif::Encoder::new(BufWriter::new(file), width, height, &[])
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    encoder.set_repeat(gif::Repeat::Infinite).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(encoder)
}

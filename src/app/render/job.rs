//! The app's "Render video…": a take rendered to an MP4 on a named background thread, with its
//! progress readable at any time and its bytes handed back to the app when done (the file
//! thread then saves them under a fresh name, as every saved file). The UI never waits for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{Take, TakeSettings, TakeSource};
use crate::media::video::{VideoEncoder, VideoFormat};

/// How a render is going.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Progress {
    frames_done: u64,
    frames_total: u64,
    /// The MP4's bytes, or why there are none, once the thread is done.
    outcome: Option<Result<RenderedVideo, String>>,
}

/// A finished video.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedVideo {
    /// The MP4's bytes.
    pub bytes: Vec<u8>,
    /// What it shows, in words ("lesson 2, 300 frames of 1280×720 at 30 fps").
    pub summary: String,
}

/// A render on its thread.
pub struct RenderJob {
    progress: Arc<Mutex<Progress>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// What is rendered, in words.
    what: String,
}

impl RenderJob {
    /// Starts rendering `source` as `settings` say, to an MP4; `what` names it in messages and
    /// `wake` asks the UI for a frame (called every few frames and at the end).
    pub fn start(
        source: TakeSource,
        settings: TakeSettings,
        what: String,
        wake: Box<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Self> {
        let progress = Arc::new(Mutex::new(Progress::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_progress, thread_stop) = (Arc::clone(&progress), Arc::clone(&stop));
        let summary_what = what.clone();
        let thread = std::thread::Builder::new().name("video-render".to_owned()).spawn(move || {
            let outcome = render(&source, &settings, &summary_what, &thread_progress, &thread_stop, wake.as_ref());
            if let Ok(mut progress) = thread_progress.lock() {
                progress.outcome = Some(outcome);
            }
            wake();
        })?;
        Ok(Self { progress, stop, thread: Some(thread), what })
    }

    /// The progress in a few words, while the render runs.
    pub fn progress_text(&self) -> String {
        let progress = self.progress.lock().map(|progress| (progress.frames_done, progress.frames_total));
        match progress {
            Ok((_, 0)) | Err(_) => format!("Rendering {}… starting", self.what),
            Ok((done, total)) => format!("Rendering {}… frame {done} of {total}", self.what),
        }
    }

    /// The outcome, once the thread is done (once).
    pub fn take_outcome(&mut self) -> Option<Result<RenderedVideo, String>> {
        let outcome = self.progress.lock().ok().and_then(|mut progress| progress.outcome.take())?;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        Some(outcome)
    }
}

impl Drop for RenderJob {
    /// Stops the render at its next frame and waits for the thread.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The render itself, on the job's thread.
fn render(
    source: &TakeSource,
    settings: &TakeSettings,
    what: &str,
    progress: &Mutex<Progress>,
    stop: &AtomicBool,
    wake: &(dyn Fn() + Send + Sync),
) -> Result<RenderedVideo, String> {
    /// Wake the UI every this many frames, so the progress moves without a frame per frame.
    const WAKE_EVERY: u64 = 5;
    let mut take = Take::new(source, settings.clone()).map_err(|error| error.to_string())?;
    let total = take.frame_count();
    if let Ok(mut progress) = progress.lock() {
        progress.frames_total = total;
    }
    let mut encoder = VideoEncoder::new(VideoFormat::Mp4, settings.size, settings.frames_per_second, None)
        .map_err(|error| error.to_string())?;
    while let Some(frame) = take.next_frame() {
        if stop.load(Ordering::Relaxed) {
            return Err("the render was stopped".to_owned());
        }
        encoder.push(&frame).map_err(|error| error.to_string())?;
        let done = encoder.frames();
        if let Ok(mut progress) = progress.lock() {
            progress.frames_done = done;
        }
        if done.is_multiple_of(WAKE_EVERY) {
            wake();
        }
    }
    let frames = encoder.frames();
    let bytes = encoder.finish().map_err(|error| error.to_string())?;
    let (width, height) = settings.size;
    let summary = format!(
        "{what}, {frames} frames of {width}×{height} at {} fps, up to step {}",
        settings.frames_per_second,
        take.step()
    );
    Ok(RenderedVideo { bytes, summary })
}

//! File input and output, never on the UI's path. Saving encodes the content to bytes here
//! (text, or a PNG with its caption strip drawn with the app's fonts), then hands the bytes to
//! the platform: on the desktop a named thread writes them to a fresh file, never overwriting
//! one; in a browser tab, which has neither threads nor files, they are offered as a download
//! ([`WebPage::download`]), a job per frame ([`FileJobs::pump`]). Reading checks a run record
//! or a network file, from a path (the desktop's thread) or from bytes (a file picked or
//! dropped in a browser).
//!
//! The UI only queues jobs and takes outcomes, both without waiting; the thread wakes the UI
//! after each outcome.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;

use super::caption_strips::CaptionStrips;
use super::file_job::{FileJob, FileOutcome, FileSource};
use super::file_job::{JOB_CAPACITY, parse_bytes, read_dropped, read_failed, read_network, read_record};
#[cfg(not(target_arch = "wasm32"))]
use super::file_thread::FileThread;
use super::web_page::WebPage;
use crate::media::CaptionPainter;

/// Runs file jobs: on a thread that writes files, or in frames that offer downloads.
pub struct FileJobs {
    runner: Runner,
    /// Jobs queued whose outcome has not been read.
    in_flight: usize,
    /// A video being rendered (the desktop's "Render video…"), on a thread of its own.
    #[cfg(not(target_arch = "wasm32"))]
    render: Option<super::render::job::RenderJob>,
    /// Asks the UI for a frame (after an outcome, or as a render moves on).
    #[cfg(not(target_arch = "wasm32"))]
    wake: std::sync::Arc<dyn Fn() + Send + Sync>,
}

/// Where the jobs run.
enum Runner {
    /// The desktop's file thread.
    #[cfg(not(target_arch = "wasm32"))]
    Thread(FileThread),
    /// A browser tab: jobs run one a frame, saved files are downloads.
    InFrame(Box<InFrameJobs>),
}

/// The jobs of a browser tab.
struct InFrameJobs {
    /// Jobs waiting for [`FileJobs::pump`] (at most [`JOB_CAPACITY`]).
    jobs: VecDeque<FileJob>,
    /// Outcomes waiting for the UI.
    outcomes: VecDeque<FileOutcome>,
    /// Draws screenshots' caption strips (its fonts load at the first one).
    captions: CaptionStrips,
    /// Where downloads go.
    page: Rc<dyn WebPage>,
}

impl FileJobs {
    /// Starts the file thread; `wake` is called after each outcome (to ask for a repaint).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn spawn(wake: Box<dyn Fn() + Send + Sync>) -> std::io::Result<Self> {
        let wake: std::sync::Arc<dyn Fn() + Send + Sync> = std::sync::Arc::from(wake);
        let thread_wake = std::sync::Arc::clone(&wake);
        let runner = Runner::Thread(FileThread::spawn(Box::new(move || thread_wake()))?);
        Ok(Self { runner, in_flight: 0, render: None, wake })
    }

    /// Starts rendering a video of `source` on its own thread (one at a time); `what` names it.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn start_render(
        &mut self,
        source: super::render::TakeSource,
        settings: super::render::TakeSettings,
        what: String,
    ) -> Result<(), String> {
        if self.render.is_some() {
            return Err("a video is already rendering".to_owned());
        }
        let wake = std::sync::Arc::clone(&self.wake);
        let job = super::render::job::RenderJob::start(source, settings, what, Box::new(move || wake()))
            .map_err(|error| format!("the render thread could not start: {error}"))?;
        self.render = Some(job);
        Ok(())
    }

    /// The render's progress in words, while a video renders.
    pub fn render_progress(&self) -> Option<String> {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.render.as_ref().map(super::render::job::RenderJob::progress_text)
        }
        #[cfg(target_arch = "wasm32")]
        None
    }

    /// The finished render's video (or why there is none), once (desktop only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn take_render_outcome(&mut self) -> Option<Result<super::render::job::RenderedVideo, String>> {
        let outcome = self.render.as_mut()?.take_outcome()?;
        self.render = None;
        Some(outcome)
    }

    /// Jobs for a browser tab: saved files are offered as downloads through `page`, files to
    /// read come as bytes, and each job runs in a frame ([`FileJobs::pump`]). Never touches a
    /// file system.
    pub fn in_frame(page: Rc<dyn WebPage>) -> Self {
        let runner = Runner::InFrame(Box::new(InFrameJobs {
            jobs: VecDeque::new(),
            outcomes: VecDeque::new(),
            captions: CaptionStrips::default(),
            page,
        }));
        Self {
            runner,
            in_flight: 0,
            #[cfg(not(target_arch = "wasm32"))]
            render: None,
            #[cfg(not(target_arch = "wasm32"))]
            wake: std::sync::Arc::new(|| {}),
        }
    }

    /// Queues `job` without waiting; a full queue or a dead thread gives a message.
    pub fn submit(&mut self, job: FileJob) -> Result<(), String> {
        match &mut self.runner {
            #[cfg(not(target_arch = "wasm32"))]
            Runner::Thread(thread) => thread.submit(job)?,
            Runner::InFrame(in_frame) => {
                if in_frame.jobs.len() >= JOB_CAPACITY {
                    return Err("too many files are being prepared; try again in a moment".to_owned());
                }
                in_frame.jobs.push_back(job);
            }
        }
        self.in_flight += 1;
        Ok(())
    }

    /// In a browser tab: runs the oldest waiting job (one a frame, so a frame stays short).
    /// Does nothing for the file thread. Returns whether jobs still wait (then the app asks
    /// for another frame).
    pub fn pump(&mut self) -> bool {
        match &mut self.runner {
            #[cfg(not(target_arch = "wasm32"))]
            Runner::Thread(_) => false,
            Runner::InFrame(in_frame) => {
                let InFrameJobs { jobs, outcomes, captions, page } = &mut **in_frame;
                if let Some(job) = jobs.pop_front() {
                    outcomes.push_back(run_in_frame(job, captions, page.as_ref()));
                }
                !jobs.is_empty()
            }
        }
    }

    /// The next outcome, if one is waiting (never waits).
    pub fn try_outcome(&mut self) -> Option<FileOutcome> {
        let outcome = match &mut self.runner {
            #[cfg(not(target_arch = "wasm32"))]
            Runner::Thread(thread) => thread.try_outcome(),
            Runner::InFrame(in_frame) => in_frame.outcomes.pop_front(),
        };
        if outcome.is_some() {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        outcome
    }

    /// Whether a job is queued or running.
    pub fn is_busy(&self) -> bool {
        self.in_flight > 0
    }
}

/// The folder new files go to by default: `$HOME/relu-lab`, or the current folder.
pub fn default_folder() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join("relu-lab"))
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs one job in a browser's frame: a save is encoded and offered as a download through
/// `page`; a read takes bytes only (there are no paths to read).
fn run_in_frame(job: FileJob, captions: &mut dyn CaptionPainter, page: &dyn WebPage) -> FileOutcome {
    match job {
        FileJob::Save { what, target, content } => {
            let name = target.file_name();
            let downloaded = content.encode(captions).and_then(|bytes| match bytes {
                Some(bytes) => page.download(&name, &bytes).map(|()| bytes.len() as u64),
                // A GIF made in memory needs no reservation: it is downloaded when done.
                None => Ok(0),
            });
            match downloaded {
                Ok(bytes) => FileOutcome::Saved { what, path: PathBuf::from(name), bytes },
                Err(message) => FileOutcome::Failed { what, message },
            }
        }
        FileJob::ReadRunRecord { source, live } => {
            read_bytes_only(&source, "run record", |text, path| read_record(text, path, live))
        }
        FileJob::ReadNetwork(source) => read_bytes_only(&source, "network", read_network),
        FileJob::ReadDropped(source) => read_bytes_only(&source, "dropped file", read_dropped),
    }
}

/// Reads `source` when it is bytes; a path cannot be read in a browser.
fn read_bytes_only(source: &FileSource, what: &str, parse: impl FnOnce(&str, PathBuf) -> FileOutcome) -> FileOutcome {
    match source {
        FileSource::Path(path) => read_failed(
            what,
            format!(
                "{} cannot be read in a browser: choose the file with a Load button, or drop it on the window",
                path.display()
            ),
        ),
        FileSource::Bytes { bytes, .. } => parse_bytes(bytes, source.path(), what, parse),
    }
}

/// A file name made safe: letters, digits, `-` and `_` kept, runs of anything else become `-`.
pub fn file_stem(text: &str) -> String {
    let mut stem = String::new();
    for character in text.chars() {
        if character.is_ascii_alphanumeric() || character == '_' {
            stem.push(character.to_ascii_lowercase());
        } else if !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem = stem.trim_matches('-');
    if stem.is_empty() { "relu-lab".to_owned() } else { stem.to_owned() }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::app::file_job::{Content, SaveTarget};
    use crate::app::web_page::{FilePurpose, OpenedFile};
    use crate::media::RgbaImage;
    use crate::train::RunRecord;
    use crate::train::{RunConfig, Session};

    /// A page that keeps what it is asked to download.
    #[derive(Default)]
    struct Downloads {
        files: RefCell<Vec<(String, Vec<u8>)>>,
    }

    impl WebPage for Downloads {
        fn download(&self, file_name: &str, bytes: &[u8]) -> Result<(), String> {
            self.files.borrow_mut().push((file_name.to_owned(), bytes.to_vec()));
            Ok(())
        }
        fn pick_file(&self, _: FilePurpose) {}
        fn read_dropped_file(&self, _: egui::DroppedFileHandle) {}
        fn take_opened_file(&self) -> Option<OpenedFile> {
            None
        }
        fn copy_text(&self, _: &str) -> Result<(), String> {
            Ok(())
        }
        fn address_with_fragment(&self, fragment: &str) -> String {
            format!("https://example.org/#{fragment}")
        }
        fn show_fragment(&self, _: &str) {}
        fn take_visited_fragment(&self) -> Option<String> {
            None
        }
    }

    fn in_frame() -> (FileJobs, Rc<Downloads>) {
        let page = Rc::new(Downloads::default());
        (FileJobs::in_frame(Rc::clone(&page) as Rc<dyn WebPage>), page)
    }

    fn target(stem: &str, extension: &'static str) -> SaveTarget {
        // A folder that does not exist: a browser never looks at it.
        SaveTarget {
            folder: PathBuf::from("/nonexistent/relu-lab"),
            stem: stem.to_owned(),
            extension,
            may_create_folder: false,
        }
    }

    fn record_after(steps: u64) -> RunRecord {
        let mut session = Session::new(RunConfig::default()).unwrap();
        for _ in 0..steps {
            session.step();
        }
        RunRecord::single(session.record(), None)
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("1. A healthy ReLU network"), "1-a-healthy-relu-network");
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("???"), "relu-lab");
    }

    #[test]
    fn in_a_browser_a_saved_record_is_a_download_that_reads_back() {
        let (mut jobs, page) = in_frame();
        let record = record_after(25);
        let content = Content::Record(Box::new(record.clone()));
        jobs.submit(FileJob::Save { what: "run record".to_owned(), target: target("run-step25", "json"), content })
            .unwrap();
        assert!(jobs.is_busy());
        assert_eq!(jobs.try_outcome(), None, "nothing happens before the frame runs it");
        assert!(!jobs.pump(), "no job waits after the only one ran");
        let Some(FileOutcome::Saved { path, bytes, .. }) = jobs.try_outcome() else { panic!("not saved") };
        assert_eq!(path, PathBuf::from("run-step25.json"));
        let files = page.files.borrow();
        assert_eq!(files.len(), 1);
        assert_eq!((files[0].0.as_str(), files[0].1.len() as u64), ("run-step25.json", bytes));
        let source = FileSource::Bytes { name: files[0].0.clone(), bytes: files[0].1.clone() };
        jobs.submit(FileJob::ReadRunRecord { source, live: false }).unwrap();
        jobs.pump();
        let Some(FileOutcome::RunRecordRead { record: read, live: false, .. }) = jobs.try_outcome() else {
            panic!("not read")
        };
        assert_eq!(*read, record, "the same record, digest and all");
        assert!(!jobs.is_busy());
    }

    #[test]
    fn in_a_browser_a_screenshot_is_a_png_with_its_caption_strip() {
        let (mut jobs, page) = in_frame();
        let image = RgbaImage::filled(120, 40, [10, 200, 30, 255]);
        let content = Content::Png { image, caption: "ReLU Lab · step 7".to_owned(), pixels_per_point: 1.0 };
        jobs.submit(FileJob::Save { what: "screenshot".to_owned(), target: target("window-step7", "png"), content })
            .unwrap();
        jobs.pump();
        assert!(matches!(jobs.try_outcome(), Some(FileOutcome::Saved { .. })));
        let files = page.files.borrow();
        let decoder = png::Decoder::new(std::io::Cursor::new(files[0].1.clone()));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().width, 120);
        assert!(reader.info().height > 40 + 20, "the picture and a strip of text below it");
    }

    #[test]
    fn in_a_browser_jobs_run_one_a_frame_and_paths_are_refused() {
        let (mut jobs, page) = in_frame();
        for index in 0..3 {
            let content = Content::Text(format!("file {index}"));
            jobs.submit(FileJob::Save { what: "text".to_owned(), target: target("t", "txt"), content }).unwrap();
        }
        jobs.submit(FileJob::ReadNetwork(FileSource::Path(PathBuf::from("/etc/hostname")))).unwrap();
        assert!(jobs.pump() && jobs.pump() && jobs.pump());
        assert_eq!(page.files.borrow().len(), 3);
        assert!(!jobs.pump());
        let outcomes: Vec<FileOutcome> = std::iter::from_fn(|| jobs.try_outcome()).collect();
        let Some(FileOutcome::ReadFailed { message, .. }) = outcomes.last() else { panic!("{outcomes:?}") };
        assert!(message.contains("cannot be read in a browser"), "{message}");
        for _ in 0..JOB_CAPACITY {
            jobs.submit(FileJob::Save { what: "x".to_owned(), target: target("x", "txt"), content: Content::Reserve })
                .unwrap();
        }
        let full = FileJob::Save { what: "x".to_owned(), target: target("x", "txt"), content: Content::Reserve };
        assert!(jobs.submit(full).unwrap_err().contains("try again"), "the queue is bounded");
    }

    #[test]
    fn broken_uploads_give_a_message_naming_the_file_and_nothing_else() {
        let (mut jobs, _) = in_frame();
        let text = record_after(3).to_json();
        let truncated = text.as_bytes()[..text.len() / 2].to_vec();
        let cases = [
            (FileJob::ReadRunRecord { source: bytes("half.json", truncated), live: true }, "half.json"),
            (FileJob::ReadNetwork(bytes("image.png", vec![0x89, b'P', b'N', b'G', 0xff, 0xfe])), "not a text file"),
            (FileJob::ReadDropped(bytes("notes.json", b"{\"format\": 3}".to_vec())), "notes.json"),
        ];
        for (job, expected) in cases {
            jobs.submit(job).unwrap();
            jobs.pump();
            let Some(FileOutcome::ReadFailed { message, .. }) = jobs.try_outcome() else { panic!("{expected}") };
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn a_dropped_file_is_told_apart_by_its_contents() {
        let (mut jobs, _) = in_frame();
        let session = Session::new(RunConfig::default()).unwrap();
        let network = session.network_file().to_json();
        jobs.submit(FileJob::ReadDropped(bytes("net.json", network.into_bytes()))).unwrap();
        jobs.submit(FileJob::ReadDropped(bytes("run.json", record_after(4).to_json().into_bytes()))).unwrap();
        jobs.pump();
        jobs.pump();
        assert!(matches!(jobs.try_outcome(), Some(FileOutcome::NetworkRead { .. })));
        assert!(matches!(jobs.try_outcome(), Some(FileOutcome::RunRecordRead { live: false, .. })));
    }

    fn bytes(name: &str, bytes: Vec<u8>) -> FileSource {
        FileSource::Bytes { name: name.to_owned(), bytes }
    }
}

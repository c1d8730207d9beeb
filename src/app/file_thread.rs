//! The desktop's file thread: one named thread takes jobs from a bounded queue, writes each
//! saved file to a fresh path (never overwriting one) and reads files to load, and sends back
//! what happened; the UI only `try_send`s jobs and `try_recv`s outcomes, and the thread wakes
//! the UI after each outcome. Screenshots get their caption strip here too, so drawing it costs
//! the UI nothing. (A browser has neither threads nor files: see [`super::file_jobs`].)

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use super::caption_strips::CaptionStrips;
use super::file_job::{
    Content, FileJob, FileOutcome, FileSource, JOB_CAPACITY, MAX_READ_BYTES, SaveTarget, parse_bytes, read_dropped,
    read_failed, read_network, read_record,
};
use crate::media::CaptionPainter;

/// Outcomes that may wait for the UI.
const OUTCOME_CAPACITY: usize = 32;
/// The most numbered variants tried when a file name is taken.
const MAX_NAME_ATTEMPTS: u32 = 1000;

/// Owns the file thread and both queue ends.
pub(super) struct FileThread {
    /// UI → file thread: jobs, bounded; the UI only `try_send`s.
    jobs: Option<SyncSender<FileJob>>,
    /// File thread → UI: outcomes, in order.
    outcomes: Receiver<FileOutcome>,
    thread: Option<JoinHandle<()>>,
}

impl FileThread {
    /// Starts the file thread; `wake` is called after each outcome (to ask for a repaint).
    pub(super) fn spawn(wake: Box<dyn Fn() + Send + Sync>) -> std::io::Result<Self> {
        let (job_sender, job_receiver) = sync_channel::<FileJob>(JOB_CAPACITY);
        let (outcome_sender, outcome_receiver) = sync_channel(OUTCOME_CAPACITY);
        let thread = std::thread::Builder::new().name("file-jobs".to_owned()).spawn(move || {
            // The fonts for caption strips load at the first screenshot.
            let mut captions = CaptionStrips::default();
            while let Ok(job) = job_receiver.recv() {
                if outcome_sender.send(run(job, &mut captions)).is_err() {
                    break;
                }
                wake();
            }
        })?;
        Ok(Self { jobs: Some(job_sender), outcomes: outcome_receiver, thread: Some(thread) })
    }

    /// Queues `job` without waiting; a full queue or a dead thread gives a message.
    pub(super) fn submit(&self, job: FileJob) -> Result<(), String> {
        let Some(jobs) = &self.jobs else { return Err("the file thread has stopped".to_owned()) };
        jobs.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => "too many files are being written; try again in a moment".to_owned(),
            TrySendError::Disconnected(_) => "the file thread has stopped".to_owned(),
        })
    }

    /// The next outcome, if one is waiting (never waits).
    pub(super) fn try_outcome(&self) -> Option<FileOutcome> {
        self.outcomes.try_recv().ok()
    }
}

impl Drop for FileThread {
    fn drop(&mut self) {
        // Closing the queue ends the thread after the jobs already queued (small writes).
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs one job on the file thread; `captions` draws the strips of screenshots.
fn run(job: FileJob, captions: &mut dyn CaptionPainter) -> FileOutcome {
    match job {
        FileJob::Save { what, target, content } => match save(&target, &content, captions) {
            Ok((path, bytes)) => FileOutcome::Saved { what, path, bytes },
            Err(message) => FileOutcome::Failed { what, message },
        },
        FileJob::ReadRunRecord { source, live } => {
            read(&source, "run record", |text, path| read_record(text, path, live))
        }
        FileJob::ReadNetwork(source) => read(&source, "network", read_network),
        FileJob::ReadDropped(source) => read(&source, "dropped file", read_dropped),
    }
}

/// Reads `source` (a path or bytes) as text, then `parse`s it.
fn read(source: &FileSource, what: &str, parse: impl FnOnce(&str, PathBuf) -> FileOutcome) -> FileOutcome {
    let bytes = match source {
        FileSource::Path(path) => match read_file(path) {
            Ok(bytes) => bytes,
            Err(message) => return read_failed(what, message),
        },
        FileSource::Bytes { bytes, .. } => bytes.clone(),
    };
    parse_bytes(&bytes, source.path(), what, parse)
}

/// A file's bytes, up to [`MAX_READ_BYTES`].
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let cannot_read = |error: std::io::Error| format!("cannot read {}: {error}", path.display());
    let size = std::fs::metadata(path).map_err(cannot_read)?.len();
    if size > MAX_READ_BYTES {
        return Err(format!("{} is {} MB; files to load may be at most 64 MB", path.display(), size >> 20));
    }
    std::fs::read(path).map_err(cannot_read)
}

/// Writes `content` to a fresh file in the target folder; returns its path and size.
fn save(target: &SaveTarget, content: &Content, captions: &mut dyn CaptionPainter) -> Result<(PathBuf, u64), String> {
    // Encoded first: a failure leaves no file to clean up.
    let bytes = content.encode(captions)?;
    let folder = &target.folder;
    if target.may_create_folder && !folder.is_dir() {
        std::fs::create_dir_all(folder).map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    }
    if !folder.is_dir() {
        return Err(format!("the folder {} does not exist", folder.display()));
    }
    let (path, mut file) = create_fresh(folder, &target.stem, target.extension)?;
    let Some(bytes) = bytes else { return Ok((path, 0)) };
    let written = file
        .write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|error| format!("cannot write {}: {error}", path.display()));
    if let Err(message) = written {
        // Leave no half-written file behind.
        let _ = std::fs::remove_file(&path);
        return Err(message);
    }
    Ok((path, bytes.len() as u64))
}

/// Creates `stem.extension` in `folder`, or `stem-2.extension`, … if taken (never overwrites).
fn create_fresh(folder: &Path, stem: &str, extension: &str) -> Result<(PathBuf, File), String> {
    for attempt in 1..=MAX_NAME_ATTEMPTS {
        let name = if attempt == 1 { format!("{stem}.{extension}") } else { format!("{stem}-{attempt}.{extension}") };
        let path = folder.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(format!("cannot create {}: {error}", path.display())),
        }
    }
    Err(format!("too many files named {stem}-….{extension} in {}", folder.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::RgbaImage;

    fn save_text(target: &SaveTarget, text: &str) -> Result<(PathBuf, u64), String> {
        save(target, &Content::Text(text.to_owned()), &mut CaptionStrips::default())
    }

    #[test]
    fn a_taken_name_gets_a_number_and_nothing_is_overwritten() {
        let folder = std::env::temp_dir().join(format!("relu-lab-file-jobs-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let target =
            SaveTarget { folder: folder.clone(), stem: "same".to_owned(), extension: "txt", may_create_folder: false };
        let (first, _) = save_text(&target, "one").unwrap();
        let (second, bytes) = save_text(&target, "three").unwrap();
        assert_eq!(first.file_name().unwrap(), "same.txt");
        assert_eq!(second.file_name().unwrap(), "same-2.txt");
        assert_eq!(bytes, 5);
        assert_eq!(std::fs::read_to_string(first).unwrap(), "one");
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn a_missing_folder_is_reported_unless_it_may_be_created() {
        let base = std::env::temp_dir().join(format!("relu-lab-file-jobs-missing-{}", std::process::id()));
        let folder = base.join("a").join("b");
        let mut target =
            SaveTarget { folder: folder.clone(), stem: "x".to_owned(), extension: "csv", may_create_folder: false };
        let error = save_text(&target, "").unwrap_err();
        assert!(error.contains("does not exist"), "{error}");
        target.may_create_folder = true;
        let (path, _) = save_text(&target, "step").unwrap();
        assert!(path.starts_with(&folder));
        let _ = std::fs::remove_dir_all(base);
    }

    #[test]
    fn a_screenshot_gets_its_caption_as_a_strip_below_its_pixels() {
        let folder = std::env::temp_dir().join(format!("relu-lab-file-jobs-png-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        // A 320×90 picture whose bottom rows stand for a plot's axis labels: a pattern no
        // caption strip could repeat.
        let (width, height) = (320, 90);
        let pixels = (0..width * height).flat_map(|at| [(at % 251) as u8, (at / width) as u8, 200, 255]).collect();
        let image = RgbaImage { width, height, pixels };
        let caption = "ReLU Lab · step 6978 · ReLU · learning rate 3 · 2. Too high a learning rate kills neurons";
        let content = Content::Png { image: image.clone(), caption: caption.to_owned(), pixels_per_point: 1.0 };
        let target =
            SaveTarget { folder: folder.clone(), stem: "shot".to_owned(), extension: "png", may_create_folder: false };
        let (path, _) = save(&target, &content, &mut CaptionStrips::default()).unwrap();

        let decoder = png::Decoder::new(std::io::BufReader::new(File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut saved = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut saved).unwrap();
        let description = &reader.info().uncompressed_latin1_text;
        let has_description = description.iter().any(|chunk| chunk.keyword == "Description");
        let strip = CaptionStrips::default().paint(caption, width, 1.0, None);
        assert!(strip.height >= 20, "a row of 14-point text and its padding: {}", strip.height);
        assert_eq!((info.width as usize, info.height as usize), (width, height + strip.height), "the image grew");
        let (top, bottom) = saved.split_at(width * height * 4);
        assert_eq!(top, &image.pixels[..], "every captured pixel is kept, unchanged and uncovered");
        assert_eq!(bottom, &strip.pixels[..], "the strip follows");
        let captured_rows: Vec<&[u8]> = image.pixels.chunks(width * 4).collect();
        assert!(bottom.chunks(width * 4).all(|row| !captured_rows.contains(&row)), "the strip is not the picture");
        let mut colours: Vec<&[u8]> = bottom.chunks(4).collect();
        colours.sort_unstable();
        colours.dedup();
        assert!(colours.len() > 4, "the strip has text on it, not just a background: {colours:?}");
        assert!(has_description || !reader.info().utf8_text.is_empty(), "the caption is in the description too");
        let _ = std::fs::remove_dir_all(folder);
    }
}

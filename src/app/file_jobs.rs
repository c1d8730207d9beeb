//! File input and output off the UI thread: one named thread takes jobs from a bounded queue
//! and sends back what happened; the UI only `try_send`s jobs and `try_recv`s outcomes, and the
//! thread wakes the UI after each outcome. Screenshots get their caption strip here too, so
//! drawing it costs the UI nothing.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread::JoinHandle;

use super::capture::CaptionStrips;
use crate::media::{CaptionPainter, RgbaImage, captioned, write_png};
use crate::train::export::{NetworkFile, history_csv, history_json_lines};
use crate::train::{HistoryPoint, RunRecord};

/// Jobs that may wait for the file thread.
const JOB_CAPACITY: usize = 16;
/// Outcomes that may wait for the UI.
const OUTCOME_CAPACITY: usize = 32;
/// The most numbered variants tried when a file name is taken.
const MAX_NAME_ATTEMPTS: u32 = 1000;

/// Where new files go, and which folder may be created when it is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveTarget {
    /// The folder to write into.
    pub folder: PathBuf,
    /// The file name without extension; `-2`, `-3`, … is added if it is taken.
    pub stem: String,
    /// The extension, without the dot.
    pub extension: &'static str,
    /// Create `folder` (and its parents) if it is missing: only for the default folder, so a
    /// mistyped path is reported rather than created.
    pub may_create_folder: bool,
}

/// What to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    /// Text, written as is.
    Text(String),
    /// An image, written as a PNG with `caption` in a strip appended below its pixels (the
    /// file is taller than `image` by the strip's height) and in its description.
    Png {
        /// The captured pixels.
        image: RgbaImage,
        /// Drawn in the strip, and kept in the PNG's `Description` text chunk.
        caption: String,
        /// The image's pixels per point: the strip's text is as large as the app's.
        pixels_per_point: f32,
    },
    /// A history as CSV (the columns of `relu-lab run --csv`).
    HistoryCsv(Vec<HistoryPoint>),
    /// A history as JSON lines (those of `relu-lab run --json`).
    HistoryJsonLines(Vec<HistoryPoint>),
    /// A network file.
    Network(Box<NetworkFile>),
    /// A run record.
    Record(Box<RunRecord>),
    /// Nothing: only reserve a fresh path (the GIF encoder writes the file itself).
    Reserve,
}

impl Content {
    /// The text of a text file (formatted here, on the file thread).
    fn text(&self) -> Option<String> {
        match self {
            Self::Text(text) => Some(text.clone()),
            Self::HistoryCsv(points) => Some(history_csv(points)),
            Self::HistoryJsonLines(points) => Some(history_json_lines(points)),
            Self::Network(network) => Some(network.to_json()),
            Self::Record(record) => Some(record.to_json()),
            Self::Png { .. } | Self::Reserve => None,
        }
    }
}

/// A request to the file thread.
#[derive(Clone, Debug, PartialEq)]
pub enum FileJob {
    /// Write a new file.
    Save {
        /// What it is, in words ("history CSV").
        what: String,
        /// Where.
        target: SaveTarget,
        /// What.
        content: Content,
    },
    /// Read a run record; `live` says whether it is to be replayed live.
    ReadRunRecord {
        /// From where.
        path: PathBuf,
        /// Replay it live (else continue from its end).
        live: bool,
    },
    /// Read a network file.
    ReadNetwork(PathBuf),
}

/// What a job did.
#[derive(Clone, Debug, PartialEq)]
pub enum FileOutcome {
    /// A file was written (or, for [`Content::Reserve`], created empty for its writer).
    Saved {
        /// What it is, in words.
        what: String,
        /// The path written.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// A run record was read and checked.
    RunRecordRead {
        /// From where.
        path: PathBuf,
        /// The record.
        record: Box<RunRecord>,
        /// Replay it live (else continue from its end).
        live: bool,
    },
    /// A network file was read and checked.
    NetworkRead {
        /// From where.
        path: PathBuf,
        /// The network.
        network: Box<NetworkFile>,
    },
    /// The job failed; nothing (or only a part, as said) was written.
    Failed {
        /// What it was about, in words.
        what: String,
        /// Why, in words.
        message: String,
    },
}

/// Owns the file thread and both queue ends.
pub struct FileJobs {
    /// UI → file thread: jobs, bounded; the UI only `try_send`s.
    jobs: Option<SyncSender<FileJob>>,
    /// File thread → UI: outcomes, in order.
    outcomes: Receiver<FileOutcome>,
    /// Jobs sent whose outcome has not been read.
    in_flight: usize,
    thread: Option<JoinHandle<()>>,
}

impl FileJobs {
    /// Starts the file thread; `wake` is called after each outcome (to ask for a repaint).
    pub fn spawn(wake: Box<dyn Fn() + Send + Sync>) -> std::io::Result<Self> {
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
        Ok(Self { jobs: Some(job_sender), outcomes: outcome_receiver, in_flight: 0, thread: Some(thread) })
    }

    /// Queues `job` without waiting; a full queue or a dead thread gives a message.
    pub fn submit(&mut self, job: FileJob) -> Result<(), String> {
        let Some(jobs) = &self.jobs else { return Err("the file thread has stopped".to_owned()) };
        match jobs.try_send(job) {
            Ok(()) => {
                self.in_flight += 1;
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err("too many files are being written; try again in a moment".to_owned()),
            Err(TrySendError::Disconnected(_)) => Err("the file thread has stopped".to_owned()),
        }
    }

    /// The next outcome, if one is waiting (never waits).
    pub fn try_outcome(&mut self) -> Option<FileOutcome> {
        match self.outcomes.try_recv() {
            Ok(outcome) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                Some(outcome)
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    /// Whether a job is queued or running.
    pub fn is_busy(&self) -> bool {
        self.in_flight > 0
    }
}

impl Drop for FileJobs {
    fn drop(&mut self) {
        // Closing the queue ends the thread after the jobs already queued (small writes).
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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

/// Runs one job on the file thread; `captions` draws the strips of screenshots.
fn run(job: FileJob, captions: &mut dyn CaptionPainter) -> FileOutcome {
    match job {
        FileJob::Save { what, target, content } => match save(&target, &content, captions) {
            Ok((path, bytes)) => FileOutcome::Saved { what, path, bytes },
            Err(message) => FileOutcome::Failed { what, message },
        },
        FileJob::ReadRunRecord { path, live } => {
            match std::fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display())) {
                Ok(text) => match RunRecord::from_json(&text) {
                    Ok(record) => FileOutcome::RunRecordRead { path, record: Box::new(record), live },
                    Err(message) => failed("run record", format!("{}: {message}", path.display())),
                },
                Err(message) => failed("run record", message),
            }
        }
        FileJob::ReadNetwork(path) => {
            match std::fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display())) {
                Ok(text) => match NetworkFile::from_json(&text) {
                    Ok(network) => FileOutcome::NetworkRead { path, network: Box::new(network) },
                    Err(message) => failed("network", format!("{}: {message}", path.display())),
                },
                Err(message) => failed("network", message),
            }
        }
    }
}

fn failed(what: &str, message: String) -> FileOutcome {
    FileOutcome::Failed { what: what.to_owned(), message }
}

/// Writes `content` to a fresh file in the target folder; returns its path and size.
fn save(target: &SaveTarget, content: &Content, captions: &mut dyn CaptionPainter) -> Result<(PathBuf, u64), String> {
    // The caption strip is drawn first: a failure leaves no file to clean up.
    let image = if let Content::Png { image, caption, pixels_per_point } = content {
        Some(captioned(image, caption, captions, *pixels_per_point, None)?)
    } else {
        None
    };
    let folder = &target.folder;
    if target.may_create_folder && !folder.is_dir() {
        std::fs::create_dir_all(folder).map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    }
    if !folder.is_dir() {
        return Err(format!("the folder {} does not exist", folder.display()));
    }
    let (path, mut file) = create_fresh(folder, &target.stem, target.extension)?;
    let written = match (content, content.text(), image) {
        (_, Some(text), _) => file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|error| format!("cannot write {}: {error}", path.display())),
        (Content::Png { caption, .. }, None, Some(image)) => {
            drop(file);
            write_png(&path, &image, caption)
        }
        (_, None, _) => Ok(()),
    };
    if let Err(message) = written {
        // Leave no half-written file behind.
        let _ = std::fs::remove_file(&path);
        return Err(message);
    }
    let bytes = std::fs::metadata(&path).map(|metadata| metadata.len()).unwrap_or_default();
    Ok((path, bytes))
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
    use super::*;

    fn save_text(target: &SaveTarget, text: &str) -> Result<(PathBuf, u64), String> {
        save(target, &Content::Text(text.to_owned()), &mut CaptionStrips::default())
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("1. A healthy ReLU network"), "1-a-healthy-relu-network");
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("???"), "relu-lab");
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

//! The file jobs' vocabulary, shared by the desktop's file thread and the browser's frames:
//! where a file goes ([`SaveTarget`]), what it holds ([`Content`]), where a file to read comes
//! from ([`FileSource`]), the jobs and what they did; and the checks a file to load passes
//! however it was read.

use std::path::PathBuf;

use crate::media::{CaptionPainter, RgbaImage, captioned, encode_png};
use crate::train::export::{NETWORK_FORMAT, NetworkFile, history_csv, history_json_lines};
use crate::train::{HistoryPoint, RunRecord};

/// Jobs that may wait for the file thread (or, in a browser, for the next frames).
pub(super) const JOB_CAPACITY: usize = 16;
/// The largest run record or network file read, as `relu-lab run` allows.
pub const MAX_READ_BYTES: u64 = 64 << 20;

/// Where new files go, and which folder may be created when it is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveTarget {
    /// The folder to write into (not used in a browser, which downloads).
    pub folder: PathBuf,
    /// The file name without extension; `-2`, `-3`, … is added if it is taken.
    pub stem: String,
    /// The extension, without the dot.
    pub extension: &'static str,
    /// Create `folder` (and its parents) if it is missing: only for the default folder, so a
    /// mistyped path is reported rather than created.
    pub may_create_folder: bool,
}

impl SaveTarget {
    /// The file name the target asks for: `stem.extension`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.stem, self.extension)
    }
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
    /// Bytes already encoded (a GIF recorded in memory), written as they are.
    Encoded(Vec<u8>),
    /// Nothing: only reserve a fresh path (the GIF encoder writes the file itself).
    Reserve,
}

impl Content {
    /// The file's bytes (formatted and encoded here, off the UI's path); `None` for a
    /// reservation. `captions` draws a screenshot's caption strip.
    pub(super) fn encode(&self, captions: &mut dyn CaptionPainter) -> Result<Option<Vec<u8>>, String> {
        let text = match self {
            Self::Text(text) => text.clone(),
            Self::HistoryCsv(points) => history_csv(points),
            Self::HistoryJsonLines(points) => history_json_lines(points),
            Self::Network(network) => network.to_json(),
            Self::Record(record) => record.to_json(),
            Self::Png { image, caption, pixels_per_point } => {
                let image = captioned(image, caption, captions, *pixels_per_point, None).map_err(|e| e.to_string())?;
                return encode_png(&image, caption).map(Some).map_err(|error| error.to_string());
            }
            Self::Encoded(bytes) => return Ok(Some(bytes.clone())),
            Self::Reserve => return Ok(None),
        };
        Ok(Some(text.into_bytes()))
    }
}

/// Where a file to read comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileSource {
    /// A path (the desktop).
    Path(PathBuf),
    /// Bytes already read (a file picked or dropped in a browser), and the file's name.
    Bytes {
        /// The file's name, for messages and captions.
        name: String,
        /// Its contents.
        bytes: Vec<u8>,
    },
}

impl FileSource {
    /// The path, or the name as one.
    pub(super) fn path(&self) -> PathBuf {
        match self {
            Self::Path(path) => path.clone(),
            Self::Bytes { name, .. } => PathBuf::from(name),
        }
    }
}

/// A request to the file thread (or, in a browser, to the next frames).
#[derive(Clone, Debug, PartialEq)]
pub enum FileJob {
    /// Write a new file (in a browser: offer it as a download).
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
        source: FileSource,
        /// Replay it live (else continue from its end).
        live: bool,
    },
    /// Read a network file.
    ReadNetwork(FileSource),
    /// Read a file dropped on the window: a run record (continued from its end) or a network
    /// file, told apart by its contents.
    ReadDropped(FileSource),
}

/// What a job did.
#[derive(Clone, Debug, PartialEq)]
pub enum FileOutcome {
    /// A file was written (or, for [`Content::Reserve`], created empty for its writer); in a
    /// browser, offered as a download (nothing is reserved there).
    Saved {
        /// What it is, in words.
        what: String,
        /// The path written (in a browser: the name of the download).
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// A run record was read and checked.
    RunRecordRead {
        /// From where (in a browser: the file's name).
        path: PathBuf,
        /// The record.
        record: Box<RunRecord>,
        /// Replay it live (else continue from its end).
        live: bool,
    },
    /// A network file was read and checked.
    NetworkRead {
        /// From where (in a browser: the file's name).
        path: PathBuf,
        /// The network.
        network: Box<NetworkFile>,
    },
    /// A file to load could not be read, or is not what it should be; nothing changed.
    ReadFailed {
        /// What it was to be, in words ("run record").
        what: String,
        /// Why, in words (naming the file).
        message: String,
    },
    /// The job failed; nothing (or only a part, as said) was written.
    Failed {
        /// What it was about, in words.
        what: String,
        /// Why, in words.
        message: String,
    },
}

/// Checks the size and the text of `bytes`, then `parse`s them.
pub(super) fn parse_bytes(
    bytes: &[u8],
    path: PathBuf,
    what: &str,
    parse: impl FnOnce(&str, PathBuf) -> FileOutcome,
) -> FileOutcome {
    if bytes.len() as u64 > MAX_READ_BYTES {
        return read_failed(
            what,
            format!("{} is {} MB; files to load may be at most 64 MB", path.display(), bytes.len() >> 20),
        );
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text, path),
        Err(_) => {
            read_failed(what, format!("{} is not a text file: a run record or a network is JSON", path.display()))
        }
    }
}

pub(super) fn read_record(text: &str, path: PathBuf, live: bool) -> FileOutcome {
    match RunRecord::from_json(text) {
        Ok(record) => FileOutcome::RunRecordRead { path, record: Box::new(record), live },
        Err(message) => read_failed("run record", format!("{}: {message}", path.display())),
    }
}

pub(super) fn read_network(text: &str, path: PathBuf) -> FileOutcome {
    match NetworkFile::from_json(text) {
        Ok(network) => FileOutcome::NetworkRead { path, network: Box::new(network) },
        Err(message) => read_failed("network", format!("{}: {message}", path.display())),
    }
}

/// A dropped file is a network file if it says so (its `format`), else a run record.
pub(super) fn read_dropped(text: &str, path: PathBuf) -> FileOutcome {
    let format = serde_json::from_str::<serde_json::Value>(text).ok().and_then(|value| {
        value.get("format").and_then(serde_json::Value::as_str).map(|format| format == NETWORK_FORMAT)
    });
    match format {
        Some(true) => read_network(text, path),
        _ => read_record(text, path, false),
    }
}

pub(super) fn read_failed(what: &str, message: String) -> FileOutcome {
    FileOutcome::ReadFailed { what: what.to_owned(), message }
}

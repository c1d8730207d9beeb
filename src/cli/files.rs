//! Files the command line reads and writes, safely.
//!
//! Reading: every file is capped ([`MAX_CONFIG_BYTES`], [`MAX_DATA_BYTES`]), so `/dev/zero`
//! or a huge file gives a message, not a full memory; a leading UTF-8 byte-order mark is left
//! to the parsers, which skip it.
//!
//! Writing: every output path is checked before any training: its folder exists, it is not one
//! of the command's inputs, no two outputs share it, it is not a folder, a device, a named pipe
//! or a socket (even with `--force`: relu-lab writes regular files only), and it does not
//! exist unless `--force`. Messages name the path as the user typed it.
//!
//! Two kinds of output, and what a reader sees of each:
//!
//! - **Streamed** (the CSV, [`OutputPlan::stream`]): created under its final name when the
//!   command starts, with `O_CREAT | O_EXCL` (`create_new`), which fails on any existing entry
//!   and never follows a symbolic link. A second command writing the same name is refused by
//!   name at its start; with `--force` the old regular file is removed first. Each row is one
//!   `write` of a whole line, so `tail -f` shows the rows as they come and a concurrent reader
//!   sees whole lines (the last one may be in flight). When a write fails the file is cut back
//!   to its last whole line and kept.
//! - **Whole** (records, networks, [`OutputPlan::output`]): written to a temporary file in the
//!   same folder, then put in place when complete, so the name holds a whole file or nothing.
//!   The temporary name carries 64 bits of a hash keyed by the standard library's random
//!   `RandomState` (over the process id, the time and a counter), so another user cannot guess
//!   it, and it is also created with `create_new`, so a link planted there is never followed.
//!   Without `--force` the file is put in place with `std::fs::hard_link(temporary, final)`,
//!   which fails if the final name exists: it never replaces a file that appeared during the
//!   run (Linux's `renameat2(RENAME_NOREPLACE)` would need `libc` and `unsafe`, which the crate
//!   forbids). The output is then kept under the next free name (`run-2.json`) and the command
//!   fails saying so. With `--force` it is renamed over the old regular file. On a file system
//!   without hard links, it falls back to a rename after checking the name is still free.
//!
//! Temporary files are removed when a command ends, also after Ctrl-C, SIGTERM, SIGHUP or a
//! write error (only SIGKILL or a power cut can leave one behind).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, anyhow, bail};

/// The largest run config read: configs are a few hundred bytes.
pub(super) const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The largest record or network file read.
pub(super) const MAX_DATA_BYTES: u64 = 64 << 20;
/// The longest file name most file systems allow, in bytes.
const MAX_NAME_BYTES: usize = 255;
/// What a temporary name adds to the output's name: `.` + `.relu-lab-` + 16 hex digits + `.tmp`.
const TEMPORARY_NAME_EXTRA_BYTES: usize = 1 + 10 + 16 + 4;
/// How many alternative names (`run-2.json` …) are tried for an output whose name was taken.
const MAX_ALTERNATIVE_NAMES: u32 = 99;

/// Reads `path` as UTF-8 text of at most `limit` bytes; `what` names it in messages.
pub(super) fn read_capped(path: &Path, limit: u64, what: &str) -> Result<String> {
    let file = File::open(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    if file.metadata().is_ok_and(|metadata| metadata.is_dir()) {
        bail!("cannot read {what} {}: it is a folder", path.display());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).with_context(|| format!("cannot read {what} {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{what} {} is larger than {} MB; relu-lab reads at most that", path.display(), limit >> 20);
    }
    String::from_utf8(bytes).with_context(|| format!("{what} {} is not UTF-8 text", path.display()))
}

/// The outputs a command will write, checked together before it starts.
#[derive(Debug, Default)]
pub(super) struct OutputPlan {
    inputs: Vec<PathBuf>,
    outputs: Vec<(String, PathBuf)>,
}

impl OutputPlan {
    /// Notes an input the outputs must not overwrite.
    pub(super) fn input(&mut self, path: &Path) {
        if let Ok(canonical) = path.canonicalize() {
            self.inputs.push(canonical);
        }
    }

    /// Checks `path` as the output `what`, written whole at the end, and opens its temporary
    /// file. `None` in, `None` out.
    pub(super) fn output(&mut self, what: &str, path: Option<&Path>, force: bool) -> Result<Option<OutputFile>> {
        let Some(path) = path else { return Ok(None) };
        let resolved = self.check(what, path, force)?;
        OutputFile::whole(what, path, resolved, force).map(Some)
    }

    /// Checks `path` as the output `what`, appended to as the command runs, and creates it
    /// under its final name. `None` in, `None` out.
    pub(super) fn stream(&mut self, what: &str, path: Option<&Path>, force: bool) -> Result<Option<OutputFile>> {
        let Some(path) = path else { return Ok(None) };
        let resolved = self.check(what, path, force)?;
        OutputFile::streamed(what, path, resolved, force).map(Some)
    }

    /// Every check an output path must pass; returns the path it resolves to.
    fn check(&mut self, what: &str, path: &Path, force: bool) -> Result<PathBuf> {
        let shown = path.display();
        let resolved = resolve(path).with_context(|| format!("cannot write the {what} to {shown}"))?;
        if self.inputs.contains(&resolved) {
            bail!("the {what} would overwrite {shown}, which this command reads; choose another file");
        }
        if let Some((other, _)) = self.outputs.iter().find(|(_, taken)| taken == &resolved) {
            bail!("the {what} and the {other} would both be written to {shown}; give each its own file");
        }
        match existing_kind(&resolved) {
            Existing::Nothing => {}
            Existing::RegularFile if force => {}
            Existing::RegularFile => {
                bail!("{shown} already exists; pass --force to overwrite it, or choose another name")
            }
            Existing::Other(kind) => bail!(
                "cannot write the {what} to {shown}: it is {kind}, not a regular file; relu-lab writes \
                 only regular files (also with --force), so choose a file name"
            ),
        }
        self.outputs.push((what.to_owned(), resolved.clone()));
        Ok(resolved)
    }
}

/// The absolute path `path` will have: its folder must exist (symbolic links resolved).
fn resolve(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().context("the path has no file name")?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let folder = folder.canonicalize().with_context(|| format!("the folder {} does not exist", folder.display()))?;
    let resolved = folder.join(name);
    // An existing file may be a link to an input: compare where it points.
    Ok(resolved.canonicalize().unwrap_or(resolved))
}

/// What is at an output's path already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Existing {
    Nothing,
    RegularFile,
    /// Anything else, in words ("a folder", "a character device").
    Other(&'static str),
}

fn existing_kind(path: &Path) -> Existing {
    let Ok(entry) = std::fs::symlink_metadata(path) else { return Existing::Nothing };
    // A link was resolved to its target already; one left here points nowhere.
    let Ok(target) = std::fs::metadata(path) else {
        return Existing::Other(if entry.file_type().is_symlink() {
            "a symbolic link to nothing"
        } else {
            "unreadable"
        });
    };
    let kind = target.file_type();
    if kind.is_file() {
        return Existing::RegularFile;
    }
    if kind.is_dir() {
        return Existing::Other("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() {
            return Existing::Other("a character device");
        }
        if kind.is_block_device() {
            return Existing::Other("a block device");
        }
        if kind.is_fifo() {
            return Existing::Other("a named pipe (FIFO)");
        }
        if kind.is_socket() {
            return Existing::Other("a socket");
        }
    }
    Existing::Other("not a regular file")
}

/// How an output reaches its name.
#[derive(Debug)]
enum Destination {
    /// Appended to under its final name; `complete_bytes` is how much of it is whole lines.
    Streamed { complete_bytes: u64 },
    /// Written under `temporary`, put in place by [`OutputFile::finish`].
    Whole { temporary: PathBuf, force: bool },
}

/// An output being written.
#[derive(Debug)]
pub(super) struct OutputFile {
    what: String,
    /// The path as the user typed it, for messages.
    shown: PathBuf,
    /// Where it goes.
    path: PathBuf,
    file: Option<File>,
    destination: Destination,
    /// Put in place (whole) or closed and kept (streamed): nothing to clean up.
    is_done: bool,
}

impl OutputFile {
    fn whole(what: &str, shown: &Path, path: PathBuf, force: bool) -> Result<Self> {
        let (temporary, file) = create_temporary(&path)
            .with_context(|| format!("cannot write the {what} to {}: no temporary file", shown.display()))?;
        Ok(Self {
            what: what.to_owned(),
            shown: shown.to_owned(),
            path,
            file: Some(file),
            destination: Destination::Whole { temporary, force },
            is_done: false,
        })
    }

    fn streamed(what: &str, shown: &Path, path: PathBuf, force: bool) -> Result<Self> {
        let context = || format!("cannot write the {what} to {}", shown.display());
        if force && existing_kind(&path) == Existing::RegularFile {
            std::fs::remove_file(&path).with_context(context)?;
        }
        let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                bail!("{} already exists (another program created it just now); choose another name", shown.display())
            }
            Err(error) => return Err(error).with_context(context),
        };
        Ok(Self {
            what: what.to_owned(),
            shown: shown.to_owned(),
            path,
            file: Some(file),
            destination: Destination::Streamed { complete_bytes: 0 },
            is_done: false,
        })
    }

    /// The path as the user gave it.
    pub(super) fn shown(&self) -> &Path {
        &self.shown
    }

    /// Appends `text` (whole lines) with one write. After a failed write a streamed file is
    /// cut back to its last whole line and closed; later appends fail.
    pub(super) fn append(&mut self, text: &str) -> Result<()> {
        self.append_bytes(text.as_bytes())
    }

    /// Appends `bytes` with one write (a video's chunks); as [`OutputFile::append`].
    pub(super) fn append_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let Some(file) = &mut self.file else { bail!("the {} {} is already closed", self.what, self.shown.display()) };
        match file.write_all(bytes) {
            Ok(()) => {
                if let Destination::Streamed { complete_bytes } = &mut self.destination {
                    *complete_bytes += bytes.len() as u64;
                }
                Ok(())
            }
            Err(error) => {
                if let (Destination::Streamed { complete_bytes }, Some(file)) = (&self.destination, self.file.take()) {
                    // Best effort: a full disk still lets a file shrink.
                    let _ = file.set_len(*complete_bytes);
                }
                Err(anyhow!(error).context(format!("cannot write the {} to {}", self.what, self.shown.display())))
            }
        }
    }

    /// Writes `bytes` (after anything appended) and puts the file in place (a PNG).
    pub(super) fn finish_with_bytes(mut self, bytes: &[u8]) -> Result<PathBuf> {
        self.append_bytes(bytes)?;
        self.finish()
    }

    /// Writes `text` (after anything appended) and puts the file in place.
    pub(super) fn finish_with(mut self, text: &str) -> Result<PathBuf> {
        self.append(text)?;
        self.finish()
    }

    /// Puts the file in place (whole) or closes it (streamed), its data on disk.
    pub(super) fn finish(mut self) -> Result<PathBuf> {
        let context = || format!("cannot write the {} to {}", self.what, self.shown.display());
        if let Some(file) = self.file.take() {
            file.sync_all().with_context(context)?;
        }
        if let Destination::Whole { temporary, force } = &self.destination {
            let placed = place(temporary, &self.path, *force);
            // Whatever happened, the temporary name is not needed any more.
            let _ = std::fs::remove_file(temporary);
            self.is_done = true;
            match placed.with_context(context)? {
                Placed::AtItsName => {}
                Placed::Beside(other) => bail!(
                    "{} appeared while this command ran (another program wrote it), so it was left alone; \
                     this {} is in {}",
                    self.shown.display(),
                    self.what,
                    self.shown.with_file_name(other.file_name().unwrap_or_default()).display()
                ),
            }
        }
        self.is_done = true;
        Ok(self.shown.clone())
    }
}

impl Drop for OutputFile {
    /// An output never finished leaves no temporary file, and a streamed one with no line in
    /// it is removed (it was created by this command; a partial one is kept).
    fn drop(&mut self) {
        if self.is_done {
            return;
        }
        self.file = None;
        match &self.destination {
            Destination::Whole { temporary, .. } => {
                let _ = std::fs::remove_file(temporary);
            }
            Destination::Streamed { complete_bytes: 0 } => {
                let _ = std::fs::remove_file(&self.path);
            }
            Destination::Streamed { .. } => {}
        }
    }
}

/// Where a whole output went.
#[derive(Debug, PartialEq, Eq)]
enum Placed {
    AtItsName,
    /// Under another name, because its own was taken during the run.
    Beside(PathBuf),
}

/// Puts `temporary` at `path` without replacing anything, unless `force` (then only a regular
/// file is replaced); the temporary name stays for the caller to remove.
fn place(temporary: &Path, path: &Path, force: bool) -> std::io::Result<Placed> {
    if force {
        return match existing_kind(path) {
            Existing::Nothing | Existing::RegularFile => std::fs::rename(temporary, path).map(|()| Placed::AtItsName),
            Existing::Other(_) => keep_beside(temporary, path),
        };
    }
    if link_without_replacing(temporary, path)? { Ok(Placed::AtItsName) } else { keep_beside(temporary, path) }
}

/// Links `temporary` at `path` unless something is there: `Ok(false)` if it is.
fn link_without_replacing(temporary: &Path, path: &Path) -> std::io::Result<bool> {
    match std::fs::hard_link(temporary, path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(false),
        // No hard links here (some network and FAT file systems): check, then rename.
        Err(_) if std::fs::symlink_metadata(path).is_ok() => Ok(false),
        Err(_) => std::fs::rename(temporary, path).map(|()| true),
    }
}

/// Puts `temporary` at the first free name `NAME-2.EXT`, `NAME-3.EXT`, … beside `path`.
fn keep_beside(temporary: &Path, path: &Path) -> std::io::Result<Placed> {
    for number in 2..=MAX_ALTERNATIVE_NAMES + 1 {
        let other = alternative_name(path, number);
        if link_without_replacing(temporary, &other)? {
            return Ok(Placed::Beside(other));
        }
    }
    Err(std::io::Error::new(ErrorKind::AlreadyExists, "the name and its numbered alternatives are all taken"))
}

/// `run.json` → `run-2.json`; `run` → `run-2`.
fn alternative_name(path: &Path, number: u32) -> PathBuf {
    let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(extension) => format!("{stem}-{number}.{}", extension.to_string_lossy()),
        None => format!("{stem}-{number}"),
    };
    path.with_file_name(name)
}

/// Creates a new temporary file beside `path` under a name no one can guess, never through
/// an existing entry (link or not); tries a few names in the unlikely case one is taken.
fn create_temporary(path: &Path) -> std::io::Result<(PathBuf, File)> {
    let mut last_error = None;
    for _ in 0..4 {
        let temporary = temporary_name(path);
        match OpenOptions::new().write(true).create_new(true).open(&temporary) {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// `.NAME.relu-lab-XXXXXXXXXXXXXXXX.tmp` beside `path`, the name cut short so that the whole
/// stays within [`MAX_NAME_BYTES`].
fn temporary_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let mut cut = MAX_NAME_BYTES.saturating_sub(TEMPORARY_NAME_EXTRA_BYTES).min(name.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    path.with_file_name(format!(".{}.relu-lab-{:016x}.tmp", &name[..cut], unpredictable_number()))
}

/// 64 bits another user cannot predict: SipHash keyed by `RandomState` (random keys from the
/// operating system) over the process id, the time and a counter.
fn unpredictable_number() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |time| time.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(test: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("relu-lab-files-unit-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    #[test]
    fn temporary_names_differ_every_time_and_fit_a_long_name() {
        let path = Path::new("/tmp").join("x".repeat(250));
        let names: Vec<PathBuf> = (0..100).map(|_| temporary_name(&path)).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a temporary name repeated");
        for name in &names {
            let length = name.file_name().unwrap().len();
            assert!(length <= MAX_NAME_BYTES, "{length} bytes");
        }
        assert!(!temporary_name(Path::new("a.json")).to_string_lossy().contains(&std::process::id().to_string()));
    }

    #[cfg(unix)]
    #[test]
    fn a_temporary_file_is_never_created_through_a_planted_link() {
        let folder = folder("planted");
        let victim = folder.join("victim.txt");
        std::fs::write(&victim, "mine").unwrap();
        let planted = folder.join("planted.tmp");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let error = OpenOptions::new().write(true).create_new(true).open(&planted).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn a_whole_output_never_replaces_a_file_that_appeared_meanwhile() {
        let folder = folder("appeared");
        let path = folder.join("r.json");
        let mut plan = OutputPlan::default();
        let output = plan.output("run record", Some(&path), false).unwrap().unwrap();
        std::fs::write(&path, "theirs").unwrap();
        let error = output.finish_with("ours").unwrap_err();
        assert!(format!("{error:#}").contains("r-2.json"), "{error:#}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "theirs");
        assert_eq!(std::fs::read_to_string(folder.join("r-2.json")).unwrap(), "ours");
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["r-2.json", "r.json"], "no temporary file is left");
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn alternative_names_keep_the_extension() {
        assert_eq!(alternative_name(Path::new("/x/run.json"), 2), Path::new("/x/run-2.json"));
        assert_eq!(alternative_name(Path::new("/x/run"), 3), Path::new("/x/run-3"));
    }
}

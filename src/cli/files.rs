//! Files the command line reads and writes, safely.
//!
//! Reading: every file is capped ([`MAX_CONFIG_BYTES`], [`MAX_DATA_BYTES`]), so `/dev/zero`
//! or a huge file gives a message, not a full memory.
//!
//! Writing: every output path is checked before any training (its folder exists, it is not one
//! of the command's inputs, no two outputs share it, and it does not exist unless `--force`).
//! Each output is written to a hidden temporary file in the same folder and renamed into place
//! when complete, so a file is either whole or absent, never half-written under its name.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The largest run config read: configs are a few hundred bytes.
pub(super) const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The largest record or network file read.
pub(super) const MAX_DATA_BYTES: u64 = 64 << 20;

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

    /// Checks `path` as the output `what` and opens its temporary file. `None` in, `None` out.
    pub(super) fn output(&mut self, what: &str, path: Option<&Path>, force: bool) -> Result<Option<OutputFile>> {
        let Some(path) = path else { return Ok(None) };
        let resolved = resolve(path).with_context(|| format!("cannot write the {what} to {}", path.display()))?;
        if self.inputs.contains(&resolved) {
            bail!("the {what} would overwrite {}, which this command reads; choose another file", path.display());
        }
        if let Some((other, _)) = self.outputs.iter().find(|(_, taken)| taken == &resolved) {
            bail!("the {what} and the {other} would both be written to {}; give each its own file", path.display());
        }
        if resolved.exists() && !force {
            bail!("{} already exists; pass --force to overwrite it, or choose another name", path.display());
        }
        if resolved.is_dir() {
            bail!("cannot write the {what} to {}: it is a folder", path.display());
        }
        self.outputs.push((what.to_owned(), resolved.clone()));
        OutputFile::create(what, resolved).map(Some)
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

/// An output being written: a hidden temporary file beside its final name.
pub(super) struct OutputFile {
    what: String,
    path: PathBuf,
    temporary: PathBuf,
    writer: Option<BufWriter<File>>,
    is_in_place: bool,
}

impl OutputFile {
    fn create(what: &str, path: PathBuf) -> Result<Self> {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let temporary = path.with_file_name(format!(".{name}.relu-lab-{}.tmp", std::process::id()));
        let file =
            File::create(&temporary).with_context(|| format!("cannot write the {what} to {}", path.display()))?;
        Ok(Self { what: what.to_owned(), path, temporary, writer: Some(BufWriter::new(file)), is_in_place: false })
    }

    /// Appends `text` and flushes it to the file (a reader sees only whole lines).
    pub(super) fn append(&mut self, text: &str) -> Result<()> {
        let Some(writer) = &mut self.writer else { bail!("the {} is already closed", self.what) };
        writer
            .write_all(text.as_bytes())
            .and_then(|()| writer.flush())
            .with_context(|| format!("cannot write the {} to {}", self.what, self.path.display()))
    }

    /// Writes `bytes` (after anything appended) and moves the file into place.
    pub(super) fn finish_with_bytes(mut self, bytes: &[u8]) -> Result<PathBuf> {
        let Some(writer) = &mut self.writer else { bail!("the {} is already closed", self.what) };
        writer
            .write_all(bytes)
            .with_context(|| format!("cannot write the {} to {}", self.what, self.path.display()))?;
        self.finish()
    }

    /// Writes `text` (after anything appended) and moves the file into place.
    pub(super) fn finish_with(mut self, text: &str) -> Result<PathBuf> {
        self.append(text)?;
        self.finish()
    }

    /// Moves the file into place under its name.
    pub(super) fn finish(mut self) -> Result<PathBuf> {
        let context = || format!("cannot write the {} to {}", self.what, self.path.display());
        if let Some(writer) = self.writer.take() {
            let file = writer.into_inner().map_err(std::io::IntoInnerError::into_error).with_context(context)?;
            file.sync_all().with_context(context)?;
        }
        std::fs::rename(&self.temporary, &self.path).with_context(context)?;
        self.is_in_place = true;
        Ok(self.path.clone())
    }
}

impl Drop for OutputFile {
    /// An output never finished leaves nothing behind.
    fn drop(&mut self) {
        if !self.is_in_place {
            self.writer = None;
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

//! What the app asks of the browser tab it runs in. A tab has no folders and no typed paths:
//! saved files become downloads, files to load come from the browser's file picker or are
//! dropped on the window, and a shareable link is the page's own address with a `#` part.
//!
//! The web crate (`web/`) implements [`WebPage`] with the browser's APIs; the desktop app has
//! none (`None` everywhere a page is optional). Tests implement it with a fake page, so the
//! browser's code paths (downloads, picked files, links) run natively too.

use std::path::PathBuf;

/// Why a file is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePurpose {
    /// A run record, replayed fast and continued from its end.
    LoadRunRecord,
    /// A run record, replayed live from its start.
    ReplayRunRecord,
    /// A network file, continued from.
    LoadNetwork,
    /// A file dropped on the window: a run record (continued from its end) or a network file,
    /// told apart by its contents.
    Dropped,
}

/// A file the user picked or dropped, once the browser has read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedFile {
    /// Its name (a browser does not tell the folder).
    pub name: String,
    /// Why it was asked for.
    pub purpose: FilePurpose,
    /// Its contents, or why they could not be read.
    pub bytes: Result<Vec<u8>, String>,
}

impl OpenedFile {
    /// The name as a path, for the messages and captions that name a file.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.name)
    }
}

/// The browser tab around the app.
pub trait WebPage {
    /// Offers `bytes` to the user as a download named `file_name`.
    fn download(&self, file_name: &str, bytes: &[u8]) -> Result<(), String>;

    /// Opens the browser's file picker; the chosen file arrives later through
    /// [`WebPage::take_opened_file`] (nothing arrives if the user cancels).
    fn pick_file(&self, purpose: FilePurpose);

    /// Starts reading a file dropped on the window; it arrives through
    /// [`WebPage::take_opened_file`] with [`FilePurpose::Dropped`].
    fn read_dropped_file(&self, file: egui::DroppedFileHandle);

    /// The next file that was picked or dropped and has been read, if any.
    fn take_opened_file(&self) -> Option<OpenedFile>;

    /// Copies `text` to the clipboard; `Err` says why the browser does not allow it (it allows
    /// it only on pages served over https or from this computer).
    fn copy_text(&self, text: &str) -> Result<(), String>;

    /// The page's own address with `fragment` as its `#` part: the link to share.
    fn address_with_fragment(&self, fragment: &str) -> String;

    /// Shows `fragment` as the `#` part in the address bar (without reloading or adding a
    /// history entry), so that the address there is the link to this run.
    fn show_fragment(&self, fragment: &str);

    /// The `#` part the user went to since the last call (a link to another lesson opened in
    /// this tab changes only the `#` part, and the page is not reloaded), if any.
    fn take_visited_fragment(&self) -> Option<String>;

    /// What starts a trainer in a Web Worker of this page (see [`crate::train::remote`]), for
    /// the app's [`crate::train::worker::TrainerBackend::Worker`]; none where the page cannot.
    fn trainer_port(&self) -> Option<crate::train::remote::PortFactory> {
        None
    }
}

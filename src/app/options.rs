//! How the app is started: what differs between the desktop, a browser tab and the tests.

use std::rc::Rc;

use super::web_page::WebPage;
use crate::train::RunConfig;
use crate::train::worker::TrainerBackend;

/// How to start [`super::ReluLabApp`]. The default is the desktop's: the trainer on its own
/// thread, files in folders, the saved lesson.
#[derive(Default)]
pub struct AppOptions {
    /// Start on this run instead of the saved lesson.
    pub config: Option<RunConfig>,
    /// A shared link to open (`lesson=2&lr=3`, with or without its `#`, or a whole address):
    /// its lesson with its settings, instead of the saved lesson. What in it cannot be read
    /// is told in the notice line.
    pub link: Option<String>,
    /// Where the trainer runs: its own thread (the desktop's default) or inside the frames (a
    /// browser's only choice; on the desktop `relu-lab --in-frame`, and the tests of that path).
    pub backend: TrainerBackend,
    /// The browser tab the app runs in, if it runs in one: files become downloads and uploads,
    /// links are web addresses.
    pub page: Option<Rc<dyn WebPage>>,
    /// The open lesson's script is left to the caller (a rendered take, whose director makes
    /// the beats), instead of played by the trainer.
    pub leaves_script_to_caller: bool,
}

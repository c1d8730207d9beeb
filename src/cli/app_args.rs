//! The options of the app itself (a bare `relu-lab`, no subcommand).

use clap::Args;

/// How to open the app.
#[derive(Debug, Default, Args)]
pub(crate) struct AppArgs {
    /// Open the app on a shared link: `lesson=2&lr=3`, the same text as the part after `#`
    /// of the web app's address (a whole address works too).
    #[arg(long, value_name = "LINK")]
    pub open: Option<String>,
    /// Train inside the app's frames instead of on a thread of its own, as the browser build
    /// does (slower; for comparing the two).
    #[arg(long)]
    pub in_frame: bool,
}

impl AppArgs {
    /// Whether any option was given.
    pub(crate) fn is_given(&self) -> bool {
        self.open.is_some() || self.in_frame
    }
}

//! Shareable links in the app: opening one (at start, or when a link to another lesson is
//! opened in the same browser tab) and making the one for the run on screen. The format and
//! its reading are in [`crate::share_link`]; this is only the app's side.

use super::shared::ViewSettings;
use super::{ReluLabApp, lesson_config};
use crate::share_link::{self, ShareLink};
use crate::train::lessons::Lesson;
use crate::train::{RunConfig, WorkerCommand};

/// Opens `link` (if there is one and it names anything) at start: sets the open lesson in
/// `settings` and returns the config to start on; what cannot be read goes to `notices`.
pub(super) fn open_at_start(
    link: Option<&str>,
    lessons: &[Lesson],
    settings: &mut ViewSettings,
    notices: &mut Vec<String>,
) -> Option<RunConfig> {
    let parsed = share_link::parse(link?);
    notices.extend(share_link::problems_sentence(&parsed.problems));
    if parsed.link.is_empty() {
        return None;
    }
    match parsed.link.open(lessons) {
        Ok(opened) => {
            notices.extend(opened.problems_text());
            settings.lesson = opened.lesson_index;
            Some(opened.config)
        }
        Err(message) => {
            notices.push(format!("The link could not be opened: {message}."));
            None
        }
    }
}

impl ReluLabApp {
    /// The link to the run on screen, without its `#`: the open lesson and every setting that
    /// differs from the lesson's. `None` for a run loaded from a file (a link cannot carry its
    /// weights: its run record can).
    pub(super) fn share_fragment(&self) -> Option<String> {
        if self.loaded_from.is_some() {
            return None;
        }
        let base = lesson_config(&self.lessons, self.settings.lesson).ok()?;
        let current = self.link.snapshot().map_or_else(|| self.link.run_config(), |snapshot| &snapshot.config);
        Some(ShareLink::between(self.settings.lesson + 1, &base, current).to_fragment())
    }

    /// The link as the user shares it: in a browser, the page's address with the link as its
    /// `#` part; on the desktop, the command that opens it.
    pub(super) fn share_text(&self) -> Option<String> {
        let fragment = self.share_fragment()?;
        Some(match &self.page {
            Some(page) => page.address_with_fragment(&fragment),
            None => format!("relu-lab --open '{fragment}'"),
        })
    }

    /// Copies the link (on the desktop the Files window has copied it already); in a browser
    /// the address bar shows it too, so it can be copied from there where the browser does not
    /// let the page copy.
    pub(super) fn copy_link(&mut self) {
        let (Some(fragment), Some(text)) = (self.share_fragment(), self.share_text()) else { return };
        let copied = match &self.page {
            Some(page) => {
                page.show_fragment(&fragment);
                page.copy_text(&text)
            }
            None => Ok(()),
        };
        match copied {
            Ok(()) => self.files.tell(format!("Copied the link: {text}"), false),
            Err(why) => self.files.tell(format!("The address bar shows the link to this run ({why}): {text}"), false),
        }
    }

    /// Opens a link while the app runs (another lesson's link opened in this tab): its lesson
    /// with its settings, as a new run; what cannot be read is told in the notice line.
    pub(super) fn open_link(&mut self, text: &str) {
        let parsed = share_link::parse(text);
        let mut notices: Vec<String> = share_link::problems_sentence(&parsed.problems).into_iter().collect();
        if !parsed.link.is_empty() {
            match parsed.link.open(&self.lessons) {
                Ok(opened) => {
                    notices.extend(opened.problems_text());
                    self.settings.lesson = opened.lesson_index;
                    self.loaded_from = None;
                    self.selection = None;
                    if self.link.has_trainer() {
                        self.send(WorkerCommand::Load(Box::new(opened.config)));
                        self.send(WorkerCommand::Resume);
                    } else {
                        self.link.restart(opened.config);
                    }
                }
                Err(message) => notices.push(format!("The link could not be opened: {message}.")),
            }
        }
        self.notice = (!notices.is_empty()).then(|| notices.join(" "));
    }
}

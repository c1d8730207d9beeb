//! Shareable links in the app: opening one (at start, or when a link to another lesson is
//! opened in the same browser tab) and making the one for the run on screen. The format and
//! its reading are in [`crate::share_link`]; this is only the app's side.

use super::shared::ViewSettings;
use super::{ReluLabApp, is_lesson_as_measured, lesson_config};
use crate::share_link::{self, ShareLink};
use crate::train::RunConfig;
use crate::train::lessons::Lesson;
use crate::train::settings::Setting;

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
            notices.extend(link_changes_text(lessons, opened.lesson_index, &opened.config));
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
                    notices.extend(link_changes_text(&self.lessons, opened.lesson_index, &opened.config));
                    self.settings.lesson = opened.lesson_index;
                    self.loaded_from = None;
                    self.selection = None;
                    self.lesson_beat = None;
                    // A link that changes nothing is the lesson itself: its script plays.
                    let script = is_lesson_as_measured(&self.lessons, opened.lesson_index, &opened.config)
                        .then(|| self.lessons.get(opened.lesson_index).map(Lesson::script))
                        .flatten();
                    self.start_lesson_run(opened.config, script);
                }
                Err(message) => notices.push(format!("The link could not be opened: {message}.")),
            }
        }
        self.notice = (!notices.is_empty()).then(|| notices.join(" "));
    }
}

/// What a link changed in its lesson, for the notice line when it opens (the lesson card
/// describes the lesson as it is; this says the run on screen is not quite that):
/// "This link changed lesson 2: seed 4, activation Leaky ReLU (0.1), learning rate 0.3." `None`
/// when the link changed nothing.
pub(super) fn link_changes_text(lessons: &[Lesson], lesson_index: usize, opened: &RunConfig) -> Option<String> {
    let base = lesson_config(lessons, lesson_index).ok()?;
    let changes = changes_from_lesson(&base, opened)?;
    Some(format!("This link changed lesson {}: {changes}.", lesson_index + 1))
}

/// The settings in which `current` differs from its lesson's preset `base`, in words:
/// "seed 4, activation Leaky ReLU (0.1), learning rate 0.3"; `None` if it does not differ. The
/// lessons panel can show it on the lesson's card.
pub(super) fn changes_from_lesson(base: &RunConfig, current: &RunConfig) -> Option<String> {
    let settings: Vec<Setting> = Setting::ALL.into_iter().filter(|setting| setting.differs(base, current)).collect();
    let words: Vec<String> = settings
        .iter()
        // The activation's words carry its parameter ("Leaky ReLU (0.1)").
        .filter(|&&setting| !(setting == Setting::ActivationParameter && settings.contains(&Setting::Activation)))
        .map(|&setting| format!("{} {}", setting.label().to_lowercase(), setting.prose_value(current)))
        .collect();
    (!words.is_empty()).then(|| words.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::lessons::load_lessons;

    #[test]
    fn a_link_that_changes_its_lesson_says_what_it_changed() {
        let lessons = load_lessons().unwrap();
        let link = share_link::parse("lesson=2&lr=0.3&activation=leaky-relu:0.1&seed=4");
        let opened = link.link.open(&lessons).unwrap();
        let text = link_changes_text(&lessons, opened.lesson_index, &opened.config).unwrap();
        assert_eq!(text, "This link changed lesson 2: seed 4, activation Leaky ReLU (0.1), learning rate 0.3.");
        let plain = share_link::parse("lesson=2").link.open(&lessons).unwrap();
        assert_eq!(link_changes_text(&lessons, plain.lesson_index, &plain.config), None);
    }
}

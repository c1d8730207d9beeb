//! The keyboard shortcuts: one table, read by the app every frame and listed by the help
//! overlay, so the two never disagree.

use egui::{Key, Modifiers};

use super::shared::Intent;
use crate::train::{SessionCommand, WorkerCommand};

/// What a shortcut does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// Pause when training, resume when paused.
    PlayPause,
    /// One training step.
    Step,
    /// A fresh network with the same seed.
    Reset,
    /// Undo the last change of a setting.
    Undo,
    /// Open lesson `n` (from 0).
    Lesson(usize),
    /// Presentation mode on or off.
    Presentation,
    /// The help overlay on or off.
    Help,
    /// Fork the run into A and B.
    Fork,
    /// The seeds view on or off.
    Seeds,
    /// Go on to the open lesson's next beat (a presenter's clicker sends Page Down).
    NextBeat,
}

/// One line of the table: the keys (any of them), the words the help shows, the action.
pub(super) struct Shortcut {
    /// The keys that trigger it, each with its modifiers.
    pub keys: &'static [(Modifiers, Key)],
    /// The keys as the help writes them.
    pub keys_text: &'static str,
    /// What it does, as the help writes it.
    pub action_text: &'static str,
    /// What it does.
    pub action: Action,
}

const NONE: Modifiers = Modifiers::NONE;

/// The keys that open lessons 1 to 12: the digits in keyboard order (0 is lesson 10), then the
/// two keys right of 0.
const LESSON_KEYS: [Key; 12] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
    Key::Num0,
    Key::Minus,
    Key::Equals,
];

/// Every shortcut but the lesson keys (listed as one line in the help).
pub(super) const SHORTCUTS: [Shortcut; 9] = [
    Shortcut {
        keys: &[(NONE, Key::Space)],
        keys_text: "Space",
        action_text: "Play / pause",
        action: Action::PlayPause,
    },
    Shortcut {
        keys: &[(NONE, Key::PageDown), (NONE, Key::N)],
        keys_text: "Page Down, N",
        action_text: "The lesson's next beat (a clicker's next)",
        action: Action::NextBeat,
    },
    Shortcut {
        keys: &[(NONE, Key::ArrowRight)],
        keys_text: "→",
        action_text: "One training step",
        action: Action::Step,
    },
    Shortcut { keys: &[(NONE, Key::R)], keys_text: "R", action_text: "Reset the network", action: Action::Reset },
    Shortcut {
        keys: &[(Modifiers::COMMAND, Key::Z)],
        keys_text: "Ctrl+Z",
        action_text: "Undo the last change of a setting",
        action: Action::Undo,
    },
    Shortcut {
        keys: &[(NONE, Key::B)],
        keys_text: "B",
        action_text: "Fork the run into A and B (branch)",
        action: Action::Fork,
    },
    Shortcut { keys: &[(NONE, Key::S)], keys_text: "S", action_text: "Seeds view on / off", action: Action::Seeds },
    Shortcut {
        keys: &[(NONE, Key::F)],
        keys_text: "F",
        action_text: "Presentation mode",
        action: Action::Presentation,
    },
    Shortcut {
        keys: &[(Modifiers::SHIFT, Key::Questionmark), (NONE, Key::Questionmark), (Modifiers::SHIFT, Key::Slash)],
        keys_text: "?",
        action_text: "Show or hide this help",
        action: Action::Help,
    },
];

/// The help's line for the lesson keys.
pub(super) const LESSON_KEYS_TEXT: (&str, &str) = ("1 – 9, 0, -, =", "Open lesson 1 – 12");

/// The intents of the shortcuts pressed this frame. Read before any widget can take the keys;
/// nothing is read while a widget has keyboard focus (a text field, or a slider, which then
/// takes the arrow keys itself).
pub(super) fn read(ctx: &egui::Context, is_running: bool, is_diverged: bool) -> Vec<Intent> {
    if ctx.egui_wants_keyboard_input() {
        return Vec::new();
    }
    let mut actions = Vec::new();
    ctx.input_mut(|input| {
        for shortcut in &SHORTCUTS {
            if shortcut.keys.iter().any(|&(modifiers, key)| input.consume_key(modifiers, key)) {
                actions.push(shortcut.action);
            }
        }
        for (index, key) in LESSON_KEYS.into_iter().enumerate() {
            if input.consume_key(NONE, key) {
                actions.push(Action::Lesson(index));
            }
        }
    });
    actions.into_iter().flat_map(|action| intents(action, is_running, is_diverged)).collect()
}

/// What `action` asks of the app now.
fn intents(action: Action, is_running: bool, is_diverged: bool) -> Vec<Intent> {
    let trainer = Intent::Trainer;
    match action {
        Action::PlayPause => vec![trainer(if is_running { WorkerCommand::Pause } else { WorkerCommand::Resume })],
        Action::Step if is_diverged => Vec::new(),
        Action::Step => vec![trainer(WorkerCommand::Step(1))],
        Action::Reset => {
            vec![trainer(WorkerCommand::Session(SessionCommand::Reset { seed: None })), trainer(WorkerCommand::Resume)]
        }
        Action::Undo => vec![trainer(WorkerCommand::Session(SessionCommand::Undo))],
        Action::Lesson(index) => vec![Intent::LoadLesson(index)],
        Action::Presentation => vec![Intent::TogglePresentation],
        Action::Help => vec![Intent::ToggleHelp],
        Action::Fork => vec![trainer(WorkerCommand::Fork { changes: Vec::new() })],
        Action::Seeds => vec![Intent::ToggleSeeds],
        Action::NextBeat => vec![trainer(WorkerCommand::Resume)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_but_the_lessons_has_a_line_in_the_help() {
        let actions = [
            Action::PlayPause,
            Action::Step,
            Action::Reset,
            Action::Undo,
            Action::Presentation,
            Action::Help,
            Action::Fork,
            Action::Seeds,
            Action::NextBeat,
        ];
        for action in actions {
            assert!(SHORTCUTS.iter().any(|shortcut| shortcut.action == action), "{action:?}");
        }
        assert_eq!(intents(Action::Step, true, true), Vec::new(), "no step on a diverged run");
    }
}

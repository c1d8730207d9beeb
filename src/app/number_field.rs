//! A number typed into a text field, taken only when the user is done: on Enter or when the
//! field loses focus (Escape gives up). Typing "0.03" never sends 0, then 0.0, then 0.03: a
//! run at a wrong rate for even a moment can be wrecked.

use egui::{Key, TextEdit, Ui};

/// A text field for a number.
pub(super) struct NumberField<'a> {
    /// Names the field in the persistent id (unique within the panel).
    pub id: &'a str,
    /// The label that names it for screen readers and tests.
    pub labelled_by: egui::Id,
    /// The value the run has now.
    pub value: f64,
    /// The field's width in points.
    pub width: f32,
    /// How the value is written.
    pub format: fn(f64) -> String,
    /// Whether a typed number may be sent.
    pub accepts: fn(f64) -> bool,
}

impl NumberField<'_> {
    /// Shows the field; returns the typed number when the user commits a valid one that
    /// differs from the value now. While the field has focus its text is the user's draft.
    pub(super) fn ui(self, ui: &mut Ui) -> Option<f64> {
        let Self { id, labelled_by, value, width, format, accepts } = self;
        let id = ui.make_persistent_id(("number_field", id));
        let draft: Option<String> = ui.data_mut(|data| data.get_temp(id));
        let mut text = draft.clone().unwrap_or_else(|| format(value));
        let response = ui.add(TextEdit::singleline(&mut text).desired_width(width)).labelled_by(labelled_by);
        if response.has_focus() {
            ui.data_mut(|data| data.insert_temp(id, text.clone()));
            return None;
        }
        ui.data_mut(|data| data.remove::<String>(id));
        let is_escape = ui.input(|input| input.key_pressed(Key::Escape));
        if !response.lost_focus() || is_escape || draft.is_none() {
            return None;
        }
        let typed: f64 = text.trim().parse().ok()?;
        (typed.is_finite() && accepts(typed) && typed != value).then_some(typed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    struct State {
        value: f64,
        committed: Vec<f64>,
    }

    fn harness() -> Harness<'static, State> {
        Harness::builder().build_ui_state(
            |ui, state: &mut State| {
                let label = ui.label("Rate");
                let field = NumberField {
                    id: "rate",
                    labelled_by: label.id,
                    value: state.value,
                    width: 80.0,
                    format: |value| format!("{value}"),
                    accepts: |value| value > 0.0,
                };
                if let Some(value) = field.ui(ui) {
                    state.committed.push(value);
                    state.value = value;
                }
            },
            State { value: 3.0, committed: Vec::new() },
        )
    }

    #[test]
    fn typing_commits_once_on_enter() {
        let mut harness = harness();
        harness.run();
        let field = harness.get_by_label("Rate");
        field.focus();
        harness.run();
        harness.key_press_modifiers(egui::Modifiers::COMMAND, Key::A);
        harness.get_by_label("Rate").type_text("0.03");
        harness.run();
        assert!(harness.state().committed.is_empty(), "nothing is sent while typing");
        harness.key_press(Key::Enter);
        harness.run();
        assert_eq!(harness.state().committed, [0.03]);
    }

    #[test]
    fn an_invalid_number_is_not_sent() {
        let mut harness = harness();
        harness.run();
        harness.get_by_label("Rate").focus();
        harness.run();
        harness.key_press_modifiers(egui::Modifiers::COMMAND, Key::A);
        harness.get_by_label("Rate").type_text("-1");
        harness.key_press(Key::Enter);
        harness.run();
        assert!(harness.state().committed.is_empty());
    }
}

//! The app's saved state, checked before eframe reads it. eframe restores egui's memory (with
//! its zoom factor, window and scroll positions) and the window's size and place before our
//! code runs: a zoom factor of 0, a negative one, NaN or 1000 made every launch panic inside
//! the windowing library, and one scroll offset of NaN blanked a panel on every launch. So the
//! file is read here first, whatever its size, field by field, and each bad field is repaired
//! with a notice for the user:
//!
//! - a zoom factor out of range goes back to 100%;
//! - a window size or place with an impossible number is dropped (the window opens at its
//!   default);
//! - any other number that is not finite (`NaN`, `inf`), wherever it sits, also inside the RON
//!   that egui keeps as strings for each widget's state, becomes 0 (a scroll position at the
//!   top, a panel at its edge);
//! - a saved lesson that does not exist becomes the first one; our own settings that do not
//!   read are dropped (the defaults are used);
//! - a file that cannot be read at all (cut short, binary garbage) is set aside as
//!   `app.ron.unreadable`, so nothing is lost, and the app starts from its defaults.
//!
//! In a browser eframe keeps egui's memory in the page's local storage instead of a file; the
//! web build checks it the same way ([`repair_egui_memory`]) before the app starts.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::RangeInclusive;
#[cfg(not(target_arch = "wasm32"))]
use std::path::{Path, PathBuf};

/// The zoom factors egui's own settings offer.
pub const ZOOM_RANGE: RangeInclusive<f32> = 0.1..=10.0;
/// The largest coordinate or size a saved window may have, in points.
const MAX_WINDOW_COORDINATE: f64 = 1e5;
/// eframe's key for egui's memory.
const EGUI_KEY: &str = "egui";
/// eframe's key for the window's size and place.
const WINDOW_KEY: &str = "window";
/// The most field names a notice lists.
const MAX_NAMED_FIELDS: usize = 6;

/// Where eframe keeps the state of the app `app_id`.
#[cfg(not(target_arch = "wasm32"))]
pub fn state_file(app_id: &str) -> Option<PathBuf> {
    eframe::storage_dir(app_id).map(|folder| folder.join("app.ron"))
}

/// Repairs the state file at `path` in place if it needs it; returns what was repaired, in
/// words. A missing file is left to eframe (it starts from the defaults); one that cannot be
/// read is set aside.
#[cfg(not(target_arch = "wasm32"))]
pub fn repair_file(path: &Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(path) else { return Vec::new() };
    let entries = match std::str::from_utf8(&bytes) {
        Ok(text) => ron::from_str::<HashMap<String, String>>(text)
            .map_err(|error| format!("it is cut short or not in eframe's format: {error}")),
        Err(_) => Err("it is not text".to_owned()),
    };
    let mut entries = match entries {
        Ok(entries) => entries,
        Err(reason) => return vec![set_aside(path, &reason)],
    };
    let notices = repair(&mut entries);
    if !notices.is_empty() {
        let written = ron::ser::to_string_pretty(&entries, ron::ser::PrettyConfig::default())
            .map_err(|error| error.to_string())
            .and_then(|text| write_in_place(path, &text).map_err(|error| error.to_string()));
        if let Err(error) = written {
            return vec![format!("The saved settings need repair but could not be written: {error}")];
        }
    }
    notices
}

/// Moves an unreadable state file out of eframe's way, keeping it; says so.
#[cfg(not(target_arch = "wasm32"))]
fn set_aside(path: &Path, reason: &str) -> String {
    let kept = path.with_extension("ron.unreadable");
    match std::fs::rename(path, &kept) {
        Ok(()) => format!(
            "The saved settings could not be read ({reason}), so the app starts from its defaults; \
             the old file is kept as {}.",
            kept.display()
        ),
        Err(error) => format!(
            "The saved settings could not be read ({reason}), so the app starts from its defaults; \
             {} could not be set aside: {error}.",
            path.display()
        ),
    }
}

/// Writes `text` beside `path` and moves it into place.
#[cfg(not(target_arch = "wasm32"))]
fn write_in_place(path: &Path, text: &str) -> std::io::Result<()> {
    let temporary = path.with_extension("ron.repair");
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}

/// Repairs the entries of a state file; returns what was repaired.
pub fn repair<S: std::hash::BuildHasher>(entries: &mut HashMap<String, String, S>) -> Vec<String> {
    let mut notices = Vec::new();
    if let Some(text) = entries.get(EGUI_KEY)
        && let Some((repaired, notice)) = repair_egui_memory(text)
    {
        match repaired {
            Some(repaired) => {
                entries.insert(EGUI_KEY.to_owned(), repaired);
            }
            None => {
                entries.remove(EGUI_KEY);
            }
        }
        notices.push(notice);
    }
    if let Some(text) = entries.get(WINDOW_KEY) {
        let is_sane = ron::from_str::<ron::Value>(text).is_ok_and(|value| all_numbers_sane(&value));
        if !is_sane {
            entries.remove(WINDOW_KEY);
            notices
                .push("The saved window size or place was impossible, so the window opens at its default.".to_owned());
        }
    }
    for (key, text) in entries.iter_mut() {
        if key == EGUI_KEY || key == WINDOW_KEY {
            continue;
        }
        let mut fields = Vec::new();
        let repaired = replace_non_finite(text, &mut fields);
        if !fields.is_empty() {
            *text = repaired;
            notices.push(format!(
                "The saved settings “{key}” held values that were not numbers ({}); they were set to 0.",
                field_list(&fields)
            ));
        }
    }
    notices.extend(repair_view_settings(entries));
    notices
}

/// Checks our own settings: they must read, and name a lesson that exists.
fn repair_view_settings<S: std::hash::BuildHasher>(entries: &mut HashMap<String, String, S>) -> Vec<String> {
    let mut notices = Vec::new();
    if let Some(text) = entries.get(super::SETTINGS_KEY) {
        match ron::from_str::<super::shared::ViewSettings>(text) {
            Ok(mut settings) => {
                let lessons = crate::train::lessons::load_lessons().map_or(0, |lessons| lessons.len());
                if lessons > 0 && settings.lesson >= lessons {
                    notices.push(format!(
                        "The saved lesson (number {}) does not exist (there are {lessons}), so lesson 1 is open.",
                        settings.lesson + 1
                    ));
                    settings.lesson = 0;
                    match ron::ser::to_string(&settings) {
                        Ok(repaired) => {
                            entries.insert(super::SETTINGS_KEY.to_owned(), repaired);
                        }
                        Err(_) => {
                            entries.remove(super::SETTINGS_KEY);
                        }
                    }
                }
            }
            Err(error) => {
                entries.remove(super::SETTINGS_KEY);
                notices.push(format!(
                    "The saved view settings could not be read ({error}), so the defaults are used (dark theme, \
                     lesson 1)."
                ));
            }
        }
    }
    if let Some(text) = entries.get(super::PREFERENCES_KEY)
        && let Err(error) = ron::from_str::<super::Preferences>(text)
    {
        entries.remove(super::PREFERENCES_KEY);
        notices.push(format!("The saved layout preferences could not be read ({error}), so the defaults are used."));
    }
    notices
}

/// Checks egui's saved memory (RON): `None` if it is fine or unreadable (egui then starts from
/// its defaults); otherwise the repaired text (`None` if it should be dropped) and what was
/// repaired, in words. A zoom factor out of range goes back to 1; every other number that is
/// not finite becomes 0.
pub fn repair_egui_memory(text: &str) -> Option<(Option<String>, String)> {
    let mut memory = ron::from_str::<egui::Memory>(text).ok()?;
    let mut notices = Vec::new();
    let zoom = memory.options.zoom_factor;
    let mut repaired = None;
    if !(zoom.is_finite() && ZOOM_RANGE.contains(&zoom)) {
        memory.options.zoom_factor = 1.0;
        notices.push(format!("The saved zoom factor ({zoom}) was out of range, so the zoom is back at 100%."));
        repaired = Some(ron::ser::to_string(&memory).ok()?);
    }
    let mut fields = Vec::new();
    let numbers_repaired = replace_non_finite(repaired.as_deref().unwrap_or(text), &mut fields);
    if !fields.is_empty() {
        notices.push(format!(
            "The saved screen layout held values that were not numbers ({}); they were set to 0, so every \
             panel shows again.",
            field_list(&fields)
        ));
        // What egui cannot read back after the repair is dropped rather than kept broken.
        repaired = Some(numbers_repaired).filter(|text| ron::from_str::<egui::Memory>(text).is_ok());
        if repaired.is_none() {
            return Some((None, notices.join(" ")));
        }
    }
    if notices.is_empty() { None } else { Some((repaired, notices.join(" "))) }
}

/// `offset.x, offset.y`, at most [`MAX_NAMED_FIELDS`] of them, each once.
fn field_list(fields: &[String]) -> String {
    let mut unique: Vec<&str> = Vec::new();
    for field in fields {
        if !unique.contains(&field.as_str()) {
            unique.push(field);
        }
    }
    let mut text = unique.iter().take(MAX_NAMED_FIELDS).copied().collect::<Vec<_>>().join(", ");
    if unique.len() > MAX_NAMED_FIELDS {
        let _ = write!(text, " and {} more", unique.len() - MAX_NAMED_FIELDS);
    }
    text
}

/// `text` (RON) with every number that is not finite (`NaN`, `inf`, `-inf`) replaced by
/// `0.0`, also inside strings that hold RON structures themselves; the name of each field
/// replaced (`offset.x`) is added to `fields`. A `NaN` that is not where a number goes (inside
/// a plain string, part of a name) is left alone.
fn replace_non_finite(text: &str, fields: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    // The field names of the enclosing structures, and the one just named.
    let mut path: Vec<String> = Vec::new();
    let mut named: Option<String> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => {
                let end = string_end(text, at);
                out.push_str(&repair_string(&text[at..end], fields));
                while chars.peek().is_some_and(|&(next, _)| next < end) {
                    chars.next();
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = at + c.len_utf8();
                while let Some(&(next, d)) = chars.peek() {
                    if !(d.is_ascii_alphanumeric() || d == '_') {
                        break;
                    }
                    end = next + d.len_utf8();
                    chars.next();
                }
                let word = &text[at..end];
                let after = text[end..].trim_start().chars().next();
                if matches!(word, "NaN" | "inf") && is_number_place(&out, after) {
                    let trimmed = out.trim_end_matches(['-', '+']).len();
                    out.truncate(trimmed);
                    out.push_str("0.0");
                    let mut name: Vec<&str> = path.iter().map(String::as_str).filter(|part| !part.is_empty()).collect();
                    name.extend(named.as_deref());
                    fields.push(if name.is_empty() { "a value".to_owned() } else { name.join(".") });
                } else {
                    if after == Some(':') {
                        named = Some(word.to_owned());
                    }
                    out.push_str(word);
                }
            }
            '(' | '[' | '{' => {
                path.push(named.take().unwrap_or_default());
                out.push(c);
            }
            ')' | ']' | '}' => {
                path.pop();
                named = None;
                out.push(c);
            }
            ',' => {
                named = None;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Whether a word between what was written so far and the next character `after` sits where
/// a number goes: after `:`, `(`, `[`, `{`, `,` or the start (a sign allowed), and before `,`,
/// a closing bracket or the end.
fn is_number_place(before: &str, after: Option<char>) -> bool {
    let before = before.trim_end().trim_end_matches(['-', '+']).trim_end();
    let opens = before.chars().last().is_none_or(|c| matches!(c, ':' | '(' | '[' | '{' | ','));
    let closes = after.is_none_or(|c| matches!(c, ',' | ')' | ']' | '}'));
    opens && closes
}

/// Where the string literal starting at `start` (a `"`) ends, just past its closing quote.
fn string_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// A string literal, repaired inside if it holds a RON structure with a number that is not
/// finite; otherwise as it was.
fn repair_string(literal: &str, fields: &mut Vec<String>) -> String {
    if !(literal.contains("NaN") || literal.contains("inf")) {
        return literal.to_owned();
    }
    let Ok(inner) = ron::from_str::<String>(literal) else { return literal.to_owned() };
    if !inner.trim_start().starts_with(['(', '[', '{']) {
        return literal.to_owned();
    }
    let before = fields.len();
    let repaired = replace_non_finite(&inner, fields);
    if fields.len() == before {
        return literal.to_owned();
    }
    ron::to_string(&repaired).unwrap_or_else(|_| literal.to_owned())
}

/// Whether every number in `value` is finite and of a size a screen can have.
fn all_numbers_sane(value: &ron::Value) -> bool {
    match value {
        ron::Value::Number(number) => {
            let number = number.into_f64();
            number.is_finite() && number.abs() <= MAX_WINDOW_COORDINATE
        }
        ron::Value::Map(map) => map.iter().all(|(key, value)| all_numbers_sane(key) && all_numbers_sane(value)),
        ron::Value::Seq(items) => items.iter().all(all_numbers_sane),
        ron::Value::Option(Some(inner)) => all_numbers_sane(inner),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_zoom(zoom: f32) -> HashMap<String, String> {
        let mut memory = egui::Memory::default();
        memory.options.zoom_factor = zoom;
        HashMap::from([(EGUI_KEY.to_owned(), ron::ser::to_string(&memory).unwrap())])
    }

    fn zoom_of(entries: &HashMap<String, String>) -> f32 {
        ron::from_str::<egui::Memory>(&entries[EGUI_KEY]).unwrap().options.zoom_factor
    }

    #[test]
    fn a_bad_zoom_factor_goes_back_to_one_with_a_notice() {
        for zoom in [0.0, -1.0, f32::NAN, 1000.0, f32::INFINITY] {
            let mut entries = state_with_zoom(zoom);
            let notices = repair(&mut entries);
            assert_eq!(notices.len(), 1, "{zoom}: {notices:?}");
            assert_eq!(zoom_of(&entries), 1.0, "{zoom}");
        }
    }

    #[test]
    fn a_good_zoom_factor_is_kept() {
        let mut entries = state_with_zoom(1.5);
        assert!(repair(&mut entries).is_empty());
        assert_eq!(zoom_of(&entries), 1.5);
    }

    #[test]
    fn an_impossible_window_is_dropped() {
        let mut entries =
            HashMap::from([(WINDOW_KEY.to_owned(), "(inner_size_points: Some((x: NaN, y: 700.0)))".to_owned())]);
        assert_eq!(repair(&mut entries).len(), 1);
        assert!(!entries.contains_key(WINDOW_KEY));
        let mut fine =
            HashMap::from([(WINDOW_KEY.to_owned(), "(inner_size_points: Some((x: 1280.0, y: 720.0)))".to_owned())]);
        assert!(repair(&mut fine).is_empty());
    }

    #[test]
    fn egui_memory_alone_is_repaired_as_in_a_file() {
        let memory = |zoom: f32| {
            let mut memory = egui::Memory::default();
            memory.options.zoom_factor = zoom;
            ron::ser::to_string(&memory).unwrap()
        };
        assert_eq!(repair_egui_memory(&memory(1.25)), None);
        assert_eq!(repair_egui_memory("not ron"), None, "unreadable memory is left to egui");
        let (repaired, notice) = repair_egui_memory(&memory(0.0)).unwrap();
        let repaired: egui::Memory = ron::from_str(&repaired.unwrap()).unwrap();
        assert_eq!(repaired.options.zoom_factor, 1.0);
        assert!(notice.contains("zoom"), "{notice}");
    }

    #[test]
    fn a_file_is_repaired_in_place() {
        let folder = std::env::temp_dir().join(format!("relu-lab-state-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("app.ron");
        let text = ron::ser::to_string_pretty(&state_with_zoom(0.0), ron::ser::PrettyConfig::default()).unwrap();
        std::fs::write(&path, text).unwrap();
        assert_eq!(repair_file(&path).len(), 1);
        let entries: HashMap<String, String> = ron::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(zoom_of(&entries), 1.0);
        assert!(repair_file(&path).is_empty(), "repaired once is enough");
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn egui_defaults_hold_no_number_to_repair() {
        let text = ron::ser::to_string(&egui::Memory::default()).unwrap();
        let mut fields = Vec::new();
        assert_eq!(replace_non_finite(&text, &mut fields), text);
        assert_eq!(fields, Vec::<String>::new());
        assert_eq!(repair_egui_memory(&text), None);
    }

    #[test]
    fn a_nan_scroll_offset_inside_egui_memory_becomes_zero_with_a_notice() {
        let mut memory = egui::Memory::default();
        let id = egui::Id::NULL.with("lesson text");
        memory.data.insert_persisted(id, ScrollLike { offset: egui::vec2(f32::NAN, f32::NAN), size: 3.0 });
        let text = ron::ser::to_string(&memory).unwrap();
        assert!(text.contains("NaN"), "{text}");
        let (repaired, notice) = repair_egui_memory(&text).unwrap();
        let repaired = repaired.unwrap();
        assert!(!repaired.contains("NaN"), "{repaired}");
        assert!(notice.contains("offset.x, offset.y"), "{notice}");
        let mut memory: egui::Memory = ron::from_str(&repaired).unwrap();
        let state: ScrollLike = memory.data.get_persisted(id).unwrap();
        assert_eq!(state, ScrollLike { offset: egui::Vec2::ZERO, size: 3.0 });
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct ScrollLike {
        offset: egui::Vec2,
        size: f32,
    }

    #[test]
    fn only_numbers_in_number_places_are_replaced() {
        let mut fields = Vec::new();
        let text = r#"(a: NaN, b: -inf, c: [inf, 1.0], name: "NaN", info: Some(infinite), d: (x: NaN))"#;
        let repaired = replace_non_finite(text, &mut fields);
        assert_eq!(repaired, r#"(a: 0.0, b: 0.0, c: [0.0, 1.0], name: "NaN", info: Some(infinite), d: (x: 0.0))"#);
        assert_eq!(fields, ["a", "b", "c", "d.x"]);
    }

    #[test]
    fn a_lesson_that_does_not_exist_goes_back_to_the_first_with_a_notice() {
        let settings = crate::app::shared::ViewSettings { lesson: 998, ..Default::default() };
        let mut entries =
            HashMap::from([(crate::app::SETTINGS_KEY.to_owned(), ron::ser::to_string(&settings).unwrap())]);
        let notices = repair(&mut entries);
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].contains("lesson (number 999) does not exist"), "{}", notices[0]);
        let repaired: crate::app::shared::ViewSettings = ron::from_str(&entries[crate::app::SETTINGS_KEY]).unwrap();
        assert_eq!(repaired.lesson, 0);
        assert!(repair(&mut entries).is_empty(), "repaired once is enough");
    }

    #[test]
    fn an_unreadable_file_is_set_aside_with_a_notice() {
        let folder = std::env::temp_dir().join(format!("relu-lab-state-garbage-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("app.ron");
        for (content, reason) in
            [(&b"{\"egui\": \"(options: (zoom"[..], "cut short"), (&[0xff, 0xfe, 0, 7][..], "not text")]
        {
            std::fs::write(&path, content).unwrap();
            let notices = repair_file(&path);
            assert_eq!(notices.len(), 1, "{notices:?}");
            assert!(notices[0].contains(reason) && notices[0].contains("app.ron.unreadable"), "{}", notices[0]);
            assert!(!path.exists());
            assert_eq!(std::fs::read(folder.join("app.ron.unreadable")).unwrap(), content);
        }
        let _ = std::fs::remove_dir_all(folder);
    }
}

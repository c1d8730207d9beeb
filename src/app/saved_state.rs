//! The app's saved state, checked before eframe reads it. eframe restores egui's memory (with
//! its zoom factor) and the window's size and place before our code runs, and a zoom factor of
//! 0, a negative one, NaN or 1000 made every launch panic inside the windowing library. So the
//! file is read here first, field by field: a bad zoom goes back to 100%, a window setting with
//! an impossible number is dropped, and the user is told.
//!
//! In a browser eframe keeps egui's memory in the page's local storage instead of a file; the
//! web build checks it the same way ([`repair_egui_memory`]) before the app starts.

use std::collections::HashMap;
use std::ops::RangeInclusive;
#[cfg(not(target_arch = "wasm32"))]
use std::path::{Path, PathBuf};

/// The zoom factors egui's own settings offer.
pub const ZOOM_RANGE: RangeInclusive<f32> = 0.1..=10.0;
/// The largest coordinate or size a saved window may have, in points.
const MAX_WINDOW_COORDINATE: f64 = 1e5;
/// A state file larger than this is not read (it is a few kilobytes).
#[cfg(not(target_arch = "wasm32"))]
const MAX_STATE_BYTES: u64 = 16 << 20;
/// eframe's key for egui's memory.
const EGUI_KEY: &str = "egui";
/// eframe's key for the window's size and place.
const WINDOW_KEY: &str = "window";

/// Where eframe keeps the state of the app `app_id`.
#[cfg(not(target_arch = "wasm32"))]
pub fn state_file(app_id: &str) -> Option<PathBuf> {
    eframe::storage_dir(app_id).map(|folder| folder.join("app.ron"))
}

/// Repairs the state file at `path` in place if it needs it; returns what was repaired, in
/// words. A missing or unreadable file is left to eframe (it starts from the defaults).
#[cfg(not(target_arch = "wasm32"))]
pub fn repair_file(path: &Path) -> Vec<String> {
    let Ok(metadata) = std::fs::metadata(path) else { return Vec::new() };
    if metadata.len() > MAX_STATE_BYTES {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let Ok(mut entries) = ron::from_str::<HashMap<String, String>>(&text) else { return Vec::new() };
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
    notices
}

/// Checks egui's saved memory (RON): `None` if it is fine or unreadable (egui then starts from
/// its defaults); otherwise the repaired text (`None` if it should be dropped) and what was
/// repaired, in words.
pub fn repair_egui_memory(text: &str) -> Option<(Option<String>, String)> {
    let mut memory = ron::from_str::<egui::Memory>(text).ok()?;
    let zoom = memory.options.zoom_factor;
    if zoom.is_finite() && ZOOM_RANGE.contains(&zoom) {
        return None;
    }
    memory.options.zoom_factor = 1.0;
    let notice = format!("The saved zoom factor ({zoom}) was out of range, so the zoom is back at 100%.");
    Some((ron::ser::to_string(&memory).ok(), notice))
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
}

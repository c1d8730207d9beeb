//! GIF recordings, driven headless through the whole app: a recording stopped before its first
//! frame leaves no file and says that nothing was recorded. (The harness has no renderer, so no
//! frame is ever delivered: exactly the case of a recording stopped before its first frame.
//! Frames, captions and the top bar's cropping are tested in `app::capture` and
//! `media::gif_recorder`, on synthetic screenshots.)

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

use crate::support::*;

fn gif_files(folder: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(folder).expect("the folder is readable");
    entries
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "gif"))
        .collect()
}

/// The app, training, with the Files window open and its folder set to `folder`.
fn harness_saving_to(folder: &Path) -> AppHarness {
    let mut harness = app_harness();
    wait_until_harness(&mut harness, "training has started", |h| h.state().snapshot().is_some_and(|s| s.step() > 0));
    harness.get_by_role_and_label(Role::Button, "Files…").click();
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::TextInput, "Folder").set_text_value_accesskit(&folder.display().to_string());
    harness.run_steps(2);
    assert_eq!(harness.state().files().folder, folder.display().to_string(), "the folder field took the path");
    harness
}

#[test]
fn a_recording_stopped_before_its_first_frame_leaves_no_gif_and_says_so() {
    let folder = temp_folder("app-recording", "no-frames");
    let mut harness = harness_saving_to(&folder);

    harness.get_by_role_and_label(Role::Button, "⏺ Record GIF").click();
    wait_until_harness(&mut harness, "the recording runs on its reserved file", |h| {
        h.query_by_label_contains("Recording… 0 frames").is_some()
    });
    assert!(harness.state().is_recording());
    assert_eq!(gif_files(&folder).len(), 1, "the file is reserved while recording");
    assert!(!harness.state().files().is_open, "the Files window is out of the picture");

    // The top bar keeps its Stop button.
    harness.get_by_role_and_label(Role::Button, "Stop recording").click();
    wait_until_harness(&mut harness, "the app says what happened", |h| {
        h.state().notice().is_some_and(|notice| notice.contains("Nothing was recorded"))
    });
    assert!(gif_files(&folder).is_empty(), "no .gif is left: {:?}", gif_files(&folder));
    assert!(!harness.state().is_recording());
    let message = harness.state().files().message.clone().expect("the Files window has the message too");
    assert!(message.text.contains("no file was left"), "{message:?}");
    assert!(harness.query_by_label_contains("Recording…").is_none(), "the indicator is gone");

    // A new recording can start at once.
    harness.get_by_role_and_label(Role::Button, "Files…").click();
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::Button, "⏺ Record GIF").click();
    wait_until_harness(&mut harness, "the second recording runs", |h| {
        h.query_by_label_contains("Recording… 0 frames").is_some()
    });
    harness.get_by_role_and_label(Role::Button, "Stop recording").click();
    wait_until_harness(&mut harness, "the second recording has ended", |h| {
        !h.state().is_recording() && gif_files(&folder).is_empty()
    });
    let _ = std::fs::remove_dir_all(folder);
}

/// The top bar's controls, left to right, with where they are drawn.
fn top_bar_controls(harness: &AppHarness, recording_label: &str) -> Vec<(String, egui::Rect)> {
    // Presenting, the view toggles wait in the "View" menu, leaving room for the step counter.
    let names: &[&str] = if harness.state().settings().presentation {
        &["Pause", "Step", "Reset", "Speed", "Lesson", "Fork", "Seeds", "Map", "Present", "View"]
    } else {
        &[
            "Pause",
            "Step",
            "Reset",
            "Speed",
            "Lesson",
            "Fork",
            "Seeds",
            "Map",
            "Present",
            "Switch theme",
            "Lessons",
            "Keyboard help",
        ]
    };
    let mut controls: Vec<(String, egui::Rect)> =
        names.iter().map(|name| ((*name).to_owned(), harness.get_by_label(name).rect())).collect();
    for name in ["Stop recording", "Files…", recording_label] {
        controls.push((name.to_owned(), harness.get_by_label_contains(name).rect()));
    }
    controls.sort_by(|(_, a), (_, b)| a.left().total_cmp(&b.left()));
    controls
}

/// While recording at 1280×720, the top bar still fits on one row with nothing drawn over
/// anything else, in both modes (in presentation mode the progress shortens to "⏺ REC").
#[test]
fn the_top_bar_fits_at_1280_while_recording_in_both_modes() {
    let folder = temp_folder("app-recording", "top-bar");
    let mut harness = harness_saving_to(&folder);
    harness.get_by_role_and_label(Role::Button, "⏺ Record GIF").click();
    wait_until_harness(&mut harness, "the recording runs", |h| {
        h.query_by_label_contains("Recording… 0 frames").is_some()
    });
    for (mode, recording_label) in [("normal", "Recording… 0 frames"), ("presentation", "⏺ REC")] {
        if mode == "presentation" {
            harness.key_press(egui::Key::F);
            wait_until_harness(&mut harness, "presentation mode", |h| h.query_by_label("⏺ REC").is_some());
            harness.run_steps(3);
        }
        let controls = top_bar_controls(&harness, recording_label);
        for pair in controls.windows(2) {
            let ((left_name, left), (right_name, right)) = (&pair[0], &pair[1]);
            assert!(
                left.right() <= right.left() + 0.5,
                "{mode}: {left_name} {left:?} runs into {right_name} {right:?}"
            );
            assert!(
                (left.center().y - right.center().y).abs() < 4.0,
                "{mode}: {left_name} and {right_name} on one row"
            );
        }
        let (last_name, last) = controls.last().expect("controls");
        assert!(last.right() <= 1280.0, "{mode}: {last_name} {last:?} is on screen");
    }
    harness.get_by_role_and_label(Role::Button, "Stop recording").click();
    wait_until_harness(&mut harness, "the recording has ended", |h| !h.state().is_recording());
    let _ = std::fs::remove_dir_all(folder);
}

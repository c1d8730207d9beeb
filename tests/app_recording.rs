//! GIF recordings, driven headless through the whole app: a recording stopped before its first
//! frame leaves no file and says that nothing was recorded. (The harness has no renderer, so no
//! frame is ever delivered: exactly the case of a recording stopped before its first frame.
//! Frames, captions and the top bar's cropping are tested in `app::capture` and
//! `media::gif_recorder`, on synthetic screenshots.)

#![cfg(feature = "gui")]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::ReluLabApp;

/// The longest a test waits for the trainer, the file thread or the encoder.
const TIMEOUT: Duration = Duration::from_mins(1);

fn harness() -> Harness<'static, ReluLabApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_eframe(|creation| ReluLabApp::new(None, None, &creation.egui_ctx))
}

/// A fresh folder for one test.
fn temp_folder(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("relu-lab-app-recording-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the temporary folder is writable");
    folder
}

fn gif_files(folder: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(folder).expect("the folder is readable");
    entries
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "gif"))
        .collect()
}

/// Runs frames until `condition` holds, failing after [`TIMEOUT`].
fn wait_until(harness: &mut Harness<'_, ReluLabApp>, what: &str, condition: impl Fn(&Harness<'_, ReluLabApp>) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !condition(harness) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting until {what}; notice {:?}, message {:?}",
            harness.state().notice(),
            harness.state().files().message
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.step();
}

/// The app, training, with the Files window open and its folder set to `folder`.
fn harness_saving_to(folder: &Path) -> Harness<'static, ReluLabApp> {
    let mut harness = harness();
    wait_until(&mut harness, "training has started", |h| h.state().snapshot().is_some_and(|s| s.step() > 0));
    harness.get_by_role_and_label(Role::Button, "Files…").click();
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::TextInput, "Folder").set_text_value_accesskit(&folder.display().to_string());
    harness.run_steps(2);
    assert_eq!(harness.state().files().folder, folder.display().to_string(), "the folder field took the path");
    harness
}

#[test]
fn a_recording_stopped_before_its_first_frame_leaves_no_gif_and_says_so() {
    let folder = temp_folder("no-frames");
    let mut harness = harness_saving_to(&folder);

    harness.get_by_role_and_label(Role::Button, "⏺ Record GIF").click();
    wait_until(&mut harness, "the recording runs on its reserved file", |h| {
        h.query_by_label_contains("Recording… 0 frames").is_some()
    });
    assert!(harness.state().is_recording());
    assert_eq!(gif_files(&folder).len(), 1, "the file is reserved while recording");
    assert!(!harness.state().files().is_open, "the Files window is out of the picture");

    // The top bar keeps its Stop button.
    harness.get_by_role_and_label(Role::Button, "Stop recording").click();
    wait_until(&mut harness, "the app says what happened", |h| {
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
    wait_until(&mut harness, "the second recording runs", |h| {
        h.query_by_label_contains("Recording… 0 frames").is_some()
    });
    harness.get_by_role_and_label(Role::Button, "Stop recording").click();
    wait_until(&mut harness, "the second recording has ended", |h| {
        !h.state().is_recording() && gif_files(&folder).is_empty()
    });
    let _ = std::fs::remove_dir_all(folder);
}

/// The top bar's controls, left to right, with where they are drawn.
fn top_bar_controls(harness: &Harness<'_, ReluLabApp>, recording_label: &str) -> Vec<(String, egui::Rect)> {
    let names = ["Pause", "Lesson", "Fork", "Seeds", "Present", "Switch theme", "Lessons", "Keyboard help"];
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
    let folder = temp_folder("top-bar");
    let mut harness = harness_saving_to(&folder);
    harness.get_by_role_and_label(Role::Button, "⏺ Record GIF").click();
    wait_until(&mut harness, "the recording runs", |h| h.query_by_label_contains("Recording… 0 frames").is_some());
    for (mode, recording_label) in [("normal", "Recording… 0 frames"), ("presentation", "⏺ REC")] {
        if mode == "presentation" {
            harness.key_press(egui::Key::F);
            wait_until(&mut harness, "presentation mode", |h| h.query_by_label("⏺ REC").is_some());
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
    wait_until(&mut harness, "the recording has ended", |h| !h.state().is_recording());
    let _ = std::fs::remove_dir_all(folder);
}

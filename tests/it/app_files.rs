//! The Files window, driven headless: exports land on disk with the columns of `relu-lab run`,
//! an unwritable folder gives a message and no panic, a saved run record and an exported
//! network load back into the app. (Screenshots and recorded frames need a renderer: see the
//! unit tests in `app::capture`, `app::file_jobs` and `media`, `tests/app_recording.rs` for a
//! recording that ends before its first frame, and the manual check under Xvfb.)

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::network_file;
use relu_lab::train::export::NetworkFile;
use relu_lab::train::{RunRecord, Session, Snapshotter, presets};

use crate::support::*;

/// Opens the Files window (through the top bar) and types `folder` into its folder field.
fn open_files(harness: &mut AppHarness, folder: &Path) {
    wait_until(harness, "training has started", |app| step_count(app) > 0);
    harness.get_by_role_and_label(Role::Button, "Files…").click();
    harness.run_steps(2);
    assert!(harness.state().files().is_open, "the Files window opened");
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::TextInput, "Folder").set_text_value_accesskit(&folder.display().to_string());
    harness.run_steps(2);
    assert_eq!(harness.state().files().folder, folder.display().to_string(), "the folder field took the path");
}

/// Clicks `button` in the Files window and waits for its message; returns the newest saved file.
fn save_with(harness: &mut AppHarness, button: &str) -> PathBuf {
    let saved_before = harness.state().files().recent.len();
    harness.get_by_role_and_label(Role::Button, button).click();
    wait_until(harness, &format!("{button} is done"), |app| {
        app.files().recent.len() > saved_before || app.files().message.as_ref().is_some_and(|m| m.is_error)
    });
    let files = harness.state().files();
    assert!(files.message.as_ref().is_some_and(|m| !m.is_error), "{:?}", files.message);
    files.recent[0].clone()
}

#[test]
fn exporting_the_history_writes_the_columns_of_relu_lab_run() {
    let folder = temp_folder("app-files", "csv");
    let mut harness = app_harness();
    open_files(&mut harness, &folder);
    wait_until(&mut harness, "a few history points", |app| app.history().points.len() > 3);
    let csv = save_with(&mut harness, "Export history CSV");
    assert!(csv.starts_with(&folder) && csv.extension().is_some_and(|e| e == "csv"), "{}", csv.display());
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("step,epoch,learning_rate,train_loss"), "{}", &text[..80.min(text.len())]);
    assert!(text.lines().count() > 4, "a header and the points");
    // The Files window and the notice line both say where it went.
    assert_eq!(
        harness.query_all_by_label_contains("Saved the history CSV").count(),
        2,
        "the window and the notice say where it went"
    );

    let json = save_with(&mut harness, "Export history JSON");
    let first = std::fs::read_to_string(&json).unwrap();
    let first: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(first["step"], 0);
    assert!(first["train_loss"].is_number());
    // Exporting again never overwrites.
    let again = save_with(&mut harness, "Export history CSV");
    assert_ne!(again, csv);
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn an_unwritable_folder_gives_a_message_and_no_panic() {
    let mut harness = app_harness();
    open_files(&mut harness, Path::new("/nonexistent-dir"));
    harness.get_by_role_and_label(Role::Button, "Export history CSV").click();
    wait_until(&mut harness, "the failure is reported", |app| app.files().message.is_some());
    let message = harness.state().files().message.clone().unwrap();
    assert!(message.is_error, "{message:?}");
    assert!(message.text.contains("/nonexistent-dir"), "{message:?}");
    assert!(harness.query_by_label_contains("Could not save the history CSV").is_some(), "the message is visible");
    assert!(!Path::new("/nonexistent-dir").exists(), "a typed folder is not created");
    // The app carries on.
    let before = step_count(harness.state());
    wait_until(&mut harness, "training goes on", |app| step_count(app) > before);
}

#[test]
fn a_saved_run_record_loads_back_and_continues_from_its_end() {
    let folder = temp_folder("app-files", "record");
    let mut harness = app_harness();
    open_files(&mut harness, &folder);
    // The slider stops at round rates: 0.7 lands on 1.
    harness.get_by_role_and_label(Role::Slider, "Learning rate").set_value_accesskit(0.7);
    wait_until(&mut harness, "the learning rate change is recorded", |app| {
        app.snapshot().is_some_and(|s| s.command_count > 0 && s.step() > 50)
    });
    let path = save_with(&mut harness, "Save run record");
    let saved = RunRecord::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let lane = saved.lanes[0].clone();
    assert!(!lane.commands.is_empty() && lane.steps > 50);
    assert!(lane.parameter_digest.is_some(), "the saved record can be verified");
    assert_eq!(harness.state().files().load_path, path.display().to_string(), "offered for loading");

    // Move to another lesson, then load the record back.
    harness.get_by_role_and_label(Role::Button, "Load lesson 3").click_accesskit();
    let other = presets::find("negative-bias").unwrap().config().unwrap();
    wait_until(&mut harness, "lesson 3 runs", |app| app.snapshot().is_some_and(|s| s.config == other));
    harness.get_by_role_and_label(Role::Button, "Load run record").click();
    wait_until(&mut harness, "the record is loaded", |app| {
        app.snapshot().is_some_and(|s| s.config.seed == lane.config.seed && s.step() >= lane.steps)
    });
    assert!(
        harness.state().notice().is_some_and(|notice| notice.contains("bit for bit")),
        "the replay says it matched: {:?}",
        harness.state().notice()
    );
    let snapshot = harness.state().snapshot().unwrap().clone();
    assert!(snapshot.command_count >= lane.commands.len());
    assert_eq!(snapshot.config.training.learning_rate, 1.0);
    assert_eq!(harness.state().history().points.first().map(|p| p.step), Some(0), "the history starts over");
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn an_exported_network_loads_back_with_identical_weights() {
    let folder = temp_folder("app-files", "network");
    let mut harness = app_harness();
    open_files(&mut harness, &folder);
    wait_until(&mut harness, "some training", |app| step_count(app) > 50);
    harness.get_by_role_and_label(Role::Button, "Pause").click();
    wait_until(&mut harness, "the run is paused", |app| !app.status().is_running());
    let path = save_with(&mut harness, "Export network JSON");
    let exported = NetworkFile::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    harness.get_by_role_and_label(Role::Button, "Load lesson 4").click_accesskit();
    wait_until(&mut harness, "lesson 4 runs", |app| {
        app.snapshot().is_some_and(|s| s.config.description != exported.config.description)
    });
    harness.get_by_role_and_label(Role::Button, "Pause").click();
    harness.get_by_role_and_label(Role::Button, "Load network").click();
    wait_until(&mut harness, "the network is loaded", |app| {
        app.snapshot().is_some_and(|s| s.step() == 0 && s.config.description == exported.config.description)
    });
    let reloaded = network_file(harness.state().snapshot().unwrap()).expect("a small network, every neuron shown");
    assert_eq!(reloaded.layers, exported.layers, "identical weights, biases and slopes");
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn a_network_file_from_a_snapshot_equals_the_one_from_its_session() {
    for preset in ["healthy-relu", "prelu", "deep-narrow-he"] {
        let mut session = Session::new(presets::find(preset).unwrap().config().unwrap()).unwrap();
        for _ in 0..120 {
            session.step();
        }
        let evaluation = session.evaluate();
        let snapshot = Snapshotter::new(16).snapshot(&session, &evaluation);
        assert_eq!(network_file(&snapshot), Some(session.network_file()), "{preset}");
    }
}

//! The app's Files → "Render video…", driven headless: the open lesson's take is rendered to an
//! MP4 on a background thread while the app goes on, its progress shows in the Files window,
//! and the notice line names the saved file, which is a whole MP4 of the chosen length.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::ReluLabApp;

use crate::support::{AppHarness, app_harness};

/// The longest the test waits for the trainer or the render.
const TIMEOUT: Duration = Duration::from_mins(3);

fn wait_until(harness: &mut AppHarness, what: &str, condition: impl Fn(&ReluLabApp) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !condition(harness.state()) {
        assert!(Instant::now() < deadline, "timed out waiting until {what}; {:?}", harness.state().files().message);
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Picks `option` in the Files window's combo box labelled `label`.
fn choose(harness: &mut AppHarness, label: &str, option: &str) {
    harness.get_by_role_and_label(Role::ComboBox, label).click();
    harness.run_steps(2);
    harness.get_by_label(option).click();
    harness.run_steps(2);
}

#[test]
fn render_video_saves_the_lessons_take_and_says_where() {
    let folder = std::env::temp_dir().join(format!("relu-lab-render-app-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let mut harness = app_harness();
    wait_until(&mut harness, "training has started", |app| app.snapshot().is_some_and(|s| s.step() > 0));
    harness.get_by_role_and_label(Role::Button, "Files…").click();
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::TextInput, "Folder").set_text_value_accesskit(&folder.display().to_string());
    harness.run_steps(2);
    choose(&mut harness, "Size", "640×360");
    choose(&mut harness, "Length", "5 s");
    assert_eq!((harness.state().files().video_size, harness.state().files().video_seconds), ((640, 360), Some(5)));
    harness.get_by_role_and_label(Role::Button, "🎬 Render video…").click();
    harness.run_steps(2);
    assert!(harness.state().files().render_progress.is_some(), "the progress shows while it renders");
    wait_until(&mut harness, "the video is saved", |app| app.notice().is_some_and(|n| n.contains("Saved the video")));
    let notice = harness.state().notice().unwrap_or_default().to_owned();
    let saved: PathBuf = harness.state().files().recent[0].clone();
    assert!(notice.contains(&saved.display().to_string()), "{notice}");
    assert_eq!(saved.file_name().unwrap(), "take-lesson1.mp4");
    let bytes = std::fs::read(&saved).unwrap();
    // 5 s at 30 fps: 150 samples in the sample-size box (its count follows "stsz", version,
    // flags and the common sample size).
    let at = bytes.windows(4).position(|window| window == b"stsz").expect("an stsz box");
    assert_eq!(u32::from_be_bytes(bytes[at + 12..at + 16].try_into().unwrap()), 150);
    assert!(harness.state().files().render_progress.is_none());
    let _ = std::fs::remove_dir_all(&folder);
}

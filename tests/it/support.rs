//! What the test modules share: presets, temporary folders, and the whole app under a headless
//! harness with a way to wait for its trainer.

use std::path::PathBuf;
use std::time::Duration;

use relu_lab::train::{RunConfig, presets};

/// The longest a test waits for the trainer, the file thread or a spawned command. Generous:
/// the suite runs on loaded two-core machines; a healthy wait takes well under a second.
pub(crate) const TIMEOUT: Duration = Duration::from_mins(1);

/// The config of the built-in preset `name`.
pub(crate) fn preset(name: &str) -> RunConfig {
    presets::find(name).unwrap_or_else(|| panic!("there is a preset {name}")).config().expect("the preset parses")
}

/// A fresh, empty folder for one test: `group` names the test module, `name` the test.
pub(crate) fn temp_folder(group: &str, name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("relu-lab-{group}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the temporary folder is writable");
    folder
}

#[cfg(feature = "gui")]
pub(crate) use self::app::*;

#[cfg(feature = "gui")]
mod app {
    use std::ops::{Deref, DerefMut};
    use std::time::{Duration, Instant};

    use egui_kittest::Harness;
    use egui_kittest::kittest::NodeT as _;
    use relu_lab::app::ReluLabApp;

    use super::TIMEOUT;

    /// Builds the app on the harness's own context, at its first frame.
    type Build = Box<dyn FnOnce(&egui::Context) -> ReluLabApp>;

    /// The app as a harness drives it: built on the harness's context at the first frame, then
    /// every frame drained and drawn as eframe does it (`logic`, then `ui`). Reads as the app.
    pub(crate) struct AppUnderTest {
        app: Option<ReluLabApp>,
        build: Option<Build>,
    }

    impl AppUnderTest {
        fn frame(&mut self, ui: &mut egui::Ui) {
            if let Some(build) = self.build.take() {
                self.app = Some(build(ui.ctx()));
            }
            if let Some(app) = &mut self.app {
                app.drain_trainer(ui.ctx());
                app.show(ui);
            }
        }
    }

    impl Deref for AppUnderTest {
        type Target = ReluLabApp;

        fn deref(&self) -> &ReluLabApp {
            self.app.as_ref().expect("the harness builds the app at its first frame")
        }
    }

    impl DerefMut for AppUnderTest {
        fn deref_mut(&mut self) -> &mut ReluLabApp {
            self.app.as_mut().expect("the harness builds the app at its first frame")
        }
    }

    /// The whole app under a headless harness.
    pub(crate) type AppHarness = Harness<'static, AppUnderTest>;

    /// The app as a first launch opens it, at 1280×720.
    pub(crate) fn app_harness() -> AppHarness {
        app_harness_with(egui::vec2(1280.0, 720.0), |ctx| ReluLabApp::new(None, None, ctx))
    }

    /// The app that `build` makes, in a window of `size`.
    pub(crate) fn app_harness_with(
        size: egui::Vec2,
        build: impl FnOnce(&egui::Context) -> ReluLabApp + 'static,
    ) -> AppHarness {
        let state = AppUnderTest { app: None, build: Some(Box::new(build)) };
        Harness::builder().with_size(size).build_ui_state(|ui, app: &mut AppUnderTest| app.frame(ui), state)
    }

    /// Runs frames until `condition` holds, failing after [`TIMEOUT`] with what the app says.
    pub(crate) fn wait_until(harness: &mut AppHarness, what: &str, condition: impl Fn(&ReluLabApp) -> bool) {
        wait_until_harness(harness, what, |harness| condition(harness.state()));
    }

    /// Runs frames until `condition` (of the whole harness) holds, failing after [`TIMEOUT`].
    pub(crate) fn wait_until_harness(harness: &mut AppHarness, what: &str, condition: impl Fn(&AppHarness) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        while !condition(harness) {
            let app = harness.state();
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}; status {:?}, notice {:?}, files {:?}",
                app.status(),
                app.notice(),
                app.files().message
            );
            harness.step();
            std::thread::sleep(Duration::from_millis(2));
        }
        harness.step();
    }

    /// The step of the newest snapshot (0 before the first).
    pub(crate) fn step_count(app: &ReluLabApp) -> u64 {
        app.snapshot().map_or(0, |snapshot| snapshot.step())
    }

    /// Waits until the app has trained at least one step.
    pub(crate) fn wait_for_training(harness: &mut AppHarness) {
        wait_until(harness, "training has started", |app| step_count(app) > 0);
    }

    /// The accessible label (or value) of a node.
    pub(crate) fn label_of(node: &egui_kittest::Node<'_>) -> String {
        let node = node.accesskit_node();
        node.label().filter(|label| !label.is_empty()).or_else(|| node.value()).unwrap_or_default()
    }
}

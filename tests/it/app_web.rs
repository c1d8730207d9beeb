//! The whole app as a browser tab runs it, driven headless natively: the trainer inside the
//! frames, files as downloads and uploads through a page (here a fake one that keeps what it
//! is given), and links in the address's `#` part.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::top_bar::RunStatus;
use relu_lab::app::web_page::{FilePurpose, OpenedFile, WebPage};
use relu_lab::app::{AppOptions, ReluLabApp};
use relu_lab::nn::ActivationKind;
use relu_lab::train::export::NetworkFile;
use relu_lab::train::worker::TrainerBackend;
use relu_lab::train::{RunRecord, presets};

use crate::support::*;

/// The page's address, before its `#` part.
const ADDRESS: &str = "https://example.org/relu-lab/";

/// A page that keeps what the app gives it and hands over the files a test queues.
#[derive(Default)]
struct FakePage {
    /// `(name, bytes)` of every download, in order.
    downloads: RefCell<Vec<(String, Vec<u8>)>>,
    /// Every purpose the file picker was opened for.
    picks: RefCell<Vec<FilePurpose>>,
    /// The file the picker "chooses" next: `(name, bytes)`.
    next_choice: RefCell<Option<(String, Vec<u8>)>>,
    /// Files read, waiting for the app.
    opened: RefCell<VecDeque<OpenedFile>>,
    /// Every `#` part shown in the address bar.
    shown: RefCell<Vec<String>>,
    /// Every text copied to the clipboard.
    copied: RefCell<Vec<String>>,
    /// A `#` part the user "goes to".
    visited: RefCell<Option<String>>,
}

impl WebPage for FakePage {
    fn download(&self, file_name: &str, bytes: &[u8]) -> Result<(), String> {
        self.downloads.borrow_mut().push((file_name.to_owned(), bytes.to_vec()));
        Ok(())
    }

    fn pick_file(&self, purpose: FilePurpose) {
        self.picks.borrow_mut().push(purpose);
        if let Some((name, bytes)) = self.next_choice.borrow_mut().take() {
            self.opened.borrow_mut().push_back(OpenedFile { name, purpose, bytes: Ok(bytes) });
        }
    }

    fn read_dropped_file(&self, file: egui::DroppedFileHandle) {
        let name = file.path().display().to_string();
        self.opened.borrow_mut().push_back(OpenedFile { name, purpose: FilePurpose::Dropped, bytes: file.bytes() });
    }

    fn take_opened_file(&self) -> Option<OpenedFile> {
        self.opened.borrow_mut().pop_front()
    }

    fn copy_text(&self, text: &str) -> Result<(), String> {
        self.copied.borrow_mut().push(text.to_owned());
        Ok(())
    }

    fn address_with_fragment(&self, fragment: &str) -> String {
        format!("{ADDRESS}#{fragment}")
    }

    fn show_fragment(&self, fragment: &str) {
        self.shown.borrow_mut().push(fragment.to_owned());
    }

    fn take_visited_fragment(&self) -> Option<String> {
        self.visited.borrow_mut().take()
    }
}

impl FakePage {
    /// The newest download whose name ends in `extension`.
    fn download_ending(&self, extension: &str) -> Option<(String, Vec<u8>)> {
        self.downloads.borrow().iter().rev().find(|(name, _)| name.ends_with(extension)).cloned()
    }
}

/// The app as the web crate starts it, on `link`, with `page`.
fn browser_app(page: &Rc<FakePage>, link: Option<&str>) -> AppHarness {
    let options = AppOptions {
        config: None,
        link: link.map(str::to_owned),
        backend: TrainerBackend::InFrame,
        page: Some(Rc::clone(page) as Rc<dyn WebPage>),
        ..AppOptions::default()
    };
    app_harness_with(egui::vec2(1280.0, 720.0), move |ctx| ReluLabApp::with_options(options, None, ctx))
}

fn files_message(app: &ReluLabApp) -> String {
    app.files().message.as_ref().map(|message| message.text.clone()).unwrap_or_default()
}

fn open_files(harness: &mut AppHarness) {
    wait_until(harness, "training has started", |app| step_count(app) > 0);
    harness.get_by_role_and_label(Role::Button, "Files…").click();
    harness.run_steps(3);
    assert!(harness.state().files().is_open, "the Files window opened");
}

#[test]
fn in_frame_the_app_trains_pauses_and_loads_a_lesson() {
    let page = Rc::new(FakePage::default());
    let mut harness = browser_app(&page, None);
    wait_until(&mut harness, "it has trained 20 steps", |app| step_count(app) >= 20);
    assert_eq!(*harness.state().status(), RunStatus::Running);
    harness.key_press(egui::Key::Space);
    wait_until(&mut harness, "it pauses", |app| *app.status() == RunStatus::Paused);
    // The last snapshot comes a snapshot interval after the pause, in a later frame.
    std::thread::sleep(Duration::from_millis(100));
    harness.run_steps(3);
    let paused_at = step_count(harness.state());
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    assert_eq!(step_count(harness.state()), paused_at, "a paused run makes no step in any frame");
    harness.key_press(egui::Key::Space);
    wait_until(&mut harness, "it trains again", |app| step_count(app) > paused_at);
    harness.get_by_role_and_label(Role::Button, "Load lesson 2").click_accesskit();
    let preset = presets::find("high-learning-rate").unwrap().config().unwrap();
    wait_until(&mut harness, "lesson 2 runs", |app| {
        app.snapshot().is_some_and(|snapshot| snapshot.config.description == preset.description && snapshot.step() > 0)
    });
    assert_eq!(harness.state().settings().lesson, 1);
}

#[test]
fn a_link_opens_its_lesson_with_its_settings() {
    let page = Rc::new(FakePage::default());
    let link = "#lesson=2&lr=0.5&activation=leaky-relu:0.1&seed=4";
    let mut harness = browser_app(&page, Some(link));
    wait_for_training(&mut harness);
    let app = harness.state();
    assert_eq!(app.settings().lesson, 1, "lesson 2 is open");
    let config = &app.snapshot().unwrap().config;
    assert_eq!(config.training.learning_rate, 0.5);
    assert_eq!(
        (config.network.activation, config.network.activation_parameter),
        (ActivationKind::LeakyRelu, Some(0.1))
    );
    assert_eq!(config.seed, 4);
    assert_eq!(config.description, presets::find("high-learning-rate").unwrap().config().unwrap().description);
    // Nothing was left out; the notice says what the link changed in the lesson.
    assert_eq!(
        app.notice(),
        Some("This link changed lesson 2: seed 4, activation Leaky ReLU (0.1), learning rate 0.5."),
        "nothing was left out"
    );
}

#[test]
fn a_broken_link_keeps_what_it_can_and_says_what_it_left_out() {
    let page = Rc::new(FakePage::default());
    let mut harness = browser_app(&page, Some("lesson=3&lr=banana&colour=red&seed=9"));
    wait_for_training(&mut harness);
    let app = harness.state();
    assert_eq!(app.settings().lesson, 2, "lesson 3 is open");
    assert_eq!(app.snapshot().unwrap().config.seed, 9, "the good part is kept");
    let notice = app.notice().unwrap_or_default();
    assert!(notice.contains("“lr=banana” is not a number"), "{notice}");
    assert!(notice.contains("“colour=red” is not a setting"), "{notice}");
}

#[test]
fn the_link_to_the_run_names_what_changed_and_copying_it_shows_it_in_the_address_bar() {
    let page = Rc::new(FakePage::default());
    let mut harness = browser_app(&page, Some("lesson=2&lr=0.5"));
    open_files(&mut harness);
    let expected = format!("{ADDRESS}#lesson=2&lr=0.5");
    assert!(harness.query_by_label(&expected).is_some(), "the Files window shows the link");
    harness.get_by_role_and_label(Role::Button, "🔗 Copy link").click();
    harness.run_steps(2);
    assert_eq!(page.shown.borrow().last().map(String::as_str), Some("lesson=2&lr=0.5"));
    assert_eq!(page.copied.borrow().as_slice(), std::slice::from_ref(&expected), "the page copied the whole address");
    assert_eq!(files_message(harness.state()), format!("Copied the link: {expected}"));
}

#[test]
fn another_lessons_link_opened_in_the_tab_switches_the_run() {
    let page = Rc::new(FakePage::default());
    let mut harness = browser_app(&page, None);
    wait_for_training(&mut harness);
    *page.visited.borrow_mut() = Some("lesson=5&bias=1".to_owned());
    let preset = presets::find("leaky-rescue").unwrap().config().unwrap();
    wait_until(&mut harness, "lesson 5 runs", |app| {
        app.snapshot().is_some_and(|snapshot| snapshot.config.description == preset.description)
    });
    assert_eq!(harness.state().settings().lesson, 4);
    assert_eq!(harness.state().snapshot().unwrap().config.network.bias_offset, 1.0);
}

#[test]
fn in_a_browser_files_are_downloads_and_a_saved_record_loads_back_through_the_picker() {
    let page = Rc::new(FakePage::default());
    let mut harness = browser_app(&page, None);
    open_files(&mut harness);
    assert!(harness.query_by_label("Folder").is_none(), "a browser has no folders to type");

    harness.get_by_role_and_label(Role::Button, "Export history CSV").click();
    wait_until(&mut harness, "the CSV is downloaded", |_| page.download_ending(".csv").is_some());
    let (name, csv) = page.download_ending(".csv").unwrap();
    assert!(name.starts_with("history-step"), "{name}");
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("step,epoch,learning_rate"), "{}", csv.lines().next().unwrap_or_default());
    assert!(csv.lines().count() > 1, "with rows");
    assert!(
        files_message(harness.state()).starts_with("Downloaded the history CSV"),
        "{}",
        files_message(harness.state())
    );

    harness.get_by_role_and_label(Role::Button, "Save run record").click();
    wait_until(&mut harness, "the record is downloaded", |_| page.download_ending(".json").is_some());
    let (name, bytes) = page.download_ending(".json").unwrap();
    let record = RunRecord::from_json(std::str::from_utf8(&bytes).unwrap()).expect("the download is a run record");
    assert!(record.steps() > 0 && record.lanes[0].parameter_digest.is_some());

    // Load it back, as a student who was sent the file would.
    *page.next_choice.borrow_mut() = Some((name.clone(), bytes));
    harness.get_by_role_and_label(Role::Button, "Load run record…").click();
    wait_until(&mut harness, "the record is loaded", |app| files_message(app).starts_with("Loaded "));
    assert_eq!(page.picks.borrow().as_slice(), [FilePurpose::LoadRunRecord]);
    assert!(files_message(harness.state()).contains(&name), "{}", files_message(harness.state()));
    wait_until(&mut harness, "the replay ends and checks the bits", |app| {
        app.notice()
            .is_some_and(|notice| notice.starts_with(&format!("Replayed the record to step {}", record.steps())))
    });
    let verdict = harness.state().notice().unwrap_or_default().to_owned();
    assert!(verdict.contains("match the record bit for bit"), "the replay in frame gives the same bits: {verdict}");
}

#[test]
fn a_truncated_upload_gives_a_message_and_the_run_goes_on() {
    let page = Rc::new(FakePage::default());
    let mut harness = browser_app(&page, None);
    open_files(&mut harness);
    harness.get_by_role_and_label(Role::Button, "Save run record").click();
    wait_until(&mut harness, "the record is downloaded", |_| page.download_ending(".json").is_some());
    let (_, bytes) = page.download_ending(".json").unwrap();
    *page.next_choice.borrow_mut() = Some(("cut.json".to_owned(), bytes[..bytes.len() / 3].to_vec()));
    let before = step_count(harness.state());
    harness.get_by_role_and_label(Role::Button, "Replay run record live…").click();
    wait_until(&mut harness, "the failure is told", |app| app.files().message.as_ref().is_some_and(|m| m.is_error));
    let message = files_message(harness.state());
    assert!(message.starts_with("Could not") && message.contains("cut.json"), "{message}");
    wait_until(&mut harness, "the run goes on", |app| step_count(app) > before + 10);
}

#[test]
fn a_network_file_dropped_on_the_window_is_loaded() {
    let page = Rc::new(FakePage::default());
    let mut harness = browser_app(&page, None);
    open_files(&mut harness);
    harness.get_by_role_and_label(Role::Button, "Export network JSON").click();
    wait_until(&mut harness, "the network is downloaded", |_| page.download_ending(".json").is_some());
    let (_, bytes) = page.download_ending(".json").unwrap();
    let network = NetworkFile::from_json(std::str::from_utf8(&bytes).unwrap()).expect("a network file");
    harness.input_mut().dropped_files.push(std::sync::Arc::new(DroppedBytes { name: "net.json".into(), bytes }));
    wait_until(&mut harness, "the network is loaded", |app| files_message(app).starts_with("Loaded the network"));
    wait_until(&mut harness, "it trains from it", |app| step_count(app) > 0);
    let snapshot = harness.state().snapshot().unwrap();
    assert_eq!(snapshot.config.network.hidden_layers, network.config.network.hidden_layers);
}

/// A file dropped on the window, as the browser hands it over (a name and bytes, no folder).
#[derive(Debug)]
struct DroppedBytes {
    name: std::path::PathBuf,
    bytes: Vec<u8>,
}

impl egui::DroppedFile for DroppedBytes {
    fn path(&self) -> &Path {
        &self.name
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        Ok(self.bytes.clone())
    }
}

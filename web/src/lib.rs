//! ReLU Lab in a browser tab: the desktop app, compiled to WebAssembly, started by
//! `web/index.html` on a `<canvas>` through eframe's [`eframe::WebRunner`].
//!
//! The differences from the desktop are all chosen here, through [`AppOptions`]: the trainer
//! runs in a Web Worker ([`trainer_worker`]; inside the frames where a worker cannot start),
//! files are downloads and uploads
//! ([`page::BrowserPage`]), and the address's `#` part is a shared link to open. JavaScript
//! gets a [`WebHandle`]: start, whether the app panicked and why, and a few read-outs for the
//! smoke test (`web/smoke-test.mjs`) and for anyone measuring the build.
//!
//! Built natively the crate is empty: everything here is for `wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]

mod page;
mod trainer_worker;

pub use trainer_worker::TrainerWorker;

use std::cell::Cell;
use std::rc::Rc;

use relu_lab::app::shared::Intent;
use relu_lab::app::{AppOptions, ReluLabApp};
use relu_lab::train::worker::TrainerBackend;
use relu_lab::train::{Speed, WorkerCommand};
use wasm_bindgen::prelude::*;

/// The key under which eframe keeps egui's memory in the page's local storage.
const EGUI_MEMORY_KEY: &str = "egui_memory_ron";

/// The app, and when its first frame was drawn.
struct WebApp {
    app: ReluLabApp,
    /// Milliseconds from the start of the page's navigation to the end of the first frame.
    first_frame_millis: Rc<Cell<Option<f64>>>,
    /// The CPU time of the app's last frame (training, events and UI, not the GPU's drawing),
    /// in milliseconds, as eframe measures it.
    frame_cpu_millis: f32,
    /// Where the Files window was last drawn, in points (its height grows with the message at
    /// its foot, and egui keeps it on screen, so what it holds moves).
    files_window: Option<egui::Rect>,
}

impl eframe::App for WebApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.app.logic(ctx, frame);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.frame_cpu_millis = frame.info().cpu_usage.unwrap_or_default() * 1e3;
        self.app.ui(ui, frame);
        // egui's id for a window is its title's.
        let files_id = egui::Id::unique(Some(std::borrow::Cow::Borrowed("Files")));
        self.files_window = ui.ctx().memory(|memory| memory.area_rect(files_id));
        if self.first_frame_millis.get().is_none() {
            self.first_frame_millis.set(now_millis());
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.app.save(storage);
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

/// Milliseconds since the page's navigation started.
fn now_millis() -> Option<f64> {
    web_sys::window().and_then(|window| window.performance()).map(|performance| performance.now())
}

/// Checks egui's saved memory in local storage before eframe reads it (a bad zoom factor is
/// set back to 100%, as the desktop does with its state file); returns what was repaired.
fn repair_saved_memory() -> Vec<String> {
    let Some(storage) = web_sys::window().and_then(|window| window.local_storage().ok().flatten()) else {
        return Vec::new();
    };
    let Some(text) = storage.get_item(EGUI_MEMORY_KEY).ok().flatten() else { return Vec::new() };
    let Some((repaired, notice)) = relu_lab::app::saved_state::repair_egui_memory(&text) else { return Vec::new() };
    let written = match repaired {
        Some(repaired) => storage.set_item(EGUI_MEMORY_KEY, &repaired),
        None => storage.remove_item(EGUI_MEMORY_KEY),
    };
    match written {
        Ok(()) => vec![notice],
        Err(error) => {
            vec![format!("The saved settings need repair but could not be written: {}", page::error_text(&error))]
        }
    }
}

/// The app as JavaScript sees it.
#[wasm_bindgen]
pub struct WebHandle {
    runner: eframe::WebRunner,
    first_frame_millis: Rc<Cell<Option<f64>>>,
}

#[wasm_bindgen]
impl WebHandle {
    /// Installs the panic hook (panics are shown by `index.html`) and the logger.
    #[wasm_bindgen(constructor)]
    #[expect(clippy::new_without_default, reason = "JavaScript calls the constructor")]
    pub fn new() -> Self {
        let level = if cfg!(debug_assertions) { log::LevelFilter::Debug } else { log::LevelFilter::Info };
        eframe::WebLogger::init(level).ok();
        Self { runner: eframe::WebRunner::new(), first_frame_millis: Rc::default() }
    }

    /// Starts the app on `canvas`: on the link in the address's `#` part if it has one, else
    /// on the lesson left open last time (the first one on a first visit), already training.
    ///
    /// # Errors
    /// When the app cannot start, most often because the browser has no WebGL 2.
    pub async fn start(&self, canvas: web_sys::HtmlCanvasElement) -> Result<(), JsValue> {
        let notices = repair_saved_memory();
        let fragment = page::fragment();
        let first_frame_millis = Rc::clone(&self.first_frame_millis);
        self.runner
            .start(
                canvas,
                eframe::WebOptions::default(),
                Box::new(move |creation| {
                    let page = page::BrowserPage::new(&creation.egui_ctx).map_err(|error| page::error_text(&error))?;
                    let options = AppOptions {
                        config: None,
                        link: (!fragment.is_empty()).then_some(fragment),
                        backend: TrainerBackend::Worker,
                        page: Some(Rc::new(page)),
                        ..AppOptions::default()
                    };
                    let mut app = ReluLabApp::with_options(options, creation.storage, &creation.egui_ctx);
                    for notice in notices {
                        app.add_notice(notice);
                    }
                    Ok(Box::new(WebApp { app, first_frame_millis, frame_cpu_millis: 0.0, files_window: None }))
                }),
            )
            .await
    }

    /// Stops the app and lets go of the canvas.
    pub fn destroy(&self) {
        self.runner.destroy();
    }

    /// Whether the app has panicked (it stops then; `index.html` shows why).
    pub fn has_panicked(&self) -> bool {
        self.runner.has_panicked()
    }

    /// The panic's message, if the app panicked.
    pub fn panic_message(&self) -> Option<String> {
        self.runner.panic_summary().map(|summary| summary.message())
    }

    /// The panic's call stack, if the app panicked.
    pub fn panic_callstack(&self) -> Option<String> {
        self.runner.panic_summary().map(|summary| summary.callstack())
    }

    /// Milliseconds from the start of the page's navigation to the end of the app's first
    /// frame, once it was drawn.
    pub fn first_frame_millis(&self) -> Option<f64> {
        self.first_frame_millis.get()
    }

    /// What the app shows, as JSON: the step, the open lesson (from 1), the learning rate, the
    /// activation, whether it trains, the selected neuron (layer and neuron, from 1), its
    /// messages, the CPU time of its last frame, where the trainer runs, where the Files window
    /// is (left, top, width, height), and in the seeds view each seed's step and the summary
    /// sentences. `None` before the app started or after it panicked.
    pub fn status(&self) -> Option<String> {
        let mut web_app = self.runner.app_mut::<WebApp>()?;
        let frame_cpu_millis = web_app.frame_cpu_millis;
        let files_window = web_app.files_window.map(|rect| [rect.min.x, rect.min.y, rect.width(), rect.height()]);
        let app = &mut web_app.app;
        let snapshot = app.snapshot();
        let view = app.view();
        let status = serde_json::json!({
            "step": snapshot.map(|snapshot| snapshot.step()),
            "view_step": view.map(|view| view.step),
            "lesson": app.settings().lesson + 1,
            "learning_rate": snapshot.map(|snapshot| snapshot.config.training.learning_rate),
            "activation": snapshot.map(|snapshot| snapshot.activation.to_string()),
            "is_running": app.status().is_running(),
            "selected_neuron": app.selection().map(|(layer, neuron)| [layer + 1, neuron + 1]),
            "notice": app.notice(),
            "files_message": app.files().message.as_ref().map(|message| message.text.clone()),
            "frame_cpu_millis": frame_cpu_millis,
            "files_window": files_window,
            "trainer": app.trainer_backend().map(|backend| format!("{backend:?}")),
            "trainer_place": app.trainer_place(),
            "branch_b_step": view.and_then(|view| view.branch_b()).map(|b| b.step()),
            "seeds": view.and_then(|view| view.seeds()).map(|seeds| {
                seeds.lanes.iter().map(|lane| lane.a.step()).collect::<Vec<_>>()
            }),
            "seeds_summary": view.and_then(|view| view.seeds()).map(|seeds| seeds.summary.clone()),
        });
        Some(status.to_string())
    }

    /// Trains as fast as the frames allow (for measuring), or back at the app's start speed.
    pub fn set_full_speed(&self, is_full_speed: bool) {
        let Some(mut web_app) = self.runner.app_mut::<WebApp>() else { return };
        let speed = if is_full_speed { Speed::Max } else { relu_lab::app::DEFAULT_SPEED };
        web_app.app.apply(Intent::Trainer(WorkerCommand::SetSpeed(speed)));
    }
}

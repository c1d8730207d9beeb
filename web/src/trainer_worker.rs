//! The trainer in a Web Worker: a second instance of this module, started by
//! `trainer-worker.js`, trains on a core of its own while the page draws at its own rate. They
//! share no memory (no `SharedArrayBuffer`, so no special server headers): commands, events
//! and views cross as bytes through `postMessage`, the buffers transferred, not copied
//! (`relu_lab::train::remote`).
//!
//! Both ends live here: [`TrainerWorker`] is the worker's (JavaScript calls it a turn at a
//! time), [`WebWorkerPort`] the page's. The page's port keeps its `Worker` and callbacks on the
//! page's thread, in [`WORKERS`], and holds only a key to them, so the trainer's handle stays
//! `Send` like on the desktop.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use relu_lab::train::remote::{PortMessage, TrainerPort};
use relu_lab::train::remote_host::{HostWait, TrainerHost};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;

/// The worker's script, beside `index.html`.
const WORKER_SCRIPT: &str = "./trainer-worker.js";

/// A worker the page started, with the callbacks that must live as long as it does.
struct Running {
    worker: web_sys::Worker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

thread_local! {
    /// The workers this page runs, by key.
    static WORKERS: RefCell<HashMap<u32, Running>> = RefCell::new(HashMap::new());
    /// The next key.
    static NEXT_KEY: Cell<u32> = const { Cell::new(0) };
}

/// What arrived from a worker, waiting for the app's next frame.
type Inbox = Arc<Mutex<VecDeque<PortMessage>>>;

/// The page's end of the line to a trainer in a Web Worker.
pub(crate) struct WebWorkerPort {
    key: u32,
    inbox: Inbox,
}

impl WebWorkerPort {
    /// Starts the worker; each message (or failure) that arrives asks `ctx` for a frame.
    pub(crate) fn spawn(ctx: &egui::Context) -> Result<Box<dyn TrainerPort>, String> {
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker =
            web_sys::Worker::new_with_options(WORKER_SCRIPT, &options).map_err(|error| format!("{error:?}"))?;
        let inbox: Inbox = Arc::default();
        let on_message = {
            let (inbox, ctx) = (Arc::clone(&inbox), ctx.clone());
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let bytes = js_sys::Uint8Array::new(&event.data()).to_vec();
                if let Ok(mut inbox) = inbox.lock() {
                    inbox.push_back(PortMessage::Data(bytes));
                }
                ctx.request_repaint();
            })
        };
        let on_error = {
            let (inbox, ctx) = (Arc::clone(&inbox), ctx.clone());
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
                // Said in the app (it falls back to training in the page, or reports it).
                event.prevent_default();
                let message = event.message();
                let why = if message.is_empty() { "the worker's script failed".to_owned() } else { message };
                if let Ok(mut inbox) = inbox.lock() {
                    inbox.push_back(PortMessage::Failed(why));
                }
                ctx.request_repaint();
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let key = NEXT_KEY.with(|next| {
            let key = next.get();
            next.set(key.wrapping_add(1));
            key
        });
        WORKERS.with(|workers| {
            workers.borrow_mut().insert(key, Running { worker, _on_message: on_message, _on_error: on_error });
        });
        Ok(Box::new(Self { key, inbox }))
    }
}

impl TrainerPort for WebWorkerPort {
    fn post(&self, message: Vec<u8>) {
        WORKERS.with(|workers| {
            let workers = workers.borrow();
            let Some(running) = workers.get(&self.key) else { return };
            let buffer = js_sys::Uint8Array::from(message.as_slice()).buffer();
            if let Err(error) = running.worker.post_message_with_transfer(&buffer, &js_sys::Array::of1(&buffer))
                && let Ok(mut inbox) = self.inbox.lock()
            {
                inbox.push_back(PortMessage::Failed(format!("a message could not be posted: {error:?}")));
            }
        });
    }

    fn try_receive(&self) -> Option<PortMessage> {
        self.inbox.lock().ok()?.pop_front()
    }
}

impl Drop for WebWorkerPort {
    fn drop(&mut self) {
        if let Some(running) = WORKERS.with(|workers| workers.borrow_mut().remove(&self.key)) {
            running.worker.terminate();
        }
    }
}

/// The worker's end: the trainer, run a turn at a time by `trainer-worker.js`.
#[wasm_bindgen]
pub struct TrainerWorker {
    host: TrainerHost,
}

#[wasm_bindgen]
impl TrainerWorker {
    /// A worker with no trainer yet (the page's first message starts one).
    #[wasm_bindgen(constructor)]
    #[expect(clippy::new_without_default, reason = "JavaScript calls the constructor")]
    pub fn new() -> Self {
        Self { host: TrainerHost::new() }
    }

    /// Takes one message from the page.
    pub fn receive(&mut self, message: &[u8]) {
        self.host.receive(message);
    }

    /// Runs the trainer for at most `budget_millis`. Returns when to run again: 0 at once, a
    /// number of milliseconds, or -1 when a message arrives.
    pub fn run(&mut self, budget_millis: f64) -> f64 {
        match self.host.run(Duration::from_secs_f64(budget_millis.max(0.0) / 1e3)) {
            HostWait::Now => 0.0,
            HostWait::After(delay) => delay.as_secs_f64() * 1e3,
            HostWait::ForMessage => -1.0,
        }
    }

    /// The next message for the page, if the page keeps up and there is news.
    pub fn take_outgoing(&mut self) -> Option<Vec<u8>> {
        self.host.take_outgoing()
    }
}

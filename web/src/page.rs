//! The browser tab as the app sees it ([`WebPage`]): downloads through a Blob and an object
//! address, the file picker through a hidden `<input type=file>`, dropped files read by the
//! browser, and the page's address for shareable links (its `#` part, kept in step with the
//! address bar and followed when the user goes to another lesson's link in this tab).
//!
//! The browser reads files asynchronously: what it read waits in a queue that the app empties
//! each frame, and each arrival asks egui for a frame.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use relu_lab::app::file_job::MAX_READ_BYTES;
use relu_lab::app::web_page::{FilePurpose, OpenedFile, WebPage};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// How long an object address for a download is kept before it is released: long enough for
/// the browser to start the download.
const DOWNLOAD_URL_LIFETIME_MILLIS: i32 = 60_000;

/// Files read for the app, waiting for it.
type Arrivals = Rc<RefCell<VecDeque<OpenedFile>>>;

/// The tab around the app.
pub(crate) struct BrowserPage {
    /// To ask for a frame when something arrives.
    ctx: egui::Context,
    /// Files the browser has read, oldest first.
    arrivals: Arrivals,
    /// The `#` part the user went to, until the app takes it.
    visited: Rc<RefCell<Option<String>>>,
    /// Listens for `hashchange` while the page lives.
    _hash_listener: Closure<dyn FnMut()>,
}

impl BrowserPage {
    /// Starts listening to the address's `#` part; `ctx` is asked for a frame whenever
    /// something arrives.
    pub(crate) fn new(ctx: &egui::Context) -> Result<Self, JsValue> {
        let visited = Rc::new(RefCell::new(None));
        let listener = {
            let visited = Rc::clone(&visited);
            let ctx = ctx.clone();
            Closure::<dyn FnMut()>::new(move || {
                *visited.borrow_mut() = Some(fragment());
                ctx.request_repaint();
            })
        };
        window()?.add_event_listener_with_callback("hashchange", listener.as_ref().unchecked_ref())?;
        Ok(Self { ctx: ctx.clone(), arrivals: Rc::default(), visited, _hash_listener: listener })
    }

    fn try_download(file_name: &str, bytes: &[u8]) -> Result<(), JsValue> {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime_type(file_name));
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let document = document()?;
        let anchor: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
        anchor.set_href(&url);
        anchor.set_download(file_name);
        anchor.style().set_property("display", "none")?;
        let body = document.body().ok_or("the page has no body")?;
        body.append_child(&anchor)?;
        anchor.click();
        anchor.remove();
        // Released later: released at once, some browsers cancel the download.
        let release = Closure::once_into_js(move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        window()?.set_timeout_with_callback_and_timeout_and_arguments_0(
            release.unchecked_ref(),
            DOWNLOAD_URL_LIFETIME_MILLIS,
        )?;
        Ok(())
    }

    fn try_pick_file(&self, purpose: FilePurpose) -> Result<(), JsValue> {
        let input: web_sys::HtmlInputElement = document()?.create_element("input")?.dyn_into()?;
        input.set_type("file");
        input.set_accept(".json,application/json");
        let arrivals = Rc::clone(&self.arrivals);
        let ctx = self.ctx.clone();
        let chosen = input.clone();
        let on_change = Closure::once_into_js(move || {
            let Some(file) = chosen.files().and_then(|files| files.get(0)) else { return };
            read_file(file, purpose, arrivals, ctx);
        });
        input.set_onchange(Some(on_change.unchecked_ref()));
        input.click();
        Ok(())
    }
}

impl WebPage for BrowserPage {
    fn download(&self, file_name: &str, bytes: &[u8]) -> Result<(), String> {
        Self::try_download(file_name, bytes)
            .map_err(|error| format!("the browser refused the download: {}", error_text(&error)))
    }

    fn pick_file(&self, purpose: FilePurpose) {
        if let Err(error) = self.try_pick_file(purpose) {
            let opened = OpenedFile {
                name: "the file".to_owned(),
                purpose,
                bytes: Err(format!("the file picker did not open: {}", error_text(&error))),
            };
            self.arrivals.borrow_mut().push_back(opened);
            self.ctx.request_repaint();
        }
    }

    fn read_dropped_file(&self, file: egui::DroppedFileHandle) {
        if let Some(web_file) = file.web_file() {
            read_file(web_file.clone(), FilePurpose::Dropped, Rc::clone(&self.arrivals), self.ctx.clone());
            return;
        }
        let name = file.path().display().to_string();
        let bytes = Err("the browser gave no file to read".to_owned());
        self.arrivals.borrow_mut().push_back(OpenedFile { name, purpose: FilePurpose::Dropped, bytes });
        self.ctx.request_repaint();
    }

    fn take_opened_file(&self) -> Option<OpenedFile> {
        self.arrivals.borrow_mut().pop_front()
    }

    fn copy_text(&self, text: &str) -> Result<(), String> {
        let window = window().map_err(|error| error_text(&error))?;
        if !window.is_secure_context() {
            return Err("this page is not served over https, so the browser does not let it copy".to_owned());
        }
        let written = JsFuture::from(window.navigator().clipboard().write_text(text));
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(error) = written.await {
                log::warn!("the link could not be copied: {}", error_text(&error));
            }
        });
        Ok(())
    }

    fn address_with_fragment(&self, fragment: &str) -> String {
        let address = window().ok().and_then(|window| window.location().href().ok()).unwrap_or_default();
        let without_fragment = address.split_once('#').map_or(address.as_str(), |(before, _)| before);
        format!("{without_fragment}#{fragment}")
    }

    fn show_fragment(&self, fragment: &str) {
        let shown = window()
            .and_then(|window| window.history())
            .and_then(|history| history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{fragment}"))));
        if let Err(error) = shown {
            log::warn!("the address bar could not show the link: {}", error_text(&error));
        }
    }

    fn take_visited_fragment(&self) -> Option<String> {
        self.visited.borrow_mut().take()
    }

    fn trainer_port(&self) -> Option<relu_lab::train::remote::PortFactory> {
        let ctx = self.ctx.clone();
        Some(std::rc::Rc::new(move || crate::trainer_worker::WebWorkerPort::spawn(&ctx)))
    }
}

/// Reads `file` in the background (the browser's reads are asynchronous), then queues it for
/// the app and asks for a frame.
fn read_file(file: web_sys::File, purpose: FilePurpose, arrivals: Arrivals, ctx: egui::Context) {
    let name = file.name();
    wasm_bindgen_futures::spawn_local(async move {
        let bytes = if file.size() > MAX_READ_BYTES as f64 {
            Err(format!("it is {:.0} MB; files to load may be at most 64 MB", file.size() / 1e6))
        } else {
            match JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => Ok(js_sys::Uint8Array::new(&buffer).to_vec()),
                Err(error) => Err(format!("the browser could not read it: {}", error_text(&error))),
            }
        };
        arrivals.borrow_mut().push_back(OpenedFile { name, purpose, bytes });
        ctx.request_repaint();
    });
}

/// The page's `#` part, without the `#`.
pub(crate) fn fragment() -> String {
    let hash = window().ok().and_then(|window| window.location().hash().ok()).unwrap_or_default();
    hash.strip_prefix('#').unwrap_or(&hash).to_owned()
}

fn window() -> Result<web_sys::Window, JsValue> {
    web_sys::window().ok_or_else(|| JsValue::from_str("there is no window"))
}

fn document() -> Result<web_sys::Document, JsValue> {
    window()?.document().ok_or_else(|| JsValue::from_str("there is no document"))
}

/// A JavaScript error in words.
pub(crate) fn error_text(error: &JsValue) -> String {
    error
        .as_string()
        .or_else(|| js_sys::JSON::stringify(error).ok().and_then(|text| text.as_string()))
        .unwrap_or_else(|| format!("{error:?}"))
}

/// The media type of a download, from its extension.
fn mime_type(file_name: &str) -> &'static str {
    match file_name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("jsonl") => "application/x-ndjson",
        _ => "application/octet-stream",
    }
}

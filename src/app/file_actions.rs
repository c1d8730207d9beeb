//! What the Files window and the captures ask for: saving the history, the network and the
//! run record, loading records and networks, screenshots and recordings. The work itself runs
//! on the file thread, or in a browser tab a job a frame ([`super::file_jobs`]); this side only
//! hands it jobs and reads what came back, never blocking. In a browser, files to load come
//! from the page's file picker or are dropped on the window ([`super::web_page`]); on the
//! desktop, dropped files are read by path.

use std::rc::Rc;

use super::ReluLabApp;
use super::capture::{self, Capture, CaptureOutput, GIF_WHAT, caption_text};
use super::file_job::{Content, FileJob, FileOutcome, FileSource, SaveTarget};
use super::file_jobs::FileJobs;
use super::files_panel::FilesPanel;
use super::shared::FileIntent;
use super::web_page::{FilePurpose, OpenedFile, WebPage};
use crate::train::Snapshot;
use crate::train::WorkerCommand;
use crate::train::export::{LayerFile, NETWORK_FORMAT, NETWORK_VERSION, NetworkFile};

impl ReluLabApp {
    /// Starts what reads and writes files: in a browser tab (`page`), jobs in the frames that
    /// download what is saved, recordings in memory and a Files window without folders; on the
    /// desktop, the file thread.
    pub(super) fn start_files(&mut self, ctx: &egui::Context, page: Option<Rc<dyn WebPage>>) {
        if let Some(page) = &page {
            self.file_jobs = Some(FileJobs::in_frame(Rc::clone(page)));
            self.capture = Capture::in_memory();
            self.files = FilesPanel::for_browser();
        } else {
            self.start_file_thread(ctx);
        }
        self.page = page;
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn start_file_thread(&mut self, ctx: &egui::Context) {
        let file_ctx = ctx.clone();
        match FileJobs::spawn(Box::new(move || file_ctx.request_repaint())) {
            Ok(jobs) => self.file_jobs = Some(jobs),
            Err(error) => self.files.tell(format!("The file thread could not start: {error}"), true),
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn start_file_thread(&mut self, _ctx: &egui::Context) {
        self.files.tell("Files cannot be saved: the app was started without its web page.", true);
    }

    /// Applies an intent of the Files window.
    pub(super) fn apply_file_intent(&mut self, intent: FileIntent) {
        let step = self.link.snapshot().map_or(0, |snapshot| snapshot.step());
        let (folder, may_create) = self.files.save_folder();
        let target =
            |what: &str, extension| capture::target(&folder, may_create, format!("{what}-step{step}"), extension);
        match intent {
            FileIntent::Screenshot(area) => {
                let caption = self.caption();
                let stem = format!("{}-step{step}", area.key());
                let target = capture::target(&folder, may_create, stem, "png");
                if let Err(message) = self.capture.start_screenshot(area, caption, target) {
                    self.files.tell(message, true);
                }
            }
            FileIntent::StartRecording { area, settings } => {
                let target =
                    capture::target(&folder, may_create, format!("recording-{}-step{step}", area.key()), "gif");
                match self.capture.start_recording(area, settings, target) {
                    Ok(job) => {
                        self.submit(job);
                        // The window would be in every frame: the top bar has the Stop button.
                        self.files.is_open = false;
                    }
                    Err(message) => self.files.tell(message, true),
                }
            }
            FileIntent::StopRecording => self.capture.stop_recording(),
            FileIntent::ExportHistoryCsv => {
                let content = Content::HistoryCsv(self.link.history().points.clone());
                self.save("history CSV", target("history", "csv"), content);
            }
            FileIntent::ExportHistoryJson => {
                let content = Content::HistoryJsonLines(self.link.history().points.clone());
                self.save("history JSON", target("history", "jsonl"), content);
            }
            FileIntent::ExportNetwork => {
                // The trainer sends every weight (a snapshot has only those of the neurons on
                // screen); it arrives as news and is saved then (`save_network`).
                self.wanted.network = true;
                self.send(WorkerCommand::RequestNetwork);
            }
            FileIntent::SaveRunRecord => {
                // The trainer builds the record (with a digest of the weights); it arrives as
                // news and is saved then (`save_record`).
                self.wanted.record = true;
                self.send(WorkerCommand::RequestRecord);
            }
            FileIntent::LoadRunRecord(path) => {
                self.submit(FileJob::ReadRunRecord { source: FileSource::Path(path), live: false });
            }
            FileIntent::ReplayRunRecord(path) => {
                self.submit(FileJob::ReadRunRecord { source: FileSource::Path(path), live: true });
            }
            FileIntent::LoadNetwork(path) => self.submit(FileJob::ReadNetwork(FileSource::Path(path))),
            FileIntent::Pick(purpose) => match &self.page {
                Some(page) => page.pick_file(purpose),
                None => self.files.tell("There is no file picker here: type the file's path.", true),
            },
            FileIntent::CopyLink => self.copy_link(),
            FileIntent::RenderVideo { size, frames_per_second, seconds } => {
                self.start_render(size, frames_per_second, seconds);
            }
        }
    }

    /// Starts rendering the open lesson's take, or the loaded run record, to an MP4.
    #[cfg(not(target_arch = "wasm32"))]
    fn start_render(&mut self, size: (usize, usize), frames_per_second: u32, seconds: Option<u32>) {
        use super::render::{Layout, TakeSettings, TakeSource};

        let record = self.files.loaded_record.clone().filter(|_| self.loaded_from.is_some());
        let (source, what) = match (record, self.share_fragment()) {
            (Some((name, record)), _) => (TakeSource::Record { record, name: name.clone() }, name),
            (None, Some(link)) => (TakeSource::Link(link), format!("lesson {}", self.settings.lesson + 1)),
            (None, None) => {
                self.files
                    .tell("This run came from a network file: save its run record, load that, then render.", true);
                return;
            }
        };
        let layout = if self.settings.presentation { Layout::Presentation } else { Layout::Normal };
        let frames = seconds.map(|seconds| u64::from(seconds) * u64::from(frames_per_second));
        let settings = TakeSettings { size, frames_per_second, frames, layout, ..TakeSettings::default() };
        let result = match &mut self.file_jobs {
            Some(jobs) => jobs.start_render(source, settings, what),
            None => Err("the file thread is not running".to_owned()),
        };
        if let Err(message) = result {
            self.files.tell(format!("Not rendered: {message}"), true);
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn start_render(&mut self, _size: (usize, usize), _frames_per_second: u32, _seconds: Option<u32>) {
        self.files.tell("Rendering a video is a desktop feature: run `relu-lab render` on a desktop.", true);
    }

    /// Takes a finished render: its video goes to the file thread, which saves it under a
    /// fresh name (the notice then says where).
    #[cfg(not(target_arch = "wasm32"))]
    fn poll_render(&mut self) {
        let Some(jobs) = &mut self.file_jobs else { return };
        self.files.render_progress = jobs.render_progress();
        let Some(outcome) = jobs.take_render_outcome() else { return };
        self.files.render_progress = None;
        match outcome {
            Ok(video) => {
                let (folder, may_create) = self.files.save_folder();
                let stem = format!("take-lesson{}", self.settings.lesson + 1);
                let target = capture::target(&folder, may_create, stem, "mp4");
                self.files.tell(format!("Rendered {}; saving…", video.summary), false);
                self.save(VIDEO_WHAT, target, Content::Encoded(video.bytes));
            }
            Err(message) => {
                let text = format!("The video was not rendered: {message}");
                self.notice = Some(text.clone());
                self.files.tell(text, true);
            }
        }
    }

    /// Reads the files dropped on the window this frame: run records (continued from their
    /// end) or network files, told apart by their contents. In a browser the page reads them
    /// first (they arrive through [`WebPage::take_opened_file`]); on the desktop the file
    /// thread reads them by path.
    pub(super) fn take_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|input| input.raw.dropped_files.clone());
        for file in dropped {
            if let Some(page) = &self.page {
                page.read_dropped_file(file);
                continue;
            }
            let path = file.path().to_owned();
            if path.as_os_str().is_empty() {
                self.files.tell("A dropped file came without a path, so it cannot be read here.", true);
            } else {
                self.submit(FileJob::ReadDropped(FileSource::Path(path)));
            }
        }
    }

    /// A file the page read for the app (picked or dropped): its bytes go to the file jobs.
    fn take_opened_file(&mut self, opened: OpenedFile) {
        let path = opened.path();
        let OpenedFile { name, purpose, bytes } = opened;
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(message) => {
                self.files.tell(format!("Could not read {}: {message}", path.display()), true);
                self.notice = Some(format!("Could not read {}: {message}", path.display()));
                return;
            }
        };
        let source = FileSource::Bytes { name, bytes };
        self.submit(match purpose {
            FilePurpose::LoadRunRecord => FileJob::ReadRunRecord { source, live: false },
            FilePurpose::ReplayRunRecord => FileJob::ReadRunRecord { source, live: true },
            FilePurpose::LoadNetwork => FileJob::ReadNetwork(source),
            FilePurpose::Dropped => FileJob::ReadDropped(source),
        });
    }

    /// Saves a run record that the trainer sent.
    pub(super) fn save_record(&mut self, record: Box<crate::train::RunRecord>) {
        let step = record.steps();
        let (folder, may_create) = self.files.save_folder();
        let target = capture::target(&folder, may_create, format!("run-step{step}"), "json");
        self.save("run record", target, Content::Record(record));
    }

    /// Saves a network that the trainer sent.
    pub(super) fn save_network(&mut self, network: Box<NetworkFile>) {
        let step = network.step;
        let (folder, may_create) = self.files.save_folder();
        let target = capture::target(&folder, may_create, format!("network-step{step}"), "json");
        self.save("network", target, Content::Network(network));
    }

    fn save(&mut self, what: &str, target: SaveTarget, content: Content) {
        self.submit(FileJob::Save { what: what.to_owned(), target, content });
    }

    /// Hands `job` to the file thread; a refusal is shown (and ends a starting recording).
    fn submit(&mut self, job: FileJob) {
        let is_recording_file = matches!(&job, FileJob::Save { what, .. } if what == GIF_WHAT);
        let result = match &mut self.file_jobs {
            Some(jobs) => jobs.submit(job),
            None => Err("the file thread is not running".to_owned()),
        };
        match result {
            Ok(()) => self.files.message = None,
            Err(message) => {
                self.files.tell(format!("Not done: {message}"), true);
                if is_recording_file {
                    self.capture.file_failed();
                }
            }
        }
    }

    /// The caption burned into a screenshot.
    pub(super) fn caption(&self) -> String {
        let Some(snapshot) = self.link.snapshot() else { return "ReLU Lab".to_owned() };
        let source = match &self.loaded_from {
            Some(file) => Some(format!("from {file}")),
            None => self.lessons.get(self.settings.lesson).map(|lesson| lesson.title.clone()),
        };
        let mut caption =
            caption_text(snapshot.step(), snapshot.activation, snapshot.evaluation.learning_rate, source.as_deref());
        // Every setting moved away from the lesson's start (the bias offset of lesson 3, …),
        // so that the picture can be reproduced from the caption alone.
        let start = self.lessons.get(self.settings.lesson).and_then(crate::train::lessons::Lesson::config);
        if let Some(start) = start.filter(|_| self.loaded_from.is_none()) {
            let changed = crate::media::caption::settings_that_differ(&start, &snapshot.config);
            if !changed.is_empty() {
                caption = format!("{caption} · changed: {}", changed.join(", "));
            }
        }
        caption
    }

    /// Takes what the file jobs, the screenshots and the page delivered (in a browser, also
    /// runs the next file job, and opens a link the user went to in this tab). Never blocks.
    pub(super) fn poll_files(&mut self, ctx: &egui::Context) {
        let page = self.page.clone();
        if let Some(page) = &page {
            while let Some(opened) = page.take_opened_file() {
                self.take_opened_file(opened);
            }
            if let Some(fragment) = page.take_visited_fragment() {
                self.open_link(&fragment);
            }
        }
        let mut outcomes = Vec::new();
        if let Some(jobs) = &mut self.file_jobs {
            if jobs.pump() {
                ctx.request_repaint();
            }
            while let Some(outcome) = jobs.try_outcome() {
                outcomes.push(outcome);
            }
        }
        for outcome in outcomes {
            self.handle_file_outcome(outcome);
        }
        #[cfg(not(target_arch = "wasm32"))]
        self.poll_render();
        for output in self.capture.poll(ctx, &self.area_rects) {
            match output {
                CaptureOutput::Job(job) => self.submit(job),
                CaptureOutput::Message(text) => {
                    // The Files window is closed while recording: say it where it is seen too.
                    self.notice = Some(text.clone());
                    self.files.tell(text, false);
                }
                CaptureOutput::Error(text) => {
                    // The Files window is closed while recording: say it where it is seen.
                    self.notice = Some(text.clone());
                    self.files.tell(text, true);
                }
            }
        }
    }

    fn handle_file_outcome(&mut self, outcome: FileOutcome) {
        match outcome {
            FileOutcome::Saved { what, path, .. } if what == GIF_WHAT => {
                if let Err(message) = self.capture.file_reserved(&path) {
                    self.files.tell(message, true);
                }
            }
            FileOutcome::Saved { what, path, bytes } => {
                let verb = if self.page.is_some() { "Downloaded" } else { "Saved" };
                let text = format!("{verb} the {what}: {} ({})", path.display(), size_text(bytes));
                // Said where it is seen whatever is open (a render takes a while; a screenshot
                // is taken with the Files window hidden).
                self.notice = Some(text.clone());
                self.files.tell(text, false);
                self.files.saved(path);
            }
            FileOutcome::ReadFailed { what, message } => {
                let text = format!("Could not load the {what}: {message}");
                // A dropped file may come while the Files window is closed: say it where it is seen.
                self.notice = Some(text.clone());
                self.files.tell(text, true);
            }
            FileOutcome::Failed { what, message } => {
                if what == GIF_WHAT {
                    self.capture.file_failed();
                    self.notice = Some(format!("The recording did not start: {message}"));
                }
                self.files.tell(format!("Could not save the {what}: {message}"), true);
            }
            FileOutcome::RunRecordRead { path, record, live } => {
                let steps = record.steps();
                self.loaded_from = file_name(&path);
                self.files.loaded_record = self.loaded_from.clone().map(|name| (name, record.clone()));
                self.selection = None;
                let text = if live {
                    self.send(WorkerCommand::ReplayLive(record));
                    format!("Replaying {} live: {steps} steps, pausing where it ended", path.display())
                } else {
                    self.send(WorkerCommand::LoadRecord(record));
                    format!("Loaded {}: replaying {steps} steps, then training on", path.display())
                };
                // In place of an earlier "could not load", which no longer holds.
                self.notice = Some(text.clone());
                self.files.tell(text, false);
            }
            FileOutcome::NetworkRead { path, network } => {
                self.loaded_from = file_name(&path);
                self.files.loaded_record = None;
                self.selection = None;
                self.send(WorkerCommand::LoadNetwork(network));
                let text = format!("Loaded the network {}", path.display());
                self.notice = Some(text.clone());
                self.files.tell(text, false);
            }
        }
    }
}

/// The `what` of a rendered video's save job (the desktop renders; a browser tab does not).
#[cfg(not(target_arch = "wasm32"))]
const VIDEO_WHAT: &str = "video";

/// A byte count in words.
fn size_text(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

/// The file name of `path`, for captions.
fn file_name(path: &std::path::Path) -> Option<String> {
    path.file_name().map(|name| name.to_string_lossy().into_owned())
}

/// The network of `snapshot` as a network file: the same numbers `Session::network_file`
/// would write, taken from the snapshot instead of the worker's session. `None` when a layer
/// is too wide for the snapshot to hold every weight (only its neurons on screen have theirs).
pub fn network_file(snapshot: &Snapshot) -> Option<NetworkFile> {
    if snapshot.layers.iter().any(|layer| layer.neurons.iter().any(|neuron| neuron.detail.is_none())) {
        return None;
    }
    let activation_key = snapshot.activation.kind().key().to_owned();
    let mut layers: Vec<LayerFile> = snapshot
        .layers
        .iter()
        .map(|layer| {
            let slopes: Option<Vec<f32>> = layer.neurons.iter().map(|neuron| neuron.prelu_slope).collect();
            LayerFile {
                in_features: layer.neurons.first().map_or(0, |neuron| neuron.incoming_weights().len()),
                out_features: layer.neurons.len(),
                activation: activation_key.clone(),
                weight: layer.neurons.iter().map(|neuron| neuron.incoming_weights().to_vec()).collect(),
                bias: layer.neurons.iter().map(|neuron| neuron.bias).collect(),
                prelu_weight: slopes.filter(|_| matches!(snapshot.activation, crate::nn::Activation::Prelu { .. })),
            }
        })
        .collect();
    layers.push(LayerFile {
        in_features: snapshot.output_weights.len(),
        out_features: 1,
        activation: "linear".to_owned(),
        weight: vec![snapshot.output_weights.clone()],
        bias: vec![snapshot.output_bias],
        prelu_weight: None,
    });
    Some(NetworkFile {
        format: NETWORK_FORMAT.to_owned(),
        version: NETWORK_VERSION,
        step: snapshot.step(),
        activation: snapshot.activation,
        config: snapshot.config.clone(),
        layers,
    })
}

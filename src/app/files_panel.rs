//! The Files window: the link to share the run, screenshots, GIF recordings, exports, and saved
//! runs and networks to load. On the desktop paths are typed in (no native dialog: that would
//! need GTK or a desktop portal); in a browser saved files are downloads and files to load come
//! from the browser's file picker. Either way a run record or network file can also be dropped
//! on the window. Files are written and read by the file jobs, never here.

use std::path::PathBuf;

use egui::{Color32, ComboBox, RichText, Ui};

use super::capture::{CaptureArea, FRAME_RATES, MAX_WIDTHS};
use super::file_jobs::default_folder;
use super::shared::{FileIntent, Intent};
use super::web_page::FilePurpose;
use crate::media::GifSettings;
use crate::train::RunRecord;

/// The frame sizes offered for rendered videos: 720p (1×), 1080p (1.5×, the same layout
/// sharper) and a quick preview at half of 720p.
pub(crate) const VIDEO_SIZES: [(usize, usize); 3] = [(1280, 720), (1920, 1080), (640, 360)];
/// The lengths offered for rendered videos, in seconds; `None` is the whole take.
pub(crate) const VIDEO_LENGTHS: [Option<u32>; 4] = [None, Some(5), Some(10), Some(30)];
/// The frame rates offered for rendered videos.
pub(crate) const VIDEO_FRAME_RATES: [u32; 2] = [25, 30];

/// How many saved files the window lists for loading back.
const RECENT_FILES: usize = 6;

/// A message in the Files window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilesMessage {
    /// What happened, in words.
    pub text: String,
    /// Whether it went wrong.
    pub is_error: bool,
}

/// What the window shows that it does not own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilesStatus {
    /// The recording's progress, while one is starting, running or finishing.
    pub recording_progress: Option<String>,
    /// Whether a recording is starting or running (then the button stops it).
    pub is_recording: bool,
    /// Whether the file thread has work queued.
    pub is_busy: bool,
    /// Whether there is a run to save (a snapshot has arrived).
    pub has_run: bool,
    /// The link that opens this run (a web address in a browser, the `relu-lab --open`
    /// command on the desktop); `None` for a run loaded from a file.
    pub share_link: Option<String>,
}

/// The Files window's state.
#[derive(Clone, Debug, PartialEq)]
pub struct FilesPanel {
    /// Whether the window is open.
    pub is_open: bool,
    /// The folder new files are saved in, as typed.
    pub folder: String,
    /// The file to load, as typed.
    pub load_path: String,
    /// What a recording captures.
    pub record_area: CaptureArea,
    /// The recording's frame rate.
    pub frames_per_second: u32,
    /// The recording's largest width, in pixels.
    pub max_width: usize,
    /// The last thing that happened.
    pub message: Option<FilesMessage>,
    /// Files saved in this session, newest first.
    pub recent: Vec<PathBuf>,
    /// Whether files go to folders (the desktop) rather than downloads (a browser).
    pub has_folders: bool,
    /// A rendered video's frame size.
    pub video_size: (usize, usize),
    /// A rendered video's frame rate.
    pub video_frames_per_second: u32,
    /// A rendered video's length in seconds; `None` for the whole take.
    pub video_seconds: Option<u32>,
    /// The render's progress, while a video renders (set by the app each frame).
    pub render_progress: Option<String>,
    /// The run record the run was last loaded from, and its file name: "Render video…"
    /// replays it (while the run on screen is that record's).
    pub loaded_record: Option<(String, Box<RunRecord>)>,
}

impl Default for FilesPanel {
    fn default() -> Self {
        let defaults = GifSettings::default();
        Self {
            is_open: false,
            folder: default_folder().display().to_string(),
            load_path: String::new(),
            record_area: CaptureArea::Window,
            frames_per_second: defaults.frames_per_second,
            max_width: defaults.max_width,
            message: None,
            recent: Vec::new(),
            has_folders: true,
            video_size: VIDEO_SIZES[0],
            video_frames_per_second: VIDEO_FRAME_RATES[1],
            video_seconds: None,
            render_progress: None,
            loaded_record: None,
        }
    }
}

impl FilesPanel {
    /// The window in a browser: saved files are downloads, files to load come from the file
    /// picker, and recordings are narrower (they are encoded a frame at a time between frames).
    pub fn for_browser() -> Self {
        Self { has_folders: false, folder: String::new(), max_width: MAX_WIDTHS[0], ..Self::default() }
    }

    /// The folder to save in: the one typed, or the default one if the field is empty.
    /// The second value says whether it may be created (only the default folder is).
    pub fn save_folder(&self) -> (PathBuf, bool) {
        let typed = self.folder.trim();
        let default = default_folder();
        if typed.is_empty() {
            return (default, true);
        }
        let folder = PathBuf::from(typed);
        let is_default = folder == default;
        (folder, is_default)
    }

    /// The recording settings chosen.
    pub fn gif_settings(&self) -> GifSettings {
        GifSettings { frames_per_second: self.frames_per_second, max_width: self.max_width }
    }

    /// Shows `text` as the window's message.
    pub fn tell(&mut self, text: impl Into<String>, is_error: bool) {
        self.message = Some(FilesMessage { text: text.into(), is_error });
    }

    /// Remembers a saved file (and offers it for loading if it is a run or a network).
    pub fn saved(&mut self, path: PathBuf) {
        if path.extension().is_some_and(|extension| extension == "json") {
            self.load_path = path.display().to_string();
        }
        self.recent.retain(|old| *old != path);
        self.recent.insert(0, path);
        self.recent.truncate(RECENT_FILES);
    }

    /// Draws the window (when open) and returns what the user asked for.
    pub fn show(&mut self, ctx: &egui::Context, status: &FilesStatus) -> Vec<Intent> {
        let mut intents = Vec::new();
        let mut is_open = self.is_open;
        egui::Window::new("Files")
            .open(&mut is_open)
            .resizable(false)
            .default_width(440.0)
            .default_pos(ctx.content_rect().center() - egui::vec2(220.0, 220.0))
            .show(ctx, |ui| intents = self.ui(ui, status));
        if !is_open {
            intents.push(Intent::ToggleFiles);
        }
        intents
    }

    /// The window's contents.
    pub fn ui(&mut self, ui: &mut Ui, status: &FilesStatus) -> Vec<Intent> {
        let mut intents = Vec::new();
        ui.spacing_mut().item_spacing.y = 6.0;
        share_ui(ui, status, self.has_folders, &mut intents);
        ui.separator();
        if self.has_folders {
            self.folder_ui(ui);
        } else {
            ui.label("Saved files are downloads: the browser puts them in its downloads folder.");
        }
        ui.separator();
        screenshot_ui(ui, status, &mut intents);
        ui.separator();
        self.recording_ui(ui, status, &mut intents);
        ui.separator();
        self.video_ui(ui, status, &mut intents);
        ui.separator();
        ui.label(RichText::new("Export").strong());
        ui.horizontal_wrapped(|ui| {
            let has_run = status.has_run;
            let buttons = [
                (
                    "Export history CSV",
                    "The plotted history, the columns of `relu-lab run --csv`",
                    Intent::Files(FileIntent::ExportHistoryCsv),
                ),
                (
                    "Export history JSON",
                    "The same, one JSON object per line",
                    Intent::Files(FileIntent::ExportHistoryJson),
                ),
                (
                    "Export network JSON",
                    "Weights, biases, activation and config, in PyTorch's layout",
                    Intent::Files(FileIntent::ExportNetwork),
                ),
                (
                    "Save run record",
                    "Config plus every command with its step: `relu-lab replay` reproduces it",
                    Intent::Files(FileIntent::SaveRunRecord),
                ),
            ];
            for (label, hover, intent) in buttons {
                if ui.add_enabled(has_run, egui::Button::new(label)).on_hover_text(hover).clicked() {
                    intents.push(intent);
                }
            }
        });
        ui.separator();
        self.load_ui(ui, &mut intents);
        self.message_ui(ui, status);
        intents
    }

    fn folder_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Folder");
            ui.add(egui::TextEdit::singleline(&mut self.folder).desired_width(300.0))
                .labelled_by(label.id)
                .on_hover_text("New files are saved here, under names that never overwrite an older file");
            if ui.small_button("Default").on_hover_text("$HOME/relu-lab, created when first used").clicked() {
                self.folder = default_folder().display().to_string();
            }
        });
    }

    fn recording_ui(&mut self, ui: &mut Ui, status: &FilesStatus, intents: &mut Vec<Intent>) {
        ui.label(RichText::new("Record a GIF").strong());
        ui.add_enabled_ui(!status.is_recording, |ui| {
            ui.horizontal_wrapped(|ui| {
                ComboBox::from_label("Area").selected_text(self.record_area.label()).show_ui(ui, |ui| {
                    for area in CaptureArea::ALL {
                        ui.selectable_value(&mut self.record_area, area, area.label());
                    }
                });
                ComboBox::from_label("Frame rate").selected_text(format!("{} fps", self.frames_per_second)).show_ui(
                    ui,
                    |ui| {
                        for rate in FRAME_RATES {
                            ui.selectable_value(&mut self.frames_per_second, rate, format!("{rate} fps"));
                        }
                    },
                );
                ComboBox::from_label("Max width").selected_text(format!("{} px", self.max_width)).show_ui(ui, |ui| {
                    for width in MAX_WIDTHS {
                        ui.selectable_value(&mut self.max_width, width, format!("{width} px"));
                    }
                });
            });
        });
        ui.horizontal(|ui| {
            if status.is_recording {
                if ui.button("⏹ Stop recording").clicked() {
                    intents.push(Intent::Files(FileIntent::StopRecording));
                }
            } else if ui
                .button("⏺ Record GIF")
                .on_hover_text(
                    "Closes this window and records until you press Stop in the top bar (a recording of the \
                     whole window leaves the top bar out); each frame has its caption in a strip below it",
                )
                .clicked()
            {
                intents.push(Intent::Files(FileIntent::StartRecording {
                    area: self.record_area,
                    settings: self.gif_settings(),
                }));
            }
            if let Some(progress) = &status.recording_progress {
                ui.label(progress);
            }
        });
    }

    /// Rendering a video: on the desktop, the open lesson's take (or the loaded record) to an
    /// MP4 on a background thread; in a browser, a notice that it is a desktop feature.
    fn video_ui(&mut self, ui: &mut Ui, status: &FilesStatus, intents: &mut Vec<Intent>) {
        ui.label(RichText::new("Render a video (MP4)").strong());
        if !self.has_folders {
            ui.add(
                egui::Label::new(
                    "Rendering a video is a desktop feature: in a browser, record a GIF above, or render this \
                     link with `relu-lab render --open LINK --out take.mp4` on a desktop.",
                )
                .wrap(),
            );
            return;
        }
        let is_rendering = self.render_progress.is_some();
        ui.add_enabled_ui(!is_rendering, |ui| {
            ui.horizontal_wrapped(|ui| {
                ComboBox::from_label("Size").selected_text(size_label(self.video_size)).show_ui(ui, |ui| {
                    for size in VIDEO_SIZES {
                        ui.selectable_value(&mut self.video_size, size, size_label(size));
                    }
                });
                ComboBox::from_label("Rate").selected_text(format!("{} fps", self.video_frames_per_second)).show_ui(
                    ui,
                    |ui| {
                        for rate in VIDEO_FRAME_RATES {
                            ui.selectable_value(&mut self.video_frames_per_second, rate, format!("{rate} fps"));
                        }
                    },
                );
                ComboBox::from_label("Length").selected_text(length_label(self.video_seconds)).show_ui(ui, |ui| {
                    for length in VIDEO_LENGTHS {
                        ui.selectable_value(&mut self.video_seconds, length, length_label(length));
                    }
                });
            });
        });
        ui.horizontal_wrapped(|ui| {
            let button =
                ui.add_enabled(status.has_run && !is_rendering, egui::Button::new("🎬 Render video…")).on_hover_text(
                    "Renders the open lesson from step 0 (its preset, then its \"try it\" at step 3000, with \
                     captions) or the loaded run record, frame by frame at a fixed rate: the same take every \
                     time, whatever this machine's speed. Runs in the background; the file goes to the folder \
                     above.",
                );
            if button.clicked() {
                intents.push(Intent::Files(FileIntent::RenderVideo {
                    size: self.video_size,
                    frames_per_second: self.video_frames_per_second,
                    seconds: self.video_seconds,
                }));
            }
            if let Some(progress) = &self.render_progress {
                ui.spinner();
                ui.label(progress);
            }
        });
    }

    fn load_ui(&mut self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        ui.label(RichText::new("Load").strong());
        if !self.has_folders {
            pick_ui(ui, intents);
            return;
        }
        ui.horizontal(|ui| {
            let label = ui.label("File to load");
            ui.add(egui::TextEdit::singleline(&mut self.load_path).desired_width(300.0).hint_text("a .json file"))
                .labelled_by(label.id);
        });
        let path = PathBuf::from(self.load_path.trim());
        let has_path = !self.load_path.trim().is_empty();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(has_path, egui::Button::new("Load run record"))
                .on_hover_text("Replays the run to its end, then trains on from there")
                .clicked()
            {
                intents.push(Intent::Files(FileIntent::LoadRunRecord(path.clone())));
            }
            if ui
                .add_enabled(has_path, egui::Button::new("Replay run record live"))
                .on_hover_text(
                    "Starts the recorded run over and plays it at training speed: each recorded change \
                     happens at its step, so you can watch it again; pauses where the recording ended",
                )
                .clicked()
            {
                intents.push(Intent::Files(FileIntent::ReplayRunRecord(path.clone())));
            }
            if ui
                .add_enabled(has_path, egui::Button::new("Load network"))
                .on_hover_text("Continues from an exported network: its weights and config, from step 0")
                .clicked()
            {
                intents.push(Intent::Files(FileIntent::LoadNetwork(path.clone())));
            }
        });
        ui.label(RichText::new("Or drop a run record or network file (.json) on the window.").weak());
        if !self.recent.is_empty() {
            ui.collapsing("Saved in this session", |ui| {
                for saved in &self.recent {
                    let name = saved
                        .file_name()
                        .map_or_else(|| saved.display().to_string(), |name| name.display().to_string());
                    if ui.link(name).on_hover_text(saved.display().to_string()).clicked() {
                        self.load_path = saved.display().to_string();
                    }
                }
            });
        }
    }

    fn message_ui(&self, ui: &mut Ui, status: &FilesStatus) {
        if status.is_busy {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Working…");
            });
        }
        if let Some(message) = &self.message {
            let color = if message.is_error { Color32::from_rgb(235, 90, 80) } else { ui.visuals().text_color() };
            ui.add(egui::Label::new(RichText::new(&message.text).color(color)).wrap());
        }
    }
}

/// A video length in words: "10 s", or "whole take".
fn length_label(seconds: Option<u32>) -> String {
    seconds.map_or_else(|| "whole take".to_owned(), |seconds| format!("{seconds} s"))
}

/// A frame size in words: "1280×720".
fn size_label((width, height): (usize, usize)) -> String {
    format!("{width}×{height}")
}

/// The link that opens this run, and the button that copies it (on the desktop with egui's
/// clipboard here; in a browser the app copies it through the page).
fn share_ui(ui: &mut Ui, status: &FilesStatus, is_desktop: bool, intents: &mut Vec<Intent>) {
    ui.label(RichText::new("Share").strong());
    let Some(link) = &status.share_link else {
        ui.label("A run loaded from a file has no link: save its run record and share that.");
        return;
    };
    ui.horizontal(|ui| {
        if ui
            .button("🔗 Copy link")
            .on_hover_text("The open lesson with every setting you changed: it opens this run from step 0")
            .clicked()
        {
            if is_desktop {
                ui.ctx().copy_text(link.clone());
            }
            intents.push(Intent::Files(FileIntent::CopyLink));
        }
        ui.add(egui::Label::new(RichText::new(link).monospace().small()).wrap()).on_hover_text(link.as_str());
    });
}

/// In a browser: the buttons that open the file picker.
fn pick_ui(ui: &mut Ui, intents: &mut Vec<Intent>) {
    let buttons = [
        ("Load run record…", "Replays the run to its end, then trains on from there", FilePurpose::LoadRunRecord),
        (
            "Replay run record live…",
            "Starts the recorded run over and plays it at training speed, pausing where it ended",
            FilePurpose::ReplayRunRecord,
        ),
        (
            "Load network…",
            "Continues from an exported network: its weights and config, from step 0",
            FilePurpose::LoadNetwork,
        ),
    ];
    ui.horizontal_wrapped(|ui| {
        for (label, hover, purpose) in buttons {
            if ui.button(label).on_hover_text(hover).clicked() {
                intents.push(Intent::Files(FileIntent::Pick(purpose)));
            }
        }
    });
    ui.label(RichText::new("Or drop a run record or network file (.json) on the window.").weak());
}

fn screenshot_ui(ui: &mut Ui, status: &FilesStatus, intents: &mut Vec<Intent>) {
    ui.label(RichText::new("Screenshot (PNG, with a caption below it)").strong());
    ui.horizontal(|ui| {
        let has_run = status.has_run;
        if ui.add_enabled(has_run, egui::Button::new("📷 Screenshot window")).clicked() {
            intents.push(Intent::Files(FileIntent::Screenshot(CaptureArea::Window)));
        }
        ui.add_enabled_ui(has_run, |ui| {
            ui.menu_button("Screenshot panel ▾", |ui| {
                for area in [CaptureArea::NetworkView, CaptureArea::OutputView, CaptureArea::Plots] {
                    if ui.button(area.label()).clicked() {
                        intents.push(Intent::Files(FileIntent::Screenshot(area)));
                        ui.close();
                    }
                }
            });
        });
    });
}

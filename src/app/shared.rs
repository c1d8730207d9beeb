//! What the panels share: the intents they return, the viewer's own settings, and the colours
//! that mean a neuron state.

use std::path::PathBuf;

use egui::Color32;

use super::capture::CaptureArea;
use super::web_page::FilePurpose;
use crate::media::GifSettings;

use crate::nn::NeuronState;
use crate::train::{Target, WorkerCommand};

/// `count` columns side by side, each laid out top-down and left-aligned, *not* justified:
/// egui's own columns justify their text, so a label that wraps is spread to the column's
/// width letter by letter ("t r a i n"). `each` draws column `index` into its `Ui`.
pub fn plain_columns(ui: &mut egui::Ui, count: usize, mut each: impl FnMut(usize, &mut egui::Ui)) {
    ui.columns(count.max(1), |columns| {
        for (index, column) in columns.iter_mut().enumerate() {
            column.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| each(index, ui));
        }
    });
}

/// A hidden neuron: `(layer, neuron)`, both from 0.
pub type NeuronId = (usize, usize);

/// What a panel asks the app to do; the app applies it after the frame's UI.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Intent {
    /// Send a command to the trainer.
    Trainer(WorkerCommand),
    /// Select a neuron for the detail plots (or clear the selection).
    Select(Option<NeuronId>),
    /// Load lesson number `index` (from 0).
    LoadLesson(usize),
    /// Toggle presentation mode.
    TogglePresentation,
    /// Toggle the keyboard help overlay.
    ToggleHelp,
    /// Start a new worker after the old one died.
    RestartWorker,
    /// Switch between the light and the dark theme.
    ToggleTheme,
    /// Show or hide the lessons panel.
    ToggleLessonsPanel,
    /// Open or close the Files window.
    ToggleFiles,
    /// Something for the Files window: saving, loading, capturing.
    Files(FileIntent),
    /// Send the controls' changes to this branch of a comparison.
    SetTarget(Target),
    /// Open the seeds view (ten seeds), or close it.
    ToggleSeeds,
    /// Find out how this neuron died: the autopsy panel opens and the trainer replays the run.
    Autopsy(NeuronId),
    /// Show the map of where networks die in place of the network, or go back.
    ToggleMap,
    /// Show or hide the settings panel (each mode, normal and presentation, remembers its own).
    ToggleControlsPanel,
    /// The answer to "open this lesson and end the comparison?": the lesson to open, or `None`
    /// to stay.
    ConfirmLesson(Option<usize>),
    /// Forget the panel sizes and show every panel again, as on a first launch.
    ResetLayout,
    /// Say something in the notice line.
    Notice(String),
}

/// What the Files window (and the recording's Stop button) asks for.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum FileIntent {
    /// Save a PNG of `area`, with a caption burned in.
    Screenshot(CaptureArea),
    /// Start recording `area` to a GIF.
    StartRecording {
        /// What to record.
        area: CaptureArea,
        /// Frame rate and size.
        settings: GifSettings,
    },
    /// Stop the recording (the encoder finishes the file).
    StopRecording,
    /// Save the history as CSV.
    ExportHistoryCsv,
    /// Save the history as JSON lines.
    ExportHistoryJson,
    /// Save the network as JSON.
    ExportNetwork,
    /// Save the run record.
    SaveRunRecord,
    /// Read a run record and continue from its end.
    LoadRunRecord(PathBuf),
    /// Read a run record and replay it live, at training speed, pausing where it ended.
    ReplayRunRecord(PathBuf),
    /// Read a network file and continue from it.
    LoadNetwork(PathBuf),
    /// Ask the browser for a file to load, for this purpose (a browser has no typed paths).
    Pick(FilePurpose),
    /// Copy the link to this run: in a browser through the page (which also shows it in the
    /// address bar); on the desktop the Files window has copied it with egui already.
    CopyLink,
    /// Render the open lesson's take (or the loaded run record) to an MP4 on a background
    /// thread (desktop only).
    RenderVideo {
        /// The frame size in pixels.
        size: (usize, usize),
        /// Frames per second.
        frames_per_second: u32,
        /// Seconds of video; `None` for the whole take.
        seconds: Option<u32>,
    },
}

/// The viewer's own settings (not the run's): persisted between launches.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    /// Larger fonts, thicker lines, high contrast, colour-blind-safe colours.
    pub presentation: bool,
    /// Dark (true) or light theme.
    pub dark_theme: bool,
    /// Plot the loss on a log scale.
    pub log_loss: bool,
    /// The lesson open in the lesson panel (from 0).
    pub lesson: usize,
}

impl Default for ViewSettings {
    fn default() -> Self {
        Self { presentation: false, dark_theme: true, log_loss: true, lesson: 0 }
    }
}

impl ViewSettings {
    /// The stroke width for plot lines.
    pub fn line_width(&self) -> f32 {
        if self.presentation { 3.0 } else { 1.5 }
    }
}

/// The colour that means `state`. Presentation mode uses the Okabe–Ito palette, which stays
/// distinct under the common colour-vision deficiencies, and never a colour of the weights
/// (blue for positive, orange for negative): dying is yellow on dark backgrounds and reddish
/// purple on light ones, where yellow would not show. Below zero and saturated share sky blue:
/// no activation can have both.
pub fn state_color(state: NeuronState, settings: &ViewSettings) -> Color32 {
    if settings.presentation {
        match state {
            NeuronState::Alive => Color32::from_rgb(0, 158, 115),
            NeuronState::Dying if settings.dark_theme => Color32::from_rgb(240, 228, 66),
            NeuronState::Dying => Color32::from_rgb(204, 121, 167),
            NeuronState::BelowZero | NeuronState::Saturated => Color32::from_rgb(86, 180, 233),
            NeuronState::Dead => Color32::from_rgb(213, 94, 0),
            NeuronState::NotFinite if settings.dark_theme => Color32::WHITE,
            NeuronState::NotFinite => Color32::BLACK,
        }
    } else {
        match state {
            NeuronState::Alive => Color32::from_rgb(60, 170, 90),
            NeuronState::Dying => Color32::from_rgb(235, 170, 40),
            NeuronState::BelowZero => Color32::from_rgb(120, 120, 245),
            NeuronState::Dead => Color32::from_rgb(220, 50, 50),
            NeuronState::Saturated => Color32::from_rgb(80, 150, 230),
            NeuronState::NotFinite => Color32::from_rgb(190, 90, 200),
        }
    }
}

/// A short mark drawn on a tile for `state`, so state never rests on colour alone.
pub fn state_mark(state: NeuronState) -> &'static str {
    match state {
        NeuronState::Alive => "",
        NeuronState::Dying => "!",
        NeuronState::BelowZero => "▼",
        NeuronState::Dead => "✖",
        NeuronState::Saturated => "~",
        NeuronState::NotFinite => "NaN",
    }
}

/// The diverging palette for a value in `[-1, 1]`: orange for negative, white at 0, blue for
/// positive (as TensorFlow Playground; readable on a projector).
pub fn diverging_color(value: f32) -> Color32 {
    if !value.is_finite() {
        return Color32::from_rgb(190, 90, 200);
    }
    let t = value.clamp(-1.0, 1.0);
    let lerp = |a: u8, b: u8, t: f32| (f32::from(a) + (f32::from(b) - f32::from(a)) * t + 0.5) as u8;
    let white = (245, 245, 245);
    let (r, g, b) = if t >= 0.0 { (8, 119, 189) } else { (245, 147, 34) };
    let t = t.abs();
    Color32::from_rgb(lerp(white.0, r, t), lerp(white.1, g, t), lerp(white.2, b, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::ActivationKind;
    use crate::nn::diagnostics::possible_states;

    /// The largest difference of one channel: a crude but honest test of "not the same colour".
    fn distance(a: Color32, b: Color32) -> i32 {
        [(a.r(), b.r()), (a.g(), b.g()), (a.b(), b.b())]
            .into_iter()
            .map(|(x, y)| (i32::from(x) - i32::from(y)).abs())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn presentation_state_colours_are_apart_from_each_other_and_from_the_weights() {
        for dark_theme in [true, false] {
            let settings = ViewSettings { presentation: true, dark_theme, ..ViewSettings::default() };
            let weights = [diverging_color(1.0), diverging_color(-1.0)];
            for kind in ActivationKind::ALL {
                let colours: Vec<Color32> = possible_states(kind.with_default_parameter())
                    .into_iter()
                    .map(|s| state_color(s, &settings))
                    .collect();
                for (index, &colour) in colours.iter().enumerate() {
                    for &weight in &weights {
                        assert!(distance(colour, weight) >= 40, "{kind:?}: {colour:?} is close to a weight colour");
                    }
                    for &other in &colours[index + 1..] {
                        assert!(distance(colour, other) >= 40, "{kind:?}: {colour:?} and {other:?}");
                    }
                }
            }
        }
    }
}

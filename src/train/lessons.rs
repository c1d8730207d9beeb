//! The lessons: the story of the dying ReLU, one step per preset. A lesson is a script of beats
//! at steps of its own clock: where its figures are measured, where its suggestion is made (a
//! fork, a comparison from step 0, a change to the run), captions, pauses, a neuron to point at.
//! The app plays the script (the trainer applies each beat at its step); `relu-lab lessons`
//! runs the same script on seeds 1 to 10 in one ensemble and measures it.
//!
//! No figure in a lesson is typed by hand: its texts hold placeholders (`{dead@preset}`,
//! `{learning_rate}`), filled when the lessons load from the script's settings and from the
//! measurement committed in `assets/lessons-measured.json`. A test measures the lessons again
//! and compares; a digit outside a placeholder is refused when the lessons load.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::command::SessionCommand;
use super::config::RunConfig;
use super::ensemble::{Branch, Ensemble, EnsembleError, Target};
pub use super::figures::{Figure, Figures, Summary};
use super::presets;
use super::settings::{Setting, short};
use super::text::{TextError, check_no_typed_figures, placeholders, render};
use super::trainer::{ScriptBeat, WorkerCommand};

/// The lesson scripts, built into the binary.
const LESSONS_TOML: &str = include_str!("../../assets/lessons.toml");
/// The lessons' measured figures over [`MEASURED_SEEDS`], built into the binary.
const MEASURED_JSON: &str = include_str!("../../assets/lessons-measured.json");
/// The seeds the committed figures are measured on (and the seeds view opens on).
pub const MEASURED_SEEDS: std::ops::RangeInclusive<u64> = 1..=10;
/// Phrases with digits that a lesson's text may hold: formulas and a citation, not figures.
const ALLOWED_PHRASES: [&str; 6] = ["max(0, z)", "exp(z)", "Lu et al. 2019", "layer 1", "layer 2", "at most 0.25"];

/// The plot a lesson is about: kept on screen while the lesson is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyPlot {
    /// Training and test loss.
    Loss,
    /// Neurons per state, per layer, over time.
    #[default]
    States,
    /// The activation curve with the selected neuron's pre-activations.
    ActivationCurve,
    /// Each neuron's fraction active over time.
    NeuronTime,
    /// Per-layer gradient norms.
    GradientNorms,
    /// Activations of every neuron on sample inputs.
    ActivationMatrix,
}

/// Where in a lesson figures are measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// At step 0, before any training.
    Start,
    /// After the preset's own training, before the suggestion.
    Preset,
    /// After the suggestion and more training.
    TryIt,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Self; 3] = [Self::Start, Self::Preset, Self::TryIt];

    /// The phase's key in placeholders and the measurement file.
    pub fn key(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Preset => "preset",
            Self::TryIt => "try-it",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|phase| phase.key() == key)
    }
}

/// A lesson's suggestion: commands made together, to the run or to B of a fork.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TryIt {
    /// The button's words (a template as written; filled when the lessons load).
    pub label: String,
    /// The commands, applied together.
    pub commands: Vec<SessionCommand>,
    /// Whether the app forks the run for them: B takes the commands and A goes on as it was.
    #[serde(default)]
    pub fork: Option<ForkMode>,
}

/// How a lesson's suggestion forks the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForkMode {
    /// Fork where the run is now.
    Now,
    /// Start the run over at step 0 and fork it there (same data and seed).
    FromStart,
}

impl TryIt {
    /// The trainer commands the lesson's button sends: the changes applied to the run, or
    /// given to B of a fork (now, or of a comparison from step 0). [`run_lesson`] makes the
    /// same changes to its lanes.
    pub fn worker_commands(&self) -> Vec<WorkerCommand> {
        let changes = self.commands.clone();
        match self.fork {
            None => changes.into_iter().map(WorkerCommand::Session).collect(),
            Some(ForkMode::Now) => vec![WorkerCommand::Fork { changes }],
            Some(ForkMode::FromStart) => vec![WorkerCommand::CompareFromStart { changes }],
        }
    }

    /// Makes the suggestion to `ensemble`, as the trainer makes it for the button.
    fn apply(&self, ensemble: &mut Ensemble) -> Result<(), EnsembleError> {
        match self.fork {
            Some(ForkMode::Now) => ensemble.fork_now(&self.commands).map(drop),
            Some(ForkMode::FromStart) => ensemble.compare_from_start(&self.commands).map(drop),
            None => {
                for command in &self.commands {
                    let applied = ensemble.apply(Target::Both, command)?;
                    if let Some(refusal) = applied.refusals.into_iter().next() {
                        return Err(EnsembleError::Refused(refusal));
                    }
                }
                Ok(())
            }
        }
    }
}

/// A neuron a beat points at (a ring around its tile), counted from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ring {
    /// The hidden layer, from 1.
    pub layer: usize,
    /// The neuron in it, from 1.
    pub neuron: usize,
}

/// One beat of a lesson's script.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Beat {
    /// The lesson's step at which it happens (the lesson counts its steps on, also across a
    /// comparison from step 0).
    pub at: u64,
    /// The figures measured here (before the beat's change).
    #[serde(default)]
    pub measure: Option<Phase>,
    /// A caption for the screen and for videos (a template as written).
    #[serde(default)]
    pub caption: Option<String>,
    /// The suggestion, made here.
    #[serde(default)]
    pub change: Option<TryIt>,
    /// The app pauses here until the user goes on.
    #[serde(default)]
    pub pause: bool,
    /// A neuron to point at.
    #[serde(default)]
    pub ring: Option<Ring>,
}

/// A lesson as written, with placeholders in its texts.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonSource {
    /// The heading, without its number.
    pub title: String,
    /// The preset it loads.
    pub preset: String,
    /// The plot the lesson is about.
    #[serde(default)]
    pub plot: KeyPlot,
    /// Two or three sentences.
    pub text: String,
    /// What to try next, in words.
    pub try_next: String,
    /// One line for the README's table of presets.
    pub summary: String,
    /// The script.
    #[serde(rename = "beat")]
    pub beats: Vec<Beat>,
}

/// One step of the story, its texts filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    /// The heading, numbered: "2. Too high a learning rate kills neurons".
    pub title: String,
    /// The preset it loads (a name from [`presets::PRESETS`]).
    pub preset: String,
    /// The plot the lesson is about.
    pub plot: KeyPlot,
    /// Two or three sentences.
    pub text: String,
    /// What to try next.
    pub try_next: String,
    /// One line for the README's table of presets.
    pub summary: String,
    /// The script, captions and labels filled in.
    pub beats: Vec<Beat>,
    /// The suggestion (the beat that makes a change), label filled in.
    pub try_it: Option<TryIt>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFile {
    lesson: Vec<LessonSource>,
}

/// Why the lessons could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LessonsError {
    /// The file does not parse.
    #[error("the lessons do not parse: {0}")]
    Parse(String),
    /// The measurement file does not parse.
    #[error("the lessons' measured figures do not parse: {0}")]
    Measured(String),
    /// A lesson names a preset that does not exist.
    #[error("lesson {title:?} names an unknown or broken preset {preset:?}")]
    UnknownPreset {
        /// The lesson's title.
        title: String,
        /// The name it gives.
        preset: String,
    },
    /// A script out of order, or with two changes.
    #[error("lesson {title:?}: {reason}")]
    Script {
        /// The lesson's title.
        title: String,
        /// What is wrong.
        reason: String,
    },
    /// A figure typed by hand where a placeholder belongs.
    #[error(
        "lesson {title:?}: {figure:?} in {template:?} is typed by hand; write a placeholder instead{}",
        if measured.is_empty() { String::new() } else {
            format!(" ({})", measured.iter().map(|(key, value)| format!("{{{key}}} gives {value}")).collect::<Vec<_>>().join(", "))
        }
    )]
    TypedFigure {
        /// The lesson's title.
        title: String,
        /// The text it is in.
        template: String,
        /// The typed figure.
        figure: String,
        /// The lesson's measured placeholders whose value holds that figure, and their values.
        measured: Vec<(String, String)>,
    },
    /// A text with a typed figure, or a placeholder that cannot be filled.
    #[error("lesson {title:?}: {error}")]
    Text {
        /// The lesson's title.
        title: String,
        /// Why.
        error: TextError,
    },
}

/// Reads the built-in lessons and fills their texts from the committed measurement.
pub fn load_lessons() -> Result<Vec<Lesson>, LessonsError> {
    let sources = lesson_sources()?;
    let measured = committed_measurement()?;
    sources.iter().enumerate().map(|(index, source)| fill(index, source, &measured)).collect()
}

/// The lessons as written, checked: known presets, beats in order, at most one change, and no
/// digit outside a placeholder.
pub fn lesson_sources() -> Result<Vec<LessonSource>, LessonsError> {
    let file: LessonFile = toml::from_str(LESSONS_TOML).map_err(|error| LessonsError::Parse(error.to_string()))?;
    for source in &file.lesson {
        check_lesson(source)?;
    }
    Ok(file.lesson)
}

/// The figures committed beside the lessons.
pub fn committed_measurement() -> Result<Measured, LessonsError> {
    serde_json::from_str(MEASURED_JSON).map_err(|error| LessonsError::Measured(error.to_string()))
}

/// Checks a lesson as written: a known preset, beats in order, at most one change, every
/// phase measured once, and no figure typed by hand (the error then names the measured
/// placeholders that give that figure).
pub fn check_lesson(source: &LessonSource) -> Result<(), LessonsError> {
    let script = |reason: String| LessonsError::Script { title: source.title.clone(), reason };
    if presets::find(&source.preset).and_then(|preset| preset.config().ok()).is_none() {
        return Err(LessonsError::UnknownPreset { title: source.title.clone(), preset: source.preset.clone() });
    }
    if source.beats.windows(2).any(|pair| pair[1].at < pair[0].at) {
        return Err(script("its beats are not in step order".to_owned()));
    }
    if source.beats.iter().filter(|beat| beat.change.is_some()).count() > 1 {
        return Err(script("it makes more than one change".to_owned()));
    }
    let mut measured = Vec::new();
    for beat in &source.beats {
        if let Some(phase) = beat.measure {
            if measured.contains(&phase) {
                return Err(script(format!("it measures {} twice", phase.key())));
            }
            measured.push(phase);
        }
    }
    let templates = std::iter::once(&source.text)
        .chain([&source.try_next, &source.summary])
        .chain(source.beats.iter().filter_map(|beat| beat.caption.as_ref()))
        .chain(source.beats.iter().filter_map(|beat| beat.change.as_ref().map(|change| &change.label)));
    for template in templates {
        check_no_typed_figures(template, &ALLOWED_PHRASES).map_err(|error| match error {
            TextError::TypedFigure { template, figure } => {
                let figure: String = figure.chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
                let measured = measured_giving(source, &figure);
                LessonsError::TypedFigure { title: source.title.clone(), template, figure, measured }
            }
            error => LessonsError::Text { title: source.title.clone(), error },
        })?;
    }
    Ok(())
}

/// The lesson's measured placeholders (`figure@phase`, and each statistic) whose value, as the
/// committed measurement fills it, holds `figure`.
fn measured_giving(source: &LessonSource, figure: &str) -> Vec<(String, String)> {
    let Ok(measured) = committed_measurement() else { return Vec::new() };
    let Ok(filler) = Filler::new(source, &measured) else { return Vec::new() };
    let mut found = Vec::new();
    for phase in Phase::ALL {
        for kind in Figure::ALL {
            for stat in ["", ".median", ".min", ".max", ".this"] {
                let key = format!("{}@{}{stat}", kind.key(), phase.key());
                if let Ok(value) = filler.fill(&key)
                    && value.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).any(|word| word == figure)
                {
                    found.push((key, value));
                }
            }
        }
    }
    found
}

/// The lesson numbered `index + 1`, its texts filled from `measured`.
fn fill(index: usize, source: &LessonSource, measured: &Measured) -> Result<Lesson, LessonsError> {
    let text_error = |error| LessonsError::Text { title: source.title.clone(), error };
    let filler = Filler::new(source, measured)?;
    let render_text = |template: &str| render(template, |key| filler.fill(key)).map_err(text_error);
    let mut beats = Vec::with_capacity(source.beats.len());
    for beat in &source.beats {
        let mut beat = beat.clone();
        if let Some(caption) = &beat.caption {
            beat.caption = Some(render_text(caption)?);
        }
        if let Some(change) = &mut beat.change {
            change.label = render_text(&change.label)?;
        }
        beats.push(beat);
    }
    let try_it = beats.iter().find_map(|beat| beat.change.clone());
    Ok(Lesson {
        title: format!("{}. {}", index + 1, source.title),
        preset: source.preset.clone(),
        plot: source.plot,
        text: render_text(&source.text)?,
        try_next: render_text(&source.try_next)?,
        summary: render_text(&source.summary)?,
        beats,
        try_it,
    })
}

impl Lesson {
    /// The preset's config.
    pub fn config(&self) -> Option<RunConfig> {
        presets::find(&self.preset)?.config().ok()
    }

    /// The lesson's step at which `phase` is measured.
    pub fn measured_at(&self, phase: Phase) -> Option<u64> {
        self.beats.iter().find(|beat| beat.measure == Some(phase)).map(|beat| beat.at)
    }

    /// The lesson's step at which its suggestion is made.
    pub fn try_it_at(&self) -> Option<u64> {
        self.beats.iter().find(|beat| beat.change.is_some()).map(|beat| beat.at)
    }

    /// The script as the trainer plays it ([`WorkerCommand::PlayScript`]).
    pub fn script(&self) -> Vec<ScriptBeat> {
        self.beats
            .iter()
            .map(|beat| ScriptBeat {
                at: beat.at,
                commands: beat.change.as_ref().map(TryIt::worker_commands).unwrap_or_default(),
                pause: beat.pause,
            })
            .collect()
    }
}

/// Fills a lesson's placeholders: settings from its preset (and after its change), figures
/// from the measurement.
struct Filler<'a> {
    source: &'a LessonSource,
    config: RunConfig,
    after_change: RunConfig,
    measured: &'a Measured,
}

impl<'a> Filler<'a> {
    fn new(source: &'a LessonSource, measured: &'a Measured) -> Result<Self, LessonsError> {
        let unknown = || LessonsError::UnknownPreset { title: source.title.clone(), preset: source.preset.clone() };
        let config = presets::find(&source.preset).and_then(|preset| preset.config().ok()).ok_or_else(unknown)?;
        let after_change = config_after_change(source, &config)
            .map_err(|reason| LessonsError::Script { title: source.title.clone(), reason })?;
        Ok(Self { source, config, after_change, measured })
    }

    /// The text for placeholder `key`.
    fn fill(&self, key: &str) -> Result<String, String> {
        if let Some((preset, rest)) = key.split_once('/') {
            if let Some(setting) = Setting::from_short_key(rest) {
                let config = presets::find(preset).and_then(|preset| preset.config().ok());
                return config
                    .map(|config| setting.prose_value(&config))
                    .ok_or_else(|| format!("{preset:?} is no preset"));
            }
            return self.figure(preset, rest);
        }
        let config = &self.config;
        let hidden = &config.network.hidden_layers;
        match key {
            "neurons" => return Ok(hidden.iter().sum::<usize>().to_string()),
            "depth" => return Ok(hidden.len().to_string()),
            "width" => return Ok(hidden.first().copied().unwrap_or(0).to_string()),
            "seed" => return Ok(config.seed.to_string()),
            "seeds" => return Ok(self.measured.seeds.clone()),
            "domain" => {
                let extent = short(f64::from(config.data.dataset.extent()));
                return Ok(format!("[-{extent}, {extent}]"));
            }
            "change.step" => {
                return self
                    .step_of(None)
                    .map(|step| step.to_string())
                    .ok_or_else(|| "the lesson makes no change".to_owned());
            }
            "try-it.steps-after" => {
                let change = self.step_of(None).ok_or("the lesson makes no change")?;
                let measure = self.step_of(Some(Phase::TryIt)).ok_or("the lesson does not measure try-it")?;
                return Ok(measure.saturating_sub(change).to_string());
            }
            _ => {}
        }
        if let Some(phase) = key.strip_suffix(".step").and_then(Phase::from_key) {
            return self
                .step_of(Some(phase))
                .map(|step| step.to_string())
                .ok_or_else(|| format!("the lesson does not measure {}", phase.key()));
        }
        let (name, after) = match key.split_once('@') {
            Some((name, "try-it")) if Setting::from_short_key(name).is_some() => (name, true),
            _ => (key, false),
        };
        if let Some(setting) = Setting::from_short_key(name) {
            return Ok(setting.prose_value(if after { &self.after_change } else { config }));
        }
        self.figure(&self.source.preset, key)
    }

    /// The step of the beat measuring `phase` (or making the change, for `None`).
    fn step_of(&self, phase: Option<Phase>) -> Option<u64> {
        let beats = &self.source.beats;
        match phase {
            Some(phase) => beats.iter().find(|beat| beat.measure == Some(phase)),
            None => beats.iter().find(|beat| beat.change.is_some()),
        }
        .map(|beat| beat.at)
    }

    /// `figure@phase`, `figure@phase.median` (`.min`, `.max`, `.min-seed`, `.max-seed`,
    /// `.this`) of lesson `preset`.
    fn figure(&self, preset: &str, key: &str) -> Result<String, String> {
        let (figure, rest) = key.split_once('@').ok_or("names no setting, figure or step")?;
        let figure = Figure::from_key(figure).ok_or_else(|| format!("{figure:?} is no figure"))?;
        let (phase, stat) = rest.split_once('.').unwrap_or((rest, ""));
        let phase = Phase::from_key(phase).ok_or_else(|| format!("{phase:?} is no phase"))?;
        let measure = self
            .measured
            .get(preset, phase, figure)
            .ok_or_else(|| format!("no measurement of {} at {} in lesson {preset}", figure.key(), phase.key()))?;
        let summary = measure.summary(figure);
        let is_count_kind = figure.is_yes_no();
        let value = |value: f64| Ok(figure.format(value));
        match stat {
            "" => Ok(summary.range_text()),
            "median" | "min" | "max" if is_count_kind => Err(format!(
                "{} is yes or no per seed: it has no {stat}; write {{{}@{}}}",
                figure.key(),
                figure.key(),
                phase.key()
            )),
            "median" => value(measure.median),
            "min" => value(measure.min),
            "max" => value(measure.max),
            "min-seed" => Ok(measure.min_seed.to_string()),
            "max-seed" => Ok(measure.max_seed.to_string()),
            "this" => measure.this.map_or_else(
                || Err(format!("the lesson's own seed is not among the seeds {}", self.measured.seeds)),
                |this| if is_count_kind { Ok(if this > 0.5 { "yes" } else { "no" }.to_owned()) } else { value(this) },
            ),
            other => Err(format!("{other:?} is none of median, min, max, min-seed, max-seed, this")),
        }
    }
}

/// The preset's config after the lesson's change (the config itself if it makes none).
fn config_after_change(source: &LessonSource, config: &RunConfig) -> Result<RunConfig, String> {
    let Some(change) = source.beats.iter().find_map(|beat| beat.change.as_ref()) else { return Ok(config.clone()) };
    let mut session = super::Session::new(config.clone()).map_err(|error| error.to_string())?;
    for command in &change.commands {
        session.apply(command.clone()).map_err(|error| format!("its change is refused: {error}"))?;
    }
    Ok(session.config().clone())
}

/// One figure over the seeds, as committed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// The smallest value.
    pub min: f64,
    /// The median (the midpoint of the middle two for an even count).
    pub median: f64,
    /// The largest value.
    pub max: f64,
    /// Seeds with a yes (yes/no figures), or with a value.
    pub count: usize,
    /// Seeds with a value.
    pub seeds: usize,
    /// The first seed with the smallest value.
    pub min_seed: u64,
    /// The first seed with the largest value.
    pub max_seed: u64,
    /// The value on the lesson's own seed, if it is among the seeds.
    pub this: Option<f64>,
}

impl Measure {
    /// The summary this measure holds.
    pub fn summary(&self, figure: Figure) -> Summary {
        Summary { figure, min: self.min, median: self.median, max: self.max, count: self.count, seeds: self.seeds }
    }
}

/// Every lesson's figures over the seeds: lesson (by preset), phase, figure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// The seeds measured, as a range ("1-10").
    pub seeds: String,
    /// Per lesson's preset, per phase's key, per figure's key.
    pub lessons: BTreeMap<String, BTreeMap<String, BTreeMap<String, Measure>>>,
}

impl Measured {
    /// The measure of `figure` at `phase` in the lesson on `preset`.
    pub fn get(&self, preset: &str, phase: Phase, figure: Figure) -> Option<&Measure> {
        self.lessons.get(preset)?.get(phase.key())?.get(figure.key())
    }

    /// This measurement as the committed file holds it.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).map(|json| json + "\n").unwrap_or_default()
    }

    /// Each figure that differs between `self` (committed) and `measured`, in words naming
    /// the lesson, the figure and both values.
    pub fn differences(&self, measured: &Self) -> Vec<String> {
        let mut differences = Vec::new();
        if self.seeds != measured.seeds {
            differences.push(format!("committed for seeds {}, measured on {}", self.seeds, measured.seeds));
        }
        let keys: std::collections::BTreeSet<_> = self.lessons.keys().chain(measured.lessons.keys()).collect();
        for preset in keys {
            let empty = BTreeMap::new();
            let (old, new) =
                (self.lessons.get(preset).unwrap_or(&empty), measured.lessons.get(preset).unwrap_or(&empty));
            let phases: std::collections::BTreeSet<_> = old.keys().chain(new.keys()).collect();
            for phase in phases {
                let empty = BTreeMap::new();
                let (old, new) = (old.get(phase).unwrap_or(&empty), new.get(phase).unwrap_or(&empty));
                let figures: std::collections::BTreeSet<_> = old.keys().chain(new.keys()).collect();
                for figure in figures {
                    let (was, now) = (old.get(figure), new.get(figure));
                    if was != now {
                        let show = |measure: Option<&Measure>| {
                            measure.map_or_else(|| "nothing".to_owned(), |m| format!("{m:?}"))
                        };
                        differences.push(format!(
                            "lesson {preset}, {figure}@{phase}: committed {}, measured {}",
                            show(was),
                            show(now)
                        ));
                    }
                }
            }
        }
        differences
    }
}

/// Why a lesson could not be run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LessonRunError {
    /// The lesson names no preset that loads.
    #[error("lesson {0:?} names an unknown or broken preset")]
    Preset(String),
    /// The ensemble refused the lesson's settings or its suggestion.
    #[error("lesson {title:?}: {error}")]
    Ensemble {
        /// The lesson's title.
        title: String,
        /// Why.
        error: EnsembleError,
    },
}

/// One seed's run of a lesson: its figures where the script measures them.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// The figures, per phase measured.
    pub phases: BTreeMap<Phase, Figures>,
}

impl SeedRun {
    /// The figures at `phase`, if the script measures it.
    pub fn phase(&self, phase: Phase) -> Option<&Figures> {
        self.phases.get(&phase)
    }

    /// `figure` at `phase` as a number (yes/no as 1 or 0), if it applies.
    pub fn value(&self, figure: Figure, phase: Phase) -> Option<f64> {
        self.phase(phase)?.value(figure)
    }
}

/// Plays `lesson`'s script on every seed of `seeds` in one ensemble, exactly as the app plays
/// it for one seed: train to each beat, measure there (the branch that took the change, once
/// forked), make the change as the lesson's button makes it. The lanes run on up to
/// `threads` threads; the figures never depend on it.
pub fn run_lesson(
    lesson: &Lesson,
    seeds: std::ops::RangeInclusive<u64>,
    threads: usize,
) -> Result<Vec<SeedRun>, LessonRunError> {
    let config = lesson.config().ok_or_else(|| LessonRunError::Preset(lesson.title.clone()))?;
    let mut runs: Vec<SeedRun> = seeds.clone().map(|seed| SeedRun { seed, phases: BTreeMap::new() }).collect();
    play_lesson(lesson, &config, seeds, threads, |phase, ensemble| {
        let branch = if ensemble.is_forked() { Branch::B } else { Branch::A };
        for (index, run) in runs.iter_mut().enumerate() {
            let session = ensemble.lane_mut(index).and_then(|lane| lane.session_mut(branch));
            if let Some(session) = session {
                run.phases.insert(phase, Figures::measure(session));
            }
        }
    })?;
    Ok(runs)
}

/// Plays `lesson`'s script on `config` (its preset's, or a variant) on every seed of `seeds`,
/// calling `on_measure` where the script measures; returns the ensemble at the script's end.
pub fn play_lesson(
    lesson: &Lesson,
    config: &RunConfig,
    seeds: std::ops::RangeInclusive<u64>,
    threads: usize,
    mut on_measure: impl FnMut(Phase, &mut Ensemble),
) -> Result<Ensemble, LessonRunError> {
    let refused = |error: EnsembleError| LessonRunError::Ensemble { title: lesson.title.clone(), error };
    let mut ensemble = Ensemble::seeds(config, seeds).map_err(refused)?;
    // The lesson's own clock: a comparison from step 0 starts the ensemble's over, not the
    // lesson's.
    let mut lesson_step = 0;
    for beat in &lesson.beats {
        ensemble.step(beat.at - lesson_step, threads);
        lesson_step = beat.at;
        if let Some(phase) = beat.measure {
            on_measure(phase, &mut ensemble);
        }
        if let Some(change) = &beat.change {
            change.apply(&mut ensemble).map_err(refused)?;
        }
    }
    Ok(ensemble)
}

/// The summary of `figure` at `phase` over `runs`, if any run has it.
pub fn summarize(runs: &[SeedRun], figure: Figure, phase: Phase) -> Option<Summary> {
    Summary::of(figure, runs.iter().filter_map(|run| run.phase(phase)))
}

/// The measure of `figure` at `phase` over `runs`, with the seeds of the extremes and the value
/// on `own_seed`.
fn measure(runs: &[SeedRun], figure: Figure, phase: Phase, own_seed: u64) -> Option<Measure> {
    let summary = summarize(runs, figure, phase)?;
    let seed_of =
        |target: f64| runs.iter().find(|run| run.value(figure, phase) == Some(target)).map_or(0, |run| run.seed);
    let this = runs.iter().find(|run| run.seed == own_seed).and_then(|run| run.value(figure, phase));
    Some(Measure {
        min: summary.min,
        median: summary.median,
        max: summary.max,
        count: summary.count,
        seeds: summary.seeds,
        min_seed: seed_of(summary.min),
        max_seed: seed_of(summary.max),
        this,
    })
}

/// Measures every lesson over `seeds` (the lessons as written, so that a lesson whose committed
/// figures are out of date can still be measured). `each` gets every lesson as it is measured:
/// its index, the lesson with its texts filled from this measurement (or why they cannot be,
/// and then as written), and its runs.
pub fn measure_all(
    seeds: std::ops::RangeInclusive<u64>,
    threads: usize,
    mut each: impl FnMut(usize, &Lesson, Option<&LessonsError>, &[SeedRun]),
) -> Result<Measured, MeasureError> {
    let sources = lesson_sources()?;
    let (first, last) = (*seeds.start(), *seeds.end());
    let mut measured = Measured { seeds: format!("{first}-{last}"), lessons: BTreeMap::new() };
    for (index, source) in sources.iter().enumerate() {
        let lesson = script_only(index, source);
        let runs = run_lesson(&lesson, seeds.clone(), threads)?;
        let own_seed = lesson.config().map_or(0, |config| config.seed);
        let mut phases = BTreeMap::new();
        for phase in Phase::ALL {
            let figures: BTreeMap<String, Measure> = Figure::ALL
                .into_iter()
                .filter_map(|figure| measure(&runs, figure, phase, own_seed).map(|m| (figure.key().to_owned(), m)))
                .collect();
            if !figures.is_empty() {
                phases.insert(phase.key().to_owned(), figures);
            }
        }
        measured.lessons.insert(source.preset.clone(), phases);
        // Its texts as the new measurement fills them (as written, if they name a lesson not
        // measured yet).
        match fill(index, source, &measured) {
            Ok(filled) => each(index, &filled, None, &runs),
            Err(error) => each(index, &lesson, Some(&error), &runs),
        }
    }
    Ok(measured)
}

/// A lesson's script with its texts as written (to measure it before they can be filled).
fn script_only(index: usize, source: &LessonSource) -> Lesson {
    Lesson {
        title: format!("{}. {}", index + 1, source.title),
        preset: source.preset.clone(),
        plot: source.plot,
        text: source.text.clone(),
        try_next: source.try_next.clone(),
        summary: source.summary.clone(),
        beats: source.beats.clone(),
        try_it: source.beats.iter().find_map(|beat| beat.change.clone()),
    }
}

/// Why the lessons could not be measured.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MeasureError {
    /// The lessons do not read.
    #[error(transparent)]
    Lessons(#[from] LessonsError),
    /// A lesson could not run.
    #[error(transparent)]
    Run(#[from] LessonRunError),
}

/// The README's generated parts, as `relu-lab lessons --markdown` prints them: the table of
/// presets, one row per lesson.
pub fn presets_table(lessons: &[Lesson]) -> String {
    let mut table = format!(
        "Figures over seeds {}, as `relu-lab lessons --seeds {}` measures them.\n\n| preset | what it shows |\n| --- | --- |\n",
        seeds_text(),
        seeds_text()
    );
    for lesson in lessons {
        let _ = writeln!(table, "| `{}` | {} |", lesson.preset, lesson.summary);
    }
    table
}

/// The measured seeds, as "1-10".
fn seeds_text() -> String {
    format!("{}-{}", MEASURED_SEEDS.start(), MEASURED_SEEDS.end())
}

/// Every placeholder of every text of `source`.
pub fn all_placeholders(source: &LessonSource) -> Result<Vec<String>, TextError> {
    let mut found = Vec::new();
    let templates = std::iter::once(&source.text)
        .chain([&source.try_next, &source.summary])
        .chain(source.beats.iter().filter_map(|beat| beat.caption.as_ref()));
    for template in templates {
        found.extend(placeholders(template)?.into_iter().map(str::to_owned));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_loads_with_every_placeholder_filled() {
        let lessons = load_lessons().unwrap();
        assert_eq!(lessons.len(), presets::PRESETS.len());
        for lesson in &lessons {
            assert!(!lesson.text.contains('{') && !lesson.try_next.contains('{'), "{}", lesson.title);
            assert!(lesson.measured_at(Phase::Start) == Some(0), "{} measures at step 0", lesson.title);
        }
        assert!(lessons[0].title.starts_with("1. "));
    }

    #[test]
    fn a_figure_of_the_wrong_kind_is_refused() {
        let sources = lesson_sources().unwrap();
        let measured = committed_measurement().unwrap();
        let source = sources.iter().find(|source| source.preset == "high-learning-rate").unwrap();
        let mut wrong = source.clone();
        wrong.text = "A whole layer is dead on a median of {collapsed@preset.median} seeds.".to_owned();
        let error = fill(1, &wrong, &measured).unwrap_err();
        assert!(error.to_string().contains("yes or no per seed"), "{error}");
        wrong.text = "{dead@nowhere}".to_owned();
        assert!(fill(1, &wrong, &measured).unwrap_err().to_string().contains("is no phase"));
        wrong.text = "After 3000 steps.".to_owned();
        assert!(matches!(check_lesson(&wrong), Err(LessonsError::TypedFigure { .. })));
    }
}

//! The lessons: the story of the dying ReLU, one step per preset. Each lesson is also an
//! experiment: its preset runs for [`PRESET_STEPS`] steps, then its "try it" commands (the
//! app's one-click suggestion) for [`TRY_IT_STEPS`] more, over a range of seeds; the figures
//! its text states are claims, checked against what the runs measure (`relu-lab lessons`).

use serde::Deserialize;

use super::command::SessionCommand;
use super::config::RunConfig;
use super::ensemble::{Branch, Ensemble, EnsembleError, Target};
pub use super::figures::{Figure, Figures, Summary};
use super::presets;
use super::trainer::WorkerCommand;

/// The lesson texts, built into the binary.
const LESSONS_TOML: &str = include_str!("../../assets/lessons.toml");
/// Steps of a lesson's preset, as `relu-lab run` makes by default.
pub const PRESET_STEPS: u64 = 3000;
/// Steps after a lesson's "try it" commands.
pub const TRY_IT_STEPS: u64 = 3000;

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

/// One step of the story.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The heading, such as "2. Too high a learning rate kills neurons".
    pub title: String,
    /// The preset it loads (a name from [`presets::PRESETS`]).
    pub preset: String,
    /// The plot the lesson is about.
    #[serde(default)]
    pub plot: KeyPlot,
    /// Two or three sentences.
    pub text: String,
    /// What to try next, in words.
    pub try_next: String,
    /// The suggestion as commands: one click in the app, the second phase of the experiment.
    #[serde(default)]
    pub try_it: Option<TryIt>,
    /// The figures the text states.
    #[serde(default, rename = "claim")]
    pub claims: Vec<Claim>,
}

/// A lesson's one-click suggestion.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TryIt {
    /// The button's words, such as "Rescue: rate 0.03 and Leaky ReLU 0.1".
    pub label: String,
    /// The commands, applied together.
    pub commands: Vec<SessionCommand>,
    /// Whether the app forks the run for them: B takes the commands and A goes on as it was.
    /// The experiment measures B, which is the run that took them.
    #[serde(default)]
    pub fork: Option<ForkMode>,
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

/// When a figure is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// At step 0, before any training.
    Start,
    /// After the preset's steps.
    Preset,
    /// After the try-it phase.
    TryIt,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Self; 3] = [Self::Start, Self::Preset, Self::TryIt];
}

/// A figure a lesson's text states: its min, median and max over the seeds (or, for a yes/no
/// figure, on how many seeds it holds), and the words that state it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// What is measured.
    pub figure: Figure,
    /// When.
    pub phase: Phase,
    /// The smallest value over the seeds.
    pub min: Option<f64>,
    /// The median over the seeds.
    pub median: Option<f64>,
    /// The largest value over the seeds.
    pub max: Option<f64>,
    /// For yes/no figures: on how many seeds it holds.
    pub seeds: Option<usize>,
    /// The words in the lesson's text that state it (checked to be there).
    pub words: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFile {
    lesson: Vec<Lesson>,
}

/// Why the lessons could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LessonsError {
    /// The file does not parse.
    #[error("the lessons do not parse: {0}")]
    Parse(String),
    /// A lesson names a preset that does not exist.
    #[error("lesson {title:?} names an unknown preset {preset:?}")]
    UnknownPreset {
        /// The lesson's title.
        title: String,
        /// The name it gives.
        preset: String,
    },
    /// A claim's words are not in its lesson's text.
    #[error("lesson {title:?} claims {words:?}, which its text does not say")]
    MissingWords {
        /// The lesson's title.
        title: String,
        /// The claim's words.
        words: String,
    },
}

/// Parses the built-in lessons, checking that every one names a known preset and that every
/// claim's words are in its text.
pub fn load_lessons() -> Result<Vec<Lesson>, LessonsError> {
    let file: LessonFile = toml::from_str(LESSONS_TOML).map_err(|error| LessonsError::Parse(error.to_string()))?;
    for lesson in &file.lesson {
        if presets::find(&lesson.preset).is_none() {
            return Err(LessonsError::UnknownPreset { title: lesson.title.clone(), preset: lesson.preset.clone() });
        }
        let text = lesson.full_text();
        if let Some(claim) = lesson.claims.iter().find(|claim| !text.contains(&claim.words)) {
            return Err(LessonsError::MissingWords { title: lesson.title.clone(), words: claim.words.clone() });
        }
    }
    Ok(file.lesson)
}

impl Lesson {
    /// The preset's config.
    pub fn config(&self) -> Option<RunConfig> {
        presets::find(&self.preset)?.config().ok()
    }

    /// Everything the lesson says: text, suggestion and button.
    pub fn full_text(&self) -> String {
        let label = self.try_it.as_ref().map_or("", |try_it| try_it.label.as_str());
        format!("{} {} {}", self.text, self.try_next, label)
    }
}

/// One seed's run of a lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// At step 0.
    pub start: Figures,
    /// After the preset's steps.
    pub preset: Figures,
    /// After the try-it phase, if the lesson has one.
    pub try_it: Option<Figures>,
}

impl SeedRun {
    /// The figures at `phase`, if the run has that phase.
    pub fn phase(&self, phase: Phase) -> Option<&Figures> {
        match phase {
            Phase::Start => Some(&self.start),
            Phase::Preset => Some(&self.preset),
            Phase::TryIt => self.try_it.as_ref(),
        }
    }

    /// `figure` at `phase` as a number (yes/no as 1 or 0), if it applies.
    pub fn value(&self, figure: Figure, phase: Phase) -> Option<f64> {
        self.phase(phase)?.value(figure)
    }
}

/// Why a lesson could not be run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LessonRunError {
    /// The lesson names no preset that loads.
    #[error("lesson {0:?} names an unknown or broken preset")]
    Preset(String),
    /// A seed refused the lesson's suggestion.
    #[error("lesson {title:?}: the suggestion was refused: {refusal}")]
    Refused {
        /// The lesson's title.
        title: String,
        /// Which seed refused what, in words.
        refusal: String,
    },
    /// The ensemble refused the lesson's settings or its suggestion.
    #[error("lesson {title:?}: {error}")]
    Ensemble {
        /// The lesson's title.
        title: String,
        /// Why.
        error: EnsembleError,
    },
}

/// Runs `lesson` on every seed of `seeds` in one ensemble, exactly as the app's lesson does it:
/// the preset for [`PRESET_STEPS`], then its "try it" as the button makes it (a fork now, a
/// comparison from the start, or a change to the run) for [`TRY_IT_STEPS`] more, measuring the
/// branch that took the change. The lanes run on up to `threads` threads; the figures never
/// depend on it.
pub fn run_lesson(
    lesson: &Lesson,
    seeds: std::ops::RangeInclusive<u64>,
    threads: usize,
) -> Result<Vec<SeedRun>, LessonRunError> {
    let refused = |error: EnsembleError| LessonRunError::Ensemble { title: lesson.title.clone(), error };
    let config = lesson.config().ok_or_else(|| LessonRunError::Preset(lesson.title.clone()))?;
    let mut ensemble = Ensemble::seeds(&config, seeds).map_err(refused)?;
    let measure = |ensemble: &mut Ensemble, branch: Branch| -> Vec<Figures> {
        (0..ensemble.lanes().len())
            .filter_map(|index| {
                ensemble.lane_mut(index).and_then(|lane| lane.session_mut(branch)).map(Figures::measure)
            })
            .collect()
    };
    let starts = measure(&mut ensemble, Branch::A);
    ensemble.step(PRESET_STEPS, threads);
    let presets = measure(&mut ensemble, Branch::A);
    let try_its = match &lesson.try_it {
        Some(try_it) => {
            match try_it.fork {
                Some(ForkMode::Now) => ensemble.fork_now(&try_it.commands).map(drop),
                Some(ForkMode::FromStart) => ensemble.compare_from_start(&try_it.commands).map(drop),
                None => {
                    for command in &try_it.commands {
                        let applied = ensemble.apply(Target::Both, command).map_err(refused)?;
                        if let Some(refusal) = applied.refusals.into_iter().next() {
                            return Err(LessonRunError::Refused { title: lesson.title.clone(), refusal });
                        }
                    }
                    Ok(())
                }
            }
            .map_err(refused)?;
            ensemble.step(TRY_IT_STEPS, threads);
            let branch = if ensemble.is_forked() { Branch::B } else { Branch::A };
            measure(&mut ensemble, branch).into_iter().map(Some).collect()
        }
        None => vec![None; starts.len()],
    };
    let seeds: Vec<u64> = ensemble.lanes().iter().map(super::ensemble::Lane::seed).collect();
    Ok(seeds
        .into_iter()
        .zip(starts)
        .zip(presets)
        .zip(try_its)
        .map(|(((seed, start), preset), try_it)| SeedRun { seed, start, preset, try_it })
        .collect())
}

/// The summary of `figure` at `phase` over `runs`, if any run has it.
pub fn summarize(runs: &[SeedRun], figure: Figure, phase: Phase) -> Option<Summary> {
    Summary::of(figure, runs.iter().filter_map(|run| run.phase(phase)))
}

/// Whether `claim` holds on `runs`; `Err` says what was measured instead.
pub fn check_claim(claim: &Claim, runs: &[SeedRun]) -> Result<(), String> {
    let Some(summary) = summarize(runs, claim.figure, claim.phase) else {
        return Err("not measured".to_owned());
    };
    // Three significant digits: what a sentence states.
    let rounded = |value: f64| format!("{value:.2e}");
    let mut problems = Vec::new();
    for (name, stated, measured) in
        [("min", claim.min, summary.min), ("median", claim.median, summary.median), ("max", claim.max, summary.max)]
    {
        if let Some(stated) = stated
            && rounded(stated) != rounded(measured)
        {
            problems.push(format!("{name} {measured} (stated {stated})"));
        }
    }
    if let Some(stated) = claim.seeds
        && stated != summary.count
    {
        problems.push(format!("{} of {} seeds (stated {stated})", summary.count, summary.seeds));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join(", ")) }
}

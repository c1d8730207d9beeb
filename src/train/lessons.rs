//! The lessons: the story of the dying ReLU, one step per preset. Each lesson is also an
//! experiment: its preset runs for [`PRESET_STEPS`] steps, then its "try it" commands (the
//! app's one-click suggestion) for [`TRY_IT_STEPS`] more, over a range of seeds; the figures
//! its text states are claims, checked against what the runs measure (`relu-lab lessons`).

use serde::Deserialize;

use super::command::SessionCommand;
use super::config::RunConfig;
use super::presets;
use super::session::{Evaluation, Session};
use crate::nn::NeuronState;
use crate::nn::born_dead::is_network_born_dead;

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

/// How a lesson's suggestion forks the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForkMode {
    /// Fork where the run is now.
    Now,
    /// Start the run over at step 0 and fork it there (same data and seed).
    FromStart,
}

/// A figure measured per seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Figure {
    /// Hidden neurons dead.
    Dead,
    /// Hidden neurons negative on every training input, whatever the activation.
    AllNegative,
    /// Revivals since the network was built (the census's count).
    Revived,
    /// The share of (neuron, training input) pairs with a pre-activation `<= 0`, in percent:
    /// ReLU's sparsity.
    ZeroOutputs,
    /// Test accuracy, in percent.
    TestAccuracy,
    /// Mean training loss.
    TrainLoss,
    /// Layer 1's gradient norm over the last hidden layer's, at that moment.
    GradientRatio,
    /// The run diverged (a yes/no figure: claims count the seeds).
    Diverged,
    /// Some hidden layer is dead on every training input (yes/no).
    Collapsed,
    /// Some hidden layer is zero on the whole domain, by the exact check (yes/no; 1-input
    /// ReLU networks only).
    BornDead,
    /// All-negative neurons fell during the try-it phase (yes/no).
    AllNegativeFell,
}

impl Figure {
    /// Whether this figure is a yes/no per seed.
    pub fn is_yes_no(self) -> bool {
        matches!(self, Self::Diverged | Self::Collapsed | Self::BornDead | Self::AllNegativeFell)
    }

    /// The words for a table row.
    pub fn label(self) -> &'static str {
        match self {
            Self::Dead => "dead neurons",
            Self::AllNegative => "negative on every input",
            Self::Revived => "revivals so far",
            Self::ZeroOutputs => "outputs at or below 0 (%)",
            Self::TestAccuracy => "test accuracy (%)",
            Self::TrainLoss => "train loss",
            Self::GradientRatio => "grad norm layer 1 / last",
            Self::Diverged => "diverged",
            Self::Collapsed => "a whole layer dead",
            Self::BornDead => "born dead (exact)",
            Self::AllNegativeFell => "negative-everywhere count fell",
        }
    }
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

/// One seed's figures at one phase.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhaseFigures {
    /// Step count then.
    pub step: u64,
    /// Hidden neurons in all.
    pub neurons: usize,
    /// See [`Figure::Dead`].
    pub dead: usize,
    /// See [`Figure::AllNegative`].
    pub all_negative: usize,
    /// See [`Figure::Revived`].
    pub revived: u64,
    /// See [`Figure::ZeroOutputs`].
    pub zero_outputs: f64,
    /// See [`Figure::TestAccuracy`].
    pub test_accuracy: Option<f64>,
    /// See [`Figure::TrainLoss`].
    pub train_loss: f64,
    /// See [`Figure::GradientRatio`].
    pub gradient_ratio: f64,
    /// See [`Figure::Diverged`].
    pub diverged: bool,
    /// See [`Figure::Collapsed`].
    pub collapsed: bool,
    /// See [`Figure::BornDead`] (start only).
    pub born_dead: Option<bool>,
}

impl PhaseFigures {
    fn measure(session: &mut Session) -> Self {
        let evaluation: Evaluation = session.evaluate();
        let diagnostics = &evaluation.diagnostics;
        let norms: Vec<f64> = diagnostics.layers.iter().map(|layer| layer.gradient_norm).collect();
        let gradient_ratio = match (norms.first(), norms.last()) {
            (Some(&first), Some(&last)) if last > 0.0 => first / last,
            _ => 0.0,
        };
        Self {
            step: evaluation.step,
            neurons: diagnostics.neuron_count(),
            dead: diagnostics.count(NeuronState::Dead),
            all_negative: diagnostics.all_negative(),
            revived: evaluation.revived.iter().sum(),
            zero_outputs: zero_output_percent(diagnostics),
            test_accuracy: evaluation.test_accuracy.map(|accuracy| 100.0 * accuracy),
            train_loss: evaluation.train_loss,
            gradient_ratio,
            diverged: session.divergence().is_some(),
            collapsed: diagnostics.is_collapsed,
            born_dead: None,
        }
    }
}

/// The mean share of training inputs on which a hidden neuron is not active, in percent.
fn zero_output_percent(diagnostics: &crate::nn::NetworkDiagnostics) -> f64 {
    let neurons = diagnostics.layers.iter().flat_map(|layer| &layer.neurons);
    let (count, inactive) = neurons
        .fold((0_usize, 0.0_f64), |(count, sum), stats| (count + 1, sum + 1.0 - f64::from(stats.fraction_active)));
    if count == 0 { 0.0 } else { 100.0 * inactive / count as f64 }
}

/// One seed's run of a lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// At step 0.
    pub start: PhaseFigures,
    /// After the preset's steps.
    pub preset: PhaseFigures,
    /// After the try-it phase, if the lesson has one.
    pub try_it: Option<PhaseFigures>,
}

impl SeedRun {
    /// The figures at `phase`, if the run has that phase.
    pub fn phase(&self, phase: Phase) -> Option<&PhaseFigures> {
        match phase {
            Phase::Start => Some(&self.start),
            Phase::Preset => Some(&self.preset),
            Phase::TryIt => self.try_it.as_ref(),
        }
    }

    /// `figure` at `phase` as a number (yes/no as 1 or 0), if it applies.
    pub fn value(&self, figure: Figure, phase: Phase) -> Option<f64> {
        let at = self.phase(phase)?;
        let yes_no = |flag: bool| Some(if flag { 1.0 } else { 0.0 });
        match figure {
            Figure::Dead => Some(at.dead as f64),
            Figure::AllNegative => Some(at.all_negative as f64),
            Figure::Revived => Some(at.revived as f64),
            Figure::ZeroOutputs => Some(at.zero_outputs),
            Figure::TestAccuracy => at.test_accuracy,
            Figure::TrainLoss => Some(at.train_loss),
            Figure::GradientRatio => Some(at.gradient_ratio),
            Figure::Diverged => yes_no(at.diverged),
            Figure::Collapsed => yes_no(at.collapsed),
            Figure::BornDead => at.born_dead.and_then(yes_no),
            Figure::AllNegativeFell => {
                let before = self.preset.all_negative;
                yes_no(at.all_negative < before)
            }
        }
    }
}

/// Runs `lesson` at `seed`: the preset for [`PRESET_STEPS`], then its try-it commands for
/// [`TRY_IT_STEPS`]. A diverged run stops where it diverged (the try-it commands still apply:
/// any command clears a divergence, as in the app).
pub fn run_seed(lesson: &Lesson, seed: u64) -> Result<SeedRun, super::ConfigError> {
    let mut config = lesson.config().unwrap_or_default();
    config.seed = seed;
    let mut session = Session::new(config)?;
    let mut start = PhaseFigures::measure(&mut session);
    start.born_dead = is_network_born_dead(session.network());
    train(&mut session, PRESET_STEPS);
    let preset = PhaseFigures::measure(&mut session);
    let try_it = lesson.try_it.as_ref().map(|try_it| {
        if try_it.fork == Some(ForkMode::FromStart) {
            // B of a comparison from the start: the same seed and data, at step 0.
            let _ = session.apply(SessionCommand::Reset { seed: None });
        }
        for command in &try_it.commands {
            // A refused command shows in the figures (nothing changes); the lessons test
            // checks every try-it applies.
            let _ = session.apply(command.clone());
        }
        train(&mut session, TRY_IT_STEPS);
        PhaseFigures::measure(&mut session)
    });
    Ok(SeedRun { seed, start, preset, try_it })
}

fn train(session: &mut Session, steps: u64) {
    for _ in 0..steps {
        if let super::StepOutcome::Diverged(_) = session.step() {
            break;
        }
    }
}

/// A figure over the seeds: min, median and max, or how many seeds say yes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The smallest value.
    pub min: f64,
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The largest value.
    pub max: f64,
    /// Seeds with a yes (for yes/no figures), or with a value.
    pub count: usize,
    /// Seeds with a value.
    pub seeds: usize,
}

/// The summary of `figure` at `phase` over `runs`, if any run has it.
pub fn summarize(runs: &[SeedRun], figure: Figure, phase: Phase) -> Option<Summary> {
    let mut values: Vec<f64> = runs.iter().filter_map(|run| run.value(figure, phase)).collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { f64::midpoint(values[n / 2 - 1], values[n / 2]) };
    let count = if figure.is_yes_no() { values.iter().filter(|&&v| v > 0.5).count() } else { n };
    Some(Summary { min: values[0], median, max: values[n - 1], count, seeds: n })
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

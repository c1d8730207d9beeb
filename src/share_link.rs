//! Links that open a lesson with given settings: the fragment of the web app's address
//! (`…/#lesson=2&lr=3&activation=leaky-relu:0.1&seed=4`), or the same text for the desktop
//! (`relu-lab --open 'lesson=2&lr=3'`). One format, read here without any UI, so the browser,
//! the desktop app and the tests read a link the same way.
//!
//! A link says where a run *starts*: the lesson's preset with the settings it names in place
//! from step 0, not the history of changes that led there (a run record keeps that). It names
//! only the settings that differ from the lesson's, so a short link stays short.
//!
//! Reading a link never fails as a whole and never panics: each `key=value` part is read on its
//! own, the good ones are kept, and each bad one (an unknown key, a value that does not parse or
//! is out of range, a key given twice) becomes a [`LinkProblem`] that says which part and why,
//! so the user can be told and nothing they got right is lost.

use std::fmt;

use crate::data::DatasetKind;
use crate::nn::{ActivationKind, Decay, Init};
use crate::train::RunConfig;
use crate::train::config::OptimizerName;
use crate::train::lessons::Lesson;

/// The key of the lesson (its number, from 1).
const LESSON_KEY: &str = "lesson";
/// The longest link read, in bytes (a full one is a few hundred).
const MAX_LINK_BYTES: usize = 4096;

/// A setting a link can carry: its key in the link and what it changes in a [`RunConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Seed,
    LearningRate,
    Decay,
    BiasOffset,
    Activation,
    Optimizer,
    Momentum,
    BatchSize,
    Clip,
    Dataset,
    Points,
    Noise,
    TrainFraction,
    Standardize,
    Layers,
    Init,
    InitialBias,
}

impl Key {
    /// Every key, in the order a link lists them.
    const ALL: [Self; 17] = [
        Self::Seed,
        Self::LearningRate,
        Self::Decay,
        Self::BiasOffset,
        Self::Activation,
        Self::Optimizer,
        Self::Momentum,
        Self::BatchSize,
        Self::Clip,
        Self::Dataset,
        Self::Points,
        Self::Noise,
        Self::TrainFraction,
        Self::Standardize,
        Self::Layers,
        Self::Init,
        Self::InitialBias,
    ];

    /// The key as written in a link.
    fn name(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::LearningRate => "lr",
            Self::Decay => "decay",
            Self::BiasOffset => "bias",
            Self::Activation => "activation",
            Self::Optimizer => "optimizer",
            Self::Momentum => "momentum",
            Self::BatchSize => "batch",
            Self::Clip => "clip",
            Self::Dataset => "dataset",
            Self::Points => "points",
            Self::Noise => "noise",
            Self::TrainFraction => "train",
            Self::Standardize => "standardize",
            Self::Layers => "layers",
            Self::Init => "init",
            Self::InitialBias => "initial-bias",
        }
    }

    /// What a value looks like, for messages.
    fn form(self) -> &'static str {
        match self {
            Self::Seed => "a whole number such as 4",
            Self::LearningRate => "a number such as 0.03",
            Self::Decay => "none, exp:HALF_LIFE_STEPS (exp:2000) or step:EVERY_STEPS:FACTOR (step:1000:0.5)",
            Self::BiasOffset | Self::InitialBias => "a number such as -5",
            Self::Activation => "an activation such as relu, leaky-relu:0.1 or elu:1",
            Self::Optimizer => "sgd, momentum or adam",
            Self::Momentum => "a number from 0 to below 1, such as 0.9",
            Self::BatchSize | Self::Points => "a whole number",
            Self::Clip => "off or a gradient norm such as 1",
            Self::Dataset => "circle, xor, gaussians, spiral, moons, abs, sine or step",
            Self::Noise => "a number from 0 to 0.5",
            Self::TrainFraction => "the training share, from 0.1 to 0.9",
            Self::Standardize => "true or false",
            Self::Layers => "hidden layer widths separated by commas, such as 8,8",
            Self::Init => "he-normal, he-uniform, xavier-uniform, uniform or rai",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.name() == name)
    }

    /// This setting's value in `config`, as a link writes it.
    fn value_in(self, config: &RunConfig) -> String {
        let (data, network, training) = (&config.data, &config.network, &config.training);
        match self {
            Self::Seed => config.seed.to_string(),
            Self::LearningRate => training.learning_rate.to_string(),
            Self::Decay => match training.decay {
                Decay::None => "none".to_owned(),
                Decay::Exponential { half_life_steps } => format!("exp:{half_life_steps}"),
                Decay::Step { every_steps, factor } => format!("step:{every_steps}:{factor}"),
            },
            Self::BiasOffset => network.bias_offset.to_string(),
            Self::Activation => match network.activation_parameter {
                Some(parameter) => format!("{}:{parameter}", network.activation.key()),
                None => network.activation.key().to_owned(),
            },
            Self::Optimizer => optimizer_key(training.optimizer).to_owned(),
            Self::Momentum => training.momentum.to_string(),
            Self::BatchSize => training.batch_size.to_string(),
            Self::Clip => training.clip_gradient_norm.map_or_else(|| "off".to_owned(), |norm| norm.to_string()),
            Self::Dataset => data.dataset.key().to_owned(),
            Self::Points => data.points.to_string(),
            Self::Noise => data.noise.to_string(),
            Self::TrainFraction => data.train_fraction.to_string(),
            Self::Standardize => data.standardize.to_string(),
            Self::Layers => network.hidden_layers.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            Self::Init => network.init.key().to_owned(),
            Self::InitialBias => network.initial_bias.to_string(),
        }
    }

    /// Reads `value` and puts it in `config`; `Err` says why it cannot be read (whether it is
    /// in range is the config's own check, made by the caller).
    fn set_in(self, config: &mut RunConfig, value: &str) -> Result<(), ()> {
        let (data, network, training) = (&mut config.data, &mut config.network, &mut config.training);
        match self {
            Self::Seed => config.seed = value.parse().map_err(drop)?,
            Self::LearningRate => training.learning_rate = number(value)?,
            Self::Decay => training.decay = decay(value)?,
            Self::BiasOffset => network.bias_offset = number(value)?,
            Self::Activation => {
                let (kind, parameter) = match value.split_once(':') {
                    Some((kind, parameter)) => (kind, Some(number(parameter)?)),
                    None => (value, None),
                };
                network.activation = ActivationKind::from_key(kind).ok_or(())?;
                network.activation_parameter = parameter;
            }
            Self::Optimizer => {
                training.optimizer = [OptimizerName::Sgd, OptimizerName::Momentum, OptimizerName::Adam]
                    .into_iter()
                    .find(|&name| optimizer_key(name) == value)
                    .ok_or(())?;
            }
            Self::Momentum => training.momentum = number(value)?,
            Self::BatchSize => training.batch_size = value.parse().map_err(drop)?,
            Self::Clip => training.clip_gradient_norm = if value == "off" { None } else { Some(number(value)?) },
            Self::Dataset => data.dataset = DatasetKind::ALL.into_iter().find(|kind| kind.key() == value).ok_or(())?,
            Self::Points => data.points = value.parse().map_err(drop)?,
            Self::Noise => data.noise = number(value)?,
            Self::TrainFraction => data.train_fraction = number(value)?,
            Self::Standardize => data.standardize = value.parse().map_err(drop)?,
            Self::Layers => {
                network.hidden_layers =
                    value.split(',').map(|width| width.trim().parse()).collect::<Result<_, _>>().map_err(drop)?;
            }
            Self::Init => network.init = Init::from_key(value).ok_or(())?,
            Self::InitialBias => network.initial_bias = number(value)?,
        }
        Ok(())
    }
}

/// A finite number.
fn number(text: &str) -> Result<f64, ()> {
    text.trim().parse::<f64>().ok().filter(|value| value.is_finite()).ok_or(())
}

/// `none`, `exp:HALF_LIFE` or `step:EVERY:FACTOR`.
fn decay(text: &str) -> Result<Decay, ()> {
    let mut parts = text.split(':');
    let decay = match (parts.next(), parts.next(), parts.next()) {
        (Some("none"), None, None) => Decay::None,
        (Some("exp"), Some(half_life), None) => Decay::Exponential { half_life_steps: number(half_life)? },
        (Some("step"), Some(every), Some(factor)) => {
            Decay::Step { every_steps: every.parse().map_err(drop)?, factor: number(factor)? }
        }
        _ => return Err(()),
    };
    if parts.next().is_some() {
        return Err(());
    }
    Ok(decay)
}

fn optimizer_key(name: OptimizerName) -> &'static str {
    match name {
        OptimizerName::Sgd => "sgd",
        OptimizerName::Momentum => "momentum",
        OptimizerName::Adam => "adam",
    }
}

/// Something in a link that was left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkProblem {
    /// The part of the link, as written (`lr=abc`).
    pub part: String,
    /// Why it was left out, in words.
    pub reason: String,
}

impl fmt::Display for LinkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "“{}” {}", self.part, self.reason)
    }
}

/// A link read: the lesson and the settings in it, in the order written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareLink {
    /// The lesson's number, from 1, if the link names one.
    pub lesson_number: Option<usize>,
    /// `(key, value)` pairs, each key known and at most once, values not yet checked against
    /// a config (see [`ShareLink::apply`]).
    settings: Vec<(Key, String)>,
}

/// A link read from text: what could be read, and what could not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedLink {
    /// The lesson and settings that could be read.
    pub link: ShareLink,
    /// Each part that was left out, and why.
    pub problems: Vec<LinkProblem>,
}

/// Why a link cannot be opened at all (a link's own problems never stop it: they are listed
/// in [`OpenedLink::problems`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// There is no lesson to open.
    #[error("there are no lessons to open")]
    NoLessons,
    /// The lesson's preset is unknown or broken.
    #[error("lesson {0:?} names an unknown or broken preset")]
    BrokenPreset(String),
}

/// A link resolved against the lessons: the lesson to open and the config to start on.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenedLink {
    /// The lesson, from 0.
    pub lesson_index: usize,
    /// The lesson's preset with the link's settings in place.
    pub config: RunConfig,
    /// Each part of the link that was left out, and why.
    pub problems: Vec<LinkProblem>,
    /// The link named a lesson that does not exist, so the first one stands in for it.
    pub is_lesson_replaced: bool,
}

impl OpenedLink {
    /// The problems in one sentence for the user who sees the link opened, if there are any.
    pub fn problems_text(&self) -> Option<String> {
        let mut text = problems_sentence(&self.problems)?;
        if self.is_lesson_replaced {
            text.push_str(" Lesson 1 is open instead.");
        }
        Some(text)
    }
}

/// The problems of a link in one sentence, if there are any.
pub fn problems_sentence(problems: &[LinkProblem]) -> Option<String> {
    if problems.is_empty() {
        return None;
    }
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    Some(format!("Part of the link was left out: {}.", listed.join("; ")))
}

/// Reads a link: a bare fragment (`lesson=2&lr=3`), one with its `#`, or a whole address
/// (everything after the first `#`). Never fails: what cannot be read is in
/// [`ParsedLink::problems`].
pub fn parse(text: &str) -> ParsedLink {
    let mut parsed = ParsedLink::default();
    let text = text.trim();
    let fragment = match text.split_once('#') {
        Some((before, fragment)) => {
            // Before the `#` is an address; settings there would be silently dropped.
            if !before.contains("://") && before.contains('=') {
                parsed.problems.push(LinkProblem {
                    part: shorten(before),
                    reason: "comes before the # and was not read: a link's settings all go after one #, \
                             joined by & (such as lesson=2&lr=3)"
                        .to_owned(),
                });
            }
            fragment
        }
        None if text.contains("://") => {
            parsed.problems.push(LinkProblem {
                part: shorten(text),
                reason: "is an address without a # part: it names no lesson or setting".to_owned(),
            });
            return parsed;
        }
        None => text,
    };
    if fragment.len() > MAX_LINK_BYTES {
        parsed.problems.push(LinkProblem {
            part: shorten(fragment),
            reason: format!("is longer than {MAX_LINK_BYTES} bytes, so none of it was read"),
        });
        return parsed;
    }
    for part in fragment.split('&').filter(|part| !part.trim().is_empty()) {
        if let Err(reason) = parsed.link.read_part(part) {
            parsed.problems.push(LinkProblem { part: shorten(part), reason });
        }
    }
    parsed
}

/// At most 60 characters of `text`, for a message.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() <= LIMIT {
        return text.to_owned();
    }
    format!("{}…", text.chars().take(LIMIT).collect::<String>())
}

/// Undoes `%XX` escapes (browsers escape some characters of an address); `None` if an escape
/// is broken or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = bytes.get(at + 1..at + 3)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            decoded.push(value);
            at += 3;
        } else {
            decoded.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

impl ShareLink {
    /// The link from lesson number `lesson_number` (from 1) and its preset `base` to the
    /// settings of `current`: the lesson and every setting that differs.
    pub fn between(lesson_number: usize, base: &RunConfig, current: &RunConfig) -> Self {
        let settings = Key::ALL
            .into_iter()
            .filter_map(|key| {
                let value = key.value_in(current);
                (value != key.value_in(base)).then_some((key, value))
            })
            .collect();
        Self { lesson_number: Some(lesson_number), settings }
    }

    /// The link as text, without the `#`: `lesson=2&lr=3`.
    pub fn to_fragment(&self) -> String {
        let lesson = self.lesson_number.map(|number| format!("{LESSON_KEY}={number}"));
        let settings = self.settings.iter().map(|(key, value)| format!("{}={value}", key.name()));
        lesson.into_iter().chain(settings).collect::<Vec<_>>().join("&")
    }

    /// Whether the link names nothing.
    pub fn is_empty(&self) -> bool {
        self.lesson_number.is_none() && self.settings.is_empty()
    }

    /// Puts each setting in `config`, in the order written, checking the config after each:
    /// a setting that does not read, or that the config refuses (out of range, or at odds with
    /// a setting before it), is left out and reported.
    pub fn apply(&self, config: &mut RunConfig) -> Vec<LinkProblem> {
        let mut problems = Vec::new();
        for (key, value) in &self.settings {
            let mut next = config.clone();
            let part = || shorten(&format!("{}={value}", key.name()));
            if key.set_in(&mut next, value).is_err() {
                problems.push(LinkProblem { part: part(), reason: format!("is not {}", key.form()) });
                continue;
            }
            match next.validate() {
                Ok(()) => *config = next,
                Err(error) => problems.push(LinkProblem { part: part(), reason: format!("is refused: {error}") }),
            }
        }
        problems
    }

    /// Opens the link on `lessons`: its lesson (the first one if it names none) with its
    /// settings in place. `Err` only if there is no lesson to open at all.
    pub fn open(&self, lessons: &[Lesson]) -> Result<OpenedLink, OpenError> {
        let mut problems = Vec::new();
        let mut is_lesson_replaced = false;
        let lesson_index = match self.lesson_number {
            Some(number) if (1..=lessons.len()).contains(&number) => number - 1,
            Some(number) => {
                problems.push(LinkProblem {
                    part: format!("{LESSON_KEY}={number}"),
                    reason: format!("names no lesson (there are {}, numbered from 1)", lessons.len()),
                });
                is_lesson_replaced = true;
                0
            }
            None => 0,
        };
        let lesson = lessons.get(lesson_index).ok_or(OpenError::NoLessons)?;
        let mut config = lesson.config().ok_or_else(|| OpenError::BrokenPreset(lesson.title.clone()))?;
        problems.extend(self.apply(&mut config));
        Ok(OpenedLink { lesson_index, config, problems, is_lesson_replaced })
    }

    /// Reads one `key=value` part into this link.
    fn read_part(&mut self, part: &str) -> Result<(), String> {
        let Some((key, value)) = part.split_once('=') else {
            return Err("has no value: write key=value, such as lr=0.03".to_owned());
        };
        let (Some(key), Some(value)) = (percent_decode(key.trim()), percent_decode(value.trim())) else {
            return Err("has a broken %-escape".to_owned());
        };
        if key == LESSON_KEY {
            if self.lesson_number.is_some() {
                return Err("repeats the lesson; the first one is used".to_owned());
            }
            let number = value.parse::<usize>().ok().filter(|&number| number >= 1);
            self.lesson_number = Some(number.ok_or("is not a lesson number such as 2")?);
            return Ok(());
        }
        let Some(key) = Key::from_name(&key) else {
            let known: Vec<&str> = std::iter::once(LESSON_KEY).chain(Key::ALL.map(Key::name)).collect();
            return Err(format!("is not a setting; the known ones are {}", known.join(", ")));
        };
        if self.settings.iter().any(|(seen, _)| *seen == key) {
            return Err(format!("repeats {}; the first one is used", key.name()));
        }
        self.settings.push((key, value));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::lessons::load_lessons;
    use crate::train::presets;

    fn preset(name: &str) -> RunConfig {
        presets::find(name).unwrap().config().unwrap()
    }

    #[test]
    fn the_issues_example_reads_back_as_written() {
        let parsed = parse("#lesson=2&lr=3&activation=leaky-relu:0.1&seed=4");
        assert_eq!(parsed.problems, []);
        assert_eq!(parsed.link.lesson_number, Some(2));
        let mut config = preset("high-learning-rate");
        assert_eq!(parsed.link.apply(&mut config), []);
        assert_eq!(config.training.learning_rate, 3.0);
        assert_eq!(config.network.activation, ActivationKind::LeakyRelu);
        assert_eq!(config.network.activation_parameter, Some(0.1));
        assert_eq!(config.seed, 4);
    }

    #[test]
    fn a_link_names_only_what_differs_and_round_trips() {
        let base = preset("healthy-relu");
        let mut current = base.clone();
        assert_eq!(ShareLink::between(1, &base, &current).to_fragment(), "lesson=1");
        current.training.learning_rate = 0.3;
        current.training.decay = Decay::Step { every_steps: 1500, factor: 0.5 };
        current.training.clip_gradient_norm = Some(1.0);
        current.network.activation = ActivationKind::Elu;
        current.network.activation_parameter = Some(1.5);
        current.network.hidden_layers = vec![4, 5, 6];
        current.network.bias_offset = -0.25;
        current.data.dataset = DatasetKind::Spiral;
        current.data.noise = 0.2;
        current.seed = 77;
        let fragment = ShareLink::between(3, &base, &current).to_fragment();
        assert_eq!(
            fragment,
            "lesson=3&seed=77&lr=0.3&decay=step:1500:0.5&bias=-0.25&activation=elu:1.5&clip=1\
             &dataset=spiral&noise=0.2&layers=4,5,6"
        );
        let parsed = parse(&fragment);
        assert_eq!(parsed.problems, []);
        let mut restored = base.clone();
        assert_eq!(parsed.link.apply(&mut restored), []);
        assert_eq!(restored, current, "every setting comes back, bit for bit");
    }

    #[test]
    fn every_key_round_trips_through_text() {
        let base = RunConfig::default();
        let mut current = base.clone();
        current.seed = u64::MAX;
        current.training.learning_rate = 1.0 / 3.0;
        current.training.decay = Decay::Exponential { half_life_steps: 2000.5 };
        current.training.optimizer = OptimizerName::Momentum;
        current.training.momentum = 0.75;
        current.training.batch_size = 32;
        current.data.points = 1000;
        current.data.train_fraction = 0.7;
        current.data.standardize = true;
        current.network.init = Init::Rai;
        current.network.initial_bias = -5.0;
        let link = ShareLink::between(2, &base, &current);
        let mut restored = base;
        assert_eq!(parse(&link.to_fragment()).link.apply(&mut restored), []);
        assert_eq!(restored, current);
    }

    #[test]
    fn a_whole_address_and_escapes_are_read() {
        let parsed = parse("https://example.org/relu-lab/index.html#lesson=4&activation=leaky%2Drelu%3A0.2");
        assert_eq!(parsed.problems, []);
        let mut config = RunConfig::default();
        assert_eq!(parsed.link.apply(&mut config), []);
        assert_eq!(config.network.activation_parameter, Some(0.2));
        assert_eq!(parsed.link.lesson_number, Some(4));
    }

    #[test]
    fn bad_parts_are_reported_one_by_one_and_the_good_ones_kept() {
        let parsed = parse("lesson=2&lr=abc&colour=red&lr=1&seed=5&oops&activation=swish&bias=%zz");
        let parts: Vec<&str> = parsed.problems.iter().map(|problem| problem.part.as_str()).collect();
        assert_eq!(parts, ["colour=red", "lr=1", "oops", "bias=%zz"]);
        assert!(parsed.problems[0].reason.contains("known ones are lesson, seed, lr"), "{}", parsed.problems[0]);
        assert!(parsed.problems[1].reason.contains("repeats lr"), "{}", parsed.problems[1]);
        let mut config = RunConfig::default();
        let problems = parsed.link.apply(&mut config);
        let parts: Vec<&str> = problems.iter().map(|problem| problem.part.as_str()).collect();
        assert_eq!(parts, ["lr=abc", "activation=swish"]);
        assert!(problems[0].reason.contains("a number such as 0.03"), "{}", problems[0]);
        assert_eq!(config.seed, 5, "the good part is kept");
        assert_eq!(config.training.learning_rate, RunConfig::default().training.learning_rate);
    }

    #[test]
    fn values_the_config_refuses_are_left_out_with_its_reason() {
        let mut config = RunConfig::default();
        let problems = parse("lr=1000&activation=relu:0.5&layers=8,0&noise=NaN&lr=0.1").link.apply(&mut config);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].reason.contains("training.learning_rate"), "{}", problems[0]);
        assert!(problems[1].reason.contains("takes no parameter"), "{}", problems[1]);
        assert!(problems[2].reason.contains("every width must be from 1"), "{}", problems[2]);
        assert!(problems[3].reason.contains("a number from 0 to 0.5"), "{}", problems[3]);
        assert_eq!(config, RunConfig::default(), "nothing refused got in");
    }

    #[test]
    fn nonsense_never_panics() {
        for text in ["", "#", "&&&", "=", "==", "lesson=", "lesson=0", "lesson=-1", "%", "%f", "é=ü", "https://x.org/"]
        {
            let parsed = parse(text);
            let mut config = RunConfig::default();
            let _ = parsed.link.apply(&mut config);
            config.validate().unwrap();
        }
        let long = "seed=1&".repeat(1000);
        assert_eq!(parse(&long).problems.len(), 1);
        assert!(parse("https://x.org/").problems[0].reason.contains("without a #"));
    }

    #[test]
    fn opening_resolves_the_lesson_and_falls_back_to_the_first() {
        let lessons = load_lessons().unwrap();
        let opened = parse("lesson=2&lr=3").link.open(&lessons).unwrap();
        assert_eq!(opened.lesson_index, 1);
        assert_eq!(opened.config.training.learning_rate, 3.0);
        assert_eq!(opened.config.data, lessons[1].config().unwrap().data);
        assert_eq!(opened.problems_text(), None);
        let opened = parse("lesson=99").link.open(&lessons).unwrap();
        assert_eq!(opened.lesson_index, 0);
        let text = opened.problems_text().unwrap();
        assert!(text.contains("“lesson=99” names no lesson"), "{text}");
        assert!(text.ends_with("Lesson 1 is open instead."), "{text}");
        // The problem alone (what a refusal to open prints) does not claim anything was opened.
        assert!(!opened.problems[0].to_string().contains("open instead"), "{}", opened.problems[0]);
    }

    #[test]
    fn settings_before_the_hash_are_reported_not_dropped() {
        let parsed = parse("lesson=2#lr=3");
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
        assert_eq!(parsed.problems[0].part, "lesson=2");
        assert!(parsed.problems[0].reason.contains("before the #"), "{}", parsed.problems[0]);
        assert!(parse("https://example.org/relu-lab/#lesson=2").problems.is_empty());
        assert!(parse("#lesson=2").problems.is_empty());
    }
}

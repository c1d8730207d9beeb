//! Figures measured on one network, and their summary over seeds: one type, one median and one
//! way of writing each figure, for the lessons, the seeds view, `compare` and the command
//! line's summaries, so that the same runs always read the same.

use serde::Deserialize;

use super::evaluation::Evaluation;
use super::session::Session;
use crate::nn::born_dead::is_network_born_dead_on;
use crate::nn::{NetworkDiagnostics, NeuronState};

/// A figure measured per network.
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
    /// Layer 1's gradient norm over the last hidden layer's, at that moment (undefined when the
    /// last layer's is 0).
    GradientRatio,
    /// The run diverged (a yes/no figure: summaries count the seeds).
    Diverged,
    /// Some hidden layer is dead on every training input (yes/no).
    Collapsed,
    /// Some hidden layer is zero on the whole input domain, by the exact check (yes/no; 1-input
    /// ReLU networks only).
    BornDead,
}

impl Figure {
    /// Every figure, in the order tables list them.
    pub const ALL: [Self; 10] = [
        Self::Dead,
        Self::AllNegative,
        Self::Revived,
        Self::ZeroOutputs,
        Self::Collapsed,
        Self::Diverged,
        Self::TestAccuracy,
        Self::TrainLoss,
        Self::GradientRatio,
        Self::BornDead,
    ];

    /// The figure's key in lesson texts and the measurement file ("dead", "test-accuracy").
    pub fn key(self) -> &'static str {
        match self {
            Self::Dead => "dead",
            Self::AllNegative => "all-negative",
            Self::Revived => "revived",
            Self::ZeroOutputs => "zero-outputs",
            Self::TestAccuracy => "test-accuracy",
            Self::TrainLoss => "train-loss",
            Self::GradientRatio => "gradient-ratio",
            Self::Diverged => "diverged",
            Self::Collapsed => "collapsed",
            Self::BornDead => "born-dead",
        }
    }

    /// The figure a key names.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|figure| figure.key() == key)
    }

    /// Whether this figure is a yes/no per network.
    pub fn is_yes_no(self) -> bool {
        matches!(self, Self::Diverged | Self::Collapsed | Self::BornDead)
    }

    /// Whether this figure counts neurons (a whole number per network).
    pub fn is_count(self) -> bool {
        matches!(self, Self::Dead | Self::AllNegative | Self::Revived)
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
        }
    }

    /// A value of this figure as text reads it: counts as whole numbers (a median between two
    /// counts ends in .5), percentages to one decimal without a trailing ".0" ("99.2%",
    /// "100%"), the loss and the gradient ratio to three significant digits ("2.26e-5").
    pub fn format(self, value: f64) -> String {
        match self {
            Self::Dead | Self::AllNegative | Self::Revived | Self::Diverged | Self::Collapsed | Self::BornDead => {
                format_count(value)
            }
            Self::ZeroOutputs | Self::TestAccuracy => format!("{}%", format_percent(value)),
            Self::TrainLoss => format_significant(value),
            Self::GradientRatio => format_scientific(value),
        }
    }
}

/// A count, or a median halfway between two.
fn format_count(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// A percentage to one decimal, "100" and "56" without ".0".
fn format_percent(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

/// Three significant digits in scientific notation, trailing zeros dropped: "1.44e-5",
/// "1.1e-3".
pub fn format_scientific(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{value:.2e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    format!("{mantissa}e{exponent}")
}

/// Three significant digits: "0.0843", "0.693", and scientific below 0.001 or from 10,000
/// ("2.26e-5").
pub fn format_significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    if value.abs() < 1e-3 || value.abs() >= 1e4 {
        return format_scientific(value);
    }
    let digits = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

/// One network's figures at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
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
    /// See [`Figure::TestAccuracy`] (classification only).
    pub test_accuracy: Option<f64>,
    /// See [`Figure::TrainLoss`].
    pub train_loss: f64,
    /// See [`Figure::GradientRatio`] (`None` where undefined).
    pub gradient_ratio: Option<f64>,
    /// See [`Figure::Diverged`].
    pub diverged: bool,
    /// See [`Figure::Collapsed`].
    pub collapsed: bool,
    /// See [`Figure::BornDead`] (at step 0, for 1-input ReLU networks).
    pub born_dead: Option<bool>,
}

impl Figures {
    /// Measures `session` now (the exact born-dead check only at step 0).
    pub fn measure(session: &mut Session) -> Self {
        let evaluation = session.evaluate();
        let born_dead = if evaluation.step == 0 { born_dead_on_its_domain(session) } else { None };
        Self::from_evaluation(&evaluation, session.divergence().is_some(), born_dead)
    }

    /// The figures of an evaluation (a snapshot carries one).
    pub fn from_evaluation(evaluation: &Evaluation, diverged: bool, born_dead: Option<bool>) -> Self {
        let diagnostics = &evaluation.diagnostics;
        let norms: Vec<f64> = diagnostics.layers.iter().map(|layer| layer.gradient_norm).collect();
        let gradient_ratio = match (norms.first(), norms.last()) {
            (Some(&first), Some(&last)) if last > 0.0 && first.is_finite() => Some(first / last),
            _ => None,
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
            diverged,
            collapsed: diagnostics.is_collapsed,
            born_dead,
        }
    }

    /// `figure` as a number (yes/no as 1 or 0), if it applies and is a number (a diverged
    /// network's loss is not: it is left out, not counted as a value).
    pub fn value(&self, figure: Figure) -> Option<f64> {
        self.raw_value(figure).filter(|value| value.is_finite())
    }

    fn raw_value(&self, figure: Figure) -> Option<f64> {
        let yes_no = |flag: bool| Some(if flag { 1.0 } else { 0.0 });
        match figure {
            Figure::Dead => Some(self.dead as f64),
            Figure::AllNegative => Some(self.all_negative as f64),
            Figure::Revived => Some(self.revived as f64),
            Figure::ZeroOutputs => Some(self.zero_outputs),
            Figure::TestAccuracy => self.test_accuracy,
            Figure::TrainLoss => Some(self.train_loss),
            Figure::GradientRatio => self.gradient_ratio,
            Figure::Diverged => yes_no(self.diverged),
            Figure::Collapsed => yes_no(self.collapsed),
            Figure::BornDead => self.born_dead.and_then(yes_no),
        }
    }
}

/// Whether the session's network is born dead on the inputs it trains on: the exact check over
/// the dataset's domain as the network sees it (standardized, when the inputs are). `None`
/// where the check does not apply (not one input, not ReLU).
pub fn born_dead_on_its_domain(session: &Session) -> Option<bool> {
    let data = session.data();
    let extent = f64::from(data.kind.extent());
    let domain = match &data.scaling {
        Some(scaling) => {
            let (mean, std) = (f64::from(*scaling.mean.first()?), f64::from(*scaling.std.first()?));
            ((-extent - mean) / std, (extent - mean) / std)
        }
        None => (-extent, extent),
    };
    is_network_born_dead_on(session.network(), domain)
}

/// The mean share of training inputs on which a hidden neuron is not active, in percent.
fn zero_output_percent(diagnostics: &NetworkDiagnostics) -> f64 {
    let neurons = diagnostics.layers.iter().flat_map(|layer| &layer.neurons);
    let (count, inactive) = neurons
        .fold((0_usize, 0.0_f64), |(count, sum), stats| (count + 1, sum + 1.0 - f64::from(stats.fraction_active)));
    if count == 0 { 0.0 } else { 100.0 * inactive / count as f64 }
}

/// A figure over seeds: min, median and max, or how many say yes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// What it summarizes.
    pub figure: Figure,
    /// The smallest value.
    pub min: f64,
    /// The median: the middle value, or the mean of the middle two for an even count.
    pub median: f64,
    /// The largest value.
    pub max: f64,
    /// Networks with a yes (for yes/no figures), or with a value.
    pub count: usize,
    /// Networks with a value (where it is undefined, a network has none).
    pub seeds: usize,
}

impl Summary {
    /// The summary of `figure` over `figures`, if any network has a value.
    pub fn of<'a>(figure: Figure, figures: impl IntoIterator<Item = &'a Figures>) -> Option<Self> {
        Self::of_values(figure, figures.into_iter().filter_map(|figures| figures.value(figure)).collect())
    }

    /// The summary of `figure` over `values`, if there are any.
    pub fn of_values(figure: Figure, mut values: Vec<f64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 { values[n / 2] } else { f64::midpoint(values[n / 2 - 1], values[n / 2]) };
        let count = if figure.is_yes_no() { values.iter().filter(|&&v| v > 0.5).count() } else { n };
        Some(Self { figure, min: values[0], median, max: values[n - 1], count, seeds: n })
    }

    /// "7 to 10" (or "7" when all agree); yes/no figures: "9 of 10".
    pub fn range_text(&self) -> String {
        if self.figure.is_yes_no() {
            return format!("{} of {}", self.count, self.seeds);
        }
        let (min, max) = (self.figure.format(self.min), self.figure.format(self.max));
        if min == max { min } else { format!("{min} to {max}") }
    }

    /// The median as text reads it.
    pub fn median_text(&self) -> String {
        self.figure.format(self.median)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_sentences_write_them() {
        assert_eq!(Figure::Dead.format(7.0), "7");
        assert_eq!(Figure::Dead.format(8.5), "8.5");
        assert_eq!(Figure::TestAccuracy.format(99.2), "99.2%");
        assert_eq!(Figure::TestAccuracy.format(100.0), "100%");
        assert_eq!(Figure::TestAccuracy.format(56.0), "56%");
        assert_eq!(Figure::TrainLoss.format(2.26e-5), "2.26e-5");
        assert_eq!(Figure::GradientRatio.format(0.0011), "1.1e-3");
        assert_eq!(Figure::TrainLoss.format(0.0843), "0.0843");
        assert_eq!(Figure::TrainLoss.format(0.6925), "0.693");
    }

    /// One ReLU neuron `x - 1.2` is zero on all of [-1, 1], but not on the standardized domain
    /// of |x|'s inputs (about ±1.73): "born dead" is decided on the inputs the network sees.
    #[test]
    fn born_dead_is_checked_on_the_domain_the_network_sees() {
        use crate::nn::{Activation, Init, Mlp};
        use crate::train::{RunConfig, Session, presets};
        use rand::SeedableRng;
        let mut config: RunConfig = presets::find("deep-narrow-he").unwrap().config().unwrap();
        config.network.hidden_layers = vec![1];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut mlp = Mlp::new(&[1, 1, 1], Activation::Relu, Init::HeNormal, 0.0, &mut rng);
        mlp.layers[0].weights[[0, 0]] = 1.0;
        mlp.layers[0].biases[0] = -1.2;
        let raw = Session::with_network(config.clone(), mlp.clone()).unwrap();
        assert_eq!(born_dead_on_its_domain(&raw), Some(true));
        config.data.standardize = true;
        let standardized = Session::with_network(config, mlp).unwrap();
        assert_eq!(born_dead_on_its_domain(&standardized), Some(false));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_midpoint_and_undefined_values_are_left_out() {
        let summary = Summary::of_values(Figure::TestAccuracy, vec![90.0, 95.2, 91.6, 93.6]).unwrap();
        assert_eq!((summary.min, summary.median, summary.max), (90.0, 92.6, 95.2));
        let with_undefined = [
            Figures { gradient_ratio: None, ..Figures::default() },
            Figures { gradient_ratio: Some(2.0), ..Figures::default() },
        ];
        let summary = Summary::of(Figure::GradientRatio, &with_undefined).unwrap();
        assert_eq!((summary.min, summary.seeds), (2.0, 1), "an undefined ratio is no 0");
        assert_eq!(Summary::of_values(Figure::Collapsed, vec![1.0, 0.0, 1.0]).unwrap().range_text(), "2 of 3");
    }
}

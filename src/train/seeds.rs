//! The seeds view's content: K seeds of one config as an [`Ensemble`] draws them, each a run
//! of its own (exactly what `relu-lab run --seed S` makes), optionally each forked into A and B.
//! The story's claims are probabilities ("7 to 10 of 16 die", "born dead 57% of the time under
//! He"); one run cannot show them, ten side by side can. The summary uses the same figures,
//! median and rounding as `relu-lab lessons`.

use std::fmt::Write as _;
use std::sync::Arc;

use super::config::RunConfig;
use super::ensemble::{Branch, Ensemble};
use super::figures::{Figure, Figures, Summary, born_dead_on_its_domain};
use super::snapshot::{ShownNeurons, Snapshot, Snapshotter};
use crate::nn::born_dead::{BornDeadEstimate, estimate};

/// The most seeds the view runs at once.
pub const MAX_SEEDS: usize = 32;
/// The seeds the view runs unless told otherwise.
pub const DEFAULT_SEEDS: usize = 10;
/// The first seed of the view: seeds 1, 2, … as `relu-lab lessons --seeds 1-10` and the
/// lessons' figures count them.
pub const FIRST_SEED: u64 = 1;
/// The grid of each small network's tiles, points per side.
pub const LANE_GRID_RESOLUTION: usize = 20;
/// The most tiles of one layer a seed card shows (a wider layer shows its first ones).
pub const LANE_TILES_PER_LAYER: usize = 16;
/// Networks drawn for the Monte-Carlo born-dead probability (as `relu-lab born-dead`).
const BORN_DEAD_TRIALS: u64 = 10_000;
/// The seed of the Monte-Carlo estimate (as `relu-lab born-dead`'s default).
const BORN_DEAD_SEED: u64 = 1;

/// What the seeds view keeps besides the ensemble: each lane's snapshotters and born-dead
/// verdicts, and the Monte-Carlo estimates for A's and B's builds.
#[derive(Debug, Default)]
pub struct SeedsState {
    snapshotters: Vec<(Snapshotter, Snapshotter)>,
    /// Per lane, born dead at step 0 by the exact check, for A and for a B built at step 0.
    born_dead: Vec<(Option<bool>, Option<bool>)>,
    estimates: (Option<BornDeadEstimate>, Option<BornDeadEstimate>),
}

impl SeedsState {
    /// The state for `ensemble`, at its step 0 (B, if it forked at step 0, counts as born then).
    pub fn new(ensemble: &Ensemble) -> Self {
        let born_dead: Vec<(Option<bool>, Option<bool>)> = ensemble
            .lanes()
            .iter()
            .map(|lane| {
                let at_start = |session: &super::Session| {
                    if session.step_count() == 0 { born_dead_on_its_domain(session) } else { None }
                };
                (at_start(lane.a()), lane.b().and_then(at_start))
            })
            .collect();
        let first = ensemble.first();
        let a_estimate = born_dead[0].0.and_then(|_| estimate_for(first.a().config()));
        let b_estimate = born_dead[0].1.zip(first.b()).and_then(|(_, b)| estimate_for(b.config()));
        Self { snapshotters: Vec::new(), born_dead, estimates: (a_estimate, b_estimate) }
    }

    /// Takes note of B built at step 0 after the view opened (a fork planned for step 0).
    pub fn note_fork(&mut self, ensemble: &Ensemble) {
        for (lane, born) in ensemble.lanes().iter().zip(&mut self.born_dead) {
            if born.1.is_none()
                && let Some(b) = lane.b().filter(|b| b.step_count() == 0)
            {
                born.1 = born_dead_on_its_domain(b);
            }
        }
        if self.estimates.1.is_none()
            && self.born_dead.first().is_some_and(|born| born.1.is_some())
            && let Some(b) = ensemble.first().b()
        {
            self.estimates.1 = estimate_for(b.config());
        }
    }

    /// What every lane of `ensemble` looks like now, and the summary. Evaluates every lane.
    pub fn view(&mut self, ensemble: &mut Ensemble) -> SeedsView {
        self.note_fork(ensemble);
        let count = ensemble.lanes().len();
        self.snapshotters.resize_with(count, || (lane_snapshotter(), lane_snapshotter()));
        let step = ensemble.step_count();
        let fork_step = ensemble.fork_step();
        let mut lanes = Vec::with_capacity(count);
        for index in 0..count {
            let Some(lane) = ensemble.lane_mut(index) else { continue };
            let seed = lane.seed();
            let (a_snapshotter, b_snapshotter) = &mut self.snapshotters[index];
            let mut snapshot = |branch: Branch, snapshotter: &mut Snapshotter| {
                let session = lane.session_mut(branch)?;
                let evaluation = snapshotter.evaluate(session);
                Some(Arc::new(snapshotter.snapshot(session, &evaluation)))
            };
            let a = snapshot(Branch::A, a_snapshotter).expect("every lane has its A");
            let b = snapshot(Branch::B, b_snapshotter);
            let (born_dead_a, born_dead_b) = self.born_dead.get(index).copied().unwrap_or_default();
            lanes.push(LaneView { seed, a, b, born_dead_a, born_dead_b });
        }
        let summary = summarize(&lanes, self.estimates);
        SeedsView { step, lanes, summary, fork_step }
    }
}

/// `relu-lab born-dead`'s estimate for the build in `config`, if its hidden layers share a width.
/// A seed card's snapshotter: a coarse grid, and at most [`LANE_TILES_PER_LAYER`] tiles a layer.
fn lane_snapshotter() -> Snapshotter {
    let mut snapshotter = Snapshotter::new(LANE_GRID_RESOLUTION);
    snapshotter.set_shown(ShownNeurons::first(LANE_TILES_PER_LAYER));
    snapshotter
}

fn estimate_for(config: &RunConfig) -> Option<BornDeadEstimate> {
    let network = &config.network;
    let width = *network.hidden_layers.first()?;
    if network.hidden_layers.iter().any(|&w| w != width) {
        return None;
    }
    let bias = network.initial_bias + network.bias_offset;
    Some(estimate(width, network.hidden_layers.len(), network.init, bias, BORN_DEAD_TRIALS, BORN_DEAD_SEED))
}

/// One seed as the view shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LaneView {
    /// The seed.
    pub seed: u64,
    /// Branch A (the run, before a fork).
    pub a: Arc<Snapshot>,
    /// Branch B, once forked.
    pub b: Option<Arc<Snapshot>>,
    /// A was born dead (exact check at step 0), for 1-input ReLU nets.
    pub born_dead_a: Option<bool>,
    /// B was born dead, when B was built at step 0.
    pub born_dead_b: Option<bool>,
}

/// The seeds view's content.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeedsView {
    /// The lockstep steps made.
    pub step: u64,
    /// Every seed.
    pub lanes: Vec<LaneView>,
    /// Sentences summarising all seeds (and, when forked, the paired difference).
    pub summary: Vec<String>,
    /// The step at which the lanes fork, if they do.
    pub fork_step: Option<u64>,
}

/// The figures of a lane's snapshot, as the lessons measure them.
fn figures(snapshot: &Snapshot, born_dead: Option<bool>) -> Figures {
    Figures::from_evaluation(&snapshot.evaluation, snapshot.divergence.is_some(), born_dead)
}

/// The summary sentences: collapsed networks, dead neurons per network and the test accuracy
/// over the seeds (min, median and max as `relu-lab lessons` prints them); born dead against
/// the Monte-Carlo probability; and, when forked, the paired difference.
pub fn summarize(lanes: &[LaneView], estimates: (Option<BornDeadEstimate>, Option<BornDeadEstimate>)) -> Vec<String> {
    let mut lines = Vec::new();
    let paired: Vec<(&LaneView, &Snapshot)> =
        lanes.iter().filter_map(|lane| lane.b.as_deref().map(|b| (lane, b))).collect();
    let a_figures: Vec<Figures> = lanes.iter().map(|lane| figures(&lane.a, lane.born_dead_a)).collect();
    if paired.is_empty() {
        lines.push(branch_line("", &a_figures));
    } else {
        lines.push(branch_line("A: ", &a_figures));
        let b_figures: Vec<Figures> = paired.iter().map(|(lane, b)| figures(b, lane.born_dead_b)).collect();
        lines.push(branch_line("B: ", &b_figures));
        let dead = |snapshot: &Snapshot| snapshot.count(crate::nn::NeuronState::Dead);
        let fewer = paired.iter().filter(|(lane, b)| dead(b) < dead(&lane.a)).count();
        let more = paired.iter().filter(|(lane, b)| dead(b) > dead(&lane.a)).count();
        let revived = paired.iter().filter(|(_, b)| b.layers.iter().map(|l| l.revived).sum::<u64>() > 0).count();
        lines.push(format!(
            "Paired: B has fewer dead neurons than A in {fewer} of {} seeds, more in {more}; B revived neurons in \
             {revived} of {} seeds",
            paired.len(),
            paired.len()
        ));
    }
    let b_born: Vec<bool> = lanes.iter().filter_map(|lane| lane.born_dead_b).collect();
    let a_born: Vec<bool> = lanes.iter().filter_map(|lane| lane.born_dead_a).collect();
    for (label, born, estimate) in [("A", a_born, estimates.0), ("B", b_born, estimates.1)] {
        if born.is_empty() {
            continue;
        }
        let count = born.iter().filter(|&&dead| dead).count();
        let label = if paired.is_empty() { String::new() } else { format!("{label}: ") };
        let mut text = format!("{label}born dead (exact check at step 0) on {count} of {} seeds", born.len());
        if let Some(estimate) = estimate {
            let _ = write!(
                text,
                " ({:.0}%); Monte Carlo over {} networks: {:.1}%",
                100.0 * count as f64 / born.len() as f64,
                estimate.trials,
                estimate.probability * 100.0
            );
        }
        lines.push(text);
    }
    lines
}

/// "A: 9 of 10 networks collapsed; dead per network 7 to 10 (median 8.5); test accuracy 45.2%
/// to 50.4% (median 49%)".
fn branch_line(label: &str, figures: &[Figures]) -> String {
    let collapsed = figures.iter().filter(|f| f.collapsed).count();
    let mut text = format!("{label}{collapsed} of {} networks collapsed", figures.len());
    for (figure, words) in [(Figure::Dead, "dead per network"), (Figure::TestAccuracy, "test accuracy")] {
        if let Some(summary) = Summary::of(figure, figures) {
            let _ = write!(text, "; {words} {} (median {})", summary.range_text(), summary.median_text());
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Init;
    use crate::train::SessionCommand;
    use crate::train::presets;

    fn preset(name: &str) -> RunConfig {
        presets::find(name).unwrap().config().unwrap()
    }

    #[test]
    fn born_dead_is_counted_per_seed_against_monte_carlo() {
        let config = preset("deep-narrow-he");
        let mut ensemble = Ensemble::seeds(&config, 1..=10).unwrap();
        ensemble.fork_at(0, vec![SessionCommand::SetInit { init: Init::Rai }]).unwrap();
        let mut state = SeedsState::new(&ensemble);
        let view = state.view(&mut ensemble);
        let born_a: Vec<bool> = view.lanes.iter().map(|lane| lane.born_dead_a.unwrap()).collect();
        // The preset's own exact figure: born dead on seeds 2, 4 and 6-10.
        assert_eq!(born_a, [false, true, false, true, false, true, true, true, true, true]);
        assert!(view.lanes.iter().all(|lane| lane.born_dead_b.is_some()));
        let text = view.summary.join("\n");
        assert!(text.contains("A: born dead (exact check at step 0) on 7 of 10 seeds (70%)"), "{text}");
        assert!(text.contains("Monte Carlo over 10000 networks: 57.7%"), "{text}");
    }
}

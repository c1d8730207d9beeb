//! Ten seeds at once: the same config on K seeds (each a run of its own, exactly what `relu-lab
//! run --seed S` makes), trained in lockstep, optionally each forked into A and B at the same
//! step with the same change. The story's claims are probabilities ("7 to 10 of 16 die", "born
//! dead 57% of the time under He"); one run cannot show them, ten side by side can.
//!
//! Lanes are independent between commands, so a round of steps runs them on as many threads as
//! the machine has (none on the web); the numbers never depend on it.

use std::fmt::Write as _;
use std::sync::Arc;

use super::command::SessionCommand;
use super::compare::{Branch, Fork, Target};
use super::config::RunConfig;
use super::session::Session;
use super::snapshot::{Snapshot, Snapshotter};
use crate::nn::NeuronState;
use crate::nn::born_dead::{BornDeadEstimate, estimate, is_network_born_dead};

/// The most seeds the view runs at once.
pub const MAX_SEEDS: usize = 32;
/// The seeds the view runs unless told otherwise.
pub const DEFAULT_SEEDS: usize = 10;
/// The first seed of the view: seeds 1, 2, … as `relu-lab lessons --seeds 1-10` and the
/// lessons' figures count them.
pub const FIRST_SEED: u64 = 1;
/// The grid of each small network's tiles, points per side.
const LANE_GRID_RESOLUTION: usize = 20;
/// Networks drawn for the Monte-Carlo born-dead probability (as `relu-lab born-dead`).
const BORN_DEAD_TRIALS: u64 = 10_000;
/// The seed of the Monte-Carlo estimate (as `relu-lab born-dead`'s default).
const BORN_DEAD_SEED: u64 = 1;

/// One seed: its run and, once forked, its branch B.
#[derive(Debug)]
pub struct Lane {
    /// The seed.
    pub seed: u64,
    /// Branch A (the run itself, before a fork).
    pub a: Session,
    /// Branch B, after the fork.
    pub fork: Option<Fork>,
    /// Born dead at step 0 by the exact check, for A and B (1-input ReLU nets only).
    born_dead: (Option<bool>, Option<bool>),
    snapshotters: (Snapshotter, Snapshotter),
}

impl Lane {
    fn new(config: &RunConfig, seed: u64) -> Result<Self, super::ConfigError> {
        let a = Session::new(RunConfig { seed, ..config.clone() })?;
        let born_dead = (is_network_born_dead(a.network()), None);
        let snapshotters = (Snapshotter::new(LANE_GRID_RESOLUTION), Snapshotter::new(LANE_GRID_RESOLUTION));
        Ok(Self { seed, a, fork: None, born_dead, snapshotters })
    }

    /// One step of each branch that has not diverged.
    fn step(&mut self) {
        if self.a.divergence().is_none() {
            self.a.step();
        }
        if let Some(fork) = &mut self.fork
            && fork.b().divergence().is_none()
        {
            fork.b_mut().step();
        }
    }

    fn fork(&mut self, changes: &[SessionCommand]) -> Result<(), super::compare::ForkError> {
        let (fork, _) = Fork::new(&self.a, changes.to_vec())?;
        if fork.point().step == 0 {
            self.born_dead.1 = is_network_born_dead(fork.b().network());
        }
        self.fork = Some(fork);
        Ok(())
    }

    fn view(&mut self) -> LaneView {
        let a_evaluation = self.a.evaluate();
        let a = Arc::new(self.snapshotters.0.snapshot(&self.a, &a_evaluation));
        let b = self.fork.as_mut().map(|fork| {
            let evaluation = fork.b_mut().evaluate();
            Arc::new(self.snapshotters.1.snapshot(fork.b(), &evaluation))
        });
        LaneView { seed: self.seed, a, b, born_dead_a: self.born_dead.0, born_dead_b: self.born_dead.1 }
    }
}

/// K seeds of one config, trained in lockstep.
#[derive(Debug)]
pub struct SeedsRun {
    lanes: Vec<Lane>,
    /// Where and how every lane forks (A's step, B's changes), if the view compares.
    fork_plan: Option<(u64, Vec<SessionCommand>)>,
    /// The Monte-Carlo born-dead probability for the lanes' A and B builds.
    born_dead_estimates: (Option<BornDeadEstimate>, Option<BornDeadEstimate>),
}

impl SeedsRun {
    /// Runs of `config` on `seeds` (at most [`MAX_SEEDS`] of them); with `fork`, each splits
    /// at A's step `fork.0` into A and B, B taking the commands `fork.1`.
    pub fn new(
        config: &RunConfig,
        seeds: std::ops::RangeInclusive<u64>,
        fork: Option<(u64, Vec<SessionCommand>)>,
    ) -> Result<Self, super::ConfigError> {
        let lanes = seeds.take(MAX_SEEDS).map(|seed| Lane::new(config, seed)).collect::<Result<Vec<_>, _>>()?;
        if lanes.is_empty() {
            return Err(super::ConfigError::Parse("the seeds view needs at least one seed".to_owned()));
        }
        let mut run = Self { lanes, fork_plan: fork, born_dead_estimates: (None, None) };
        run.fork_due_lanes();
        run.born_dead_estimates = run.estimate_born_dead();
        Ok(run)
    }

    /// The lanes.
    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// Takes lane `index` out, to go on as the main run.
    pub fn into_lane(mut self, index: usize) -> Option<Lane> {
        (index < self.lanes.len()).then(|| self.lanes.swap_remove(index))
    }

    /// A's step count (the same in every lane that has not diverged).
    pub fn step_count(&self) -> u64 {
        self.lanes.iter().map(|lane| lane.a.step_count()).max().unwrap_or(0)
    }

    /// Whether every branch of every lane has diverged (nothing is left to train).
    pub fn is_finished(&self) -> bool {
        self.lanes.iter().all(|lane| {
            lane.a.divergence().is_some() && lane.fork.as_ref().is_none_or(|fork| fork.b().divergence().is_some())
        })
    }

    /// `steps` lockstep steps of every lane, the lanes shared out over `threads` threads.
    pub fn step_all(&mut self, mut steps: u64, threads: usize) {
        self.fork_due_lanes();
        while steps > 0 {
            // A round stops at the fork, so each lane splits at exactly its step.
            let round = steps.min(self.steps_until_fork().filter(|&n| n > 0).unwrap_or(u64::MAX));
            step_lanes(&mut self.lanes, round, threads);
            self.fork_due_lanes();
            steps -= round;
        }
    }

    fn steps_until_fork(&self) -> Option<u64> {
        let (at, _) = self.fork_plan.as_ref()?;
        let pending = self.lanes.iter().filter(|lane| lane.fork.is_none()).map(|lane| lane.a.step_count());
        pending.map(|step| at.saturating_sub(step)).min()
    }

    fn fork_due_lanes(&mut self) {
        let Some((at, changes)) = &self.fork_plan else { return };
        for lane in self.lanes.iter_mut().filter(|lane| lane.fork.is_none() && lane.a.step_count() >= *at) {
            // A change the lane refuses leaves it unforked; the summary counts forked lanes only.
            let _ = lane.fork(changes);
        }
    }

    /// Applies a live command to the branches `target` names, in every lane. Commands that
    /// build a new network are refused: the view runs one build per branch.
    pub fn apply(&mut self, target: Target, command: &SessionCommand) -> Result<(), String> {
        if command.resets_network() {
            return Err("close the seeds view to build a new network".to_owned());
        }
        let mut refusals = Vec::new();
        for lane in &mut self.lanes {
            if target.reaches(Branch::A)
                && let Err(error) = lane.a.apply(command.clone())
            {
                refusals.push(format!("seed {}: {error}", lane.seed));
            }
            if target.reaches(Branch::B)
                && let Some(fork) = lane.fork.as_mut()
                && let Err(error) = fork.apply_to_b(&lane.a, command.clone())
            {
                refusals.push(format!("seed {}: {error}", lane.seed));
            }
        }
        match refusals.first() {
            None => Ok(()),
            Some(first) => Err(first.clone()),
        }
    }

    /// What every lane looks like now, and the summary.
    pub fn view(&mut self) -> SeedsView {
        let lanes: Vec<LaneView> = self.lanes.iter_mut().map(Lane::view).collect();
        let summary = summarize(&lanes, self.born_dead_estimates);
        SeedsView { lanes, summary, fork_step: self.fork_plan.as_ref().map(|(at, _)| *at) }
    }

    /// The Monte-Carlo probabilities for A's and B's builds, when the nets are the kind the
    /// exact check covers (one input, ReLU, hidden layers of one width).
    fn estimate_born_dead(&self) -> (Option<BornDeadEstimate>, Option<BornDeadEstimate>) {
        let Some(first) = self.lanes.first() else { return (None, None) };
        let a = first.born_dead.0.and_then(|_| estimate_for(first.a.config()));
        let b = first.born_dead.1.zip(first.fork.as_ref()).and_then(|(_, fork)| estimate_for(fork.b().config()));
        (a, b)
    }
}

/// `relu-lab born-dead`'s estimate for the build in `config`, if its hidden layers share a width.
fn estimate_for(config: &RunConfig) -> Option<BornDeadEstimate> {
    let network = &config.network;
    let width = *network.hidden_layers.first()?;
    if network.hidden_layers.iter().any(|&w| w != width) {
        return None;
    }
    let bias = network.initial_bias + network.bias_offset;
    Some(estimate(width, network.hidden_layers.len(), network.init, bias, BORN_DEAD_TRIALS, BORN_DEAD_SEED))
}

/// Steps every lane `steps` times, the lanes split into up to `threads` groups that run at once.
fn step_lanes(lanes: &mut [Lane], steps: u64, threads: usize) {
    let run = |group: &mut [Lane]| {
        for lane in group {
            for _ in 0..steps {
                lane.step();
            }
        }
    };
    #[cfg(not(target_arch = "wasm32"))]
    if threads > 1 && lanes.len() > 1 {
        let size = lanes.len().div_ceil(threads.min(lanes.len()));
        std::thread::scope(|scope| {
            let mut groups = lanes.chunks_mut(size);
            let first = groups.next();
            for group in groups {
                scope.spawn(move || run(group));
            }
            if let Some(group) = first {
                run(group);
            }
        });
        return;
    }
    let _ = threads;
    run(lanes);
}

/// One seed as the view shows it.
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Clone, Debug, PartialEq)]
pub struct SeedsView {
    /// Every seed.
    pub lanes: Vec<LaneView>,
    /// Sentences summarising all seeds (and, when forked, the paired difference).
    pub summary: Vec<String>,
    /// A's step at which the lanes fork, if they do.
    pub fork_step: Option<u64>,
}

/// Dead hidden neurons in a snapshot.
fn dead(snapshot: &Snapshot) -> usize {
    snapshot.count(NeuronState::Dead)
}

/// min, median and max.
fn spread(values: &mut [usize]) -> Option<(usize, usize, usize)> {
    values.sort_unstable();
    let n = values.len();
    let median = match n {
        0 => return None,
        n if n % 2 == 1 => values[n / 2],
        // The lower middle: a median that is a count, never "8.5 neurons".
        n => values[n / 2 - 1],
    };
    Some((values[0], median, values[n - 1]))
}

/// The summary sentences: collapsed networks and dead neurons per network over the seeds;
/// born dead against the Monte-Carlo probability; and, when forked, the paired difference.
pub fn summarize(lanes: &[LaneView], estimates: (Option<BornDeadEstimate>, Option<BornDeadEstimate>)) -> Vec<String> {
    let mut lines = Vec::new();
    let paired: Vec<(&Snapshot, &Snapshot)> =
        lanes.iter().filter_map(|lane| lane.b.as_deref().map(|b| (lane.a.as_ref(), b))).collect();
    let branch_line = |label: &str, snapshots: &[&Snapshot]| {
        let collapsed = snapshots.iter().filter(|s| s.is_collapsed()).count();
        let mut dead: Vec<usize> = snapshots.iter().map(|s| dead(s)).collect();
        let mut text = format!("{label}{collapsed} of {} networks collapsed", snapshots.len());
        if let Some((min, median, max)) = spread(&mut dead) {
            let _ = write!(text, "; dead per network: min {min}, median {median}, max {max}");
        }
        let mut accuracies: Vec<f64> = snapshots.iter().filter_map(|s| s.evaluation.test_accuracy).collect();
        accuracies.sort_by(f64::total_cmp);
        if let Some(median) = accuracies.get(accuracies.len().saturating_sub(1) / 2) {
            let _ = write!(text, "; median test accuracy {:.1}%", median * 100.0);
        }
        text
    };
    let a_snapshots: Vec<&Snapshot> = lanes.iter().map(|lane| lane.a.as_ref()).collect();
    if paired.is_empty() {
        lines.push(branch_line("", &a_snapshots));
    } else {
        lines.push(branch_line("A: ", &a_snapshots));
        let b_snapshots: Vec<&Snapshot> = paired.iter().map(|(_, b)| *b).collect();
        lines.push(branch_line("B: ", &b_snapshots));
        let fewer = paired.iter().filter(|(a, b)| dead(b) < dead(a)).count();
        let more = paired.iter().filter(|(a, b)| dead(b) > dead(a)).count();
        let revived = paired.iter().filter(|(_, b)| b.layers.iter().map(|l| l.revived).sum::<u64>() > 0).count();
        lines.push(format!(
            "Paired: B has fewer dead neurons than A in {fewer} of {} seeds, more in {more}; B revived neurons in \
             {revived} of {} seeds",
            paired.len(),
            paired.len()
        ));
    }
    for (label, born, estimate) in [
        ("A", lanes.iter().filter_map(|lane| lane.born_dead_a).collect::<Vec<_>>(), estimates.0),
        ("B", lanes.iter().filter_map(|lane| lane.born_dead_b).collect::<Vec<_>>(), estimates.1),
    ] {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Init};
    use crate::train::presets;

    fn preset(name: &str) -> RunConfig {
        presets::find(name).unwrap().config().unwrap()
    }

    #[test]
    fn each_seed_is_the_single_run_of_that_seed() {
        let config = preset("high-learning-rate");
        let mut seeds = SeedsRun::new(&config, 3..=6, None).unwrap();
        seeds.step_all(250, 2);
        for (k, lane) in seeds.lanes().iter().enumerate() {
            let mut single = Session::new(RunConfig { seed: 3 + k as u64, ..config.clone() }).unwrap();
            for _ in 0..250 {
                single.step();
            }
            assert_eq!(lane.seed, 3 + k as u64);
            assert_eq!(lane.a.network(), single.network(), "seed {}", lane.seed);
        }
    }

    #[test]
    fn threads_do_not_change_the_numbers() {
        let config = preset("healthy-relu");
        let leaky = vec![SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } }];
        let mut one = SeedsRun::new(&config, 1..=5, Some((40, leaky.clone()))).unwrap();
        let mut two = SeedsRun::new(&config, 1..=5, Some((40, leaky))).unwrap();
        one.step_all(100, 1);
        two.step_all(30, 2);
        two.step_all(70, 3);
        for (x, y) in one.lanes().iter().zip(two.lanes()) {
            assert_eq!(x.a.network(), y.a.network());
            let (xb, yb) = (x.fork.as_ref().unwrap(), y.fork.as_ref().unwrap());
            assert_eq!(xb.point().step, 40);
            assert_eq!(xb.b().network(), yb.b().network());
            assert_eq!(xb.b().step_count(), 100, "B counts on from A's step");
        }
    }

    #[test]
    fn born_dead_is_counted_per_seed_against_monte_carlo() {
        let config = preset("deep-narrow-he");
        let rai = vec![SessionCommand::SetInit { init: Init::Rai }];
        let mut seeds = SeedsRun::new(&config, 1..=10, Some((0, rai))).unwrap();
        let view = seeds.view();
        let born_a: Vec<bool> = view.lanes.iter().map(|lane| lane.born_dead_a.unwrap()).collect();
        // The preset's own exact figure: born dead on seeds 2, 4 and 6-10.
        assert_eq!(born_a, [false, true, false, true, false, true, true, true, true, true]);
        assert!(view.lanes.iter().all(|lane| lane.born_dead_b.is_some()));
        let text = view.summary.join("\n");
        assert!(text.contains("A: born dead (exact check at step 0) on 7 of 10 seeds (70%)"), "{text}");
        assert!(text.contains("Monte Carlo over 10000 networks: 57.7%"), "{text}");
    }
}

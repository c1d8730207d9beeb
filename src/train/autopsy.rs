//! The autopsy of a neuron: the exact update that killed it (or brought it back), found by
//! replaying the run, and what that update moved.
//!
//! The census sees a neuron's state only every census interval (about one pass over the data),
//! so it knows that a neuron died *between* two censuses. A run is deterministic, so the
//! moments in between can be played again: from the newest checkpoint early enough (a copy of
//! the session, rewound), or from the run's start (its record) when the checkpoints no longer
//! reach back. Each moment is one training update or one command applied between two steps
//! (the bias slider, a revival). After each, a forward pass over the training inputs gives the
//! neuron's largest pre-activation; the death is the moment after which that is `<= 0` and
//! stays so up to the census that saw it dead. A second pass of the same replay stops just
//! before that moment and just after it, and reads the neuron's bias, weights and
//! pre-activations on both sides.
//!
//! How the largest pre-activation `max_i (w · a_i + b)` moved is split into three parts that
//! add up to it (in `f64`, from the `f32` parameters and inputs), changing one factor at a
//! time: the bias (which moves every point alike), then the weights on the old inputs, then the
//! inputs (the layer below moved in the same update). Each is a change of the *largest*
//! pre-activation, so the parts hold even when the largest moves from one training point to
//! another.
//!
//! "One blow" or "slowly": over the [`LOOKBACK_STEPS`] before the death the largest
//! pre-activation peaked somewhere; if the fatal moment made at least [`ONE_BLOW_SHARE`] of the
//! fall from that peak to below zero, it was one blow, otherwise a decline that the last
//! update only finished. Every figure depends only on the run, not on where its checkpoints
//! happen to be.

use serde::{Deserialize, Serialize};

use super::census::{NeuronEvent, census_interval_steps};
use super::command::StampedCommand;
use super::replay::{ReplayCursor, ReplayError};
use super::session::{CommandError, Session, StepOutcome};
use super::settings::short;
use crate::nn::{NeuronState, Workspace};

/// How far back before a death its recent peak is looked for, and its trace starts.
pub const LOOKBACK_STEPS: u64 = 100;
/// How far the trace goes on after a death (when the run got that far).
pub const TRACE_AFTER_STEPS: u64 = 20;
/// The share of the fall from the recent peak that the fatal moment must make to be one blow.
pub const ONE_BLOW_SHARE: f64 = 0.5;
/// A death that was not one blow took at least this many falling updates to be called slow
/// (fewer: "in a few updates").
pub const SLOW_UPDATES: u32 = 4;

/// A hidden neuron, both numbers from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NeuronRef {
    /// The hidden layer, from 0 (layer 1 for a reader).
    pub layer: usize,
    /// The neuron in its layer, from 0.
    pub neuron: usize,
}

impl NeuronRef {
    /// "layer 1 neuron 3", counted from 1 as a reader counts.
    pub fn label(self) -> String {
        format!("layer {} neuron {}", self.layer + 1, self.neuron + 1)
    }
}

/// Something that changed the network between two states of a replay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Moment {
    /// One training update, which made step `step` (the step count after it).
    Update {
        /// The step count after the update.
        step: u64,
        /// The learning rate in force for it (after decay).
        learning_rate: f64,
        /// The training points it trained on (indices into the training set).
        batch: Vec<usize>,
    },
    /// A command applied between two steps, at step `step`.
    Command {
        /// The step count when it was applied.
        step: u64,
        /// What it did, in words (as the run's annotations say it).
        text: String,
    },
}

impl Moment {
    /// The step count after this moment.
    pub fn step(&self) -> u64 {
        match self {
            Self::Update { step, .. } | Self::Command { step, .. } => *step,
        }
    }

    fn is_update(&self) -> bool {
        matches!(self, Self::Update { .. })
    }
}

/// How one moment moved one neuron: its parameters and its largest pre-activation over the
/// training inputs, before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// What happened.
    pub moment: Moment,
    /// The bias before.
    pub bias_before: f32,
    /// The bias after.
    pub bias_after: f32,
    /// The incoming weights before, one per neuron of the layer below (or input).
    pub weights_before: Vec<f32>,
    /// The incoming weights after.
    pub weights_after: Vec<f32>,
    /// The largest pre-activation over the training inputs before.
    pub max_pre_activation_before: f32,
    /// The largest pre-activation over the training inputs after.
    pub max_pre_activation_after: f32,
    /// The share of training inputs with a positive pre-activation before.
    pub active_fraction_before: f32,
    /// The share of training inputs with a positive pre-activation after.
    pub active_fraction_after: f32,
    /// How the largest pre-activation's change splits (they add up to it).
    pub parts: ChangeParts,
}

/// The change of a neuron's largest pre-activation over one moment, in parts that add up to it
/// (up to rounding), taken in turn: the bias first, then the weights on the old inputs, then
/// the new inputs. Each part is how much the *largest* pre-activation over the training inputs
/// moved when that factor changed. Signed: a fall is negative.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeParts {
    /// The bias's change (a bias moves every point alike, so the largest by as much).
    pub bias: f64,
    /// The new weights on the old inputs, against the old weights.
    pub weights: f64,
    /// The new inputs, against the old ones, under the new weights: the layer below moved (0
    /// in the first hidden layer).
    pub inputs: f64,
}

/// How a death came about: in one blow, or slowly.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pace {
    /// The fatal moment made at least [`ONE_BLOW_SHARE`] of the fall from the recent peak.
    pub is_one_blow: bool,
    /// Where the largest pre-activation peaked in the [`LOOKBACK_STEPS`] before the death.
    pub peak_step: u64,
    /// Its value there.
    pub peak: f32,
    /// Updates from the peak to the death (the fatal one included) that lowered it.
    pub falling_updates: u32,
    /// The fatal moment's share of the fall from the peak to where it ended.
    pub last_share: f64,
}

/// One point of a neuron's trace: its largest pre-activation after a moment.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TracePoint {
    /// The step count after the moment.
    pub step: u64,
    /// The largest pre-activation over the training inputs.
    pub max_pre_activation: f32,
}

/// A neuron that went negative on every training input (under ReLU: died).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Death {
    /// Which neuron.
    pub neuron: NeuronRef,
    /// The step count after the fatal moment: one step before it the neuron was active on some
    /// training input, at it on none.
    pub step: u64,
    /// The census step that first saw it.
    pub census_step: u64,
    /// Its activation has no gradient below zero, so it is dead (not only below zero).
    pub is_dead: bool,
    /// The fatal moment.
    pub change: Change,
    /// One blow or slowly.
    pub pace: Pace,
    /// Its largest pre-activation from [`LOOKBACK_STEPS`] before to [`TRACE_AFTER_STEPS`]
    /// after.
    pub trace: Vec<TracePoint>,
}

/// Why a neuron came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RevivalCause {
    /// A command: the bias slider, a revival by hand, a new activation or data.
    Command {
        /// What it did, in words.
        text: String,
    },
    /// The layer below moved: its inputs changed more than its own parameters did.
    LayerBelow,
    /// Its own parameters moved (the optimizer's memory, or the gradient an activation still
    /// passes below zero).
    OwnUpdate,
}

/// A neuron that came back from negative on every training input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Revival {
    /// Which neuron.
    pub neuron: NeuronRef,
    /// The step count after the moment that brought it back.
    pub step: u64,
    /// The census step that first saw it back.
    pub census_step: u64,
    /// That moment.
    pub change: Change,
    /// Why.
    pub cause: RevivalCause,
    /// Its largest pre-activation around the revival.
    pub trace: Vec<TracePoint>,
}

/// Every death and revival of a run that its census recorded, located exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Autopsy {
    /// The run's step count.
    pub steps: u64,
    /// Deaths, by step.
    pub deaths: Vec<Death>,
    /// Revivals, by step.
    pub revivals: Vec<Revival>,
    /// Neurons negative on every training input from the start (born dead: no update did it).
    pub dead_from_start: Vec<NeuronRef>,
    /// The census's event log had dropped its oldest changes, so early ones are missing.
    pub is_partial: bool,
}

/// What the autopsy of one neuron found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum NeuronAutopsy {
    /// It died (its latest death).
    Died(Box<Death>),
    /// It was negative on every training input from the start.
    DeadFromStart(NeuronRef),
}

/// Why an autopsy could not be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AutopsyError {
    /// No such hidden neuron.
    #[error("there is no neuron {} in hidden layer {}", .0.neuron + 1, .0.layer + 1)]
    NoSuchNeuron(NeuronRef),
    /// The neuron is active on some training input now.
    #[error("{} is active on some training input: it is not dead", .0.label())]
    NotDead(NeuronRef),
    /// The run's record could not be replayed.
    #[error("the run cannot be replayed: {0}")]
    Replay(#[from] ReplayError),
    /// A recorded command was refused in the replay.
    #[error("step {step}: the recorded command was refused in the replay: {error}")]
    Command {
        /// The command's stamp.
        step: u64,
        /// Why.
        error: CommandError,
    },
    /// The replay diverged where the run did not.
    #[error("the replay diverged at step {0}, where the run went on")]
    Diverged(u64),
    /// The replay does not show the change the census saw.
    #[error("the replay does not show the change the census saw for {} at step {step}", .neuron.label())]
    NotFound {
        /// Which neuron.
        neuron: NeuronRef,
        /// The census step.
        step: u64,
    },
    /// One of the above, made by a trainer in another instance of the program (a browser's Web
    /// Worker) and crossed as its words ([`crate::train::remote`]).
    #[error("{0}")]
    Elsewhere(String),
}

/// Every death and revival the census of `session` recorded, each located at its exact moment.
pub fn autopsy(session: &Session) -> Result<Autopsy, AutopsyError> {
    let census = session.census();
    let events: Vec<NeuronEvent> = census.events_after(0).copied().collect();
    let mut targets: Vec<Target> = events.iter().filter_map(Target::of_event).collect();
    targets.sort_by_key(|target| (target.census_step, target.neuron));
    targets.dedup();
    let mut autopsy = Autopsy {
        steps: session.step_count(),
        is_partial: census.event_total() > events.len() as u64,
        ..Autopsy::default()
    };
    for group in targets.chunk_by(|a, b| a.census_step == b.census_step) {
        for found in locate(session, group)? {
            match found {
                Found::Death(death) => autopsy.deaths.push(*death),
                Found::Revival(revival) => autopsy.revivals.push(*revival),
                Found::DeadFromStart(neuron) => autopsy.dead_from_start.push(neuron),
            }
        }
    }
    autopsy.dead_from_start.extend(dead_at_start(session)?);
    autopsy.dead_from_start.sort_unstable();
    autopsy.dead_from_start.dedup();
    autopsy.deaths.sort_by_key(|death| (death.step, death.neuron));
    autopsy.revivals.sort_by_key(|revival| (revival.step, revival.neuron));
    Ok(autopsy)
}

/// The latest death of `neuron`, which must be negative on every training input now.
pub fn neuron_autopsy(session: &Session, neuron: NeuronRef) -> Result<NeuronAutopsy, AutopsyError> {
    let track = session.census().track(neuron.layer, neuron.neuron).ok_or(AutopsyError::NoSuchNeuron(neuron))?;
    if !track.is_all_negative {
        return Err(AutopsyError::NotDead(neuron));
    }
    let census_step = session
        .census()
        .events_after(0)
        .filter_map(Target::of_event)
        .filter(|target| target.neuron == neuron && target.kind == Kind::Death)
        .map(|target| target.census_step)
        .last()
        .unwrap_or(track.state_since);
    let target = Target { census_step, neuron, kind: Kind::Death };
    match locate(session, &[target])?.pop() {
        Some(Found::Death(death)) => Ok(NeuronAutopsy::Died(death)),
        Some(Found::DeadFromStart(neuron)) => Ok(NeuronAutopsy::DeadFromStart(neuron)),
        Some(Found::Revival(_)) | None => Err(AutopsyError::NotFound { neuron, step: census_step }),
    }
}

/// The hidden neurons negative on every training input when the run's network was built.
fn dead_at_start(session: &Session) -> Result<Vec<NeuronRef>, AutopsyError> {
    let (start, _) = ReplayCursor::start(&session.record())?;
    let mut probe = Probe::new(&start);
    probe.forward(&start);
    let mlp = start.network();
    let mut dead = Vec::new();
    for layer in 0..mlp.hidden_layer_count() {
        for neuron in 0..mlp.layers[layer].output_size() {
            let target = NeuronRef { layer, neuron };
            if probe.summary(target).is_all_negative() {
                dead.push(target);
            }
        }
    }
    Ok(dead)
}

/// Entering or leaving the all-negative state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Death,
    Revival,
}

/// A change the census saw: `neuron` entered (or left) the all-negative state by `census_step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    census_step: u64,
    neuron: NeuronRef,
    kind: Kind,
}

impl Target {
    fn of_event(event: &NeuronEvent) -> Option<Self> {
        let is_negative = |state: NeuronState| matches!(state, NeuronState::Dead | NeuronState::BelowZero);
        let neuron = NeuronRef { layer: event.layer, neuron: event.neuron };
        let kind = if event.is_revival {
            Kind::Revival
        } else if is_negative(event.to) && !is_negative(event.from) {
            Kind::Death
        } else {
            return None;
        };
        Some(Self { census_step: event.step, neuron, kind })
    }
}

/// What [`locate`] found for one target.
enum Found {
    Death(Box<Death>),
    Revival(Box<Revival>),
    DeadFromStart(NeuronRef),
}

/// Locates the changes of `targets` (all seen by the census at the same step) exactly.
fn locate(session: &Session, targets: &[Target]) -> Result<Vec<Found>, AutopsyError> {
    let Some(census_step) = targets.first().map(|target| target.census_step) else { return Ok(Vec::new()) };
    let interval = census_interval_steps(session.data().train_len(), session.next_batch_indices().len());
    let end = session.step_count().min(census_step + TRACE_AFTER_STEPS);
    let mut from = census_step.saturating_sub(interval + LOOKBACK_STEPS);
    loop {
        let start = Rerun::from_step(session, from)?;
        let start_step = start.session().step_count();
        let timeline = Timeline::record(start.clone(), targets, end)?;
        let flips: Vec<Option<usize>> =
            targets.iter().enumerate().map(|(index, target)| timeline.flip(index, target)).collect();
        // A change must have its whole lookback inside the replay (unless the replay starts at
        // the run's start), and a death must not precede it: else start earlier.
        let needs_earlier = targets.iter().zip(&flips).enumerate().any(|(index, (target, flip))| match flip {
            Some(position) => timeline.steps[*position].saturating_sub(LOOKBACK_STEPS) < start_step,
            None => target.kind == Kind::Death && timeline.is_negative(index, 0),
        });
        if needs_earlier && start_step > 0 {
            from = start_step.saturating_sub(1 + interval + LOOKBACK_STEPS);
            continue;
        }
        let wanted: Vec<(usize, NeuronRef)> = targets
            .iter()
            .zip(&flips)
            .filter_map(|(target, flip)| flip.map(|position| (position, target.neuron)))
            .collect();
        let is_dead = session.network().activation.has_zero_gradient_region();
        let mut changes = capture(start, &wanted, end)?.into_iter();
        return targets
            .iter()
            .zip(flips)
            .enumerate()
            .map(|(index, (target, flip))| match (flip, changes.len()) {
                (Some(position), _) => {
                    let change = changes
                        .next()
                        .ok_or(AutopsyError::NotFound { neuron: target.neuron, step: target.census_step })?;
                    Ok(timeline.found(index, target, position, change, is_dead))
                }
                (None, _) if target.kind == Kind::Death && timeline.is_negative(index, 0) => {
                    Ok(Found::DeadFromStart(target.neuron))
                }
                (None, _) => Err(AutopsyError::NotFound { neuron: target.neuron, step: target.census_step }),
            })
            .collect();
    }
}

/// One neuron after one moment, as the first pass keeps it.
#[derive(Clone, Copy, Debug)]
struct Summary {
    /// The largest pre-activation over the training inputs.
    max: f32,
    /// Training inputs with a positive pre-activation.
    active: usize,
    is_finite: bool,
}

impl Summary {
    fn is_all_negative(self) -> bool {
        self.is_finite && self.active == 0
    }
}

/// The first pass: for each target, its summary after every moment of a replay.
struct Timeline {
    /// Per position (0: the replay's start, then one after each moment), the step count.
    steps: Vec<u64>,
    /// Per position, whether a training update led to it (not a command, not the start).
    is_update: Vec<bool>,
    /// Per target, per position.
    summaries: Vec<Vec<Summary>>,
}

impl Timeline {
    fn record(mut rerun: Rerun, targets: &[Target], end: u64) -> Result<Self, AutopsyError> {
        let mut probe = Probe::new(rerun.session());
        let mut timeline =
            Self { steps: Vec::new(), is_update: Vec::new(), summaries: vec![Vec::new(); targets.len()] };
        let mut is_update = false;
        loop {
            probe.forward(rerun.session());
            timeline.steps.push(rerun.session().step_count());
            timeline.is_update.push(is_update);
            for (summaries, target) in timeline.summaries.iter_mut().zip(targets) {
                summaries.push(probe.summary(target.neuron));
            }
            match rerun.advance(end)? {
                Some(moment) => is_update = moment.is_update(),
                None => return Ok(timeline),
            }
        }
    }

    fn is_negative(&self, target: usize, position: usize) -> bool {
        self.summaries[target][position].is_all_negative()
    }

    /// The last position at or before the census step where target `index` changed the way
    /// the census saw.
    fn flip(&self, index: usize, target: &Target) -> Option<usize> {
        (1..self.steps.len()).rev().filter(|&position| self.steps[position] <= target.census_step).find(|&position| {
            let (before, after) = (self.is_negative(index, position - 1), self.is_negative(index, position));
            match target.kind {
                Kind::Death => after && !before,
                Kind::Revival => before && !after,
            }
        })
    }

    /// The trace of target `index` from [`LOOKBACK_STEPS`] before `position` to
    /// [`TRACE_AFTER_STEPS`] after it.
    fn trace(&self, index: usize, position: usize) -> Vec<TracePoint> {
        let at = self.steps[position];
        let steps = at.saturating_sub(LOOKBACK_STEPS)..=at + TRACE_AFTER_STEPS;
        self.steps
            .iter()
            .zip(&self.summaries[index])
            .filter(|&(step, _)| steps.contains(step))
            .map(|(&step, summary)| TracePoint { step, max_pre_activation: summary.max })
            .collect()
    }

    /// One blow or slowly, for a death at `position` (at least 1).
    fn pace(&self, index: usize, position: usize) -> Pace {
        let summaries = &self.summaries[index];
        let first = self.steps[position].saturating_sub(LOOKBACK_STEPS);
        let peak_position = (0..position)
            .filter(|&p| self.steps[p] >= first)
            .fold(position - 1, |best, p| if summaries[p].max > summaries[best].max { p } else { best });
        let (peak, before, after) =
            (summaries[peak_position].max, summaries[position - 1].max, summaries[position].max);
        let last_share = f64::from(before - after) / f64::from(peak - after).max(f64::MIN_POSITIVE);
        let falling_updates = (peak_position + 1..=position)
            .filter(|&p| self.is_update[p] && summaries[p].max < summaries[p - 1].max)
            .count() as u32;
        Pace {
            is_one_blow: last_share >= ONE_BLOW_SHARE,
            peak_step: self.steps[peak_position],
            peak,
            falling_updates,
            last_share,
        }
    }

    fn found(&self, index: usize, target: &Target, position: usize, change: Change, is_dead: bool) -> Found {
        let (neuron, step, census_step) = (target.neuron, self.steps[position], target.census_step);
        let trace = self.trace(index, position);
        match target.kind {
            Kind::Death => {
                let pace = self.pace(index, position);
                Found::Death(Box::new(Death { neuron, step, census_step, is_dead, change, pace, trace }))
            }
            Kind::Revival => {
                let cause = RevivalCause::of(&change);
                Found::Revival(Box::new(Revival { neuron, step, census_step, change, cause, trace }))
            }
        }
    }
}

/// The second pass: the same replay again, read on both sides of each wanted position.
/// `wanted` holds `(position, neuron)`; the changes come back in its order.
fn capture(mut rerun: Rerun, wanted: &[(usize, NeuronRef)], end: u64) -> Result<Vec<Change>, AutopsyError> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&index| wanted[index].0);
    let mut changes: Vec<Option<Change>> = vec![None; wanted.len()];
    let mut probe = Probe::new(rerun.session());
    let mut position = 0;
    for group in order.chunk_by(|&a, &b| wanted[a].0 == wanted[b].0) {
        let at = wanted[group[0]].0;
        while position + 1 < at {
            rerun.advance(end)?;
            position += 1;
        }
        probe.forward(rerun.session());
        let before: Vec<Reading> = group.iter().map(|&index| probe.reading(rerun.session(), wanted[index].1)).collect();
        let moment = rerun.advance(end)?;
        position += 1;
        probe.forward(rerun.session());
        for (&index, before) in group.iter().zip(before) {
            let Some(moment) = moment.clone() else { break };
            let after = probe.reading(rerun.session(), wanted[index].1);
            changes[index] = Some(Change::between(moment, &before, &after));
        }
    }
    Ok(changes.into_iter().flatten().collect())
}

/// Forward passes over the training inputs, in one reused workspace.
struct Probe {
    workspace: Workspace<f32>,
}

impl Probe {
    fn new(session: &Session) -> Self {
        Self { workspace: Workspace::new(session.network(), session.data().train_len()) }
    }

    fn forward(&mut self, session: &Session) {
        session.network().forward(session.data().train_inputs.view(), &mut self.workspace);
    }

    fn summary(&self, target: NeuronRef) -> Summary {
        let column = self.workspace.pre_activations[target.layer].column(target.neuron);
        let mut summary = Summary { max: f32::NEG_INFINITY, active: 0, is_finite: true };
        for &z in column {
            summary.is_finite &= z.is_finite();
            summary.max = summary.max.max(z);
            summary.active += usize::from(z > 0.0);
        }
        summary
    }

    fn reading(&self, session: &Session, target: NeuronRef) -> Reading {
        let layer = &session.network().layers[target.layer];
        let inputs = match target.layer {
            0 => session.data().train_inputs.clone(),
            below => self.workspace.activations[below - 1].clone(),
        };
        Reading {
            bias: layer.biases[target.neuron],
            weights: layer.weights.column(target.neuron).to_vec(),
            pre_activations: self.workspace.pre_activations[target.layer].column(target.neuron).to_vec(),
            inputs,
        }
    }
}

/// One neuron in full, on one side of a moment.
struct Reading {
    bias: f32,
    weights: Vec<f32>,
    /// `[n_train]`.
    pre_activations: Vec<f32>,
    /// What the neuron's layer takes in. `[n_train, n_in]`.
    inputs: ndarray::Array2<f32>,
}

impl Reading {
    /// The largest pre-activation, as the network computed it.
    fn max(&self) -> f32 {
        self.pre_activations.iter().fold(f32::NEG_INFINITY, |best, &z| best.max(z))
    }

    fn active_fraction(&self) -> f32 {
        let active = self.pre_activations.iter().filter(|&&z| z > 0.0).count();
        active as f32 / self.pre_activations.len().max(1) as f32
    }
}

/// The largest of `weights · row + bias` over the rows of `inputs`, in `f64`.
///
/// # Shapes
/// `weights: [n_in]`, `inputs: [n, n_in]`.
fn largest(bias: f64, weights: &[f32], inputs: &ndarray::Array2<f32>) -> f64 {
    inputs
        .rows()
        .into_iter()
        .map(|row| row.iter().zip(weights).map(|(&a, &w)| f64::from(a) * f64::from(w)).sum::<f64>() + bias)
        .fold(f64::NEG_INFINITY, f64::max)
}

impl Change {
    fn between(moment: Moment, before: &Reading, after: &Reading) -> Self {
        let (max_before, max_after) = (before.max(), after.max());
        let (b0, b1) = (f64::from(before.bias), f64::from(after.bias));
        let (w0, w1, a0, a1) = (&before.weights, &after.weights, &before.inputs, &after.inputs);
        let old_weights_new_bias = largest(b1, w0, a0);
        let new_weights_old_inputs = largest(b1, w1, a0);
        let parts = ChangeParts {
            bias: old_weights_new_bias - largest(b0, w0, a0),
            weights: new_weights_old_inputs - old_weights_new_bias,
            inputs: largest(b1, w1, a1) - new_weights_old_inputs,
        };
        Self {
            moment,
            bias_before: before.bias,
            bias_after: after.bias,
            weights_before: before.weights.clone(),
            weights_after: after.weights.clone(),
            max_pre_activation_before: max_before,
            max_pre_activation_after: max_after,
            active_fraction_before: before.active_fraction(),
            active_fraction_after: after.active_fraction(),
            parts,
        }
    }

    /// Whether the neuron's own bias and weights stayed as they were.
    fn is_own_unchanged(&self) -> bool {
        self.bias_before == self.bias_after && self.weights_before == self.weights_after
    }
}

impl RevivalCause {
    fn of(change: &Change) -> Self {
        if let Moment::Command { text, .. } = &change.moment {
            return Self::Command { text: text.clone() };
        }
        let own = change.parts.bias + change.parts.weights;
        if change.is_own_unchanged() || change.parts.inputs > own { Self::LayerBelow } else { Self::OwnUpdate }
    }
}

/// A copy of a run set back to an earlier step, with the commands it still has to apply: it
/// plays the run again, moment by moment, with the same bits.
#[derive(Clone, Debug)]
pub struct Rerun {
    session: Session,
    commands: Vec<StampedCommand>,
    next_command: usize,
}

impl Rerun {
    /// A copy of `session` at its newest checkpoint at or before `step`, or at the run's start
    /// (from its record) when no checkpoint is that old.
    pub fn from_step(session: &Session, step: u64) -> Result<Self, AutopsyError> {
        let copy = if session.checkpoint_at_or_before(step).is_some() {
            let mut copy = session.clone();
            copy.rewind(step);
            copy
        } else {
            ReplayCursor::start(&session.record())?.0
        };
        Ok(Self { next_command: copy.commands().len(), commands: session.commands().to_vec(), session: copy })
    }

    /// The copy as it is now.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Applies the next command due now, or else makes one step unless the step count has
    /// reached `end`. `None` when there is nothing left to do before `end`.
    pub fn advance(&mut self, end: u64) -> Result<Option<Moment>, AutopsyError> {
        if let Some(stamped) = self.commands.get(self.next_command)
            && stamped.step <= self.session.step_count()
        {
            self.next_command += 1;
            let annotation = self
                .session
                .apply(stamped.command.clone())
                .map_err(|error| AutopsyError::Command { step: stamped.step, error })?;
            return Ok(Some(Moment::Command { step: annotation.step, text: annotation.text }));
        }
        if self.session.step_count() >= end {
            return Ok(None);
        }
        let learning_rate = self.session.learning_rate();
        let batch = self.session.next_batch_indices().to_vec();
        match self.session.step() {
            StepOutcome::Trained { .. } => {
                Ok(Some(Moment::Update { step: self.session.step_count(), learning_rate, batch }))
            }
            StepOutcome::Diverged(divergence) => Err(AutopsyError::Diverged(divergence.step)),
        }
    }
}

/// A figure in words: three significant digits, a true minus sign.
pub fn figure(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return if value == 0.0 { "0".to_owned() } else { value.to_string() };
    }
    let digits = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    let mut text = format!("{value:.digits$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    if text == "-0" { "0".to_owned() } else { text.replace('-', "−") }
}

/// A signed figure: `+0.12`, `−2.4`.
fn signed(value: f64) -> String {
    let text = figure(value);
    if value > 0.0 && text != "0" { format!("+{text}") } else { text }
}

/// The most weights a sentence lists.
const MAX_WORDED_WEIGHTS: usize = 8;

fn weight_words(weights: &[f32]) -> String {
    let mut parts: Vec<String> = weights.iter().take(MAX_WORDED_WEIGHTS).map(|&w| figure(f64::from(w))).collect();
    if weights.len() > MAX_WORDED_WEIGHTS {
        parts.push(format!("… {} in all", weights.len()));
    }
    format!("({})", parts.join(", "))
}

fn percent(share: f32) -> String {
    let percent = f64::from(share) * 100.0;
    if percent > 0.0 && percent < 1.0 { "under 1%".to_owned() } else { format!("{percent:.0}%") }
}

impl Change {
    /// What the moment was: "one update at learning rate 3 (10 training points)".
    pub fn moment_words(&self) -> String {
        match &self.moment {
            Moment::Update { learning_rate, batch, .. } => {
                format!("one update at learning rate {} on {} training points", short(*learning_rate), batch.len())
            }
            Moment::Command { text, .. } => format!("a change of settings ({text})"),
        }
    }

    /// The parts of the change in the largest pre-activation: "bias −2.4, weights +0.1".
    pub fn parts_words(&self) -> String {
        let parts = &self.parts;
        let mut words = vec![format!("bias {}", signed(parts.bias)), format!("weights {}", signed(parts.weights))];
        if parts.inputs != 0.0 {
            words.push(format!("the layer below {}", signed(parts.inputs)));
        }
        words.join(", ")
    }

    fn parameter_words(&self) -> String {
        if self.is_own_unchanged() {
            return format!(
                "left its bias ({}) and weights as they were: what moved was the layer below",
                figure(f64::from(self.bias_before))
            );
        }
        format!(
            "moved its bias from {} to {} and its weights from {} to {}",
            figure(f64::from(self.bias_before)),
            figure(f64::from(self.bias_after)),
            weight_words(&self.weights_before),
            weight_words(&self.weights_after)
        )
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

impl Death {
    /// The death in words, figures included.
    pub fn describe(&self) -> String {
        let change = &self.change;
        let verb = if self.is_dead { "died" } else { "went below zero on every training input" };
        let mut text = format!(
            "{} {verb} at step {}: {} {}. Its largest pre-activation over the training inputs fell from {} to {} \
             ({}). Before it, it was active on {} of the training points; after it, on none.",
            capitalized(&self.neuron.label()),
            self.step,
            change.moment_words(),
            change.parameter_words(),
            figure(f64::from(change.max_pre_activation_before)),
            figure(f64::from(change.max_pre_activation_after)),
            change.parts_words(),
            percent(change.active_fraction_before),
        );
        text.push(' ');
        text.push_str(&self.pace_words());
        text
    }

    /// One blow or slowly, in words.
    pub fn pace_words(&self) -> String {
        let pace = &self.pace;
        let share = format!("{:.0}%", pace.last_share * 100.0);
        if pace.is_one_blow && pace.peak_step + 1 >= self.step {
            "It was one blow.".to_owned()
        } else if pace.is_one_blow {
            format!(
                "It was one blow: that moment made {share} of the fall from its peak of {} at step {}.",
                figure(f64::from(pace.peak)),
                pace.peak_step
            )
        } else {
            let how = if pace.falling_updates >= SLOW_UPDATES { "slowly" } else { "in a few updates" };
            format!(
                "It died {how}: its largest pre-activation fell from {} at step {} over {} updates; the last made \
                 only {share} of that fall.",
                figure(f64::from(pace.peak)),
                pace.peak_step,
                pace.falling_updates
            )
        }
    }
}

impl Revival {
    /// The revival in words, figures included.
    pub fn describe(&self) -> String {
        let change = &self.change;
        let cause = match &self.cause {
            RevivalCause::Command { text } => format!("a change of settings ({text})"),
            RevivalCause::LayerBelow => "the layer below moved".to_owned(),
            RevivalCause::OwnUpdate => format!("{} moved its own weights and bias", change.moment_words()),
        };
        format!(
            "{} came back at step {}: {cause}. Its largest pre-activation rose from {} to {} ({}); it is active on {} \
             of the training points.",
            capitalized(&self.neuron.label()),
            self.step,
            figure(f64::from(change.max_pre_activation_before)),
            figure(f64::from(change.max_pre_activation_after)),
            change.parts_words(),
            percent(change.active_fraction_after),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::presets;
    use crate::train::{RunConfig, SessionCommand};

    fn trained(preset: &str, seed: u64, steps: u64) -> Session {
        let mut config = presets::find(preset).unwrap().config().unwrap();
        config.seed = seed;
        let mut session = Session::new(config).unwrap();
        for _ in 0..steps {
            session.step();
        }
        session
    }

    /// A fresh run of the same record, made to `step`.
    fn fresh_at(session: &Session, step: u64) -> Session {
        let mut rerun = Rerun::from_step(session, 0).unwrap();
        assert_eq!(rerun.session().step_count(), 0, "no checkpoint at or before 0 is older than the start");
        while rerun.session().step_count() < step {
            rerun.advance(step).unwrap();
        }
        rerun.session
    }

    fn active_points(session: &Session, neuron: NeuronRef) -> usize {
        let mut probe = Probe::new(session);
        probe.forward(session);
        probe.summary(neuron).active
    }

    #[test]
    fn each_death_is_the_first_step_after_which_the_neuron_is_negative_everywhere() {
        let session = trained("high-learning-rate", 1, 800);
        let autopsy = autopsy(&session).unwrap();
        assert!(!autopsy.deaths.is_empty(), "learning rate 3 kills neurons within 800 steps");
        for death in &autopsy.deaths {
            let before = fresh_at(&session, death.step - 1);
            let after = fresh_at(&session, death.step);
            assert!(active_points(&before, death.neuron) > 0, "{death:?}");
            assert_eq!(active_points(&after, death.neuron), 0, "{death:?}");
            let (layer_before, layer_after) =
                (&before.network().layers[death.neuron.layer], &after.network().layers[death.neuron.layer]);
            assert_eq!(death.change.bias_before, layer_before.biases[death.neuron.neuron]);
            assert_eq!(death.change.bias_after, layer_after.biases[death.neuron.neuron]);
            assert_eq!(death.change.weights_after, layer_after.weights.column(death.neuron.neuron).to_vec());
            let Moment::Update { learning_rate, batch, .. } = &death.change.moment else { panic!("{death:?}") };
            assert_eq!(*learning_rate, 3.0);
            assert_eq!(batch.as_slice(), before.next_batch_indices());
            let parts = death.change.parts;
            let sum = parts.bias + parts.weights + parts.inputs;
            let (m0, m1) = (death.change.max_pre_activation_before, death.change.max_pre_activation_after);
            let tolerance = 1e-5 * f64::from(m0.abs().max(m1.abs()).max(1.0));
            assert!((sum - f64::from(m1 - m0)).abs() < tolerance, "the parts add up to the change: {parts:?}");
            assert!(death.trace.iter().any(|point| point.step == death.step && point.max_pre_activation <= 0.0));
        }
    }

    #[test]
    fn a_death_reads_the_same_whether_replayed_from_a_checkpoint_or_from_the_start() {
        // After 3000 steps the checkpoints reach back to step 800 at most: early deaths are
        // replayed from the start. A run stopped just after the death replays from a checkpoint.
        let long_session = trained("high-learning-rate", 2, 3000);
        let long = autopsy(&long_session).unwrap();
        let early = long.deaths.first().expect("seed 2 loses a neuron");
        let short = trained("high-learning-rate", 2, early.census_step + TRACE_AFTER_STEPS);
        assert!(long_session.checkpoint_at_or_before(early.census_step).is_none(), "the long run replays from 0");
        assert!(short.checkpoint_at_or_before(early.step.saturating_sub(LOOKBACK_STEPS)).is_some());
        let again = autopsy(&short).unwrap();
        assert_eq!(again.deaths.iter().find(|death| death.neuron == early.neuron), Some(early));
    }

    #[test]
    fn the_bias_slider_kills_in_one_moment_and_brings_back_in_another() {
        let mut session = Session::new(RunConfig::default()).unwrap();
        for _ in 0..120 {
            session.step();
        }
        session.apply(SessionCommand::SetBiasOffset { bias_offset: -30.0 }).unwrap();
        for _ in 0..30 {
            session.step();
        }
        session.apply(SessionCommand::SetBiasOffset { bias_offset: 0.0 }).unwrap();
        for _ in 0..30 {
            session.step();
        }
        let autopsy = autopsy(&session).unwrap();
        let first = NeuronRef { layer: 0, neuron: 0 };
        let death = autopsy.deaths.iter().find(|death| death.neuron == first).expect("a bias of -30 kills layer 1");
        assert_eq!(death.step, 120);
        assert!(
            matches!(&death.change.moment, Moment::Command { text, .. } if text.contains("bias offset")),
            "{death:?}"
        );
        assert!((death.change.parts.bias + 30.0).abs() < 1e-3, "{:?}", death.change.parts);
        assert!(death.pace.is_one_blow);
        let revival = autopsy.revivals.iter().find(|revival| revival.neuron == first).expect("and 0 brings it back");
        assert_eq!(revival.step, 150);
        assert!(matches!(&revival.cause, RevivalCause::Command { text } if text.contains("bias offset")));
        assert!(
            revival.describe().contains("came back at step 150: a change of settings (bias offset"),
            "{}",
            revival.describe()
        );
    }

    #[test]
    fn one_neuron_s_autopsy_is_its_latest_death_and_a_live_one_is_refused() {
        let session = trained("high-learning-rate", 1, 1000);
        let autopsy = autopsy(&session).unwrap();
        let death = autopsy.deaths.last().unwrap();
        let track = session.census().track(death.neuron.layer, death.neuron.neuron).unwrap();
        if track.is_all_negative {
            assert_eq!(neuron_autopsy(&session, death.neuron), Ok(NeuronAutopsy::Died(Box::new(death.clone()))));
        }
        let alive = (0..8)
            .map(|neuron| NeuronRef { layer: 0, neuron })
            .find(|n| !session.census().track(n.layer, n.neuron).unwrap().is_all_negative);
        if let Some(alive) = alive {
            assert_eq!(neuron_autopsy(&session, alive), Err(AutopsyError::NotDead(alive)));
        }
        let nowhere = NeuronRef { layer: 5, neuron: 0 };
        assert_eq!(neuron_autopsy(&session, nowhere), Err(AutopsyError::NoSuchNeuron(nowhere)));
    }

    #[test]
    fn a_born_dead_neuron_is_dead_from_the_start() {
        let mut config = RunConfig::default();
        config.network.initial_bias = -20.0;
        let mut session = Session::new(config).unwrap();
        for _ in 0..50 {
            session.step();
        }
        let first = NeuronRef { layer: 0, neuron: 0 };
        assert_eq!(neuron_autopsy(&session, first), Ok(NeuronAutopsy::DeadFromStart(first)));
        assert_eq!(autopsy(&session).unwrap().dead_from_start.len(), 16);
    }

    #[test]
    fn figures_read_well() {
        assert_eq!(figure(-2.0712), "−2.07");
        assert_eq!(figure(0.3104), "0.31");
        assert_eq!(figure(3.0), "3");
        assert_eq!(figure(123.456), "123");
        assert_eq!(signed(0.5), "+0.5");
        assert_eq!(figure(-0.0001), "−0.0001");
    }
}

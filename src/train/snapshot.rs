//! What the UI draws: a large, immutable picture of the run at one step. The worker builds
//! it (neuron maps on the grid, histograms) so the UI thread only draws.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::census::NeuronEvent;
use super::command::Divergence;
use super::config::RunConfig;
use super::evaluation::Evaluation;
use super::session::Session;
use crate::data::InputGrid;
use crate::nn::{Activation, NeuronState, Workspace};
use crate::train::config::MAX_HIDDEN_LAYERS;

/// The default side of the 2-D grid on which neuron responses are drawn.
pub const DEFAULT_GRID_RESOLUTION: usize = 48;
/// The number of bins of every pre-activation histogram.
pub const HISTOGRAM_BINS: usize = 41;
/// How many training inputs the neuron × input activation matrix shows.
pub const SAMPLE_INPUTS: usize = 64;
/// The narrowest half-range of a histogram.
const MIN_HISTOGRAM_RANGE: f32 = 4.0;

/// Pre-activation counts in [`HISTOGRAM_BINS`] equal bins over `[-range, range]`, with the
/// values that fell outside the range counted apart too, so a plot can say how much it clipped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    /// Values per bin. Values outside the range are counted in the end bins as well, so the
    /// bars hold every value.
    pub counts: Vec<u32>,
    /// Values below `-range` (also counted in the first bin).
    pub below: u32,
    /// Values above `range` (also counted in the last bin).
    pub above: u32,
}

impl Histogram {
    /// The highest bin count (0 when empty).
    pub fn peak(&self) -> u32 {
        self.counts.iter().copied().max().unwrap_or(0)
    }

    /// How many values it counts.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&count| u64::from(count)).sum()
    }
}

/// What only a neuron on screen gets: its tile's picture, its tooltip's weights, the histogram
/// of the detail plots. The rest of a wide layer goes without (see [`ShownNeurons`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NeuronDetail {
    /// Its activation at every grid point (same order as [`InputGrid::inputs`]).
    #[serde(with = "float_bytes")]
    pub response: Vec<f32>,
    /// Pre-activation counts over the training set, on its layer's bin edges.
    pub histogram: Histogram,
    /// Incoming weights, one per neuron of the layer below (or input).
    #[serde(with = "float_bytes")]
    pub incoming_weights: Vec<f32>,
}

/// One hidden neuron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronSnapshot {
    /// Alive, dying, below zero, dead, saturated or NaN, on the training inputs now.
    pub state: NeuronState,
    /// The step at which it entered that state, as the census saw it (the census runs about
    /// once an epoch and after every command).
    pub state_since: u64,
    /// Fraction of training inputs with a positive pre-activation.
    pub fraction_active: f32,
    /// The mean of `|f'(z)|` over the training inputs: how much gradient it passes on.
    pub mean_gradient_factor: f32,
    /// Negative on every training input (under ReLU: dead).
    pub is_all_negative: bool,
    /// The last step at which it left the all-negative (dead) state, if it ever did.
    pub last_revived_at: Option<u64>,
    /// How many times it did.
    pub revivals: u32,
    /// Its bias.
    pub bias: f32,
    /// Its learned PReLU slope, under PReLU.
    pub prelu_slope: Option<f32>,
    /// Its picture, weights and histogram, if it is shown ([`ShownNeurons`]).
    pub detail: Option<NeuronDetail>,
}

impl NeuronSnapshot {
    /// Its activation at every grid point, if it is shown (else empty).
    pub fn response(&self) -> &[f32] {
        self.detail.as_ref().map_or(&[], |detail| &detail.response)
    }

    /// Its incoming weights, if it is shown (else empty).
    pub fn incoming_weights(&self) -> &[f32] {
        self.detail.as_ref().map_or(&[], |detail| &detail.incoming_weights)
    }
}

/// A run of neurons of one layer: `first`, and the `count` after it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NeuronRange {
    /// The first neuron (from 0).
    pub first: usize,
    /// How many.
    pub count: usize,
}

impl NeuronRange {
    /// The neurons as a range of indices.
    pub fn indices(self) -> std::ops::Range<usize> {
        self.first..self.first + self.count
    }

    /// Whether neuron `neuron` is in the run.
    pub fn contains(self, neuron: usize) -> bool {
        self.indices().contains(&neuron)
    }

    /// This run moved and cut to fit a layer of `width` neurons.
    pub fn within(self, width: usize) -> Self {
        let count = self.count.min(width);
        Self { first: self.first.min(width - count), count }
    }
}

/// Which hidden neurons a snapshot shows in detail (their pictures on the grid, weights and
/// histograms): the tiles on screen and the selected neuron. The snapshot's cost follows what
/// is shown, not the network's size; every neuron keeps its state and figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShownNeurons {
    /// Per hidden layer, the neurons shown; a layer beyond the list shows its first
    /// [`DEFAULT_SHOWN_PER_LAYER`].
    pub layers: Vec<NeuronRange>,
    /// The selected neuron `(layer, neuron)`, shown wherever it is.
    pub selected: Option<(usize, usize)>,
}

impl ShownNeurons {
    /// At most `count` neurons of each layer, from the first.
    pub fn first(count: usize) -> Self {
        Self { layers: vec![NeuronRange { first: 0, count }; MAX_HIDDEN_LAYERS], selected: None }
    }

    /// The neurons of layer `layer` (of `width` neurons) shown as tiles.
    pub fn range(&self, layer: usize, width: usize) -> NeuronRange {
        let wanted =
            self.layers.get(layer).copied().unwrap_or(NeuronRange { first: 0, count: DEFAULT_SHOWN_PER_LAYER });
        wanted.within(width)
    }
}

/// One hidden layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSnapshot {
    /// Per neuron.
    pub neurons: Vec<NeuronSnapshot>,
    /// The neurons with their details ([`NeuronSnapshot::detail`]): the tiles on screen (the
    /// selected neuron has its details too, wherever it is).
    pub shown: NeuronRange,
    /// The histograms' range: `HISTOGRAM_BINS` equal bins from `-range` to `range`, fixed from
    /// the network's birth so that frames compare (values outside fall in the end bins, and
    /// are counted apart in [`Histogram::below`] and [`Histogram::above`]).
    pub histogram_range: f32,
    /// All the layer's pre-activations over the training set.
    pub histogram: Histogram,
    /// The gradient norm of the layer's incoming weights.
    pub gradient_norm: f64,
    /// Neurons in each state, indexed like [`NeuronState::ALL`].
    pub state_counts: [usize; 6],
    /// Neurons negative on every training input (under ReLU, the dead ones).
    pub all_negative: usize,
    /// Revivals in this layer so far.
    pub revived: u64,
    /// Activations over a fixed sample of training inputs: `[neurons, SAMPLE_INPUTS]`,
    /// row-major; the inputs are ordered by class.
    #[serde(with = "float_bytes")]
    pub activation_matrix: Vec<f32>,
}

/// The training and test points, shared between snapshots until the data changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "PointBytes", into = "PointBytes")]
pub struct PointSet {
    /// `(x, y, target)` for 2-D sets, `(x, target, target)` for 1-D sets.
    pub train: Vec<[f32; 3]>,
    /// The same for the test set.
    pub test: Vec<[f32; 3]>,
}

/// The grid the responses are drawn on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridInfo {
    /// Points per side (2-D) or in all (1-D).
    pub resolution: usize,
    /// Half the side of the domain.
    pub extent: f32,
    /// 2-D or 1-D.
    pub is_plane: bool,
}

/// A [`PointSet`] as it crosses a message boundary: each set as little-endian bytes.
#[derive(Serialize, Deserialize)]
struct PointBytes {
    #[serde(with = "float_bytes")]
    train: Vec<f32>,
    #[serde(with = "float_bytes")]
    test: Vec<f32>,
}

impl From<PointSet> for PointBytes {
    fn from(points: PointSet) -> Self {
        let flat = |set: Vec<[f32; 3]>| set.into_iter().flatten().collect();
        Self { train: flat(points.train), test: flat(points.test) }
    }
}

impl From<PointBytes> for PointSet {
    fn from(bytes: PointBytes) -> Self {
        let triples = |flat: Vec<f32>| flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        Self { train: triples(bytes.train), test: triples(bytes.test) }
    }
}

/// Serde for the large float arrays of a snapshot: one byte string of little-endian `f32`s,
/// which a binary format (the Web Worker's messages) copies at memory speed instead of
/// number by number.
mod float_bytes {
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(values: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = values.iter().flat_map(|value| value.to_le_bytes()).collect();
        serializer.serialize_bytes(&bytes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
        let bytes = serde_bytes_buf(deserializer)?;
        if bytes.len() % 4 != 0 {
            return Err(serde::de::Error::invalid_length(bytes.len(), &"a multiple of 4 bytes"));
        }
        Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// A byte string (or, from a text format, a sequence of bytes).
    fn serde_bytes_buf<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl<'de> serde::de::Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
                Ok(bytes.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(bytes)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(byte) = seq.next_element::<u8>()? {
                    bytes.push(byte);
                }
                Ok(bytes)
            }
        }
        deserializer.deserialize_byte_buf(Bytes)
    }
}

/// The run at one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Steps, losses, accuracies, the learning rate in force and every neuron's diagnostics.
    pub evaluation: Evaluation,
    /// The hidden activation.
    pub activation: Activation,
    /// The current settings.
    pub config: RunConfig,
    /// The grid.
    pub grid: GridInfo,
    /// Per hidden layer.
    pub layers: Vec<LayerSnapshot>,
    /// The output on the grid: the probability of class 1 (2-D) or the fitted value (1-D).
    pub output: Vec<f32>,
    /// The output neuron's incoming weights.
    pub output_weights: Vec<f32>,
    /// The output neuron's bias.
    pub output_bias: f32,
    /// Why the run stopped, if it diverged.
    pub divergence: Option<Divergence>,
    /// The newest checkpoint before the step that diverged, to go back to.
    pub rewind_step: Option<u64>,
    /// The data points, in the original coordinates.
    pub points: Arc<PointSet>,
    /// Counts resets, so a viewer knows when to start over.
    pub network_generation: u64,
    /// Commands applied to this network so far (the length of its record).
    pub command_count: usize,
    /// The census's recent state changes (deaths, revivals, …), oldest first.
    pub neuron_events: Arc<Vec<NeuronEvent>>,
}

impl Snapshot {
    /// Steps made.
    pub fn step(&self) -> u64 {
        self.evaluation.step
    }

    /// Some hidden layer is dead on every training input: the output is constant.
    pub fn is_collapsed(&self) -> bool {
        self.evaluation.diagnostics.is_collapsed
    }

    /// The hidden neuron `neuron` of `layer`, if any.
    pub fn neuron(&self, layer: usize, neuron: usize) -> Option<&NeuronSnapshot> {
        self.layers.get(layer)?.neurons.get(neuron)
    }

    /// The count of hidden neurons in `state`.
    pub fn count(&self, state: NeuronState) -> usize {
        self.layers.iter().map(|layer| layer.state_counts[state.index()]).sum()
    }
}

/// The census's events, shared by every snapshot until the census changes.
#[derive(Debug, Default)]
struct SharedEvents {
    events: Arc<Vec<NeuronEvent>>,
    /// What they were read at: the event total, the network generation and the rewind count.
    key: Option<(u64, u64, u64)>,
}

/// What identifies the state an evaluation measured: a session at the same key is the same
/// network on the same data (step, network and data generations, commands, rewinds).
type EvaluationKey = (u64, u64, u64, usize, u64);

fn evaluation_key(session: &Session) -> EvaluationKey {
    (
        session.step_count(),
        session.network_generation(),
        session.data_generation(),
        session.commands().len(),
        session.rewind_count(),
    )
}

/// Builds snapshots for one session, keeping what must persist between them: the histogram
/// ranges, when each neuron entered its state, the grid and its buffers, the latest
/// evaluation (a history point and a snapshot of the same step share one), and which neurons
/// are shown.
#[derive(Debug)]
pub struct Snapshotter {
    /// The grid's side for a small network; a large one gets a coarser grid
    /// ([`picture_resolution`]).
    resolution: usize,
    grid: InputGrid,
    grid_workspace: Option<Workspace<f32>>,
    /// The grid's inputs as the network sees them (standardized when the data is).
    grid_network_inputs: Option<ndarray::Array2<f32>>,
    histogram_ranges: Vec<f32>,
    sample_indices: Vec<usize>,
    points: Arc<PointSet>,
    network_generation: Option<u64>,
    data_generation: Option<u64>,
    /// The grid's side in use, for the network it was chosen for.
    grid_side: Option<usize>,
    /// The census's events as last shared.
    neuron_events: SharedEvents,
    /// The latest evaluation and the state it measured.
    evaluation: Option<(EvaluationKey, Evaluation)>,
    /// The neurons shown in detail.
    shown: ShownNeurons,
}

/// The most multiply-adds one snapshot's pictures may take (a forward pass of the grid): a
/// network that would need more gets a coarser grid, down to [`MIN_PICTURE_RESOLUTION`].
/// Every preset's network fits at [`DEFAULT_GRID_RESOLUTION`]; 2-512-512-1 gets 31.
pub const PICTURE_MULTIPLY_ADDS: usize = 256 << 20;
/// The coarsest grid side a large network's pictures get.
pub const MIN_PICTURE_RESOLUTION: usize = 24;
/// The neurons per layer a snapshot shows in detail until the viewer says which it shows.
pub const DEFAULT_SHOWN_PER_LAYER: usize = 64;

/// The grid side for a network of `sizes` (inputs, hidden layers, output): `resolution`, or
/// less where the grid's forward pass would cost more than [`PICTURE_MULTIPLY_ADDS`]. Depends
/// on the shape alone, so the same network always gets the same pictures.
pub fn picture_resolution(resolution: usize, sizes: &[usize]) -> usize {
    let per_point: usize = sizes.windows(2).map(|pair| pair[0] * pair[1]).sum::<usize>().max(1);
    let is_plane = sizes.first().is_some_and(|&inputs| inputs >= 2);
    let points = PICTURE_MULTIPLY_ADDS / per_point;
    let side = if is_plane { points.isqrt() } else { points / 4 };
    side.clamp(MIN_PICTURE_RESOLUTION.min(resolution), resolution)
}

impl Snapshotter {
    /// A snapshotter with a grid of `resolution` (per side for 2-D sets).
    pub fn new(resolution: usize) -> Self {
        Self {
            resolution,
            grid: InputGrid::plane(resolution, 1.0),
            grid_workspace: None,
            grid_network_inputs: None,
            histogram_ranges: Vec::new(),
            sample_indices: Vec::new(),
            points: Arc::default(),
            network_generation: None,
            data_generation: None,
            grid_side: None,
            neuron_events: SharedEvents::default(),
            evaluation: None,
            shown: ShownNeurons::default(),
        }
    }

    /// Shows `shown` in detail from the next snapshot on.
    pub fn set_shown(&mut self, shown: ShownNeurons) {
        self.shown = shown;
    }

    /// The neurons shown in detail.
    pub fn shown(&self) -> &ShownNeurons {
        &self.shown
    }

    /// [`Session::evaluate`], or the evaluation already made of the same state (a history
    /// point and a snapshot at the same step share it).
    pub fn evaluate(&mut self, session: &mut Session) -> Evaluation {
        let key = evaluation_key(session);
        if let Some((cached, evaluation)) = &self.evaluation
            && *cached == key
        {
            return evaluation.clone();
        }
        let evaluation = session.evaluate();
        self.evaluation = Some((key, evaluation.clone()));
        evaluation
    }

    /// Whether [`Snapshotter::evaluate`] would measure anew.
    pub fn is_evaluation_due(&self, session: &Session) -> bool {
        self.evaluation.as_ref().is_none_or(|(key, _)| *key != evaluation_key(session))
    }

    /// Follows a new network or new data; call after every evaluation.
    pub fn track(&mut self, session: &Session) {
        let side = picture_resolution(self.resolution, &session.network().sizes());
        if self.data_generation != Some(session.data_generation()) || self.grid_side != Some(side) {
            self.grid_side = Some(side);
            self.on_new_data(session, side);
        }
        if self.network_generation != Some(session.network_generation()) {
            self.on_new_network(session);
        }
    }

    fn on_new_data(&mut self, session: &Session, side: usize) {
        let data = session.data();
        let kind = data.kind;
        self.grid = if kind.is_classification() {
            InputGrid::plane(side, kind.extent())
        } else {
            InputGrid::line(side * 4, kind.extent())
        };
        self.grid_workspace = None;
        self.grid_network_inputs = data.scaling.as_ref().map(|scaling| {
            let mut inputs = self.grid.inputs.clone();
            scaling.apply(&mut inputs);
            inputs
        });
        let original = |feature: usize, value: f32| match &data.scaling {
            Some(scaling) => scaling.original(feature, value),
            None => value,
        };
        let to_points = |inputs: &ndarray::Array2<f32>, targets: &ndarray::Array2<f32>| -> Vec<[f32; 3]> {
            inputs
                .rows()
                .into_iter()
                .zip(targets.rows())
                .map(|(x, t)| {
                    if x.len() >= 2 {
                        [original(0, x[0]), original(1, x[1]), t[0]]
                    } else {
                        [original(0, x[0]), t[0], t[0]]
                    }
                })
                .collect()
        };
        self.points = Arc::new(PointSet {
            train: to_points(&data.train_inputs, &data.train_targets),
            test: to_points(&data.test_inputs, &data.test_targets),
        });
        // A fixed sample of training inputs, ordered by target so classes form blocks.
        let n = data.train_len();
        let count = SAMPLE_INPUTS.min(n);
        let mut sample: Vec<usize> = (0..count).map(|i| i * n / count.max(1)).collect();
        sample.sort_by(|&a, &b| data.train_targets[[a, 0]].total_cmp(&data.train_targets[[b, 0]]));
        self.sample_indices = sample;
        self.data_generation = Some(session.data_generation());
    }

    fn on_new_network(&mut self, session: &Session) {
        let probe = session.probe();
        let hidden = session.network().hidden_layer_count();
        self.histogram_ranges = probe.pre_activations[..hidden]
            .iter()
            .map(|z| {
                let largest = z.iter().fold(0.0_f32, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
                (1.5 * largest).max(MIN_HISTOGRAM_RANGE).ceil()
            })
            .collect();
        self.grid_workspace = None;
        self.network_generation = Some(session.network_generation());
    }

    /// A snapshot of `session` right after `evaluation` (its latest [`Session::evaluate`]).
    pub fn snapshot(&mut self, session: &Session, evaluation: &Evaluation) -> Snapshot {
        self.track(session);
        let mlp = session.network();
        let workspace = self.grid_workspace.get_or_insert_with(|| Workspace::new(mlp, self.grid.inputs.nrows()));
        mlp.forward(self.grid_network_inputs.as_ref().unwrap_or(&self.grid.inputs).view(), workspace);
        let hidden = mlp.hidden_layer_count();
        let layers = (0..hidden).map(|index| self.layer_snapshot(session, evaluation, index)).collect();
        let is_classification = session.config().data.dataset.is_classification();
        let workspace = self.grid_workspace.as_ref().expect("filled above");
        let output =
            workspace.outputs().iter().map(|&z| if is_classification { 1.0 / (1.0 + (-z).exp()) } else { z }).collect();
        let output_layer = &mlp.layers[hidden];
        Snapshot {
            evaluation: evaluation.clone(),
            activation: mlp.activation,
            config: session.config().clone(),
            grid: GridInfo {
                resolution: self.grid.resolution,
                extent: self.grid.extent,
                is_plane: self.grid.is_plane(),
            },
            layers,
            output,
            output_weights: output_layer.weights.column(0).to_vec(),
            output_bias: output_layer.biases[0],
            divergence: session.divergence(),
            rewind_step: session.checkpoint_before_divergence(),
            points: Arc::clone(&self.points),
            network_generation: session.network_generation(),
            command_count: session.commands().len(),
            neuron_events: self.neuron_events(session),
        }
    }

    /// The census's events, shared between snapshots until a new one arrives.
    fn neuron_events(&mut self, session: &Session) -> Arc<Vec<NeuronEvent>> {
        let census = session.census();
        let key = (census.event_total(), session.network_generation(), session.rewind_count());
        if self.neuron_events.key != Some(key) {
            self.neuron_events =
                SharedEvents { events: Arc::new(census.events_after(0).copied().collect()), key: Some(key) };
        }
        Arc::clone(&self.neuron_events.events)
    }

    fn layer_snapshot(&self, session: &Session, evaluation: &Evaluation, index: usize) -> LayerSnapshot {
        let mlp = session.network();
        let layer = &mlp.layers[index];
        let diagnostics = &evaluation.diagnostics.layers[index];
        let grid_activations = &self.grid_workspace.as_ref().expect("forward ran").activations[index];
        let z = &session.probe().pre_activations[index];
        let probe_activations = &session.probe().activations[index];
        let range = self.histogram_ranges.get(index).copied().unwrap_or(MIN_HISTOGRAM_RANGE);
        let is_prelu = matches!(mlp.activation, Activation::Prelu { .. });
        let shown = self.shown.range(index, layer.output_size());
        let is_shown = |neuron: usize| shown.contains(neuron) || self.shown.selected == Some((index, neuron));
        let neurons = (0..layer.output_size())
            .map(|neuron| {
                let stats = diagnostics.neurons.get(neuron).copied().unwrap_or_default();
                let track = session.census().track(index, neuron);
                // The census runs between reports; until it sees the new state, say "now".
                let state_since =
                    track.filter(|track| track.state == stats.state).map_or(evaluation.step, |t| t.state_since);
                let detail = is_shown(neuron).then(|| NeuronDetail {
                    response: grid_activations.column(neuron).to_vec(),
                    histogram: histogram(z.column(neuron).iter().copied(), range),
                    incoming_weights: layer.weights.column(neuron).to_vec(),
                });
                NeuronSnapshot {
                    state: stats.state,
                    state_since,
                    fraction_active: stats.fraction_active,
                    mean_gradient_factor: stats.mean_gradient_factor,
                    is_all_negative: stats.is_all_negative,
                    last_revived_at: track.and_then(|track| track.last_revived_at),
                    revivals: track.map_or(0, |track| track.revivals),
                    bias: layer.biases[neuron],
                    prelu_slope: is_prelu.then(|| layer.prelu_slopes[neuron]),
                    detail,
                }
            })
            .collect();
        let activation_matrix = (0..layer.output_size())
            .flat_map(|neuron| self.sample_indices.iter().map(move |&row| probe_activations[[row, neuron]]))
            .collect();
        LayerSnapshot {
            neurons,
            shown,
            histogram_range: range,
            histogram: histogram(z.iter().copied(), range),
            gradient_norm: diagnostics.gradient_norm,
            state_counts: diagnostics.state_counts,
            all_negative: diagnostics.all_negative,
            revived: session.census().revived().get(index).copied().unwrap_or_default(),
            activation_matrix,
        }
    }
}

/// Counts `values` in `HISTOGRAM_BINS` equal bins over `[-range, range]`; values outside go
/// to the end bins and are also counted as below or above, NaN goes nowhere.
pub fn histogram(values: impl Iterator<Item = f32>, range: f32) -> Histogram {
    let mut histogram = Histogram { counts: vec![0; HISTOGRAM_BINS], below: 0, above: 0 };
    let scale = HISTOGRAM_BINS as f32 / (2.0 * range);
    for value in values {
        if value.is_nan() {
            continue;
        }
        if value < -range {
            histogram.below += 1;
        } else if value > range {
            histogram.above += 1;
        }
        // Non-negative after the clamp, so the cast truncates as `floor` would.
        let bin = (((value + range) * scale).max(0.0) as usize).min(HISTOGRAM_BINS - 1);
        histogram.counts[bin] += 1;
    }
    histogram
}

/// The centre of histogram bin `bin` for `range`.
pub fn bin_center(bin: usize, range: f32) -> f32 {
    -range + (bin as f32 + 0.5) * 2.0 * range / HISTOGRAM_BINS as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_range_are_counted_apart_and_in_the_end_bins() {
        let values = [-30.0, -25.0, -20.0, -1.0, 0.0, 19.9, 20.0, 21.0, f32::INFINITY, f32::NAN];
        let histogram = histogram(values.into_iter(), 20.0);
        assert_eq!(histogram.below, 2, "-30 and -25; -20 is on the edge, inside");
        assert_eq!(histogram.above, 2, "21 and +inf; 20 is on the edge, inside");
        assert_eq!(histogram.counts[0], 3, "-30, -25 and -20");
        assert_eq!(histogram.counts[HISTOGRAM_BINS - 1], 4, "19.9, 20, 21 and +inf");
        assert_eq!(histogram.total(), 9, "NaN is not counted");
        assert_eq!(histogram.peak(), 4);
    }

    #[test]
    fn nothing_is_clipped_inside_the_range() {
        let histogram = histogram((0..100).map(|i| i as f32 / 10.0 - 5.0), 5.0);
        assert_eq!((histogram.below, histogram.above), (0, 0));
        assert_eq!(histogram.total(), 100);
    }
}

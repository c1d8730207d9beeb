//! The run's history: one point per reporting interval, plus annotations and divergences.
//! Memory stays bounded for a run of any length: when full, neighbouring points are merged
//! (averaged, keeping the loss's min and max), never silently dropped.

use serde::{Deserialize, Serialize};

use super::command::{Annotation, Divergence};
use super::session::Evaluation;
use crate::nn::NeuronState;

/// The most points a history keeps before it merges neighbours.
pub const MAX_HISTORY_POINTS: usize = 4096;

/// One hidden layer at one point in time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerPoint {
    /// Neurons alive (averaged over merged points).
    pub alive: f32,
    /// Neurons dying.
    pub dying: f32,
    /// Neurons below zero on every training input that still get gradient (not ReLU).
    pub below_zero: f32,
    /// Neurons dead.
    pub dead: f32,
    /// Neurons saturated.
    pub saturated: f32,
    /// Neurons negative on every training input, whatever the activation (under ReLU, the
    /// dead ones).
    pub all_negative: f32,
    /// Revivals so far (neurons that left the all-negative state), as the census counted them;
    /// for merged points, the latest.
    pub revived: u64,
    /// The gradient norm of the layer's weights.
    pub gradient_norm: f64,
}

/// The numbers of one reporting interval (or the average of several merged ones).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// The (last) step this point covers.
    pub step: u64,
    /// Passes over the training set at that step.
    pub epoch: f64,
    /// How many reported intervals this point averages.
    pub span: u32,
    /// Mean training loss.
    pub train_loss: f64,
    /// The lowest training loss merged into this point.
    pub train_loss_min: f64,
    /// The highest training loss merged into this point.
    pub train_loss_max: f64,
    /// Mean test loss.
    pub test_loss: f64,
    /// Training accuracy (classification only).
    pub train_accuracy: Option<f64>,
    /// Test accuracy (classification only).
    pub test_accuracy: Option<f64>,
    /// The learning rate in force.
    pub learning_rate: f64,
    /// Per hidden layer.
    pub layers: Vec<LayerPoint>,
    /// Every hidden neuron's fraction active, layer by layer (input side first).
    pub fraction_active: Vec<f32>,
    /// The gradient norm of the output layer's weights.
    pub output_gradient_norm: f64,
    /// Some hidden layer was dead on every input (for merged points: at the latest one).
    pub is_collapsed: bool,
}

impl HistoryPoint {
    /// The point for one evaluation.
    pub fn from_evaluation(evaluation: &Evaluation) -> Self {
        let diagnostics = &evaluation.diagnostics;
        let layers = diagnostics
            .layers
            .iter()
            .enumerate()
            .map(|(index, layer)| LayerPoint {
                alive: layer.count(NeuronState::Alive) as f32,
                dying: layer.count(NeuronState::Dying) as f32,
                below_zero: layer.count(NeuronState::BelowZero) as f32,
                dead: layer.count(NeuronState::Dead) as f32,
                saturated: layer.count(NeuronState::Saturated) as f32,
                all_negative: layer.all_negative as f32,
                revived: evaluation.revived.get(index).copied().unwrap_or_default(),
                gradient_norm: layer.gradient_norm,
            })
            .collect();
        let fraction_active =
            diagnostics.layers.iter().flat_map(|layer| layer.neurons.iter().map(|n| n.fraction_active)).collect();
        Self {
            step: evaluation.step,
            epoch: evaluation.epoch,
            output_gradient_norm: diagnostics.output_gradient_norm,
            is_collapsed: diagnostics.is_collapsed,
            span: 1,
            train_loss: evaluation.train_loss,
            train_loss_min: evaluation.train_loss,
            train_loss_max: evaluation.train_loss,
            test_loss: evaluation.test_loss,
            train_accuracy: evaluation.train_accuracy,
            test_accuracy: evaluation.test_accuracy,
            learning_rate: evaluation.learning_rate,
            layers,
            fraction_active,
        }
    }

    /// The average of `self` (earlier) and `later`, weighted by span; it ends at `later`'s step.
    pub fn merged(&self, later: &Self) -> Self {
        let (a, b) = (f64::from(self.span), f64::from(later.span));
        let mix = |x: f64, y: f64| (x * a + y * b) / (a + b);
        let mix32 = |x: f32, y: f32| mix(f64::from(x), f64::from(y)) as f32;
        let mix_option = |x: Option<f64>, y: Option<f64>| x.zip(y).map(|(x, y)| mix(x, y));
        let same_shape = self.layers.len() == later.layers.len();
        let layers = if same_shape {
            self.layers
                .iter()
                .zip(&later.layers)
                .map(|(x, y)| LayerPoint {
                    alive: mix32(x.alive, y.alive),
                    dying: mix32(x.dying, y.dying),
                    below_zero: mix32(x.below_zero, y.below_zero),
                    dead: mix32(x.dead, y.dead),
                    saturated: mix32(x.saturated, y.saturated),
                    all_negative: mix32(x.all_negative, y.all_negative),
                    revived: y.revived,
                    gradient_norm: mix(x.gradient_norm, y.gradient_norm),
                })
                .collect()
        } else {
            later.layers.clone()
        };
        let fraction_active = if self.fraction_active.len() == later.fraction_active.len() {
            self.fraction_active.iter().zip(&later.fraction_active).map(|(&x, &y)| mix32(x, y)).collect()
        } else {
            later.fraction_active.clone()
        };
        Self {
            step: later.step,
            epoch: later.epoch,
            output_gradient_norm: mix(self.output_gradient_norm, later.output_gradient_norm),
            is_collapsed: later.is_collapsed,
            span: self.span + later.span,
            train_loss: mix(self.train_loss, later.train_loss),
            train_loss_min: self.train_loss_min.min(later.train_loss_min),
            train_loss_max: self.train_loss_max.max(later.train_loss_max),
            test_loss: mix(self.test_loss, later.test_loss),
            train_accuracy: mix_option(self.train_accuracy, later.train_accuracy),
            test_accuracy: mix_option(self.test_accuracy, later.test_accuracy),
            learning_rate: mix(self.learning_rate, later.learning_rate),
            layers,
            fraction_active,
        }
    }
}

/// Everything a run's plots need over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Points in step order.
    pub points: Vec<HistoryPoint>,
    /// Every applied command, in words.
    pub annotations: Vec<Annotation>,
    /// Every divergence.
    pub divergences: Vec<Divergence>,
    capacity: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::with_capacity(MAX_HISTORY_POINTS)
    }
}

impl History {
    /// An empty history that keeps at most `capacity` points (at least 2).
    pub fn with_capacity(capacity: usize) -> Self {
        Self { points: Vec::new(), annotations: Vec::new(), divergences: Vec::new(), capacity: capacity.max(2) }
    }

    /// Adds a point, merging neighbours in pairs when full.
    pub fn push(&mut self, point: HistoryPoint) {
        if self.points.len() >= self.capacity {
            self.halve();
        }
        self.points.push(point);
    }

    /// Merges every pair of neighbouring points: the history keeps its whole span at half
    /// the resolution.
    fn halve(&mut self) {
        let merged: Vec<HistoryPoint> = self
            .points
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => a.merged(b),
                [a] => a.clone(),
                _ => unreachable!("chunks(2) yields one or two"),
            })
            .collect();
        self.points = merged;
    }

    /// Adds an annotation. Annotations are few (one per user action) and kept whole, up to
    /// the same capacity; beyond it the oldest are merged into their successors' text.
    pub fn annotate(&mut self, annotation: Annotation) {
        if self.annotations.len() >= self.capacity {
            let oldest = self.annotations.remove(0);
            if let Some(next) = self.annotations.first_mut() {
                next.text = format!("{}; {}", oldest.text, next.text);
            }
        }
        self.annotations.push(annotation);
    }

    /// Clears everything (a new run).
    pub fn clear(&mut self) {
        self.points.clear();
        self.annotations.clear();
        self.divergences.clear();
    }

    /// Forgets everything after `step` (the run went back to it). A merged point that ends
    /// after `step` goes too.
    pub fn truncate_after(&mut self, step: u64) {
        self.points.retain(|point| point.step <= step);
        self.annotations.retain(|annotation| annotation.step <= step);
        self.divergences.retain(|divergence| divergence.step <= step);
    }

    /// The most recent point.
    pub fn last(&self) -> Option<&HistoryPoint> {
        self.points.last()
    }
}

//! The run's history: one point per reporting interval, plus annotations and divergences.
//! Memory stays bounded for a run of any length: when full, neighbouring points are merged,
//! never silently dropped. Losses are averaged (keeping their min and max); neuron counts keep
//! the later point's value, so that a sharp event stays sharp (see [`HistoryPoint::merged`]).

use serde::{Deserialize, Serialize};

use super::command::{Annotation, Divergence};
use super::evaluation::Evaluation;
use crate::nn::NeuronState;

/// The most points a history keeps before it merges neighbours.
pub const MAX_HISTORY_POINTS: usize = 4096;

/// One hidden layer at one point in time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerPoint {
    /// Neurons alive (for merged points: at the latest one, like every count here).
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

    /// `self` (earlier) and `later` as one point that ends at `later`'s step: losses, accuracies,
    /// gradient norms and fractions active are averaged, weighted by span (the loss keeps its
    /// min and max); the per-layer neuron counts are `later`'s.
    ///
    /// Why counts are not averaged: a count is the state of the network at one step, and the
    /// merged point stands at `later`'s step, where `later`'s count was true. An average would
    /// turn 8 neurons dying at once into a ramp over every merged stretch (2000 steps after a few
    /// halvings) and would show fractions of a neuron that never existed. The loss, by
    /// contrast, is a noisy measurement whose mean over the stretch is the honest summary.
    /// Pure and deterministic: the same two points always give the same bits.
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
                .map(|(x, y)| {
                    // Every field named, so that a new one must choose between mean and latest.
                    let LayerPoint { alive, dying, below_zero, dead, saturated, all_negative, revived, gradient_norm } =
                        *y;
                    let gradient_norm = mix(x.gradient_norm, gradient_norm);
                    LayerPoint { alive, dying, below_zero, dead, saturated, all_negative, revived, gradient_norm }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A point at `step` whose single layer has `dead` of 8 neurons dead, with loss `loss`.
    fn point(step: u64, dead: f32, loss: f64) -> HistoryPoint {
        let layer = LayerPoint {
            alive: 8.0 - dead,
            dead,
            all_negative: dead,
            gradient_norm: loss * 10.0,
            ..LayerPoint::default()
        };
        HistoryPoint {
            step,
            span: 1,
            train_loss: loss,
            train_loss_min: loss,
            train_loss_max: loss,
            test_loss: loss,
            layers: vec![layer],
            fraction_active: vec![1.0 - dead / 8.0],
            ..HistoryPoint::default()
        }
    }

    #[test]
    fn merged_counts_are_the_later_points_and_losses_the_mean() {
        // 8 neurons die between step 10 and step 20.
        let merged = point(10, 0.0, 1.0).merged(&point(20, 8.0, 3.0));
        assert_eq!(merged.step, 20);
        assert_eq!(merged.span, 2);
        let layer = merged.layers[0];
        assert_eq!((layer.alive, layer.dead, layer.all_negative), (0.0, 8.0, 8.0), "not a ramp through 4");
        assert_eq!(merged.train_loss, 2.0);
        assert_eq!((merged.train_loss_min, merged.train_loss_max), (1.0, 3.0));
        assert_eq!(layer.gradient_norm, 20.0, "gradient norms stay a mean");
        assert_eq!(merged.fraction_active, vec![0.5], "fractions active stay a mean");
    }

    #[test]
    fn spans_weight_the_means_but_not_the_counts() {
        let earlier = point(10, 0.0, 1.0).merged(&point(20, 0.0, 1.0)).merged(&point(30, 0.0, 1.0));
        let merged = earlier.merged(&point(40, 8.0, 5.0));
        assert_eq!(merged.span, 4);
        assert_eq!(merged.train_loss, 2.0, "(3 × 1 + 1 × 5) / 4");
        assert_eq!(merged.layers[0].dead, 8.0);
    }

    #[test]
    fn a_death_of_eight_stays_one_step_after_many_halvings() {
        let mut history = History::with_capacity(64);
        for index in 0..1000_u64 {
            let dead = if index * 20 >= 9_990 { 8.0 } else { 0.0 };
            history.push(point(index * 20, dead, 1.0));
        }
        assert!(history.points.len() <= 64);
        assert!(history.points.iter().any(|p| p.span > 8), "the history merged several times");
        let counts: Vec<f32> = history.points.iter().map(|p| p.layers[0].dead).collect();
        assert!(counts.iter().all(|&c| c == 0.0 || c == 8.0), "no fraction of a neuron: {counts:?}");
        let first_dead = history.points.iter().position(|p| p.layers[0].dead == 8.0).expect("the death shows");
        assert!(history.points[..first_dead].iter().all(|p| p.step < 9_990));
        assert!(history.points[first_dead..].iter().all(|p| p.layers[0].dead == 8.0), "one step up, no ramp");
    }

    #[test]
    fn merging_is_deterministic() {
        let build = || {
            let mut history = History::with_capacity(16);
            for index in 0..200_u64 {
                history.push(point(index * 7, (index % 9) as f32, 1.0 / (1.0 + index as f64)));
            }
            history
        };
        let (first, second) = (build(), build());
        assert_eq!(first, second);
        let bits = |h: &History| h.points.iter().map(|p| p.train_loss.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&first), bits(&second));
    }
}

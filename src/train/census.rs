//! The neuron census: every hidden neuron's state on the training inputs, taken by the session
//! itself at fixed steps (and after every command), so that "dead since step N", "revived at
//! step N" and the cumulative revival counts are the same numbers in the app, on the command
//! line and in a replay, whatever the reporting interval.
//!
//! A *revival* is a neuron leaving the "negative on every training input" test: under ReLU that
//! is a dead neuron coming back (possible beyond the first hidden layer, when the layers below
//! it move, or while momentum or Adam still carry it), under Leaky ReLU, PReLU or ELU a neuron
//! that climbed back above zero somewhere.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::nn::{NeuronState, NeuronStats};

/// The most state changes the census keeps (the oldest go first); the total is still counted.
pub const MAX_NEURON_EVENTS: usize = 4096;
/// The census runs at least every this many steps...
pub const MIN_CENSUS_INTERVAL_STEPS: u64 = 10;
/// ...and at most this many steps apart.
pub const MAX_CENSUS_INTERVAL_STEPS: u64 = 1000;

/// Steps between two censuses: about one pass over the training set (within the bounds above),
/// so that the census, a forward pass over every training input, costs at most about a third
/// of the training it watches.
pub fn census_interval_steps(train_len: usize, batch_size: usize) -> u64 {
    ((train_len / batch_size.max(1)) as u64).clamp(MIN_CENSUS_INTERVAL_STEPS, MAX_CENSUS_INTERVAL_STEPS)
}

/// What the census knows of one neuron.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronTrack {
    /// Its state at the last census.
    pub state: NeuronState,
    /// The census step at which it entered that state.
    pub state_since: u64,
    /// Negative on every training input at the last census.
    pub is_all_negative: bool,
    /// The last census step at which it left the all-negative (under ReLU: dead) state.
    pub last_revived_at: Option<u64>,
    /// How many times it did.
    pub revivals: u32,
}

/// One neuron's change of state, as the census saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronEvent {
    /// The census step.
    pub step: u64,
    /// The hidden layer, from 0.
    pub layer: usize,
    /// The neuron in its layer, from 0.
    pub neuron: usize,
    /// The state before.
    pub from: NeuronState,
    /// The state now.
    pub to: NeuronState,
    /// It left the all-negative (dead) state: a revival.
    pub is_revival: bool,
}

/// Every hidden neuron's tracked state, the cumulative revivals per layer, and the recent
/// state changes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NeuronCensus {
    /// Per hidden layer, per neuron.
    layers: Vec<Vec<NeuronTrack>>,
    /// Per hidden layer, revivals since the network was built.
    revived: Vec<u64>,
    /// The most recent state changes, oldest first.
    events: VecDeque<NeuronEvent>,
    /// State changes ever recorded (`events` holds the last of them).
    event_total: u64,
    /// The step of the last census.
    last_step: Option<u64>,
}

impl NeuronCensus {
    /// Takes in the census made at `step`: `layers[l][n]` is neuron `n` of hidden layer `l`.
    /// A new shape (the first census, a new architecture) starts the tracking over.
    pub fn record(&mut self, step: u64, layers: &[Vec<NeuronStats>]) {
        let same_shape = self.layers.len() == layers.len()
            && self.layers.iter().zip(layers).all(|(tracked, stats)| tracked.len() == stats.len());
        if !same_shape {
            self.start_over(step, layers);
            return;
        }
        for (layer_index, (tracks, stats)) in self.layers.iter_mut().zip(layers).enumerate() {
            for (neuron, (track, stats)) in tracks.iter_mut().zip(stats).enumerate() {
                let is_revival = track.is_all_negative && !stats.is_all_negative;
                if is_revival {
                    track.last_revived_at = Some(step);
                    track.revivals += 1;
                    self.revived[layer_index] += 1;
                }
                track.is_all_negative = stats.is_all_negative;
                if stats.state == track.state && !is_revival {
                    continue;
                }
                let event =
                    NeuronEvent { step, layer: layer_index, neuron, from: track.state, to: stats.state, is_revival };
                if stats.state != track.state {
                    track.state = stats.state;
                    track.state_since = step;
                }
                if self.events.len() == MAX_NEURON_EVENTS {
                    self.events.pop_front();
                }
                self.events.push_back(event);
                self.event_total += 1;
            }
        }
        self.last_step = Some(step);
    }

    fn start_over(&mut self, step: u64, layers: &[Vec<NeuronStats>]) {
        self.layers = layers
            .iter()
            .map(|stats| {
                stats
                    .iter()
                    .map(|stats| NeuronTrack {
                        state: stats.state,
                        state_since: step,
                        is_all_negative: stats.is_all_negative,
                        last_revived_at: None,
                        revivals: 0,
                    })
                    .collect()
            })
            .collect();
        self.revived = vec![0; layers.len()];
        self.events.clear();
        self.last_step = Some(step);
    }

    /// What the census knows of neuron `neuron` of hidden layer `layer`.
    pub fn track(&self, layer: usize, neuron: usize) -> Option<&NeuronTrack> {
        self.layers.get(layer)?.get(neuron)
    }

    /// Per hidden layer, the revivals since the network was built.
    pub fn revived(&self) -> &[u64] {
        &self.revived
    }

    /// The step of the last census, if one was taken.
    pub fn last_step(&self) -> Option<u64> {
        self.last_step
    }

    /// State changes ever recorded. Pass the value you last saw to [`NeuronCensus::events_after`].
    pub fn event_total(&self) -> u64 {
        self.event_total
    }

    /// The state changes recorded after the first `seen` (those still kept), oldest first.
    pub fn events_after(&self, seen: u64) -> impl Iterator<Item = &NeuronEvent> {
        let kept_from = self.event_total - self.events.len() as u64;
        let skip = seen.saturating_sub(kept_from) as usize;
        self.events.iter().skip(skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(state: NeuronState, is_all_negative: bool) -> NeuronStats {
        NeuronStats { is_all_negative, state, ..NeuronStats::default() }
    }

    #[test]
    fn a_dead_neuron_that_comes_back_is_counted_once_per_return() {
        let mut census = NeuronCensus::default();
        let alive = stats(NeuronState::Alive, false);
        let dead = stats(NeuronState::Dead, true);
        census.record(0, &[vec![alive, alive]]);
        census.record(10, &[vec![dead, alive]]);
        census.record(20, &[vec![alive, alive]]);
        census.record(30, &[vec![dead, alive]]);
        census.record(40, &[vec![alive, alive]]);
        let track = census.track(0, 0).unwrap();
        assert_eq!((track.revivals, track.last_revived_at, track.state_since), (2, Some(40), 40));
        assert_eq!(census.revived(), &[2]);
        assert_eq!(census.event_total(), 4);
        let revivals: Vec<u64> = census.events_after(0).filter(|e| e.is_revival).map(|e| e.step).collect();
        assert_eq!(revivals, [20, 40]);
        assert_eq!(census.events_after(3).count(), 1);
    }

    #[test]
    fn the_event_log_is_bounded_but_the_total_keeps_counting() {
        let mut census = NeuronCensus::default();
        let (alive, dying) = (stats(NeuronState::Alive, false), stats(NeuronState::Dying, false));
        census.record(0, &[vec![alive]]);
        for step in 1..=(MAX_NEURON_EVENTS as u64 + 10) {
            census.record(step, &[vec![if step % 2 == 0 { alive } else { dying }]]);
        }
        assert_eq!(census.event_total(), MAX_NEURON_EVENTS as u64 + 10);
        assert_eq!(census.events_after(0).count(), MAX_NEURON_EVENTS);
        assert_eq!(census.events_after(census.event_total() - 1).count(), 1);
    }

    #[test]
    fn the_interval_is_about_one_epoch_within_bounds() {
        assert_eq!(census_interval_steps(250, 10), 25);
        assert_eq!(census_interval_steps(250, 250), MIN_CENSUS_INTERVAL_STEPS);
        assert_eq!(census_interval_steps(1_000_000, 1), MAX_CENSUS_INTERVAL_STEPS);
    }
}

//! The host's side of [`super::remote`]: the trainer a Web Worker runs in turns, and the batches
//! of events and views it sends to the page, no more than [`MAX_BATCHES_IN_FLIGHT`] unread.

use std::sync::Arc;
use std::time::Duration;

use super::remote::{FromHost, MAX_BATCHES_IN_FLIGHT, MAX_EVENTS_PER_BATCH, ToHost, decode, encode};
use super::trainer::TrainerEvent;
use super::view::View;
use super::worker::{Pump, TrainerHandle};

/// What the host should do after [`TrainerHost::run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostWait {
    /// Run again as soon as messages have been read.
    Now,
    /// Run again after this long, or when a message arrives.
    After(Duration),
    /// Run again when a message arrives.
    ForMessage,
}

/// The host's side: a trainer run in turns, and what waits to go to the page.
pub struct TrainerHost {
    /// The trainer, once started (in frame: this instance has no threads of its own).
    trainer: Option<TrainerHandle>,
    /// Events read from the trainer that did not fit the last batch.
    events: Vec<TrainerEvent>,
    /// The newest view not sent yet.
    view: Option<Arc<View>>,
    /// The last view taken from the trainer, sent or waiting: the trainer's slot keeps handing
    /// it out until a newer one comes, and it goes to the page once.
    taken: Option<Arc<View>>,
    /// Batches sent and not yet read by the page.
    in_flight: usize,
    /// Why the trainer died, until said.
    death: Option<String>,
}

impl Default for TrainerHost {
    fn default() -> Self {
        Self::new()
    }
}

impl TrainerHost {
    /// A host with no trainer yet (it starts on [`ToHost::Start`]).
    pub fn new() -> Self {
        Self { trainer: None, events: Vec::new(), view: None, taken: None, in_flight: 0, death: None }
    }

    /// Takes one message from the page.
    pub fn receive(&mut self, message: &[u8]) {
        match decode::<ToHost>(message) {
            Ok(ToHost::Start(config)) => {
                self.trainer = Some(TrainerHandle::in_frame(*config, Box::new(|| {})));
            }
            Ok(ToHost::Command(command)) => match &self.trainer {
                Some(trainer) => {
                    if let Err(error) = trainer.send(command) {
                        self.events.push(TrainerEvent::CommandRefused(error.to_string()));
                    }
                }
                None => self.death = Some("the trainer was sent a command before it started".to_owned()),
            },
            Ok(ToHost::Received) => self.in_flight = self.in_flight.saturating_sub(1),
            Err(error) => self.events.push(TrainerEvent::CommandRefused(error.to_string())),
        }
    }

    /// Runs the trainer for at most `budget`, then collects what it said.
    pub fn run(&mut self, budget: Duration) -> HostWait {
        let Some(trainer) = &mut self.trainer else { return HostWait::ForMessage };
        let pump = trainer.pump(budget);
        while self.events.len() < MAX_EVENTS_PER_BATCH {
            match trainer.try_event() {
                Some(TrainerEvent::WorkerDied(message)) => {
                    self.death = Some(message);
                    break;
                }
                Some(event) => self.events.push(event),
                None => break,
            }
        }
        if let Some(view) = trainer.latest_view()
            && self.taken.as_ref().is_none_or(|taken| !Arc::ptr_eq(taken, &view))
        {
            self.taken = Some(Arc::clone(&view));
            self.view = Some(view);
        }
        match pump {
            Pump::Again => HostWait::Now,
            Pump::After(delay) => HostWait::After(delay),
            Pump::Idle => HostWait::ForMessage,
        }
    }

    /// The next message for the page, if there is news and the page keeps up.
    pub fn take_outgoing(&mut self) -> Option<Vec<u8>> {
        if let Some(message) = self.death.take() {
            self.trainer = None;
            return Some(encode(&FromHost::Died(message)));
        }
        if self.in_flight >= MAX_BATCHES_IN_FLIGHT || (self.events.is_empty() && self.view.is_none()) {
            return None;
        }
        self.in_flight += 1;
        Some(encode(&FromHost::Batch { events: std::mem::take(&mut self.events), view: self.view.take() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_waits_for_the_page_to_read_before_it_sends_more() {
        let mut host = TrainerHost::new();
        host.receive(&encode(&ToHost::Start(Box::default())));
        let mut sent = 0;
        for _ in 0..50 {
            host.run(Duration::from_millis(2));
            if host.take_outgoing().is_some() {
                sent += 1;
            }
        }
        assert_eq!(sent, MAX_BATCHES_IN_FLIGHT, "no more until the page reads one");
        host.receive(&encode(&ToHost::Received));
        host.run(Duration::from_millis(2));
        assert!(host.take_outgoing().is_some());
    }

    /// A paused trainer's view goes to the page once: each "read" used to send the same view
    /// again, so a paused tab and its worker encoded and decoded it back and forth forever.
    #[test]
    fn a_view_that_has_not_changed_is_not_sent_again() {
        let mut host = TrainerHost::new();
        host.receive(&encode(&ToHost::Start(Box::default())));
        host.receive(&encode(&ToHost::Command(crate::train::WorkerCommand::Pause)));
        let mut last_batch = 0;
        for turn in 0..200 {
            host.run(Duration::from_millis(2));
            if host.take_outgoing().is_some() {
                last_batch = turn;
                host.receive(&encode(&ToHost::Received));
            }
        }
        assert!(last_batch < 100, "the paused host went quiet (its last batch at turn {last_batch})");
    }
}

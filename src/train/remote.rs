//! The trainer in another instance of this module, reached only by messages: a browser's Web
//! Worker, which runs the trainer on a core of its own while the page draws at its own rate.
//! No memory is shared (no `SharedArrayBuffer`, so no special server headers): commands go to
//! the worker and events and views come back as bytes ([`encode`], CBOR), through a
//! [`TrainerPort`] that the page implements with `postMessage`.
//!
//! The worker side is a [`super::remote_host::TrainerHost`]: it runs the in-frame trainer (the very code of the
//! other backends) for a time budget a turn and hands back a [`FromHost::Batch`] of the events
//! and the newest view. The page side is the `Worker` backend of
//! `TrainerHandle` ([`super::worker`]), which turns batches back into the handle's queue and
//! snapshot slot, so the app does not know where its trainer runs.
//!
//! Flow control keeps every queue bounded: the host sends a batch only while fewer than
//! [`MAX_BATCHES_IN_FLIGHT`] wait unread, so a page that falls behind (a hidden tab draws once a
//! second) gets merged history points and the newest view, as a slow UI does from a thread.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::autopsy::AutopsyError;
use super::config::RunConfig;
use super::trainer::{TrainerEvent, WorkerCommand};
use super::view::View;

/// The most batches the host sends before the page says it read one.
pub const MAX_BATCHES_IN_FLIGHT: usize = 2;
/// The most events one batch carries.
pub const MAX_EVENTS_PER_BATCH: usize = 1024;

/// A message from the page to the host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToHost {
    /// Start a trainer on this config, running.
    Start(Box<RunConfig>),
    /// A command for the trainer.
    Command(WorkerCommand),
    /// The page read a batch: the host may send another.
    Received,
}

/// A message from the host to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromHost {
    /// What the trainer said since the last batch, in order, and its newest view if it
    /// published one since.
    Batch {
        /// Events, in order.
        events: Vec<TrainerEvent>,
        /// The newest view.
        view: Option<Arc<View>>,
    },
    /// The trainer could not start, or stopped; why.
    Died(String),
}

/// An autopsy's error crosses as its words (its causes hold types that stay in their
/// instance), and arrives as [`AutopsyError::Elsewhere`], which says the same.
impl Serialize for AutopsyError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for AutopsyError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(AutopsyError::Elsewhere)
    }
}

/// A message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The bytes are not a message of the expected type.
    #[error("a trainer message could not be read: {0}")]
    Decode(String),
}

/// `value` as the bytes of one message.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail, and every type sent is plain serde data.
    ciborium::into_writer(value, &mut bytes).expect("a trainer message serializes");
    bytes
}

/// The message in `bytes`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    ciborium::from_reader(bytes).map_err(|error| WireError::Decode(error.to_string()))
}

/// What arrived from the host, as the page's port hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortMessage {
    /// The bytes of one [`FromHost`] message.
    Data(Vec<u8>),
    /// The host could not be started or reached (a worker's `error` event); why.
    Failed(String),
}

/// The page's end of the line to a host: posts messages and hands over what arrived. Never
/// blocks. `Send` like the rest of a `TrainerHandle` (a browser's port keeps its JavaScript
/// objects on the page's thread and holds only a key to them).
pub trait TrainerPort: Send {
    /// Sends the bytes of one [`ToHost`] message.
    fn post(&self, message: Vec<u8>);
    /// The oldest message that arrived and was not taken yet.
    fn try_receive(&self) -> Option<PortMessage>;
}

/// Starts a host (a Web Worker) and returns the port to it; `Err` says why it could not.
pub type PortFactory = std::rc::Rc<dyn Fn() -> Result<Box<dyn TrainerPort>, String>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::snapshot::Snapshotter;
    use crate::train::{ModeView, Session};

    #[test]
    fn a_view_crosses_the_wire_bit_for_bit() {
        let mut session = Session::new(RunConfig::default()).unwrap();
        for _ in 0..50 {
            session.step();
        }
        let mut snapshotter = Snapshotter::new(24);
        let evaluation = snapshotter.evaluate(&mut session);
        let snapshot = Arc::new(snapshotter.snapshot(&session, &evaluation));
        let view = Arc::new(View { run: snapshot, mode: ModeView::Run, step: 50, rewind_step: None, lesson: None });
        let message = FromHost::Batch { events: vec![TrainerEvent::Running(true)], view: Some(view) };
        let back: FromHost = decode(&encode(&message)).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn commands_cross_the_wire_whatever_their_shape() {
        let commands = [
            WorkerCommand::Session(crate::train::SessionCommand::SetLearningRate { learning_rate: 3.0 }),
            WorkerCommand::SetSpeed(crate::train::Speed::StepsPerSecond(200.0)),
            WorkerCommand::Load(Box::default()),
            WorkerCommand::RequestNetwork,
        ];
        for command in commands {
            let message = ToHost::Command(command);
            assert_eq!(decode::<ToHost>(&encode(&message)).unwrap(), message);
        }
        assert!(decode::<ToHost>(b"not cbor").is_err());
    }

    #[test]
    fn an_autopsy_error_crosses_as_its_words() {
        let error = AutopsyError::Diverged(7);
        let neuron = crate::train::autopsy::NeuronRef { layer: 0, neuron: 1 };
        let message =
            FromHost::Batch { events: vec![TrainerEvent::Autopsy { neuron, result: Err(error.clone()) }], view: None };
        let FromHost::Batch { events, .. } = decode(&encode(&message)).unwrap() else { panic!("a batch") };
        let [TrainerEvent::Autopsy { result: Err(back), .. }] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(back, &AutopsyError::Elsewhere(error.to_string()));
        assert_eq!(back.to_string(), "the replay diverged at step 7, where the run went on");
    }
}

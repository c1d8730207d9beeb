//! Runs: the config, the deterministic session, the ensemble that trains one, two or many
//! sessions in lockstep, the settings table, commands, the replayable record and its replay
//! cursor, the trainer loop and its thread, presets and lessons. Nothing here knows that a UI
//! exists.

pub mod autopsy;
pub mod budget;
pub mod census;
pub mod clock;
pub mod command;
pub mod config;
pub mod ensemble;
pub mod evaluation;
pub mod export;
pub mod figures;
pub mod history;
pub mod lessons;
pub mod presets;
pub mod record;
pub mod remedy;
pub mod remote;
pub mod remote_host;
pub mod replay;
pub mod seeds;
pub mod session;
pub mod settings;
pub mod snapshot;
pub mod sweep;
pub mod text;
pub(crate) mod threads;
pub mod trainer;
pub mod view;
pub mod worker;

pub use command::{Annotation, Divergence, DivergenceCause, SessionCommand, StampedCommand};
pub use config::{ConfigError, RunConfig};
pub use ensemble::{Branch, Ensemble, EnsembleError, Target};
pub use evaluation::Evaluation;
pub use history::{History, HistoryPoint};
pub use record::{LaneRecord, RunRecord};
pub use replay::{EnsembleCursor, LaneCursor, LaneStep, ReplayCursor, Verification};
pub use session::{Session, StepOutcome};
pub use snapshot::{Snapshot, Snapshotter};
pub use trainer::{Speed, Trainer, TrainerEvent, WorkerCommand};
pub use view::{ModeView, View};
pub use worker::TrainerHandle;

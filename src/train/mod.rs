//! Runs: the config, the deterministic session, commands, the replayable record and presets.
//! Nothing here knows that a UI exists.

pub mod command;
pub mod config;
pub mod export;
pub mod history;
pub mod presets;
pub mod record;
pub mod session;
pub mod snapshot;
pub mod worker;

pub use command::{Annotation, Divergence, DivergenceCause, SessionCommand, StampedCommand};
pub use config::{ConfigError, RunConfig};
pub use history::{History, HistoryPoint};
pub use record::RunRecord;
pub use session::{Evaluation, Session, StepOutcome};
pub use snapshot::{Snapshot, Snapshotter};
pub use worker::{Speed, TrainerEvent, TrainerHandle, WorkerCommand};

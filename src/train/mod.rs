//! Runs: the config, the deterministic session, commands, the replayable record and its replay
//! cursor, the trainer loop and its thread, presets. Nothing here knows that a UI exists.

pub mod autopsy;
pub mod census;
pub mod clock;
pub mod command;
pub mod compare;
pub mod config;
pub mod export;
pub mod history;
pub mod lessons;
pub mod presets;
pub mod record;
pub mod replay;
pub mod seeds;
pub mod session;
pub mod snapshot;
pub mod sweep;
pub mod trainer;
pub mod worker;

pub use command::{Annotation, Divergence, DivergenceCause, SessionCommand, StampedCommand};
pub use compare::{Branch, Comparison, Fork, Target};
pub use config::{ConfigError, RunConfig};
pub use history::{History, HistoryPoint};
pub use record::RunRecord;
pub use replay::{ComparisonCursor, ComparisonStep, ReplayCursor, Verification};
pub use session::{Evaluation, Session, StepOutcome};
pub use snapshot::{Snapshot, Snapshotter};
pub use trainer::{Speed, Trainer, TrainerEvent, WorkerCommand};
pub use worker::TrainerHandle;

//! Runs: the config, the deterministic session, commands, the replayable record and presets.
//! Nothing here knows that a UI exists.

pub mod command;
pub mod config;
pub mod presets;
pub mod record;
pub mod session;

pub use command::{Annotation, Divergence, DivergenceCause, SessionCommand, StampedCommand};
pub use config::{ConfigError, RunConfig};
pub use record::RunRecord;
pub use session::{Evaluation, Session, StepOutcome};

//! The replayable run record: a config plus the commands it received, each stamped with the
//! step at which it was applied.

use serde::{Deserialize, Serialize};

use super::command::StampedCommand;
use super::config::RunConfig;

/// A run, as it can be replayed: start from `config`, apply each command before the step it is
/// stamped with, and make `steps` steps in all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// The record format's version.
    pub format: u32,
    /// The config the run started from.
    pub config: RunConfig,
    /// Commands in the order they were applied.
    pub commands: Vec<StampedCommand>,
    /// Steps made in all.
    pub steps: u64,
}

/// The record format written by this version.
pub const RECORD_FORMAT: u32 = 1;

impl RunRecord {
    /// An empty record starting from `config`.
    pub fn new(config: RunConfig) -> Self {
        Self { format: RECORD_FORMAT, config, commands: Vec::new(), steps: 0 }
    }

    /// This record as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// Parses a record from JSON, checking its config.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let record: Self = serde_json::from_str(text).map_err(|error| format!("not a run record: {error}"))?;
        if record.format != RECORD_FORMAT {
            return Err(format!(
                "run record format {} is not supported (this version reads {RECORD_FORMAT})",
                record.format
            ));
        }
        record.config.validate().map_err(|error| format!("the record's config is invalid: {error}"))?;
        Ok(record)
    }
}

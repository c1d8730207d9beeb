//! Presets: one per step of the story, built into the binary from `assets/presets/*.toml`.

use super::config::{ConfigError, RunConfig};

/// A named, built-in run config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// The name used on the command line (`--preset NAME`).
    pub name: &'static str,
    /// The TOML text.
    pub toml: &'static str,
}

macro_rules! preset {
    ($name:literal) => {
        Preset { name: $name, toml: include_str!(concat!("../../assets/presets/", $name, ".toml")) }
    };
}

/// Every preset, in story order.
pub const PRESETS: [Preset; 11] = [
    preset!("healthy-relu"),
    preset!("high-learning-rate"),
    preset!("negative-bias"),
    preset!("lower-learning-rate"),
    preset!("leaky-rescue"),
    preset!("prelu"),
    preset!("elu-gelu"),
    preset!("deep-narrow-he"),
    preset!("deep-narrow-rai"),
    preset!("sigmoid-vanishing"),
    preset!("leaky-clipped"),
];

impl Preset {
    /// The parsed config.
    pub fn config(&self) -> Result<RunConfig, ConfigError> {
        RunConfig::from_toml_str(self.toml)
    }

    /// The preset's one-line description (its config's `description`).
    pub fn description(&self) -> String {
        self.config().map(|config| config.description).unwrap_or_default()
    }
}

/// The preset called `name`.
pub fn find(name: &str) -> Option<Preset> {
    PRESETS.iter().copied().find(|preset| preset.name == name)
}

/// The names of every preset, comma-separated (for error messages).
pub fn names() -> String {
    PRESETS.iter().map(|preset| preset.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses() {
        for preset in PRESETS {
            let config = preset.config().unwrap_or_else(|error| panic!("{}: {error}", preset.name));
            assert!(!config.description.is_empty(), "{} has no description", preset.name);
        }
    }
}

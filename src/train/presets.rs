//! Presets: one per step of the story, built into the binary from `assets/presets/*.toml`.

use super::config::{ConfigError, RunConfig};
use super::settings::Setting;
use super::text::{TextError, check_no_typed_figures, render};

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
    /// The parsed config, its description's placeholders filled from its own settings.
    pub fn config(&self) -> Result<RunConfig, ConfigError> {
        let mut config = RunConfig::from_toml_str(self.toml)?;
        config.description =
            describe(&config.description, &config).map_err(|error| ConfigError::Parse(error.to_string()))?;
        Ok(config)
    }

    /// The preset's one-line description (its config's `description`).
    pub fn description(&self) -> String {
        self.config().map(|config| config.description).unwrap_or_default()
    }
}

/// `template` with its placeholders filled from `config`'s settings (`{learning_rate}`) and
/// shape (`{depth}`, `{width}`, `{neurons}`); a digit outside a placeholder is refused, so a
/// description never states a figure by hand.
pub fn describe(template: &str, config: &RunConfig) -> Result<String, TextError> {
    if let Err(TextError::TypedFigure { template, figure }) = check_no_typed_figures(template, &[]) {
        // Name the settings that hold that figure, so the message says what to write instead.
        let holding: Vec<String> = Setting::ALL
            .into_iter()
            .filter(|setting| setting.prose_value(config) == figure.trim_matches(|c: char| !c.is_ascii_digit()))
            .map(|setting| format!("{{{}}} gives {}", setting.short_key(), setting.prose_value(config)))
            .collect();
        let figure = if holding.is_empty() { figure } else { format!("{figure} ({})", holding.join(", ")) };
        return Err(TextError::TypedFigure { template, figure });
    }
    let hidden = &config.network.hidden_layers;
    render(template, |key| match key {
        "depth" => Ok(hidden.len().to_string()),
        "width" => Ok(hidden.first().copied().unwrap_or(0).to_string()),
        "neurons" => Ok(hidden.iter().sum::<usize>().to_string()),
        _ => Setting::from_short_key(key)
            .map(|setting| setting.prose_value(config))
            .ok_or_else(|| "names no setting".to_owned()),
    })
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

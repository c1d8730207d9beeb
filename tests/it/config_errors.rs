//! Bad configs are rejected at the edge, and the error names the field a user must fix.

use relu_lab::train::presets::{self, PRESETS};
use relu_lab::train::{ConfigError, RunConfig};

/// Parses `toml`, expects it to be rejected, and checks that the error names `field`.
fn assert_rejected_naming(toml: &str, field: &str) {
    let error = RunConfig::from_toml_str(toml).expect_err(toml);
    match &error {
        ConfigError::Invalid { field: named, .. } => assert_eq!(*named, field, "{toml}"),
        ConfigError::Parse(_) => panic!("{toml}: a parse error, not a rejected value: {error}"),
    }
    let message = error.to_string();
    assert!(message.contains(field), "{toml}: the message does not name {field}: {message}");
}

#[test]
fn a_learning_rate_that_is_not_positive_and_finite_is_rejected() {
    for value in ["-1.0", "nan", "0.0", "-0.0", "inf", "1000.0"] {
        assert_rejected_naming(&format!("[training]\nlearning_rate = {value}\n"), "training.learning_rate");
    }
}

#[test]
fn a_zero_width_or_no_hidden_layer_is_rejected() {
    assert_rejected_naming("[network]\nhidden_layers = [8, 0]\n", "network.hidden_layers");
    assert_rejected_naming("[network]\nhidden_layers = []\n", "network.hidden_layers");
}

#[test]
fn a_batch_size_of_zero_is_rejected() {
    assert_rejected_naming("[training]\nbatch_size = 0\n", "training.batch_size");
}

#[test]
fn a_batch_larger_than_the_training_set_is_rejected() {
    // 500 points, half of them for training: 250.
    assert_rejected_naming("[training]\nbatch_size = 251\n", "training.batch_size");
    RunConfig::from_toml_str("[training]\nbatch_size = 250\n").unwrap();
}

#[test]
fn too_much_noise_is_rejected() {
    assert_rejected_naming("[data]\nnoise = 0.9\n", "data.noise");
}

#[test]
fn an_unknown_field_is_rejected_by_name() {
    for (toml, unknown) in [
        ("[training]\nlearning_rat = 0.1\n", "learning_rat"),
        ("[network]\nwidths = [8]\n", "widths"),
        ("sede = 3\n", "sede"),
    ] {
        let error = RunConfig::from_toml_str(toml).expect_err(toml);
        assert!(matches!(error, ConfigError::Parse(_)), "{toml}: {error:?}");
        assert!(error.to_string().contains(unknown), "{toml}: the message does not name {unknown}: {error}");
    }
}

#[test]
fn an_activation_parameter_on_relu_is_rejected() {
    assert_rejected_naming(
        "[network]\nactivation = \"relu\"\nactivation_parameter = 0.1\n",
        "network.activation_parameter",
    );
    // And out of range where it is allowed: a Leaky slope is at most 1.
    assert_rejected_naming(
        "[network]\nactivation = \"leaky-relu\"\nactivation_parameter = 2.0\n",
        "network.activation_parameter",
    );
    RunConfig::from_toml_str("[network]\nactivation = \"leaky-relu\"\nactivation_parameter = 0.2\n").unwrap();
}

#[test]
fn a_step_decay_every_zero_steps_is_rejected() {
    assert_rejected_naming(
        "[training]\ndecay = { kind = \"step\", every_steps = 0, factor = 0.5 }\n",
        "training.decay.every_steps",
    );
    assert_rejected_naming(
        "[training]\ndecay = { kind = \"step\", every_steps = 100, factor = 0.0 }\n",
        "training.decay.factor",
    );
}

#[test]
fn an_empty_config_is_the_valid_default() {
    assert_eq!(RunConfig::from_toml_str("").unwrap(), RunConfig::default());
}

#[test]
fn every_preset_parses_validates_and_round_trips() {
    assert_eq!(PRESETS.len(), 11);
    for preset in PRESETS {
        let config = preset.config().unwrap_or_else(|error| panic!("{}: {error}", preset.name));
        config.validate().unwrap_or_else(|error| panic!("{}: {error}", preset.name));
        assert!(!config.description.is_empty(), "{} has no description", preset.name);
        let again = RunConfig::from_toml_str(&config.to_toml_string())
            .unwrap_or_else(|error| panic!("{} does not round-trip: {error}", preset.name));
        assert_eq!(again, config, "{} does not round-trip", preset.name);
        assert_eq!(presets::find(preset.name), Some(preset));
    }
}

/// The README's config comment quotes the smallest rate the code accepts, as the code rounds it.
#[test]
fn the_readme_quotes_the_smallest_learning_rate_from_the_code() {
    let readme = include_str!("../../README.md");
    let line = readme
        .lines()
        .find(|line| line.starts_with("learning_rate = 0.03"))
        .expect("the README's config example sets learning_rate");
    let comment = line.split_once('#').expect("a comment").1.trim();
    let smallest = comment.split_whitespace().next().expect("a figure");
    assert_eq!(smallest, relu_lab::train::config::min_learning_rate_text(), "{line}");
    let rate: f64 = smallest.parse().expect("a number");
    relu_lab::train::config::check_learning_rate(rate).expect("the quoted rate is accepted");
    assert!(comment.contains(&format!("to {}", relu_lab::train::config::MAX_LEARNING_RATE)), "{line}");
}

/// A rate that cannot move a 32-bit weight is refused, and the message says why (issue 19).
#[test]
fn a_learning_rate_too_small_to_move_a_weight_is_refused() {
    assert_rejected_naming("[training]\nlearning_rate = 1.2e-38\n", "training.learning_rate");
    let error = RunConfig::from_toml_str("[training]\nlearning_rate = 1e-9\n").unwrap_err().to_string();
    assert!(error.contains("too small to move a weight"), "{error}");
}

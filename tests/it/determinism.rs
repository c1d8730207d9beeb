//! A run is a function of its config, its seed and the commands it received (with the step of
//! each): the same inputs give bit-identical weights, in the library and on the command line.

use std::process::Command;

use relu_lab::nn::{Activation, Dense, Mlp};
use relu_lab::train::presets;
use relu_lab::train::{RunConfig, Session, SessionCommand};

const STEPS: u64 = 500;

/// The commands of the scripted run, each with the step before which it is applied.
fn script() -> Vec<(u64, SessionCommand)> {
    vec![
        (100, SessionCommand::SetLearningRate { learning_rate: 0.3 }),
        (200, SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.05 } }),
        (300, SessionCommand::SetBiasOffset { bias_offset: 0.25 }),
        (400, SessionCommand::SetLearningRate { learning_rate: 0.01 }),
    ]
}

fn healthy_relu(seed: u64) -> RunConfig {
    let preset = presets::find("healthy-relu").expect("the healthy-relu preset exists");
    let mut config = preset.config().expect("the healthy-relu preset is valid");
    config.seed = seed;
    config
}

/// Trains `config` for `STEPS` steps, applying `commands` before the steps they name.
fn scripted_run(config: &RunConfig, commands: &[(u64, SessionCommand)]) -> Session {
    let mut session = Session::new(config.clone()).expect("the config is valid");
    let mut pending = commands.iter().peekable();
    while session.step_count() < STEPS {
        while let Some((_, command)) = pending.next_if(|(step, _)| *step == session.step_count()) {
            session.apply(command.clone()).unwrap_or_else(|error| panic!("{command:?}: {error}"));
        }
        session.step();
    }
    assert!(pending.next().is_none(), "a command was never applied");
    assert_eq!(session.divergence(), None, "the scripted run diverged");
    session
}

/// Every parameter of `mlp` as raw bits, layer by layer: weights, biases, `PReLU` slopes.
fn parameter_bits(mlp: &Mlp<f32>) -> Vec<u32> {
    let tensors = |layer: &Dense<f32>| {
        let weights = layer.weights.iter().chain(&layer.biases).chain(&layer.prelu_slopes);
        weights.map(|value| value.to_bits()).collect::<Vec<_>>()
    };
    mlp.layers.iter().flat_map(tensors).collect()
}

#[test]
fn the_same_seed_and_commands_give_bit_identical_weights() {
    let config = healthy_relu(7);
    let first = scripted_run(&config, &script());
    let second = scripted_run(&config, &script());
    assert!(first.network().is_finite());
    assert_eq!(parameter_bits(first.network()), parameter_bits(second.network()));
    assert_eq!(first.network(), second.network());
    assert_eq!(first.config(), second.config());
    assert_eq!(first.record(), second.record());
    // The commands took effect: the run is not the same as one without them.
    let plain = scripted_run(&config, &[]);
    assert_ne!(parameter_bits(first.network()), parameter_bits(plain.network()));
    assert_eq!(first.network().activation, Activation::LeakyRelu { slope: 0.05 });
}

#[test]
fn a_different_seed_gives_different_weights() {
    let first = scripted_run(&healthy_relu(7), &script());
    let other = scripted_run(&healthy_relu(8), &script());
    assert_ne!(parameter_bits(first.network()), parameter_bits(other.network()));
}

/// The run record holds what is needed to redo the run: replaying its commands at their
/// stamped steps from its config gives the same weights, bit for bit.
#[test]
fn replaying_the_record_gives_bit_identical_weights() {
    let original = scripted_run(&healthy_relu(3), &script());
    let record = original.record().clone();
    assert_eq!(record.steps, STEPS);
    assert_eq!(record.commands.len(), script().len());
    let stamped: Vec<(u64, SessionCommand)> =
        record.commands.iter().map(|stamped| (stamped.step, stamped.command.clone())).collect();
    let replayed = scripted_run(&record.config, &stamped);
    assert_eq!(parameter_bits(original.network()), parameter_bits(replayed.network()));
}

fn cli_run(seed: u64) -> Vec<u8> {
    let output = Command::new(env!("CARGO_BIN_EXE_relu-lab"))
        .args(["run", "--preset", "healthy-relu", "--steps", "300", "--json", "--seed", &seed.to_string()])
        .output()
        .expect("cannot start relu-lab");
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

#[test]
fn the_command_line_prints_byte_identical_output_for_the_same_preset_and_seed() {
    let first = cli_run(1);
    let second = cli_run(1);
    // 300 steps reported every 15: rows at 0, 15, ..., 300, then the summary.
    assert_eq!(String::from_utf8_lossy(&first).lines().count(), 21 + 1);
    assert!(first == second, "two runs printed different output");
    assert_ne!(first, cli_run(2), "another seed printed the same output");
}

/// Records written by the first release (commit 2b70207, record format 1), each beside the
/// network that release ended with. That release took `exp`, `ln` and `tanh` from the platform's
/// math library (glibc here); since portable numerics they come from the `libm` crate on every
/// machine, so the bits moved once: each record still loads and replays, to a network of the
/// same shape, whose digest is listed here and is the same on every machine.
/// The data were made with `relu-lab run --preset P --steps 1000 --record ... --export-network
/// ...`, and the record with commands by replaying it there and exporting the network.
#[test]
fn records_from_the_first_release_replay_to_the_portable_bits() {
    use relu_lab::train::export::NetworkFile;
    use relu_lab::train::record::parameter_digest;
    use relu_lab::train::{ReplayCursor, RunRecord};
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/main-2b70207");
    let mut replayed = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("the test data are there") {
        let path = entry.expect("a directory entry").path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()).and_then(|n| n.strip_suffix(".record.json"))
        else {
            continue;
        };
        let record = RunRecord::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(record.format, 1, "{name}");
        let first_release = std::fs::read_to_string(folder.join(format!("{name}.network.json"))).unwrap();
        let first_release = NetworkFile::from_json(&first_release).unwrap().to_mlp().unwrap();
        let (mut session, mut cursor) = ReplayCursor::start(&record.lanes[0]).unwrap();
        cursor.run_to_end(&mut session, |_| Ok::<(), ()>(())).unwrap();
        // The network the first release ended with, in shape; its bits are listed below.
        assert_eq!(session.network().sizes(), first_release.sizes(), "{name}");
        replayed.push((name.to_owned(), parameter_digest(session.network())));
    }
    replayed.sort();
    let expected: Vec<(String, String)> =
        PORTABLE_ENDS.iter().map(|&(name, digest)| (name.to_owned(), digest.to_owned())).collect();
    assert_eq!(replayed, expected);
}

/// Where the first release's records end under portable numerics (printed by the test above).
const PORTABLE_ENDS: [(&str, &str); 8] = [
    ("commands", "fnv1a64:c6a2b1a0c5912b26"),
    ("deep-narrow-rai", "fnv1a64:e4fb0e0ab3e16653"),
    ("elu-gelu", "fnv1a64:4fa08dc5981e7ebb"),
    ("healthy-relu", "fnv1a64:d48f67dc58a3df1c"),
    ("high-learning-rate", "fnv1a64:80b4de2068cf7a8a"),
    ("lower-learning-rate", "fnv1a64:4bb3ccc24de33c72"),
    ("prelu", "fnv1a64:24d35278419feb4e"),
    ("sigmoid-vanishing", "fnv1a64:d7492edf8404c5e3"),
];

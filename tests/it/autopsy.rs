//! `relu-lab autopsy`, checked as a user would: its report, read back from the binary's JSON,
//! against a fresh run of the same lesson made step by step.

use std::path::PathBuf;
use std::process::{Command, Output};

use relu_lab::nn::Workspace;
use relu_lab::train::autopsy::{Autopsy, Moment, NeuronRef};
use relu_lab::train::presets;
use relu_lab::train::{RunConfig, Session};

fn relu_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relu-lab")).args(args).output().expect("cannot start relu-lab")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("stdout is not UTF-8")
}

fn lesson_two(seed: u64) -> RunConfig {
    let mut config = presets::find("high-learning-rate").expect("lesson 2's preset").config().expect("a valid preset");
    config.seed = seed;
    config
}

/// The neuron's training inputs with a positive pre-activation, its bias and its weights.
fn neuron_now(session: &Session, neuron: NeuronRef) -> (usize, f32, Vec<f32>) {
    let mut workspace = Workspace::new(session.network(), session.data().train_len());
    session.network().forward(session.data().train_inputs.view(), &mut workspace);
    let active = workspace.pre_activations[neuron.layer].column(neuron.neuron).iter().filter(|&&z| z > 0.0).count();
    let layer = &session.network().layers[neuron.layer];
    (active, layer.biases[neuron.neuron], layer.weights.column(neuron.neuron).to_vec())
}

#[test]
fn every_death_of_lesson_two_is_where_a_fresh_run_finds_it() {
    for seed in 1..=3_u64 {
        let seed_text = seed.to_string();
        let output = relu_lab(&["autopsy", "--preset", "high-learning-rate", "--seed", &seed_text, "--json"]);
        let report: Autopsy = serde_json::from_str(&stdout(&output)).expect("the report is not JSON");
        assert_eq!(report.steps, 3000);
        assert!(!report.deaths.is_empty(), "seed {seed}: learning rate 3 kills neurons");
        let mut session = Session::new(lesson_two(seed)).unwrap();
        for death in &report.deaths {
            while session.step_count() + 1 < death.step {
                session.step();
            }
            let (active, bias, weights) = neuron_now(&session, death.neuron);
            assert!(active >= 1, "seed {seed}: one step before {death:?} the neuron is active somewhere");
            assert_eq!((bias, &weights), (death.change.bias_before, &death.change.weights_before), "seed {seed}");
            let Moment::Update { learning_rate, batch, .. } = &death.change.moment else {
                panic!("lesson 2 has no commands: {death:?}")
            };
            assert_eq!(*learning_rate, session.learning_rate());
            assert_eq!(batch.as_slice(), session.next_batch_indices());
            let mut at_death = session.clone();
            at_death.step();
            assert_eq!(at_death.step_count(), death.step);
            let (active, bias, weights) = neuron_now(&at_death, death.neuron);
            assert_eq!(active, 0, "seed {seed}: at {death:?} the neuron is active nowhere");
            assert_eq!((bias, &weights), (death.change.bias_after, &death.change.weights_after), "seed {seed}");
        }
    }
}

#[test]
fn words_tables_and_a_saved_record_tell_the_same_deaths() {
    let words = stdout(&relu_lab(&["autopsy", "--preset", "high-learning-rate", "--seed", "1", "--words"]));
    assert!(words.contains(" died at step "), "{words}");
    assert!(words.contains("one update at learning rate 3 on 10 training points moved its bias from"), "{words}");
    let table = stdout(&relu_lab(&["autopsy", "--preset", "high-learning-rate", "--seed", "1"]));
    assert!(table.lines().any(|line| line.contains("update, rate 3") && line.contains("one blow")), "{table}");

    let folder = std::env::temp_dir().join(format!("relu-lab-autopsy-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let record: PathBuf = folder.join("run.json");
    let record_text = record.to_str().unwrap();
    let run =
        relu_lab(&["run", "--preset", "high-learning-rate", "--steps", "500", "--record", record_text, "--force"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let from_record = stdout(&relu_lab(&["autopsy", "--record", record_text, "--json"]));
    let trained = stdout(&relu_lab(&["autopsy", "--preset", "high-learning-rate", "--steps", "500", "--json"]));
    assert_eq!(from_record, trained);
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn a_missing_preset_or_record_is_a_message() {
    let output = relu_lab(&["autopsy", "--preset", "no-such-preset"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no preset called 'no-such-preset'"));
    let output = relu_lab(&["autopsy", "--record", "/nonexistent/run.json"]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("cannot read run record") && !error.contains("panicked"), "{error}");
}

#[test]
fn the_readme_quotes_an_autopsy_the_command_prints_and_its_rules() {
    use relu_lab::train::autopsy::{LOOKBACK_STEPS, ONE_BLOW_SHARE};
    let readme = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = "<!-- autopsy-words: ";
    let start = readme.find(marker).expect("the README quotes an autopsy");
    let (head, rest) = readme[start + marker.len()..].split_once(" -->\n").unwrap();
    let quote = rest.split("<!-- end -->").next().unwrap().trim().trim_start_matches("> ");
    let args: Vec<&str> = head.split_whitespace().skip(1).collect();
    let words = stdout(&relu_lab(&args));
    assert!(words.lines().any(|line| line == quote), "the quote is not what `{head}` prints:\n{quote}\n---\n{words}");
    assert_eq!(ONE_BLOW_SHARE, 0.5, "the README says half");
    assert!(readme.contains(&format!("peak in the {LOOKBACK_STEPS} steps")), "the README names the lookback");
}

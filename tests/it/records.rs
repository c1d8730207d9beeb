//! Records replayed from the command line say what they are: a comparison's fork line as
//! `compare` printed it (A's own changes included), a verdict per branch that names the branch,
//! and, where the weights differ on a record that was not edited, where it was made.

use std::path::Path;
use std::process::{Command, Output};

use relu_lab::train::RunRecord;
use relu_lab::train::record::platform;

use crate::support::temp_folder;

fn relu_lab(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relu-lab")).args(args).current_dir(dir).output().expect("it runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fork_line(output: &str) -> Option<String> {
    output.lines().find(|line| line.starts_with("fork at step")).map(str::to_owned)
}

#[test]
fn a_replayed_comparison_prints_the_fork_line_compare_printed_and_a_verdict_per_branch() {
    let dir = temp_folder("records", "fork-line");
    let made = relu_lab(
        &[
            "compare",
            "--preset",
            "high-learning-rate",
            "--fork-at",
            "200",
            "--steps",
            "400",
            "--a",
            "learning_rate = 1",
            "--b",
            "learning_rate = 0.3",
            "--record",
            "c.json",
        ],
        &dir,
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let compared = fork_line(&text(&made.stdout)).expect("compare prints the fork");
    assert!(compared.contains("; A: learning rate 3 → 1"), "{compared}");
    let replayed = relu_lab(&["replay", "c.json"], &dir);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    assert_eq!(fork_line(&text(&replayed.stdout)).as_deref(), Some(compared.as_str()));
    let verdicts = text(&replayed.stderr);
    assert!(verdicts.contains("replay: A: the final weights match the record bit for bit"), "{verdicts}");
    assert!(verdicts.contains("replay: B: the final weights match the record bit for bit"), "{verdicts}");
}

/// A record whose content is intact but whose weights differ here was made elsewhere (or by
/// another version): the message says which, not "it was edited".
#[test]
fn weights_that_differ_on_an_intact_record_name_the_platform_it_was_made_on() {
    let dir = temp_folder("records", "platform");
    let made = relu_lab(&["run", "--preset", "healthy-relu", "--steps", "100", "--record", "r.json"], &dir);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let mut record = RunRecord::from_json(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap();
    assert_eq!(record.made_on.as_deref(), Some(platform().as_str()), "a record says where it was made");
    // As if another machine had trained to other weights: the digest of the weights differs,
    // the record's own digest (sealed again) does not.
    record.made_on = Some("wasm32".to_owned());
    record.lanes[0].parameter_digest = Some("fnv1a64:0000000000000000".to_owned());
    record.seal();
    std::fs::write(dir.join("elsewhere.json"), record.to_json()).unwrap();
    let replayed = relu_lab(&["replay", "elsewhere.json"], &dir);
    let said = text(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "the record was made on wasm32 and this machine is {}: the platform differs",
            platform()
        )),
        "{said}"
    );
    assert!(!said.contains("edited"), "an intact record is not called edited: {said}");
}

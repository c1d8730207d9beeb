//! The headless command line: exit codes, error messages, and what it writes.

use std::path::PathBuf;
use std::process::{Command, Output};

use relu_lab::train::presets::PRESETS;

fn relu_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relu-lab")).args(args).output().expect("cannot start relu-lab")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is not UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is not UTF-8")
}

/// Asserts a clean failure: a non-zero exit, a message on stderr that contains `expected`, and
/// no panic.
fn assert_fails_with(output: &Output, expected: &str) {
    let error = stderr(output);
    assert!(!output.status.success(), "exited with success; stderr: {error}");
    assert!(error.contains(expected), "stderr does not contain {expected:?}: {error}");
    assert!(!error.contains("panicked"), "panicked: {error}");
}

/// A fresh directory for one test's files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is before 1970")
            .as_nanos();
        let path = std::env::temp_dir().join(format!("relu-lab-cli-{test}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("cannot create a temporary directory");
        Self(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn path_str(path: &std::path::Path) -> &str {
    path.to_str().expect("the temporary path is not UTF-8")
}

#[test]
fn presets_lists_every_preset() {
    let output = relu_lab(&["presets"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), PRESETS.len(), "{text}");
    for preset in PRESETS {
        assert!(
            text.lines().any(|line| line.split_whitespace().next() == Some(preset.name)),
            "{} missing: {text}",
            preset.name
        );
    }
}

#[test]
fn an_unknown_preset_fails_naming_the_known_ones() {
    let output = relu_lab(&["run", "--preset", "nope", "--steps", "10"]);
    assert_fails_with(&output, "nope");
    for preset in PRESETS {
        assert!(stderr(&output).contains(preset.name), "{} is not named: {}", preset.name, stderr(&output));
    }
    assert!(output.stdout.is_empty(), "printed rows: {}", stdout(&output));
}

#[test]
fn a_missing_config_file_fails_saying_it_cannot_be_read() {
    assert_fails_with(&relu_lab(&["run", "--config", "/nonexistent.toml", "--steps", "10"]), "cannot read");
}

#[test]
fn a_config_with_a_negative_learning_rate_fails_naming_the_field() {
    let dir = TempDir::new("negative-rate");
    let path = dir.file("bad.toml");
    std::fs::write(&path, "[training]\nlearning_rate = -1\n").unwrap();
    let output = relu_lab(&["run", "--config", path_str(&path), "--steps", "10"]);
    assert_fails_with(&output, "training.learning_rate");
}

#[test]
fn a_valid_config_file_runs() {
    let dir = TempDir::new("valid-config");
    let path = dir.file("good.toml");
    std::fs::write(&path, "[training]\nlearning_rate = 0.1\n").unwrap();
    let output = relu_lab(&["run", "--config", path_str(&path), "--steps", "20", "--every", "10"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(stdout(&output).contains("summary: 20 steps"), "{}", stdout(&output));
}

#[test]
fn an_unknown_flag_fails() {
    let output = relu_lab(&["run", "--preset", "healthy-relu", "--frobnicate"]);
    assert_fails_with(&output, "--frobnicate");
    assert!(output.stdout.is_empty());
}

#[test]
fn born_dead_prints_json_with_a_probability() {
    let output =
        relu_lab(&["born-dead", "--width", "3", "--hidden-layers", "9", "--init", "rai", "--trials", "2000", "--json"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let value: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let estimate = &value["estimate"];
    assert_eq!(estimate["trials"], 2000);
    let probability = estimate["probability"].as_f64().unwrap();
    // RAI, 9 x 3: about 0.07 (tests/dying_relu_claims.rs measures 0.0736 over 10 000 trials).
    assert!(probability > 0.0 && probability < 0.25, "{value}");
    assert_eq!(value["init"], "rai");
}

#[test]
fn born_dead_rejects_an_unknown_init() {
    assert_fails_with(&relu_lab(&["born-dead", "--init", "glorot"]), "he-normal");
}

#[test]
fn run_writes_a_csv_with_a_header_and_one_line_per_row() {
    let dir = TempDir::new("csv");
    let path = dir.file("run.csv");
    let output = relu_lab(&["run", "--preset", "healthy-relu", "--steps", "200", "--csv", path_str(&path)]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let csv = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("step,epoch,learning_rate,train_loss"), "{}", lines[0]);
    // Every 200 / 20 = 10 steps: rows at steps 0, 10, ..., 200.
    let rows = 200 / 10 + 1;
    assert_eq!(lines.len(), 1 + rows, "{csv}");
    let columns = lines[0].split(',').count();
    for (index, line) in lines.iter().enumerate().skip(1) {
        assert_eq!(line.split(',').count(), columns, "line {index}: {line}");
        assert_eq!(line.split(',').next(), Some((10 * (index - 1)).to_string().as_str()), "line {index}: {line}");
    }
    // The table on stdout has the same rows: a header, the rows, the summary.
    assert_eq!(stdout(&output).lines().count(), 1 + rows + 1, "{}", stdout(&output));
}

#[test]
fn replaying_a_record_prints_the_same_rows_as_the_run() {
    let dir = TempDir::new("record");
    let record = dir.file("run.json");
    let run = relu_lab(&[
        "run",
        "--preset",
        "high-learning-rate",
        "--steps",
        "400",
        "--every",
        "100",
        "--record",
        path_str(&record),
    ]);
    assert!(run.status.success(), "stderr: {}", stderr(&run));
    let replay = relu_lab(&["replay", path_str(&record), "--every", "100"]);
    assert!(replay.status.success(), "stderr: {}", stderr(&replay));
    let printed = stdout(&run);
    // A header, rows at steps 0, 100, ..., 400, and the summary.
    assert_eq!(printed.lines().count(), 1 + 5 + 1, "{printed}");
    assert_eq!(printed, stdout(&replay));
}

#[test]
fn replaying_a_missing_record_fails() {
    assert_fails_with(&relu_lab(&["replay", "/nonexistent-record.json"]), "cannot read");
}

/// A run that diverges says so, and so does its replay: the record keeps where the run
/// diverged (Leaky `ReLU` at rate 3, seed 1, gets an infinite loss on step 11), and the replay
/// tries that step too.
#[test]
fn replaying_a_diverged_run_reports_the_divergence() {
    let dir = TempDir::new("diverged");
    let (config, record) = (dir.file("leaky.toml"), dir.file("run.json"));
    std::fs::write(&config, "[network]\nactivation = \"leaky-relu\"\n[training]\nlearning_rate = 3.0\n").unwrap();
    let run = relu_lab(&[
        "run",
        "--config",
        path_str(&config),
        "--steps",
        "100",
        "--every",
        "5",
        "--record",
        path_str(&record),
    ]);
    assert!(run.status.success(), "stderr: {}", stderr(&run));
    assert!(stdout(&run).contains("diverged at step"), "{}", stdout(&run));
    let replay = relu_lab(&["replay", path_str(&record), "--every", "5"]);
    assert!(replay.status.success(), "stderr: {}", stderr(&replay));
    assert_eq!(stdout(&run), stdout(&replay));
}

//! The command line with real files, signals and pipes: nothing lost, nothing silently
//! different (issue: "Records, files and long runs you can trust"). Each test spawns the
//! binary as a user would and checks what is on disk afterwards.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use relu_lab::train::RunRecord;
use relu_lab::train::export::NetworkFile;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_relu-lab"))
}

fn relu_lab(args: &[&str]) -> Output {
    binary().args(args).output().expect("cannot start relu-lab")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh folder for one test, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!("relu-lab-files-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary folder");
        Self(path)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("a UTF-8 path").to_owned()
    }

    /// Names of the files in the folder (to see that no temporary file is left behind).
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("readable")
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn assert_fails_with(output: &Output, expected: &str) {
    let error = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {error}");
    assert!(error.contains(expected), "stderr does not contain {expected:?}: {error}");
}

fn assert_succeeds(output: &Output) {
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
}

/// Waits for `child` for at most `seconds`; kills it and fails after.
fn wait_for(mut child: Child, seconds: u64) -> Output {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while child.try_wait().expect("waitable").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("relu-lab did not end within {seconds} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("its output")
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status();
    assert!(status.is_ok_and(|status| status.success()), "kill -{name} failed");
}

/// The CSV's lines: all complete (the file ends with a newline) and as wide as the header.
fn csv_rows(path: &str) -> Vec<String> {
    let csv = std::fs::read_to_string(path).expect("the CSV was written");
    assert!(csv.ends_with('\n'), "the last line is cut: {:?}", csv.lines().last());
    let lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    let width = lines[0].split(',').count();
    assert!(lines.iter().all(|line| line.split(',').count() == width), "ragged CSV");
    lines
}

fn record(path: &str) -> RunRecord {
    RunRecord::from_json(&std::fs::read_to_string(path).expect("the record was written")).expect("a valid record")
}

/// 1: a run from a loaded network records those weights, so its replay is the same run.
#[test]
fn a_run_from_a_loaded_network_replays_to_the_same_numbers() {
    let folder = Folder::new("network-replay");
    let (network, trained, record_path) = (folder.file("net.json"), folder.file("trained.json"), folder.file("r.json"));
    assert_succeeds(&relu_lab(&[
        "run",
        "--preset",
        "high-learning-rate",
        "--steps",
        "300",
        "--export-network",
        &network,
    ]));
    let run = relu_lab(&["run", "--network", &network, "--steps", "100", "--every", "50", "--record", &record_path]);
    assert_succeeds(&run);
    let saved = record(&record_path);
    assert!(saved.lanes[0].initial_network.is_some(), "the record holds the loaded weights");
    assert_eq!(saved.report_every, Some(50));
    let replay = relu_lab(&["replay", &record_path]);
    assert_succeeds(&replay);
    assert_eq!(text(&replay.stdout), text(&run.stdout), "same rows from step 0");
    assert!(text(&replay.stderr).contains("match the record bit for bit"), "{}", text(&replay.stderr));
    let _ = trained;
}

/// 2: a record that states a divergence that never happens ends at its step count.
#[test]
fn a_stated_divergence_that_never_happens_ends_the_replay() {
    let folder = Folder::new("never-diverges");
    let path = folder.file("r.json");
    assert_succeeds(&relu_lab(&["run", "--preset", "healthy-relu", "--steps", "200", "--record", &path]));
    let mut edited: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edited["lanes"][0]["divergence"] = serde_json::json!({ "step": 10, "cause": "non-finite-loss" });
    std::fs::write(&path, edited.to_string()).unwrap();
    let started = Instant::now();
    let child =
        binary().args(["replay", &path, "--no-verify"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let output = wait_for(child, 30);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_fails_with(&output, "says the run diverged at step 10");
}

/// 3: `| head` closes the pipe; the CSV, the record and the network are still written.
#[test]
fn a_closed_pipe_ends_the_run_and_keeps_every_output() {
    let folder = Folder::new("pipe");
    let (csv, record_path, network) = (folder.file("pp.csv"), folder.file("r.json"), folder.file("n.json"));
    let mut child = binary()
        .args(["run", "--preset", "healthy-relu", "--steps", "100000000", "--every", "1000"])
        .args(["--csv", &csv, "--record", &record_path, "--export-network", &network])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    for _ in 0..3 {
        lines.next().expect("a line").expect("text");
    }
    drop(lines);
    let output = wait_for(child, 60);
    assert_eq!(output.status.code(), Some(141), "stderr: {}", text(&output.stderr));
    let rows = csv_rows(&csv);
    assert!(rows.len() >= 3, "{rows:?}");
    let saved = record(&record_path);
    assert!(saved.steps() >= 1000);
    NetworkFile::from_json(&std::fs::read_to_string(&network).unwrap()).expect("a valid network file");
    assert_eq!(folder.names(), ["n.json", "pp.csv", "r.json"], "no temporary file is left");
}

/// 4: SIGINT and SIGTERM end a long run cleanly: complete CSV lines up to the interrupt, a
/// record valid up to the last step that replays bit for bit, and the exit code says why.
#[test]
fn an_interrupted_run_writes_what_it_computed() {
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let folder = Folder::new(&format!("signal-{name}"));
        let (csv, record_path) = (folder.file("c.csv"), folder.file("r.json"));
        let child = binary()
            .args(["run", "--preset", "healthy-relu", "--steps", "100000000", "--every", "10"])
            .args(["--csv", &csv, "--record", &record_path])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        signal(&child, name);
        let output = wait_for(child, 30);
        assert_eq!(output.status.code(), Some(code), "SIG{name}: {}", text(&output.stderr));
        let rows = csv_rows(&csv);
        let saved = record(&record_path);
        let last_step: u64 = rows.last().unwrap().split(',').next().unwrap().parse().unwrap();
        assert_eq!(last_step, saved.steps(), "the last row is the step the record ends at");
        assert!(saved.steps() > 100, "SIG{name}: only {} steps", saved.steps());
        let replay = relu_lab(&["replay", &record_path, "--every", "1000000"]);
        assert_succeeds(&replay);
        assert!(text(&replay.stderr).contains("bit for bit"), "{}", text(&replay.stderr));
    }
}

/// 5: nothing is overwritten without `--force`, an output is never an input, two outputs never
/// share a path.
#[test]
fn outputs_never_overwrite_inputs_or_each_other() {
    let folder = Folder::new("overwrite");
    let (record_path, config) = (folder.file("r.json"), folder.file("c.toml"));
    assert_succeeds(&relu_lab(&["run", "--preset", "healthy-relu", "--steps", "50", "--record", &record_path]));
    let original = std::fs::read_to_string(&record_path).unwrap();
    assert_fails_with(&relu_lab(&["replay", &record_path, "--csv", &record_path]), "which this command reads");
    assert_fails_with(
        &relu_lab(&["replay", &record_path, "--csv", &record_path, "--force"]),
        "which this command reads",
    );
    assert_eq!(std::fs::read_to_string(&record_path).unwrap(), original, "the record is intact");
    std::fs::write(&config, "seed = 3\n").unwrap();
    assert_fails_with(&relu_lab(&["run", "--config", &config, "--csv", &config]), "which this command reads");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "seed = 3\n");
    let same = folder.file("x.out");
    let both = relu_lab(&["run", "--preset", "healthy-relu", "--steps", "10", "--csv", &same, "--record", &same]);
    assert_fails_with(&both, "would both be written");
    assert_fails_with(
        &relu_lab(&["run", "--preset", "healthy-relu", "--steps", "10", "--record", &record_path]),
        "--force",
    );
    assert_succeeds(&relu_lab(&[
        "run",
        "--preset",
        "healthy-relu",
        "--steps",
        "10",
        "--record",
        &record_path,
        "--force",
    ]));
    assert_eq!(record(&record_path).steps(), 10);
}

fn network_json(folder: &Folder) -> serde_json::Value {
    let path = folder.file("base.json");
    assert_succeeds(&relu_lab(&["run", "--preset", "prelu", "--steps", "20", "--export-network", &path, "--force"]));
    serde_json::from_str(&std::fs::read_to_string(path).expect("written")).expect("JSON")
}

/// 7: network files are checked as strictly as configs.
#[test]
fn a_network_file_is_checked_strictly() {
    let folder = Folder::new("network-checks");
    let base = network_json(&folder);
    let mut leaky = base.clone();
    leaky["activation"] = serde_json::json!({ "kind": "leaky-relu", "slope": -7.0 });
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("negative slope", leaky.clone(), "network.activation_parameter"),
        (
            "huge slope",
            {
                leaky["activation"]["slope"] = serde_json::json!(1e30);
                leaky.clone()
            },
            "activation_parameter",
        ),
        (
            "huge alpha",
            {
                let mut v = base.clone();
                v["activation"] = serde_json::json!({ "kind": "elu", "alpha": 1e300 });
                v
            },
            "activation_parameter",
        ),
        (
            "infinite slope",
            {
                let mut v = base.clone();
                v["layers"][0]["prelu_weight"][0] = serde_json::json!(1e39);
                v
            },
            // Beyond f32: refused while reading, before any check of the slope.
            "number out of range",
        ),
        (
            "wrong layer activation",
            {
                let mut v = base.clone();
                v["layers"][1]["activation"] = serde_json::json!("relu");
                v
            },
            "should be \"prelu\"",
        ),
        (
            "wrong features",
            {
                let mut v = base.clone();
                v["layers"][0]["in_features"] = serde_json::json!(3);
                v
            },
            "declares 3 inputs",
        ),
        (
            "unknown field",
            {
                let mut v = base.clone();
                v["extra"] = serde_json::json!(1);
                v
            },
            "unknown field",
        ),
    ];
    for (what, value, expected) in cases {
        let path = folder.file("case.json");
        std::fs::write(&path, value.to_string()).unwrap();
        let output = relu_lab(&["run", "--network", &path, "--steps", "5"]);
        assert_fails_with(&output, expected);
        assert!(!text(&output.stderr).contains("panicked"), "{what}");
    }
}

/// 8: every file read is capped.
#[test]
fn huge_inputs_are_refused_quickly_with_a_short_message() {
    let started = Instant::now();
    let output = relu_lab(&["run", "--config", "/dev/zero"]);
    assert_fails_with(&output, "larger than 1 MB");
    let folder = Folder::new("huge");
    let path = folder.file("big.toml");
    let widths = vec!["8"; 2_000_000].join(", ");
    std::fs::write(&path, format!("[network]\nhidden_layers = [{widths}]\n")).unwrap();
    let output = relu_lab(&["run", "--config", &path]);
    assert_fails_with(&output, "larger than 1 MB");
    let small = folder.file("small.toml");
    std::fs::write(&small, format!("[network]\nhidden_layers = [{}]\n", vec!["8"; 40].join(", "))).unwrap();
    let output = relu_lab(&["run", "--config", &small]);
    assert_fails_with(&output, "network.hidden_layers");
    assert!(output.stderr.len() < 400, "a short message: {}", text(&output.stderr));
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// 9: output paths are checked before any training.
#[test]
fn a_bad_output_path_fails_before_training() {
    let started = Instant::now();
    let output =
        relu_lab(&["run", "--preset", "healthy-relu", "--steps", "100000000", "--record", "/nonexistent/r.json"]);
    assert_fails_with(&output, "/nonexistent");
    assert!(output.stdout.is_empty(), "nothing trained: {}", text(&output.stdout));
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// 10: born-dead refuses work of more than an hour, and gives the same answer on any number of
/// threads.
#[test]
fn born_dead_estimates_its_time_and_is_the_same_on_one_or_two_threads() {
    let output =
        relu_lab(&["born-dead", "--width", "512", "--hidden-layers", "64", "--init", "rai", "--trials", "100000000"]);
    assert_fails_with(&output, "--force");
    let estimate = |threads: &str| {
        let output = relu_lab(&["born-dead", "--trials", "20000", "--threads", threads, "--json"]);
        assert_succeeds(&output);
        let value: serde_json::Value = serde_json::from_str(text(&output.stdout).trim()).unwrap();
        value["estimate"].clone()
    };
    assert_eq!(estimate("1"), estimate("2"));
}

/// 11: a replay checks what it replays.
#[test]
fn an_edited_or_reordered_record_is_caught() {
    let folder = Folder::new("edited");
    let path = folder.file("r.json");
    assert_succeeds(&relu_lab(&[
        "run",
        "--preset",
        "healthy-relu",
        "--steps",
        "300",
        "--every",
        "100",
        "--record",
        &path,
    ]));
    let original: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // An edited config: the record's content digest no longer matches; unchecked, the final
    // weights differ from the record's.
    let mut edited = original.clone();
    edited["lanes"][0]["config"]["training"]["learning_rate"] = serde_json::json!(0.031);
    std::fs::write(&path, edited.to_string()).unwrap();
    assert_fails_with(&relu_lab(&["replay", &path]), "the record was changed after it was saved");
    let unchecked = relu_lab(&["replay", &path, "--no-verify"]);
    assert_succeeds(&unchecked);
    assert!(text(&unchecked.stderr).contains("the final weights differ from the record's"));
    // A digest removed (or null) is refused too, not replayed with a shrug.
    for digest in [serde_json::Value::Null, serde_json::json!("")] {
        let mut stripped = original.clone();
        if digest.is_null() {
            stripped.as_object_mut().unwrap().remove("record_digest");
        } else {
            stripped["record_digest"] = digest;
        }
        std::fs::write(&path, stripped.to_string()).unwrap();
        let output = relu_lab(&["replay", &path]);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    }
    // Commands out of order, and past the end.
    let mut reordered = original.clone();
    reordered["lanes"][0]["commands"] = serde_json::json!([
        { "step": 200, "command": "set-learning-rate", "learning_rate": 0.1 },
        { "step": 100, "command": "set-learning-rate", "learning_rate": 0.2 },
    ]);
    std::fs::write(&path, serde_json::to_string_pretty(&reordered).unwrap()).unwrap();
    assert_fails_with(&relu_lab(&["replay", &path]), "command 2 is stamped at step 100");
    reordered["lanes"][0]["commands"] =
        serde_json::json!([{ "step": 900, "command": "set-learning-rate", "learning_rate": 0.1 }]);
    std::fs::write(&path, reordered.to_string()).unwrap();
    assert_fails_with(&relu_lab(&["replay", &path]), "after the run's last step (300)");
    // The report interval is kept: a plain replay prints the run's rows.
    std::fs::write(&path, original.to_string()).unwrap();
    let replay = relu_lab(&["replay", &path]);
    assert_succeeds(&replay);
    assert_eq!(text(&replay.stdout).lines().count(), 1 + 4 + 1, "{}", text(&replay.stdout));
}

/// 12: a learning rate that is 0 in 32-bit floats is refused (as any rate too small to move a
/// weight; tests/cli_robust.rs checks 1.2e-38).
#[test]
fn a_learning_rate_that_rounds_to_zero_is_refused() {
    let folder = Folder::new("tiny-rate");
    let path = folder.file("c.toml");
    std::fs::write(&path, "[training]\nlearning_rate = 1e-46\n").unwrap();
    assert_fails_with(&relu_lab(&["run", "--config", &path]), "too small to move a weight");
}

/// 13: with standard error full, an error still ends the process cleanly (no panic, code 1).
#[test]
fn a_full_standard_error_does_not_make_an_error_panic() {
    let Ok(full) = std::fs::File::create("/dev/full") else { return };
    let status = binary().args(["run", "--preset", "nope"]).stderr(full).stdout(Stdio::null()).status().unwrap();
    assert_eq!(status.code(), Some(1));
}

/// 14: the last step always gets a row, and `--every 0` is refused.
#[test]
fn the_last_step_gets_a_row_and_every_zero_is_refused() {
    let output = relu_lab(&["run", "--preset", "healthy-relu", "--steps", "25", "--every", "10", "--json"]);
    assert_succeeds(&output);
    let steps: Vec<u64> = text(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok()?["step"].as_u64())
        .collect();
    assert_eq!(steps, [0, 10, 20, 25]);
    let refused = relu_lab(&["run", "--preset", "healthy-relu", "--every", "0"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
}

/// The JSON rows carry, per layer, the neurons negative on every input and the revivals.
#[test]
fn json_rows_carry_all_negative_and_revived_per_layer() {
    let output =
        relu_lab(&["run", "--preset", "leaky-rescue", "--steps", "3000", "--every", "3000", "--json", "--seed", "1"]);
    assert_succeeds(&output);
    let rows: Vec<serde_json::Value> =
        text(&output.stdout).lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let first = &rows[0]["layers"];
    let last = &rows[1]["layers"];
    let all_negative = |layers: &serde_json::Value| -> Vec<f64> {
        (0..2).map(|index| layers[index]["all_negative"].as_f64().unwrap()).collect()
    };
    // Seed 1 of lesson 5: 11 of 16 below zero at step 0, 5 after 3000 steps, 6 revivals.
    assert_eq!(all_negative(first).iter().sum::<f64>(), 11.0);
    assert_eq!(all_negative(last).iter().sum::<f64>(), 5.0);
    let revived: u64 = (0..2).map(|index| last[index]["revived"].as_u64().unwrap()).sum();
    assert_eq!(revived, 6);
}

/// `standardize = true` works for every data set.
#[test]
fn standardized_inputs_work_for_every_data_set() {
    let folder = Folder::new("standardize");
    for dataset in ["circle", "xor", "gaussians", "spiral", "moons", "abs", "sine", "step"] {
        let path = folder.file(&format!("{dataset}.toml"));
        std::fs::write(&path, format!("[data]\ndataset = \"{dataset}\"\nstandardize = true\n")).unwrap();
        let output = relu_lab(&["run", "--config", &path, "--steps", "300", "--every", "300"]);
        assert_succeeds(&output);
        assert!(text(&output.stdout).contains("summary: 300 steps"), "{dataset}: {}", text(&output.stdout));
    }
}

/// `relu-lab lessons` checks every claim of a lesson and prints its figures.
#[test]
fn the_lessons_command_prints_and_checks_a_lessons_figures() {
    let output = relu_lab(&["lessons", "--lesson", "2", "--seeds", "1-10"]);
    assert_succeeds(&output);
    let printed = text(&output.stdout);
    assert!(printed.contains("dead neurons                     min 7  median 9  max 10"), "{printed}");
    // The lesson's text, filled from the same measurement: the figures the table printed.
    assert!(printed.contains("the lesson reads, filled from seeds 1-10:"), "{printed}");
    let text =
        printed.split("the lesson reads").nth(1).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("After 3000 steps 7 to 10 of 16 neurons are dead"), "{text}");
    assert!(!text.contains('{'), "every placeholder is filled: {text}");
    // A seed without a figure keeps its place.
    assert!(printed.contains("per seed: 1.26e0 – –"), "{printed}");
}

/// 6: a saved zoom factor of 0 (or -1, NaN, 1000) used to panic every launch; it is repaired
/// before the window opens, even when no window can open.
#[cfg(feature = "gui")]
#[test]
fn a_saved_zoom_factor_out_of_range_is_repaired_before_launch() {
    let folder = Folder::new("zoom");
    let state = std::path::Path::new(&folder.file("relu-lab")).join("app.ron");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    let mut memory = egui::Memory::default();
    memory.options.zoom_factor = 0.0;
    let entries = std::collections::HashMap::from([("egui".to_owned(), ron::ser::to_string(&memory).unwrap())]);
    std::fs::write(&state, ron::ser::to_string(&entries).unwrap()).unwrap();
    let output =
        binary().env("XDG_DATA_HOME", &folder.0).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").output().unwrap();
    assert_fails_with(&output, "cannot open its window");
    let entries: std::collections::HashMap<String, String> =
        ron::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let memory: egui::Memory = ron::from_str(&entries["egui"]).unwrap();
    assert_eq!(memory.options.zoom_factor, 1.0);
}

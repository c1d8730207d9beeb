//! The command line under bad and extreme input, third pass (issue 19: "Nothing lost, nothing
//! hangs, nothing silently different"). Each test spawns the binary as a user would, with real
//! files, signals, pipes and limits, and checks what is on disk and what was said. The number
//! in each doc comment is the finding's number in the issue.

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
        let path = std::env::temp_dir().join(format!("relu-lab-robust-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary folder");
        Self(path)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("a UTF-8 path").to_owned()
    }

    /// Names of the entries in the folder, sorted (to see that no temporary file is left).
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
    assert!(!error.contains("panicked"), "{error}");
}

fn assert_succeeds(output: &Output) {
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
}

/// Waits for `child` for at most `seconds` (a guard against a hang, not a speed test); kills it
/// and fails after.
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

/// A run of `preset` that goes on until it is signalled, with `outputs` (flag, path) pairs.
fn endless_run(preset: &str, outputs: &[(&str, &str)]) -> Child {
    let mut command = binary();
    command.args(["run", "--preset", preset, "--steps", "100000000", "--every", "10"]);
    for (flag, path) in outputs {
        command.args([flag, path]);
    }
    command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("cannot start relu-lab")
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

fn last_csv_step(path: &str) -> u64 {
    let rows = csv_rows(path);
    rows.last().and_then(|row| row.split(',').next()).and_then(|step| step.parse().ok()).expect("a step")
}

fn record(path: &str) -> RunRecord {
    RunRecord::from_json(&std::fs::read_to_string(path).expect("the record was written")).expect("a valid record")
}

/// The number after `marker` in `text` ("up to step 642" → 642).
fn number_after(text: &str, marker: &str) -> u64 {
    let rest = &text[text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in {text}")) + marker.len()..];
    rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("a number")
}

/// 1: two runs writing the same outputs at once: exactly one writes them, the other is
/// refused by name, and the CSV and the record left are the same run's.
#[test]
fn two_runs_writing_the_same_outputs_never_lose_one() {
    let folder = Folder::new("same-outputs");
    let (csv, record_path) = (folder.file("same.csv"), folder.file("same.json"));
    let start = |preset: &str| {
        binary()
            .args(["run", "--preset", preset, "--steps", "3000", "--csv", &csv, "--record", &record_path])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start("healthy-relu"), start("high-learning-rate"));
    let outputs = [wait_for(a, 60), wait_for(b, 60)];
    let succeeded: Vec<&Output> = outputs.iter().filter(|output| output.status.success()).collect();
    assert_eq!(succeeded.len(), 1, "exactly one run writes: {:?}", outputs.map(|o| text(&o.stderr)));
    let refused = outputs.iter().find(|output| !output.status.success()).unwrap();
    // The loser is refused at whichever output it reaches second (the two race for both).
    let said = text(&refused.stderr);
    let name = if said.contains("same.json already exists") { "same.json" } else { "same.csv" };
    assert_fails_with(refused, &format!("{name} already exists"));
    let rows = csv_rows(&csv);
    let csv_rate: f64 = rows[1].split(',').nth(2).unwrap().parse().unwrap();
    assert_eq!(
        record(&record_path).lanes[0].config.training.learning_rate,
        csv_rate,
        "the CSV and the record are one run"
    );
    assert_eq!(folder.names(), ["same.csv", "same.json"], "no temporary file is left");
}

/// 1: a record whose name another run took while this one trained is kept under the next free
/// name, and the command says so; nothing is replaced.
#[test]
fn a_record_whose_name_was_taken_meanwhile_is_kept_beside_it() {
    let folder = Folder::new("taken-meanwhile");
    let record_path = folder.file("same.json");
    let first = endless_run("healthy-relu", &[("--record", &record_path)]);
    let second = endless_run("high-learning-rate", &[("--record", &record_path)]);
    std::thread::sleep(Duration::from_secs(1));
    signal(&first, "INT");
    let first = wait_for(first, 30);
    assert_eq!(first.status.code(), Some(130), "{}", text(&first.stderr));
    signal(&second, "INT");
    let second = wait_for(second, 30);
    assert_fails_with(&second, "same-2.json");
    assert!(text(&second.stderr).contains("so it was left alone"), "{}", text(&second.stderr));
    assert_eq!(record(&record_path).lanes[0].config.training.learning_rate, 0.03, "the first run's record is intact");
    assert_eq!(record(&folder.file("same-2.json")).lanes[0].config.training.learning_rate, 3.0);
    assert_eq!(folder.names(), ["same-2.json", "same.json"], "no temporary file is left");
}

/// 2: links planted at the names the temporary files used to have (`.NAME.relu-lab-PID.tmp`,
/// the shell's `$$` is the PID the binary gets from `exec`) are never written through.
#[cfg(unix)]
#[test]
fn a_link_planted_at_a_temporary_name_is_never_followed() {
    let folder = Folder::new("planted");
    std::fs::write(folder.file("victim.txt"), "mine\n").unwrap();
    let script = format!(
        "cd '{}' && ln -s victim.txt .out.csv.relu-lab-$$.tmp && ln -s victim.txt .r.json.relu-lab-$$.tmp \
         && exec '{}' run --preset healthy-relu --steps 100 --csv out.csv --record r.json",
        folder.0.display(),
        env!("CARGO_BIN_EXE_relu-lab")
    );
    let output = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert_succeeds(&output);
    assert_eq!(std::fs::read_to_string(folder.file("victim.txt")).unwrap(), "mine\n", "the victim is untouched");
    for name in ["out.csv", "r.json"] {
        let kind = std::fs::symlink_metadata(folder.file(name)).unwrap().file_type();
        assert!(kind.is_file(), "{name} is a regular file, not a link");
    }
    record(&folder.file("r.json"));
    csv_rows(&folder.file("out.csv"));
}

/// 3 and 15: an output path that is not a regular file is refused for what it is, with or
/// without `--force`, and named as typed; a named pipe stays a named pipe.
#[cfg(unix)]
#[test]
fn outputs_are_regular_files_only_even_with_force() {
    use std::os::unix::fs::FileTypeExt;
    let folder = Folder::new("not-regular");
    let fifo = folder.file("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success(), "mkfifo");
    let run = |csv: &str, force: bool| {
        let mut command = binary();
        command.args(["run", "--preset", "healthy-relu", "--steps", "10", "--csv", csv]);
        if force {
            command.arg("--force");
        }
        command.stdout(Stdio::null()).output().unwrap()
    };
    for force in [false, true] {
        assert_fails_with(&run(&fifo, force), "it is a named pipe (FIFO), not a regular file");
        let folder_output = run(&folder.0.to_string_lossy(), force);
        assert_fails_with(&folder_output, "it is a folder");
        assert!(!text(&folder_output.stderr).contains("already exists"), "{}", text(&folder_output.stderr));
    }
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the pipe was replaced");
    assert_fails_with(&run("/dev/null", false), "/dev/null: it is a character device");
    // --force replaces an old CSV only once every other output is accepted.
    let (old_csv, config) = (folder.file("old.csv"), folder.file("c.toml"));
    std::fs::write(&old_csv, "kept\n").unwrap();
    std::fs::write(&config, "seed = 3\n").unwrap();
    let refused = relu_lab(&["run", "--config", &config, "--csv", &old_csv, "--record", &config, "--force"]);
    assert_fails_with(&refused, "which this command reads");
    assert_eq!(std::fs::read_to_string(&old_csv).unwrap(), "kept\n");
    std::fs::remove_file(&old_csv).unwrap();
    std::fs::remove_file(&config).unwrap();
    assert_fails_with(&run("/dev/stdout", false), "cannot write the CSV to /dev/stdout: it is a character device");
    assert_eq!(folder.names(), ["fifo"], "nothing else was created");
}

/// 5: SIGHUP (the terminal closed) ends a run as Ctrl-C does: every output kept, no temporary
/// file left, exit code 129.
#[test]
fn sighup_ends_a_run_keeping_every_output() {
    let folder = Folder::new("hangup");
    let (csv, record_path, network) = (folder.file("c.csv"), folder.file("r.json"), folder.file("n.json"));
    let child =
        endless_run("healthy-relu", &[("--csv", &csv), ("--record", &record_path), ("--export-network", &network)]);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "HUP");
    let output = wait_for(child, 30);
    assert_eq!(output.status.code(), Some(129), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("the terminal was closed (SIGHUP)"), "{}", text(&output.stderr));
    let saved = record(&record_path);
    assert_eq!(last_csv_step(&csv), saved.steps());
    NetworkFile::from_json(&std::fs::read_to_string(&network).unwrap()).expect("a valid network file");
    assert_eq!(folder.names(), ["c.csv", "n.json", "r.json"], "no temporary file is left");
}

/// 5 and 6: a file-size limit (`ulimit -f`, the same path as a full disk) stops the run at the
/// CSV: its whole rows are kept, the record and the network are still written up to that
/// step, the message says so, and the exit code is 1 (not 153, killed by SIGXFSZ).
#[cfg(unix)]
#[test]
fn a_failed_csv_write_stops_the_run_and_keeps_every_other_output() {
    let folder = Folder::new("file-size-limit");
    // 200 blocks of 512 bytes: the record (under 1 kB) and the network (about 4 kB) fit, the
    // CSV (about 160 bytes a row, a row a step) does not.
    let script = format!(
        "cd '{}' && ulimit -f 200 && exec '{}' run --preset healthy-relu --steps 100000 --every 1 \
         --csv c.csv --record r.json --export-network n.json",
        folder.0.display(),
        env!("CARGO_BIN_EXE_relu-lab")
    );
    let output = Command::new("sh").args(["-c", &script]).stdout(Stdio::null()).output().unwrap();
    assert_fails_with(&output, "cannot write the CSV to c.csv: File too large");
    let message = text(&output.stderr);
    assert!(message.contains("written up to there: the run record r.json and the network n.json"), "{message}");
    let kept = number_after(&message, "keeps its rows up to step ");
    let stopped = number_after(&message, "the run stopped at step ");
    assert_eq!(last_csv_step(&folder.file("c.csv")), kept);
    assert!(std::fs::metadata(folder.file("c.csv")).unwrap().len() <= 200 * 512);
    assert_eq!(record(&folder.file("r.json")).steps(), stopped);
    assert!(stopped >= kept && stopped < 100_000, "{message}");
    NetworkFile::from_json(&std::fs::read_to_string(folder.file("n.json")).unwrap()).expect("a valid network");
    assert_eq!(folder.names(), ["c.csv", "n.json", "r.json"], "no temporary file is left");
}

/// 7: a learning rate too small to move a 32-bit weight is refused, saying why.
#[test]
fn a_learning_rate_that_cannot_move_a_weight_is_refused() {
    let folder = Folder::new("tiny-rate");
    let path = folder.file("c.toml");
    std::fs::write(&path, "[training]\nlearning_rate = 1.2e-38\n").unwrap();
    let output = relu_lab(&["run", "--config", &path, "--steps", "10"]);
    assert_fails_with(&output, "training.learning_rate = 1.2e-38: is too small to move a weight");
    assert!(text(&output.stderr).contains("32-bit floats"), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "nothing trained");
}

/// 10: born-dead hears Ctrl-C even inside one huge network (512 x 64 takes about a minute
/// each), and an estimate over no network is never printed as a probability.
#[test]
fn born_dead_hears_ctrl_c_and_never_prints_an_empty_estimate() {
    let child = binary()
        .args(["born-dead", "--width", "512", "--hidden-layers", "64", "--init", "rai", "--trials", "100"])
        .args(["--threads", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    signal(&child, "INT");
    let output = wait_for(child, 10);
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "", "no estimate is printed");
    assert!(text(&output.stderr).contains("so there is no estimate"), "{}", text(&output.stderr));
}

/// 11: with `--json` every line on standard output is JSON, also when the run diverges, in the
/// run and in its replay.
#[test]
fn json_output_is_only_json_also_when_a_run_diverges() {
    let folder = Folder::new("json-divergence");
    let (config, record_path) = (folder.file("leaky.toml"), folder.file("r.json"));
    std::fs::write(&config, "[network]\nactivation = \"leaky-relu\"\n[training]\nlearning_rate = 3.0\n").unwrap();
    let run =
        relu_lab(&["run", "--config", &config, "--steps", "100", "--every", "5", "--json", "--record", &record_path]);
    assert_succeeds(&run);
    let replay = relu_lab(&["replay", &record_path, "--json"]);
    assert_succeeds(&replay);
    for output in [&run, &replay] {
        let printed = text(&output.stdout);
        let lines: Vec<serde_json::Value> = printed
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}")))
            .collect();
        let divergence = lines.iter().find_map(|line| line.get("divergence")).expect("the divergence is a line");
        assert_eq!(divergence["cause"], "non-finite-loss", "{divergence}");
        assert_eq!(divergence["step"], record(&record_path).lanes[0].divergence.expect("recorded").step);
    }
}

/// 12: the table counts saturated neurons apart from the fine ones, as the JSON does.
#[test]
fn the_table_counts_saturated_neurons_apart() {
    let folder = Folder::new("saturated");
    let config = folder.file("tanh.toml");
    std::fs::write(&config, "[network]\nactivation = \"tanh\"\n[training]\nlearning_rate = 100.0\n").unwrap();
    let table = relu_lab(&["run", "--config", &config, "--steps", "200", "--every", "200"]);
    let json = relu_lab(&["run", "--config", &config, "--steps", "200", "--every", "200", "--json"]);
    assert_succeeds(&table);
    let printed = text(&table.stdout);
    assert!(printed.lines().next().unwrap().contains("L1 ok/sat/dy/neg/dead"), "{printed}");
    let last_json: serde_json::Value = serde_json::from_str(text(&json.stdout).lines().nth(1).unwrap()).unwrap();
    let cells: Vec<String> = last_json["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|layer| {
            let count = |key: &str| layer[key].as_f64().unwrap().to_string();
            [count("alive"), count("saturated"), count("dying"), count("below_zero"), count("dead")].join("/")
        })
        .collect();
    let saturated: f64 = last_json["layers"].as_array().unwrap().iter().map(|l| l["saturated"].as_f64().unwrap()).sum();
    assert!(saturated > 0.0, "the case needs saturated neurons: {last_json}");
    let row: Vec<&str> = printed.lines().nth(2).unwrap().split_whitespace().collect();
    assert_eq!(row[0], "200");
    assert_eq!(&row[6..6 + cells.len()], cells.as_slice(), "{printed}");
}

/// 13: a link with settings before its `#`, or a lesson that does not exist, is refused with
/// a message that is true: nothing is said to be open when nothing is opened.
#[cfg(feature = "gui")]
#[test]
fn a_link_refused_on_the_command_line_says_what_is_wrong_and_nothing_more() {
    let open = |link: &str| {
        binary().args(["--open", link]).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").output().unwrap()
    };
    let before_hash = open("lesson=2#lr=3");
    assert_eq!(before_hash.status.code(), Some(2));
    assert!(
        text(&before_hash.stderr).contains("“lesson=2” comes before the # and was not read"),
        "{}",
        text(&before_hash.stderr)
    );
    let missing = open("lesson=999");
    assert_eq!(missing.status.code(), Some(2));
    let message = text(&missing.stderr);
    assert!(message.contains("“lesson=999” names no lesson"), "{message}");
    assert!(!message.contains("open instead"), "{message}");
    assert!(message.contains("Nothing was opened"), "{message}");
}

/// 14: a UTF-8 byte-order mark before a record or a network file is skipped.
#[test]
fn a_byte_order_mark_is_skipped_in_records_and_network_files() {
    let folder = Folder::new("bom");
    let (record_path, network) = (folder.file("r.json"), folder.file("n.json"));
    assert_succeeds(&relu_lab(&[
        "run",
        "--preset",
        "healthy-relu",
        "--steps",
        "50",
        "--record",
        &record_path,
        "--export-network",
        &network,
    ]));
    for path in [&record_path, &network] {
        let plain = std::fs::read_to_string(path).unwrap();
        std::fs::write(path, format!("\u{feff}{plain}")).unwrap();
    }
    let replay = relu_lab(&["replay", &record_path]);
    assert_succeeds(&replay);
    assert!(text(&replay.stderr).contains("bit for bit"), "{}", text(&replay.stderr));
    assert_succeeds(&relu_lab(&["run", "--network", &network, "--steps", "10"]));
}

/// 15: standard output on a full device is a write error (exit 1, the cause named, the other
/// outputs written), not a closed pipe.
#[cfg(unix)]
#[test]
fn a_full_standard_output_is_a_write_error_not_a_closed_pipe() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else { return };
    let folder = Folder::new("stdout-full");
    let record_path = folder.file("r.json");
    let output = binary()
        .args(["run", "--preset", "healthy-relu", "--steps", "100", "--record", &record_path])
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_fails_with(&output, "cannot write to standard output: No space left on device");
    assert!(!text(&output.stderr).contains("closed"), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("written up to there: the run record"), "{}", text(&output.stderr));
    record(&record_path);
}

/// 15: an output name as long as a file system allows is accepted (the temporary name is cut
/// to fit, not the user's).
#[test]
fn a_long_valid_output_name_is_accepted() {
    let folder = Folder::new("long-name");
    let name = format!("{}.json", "r".repeat(250));
    let path = folder.file(&name);
    assert_succeeds(&relu_lab(&["run", "--preset", "healthy-relu", "--steps", "10", "--record", &path]));
    assert_eq!(record(&path).steps(), 10);
    assert_eq!(folder.names(), [name]);
}

/// 16: a network file whose config names another activation than the file itself is refused.
#[test]
fn a_network_file_whose_config_names_another_activation_is_refused() {
    let folder = Folder::new("activation-mismatch");
    let network = folder.file("n.json");
    assert_succeeds(&relu_lab(&["run", "--preset", "healthy-relu", "--steps", "20", "--export-network", &network]));
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&network).unwrap()).unwrap();
    value["config"]["network"]["activation"] = serde_json::json!("tanh");
    std::fs::write(&network, value.to_string()).unwrap();
    let output = relu_lab(&["run", "--network", &network, "--steps", "5"]);
    assert_fails_with(
        &output,
        "the network file says its activation is ReLU, but its config (config.network) says tanh",
    );
    assert!(output.stdout.is_empty(), "nothing trained");
}

/// 17: the CSV grows under its own name while the run goes (`tail -f` follows it).
#[test]
fn the_csv_grows_under_its_name_while_the_run_goes() {
    let folder = Folder::new("csv-streams");
    let csv = folder.file("c.csv");
    let mut child = endless_run("healthy-relu", &[("--csv", &csv)]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = 0;
    while Instant::now() < deadline && seen < 5 {
        seen = std::fs::read_to_string(&csv).map_or(0, |text| text.lines().count());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(child.try_wait().unwrap().is_none(), "the run is still going");
    signal(&child, "INT");
    let output = wait_for(child, 30);
    assert!(seen >= 5, "only {seen} lines under the CSV's name during the run");
    assert_eq!(output.status.code(), Some(130));
    assert_eq!(folder.names(), ["c.csv"]);
}

/// 8: the saved-state repair runs before the window opens, whatever the file's size, on every
/// field, and says what it did (on standard error when no window can open).
#[cfg(feature = "gui")]
mod saved_state {
    use std::path::Path;

    use super::*;

    #[derive(Clone, serde::Serialize, serde::Deserialize)]
    struct Offset {
        offset: egui::Vec2,
    }

    /// Writes a state file with `entries` under a fresh data folder, launches the app there
    /// without a display, and returns what it said and the file after.
    fn launch_with(folder: &Folder, contents: &[u8]) -> (String, Option<Vec<u8>>) {
        let state = Path::new(&folder.file("relu-lab")).join("app.ron");
        std::fs::create_dir_all(state.parent().expect("a folder")).expect("the state's folder");
        std::fs::write(&state, contents).expect("the state file");
        let output = binary()
            .env("XDG_DATA_HOME", &folder.0)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .expect("cannot start relu-lab");
        assert_fails_with(&output, "cannot open its window");
        (text(&output.stderr), std::fs::read(&state).ok())
    }

    fn state_file(entries: &[(&str, String)]) -> Vec<u8> {
        let map: std::collections::HashMap<String, String> =
            entries.iter().map(|(key, value)| ((*key).to_owned(), value.clone())).collect();
        ron::ser::to_string(&map).expect("RON").into_bytes()
    }

    fn entries_of(bytes: &[u8]) -> std::collections::HashMap<String, String> {
        ron::from_str(std::str::from_utf8(bytes).expect("text")).expect("a state file")
    }

    #[test]
    fn a_state_file_over_16_mb_is_still_repaired() {
        let folder = Folder::new("state-huge");
        let mut memory = egui::Memory::default();
        memory.options.zoom_factor = 0.0;
        let padding = "x".repeat(17 << 20);
        let contents = state_file(&[("egui", ron::ser::to_string(&memory).unwrap()), ("padding", padding)]);
        let (said, after) = launch_with(&folder, &contents);
        assert!(said.contains("zoom"), "{said}");
        let entries = entries_of(&after.unwrap());
        let memory: egui::Memory = ron::from_str(&entries["egui"]).unwrap();
        assert_eq!(memory.options.zoom_factor, 1.0);
    }

    #[test]
    fn a_nan_scroll_offset_is_set_to_zero_with_a_notice() {
        let folder = Folder::new("state-nan");
        let mut memory = egui::Memory::default();
        let id = egui::Id::NULL.with("lesson text");
        memory.data.insert_persisted(id, Offset { offset: egui::vec2(f32::NAN, f32::NAN) });
        let (said, after) = launch_with(&folder, &state_file(&[("egui", ron::ser::to_string(&memory).unwrap())]));
        assert!(said.contains("values that were not numbers (offset.x, offset.y)"), "{said}");
        let entries = entries_of(&after.unwrap());
        assert!(!entries["egui"].contains("NaN"), "{}", entries["egui"]);
        let mut memory: egui::Memory = ron::from_str(&entries["egui"]).unwrap();
        let repaired: Offset = memory.data.get_persisted(id).expect("the state is kept");
        assert_eq!(repaired.offset, egui::Vec2::ZERO);
    }

    #[test]
    fn a_saved_lesson_that_does_not_exist_goes_back_to_the_first_with_a_notice() {
        let folder = Folder::new("state-lesson");
        let settings = "(presentation: false, dark_theme: true, log_loss: true, lesson: 998)".to_owned();
        let (said, after) = launch_with(&folder, &state_file(&[("relu-lab/view-settings", settings)]));
        assert!(said.contains("The saved lesson (number 999) does not exist"), "{said}");
        let entries = entries_of(&after.unwrap());
        assert!(entries["relu-lab/view-settings"].contains("lesson:0"), "{entries:?}");
    }

    #[test]
    fn an_unreadable_state_file_is_set_aside_with_a_notice() {
        for (test, contents) in
            [("state-cut", &b"{\"egui\": \"(options: (zoom_fac"[..]), ("state-garbage", &[0xff, 0, 0x9c, 1][..])]
        {
            let folder = Folder::new(test);
            let (said, after) = launch_with(&folder, contents);
            assert!(said.contains("The saved settings could not be read"), "{said}");
            assert!(said.contains("app.ron.unreadable"), "{said}");
            assert_eq!(after, None, "moved out of eframe's way");
            let kept = Path::new(&folder.file("relu-lab")).join("app.ron.unreadable");
            assert_eq!(std::fs::read(kept).unwrap(), contents, "nothing is lost");
        }
    }
}

/// The exit codes the README and `run --help` state for Ctrl-C, SIGTERM, SIGHUP and a closed
/// pipe, in that order, are the ones a run ends with.
#[test]
fn the_stated_exit_codes_are_the_ones_a_run_ends_with() {
    let codes_in = |text: &str| -> Vec<i32> {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let marker = "the exit code is ";
        let at = text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in {text}")) + marker.len();
        text[at..]
            .split([',', ' ', '.'])
            .take_while(|word| *word == "or" || word.is_empty() || word.parse::<i32>().is_ok())
            .filter_map(|word| word.parse().ok())
            .collect()
    };
    let readme = include_str!("../../README.md");
    let ending_early = &readme[readme.find("Ending early:").expect("the README's paragraph")..];
    let help = text(&relu_lab(&["run", "--help"]).stdout);
    let stated = codes_in(ending_early);
    assert_eq!(stated.len(), 4, "{stated:?}");
    assert_eq!(codes_in(&help), stated, "{help}");
    let folder = Folder::new("exit-codes");
    let mut measured = Vec::new();
    let children: Vec<Child> = ["INT", "TERM", "HUP"]
        .iter()
        .map(|name| endless_run("healthy-relu", &[("--record", &folder.file(&format!("{name}.json")))]))
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    for (child, name) in children.into_iter().zip(["INT", "TERM", "HUP"]) {
        signal(&child, name);
        measured.push(wait_for(child, 30).status.code().expect("an exit code"));
    }
    let mut piped = binary()
        .args(["run", "--preset", "healthy-relu", "--steps", "100000000", "--every", "1000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(piped.stdout.take().unwrap()), &mut first).unwrap();
    measured.push(wait_for(piped, 60).status.code().expect("an exit code"));
    assert_eq!(measured, stated);
}

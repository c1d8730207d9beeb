//! `relu-lab sweep`: the map of where networks die, whole, sharded and merged, checked on what
//! the binary writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn relu_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relu-lab")).args(args).output().expect("cannot start relu-lab")
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("stdout is not UTF-8")
}

/// A fresh folder for one test's files, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!("relu-lab-sweep-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the test's own setup");
        Self(path)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("the test's own setup").to_owned()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The issue's sweep: learning rate × initial bias, seeds 1-3, 1000 steps.
const GRID: [&str; 8] =
    ["--learning-rate", "0.01,0.1,1,3", "--initial-bias", "0,-5", "--seeds", "1-3", "--steps", "1000"];

fn sweep(extra: &[&str]) -> Output {
    let args: Vec<&str> = ["sweep"].iter().chain(&GRID).chain(extra).copied().collect();
    relu_lab(&args)
}

/// `median_dead_fraction` of the row with these values.
fn dead_fraction(csv: &str, learning_rate: &str, initial_bias: &str) -> f64 {
    let header: Vec<&str> = csv.lines().next().expect("the sweep CSV has this").split(',').collect();
    let column = |name: &str| header.iter().position(|&h| h == name).expect("the sweep CSV has this");
    let row = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').collect::<Vec<_>>())
        .find(|row| row[column("x_value")] == learning_rate && row[column("y_value")] == initial_bias)
        .expect("the sweep CSV has this");
    row[column("median_dead_fraction")].parse().expect("the sweep CSV has this")
}

#[test]
fn the_map_of_learning_rate_and_bias_shows_death_and_shards_merge_byte_for_byte() {
    let folder = Folder::new("grid");
    let (csv, png) = (folder.path("s.csv"), folder.path("s.png"));
    let printed = succeeded(&sweep(&["--csv", &csv, "--png", &png]));
    assert!(printed.contains("8 of 8 cells, 24 runs of 1000 steps"), "{printed}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 1 + 8, "a header and 8 cells");
    let (slow, fast) = (dead_fraction(&text, "0.01", "0"), dead_fraction(&text, "3", "0"));
    assert!(fast > slow, "at bias 0, learning rate 3 kills more ({fast}) than 0.01 ({slow})");
    let image = std::fs::read(&png).unwrap();
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");

    for index in 1..=2 {
        let shard = format!("{index}/2");
        succeeded(&sweep(&["--shard", &shard, "--csv", &folder.path(&format!("part{index}.csv"))]));
    }
    let (merged_csv, merged_png) = (folder.path("m.csv"), folder.path("m.png"));
    let parts = [folder.path("part2.csv"), folder.path("part1.csv")];
    succeeded(&relu_lab(&["sweep", "merge", &parts[0], &parts[1], "--csv", &merged_csv, "--png", &merged_png]));
    assert_eq!(std::fs::read(&merged_csv).unwrap(), text.as_bytes());
    assert_eq!(std::fs::read(&merged_png).unwrap(), image);

    let one_thread = folder.path("one.csv");
    succeeded(&sweep(&["--threads", "1", "--csv", &one_thread]));
    assert_eq!(std::fs::read_to_string(&one_thread).unwrap(), text, "one thread, the same figures");
}

#[test]
fn a_partial_merge_or_a_bad_axis_says_what_is_wrong_and_writes_nothing() {
    let folder = Folder::new("bad");
    let part = folder.path("part1.csv");
    let args = ["sweep", "--learning-rate", "0.1,3", "--init", "he-normal,rai", "--steps", "50", "--seeds", "1"];
    succeeded(&relu_lab(&[&args[..], &["--shard", "1/2", "--csv", &part]].concat()));
    let merged = folder.path("m.csv");
    let output = relu_lab(&["sweep", "merge", &part, "--csv", &merged]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("merge every shard's part"));
    assert!(!Path::new(&merged).exists());
    let output = relu_lab(&["sweep", "--learning-rate", "0.1,3", "--init", "he-normal,nope"]);
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && error.contains("init = nope"), "{error}");
    let output = relu_lab(&["sweep", "--learning-rate", "0.1,3"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("a sweep varies two settings; 1 given"));
}

/// The lines of the README between `<!-- NAME: COMMAND -->` and `<!-- end -->`, without code
/// fences, and the command.
fn readme_block(name: &str) -> (String, Vec<String>) {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("a README");
    let start = readme.find(&format!("<!-- {name}: ")).expect("the README has the block");
    let (head, rest) = readme[start..].split_once(" -->\n").expect("the marker closes");
    let command = head.trim_start_matches(&format!("<!-- {name}: ")).to_owned();
    let body = rest.split("<!-- end -->").next().expect("the block ends");
    let lines = body.lines().filter(|line| !line.starts_with("```")).map(str::to_owned).collect();
    (command, lines)
}

#[test]
fn the_readme_s_sweep_table_is_what_the_command_prints() {
    let (command, lines) = readme_block("sweep-output");
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let printed = succeeded(&relu_lab(&args));
    let printed: Vec<&str> = printed.lines().collect();
    assert_eq!(printed[..printed.len() - 1], lines, "all but the timing line");
}

//! The headless command line: list presets, train a run, replay a record, run the lessons as
//! experiments, estimate the born-dead probability.

mod app_args;
mod autopsy;
mod born_dead;
mod compare;
mod files;
pub(crate) mod interrupt;
mod lessons;
#[cfg(feature = "gui")]
mod render;
mod replay;
mod report;
mod run;
mod sweep;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use relu_lab::nn::Init;
use relu_lab::train::presets::PRESETS;

pub(crate) use app_args::AppArgs;
pub(crate) use interrupt::Interruption;

/// The preset the app and a bare headless run start on.
pub(crate) const DEFAULT_PRESET: &str = "healthy-relu";

/// Watch neurons live and die while a small network trains.
#[derive(Debug, Parser)]
#[command(name = "relu-lab", version, about)]
pub(crate) struct Cli {
    /// What to do; with none, open the app (or, built without it, run the default lesson).
    #[command(subcommand)]
    pub command: Option<CliCommand>,
    /// How to open the app (when there is no subcommand).
    #[command(flatten)]
    pub app: AppArgs,
}

/// A headless command.
#[derive(Debug, Subcommand)]
pub(crate) enum CliCommand {
    /// List the built-in presets, one per step of the story.
    Presets,
    /// Train a run headless and print a row per reporting interval.
    ///
    /// Ctrl-C, SIGTERM, SIGHUP (the terminal closed) or a closed output pipe end the run
    /// early: the rows so far, the record up to the last step and the network as it stood are
    /// still written, temporary files are removed, and the exit code is 130, 143, 129 or 141.
    /// A write that fails (a full disk, `ulimit -f`) stops the run the same way, writes every
    /// other output, says what was kept and exits with 1.
    Run(RunArgs),
    /// Replay a run record (from `run --record`, or saved by the app), print the same rows and
    /// check that the final weights match the record bit for bit. A comparison's record
    /// (from `compare --record`) prints both branches and checks both.
    Replay(ReplayArgs),
    /// Train a run, fork it at a step into A and B (identical in every bit), change B, and
    /// print both branches side by side as they train in lockstep on the same batches.
    ///
    /// Example: relu-lab compare --preset high-learning-rate --fork-at 3000 --steps 6000
    /// --b 'activation = "leaky-relu"' --b 'learning_rate = 0.03'
    Compare(CompareArgs),
    /// Play every lesson's script over a range of seeds, print the figures at each measured
    /// beat (min, median, max, per seed) and the lesson's text filled from them, and check the
    /// figures against the committed ones the app's texts are filled from.
    ///
    /// Example: relu-lab lessons --lesson 2
    Lessons(LessonsArgs),
    /// Estimate the probability that a deep ReLU net with one input is born dead on [-1, 1].
    ///
    /// Born dead: some hidden layer outputs zero for every input of the domain, so the network
    /// is a constant function. It is evaluated exactly, not on a grid: with one input each
    /// layer's output is piecewise linear in x, so we track its values at the breakpoints
    /// (the domain's ends plus every point where some neuron's pre-activation changes sign); a
    /// layer is dead exactly when all its outputs are zero at every breakpoint. The trials are
    /// shared out over the cores; the answer is the same for any number of threads.
    BornDead(BornDeadArgs),
    /// Render a lesson, a link or a run record to a video (MP4, GIF or numbered PNGs),
    /// offline and headless: each frame is drawn by the app's own code at a fixed virtual
    /// time, so the same inputs give the same file on the same machine.
    ///
    /// Example: relu-lab render --lesson 2 --seconds 4 --fps 25 --size 1280x720 --out take.mp4
    #[cfg(feature = "gui")]
    Render(render::RenderArgs),
    /// Train a run (or replay a record), then find the exact step of every neuron's death and
    /// revival by replaying it from the nearest checkpoint, and say what did it: the update
    /// (its learning rate and batch) or the command, how the bias and weights moved, the
    /// largest pre-activation before and after, one blow or slowly.
    ///
    /// Example: relu-lab autopsy --preset high-learning-rate --seed 1 --words
    Autopsy(AutopsyArgs),
    /// Map where networks die: train a grid of runs over two settings and several seeds, and
    /// report per cell the median share of dead neurons, how many seeds collapsed and the
    /// median test accuracy, as a table, a CSV and a PNG heatmap. Uses every core; the
    /// figures are the same for any thread count. `--shard K/N` computes one part; `relu-lab
    /// sweep merge` joins the parts into the same CSV and PNG, byte for byte.
    ///
    /// The first setting given in the order of the options below is the x axis (columns), the
    /// second the y axis (rows); `--axis` settings come after the named ones.
    ///
    /// Example: relu-lab sweep --learning-rate 0.01,0.1,1,3 --initial-bias 0,-5 --seeds 1-3
    /// --steps 1000 --csv s.csv --png s.png
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Sweep(Box<SweepArgs>),
}

/// Where a run's config comes from, and how to report it.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A built-in preset (see `relu-lab presets`).
    #[arg(long, conflicts_with_all = ["config", "network"], required_unless_present_any = ["config", "network"])]
    pub preset: Option<String>,
    /// A TOML run config file.
    #[arg(long, conflicts_with = "network")]
    pub config: Option<PathBuf>,
    /// Continue from an exported network (its config and weights; see `--export-network`).
    #[arg(long)]
    pub network: Option<PathBuf>,
    /// Override the config's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Steps to train.
    #[arg(long, default_value_t = 3000)]
    pub steps: u64,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Write the replayable run record (config, commands, a digest of the final weights) as
    /// JSON. It appears when the run ends, whole (written under a hidden temporary name, then
    /// put in place without replacing a file another program wrote meanwhile).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write the trained network (weights, biases, activation, config) as JSON at the end,
    /// whole, as the record; the layout is documented in the README and loads back with
    /// `--network`.
    #[arg(long)]
    pub export_network: Option<PathBuf>,
}

/// A comparison: the run, the fork, and what changes on each branch.
#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// A built-in preset (see `relu-lab presets`).
    #[arg(long, conflicts_with = "config", required_unless_present = "config")]
    pub preset: Option<String>,
    /// A TOML run config file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override the config's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Steps to train in all (A's steps; B makes as many after the fork).
    #[arg(long, default_value_t = 3000)]
    pub steps: u64,
    /// The step at which the run splits into A and B (0: both from the same start).
    #[arg(long, default_value_t = 0)]
    pub fork_at: u64,
    /// A change for B at the fork, as a config assignment: 'activation = "leaky-relu"',
    /// 'learning_rate = 0.03', 'network.init = "rai"' (repeat for several). Changes that build
    /// a new network (init, initial_bias, hidden_layers, seed) restart B at its step 0.
    #[arg(long = "b", value_name = "KEY = VALUE")]
    pub b: Vec<String>,
    /// A change for A at the fork, the same way (live settings only).
    #[arg(long = "a", value_name = "KEY = VALUE")]
    pub a: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Write the comparison's record (A's record, the fork, B's record) as JSON; `relu-lab
    /// replay` replays both branches from it bit for bit.
    #[arg(long)]
    pub record: Option<PathBuf>,
}

/// How to print the rows, and where to write them.
#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Print a row every this many steps (default: steps / 20), and always the last step.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub every: Option<u64>,
    /// Also write the rows as CSV. The file is created when the command starts (never over
    /// another program's file) and each row is appended as it comes, one whole line at a time:
    /// `tail -f` follows it, and a run stopped early keeps its rows.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Print one JSON object per row instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Overwrite output files that already exist (regular files only: never a folder, a
    /// device such as /dev/null, a named pipe or a socket).
    #[arg(long)]
    pub force: bool,
}

/// A record to replay.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The run record (JSON).
    pub file: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Do not fail when the final weights differ from the record's digest (just say so).
    #[arg(long)]
    pub no_verify: bool,
}

/// Which lessons, over which seeds.
#[derive(Debug, Args)]
pub(crate) struct LessonsArgs {
    /// The seeds, as `FIRST-LAST` or a single number.
    #[arg(long, default_value = "1-10", value_parser = parse_seeds)]
    pub seeds: std::ops::RangeInclusive<u64>,
    /// Only this lesson (its number, from 1).
    #[arg(long)]
    pub lesson: Option<usize>,
    /// Print one JSON object per lesson instead of tables.
    #[arg(long, conflicts_with_all = ["measure", "markdown"])]
    pub json: bool,
    /// Print the measurement of every lesson as JSON, the form of
    /// `assets/lessons-measured.json` (from which the lessons' texts take their figures).
    #[arg(long, conflicts_with = "markdown")]
    pub measure: bool,
    /// Print the README's generated parts (the table of presets) from the committed figures.
    #[arg(long)]
    pub markdown: bool,
}

/// A sweep: the base run, the two settings, the seeds, and where to write.
#[derive(Debug, Args)]
pub(crate) struct SweepArgs {
    /// Join sweep parts instead.
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    /// The base run: a built-in preset (default healthy-relu).
    #[arg(long, conflicts_with = "config")]
    pub preset: Option<String>,
    /// The base run: a TOML run config file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Learning rates, separated by commas: 0.01,0.1,1,3.
    #[arg(long, value_name = "VALUES", allow_hyphen_values = true)]
    pub learning_rate: Option<String>,
    /// Hidden activations: relu,leaky-relu,elu.
    #[arg(long, value_name = "VALUES")]
    pub activation: Option<String>,
    /// Initializers: he-normal,rai.
    #[arg(long, value_name = "VALUES")]
    pub init: Option<String>,
    /// Optimizers: sgd,momentum,adam.
    #[arg(long, value_name = "VALUES")]
    pub optimizer: Option<String>,
    /// Batch sizes: 1,10,50.
    #[arg(long, value_name = "VALUES")]
    pub batch_size: Option<String>,
    /// Widths of every hidden layer: 2,4,8.
    #[arg(long, value_name = "VALUES")]
    pub width: Option<String>,
    /// Hidden layer counts (each as wide as the first): 1,2,4.
    #[arg(long, value_name = "VALUES")]
    pub depth: Option<String>,
    /// Initial biases: 0,-5.
    #[arg(long, value_name = "VALUES", allow_hyphen_values = true)]
    pub initial_bias: Option<String>,
    /// Bias offsets: 0,-1.
    #[arg(long, value_name = "VALUES", allow_hyphen_values = true)]
    pub bias_offset: Option<String>,
    /// Any other config setting and its values: 'momentum=0,0.9', 'data.noise=0,0.2'.
    #[arg(long, value_name = "KEY=VALUES", allow_hyphen_values = true)]
    pub axis: Vec<String>,
    /// The seeds of every cell, as `FIRST-LAST` or a single number.
    #[arg(long, default_value = "1-3", value_parser = parse_seeds)]
    pub seeds: std::ops::RangeInclusive<u64>,
    /// Steps per run.
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    /// Threads to use (default: one per core). The figures do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: Option<u64>,
    /// Compute only part K of N (the cells whose index is K-1 modulo N), for a job array.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<relu_lab::train::sweep::Shard>,
    /// Write the cells as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write the heatmap as PNG.
    #[arg(long)]
    pub png: Option<PathBuf>,
    /// Overwrite output files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// What `relu-lab sweep` can do besides sweeping.
#[derive(Debug, Subcommand)]
pub(crate) enum SweepCommand {
    /// Join the CSV parts of a sharded sweep into the CSV and PNG the whole sweep writes.
    ///
    /// Example: relu-lab sweep merge parts/*.csv --csv s.csv --png s.png
    Merge(SweepMergeArgs),
}

/// The parts to join, and where to write.
#[derive(Debug, Args)]
pub(crate) struct SweepMergeArgs {
    /// The parts (CSV files from `relu-lab sweep --shard K/N --csv ...`).
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Write the joined cells as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write the heatmap as PNG.
    #[arg(long)]
    pub png: Option<PathBuf>,
    /// Overwrite output files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// Which run to examine, and how to print what was found.
#[derive(Debug, Args)]
pub(crate) struct AutopsyArgs {
    /// A built-in preset (see `relu-lab presets`).
    #[arg(long, conflicts_with_all = ["config", "record"], required_unless_present_any = ["config", "record"])]
    pub preset: Option<String>,
    /// A TOML run config file.
    #[arg(long, conflicts_with = "record")]
    pub config: Option<PathBuf>,
    /// A run record to replay and examine (from `run --record`, or saved by the app).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Override the config's seed.
    #[arg(long, conflicts_with = "record")]
    pub seed: Option<u64>,
    /// Steps to train.
    #[arg(long, default_value_t = 3000, conflicts_with = "record")]
    pub steps: u64,
    /// Print the report as one JSON object.
    #[arg(long, conflicts_with = "words")]
    pub json: bool,
    /// Print each death and revival as a sentence instead of tables.
    #[arg(long)]
    pub words: bool,
}

/// The born-dead experiment's parameters.
#[derive(Debug, Args)]
pub(crate) struct BornDeadArgs {
    /// Neurons per hidden layer.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=512))]
    pub width: u64,
    /// Hidden layers.
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub hidden_layers: u64,
    /// The initializer: he-normal, he-uniform, xavier-uniform, uniform or rai.
    #[arg(long, default_value = "he-normal", value_parser = parse_init)]
    pub init: Init,
    /// Networks to draw.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub trials: u64,
    /// The seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Every bias (symmetric inits; added to RAI's own bias draw).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = parse_bias)]
    pub bias: f64,
    /// Threads to use (default: one per core). The answer does not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: Option<u64>,
    /// Run even when the estimated time is over an hour.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_bias(text: &str) -> Result<f64, String> {
    let limit = relu_lab::train::config::MAX_INITIAL_BIAS;
    match text.parse::<f64>() {
        Ok(bias) if bias.is_finite() && bias.abs() <= limit => Ok(bias),
        _ => Err(format!("'{text}' is not a number from -{limit} to {limit}")),
    }
}

fn parse_init(text: &str) -> Result<Init, String> {
    Init::from_key(text).ok_or_else(|| {
        let names: Vec<&str> = Init::ALL.iter().map(|init| init.key()).collect();
        format!("unknown init '{text}'; choose one of {}", names.join(", "))
    })
}

fn parse_seeds(text: &str) -> Result<std::ops::RangeInclusive<u64>, String> {
    let bad = || format!("'{text}' is not a seed range such as 1-10 (at most 1000 seeds)");
    let parse = |part: &str| part.trim().parse::<u64>().map_err(|_| bad());
    let (first, last) = if let Some((first, last)) = text.split_once('-') {
        (parse(first)?, parse(last)?)
    } else {
        let seed = parse(text)?;
        (seed, seed)
    };
    if last < first || last - first >= 1000 {
        return Err(bad());
    }
    Ok(first..=last)
}

/// The exit code of a command that wrote its outputs but whose run (or a branch) diverged.
pub(crate) const DIVERGED_EXIT_CODE: u8 = 3;

/// How a command ended, when it did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Completion {
    /// It did everything it was asked.
    Done,
    /// It stopped early, cleanly, and wrote what it had.
    Interrupted(Interruption),
    /// It wrote every output, but a branch of the run diverged (the message names it).
    Diverged(String),
    /// It stopped early before it had anything to write or print.
    Abandoned(Interruption),
}

/// Runs a headless command, writing its report to `out`.
pub(crate) fn execute(command: CliCommand, out: &mut dyn Write) -> Result<Completion> {
    interrupt::install();
    match command {
        CliCommand::Presets => list_presets(out).map(|()| Completion::Done),
        CliCommand::Run(args) => run::run(&args, out),
        CliCommand::Replay(args) => replay::replay(&args, out),
        CliCommand::Compare(args) => compare::compare(&args, out),
        CliCommand::Lessons(args) => lessons::lessons(&args, out),
        CliCommand::BornDead(args) => born_dead::born_dead(&args, out),
        #[cfg(feature = "gui")]
        CliCommand::Render(args) => render::render(&args, out),
        CliCommand::Autopsy(args) => autopsy::autopsy_command(&args, out),
        CliCommand::Sweep(args) => match &args.command {
            Some(SweepCommand::Merge(merge)) => sweep::merge(merge, out),
            None => sweep::sweep(&args, out),
        },
    }
}

fn list_presets(out: &mut dyn Write) -> Result<()> {
    for preset in PRESETS {
        writeln!(out, "{:<20} {}", preset.name, preset.description())?;
    }
    Ok(())
}

//! The headless command line: list presets, train a run, replay a record, estimate the
//! born-dead probability.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use relu_lab::nn::Init;
use relu_lab::nn::born_dead;
use relu_lab::train::export::{self, NetworkFile};
use relu_lab::train::presets::{self, PRESETS};
use relu_lab::train::{Evaluation, HistoryPoint, RunConfig, RunRecord, Session, StepOutcome};

/// The preset the app and a bare headless run start on.
pub const DEFAULT_PRESET: &str = "healthy-relu";

/// Watch neurons live and die while a small network trains.
#[derive(Debug, Parser)]
#[command(name = "relu-lab", version, about)]
pub struct Cli {
    /// What to do; with none, open the app (or, built without it, run the default lesson).
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// A headless command.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// List the built-in presets, one per step of the story.
    Presets,
    /// Train a run headless and print a row per reporting interval.
    Run(RunArgs),
    /// Replay a run record (from `run --record`, or saved by the app) and print the same rows.
    Replay(ReplayArgs),
    /// Estimate the probability that a deep ReLU net with one input is born dead on [-1, 1].
    ///
    /// Born dead: some hidden layer outputs zero for every input of the domain, so the network
    /// is a constant function. It is evaluated exactly, not on a grid: with one input each
    /// layer's output is piecewise linear in x, so we track its values at the breakpoints
    /// (the domain's ends plus every point where some neuron's pre-activation changes sign); a
    /// layer is dead exactly when all its outputs are zero at every breakpoint.
    BornDead(BornDeadArgs),
}

/// Where a run's config comes from, and how to report it.
#[derive(Debug, Args)]
pub struct RunArgs {
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
    #[command(flatten)]
    pub report: ReportArgs,
    /// Write the replayable run record (config and commands) as JSON.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write the trained network (weights, biases, activation, config) as JSON at the end; the
    /// layout is documented in the README and loads back with `--network`.
    #[arg(long)]
    pub export_network: Option<PathBuf>,
}

/// How long to run and how to print it.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Steps to train.
    #[arg(long, default_value_t = 3000)]
    pub steps: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How to print the rows.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print a row every this many steps (default: steps / 20).
    #[arg(long)]
    pub every: Option<u64>,
    /// Also write the rows as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Print one JSON object per row instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A record to replay.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The run record (JSON).
    pub file: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The born-dead experiment's parameters.
#[derive(Debug, Args)]
pub struct BornDeadArgs {
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
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub trials: u64,
    /// The seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Every bias (symmetric inits; added to RAI's own bias draw).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = parse_bias)]
    pub bias: f64,
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

/// Runs a headless command, writing its report to `out`.
pub fn execute(command: CliCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        CliCommand::Presets => list_presets(out),
        CliCommand::Run(args) => run(&args, out),
        CliCommand::Replay(args) => replay(&args, out),
        CliCommand::BornDead(args) => born_dead_command(&args, out),
    }
}

fn list_presets(out: &mut dyn Write) -> Result<()> {
    for preset in PRESETS {
        writeln!(out, "{:<20} {}", preset.name, preset.description())?;
    }
    Ok(())
}

/// Loads the config named by `--preset` or `--config`.
pub fn load_config(args: &RunArgs) -> Result<RunConfig> {
    let mut config = match (&args.preset, &args.config) {
        (Some(name), _) => {
            let preset = presets::find(name)
                .with_context(|| format!("no preset called '{name}'; the presets are: {}", presets::names()))?;
            preset.config().with_context(|| format!("preset {name} is invalid"))?
        }
        (None, Some(path)) => read_config(path)?,
        (None, None) => bail!("give --preset NAME, --config FILE or --network FILE"),
    };
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    Ok(config)
}

fn read_config(path: &Path) -> Result<RunConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    RunConfig::from_toml_str(&text).with_context(|| format!("config {} is invalid", path.display()))
}

fn run(args: &RunArgs, out: &mut dyn Write) -> Result<()> {
    let mut session = match &args.network {
        Some(path) => load_network(path, args.seed)?,
        None => Session::new(load_config(args)?)?,
    };
    let mut reporter = Reporter::new(&args.report.output, out)?;
    let every = interval(args.report.output.every, args.report.steps);
    reporter.row(&session.evaluate())?;
    while session.step_count() < args.report.steps {
        let outcome = session.step();
        reporter.after_step(&mut session, every)?;
        if let StepOutcome::Diverged(_) = outcome {
            break;
        }
    }
    reporter.finish(&mut session)?;
    if let Some(path) = &args.record {
        std::fs::write(path, session.record().to_json())
            .with_context(|| format!("cannot write the run record to {}", path.display()))?;
    }
    if let Some(path) = &args.export_network {
        std::fs::write(path, NetworkFile::from_session(&session).to_json())
            .with_context(|| format!("cannot write the network to {}", path.display()))?;
    }
    Ok(())
}

fn load_network(path: &Path, seed: Option<u64>) -> Result<Session> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read network {}", path.display()))?;
    let mut file = NetworkFile::from_json(&text).map_err(anyhow::Error::msg)?;
    if let Some(seed) = seed {
        file.config.seed = seed;
    }
    file.to_session().map_err(anyhow::Error::msg)
}

fn replay(args: &ReplayArgs, out: &mut dyn Write) -> Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read run record {}", args.file.display()))?;
    let record = RunRecord::from_json(&text).map_err(anyhow::Error::msg)?;
    let mut reporter = Reporter::new(&args.output, out)?;
    let every = interval(args.output.every, record.steps);
    reporter.row(&Session::new(record.config.clone())?.evaluate())?;
    let mut session =
        record.replay(|session| reporter.after_step(session, every)).map_err(|error| anyhow::anyhow!("{error}"))?;
    reporter.finish(&mut session)
}

fn interval(every: Option<u64>, steps: u64) -> u64 {
    every.unwrap_or(steps / 20).max(1)
}

/// Prints rows as a table or JSON lines, and optionally CSV.
struct Reporter<'a> {
    out: &'a mut dyn Write,
    csv: Option<(PathBuf, String)>,
    json: bool,
    header_printed: bool,
    divergence_reported: bool,
    last_row_step: Option<u64>,
}

impl<'a> Reporter<'a> {
    fn new(output: &OutputArgs, out: &'a mut dyn Write) -> Result<Self> {
        let (csv, json) = (output.csv.as_ref(), output.json);
        if let Some(path) = csv {
            std::fs::write(path, "").with_context(|| format!("cannot write CSV to {}", path.display()))?;
        }
        Ok(Self {
            out,
            csv: csv.map(|path| (path.clone(), String::new())),
            json,
            header_printed: false,
            divergence_reported: false,
            last_row_step: None,
        })
    }

    /// Prints a row every `every` steps, and once the row and the reason when the run diverges.
    fn after_step(&mut self, session: &mut Session, every: u64) -> Result<()> {
        if let Some(divergence) = session.divergence() {
            if !self.divergence_reported {
                self.divergence_reported = true;
                if self.last_row_step != Some(session.step_count()) {
                    self.row(&session.evaluate())?;
                }
                let (step, cause) = (divergence.step, divergence.cause.describe());
                writeln!(self.out, "diverged at step {step}: {cause}; the run stopped there")?;
            }
        } else if session.step_count().is_multiple_of(every) {
            self.row(&session.evaluate())?;
        }
        Ok(())
    }

    fn row(&mut self, evaluation: &Evaluation) -> Result<()> {
        self.last_row_step = Some(evaluation.step);
        let layers = evaluation.diagnostics.layers.len();
        if !self.header_printed {
            self.header_printed = true;
            if !self.json {
                writeln!(self.out, "{}", table_header(layers))?;
            }
            if let Some((_, text)) = &mut self.csv {
                text.push_str(&export::csv_header(layers));
                text.push('\n');
            }
        }
        let point = HistoryPoint::from_evaluation(evaluation);
        if self.json {
            writeln!(self.out, "{}", export::json_row(&point))?;
        } else {
            writeln!(self.out, "{}", table_row(evaluation))?;
        }
        if let Some((_, text)) = &mut self.csv {
            text.push_str(&export::csv_row(&point));
            text.push('\n');
        }
        Ok(())
    }

    fn finish(self, session: &mut Session) -> Result<()> {
        if let Some((path, text)) = &self.csv {
            std::fs::write(path, text).with_context(|| format!("cannot write CSV to {}", path.display()))?;
        }
        let evaluation = session.evaluate();
        let summary = summary(session, &evaluation);
        if self.json {
            writeln!(self.out, "{}", serde_json::to_string(&serde_json::json!({ "summary": summary }))?)?;
        } else {
            writeln!(self.out, "{summary}")?;
        }
        Ok(())
    }
}

fn table_header(layers: usize) -> String {
    let mut text =
        format!("{:>7} {:>7} {:>9} {:>10} {:>10} {:>8}", "step", "epoch", "lr", "train loss", "test loss", "test acc");
    for layer in 1..=layers {
        let _ = write!(text, " {:>14}", format!("L{layer} ok/dy/dead"));
    }
    for layer in 1..=layers {
        let _ = write!(text, " {:>9}", format!("grad L{layer}"));
    }
    text
}

fn table_row(e: &Evaluation) -> String {
    let accuracy = e.test_accuracy.map_or_else(|| "-".to_owned(), |a| format!("{:.1}%", a * 100.0));
    let mut text = format!(
        "{:>7} {:>7.2} {:>9.3e} {:>10.4} {:>10.4} {:>8}",
        e.step, e.epoch, e.learning_rate, e.train_loss, e.test_loss, accuracy
    );
    for layer in &e.diagnostics.layers {
        use relu_lab::nn::NeuronState::{Alive, Dead, Dying, Saturated};
        let alive = layer.count(Alive) + layer.count(Saturated);
        let _ = write!(text, " {:>14}", format!("{}/{}/{}", alive, layer.count(Dying), layer.count(Dead)));
    }
    for layer in &e.diagnostics.layers {
        let _ = write!(text, " {:>9.2e}", layer.gradient_norm);
    }
    text
}

fn summary(session: &Session, e: &Evaluation) -> String {
    use relu_lab::nn::NeuronState::{Dead, Dying};
    let total = e.diagnostics.neuron_count();
    let dead = e.diagnostics.count(Dead);
    let mut text = format!(
        "summary: {} steps ({:.1} epochs), {}: train loss {:.4}, test loss {:.4}",
        e.step,
        e.epoch,
        session.network().activation,
        e.train_loss,
        e.test_loss
    );
    if let Some(accuracy) = e.test_accuracy {
        let _ = write!(text, ", test accuracy {:.1}%", accuracy * 100.0);
    }
    let _ = write!(
        text,
        "; {dead} of {total} hidden neurons dead ({:.0}%), {} dying",
        100.0 * dead as f64 / total.max(1) as f64,
        e.diagnostics.count(Dying)
    );
    if e.diagnostics.is_collapsed {
        text.push_str("; COLLAPSED: a whole hidden layer is dead, the output is constant");
    }
    if let Some(divergence) = session.divergence() {
        let _ = write!(text, "; DIVERGED at step {}: {}", divergence.step, divergence.cause.describe());
    }
    text
}

fn born_dead_command(args: &BornDeadArgs, out: &mut dyn Write) -> Result<()> {
    let started = std::time::Instant::now();
    let estimate = born_dead::estimate(
        args.width as usize,
        args.hidden_layers as usize,
        args.init,
        args.bias,
        args.trials,
        args.seed,
    );
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let value = serde_json::json!({
            "width": args.width, "hidden_layers": args.hidden_layers, "init": args.init.key(),
            "bias": args.bias, "seed": args.seed, "estimate": estimate,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(
            out,
            "born dead: {} of {} networks ({} x {} hidden, {}, bias {}): p = {:.4} ± {:.4} (standard error); {:.3} s",
            estimate.born_dead,
            estimate.trials,
            args.hidden_layers,
            args.width,
            args.init.label(),
            args.bias,
            estimate.probability,
            estimate.standard_error,
            seconds
        )?;
    }
    Ok(())
}

//! `relu-lab run` and `relu-lab replay`: train (or replay) headless, print rows as they come,
//! and write the outputs, also when the run is stopped early.

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};

use super::files::{MAX_CONFIG_BYTES, MAX_DATA_BYTES, OutputFile, OutputPlan, read_capped};
use super::interrupt::{self, Interruption};
use super::report::Reporter;
use super::{Completion, RunArgs};
use relu_lab::train::export::NetworkFile;
use relu_lab::train::presets;
use relu_lab::train::{RunConfig, RunRecord, Session, StepOutcome};

/// Loads the config named by `--preset` or `--config`.
fn load_config(args: &RunArgs, plan: &mut OutputPlan) -> Result<RunConfig> {
    load_config_from(args.preset.as_deref(), args.config.as_deref(), args.seed, plan)
}

/// Loads the config of a preset or a TOML file, with `seed` if given.
pub(super) fn load_config_from(
    preset: Option<&str>,
    path: Option<&std::path::Path>,
    seed: Option<u64>,
    plan: &mut OutputPlan,
) -> Result<RunConfig> {
    let mut config = match (preset, path) {
        (Some(name), _) => {
            let preset = presets::find(name)
                .with_context(|| format!("no preset called '{name}'; the presets are: {}", presets::names()))?;
            preset.config().with_context(|| format!("preset {name} is invalid"))?
        }
        (None, Some(path)) => {
            plan.input(path);
            let text = read_capped(path, MAX_CONFIG_BYTES, "config")?;
            RunConfig::from_toml_str(&text).with_context(|| format!("config {} is invalid", path.display()))?
        }
        (None, None) => bail!("give --preset NAME, --config FILE or --network FILE"),
    };
    if let Some(seed) = seed {
        config.seed = seed;
    }
    Ok(config)
}

fn load_network(args: &RunArgs, plan: &mut OutputPlan) -> Result<Option<Session>> {
    let Some(path) = &args.network else { return Ok(None) };
    plan.input(path);
    let text = read_capped(path, MAX_DATA_BYTES, "network")?;
    let mut file = NetworkFile::from_json(&text).with_context(|| format!("network {} is invalid", path.display()))?;
    if let Some(seed) = args.seed {
        file.config.seed = seed;
    }
    Ok(Some(Session::from_network_file(&file)?))
}

/// The outputs of `run`, opened before any training.
struct RunOutputs {
    record: Option<OutputFile>,
    network: Option<OutputFile>,
}

/// `relu-lab run`.
pub(super) fn run(args: &RunArgs, out: &mut dyn Write) -> Result<Completion> {
    let mut plan = OutputPlan::default();
    let mut session = match load_network(args, &mut plan)? {
        Some(session) => session,
        None => Session::new(load_config(args, &mut plan)?)?,
    };
    let force = args.output.force;
    let outputs = RunOutputs {
        record: plan.output("run record", args.record.as_deref(), force)?,
        network: plan.output("network", args.export_network.as_deref(), force)?,
    };
    // Last: with --force it removes the old CSV, which must stay if another output is refused.
    let csv = plan.stream("CSV", args.output.csv.as_deref(), force)?;
    let every = args.output.every.unwrap_or(args.steps / 20).max(1);
    let mut reporter = Reporter::new(out, csv, args.output.json, every, args.steps);
    reporter.row(&session.evaluate());
    let interruption = loop {
        if session.step_count() >= args.steps {
            break None;
        }
        // A signal first: a closed terminal also makes the writes to it fail.
        if let Some(interruption) = stop_requested(&reporter) {
            break Some(interruption);
        }
        if reporter.has_failed() {
            break None;
        }
        let outcome = session.step();
        reporter.after_step(&mut session);
        if let StepOutcome::Diverged(_) = outcome {
            break None;
        }
    };
    let step = session.step_count();
    let reason = stop_reason(interruption, reporter.has_failed(), step);
    let reported = reporter.finish(&mut session, reason.as_deref());
    let written = write_run_outputs(&session, outputs, every);
    let failure = match (reported, written) {
        (Err(failure), Ok(kept)) => stopped_by(&failure, step, &kept),
        (Err(failure), Err(error)) => anyhow!("{:#}; and {error:#}", stopped_by(&failure, step, &[])),
        (Ok(()), written) => {
            written?;
            return Ok(interruption.map_or(Completion::Done, Completion::Interrupted));
        }
    };
    match interruption {
        // The signal is why the run ended (and the exit code says so); the failed write is
        // told as well, where standard error still reaches someone.
        Some(interruption) => {
            let _ = writeln!(std::io::stderr(), "relu-lab: {failure:#}");
            Ok(Completion::Interrupted(interruption))
        }
        None => Err(failure),
    }
}

/// Writes the record and the network; tries both before reporting the first failure. Returns
/// what was written, in words ("the run record r.json").
fn write_run_outputs(session: &Session, outputs: RunOutputs, every: u64) -> Result<Vec<String>> {
    let record = outputs.record.map(|file| {
        let record = RunRecord::single(session.record(), Some(every));
        file.finish_with(&record.to_json()).map(|path| format!("the run record {}", path.display()))
    });
    let network = outputs.network.map(|file| {
        file.finish_with(&session.network_file().to_json()).map(|path| format!("the network {}", path.display()))
    });
    let (record, network) = (record.transpose(), network.transpose());
    let (record, network) = (record?, network?);
    Ok(record.into_iter().chain(network).collect())
}

/// A run stopped by a failed write, in words: the failure, the step, and what was kept.
fn stopped_by(failure: &anyhow::Error, step: u64, kept: &[String]) -> anyhow::Error {
    if kept.is_empty() {
        anyhow!("{failure:#}; the run stopped at step {step}")
    } else {
        anyhow!("{failure:#}; the run stopped at step {step}; written up to there: {}", kept.join(" and "))
    }
}

pub(super) fn stop_requested(reporter: &Reporter<'_>) -> Option<Interruption> {
    interrupt::received().or_else(|| reporter.is_stdout_closed().then_some(Interruption::BrokenPipe))
}

/// Why the run stopped early, for its summary line.
pub(super) fn stop_reason(interruption: Option<Interruption>, has_failed: bool, step: u64) -> Option<String> {
    match interruption {
        Some(interruption) => {
            Some(format!("{} at step {step}; the outputs hold the run up to there", interruption.describe()))
        }
        None if has_failed => Some(format!("an output could not be written at step {step} (see standard error)")),
        None => None,
    }
}

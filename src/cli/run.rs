//! `relu-lab run` and `relu-lab replay`: train (or replay) headless, print rows as they come,
//! and write the outputs, also when the run is stopped early.

use std::io::Write;

use anyhow::{Context, Result, bail};

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
    let csv = plan.output("CSV", args.output.csv.as_deref(), force)?;
    let outputs = RunOutputs {
        record: plan.output("run record", args.record.as_deref(), force)?,
        network: plan.output("network", args.export_network.as_deref(), force)?,
    };
    let every = args.output.every.unwrap_or(args.steps / 20).max(1);
    let mut reporter = Reporter::new(out, csv, args.output.json, every, args.steps);
    reporter.row(&session.evaluate())?;
    let interruption = loop {
        if session.step_count() >= args.steps {
            break None;
        }
        if let Some(interruption) = stop_requested(&reporter) {
            break Some(interruption);
        }
        let outcome = session.step();
        reporter.after_step(&mut session)?;
        if let StepOutcome::Diverged(_) = outcome {
            break None;
        }
    };
    let reason = interruption.map(|interruption| describe_stop(interruption, session.step_count()));
    let reported = reporter.finish(&mut session, reason.as_deref());
    let written = write_run_outputs(&session, outputs, every);
    reported.and(written)?;
    Ok(interruption.map_or(Completion::Done, Completion::Interrupted))
}

/// Writes the record and the network; tries both before reporting the first failure.
fn write_run_outputs(session: &Session, outputs: RunOutputs, every: u64) -> Result<()> {
    let record =
        outputs.record.map(|file| file.finish_with(&RunRecord::single(session.record(), Some(every)).to_json()));
    let network = outputs.network.map(|file| file.finish_with(&session.network_file().to_json()));
    record.transpose().and(network.transpose()).map(|_| ())
}

pub(super) fn stop_requested(reporter: &Reporter<'_>) -> Option<Interruption> {
    interrupt::received().or_else(|| reporter.is_stdout_closed().then_some(Interruption::BrokenPipe))
}

pub(super) fn describe_stop(interruption: Interruption, step: u64) -> String {
    format!("{} at step {step}; the outputs hold the run up to there", interruption.describe())
}

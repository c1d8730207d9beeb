//! `relu-lab run` and `relu-lab replay`: train (or replay) headless, print rows as they come,
//! and write the outputs, also when the run is stopped early.

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};

use super::files::{MAX_CONFIG_BYTES, MAX_DATA_BYTES, OutputFile, OutputPlan, read_capped};
use super::interrupt::{self, Interruption};
use super::report::Reporter;
use super::{Completion, OutputArgs, RunArgs};
use relu_lab::train::export::NetworkFile;
use relu_lab::train::presets;
use relu_lab::train::{ReplayCursor, RunConfig, RunRecord, Session, StepOutcome, Verification};

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
    let record = outputs.record.map(|file| {
        let mut record = session.record();
        record.report_every = Some(every);
        file.finish_with(&record.to_json())
    });
    let network = outputs.network.map(|file| file.finish_with(&session.network_file().to_json()));
    record.transpose().and(network.transpose()).map(|_| ())
}

fn stop_requested(reporter: &Reporter<'_>) -> Option<Interruption> {
    interrupt::received().or_else(|| reporter.is_stdout_closed().then_some(Interruption::BrokenPipe))
}

fn describe_stop(interruption: Interruption, step: u64) -> String {
    format!("{} at step {step}; the outputs hold the run up to there", interruption.describe())
}

/// `relu-lab replay`.
pub(super) fn replay(args: &super::ReplayArgs, out: &mut dyn Write) -> Result<Completion> {
    let mut plan = OutputPlan::default();
    plan.input(&args.file);
    let text = read_capped(&args.file, MAX_DATA_BYTES, "run record")?;
    let record =
        RunRecord::from_json(&text).with_context(|| format!("run record {} is invalid", args.file.display()))?;
    if record.fork.is_some() {
        return super::compare::replay_comparison(&record, args, &mut plan, out);
    }
    let OutputArgs { every, csv, json, force } = &args.output;
    let csv = plan.output("CSV", csv.as_deref(), *force)?;
    let every = every.or(record.report_every).unwrap_or(record.steps / 20).max(1);
    let (mut session, mut cursor) = ReplayCursor::start(&record)?;
    let mut reporter = Reporter::new(out, csv, *json, every, record.steps);
    reporter.row(&session.evaluate())?;
    let mut failure = None;
    let interruption = loop {
        if let Some(interruption) = stop_requested(&reporter) {
            break Some(interruption);
        }
        match cursor.next(&mut session) {
            Ok(Some(step)) if step.outcome.is_some() => reporter.after_step(&mut session)?,
            Ok(Some(_)) => {}
            Ok(None) => break None,
            Err(error) => {
                failure = Some(error);
                break None;
            }
        }
    };
    let reason = interruption.map(|interruption| describe_stop(interruption, session.step_count()));
    reporter.finish(&mut session, reason.as_deref())?;
    if let Some(error) = failure {
        return Err(anyhow!(error).context(format!("the replay of {} stopped", args.file.display())));
    }
    if let Some(interruption) = interruption {
        return Ok(Completion::Interrupted(interruption));
    }
    verdict(&cursor.verify(&session), args.no_verify)?;
    Ok(Completion::Done)
}

/// Says how the final weights compare with the record; a mismatch fails unless `no_verify`.
pub(super) fn verdict(verification: &Verification, no_verify: bool) -> Result<()> {
    let text = verification.describe();
    match verification {
        Verification::Differs { .. } if !no_verify => bail!("{text} (pass --no-verify to accept it)"),
        _ => {
            let _ = writeln!(std::io::stderr(), "relu-lab: replay: {text}");
            Ok(())
        }
    }
}

//! `relu-lab replay`: a record played back headless, printing the rows its run printed (a
//! comparison's side by side), then whether every branch's final weights match the record bit
//! for bit. A record that was edited after it was saved, or that holds no digest of its
//! content, is refused unless `--no-verify`.

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};

use super::compare::PairReporter;
use super::files::{MAX_DATA_BYTES, OutputPlan, read_capped};
use super::report::Reporter;
use super::run::{stop_reason, stop_requested};
use super::{Completion, OutputArgs, ReplayArgs};
use relu_lab::train::record::Integrity;
use relu_lab::train::{EnsembleCursor, LaneStep, ReplayCursor, RunRecord, Verification};

/// `relu-lab replay`.
pub(super) fn replay(args: &ReplayArgs, out: &mut dyn Write) -> Result<Completion> {
    let mut plan = OutputPlan::default();
    plan.input(&args.file);
    let text = read_capped(&args.file, MAX_DATA_BYTES, "run record")?;
    let record =
        RunRecord::from_json(&text).with_context(|| format!("run record {} is invalid", args.file.display()))?;
    check_integrity(&record, args.no_verify)?;
    let lane = match record.lanes.as_slice() {
        [lane] if lane.fork.is_none() => lane,
        _ => return replay_comparison(&record, args, &mut plan, out),
    };
    let OutputArgs { every, csv, json, force } = &args.output;
    let every = every.or(record.report_every).unwrap_or(lane.steps / 20).max(1);
    let (mut session, mut cursor) = ReplayCursor::start(lane)?;
    let csv = plan.stream("CSV", csv.as_deref(), *force)?;
    let mut reporter = Reporter::new(out, csv, *json, every, lane.steps);
    reporter.row(&session.evaluate());
    let mut failure = None;
    let interruption = loop {
        if let Some(interruption) = stop_requested(&reporter) {
            break Some(interruption);
        }
        if reporter.has_failed() {
            break None;
        }
        match cursor.next(&mut session) {
            Ok(Some(step)) if step.outcome.is_some() => reporter.after_step(&mut session),
            Ok(Some(_)) => {}
            Ok(None) => break None,
            Err(error) => {
                failure = Some(error);
                break None;
            }
        }
    };
    let step = session.step_count();
    let reason = stop_reason(interruption, reporter.has_failed(), step);
    if let Err(write_failure) = reporter.finish(&mut session, reason.as_deref()) {
        let failure = anyhow!("{write_failure:#}; the replay stopped at step {step}");
        let Some(interruption) = interruption else { return Err(failure) };
        let _ = writeln!(std::io::stderr(), "relu-lab: {failure:#}");
        return Ok(Completion::Interrupted(interruption));
    }
    if let Some(error) = failure {
        return Err(anyhow!(error).context(format!("the replay of {} stopped", args.file.display())));
    }
    if let Some(interruption) = interruption {
        return Ok(Completion::Interrupted(interruption));
    }
    verdicts(&record, &[(lane.config.seed, cursor.verify(&session), None)], args.no_verify)?;
    Ok(Completion::Done)
}

/// Refuses a record that was edited after it was saved, or that holds no digest of its
/// content, unless `no_verify`; then it only warns.
fn check_integrity(record: &RunRecord, no_verify: bool) -> Result<()> {
    let integrity = record.integrity();
    if integrity == Integrity::Intact {
        return Ok(());
    }
    let text = integrity.describe();
    if !no_verify {
        bail!("{text}; it is not replayed (pass --no-verify to replay it anyway, unchecked)");
    }
    let _ = writeln!(std::io::stderr(), "relu-lab: replay: {text}; replaying it unchecked (--no-verify)");
    Ok(())
}

/// Says, per seed and branch, how the final weights compare with the record (naming the
/// branch and, for several seeds, the seed); a mismatch fails unless `no_verify`.
fn verdicts(
    record: &RunRecord,
    verifications: &[(u64, Verification, Option<Verification>)],
    no_verify: bool,
) -> Result<()> {
    let is_single = verifications.len() == 1;
    let mut differs = Vec::new();
    for (seed, a, b) in verifications {
        let seed_name = if is_single { String::new() } else { format!("seed {seed} ") };
        let branches = std::iter::once((if b.is_some() { "A: " } else { "" }, a)).chain(b.as_ref().map(|b| ("B: ", b)));
        for (branch, verification) in branches {
            let text = format!("{seed_name}{branch}{}", verification.describe());
            let _ = writeln!(std::io::stderr(), "relu-lab: replay: {text}");
            if matches!(verification, Verification::Differs { .. }) {
                differs.push(text);
            }
        }
    }
    if differs.is_empty() || no_verify {
        return Ok(());
    }
    let here = relu_lab::train::record::platform();
    let origin = match &record.made_on {
        Some(made_on) if made_on != &here => {
            format!("the record was made on {made_on} and this machine is {here}: the platform differs")
        }
        Some(_) => format!("the record was made on this platform ({here}), by another version of ReLU Lab"),
        None => "the record does not say where it was made (an older version made it)".to_owned(),
    };
    bail!("{}; {origin} (pass --no-verify to accept it)", differs.join("; "))
}

/// `relu-lab replay` of a record that holds a comparison (or several seeds): the rows of its
/// first seed as `compare` printed them, then a verdict per branch and seed.
fn replay_comparison(
    record: &RunRecord,
    args: &ReplayArgs,
    plan: &mut OutputPlan,
    out: &mut dyn Write,
) -> Result<Completion> {
    let csv = plan.stream("CSV", args.output.csv.as_deref(), args.output.force)?;
    let every = args.output.every.or(record.report_every).unwrap_or(record.steps() / 20).max(1);
    let (mut ensemble, mut cursor) = EnsembleCursor::start(record)?;
    let mut reporter = PairReporter::new(out, csv, args.output.json, every);
    reporter.row(&mut ensemble);
    let mut failure = None;
    // The fork line waits one step, for A's own changes at the fork.
    let mut fork_pending = false;
    let interruption = loop {
        if let Some(interruption) = reporter.stop_requested() {
            break Some(interruption);
        }
        let events = match cursor.next(&mut ensemble) {
            Ok(Some(events)) => events,
            Ok(None) => break None,
            Err(error) => {
                failure = Some(error);
                break None;
            }
        };
        let Some(first) = events.into_iter().find(|event| event.lane == 0) else { continue };
        let made_a_step = first.step.made_a_step();
        match first.step {
            LaneStep::Forked { .. } => fork_pending = true,
            LaneStep::Both { a, .. } if fork_pending => {
                let fork_step = ensemble.fork_step().unwrap_or(0);
                let a_words: Vec<String> = a
                    .iter()
                    .flat_map(|step| &step.annotations)
                    .filter(|annotation| annotation.step == fork_step)
                    .map(|annotation| annotation.text.clone())
                    .collect();
                reporter.fork_line(&ensemble, &a_words);
                fork_pending = false;
            }
            _ => {}
        }
        if made_a_step && ensemble.step_count().is_multiple_of(every) {
            reporter.row(&mut ensemble);
        }
    };
    let reason = stop_reason(interruption, false, ensemble.step_count());
    reporter.finish(&mut ensemble, reason.as_deref())?;
    if let Some(error) = failure {
        return Err(anyhow!(error).context(format!("the replay of {} stopped", args.file.display())));
    }
    if let Some(interruption) = interruption {
        return Ok(Completion::Interrupted(interruption));
    }
    verdicts(record, &cursor.verify(&ensemble), args.no_verify)?;
    Ok(Completion::Done)
}

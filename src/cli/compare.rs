//! `relu-lab compare`: train a run, fork it at a step into A and B, change B (or A), and print
//! both branches' rows side by side; `relu-lab replay` prints a comparison record the same way.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};

use super::files::{OutputFile, OutputPlan};
use super::interrupt::{self, Interruption};
use super::report::run_summary;
use super::run::{load_config_from, verdict};
use super::{CompareArgs, Completion};
use relu_lab::nn::NeuronState;
use relu_lab::train::compare::{ForkError, commands_between, with_assignments};
use relu_lab::train::export;
use relu_lab::train::{
    Comparison, ComparisonCursor, ComparisonStep, Evaluation, Fork, HistoryPoint, RunRecord, Session, SessionCommand,
    StepOutcome, Target,
};

/// `relu-lab compare`.
pub(super) fn compare(args: &CompareArgs, out: &mut dyn Write) -> Result<Completion> {
    let mut plan = OutputPlan::default();
    let config = load_config_from(args.preset.as_deref(), args.config.as_deref(), args.seed, &mut plan)?;
    if args.fork_at > args.steps {
        bail!("--fork-at {} is after the last step (--steps {})", args.fork_at, args.steps);
    }
    // The changes are worked out before training, so a typo costs nothing. No command reaches
    // the run before the fork, so its settings there are the config's.
    let b_changes = commands_between(&config, &with_assignments(&config, &args.b).context("--b")?);
    let a_changes = commands_between(&config, &with_assignments(&config, &args.a).context("--a")?);
    if a_changes.iter().any(SessionCommand::resets_network) {
        bail!("--a: {}", ForkError::RebuildA);
    }
    let force = args.output.force;
    let record_file = plan.output("comparison record", args.record.as_deref(), force)?;
    let csv = plan.stream("CSV", args.output.csv.as_deref(), force)?;
    let every = args.output.every.unwrap_or(args.steps / 20).max(1);
    let mut reporter = PairReporter::new(out, csv, args.output.json, every);
    let mut a = Session::new(config)?;
    reporter.row(&a.evaluate(), None)?;
    let mut interruption = train_alone(&mut a, args.fork_at, &mut reporter)?;
    let mut comparison = None;
    if interruption.is_none() {
        let mut pair = Comparison::fork(a.clone(), b_changes).map_err(|error| anyhow!(error))?;
        let mut a_words = Vec::new();
        for command in &a_changes {
            let annotations = pair.apply(Target::A, command).map_err(|error| anyhow!(error)).context("--a")?;
            a_words.extend(annotations.into_iter().map(|(_, annotation)| annotation.text));
        }
        reporter.fork_line(&pair.fork, &a_words);
        interruption = train_both(&mut pair, args.steps, &mut reporter)?;
        comparison = Some(pair);
    }
    let reason = interruption.map(|i| format!("{} at step {}", i.describe(), step_of(&a, comparison.as_ref())));
    if let Some(mut pair) = comparison {
        let Comparison { a, fork } = &mut pair;
        reporter.finish(a, Some(fork), reason.as_deref())?;
        write_record(record_file, &pair.record(), every)?;
    } else {
        reporter.finish(&mut a, None, reason.as_deref())?;
        write_record(record_file, &a.record(), every)?;
    }
    Ok(interruption.map_or(Completion::Done, Completion::Interrupted))
}

fn step_of(a: &Session, comparison: Option<&Comparison>) -> u64 {
    comparison.map_or(a.step_count(), |pair| pair.a.step_count())
}

fn write_record(file: Option<OutputFile>, record: &RunRecord, every: u64) -> Result<()> {
    let Some(file) = file else { return Ok(()) };
    let mut record = record.clone();
    record.report_every = Some(every);
    if let Some(fork) = &mut record.fork {
        fork.b.report_every = Some(every);
    }
    file.finish_with(&record.to_json()).map(|_| ())
}

/// Trains `a` alone up to `steps`, printing its rows.
fn train_alone(a: &mut Session, steps: u64, reporter: &mut PairReporter<'_>) -> Result<Option<Interruption>> {
    while a.step_count() < steps {
        if let Some(interruption) = reporter.stop_requested() {
            return Ok(Some(interruption));
        }
        let outcome = a.step();
        if a.step_count().is_multiple_of(reporter.every) || matches!(outcome, StepOutcome::Diverged(_)) {
            reporter.row(&a.evaluate(), None)?;
        }
        if matches!(outcome, StepOutcome::Diverged(_)) {
            bail!("the run diverged at step {} before the fork; fork earlier or lower the rate", a.step_count());
        }
    }
    Ok(None)
}

/// Trains both branches in lockstep until A has made `steps`, printing paired rows.
fn train_both(pair: &mut Comparison, steps: u64, reporter: &mut PairReporter<'_>) -> Result<Option<Interruption>> {
    while pair.a.step_count() < steps {
        if let Some(interruption) = reporter.stop_requested() {
            return Ok(Some(interruption));
        }
        let outcomes = pair.step();
        let both_diverged = matches!(outcomes, (StepOutcome::Diverged(_), StepOutcome::Diverged(_)));
        if pair.a.step_count().is_multiple_of(reporter.every) || both_diverged {
            let Comparison { a, fork } = pair;
            reporter.row(&a.evaluate(), Some(&fork.b_mut().evaluate()))?;
        }
        if both_diverged {
            break;
        }
    }
    Ok(None)
}

/// `relu-lab replay` of a record that holds a comparison: the same rows as `compare` printed.
pub(super) fn replay_comparison(
    record: &RunRecord,
    args: &super::ReplayArgs,
    plan: &mut OutputPlan,
    out: &mut dyn Write,
) -> Result<Completion> {
    let csv = plan.stream("CSV", args.output.csv.as_deref(), args.output.force)?;
    let every = args.output.every.or(record.report_every).unwrap_or(record.steps / 20).max(1);
    let (mut a, mut cursor) = ComparisonCursor::start(record)?;
    let mut fork: Option<Fork> = None;
    let mut reporter = PairReporter::new(out, csv, args.output.json, every);
    reporter.row(&a.evaluate(), None)?;
    let mut failure = None;
    let interruption = loop {
        if let Some(interruption) = reporter.stop_requested() {
            break Some(interruption);
        }
        match cursor.next(&mut a, &mut fork) {
            Ok(Some(ComparisonStep::Single(step))) => {
                if step.outcome.is_some() && a.step_count().is_multiple_of(every) {
                    reporter.row(&a.evaluate(), None)?;
                }
            }
            Ok(Some(ComparisonStep::Forked { .. })) => {
                if let Some(fork) = &fork {
                    reporter.fork_line(fork, &[]);
                }
            }
            Ok(Some(ComparisonStep::Both { a: a_step, .. })) => {
                if let Some(fork) = fork.as_mut()
                    && a_step.is_some_and(|step| step.outcome.is_some())
                    && a.step_count().is_multiple_of(every)
                {
                    reporter.row(&a.evaluate(), Some(&fork.b_mut().evaluate()))?;
                }
            }
            Ok(None) => break None,
            Err(error) => {
                failure = Some(error);
                break None;
            }
        }
    };
    let reason = interruption.map(|i| format!("{} at step {}", i.describe(), a.step_count()));
    reporter.finish(&mut a, fork.as_mut(), reason.as_deref())?;
    if let Some(error) = failure {
        return Err(anyhow!(error).context(format!("the replay of {} stopped", args.file.display())));
    }
    if let Some(interruption) = interruption {
        return Ok(Completion::Interrupted(interruption));
    }
    let (a_verification, b_verification) = cursor.verify(&a, fork.as_ref());
    verdict(&a_verification, args.no_verify).context("branch A")?;
    if let Some(b_verification) = b_verification {
        verdict(&b_verification, args.no_verify).context("branch B")?;
    }
    Ok(Completion::Done)
}

/// How rows are printed on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RowFormat {
    Table,
    Json,
}

/// Prints A's and B's rows side by side (a table or JSON lines) and streams them to a CSV file.
struct PairReporter<'a> {
    out: &'a mut dyn Write,
    csv: Option<OutputFile>,
    format: RowFormat,
    every: u64,
    header_printed: bool,
    csv_layers: Option<(usize, usize)>,
    last_row: Option<(u64, bool)>,
    is_stdout_closed: bool,
}

impl<'a> PairReporter<'a> {
    fn new(out: &'a mut dyn Write, csv: Option<OutputFile>, json: bool, every: u64) -> Self {
        Self {
            out,
            csv,
            format: if json { RowFormat::Json } else { RowFormat::Table },
            every: every.max(1),
            header_printed: false,
            csv_layers: None,
            last_row: None,
            is_stdout_closed: false,
        }
    }

    fn stop_requested(&self) -> Option<Interruption> {
        interrupt::received().or_else(|| self.is_stdout_closed.then_some(Interruption::BrokenPipe))
    }

    /// One row: A's numbers and, after the fork, B's.
    fn row(&mut self, a: &Evaluation, b: Option<&Evaluation>) -> Result<()> {
        self.last_row = Some((a.step, b.is_some()));
        if !self.header_printed && self.format == RowFormat::Table {
            self.header_printed = true;
            self.print(&table_header());
        }
        let (a_point, b_point) = (HistoryPoint::from_evaluation(a), b.map(HistoryPoint::from_evaluation));
        let line = match self.format {
            RowFormat::Json => serde_json::json!({
                "step": a.step,
                "a": export::json_row(&a_point),
                "b": b_point.as_ref().map(export::json_row),
            })
            .to_string(),
            RowFormat::Table => format!("{:>7} | {} | {}", a.step, table_cells(a), b.map_or_else(not_yet, table_cells)),
        };
        self.print(&line);
        self.csv_row(&a_point, b_point.as_ref())
    }

    fn csv_row(&mut self, a: &HistoryPoint, b: Option<&HistoryPoint>) -> Result<()> {
        let Some(csv) = &mut self.csv else { return Ok(()) };
        let a_layers = a.layers.len();
        let b_layers = b.map_or(a_layers, |b| b.layers.len());
        if self.csv_layers.is_none() {
            self.csv_layers = Some((a_layers, b_layers));
            csv.append(&format!("step,{},{}\n", prefixed("a_", a_layers), prefixed("b_", b_layers)))?;
        }
        let fields = |point: &HistoryPoint| export::csv_row(point).split_once(',').map(|(_, rest)| rest.to_owned());
        let a_fields = fields(a).unwrap_or_default();
        let b_fields = match b {
            Some(b) => fields(b).unwrap_or_default(),
            None => ",".repeat(export::csv_header(b_layers).matches(',').count() - 1),
        };
        csv.append(&format!("{},{a_fields},{b_fields}\n", a.step))
    }

    fn fork_line(&mut self, fork: &Fork, a_changes: &[String]) {
        let mut line = format!("fork at step {}: {}", fork.point().step, fork.point().describe());
        if !a_changes.is_empty() {
            let _ = write!(line, "; A: {}", a_changes.join(", "));
        }
        if self.format == RowFormat::Json {
            line = serde_json::json!({ "fork": line }).to_string();
        }
        self.print(&line);
    }

    fn print(&mut self, line: &str) {
        if self.is_stdout_closed {
            return;
        }
        if writeln!(self.out, "{line}").and_then(|()| self.out.flush()).is_err() {
            self.is_stdout_closed = true;
        }
    }

    /// The last row (unless just printed), a summary per branch and of the difference, and
    /// the CSV file in place.
    fn finish(mut self, a: &mut Session, mut b: Option<&mut Fork>, reason: Option<&str>) -> Result<()> {
        let a_evaluation = a.evaluate();
        let b_evaluation = b.as_mut().map(|fork| fork.b_mut().evaluate());
        if self.last_row != Some((a_evaluation.step, b_evaluation.is_some())) {
            self.row(&a_evaluation, b_evaluation.as_ref())?;
        }
        if let Some(csv) = self.csv.take() {
            csv.finish()?;
        }
        let mut lines = vec![format!("A: {}", run_summary(a, &a_evaluation))];
        if let (Some(fork), Some(b_evaluation)) = (b.as_ref(), &b_evaluation) {
            lines.push(format!("B: {}", run_summary(fork.b(), b_evaluation)));
            lines.push(difference(&a_evaluation, b_evaluation, fork.steps_since(a)));
        }
        if let Some(reason) = reason {
            lines.push(format!("STOPPED EARLY: {reason}; the outputs hold the comparison up to there"));
        }
        for line in lines {
            let line = match self.format {
                RowFormat::Json => serde_json::json!({ "summary": line }).to_string(),
                RowFormat::Table => line,
            };
            self.print(&line);
        }
        Ok(())
    }
}

fn table_header() -> String {
    let branch = |letter: &str| {
        format!(
            "{:>12} {:>8} {:>5} {:>7} {:>7}",
            format!("{letter} train loss"),
            "test acc",
            "dead",
            "all-neg",
            "revived"
        )
    };
    format!("{:>7} | {} | {}", "step", branch("A"), branch("B"))
}

fn table_cells(e: &Evaluation) -> String {
    let accuracy = e.test_accuracy.map_or_else(|| "-".to_owned(), |a| format!("{:.1}%", a * 100.0));
    format!(
        "{:>12.4} {:>8} {:>5} {:>7} {:>7}",
        e.train_loss,
        accuracy,
        e.diagnostics.count(NeuronState::Dead),
        e.diagnostics.all_negative(),
        e.revived.iter().sum::<u64>()
    )
}

fn not_yet() -> String {
    format!("{:>12} {:>8} {:>5} {:>7} {:>7}", "(not forked)", "", "", "", "")
}

fn prefixed(prefix: &str, layers: usize) -> String {
    export::csv_header(layers).split(',').skip(1).map(|field| format!("{prefix}{field}")).collect::<Vec<_>>().join(",")
}

fn difference(a: &Evaluation, b: &Evaluation, steps_since: u64) -> String {
    let dead = |e: &Evaluation| e.diagnostics.count(NeuronState::Dead);
    let mut text = format!("{steps_since} steps after the fork: dead A {} vs B {}", dead(a), dead(b));
    if let (Some(x), Some(y)) = (a.test_accuracy, b.test_accuracy) {
        let _ = write!(text, "; test accuracy A {:.1}% vs B {:.1}%", x * 100.0, y * 100.0);
    }
    text
}

//! `relu-lab compare`: train a run, fork it at a step into A and B, change B (or A), and print
//! both branches' rows side by side; `relu-lab replay` prints a comparison record the same way.
//! Both drive the same ensemble as the app: a branch that diverges stops alone and is named,
//! the other goes on to the last step, and every output is written.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, Result, bail};

use super::files::{OutputFile, OutputPlan};
use super::interrupt::{self, Interruption};
use super::report::run_summary;
use super::run::{load_config_from, stop_reason};
use super::{CompareArgs, Completion};
use relu_lab::nn::NeuronState;
use relu_lab::train::ensemble::{Lane, LaneDivergence};
use relu_lab::train::export;
use relu_lab::train::settings::{commands_between, with_assignments};
use relu_lab::train::{
    Branch, Ensemble, EnsembleError, Evaluation, HistoryPoint, RunRecord, Session, SessionCommand, Target,
};

/// The threads the two branches may use.
const THREADS: usize = 2;

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
        bail!("--a: {}", EnsembleError::RebuildA);
    }
    let force = args.output.force;
    let record_file = plan.output("comparison record", args.record.as_deref(), force)?;
    let csv = plan.stream("CSV", args.output.csv.as_deref(), force)?;
    let every = args.output.every.unwrap_or(args.steps / 20).max(1);
    let mut reporter = PairReporter::new(out, csv, args.output.json, every);
    let mut ensemble = Ensemble::single(config)?;
    reporter.row(&mut ensemble);
    let mut stop = train_to(&mut ensemble, args.fork_at, &mut reporter);
    if stop.is_none() && !reporter.has_failed() {
        if ensemble.is_finished() {
            reporter.note(&format!(
                "the run diverged before the fork at step {}: no comparison was made (fork earlier or lower the rate)",
                args.fork_at
            ));
        } else {
            ensemble.fork_now(&b_changes)?;
            let mut a_words = Vec::new();
            for command in &a_changes {
                let applied = ensemble.apply(Target::A, command).context("--a")?;
                a_words.extend(applied.annotations.into_iter().map(|annotation| annotation.annotation.text));
            }
            reporter.fork_line(&ensemble, &a_words);
            stop = train_to(&mut ensemble, args.steps, &mut reporter);
        }
    }
    let reason = stop_reason(stop, reporter.has_failed(), ensemble.step_count());
    // The record is written whatever happened to the CSV: it holds the comparison so far.
    let written = write_record(record_file, &ensemble, every);
    let reported = reporter.finish(&mut ensemble, reason.as_deref());
    reported.and(written)?;
    Ok(match stop {
        Some(interruption) => Completion::Interrupted(interruption),
        None => divergence_completion(&ensemble),
    })
}

/// How a finished comparison ends: done, or with every divergence named.
fn divergence_completion(ensemble: &Ensemble) -> Completion {
    let lane = ensemble.first();
    let diverged: Vec<String> = [(Branch::A, Some(lane.a())), (Branch::B, lane.b())]
        .into_iter()
        .filter_map(|(branch, session)| {
            let divergence = session?.divergence()?;
            Some(format!(
                "{} diverged at step {}: {}",
                branch_name(lane, branch),
                divergence.step,
                divergence.cause.describe()
            ))
        })
        .collect();
    if diverged.is_empty() { Completion::Done } else { Completion::Diverged(diverged.join("; ")) }
}

/// "A" and "B" once forked; "the run" before.
fn branch_name(lane: &Lane, branch: Branch) -> &'static str {
    match (branch, lane.b().is_some()) {
        (Branch::A, false) => "the run",
        (branch, _) => branch.letter(),
    }
}

fn write_record(file: Option<OutputFile>, ensemble: &Ensemble, every: u64) -> Result<()> {
    let Some(file) = file else { return Ok(()) };
    file.finish_with(&RunRecord::of_lanes(ensemble.lane_records(), Some(every)).to_json()).map(|_| ())
}

/// Trains until the ensemble's step is `target` (or every branch has diverged, or an output
/// failed), printing a row every `every` steps and a line for each branch that diverges.
fn train_to(ensemble: &mut Ensemble, target: u64, reporter: &mut PairReporter<'_>) -> Option<Interruption> {
    while ensemble.step_count() < target && !ensemble.is_finished() && !reporter.has_failed() {
        if let Some(interruption) = reporter.stop_requested() {
            return Some(interruption);
        }
        let step = ensemble.step_count();
        let round = (target - step).min(reporter.every - step % reporter.every);
        let divergences = ensemble.step(round, THREADS);
        for divergence in &divergences {
            reporter.divergence_line(ensemble, divergence);
        }
        if ensemble.step_count().is_multiple_of(reporter.every) || ensemble.is_finished() {
            reporter.row(ensemble);
        }
    }
    None
}

/// How rows are printed on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RowFormat {
    Table,
    Json,
}

/// Prints A's and B's rows side by side (a table or JSON lines) and streams them to a CSV file.
pub(super) struct PairReporter<'a> {
    out: &'a mut dyn Write,
    csv: Option<OutputFile>,
    format: RowFormat,
    every: u64,
    header_printed: bool,
    csv_layers: Option<(usize, usize)>,
    last_row: Option<(u64, bool)>,
    is_stdout_closed: bool,
    /// The first output that could not be written: the run stops, and `finish` reports it.
    failure: Option<anyhow::Error>,
}

/// One branch's numbers in a row: live, diverged (at its step), or not forked yet.
enum Cells {
    Live(Evaluation),
    Diverged(u64),
    NotYet,
}

impl Cells {
    fn of(session: Option<&mut Session>) -> Self {
        match session {
            None => Self::NotYet,
            Some(session) => match session.divergence() {
                Some(divergence) => Self::Diverged(divergence.step),
                None => Self::Live(session.evaluate()),
            },
        }
    }
}

impl<'a> PairReporter<'a> {
    pub(super) fn new(out: &'a mut dyn Write, csv: Option<OutputFile>, json: bool, every: u64) -> Self {
        Self {
            out,
            csv,
            format: if json { RowFormat::Json } else { RowFormat::Table },
            every: every.max(1),
            header_printed: false,
            csv_layers: None,
            last_row: None,
            is_stdout_closed: false,
            failure: None,
        }
    }

    /// Whether an output could not be written: the run should stop.
    pub(super) fn has_failed(&self) -> bool {
        self.failure.is_some()
    }

    pub(super) fn stop_requested(&self) -> Option<Interruption> {
        interrupt::received().or_else(|| self.is_stdout_closed.then_some(Interruption::BrokenPipe))
    }

    /// One row of the first lane: A's numbers and, after the fork, B's.
    pub(super) fn row(&mut self, ensemble: &mut Ensemble) {
        let step = ensemble.step_count();
        let lane = ensemble.first_mut();
        let is_forked = lane.b().is_some();
        let a = Cells::of(lane.session_mut(Branch::A));
        let b = Cells::of(lane.session_mut(Branch::B));
        self.last_row = Some((step, is_forked));
        if !self.header_printed && self.format == RowFormat::Table {
            self.header_printed = true;
            self.print(&table_header());
        }
        let point = |cells: &Cells| match cells {
            Cells::Live(evaluation) => Some(HistoryPoint::from_evaluation(evaluation)),
            Cells::Diverged(_) | Cells::NotYet => None,
        };
        let (a_point, b_point) = (point(&a), point(&b));
        let line = match self.format {
            RowFormat::Json => {
                let json = |cells: &Cells, point: &Option<HistoryPoint>| match cells {
                    Cells::Live(_) => point.as_ref().map_or(serde_json::Value::Null, export::json_row),
                    Cells::Diverged(at) => serde_json::json!({ "diverged_at": at }),
                    Cells::NotYet => serde_json::Value::Null,
                };
                serde_json::json!({ "step": step, "a": json(&a, &a_point), "b": json(&b, &b_point) }).to_string()
            }
            RowFormat::Table => format!("{step:>7} | {} | {}", table_cells(&a), table_cells(&b)),
        };
        self.print(&line);
        if let Err(error) =
            self.csv_row(step, a_point.as_ref(), b_point.as_ref(), a_point.as_ref().or(b_point.as_ref()))
            && self.failure.is_none()
        {
            self.failure = Some(error.context(format!("the CSV stopped at step {step}")));
        }
    }

    fn csv_row(
        &mut self,
        step: u64,
        a: Option<&HistoryPoint>,
        b: Option<&HistoryPoint>,
        any: Option<&HistoryPoint>,
    ) -> Result<()> {
        let Some(csv) = &mut self.csv else { return Ok(()) };
        let layers = any.map_or(0, |point| point.layers.len());
        if self.csv_layers.is_none() {
            let (a_layers, b_layers) = (a.map_or(layers, |p| p.layers.len()), b.map_or(layers, |p| p.layers.len()));
            self.csv_layers = Some((a_layers, b_layers));
            csv.append(&format!("step,{},{}\n", prefixed("a_", a_layers), prefixed("b_", b_layers)))?;
        }
        let (a_layers, b_layers) = self.csv_layers.unwrap_or((layers, layers));
        let fields = |point: Option<&HistoryPoint>, layers: usize| match point {
            Some(point) => export::csv_row(point).split_once(',').map(|(_, rest)| rest.to_owned()).unwrap_or_default(),
            None => ",".repeat(export::csv_header(layers).matches(',').count() - 1),
        };
        csv.append(&format!("{step},{},{}\n", fields(a, a_layers), fields(b, b_layers)))
    }

    pub(super) fn fork_line(&mut self, ensemble: &Ensemble, a_changes: &[String]) {
        let Some(fork) = ensemble.fork_info() else { return };
        let mut line = format!("fork at step {}: {}", fork.step, fork.description);
        if !a_changes.is_empty() {
            let _ = write!(line, "; A: {}", a_changes.join(", "));
        }
        self.note_as(&line, "fork");
    }

    /// A line for a branch that diverged.
    fn divergence_line(&mut self, ensemble: &Ensemble, divergence: &LaneDivergence) {
        let lane = ensemble.first();
        let name = branch_name(lane, divergence.branch);
        let text = format!(
            "{name} diverged at step {}: {}; {}",
            divergence.divergence.step,
            divergence.divergence.cause.describe(),
            if ensemble.is_finished() {
                "nothing is left to train"
            } else {
                "it stops there, the other branch goes on"
            }
        );
        self.note_as(&text, "diverged");
    }

    /// A line of prose: as it is in a table, as `{"note": …}` in JSON lines.
    fn note(&mut self, text: &str) {
        self.note_as(text, "note");
    }

    fn note_as(&mut self, text: &str, key: &str) {
        let line = match self.format {
            RowFormat::Json => serde_json::json!({ key: text }).to_string(),
            RowFormat::Table => text.to_owned(),
        };
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
    pub(super) fn finish(mut self, ensemble: &mut Ensemble, reason: Option<&str>) -> Result<()> {
        let step = ensemble.step_count();
        let is_forked = ensemble.first().b().is_some();
        if self.last_row != Some((step, is_forked)) && self.failure.is_none() {
            self.row(ensemble);
        }
        if let Some(csv) = self.csv.take() {
            let finished = csv.finish();
            if let (Err(error), None) = (finished, &self.failure) {
                self.failure = Some(error);
            }
        }
        let lane = ensemble.first_mut();
        let a_evaluation = lane.session_mut(Branch::A).map(Session::evaluate);
        let b_evaluation = lane.session_mut(Branch::B).map(Session::evaluate);
        let mut lines = Vec::new();
        if let Some(a) = &a_evaluation {
            lines.push(format!("A: {}", run_summary(lane.a(), a)));
        }
        if let (Some(b_session), Some(b), Some(a)) = (lane.b(), &b_evaluation, &a_evaluation) {
            lines.push(format!("B: {}", run_summary(b_session, b)));
            lines.push(difference(a, b, step.saturating_sub(ensemble.fork_step().unwrap_or(0))));
        }
        if let Some(reason) = reason {
            lines.push(format!("STOPPED EARLY: {reason}; the outputs hold the comparison up to there"));
        }
        for line in lines {
            self.note_as(&line, "summary");
        }
        self.failure.map_or(Ok(()), Err)
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

fn table_cells(cells: &Cells) -> String {
    let e = match cells {
        Cells::Live(evaluation) => evaluation,
        Cells::Diverged(at) => return format!("{:<44}", format!("(diverged at step {at})")),
        Cells::NotYet => return format!("{:>12} {:>8} {:>5} {:>7} {:>7}", "(not forked)", "", "", "", ""),
    };
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

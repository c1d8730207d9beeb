//! Rows as a run goes: a table or JSON lines on standard output, CSV streamed to a file, and a
//! progress bar on standard error when it is a terminal. Nothing is held in memory: a run of
//! any length prints and writes as it goes.
//!
//! With `--json` every line on standard output is one JSON object: a row, the divergence
//! (`{"divergence": {...}}`) or the summary (`{"summary": "..."}`).
//!
//! A write that fails (a full disk, `ulimit -f`, standard output on a full device) does not
//! end the command on the spot: it is kept as the reporter's failure, the caller stops the run
//! and still writes its other outputs, then reports the failure. A closed pipe is not a
//! failure but an [`Interruption`](super::interrupt::Interruption).

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use anyhow::{Result, anyhow};
use indicatif::{ProgressBar, ProgressStyle};

use super::files::OutputFile;
use relu_lab::nn::NeuronState;
use relu_lab::train::export;
use relu_lab::train::{Evaluation, HistoryPoint, Session};

/// Steps between two updates of the progress bar.
const PROGRESS_EVERY_STEPS: u64 = 1024;

/// How rows are printed on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RowFormat {
    /// Aligned columns under a header.
    Table,
    /// One JSON object per line.
    Json,
}

/// Prints rows as a table or JSON lines, and streams them to a CSV file.
pub(super) struct Reporter<'a> {
    out: &'a mut dyn Write,
    csv: Option<OutputFile>,
    format: RowFormat,
    every: u64,
    header_printed: bool,
    divergence_reported: bool,
    last_row_step: Option<u64>,
    /// The step of the last row the CSV file holds.
    last_csv_step: Option<u64>,
    is_stdout_closed: bool,
    /// The first write that failed (other than a closed pipe).
    failure: Option<anyhow::Error>,
    progress: ProgressBar,
}

impl<'a> Reporter<'a> {
    /// A reporter printing to `out` every `every` steps of a run of `steps`.
    pub(super) fn new(out: &'a mut dyn Write, csv: Option<OutputFile>, json: bool, every: u64, steps: u64) -> Self {
        let progress = if std::io::stderr().is_terminal() && steps >= 100_000 {
            let bar = ProgressBar::new(steps);
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} steps, {per_sec}, about {eta} left") {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Self {
            out,
            csv,
            format: if json { RowFormat::Json } else { RowFormat::Table },
            every: every.max(1),
            header_printed: false,
            divergence_reported: false,
            last_row_step: None,
            last_csv_step: None,
            is_stdout_closed: false,
            failure: None,
            progress,
        }
    }

    /// Whether the reader of standard output went away.
    pub(super) fn is_stdout_closed(&self) -> bool {
        self.is_stdout_closed && self.failure.is_none()
    }

    /// Whether a write failed: the run should stop and report [`Reporter::finish`]'s error.
    pub(super) fn has_failed(&self) -> bool {
        self.failure.is_some()
    }

    /// After each step: a row every `every` steps, and once the row and the reason when the
    /// run diverges.
    pub(super) fn after_step(&mut self, session: &mut Session) {
        let step = session.step_count();
        if step.is_multiple_of(PROGRESS_EVERY_STEPS) {
            self.progress.set_position(step);
        }
        if let Some(divergence) = session.divergence() {
            if !self.divergence_reported {
                self.divergence_reported = true;
                if self.last_row_step != Some(step) {
                    self.row(&session.evaluate());
                }
                let (at, cause) = (divergence.step, divergence.cause.describe());
                let message = format!("diverged at step {at}: {cause}; the run stopped there");
                let line = match self.format {
                    RowFormat::Json => serde_json::json!({
                        "divergence": { "step": at, "cause": divergence.cause, "message": message }
                    })
                    .to_string(),
                    RowFormat::Table => message,
                };
                self.print(&line);
            }
        } else if step.is_multiple_of(self.every) {
            self.row(&session.evaluate());
        }
    }

    /// One row now.
    pub(super) fn row(&mut self, evaluation: &Evaluation) {
        self.last_row_step = Some(evaluation.step);
        let layers = evaluation.diagnostics.layers.len();
        let point = HistoryPoint::from_evaluation(evaluation);
        if !self.header_printed {
            self.header_printed = true;
            if self.format == RowFormat::Table {
                self.print(&table_header(layers));
            }
            self.csv_line(&format!("{}\n", export::csv_header(layers)), None);
        }
        let line = match self.format {
            RowFormat::Json => export::json_row(&point).to_string(),
            RowFormat::Table => table_row(evaluation),
        };
        self.print(&line);
        self.csv_line(&format!("{}\n", export::csv_row(&point)), Some(evaluation.step));
    }

    /// Appends a line to the CSV file; a failure closes it (keeping its whole lines) and is
    /// kept as the reporter's failure.
    fn csv_line(&mut self, line: &str, step: Option<u64>) {
        let Some(csv) = &mut self.csv else { return };
        match csv.append(line) {
            Ok(()) => self.last_csv_step = step.or(self.last_csv_step),
            Err(error) => {
                let kept = match self.last_csv_step {
                    Some(step) => format!("keeps its rows up to step {step}"),
                    None => "holds no row".to_owned(),
                };
                let shown = csv.shown().display().to_string();
                self.csv = None;
                self.fail(anyhow!("{error:#}; {shown} {kept}"));
            }
        }
    }

    fn fail(&mut self, error: anyhow::Error) {
        if self.failure.is_none() {
            self.failure = Some(error);
        }
    }

    /// Prints a line on standard output. A closed pipe is remembered as the end of the output;
    /// any other error (a full device) also as the reporter's failure.
    fn print(&mut self, line: &str) {
        if self.is_stdout_closed {
            return;
        }
        let out = &mut self.out;
        let result = self.progress.suspend(|| writeln!(out, "{line}").and_then(|()| out.flush()));
        if let Err(error) = result {
            self.is_stdout_closed = true;
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                self.fail(anyhow!(error).context("cannot write to standard output"));
            }
        }
    }

    /// The last row (unless it was just printed), the summary, and the CSV file closed. `Err`
    /// is the first write that failed, during the run or now.
    pub(super) fn finish(mut self, session: &mut Session, interruption: Option<&str>) -> Result<()> {
        self.progress.finish_and_clear();
        if self.last_row_step != Some(session.step_count()) && !self.divergence_reported {
            self.row(&session.evaluate());
        }
        if let Some(csv) = self.csv.take()
            && let Err(error) = csv.finish()
        {
            self.fail(error);
        }
        let evaluation = session.evaluate();
        let mut summary = summary(session, &evaluation);
        if let Some(reason) = interruption {
            let _ = write!(summary, "; STOPPED EARLY: {reason}");
        }
        let line = match self.format {
            RowFormat::Json => serde_json::to_string(&serde_json::json!({ "summary": summary }))?,
            RowFormat::Table => summary,
        };
        self.print(&line);
        self.failure.map_or(Ok(()), Err)
    }
}

fn table_header(layers: usize) -> String {
    let mut text =
        format!("{:>7} {:>7} {:>9} {:>10} {:>10} {:>8}", "step", "epoch", "lr", "train loss", "test loss", "test acc");
    for layer in 1..=layers {
        let _ = write!(text, " {:>20}", format!("L{layer} ok/sat/dy/neg/dead"));
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
        let cell = format!(
            "{}/{}/{}/{}/{}",
            layer.count(NeuronState::Alive),
            layer.count(NeuronState::Saturated),
            layer.count(NeuronState::Dying),
            layer.count(NeuronState::BelowZero),
            layer.count(NeuronState::Dead)
        );
        let _ = write!(text, " {cell:>20}");
    }
    for layer in &e.diagnostics.layers {
        let _ = write!(text, " {:>9.2e}", layer.gradient_norm);
    }
    text
}

fn summary(session: &Session, e: &Evaluation) -> String {
    format!("summary: {}", run_summary(session, e))
}

/// A run in a sentence: steps, activation, losses, accuracy, its neurons' states, and whether
/// it collapsed or diverged.
pub(super) fn run_summary(session: &Session, e: &Evaluation) -> String {
    let diagnostics = &e.diagnostics;
    let total = diagnostics.neuron_count();
    let dead = diagnostics.count(NeuronState::Dead);
    let mut text = format!(
        "{} steps ({:.1} epochs), {}: train loss {:.4}, test loss {:.4}",
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
        "; {dead} of {total} hidden neurons dead ({:.0}%), {} negative on every training input, {} dying, {} revivals",
        100.0 * dead as f64 / total.max(1) as f64,
        diagnostics.all_negative(),
        diagnostics.count(NeuronState::Dying),
        e.revived.iter().sum::<u64>()
    );
    if diagnostics.is_collapsed {
        text.push_str("; COLLAPSED: a whole hidden layer is dead, the output is constant");
    }
    if let Some(divergence) = session.divergence() {
        let _ = write!(text, "; DIVERGED at step {}: {}", divergence.step, divergence.cause.describe());
    }
    text
}

//! Sweeps: the map of where networks die. A grid of runs over two settings (the x and y axes)
//! and several seeds; per cell, the median share of dead neurons, how many seeds collapsed (a
//! whole hidden layer dead, so the output is constant), how many diverged, and the median test
//! accuracy.
//!
//! Every run is a pure function of its config, seed and step count, so a cell's figures do
//! not depend on which thread, process or machine computed it, nor on the others. That is what
//! lets a sweep use every core with the same numbers for any thread count, and split into
//! shards (`K/N`: the cells whose index is `K-1` modulo `N`) that merge into the same CSV,
//! byte for byte: the CSV holds each figure rounded to six decimals, and the picture is drawn
//! from those rounded figures, whether they were just computed or read back from parts.

use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;

use serde::{Deserialize, Serialize};

use super::config::{ConfigError, MAX_HIDDEN_LAYERS, MAX_WIDTH, RunConfig};
use super::session::{Session, StepOutcome};
use super::settings::{AssignmentError, with_assignments};
use crate::media::heatmap::{HeatCell, Heatmap};
use crate::nn::NeuronState;

/// The most values one axis may take.
pub const MAX_AXIS_VALUES: usize = 64;
/// The most runs (cells times seeds) one sweep may make.
pub const MAX_SWEEP_RUNS: usize = 1_000_000;
/// The CSV's header line.
pub const CSV_HEADER: &str = "x_setting,x_value,x_index,y_setting,y_value,y_index,cells,base,steps,seeds,\
                              median_dead_fraction,collapsed_seeds,diverged_seeds,median_test_accuracy,median_test_loss";

/// Why a sweep cannot be made, or its parts not merged.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SweepError {
    /// An axis is malformed.
    #[error("the {key} axis: {reason}")]
    Axis {
        /// The setting.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A value does not make a valid config.
    #[error("{key} = {value}: {reason}")]
    Setting {
        /// The setting.
        key: String,
        /// The value as given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The sweep would make too many runs.
    #[error("{runs} runs (cells × seeds) is more than the {MAX_SWEEP_RUNS} a sweep may make")]
    TooLarge {
        /// Cells times seeds.
        runs: usize,
    },
    /// A shard is not `K/N` with `1 <= K <= N`.
    #[error("'{0}' is not a shard such as 3/16 (K/N with 1 <= K <= N)")]
    Shard(String),
    /// A run could not start.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A part's CSV is malformed.
    #[error("{file}, line {line}: {reason}")]
    Csv {
        /// The part's name.
        file: String,
        /// From 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The parts do not make one sweep.
    #[error("{0}")]
    Merge(String),
}

/// One axis: a setting and the values it takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Axis {
    /// A config key as `compare --b` takes it (`learning_rate`, `network.init`, `activation`),
    /// or `width` (every hidden layer) or `depth` (hidden layers of the first one's width).
    pub key: String,
    /// Its values as written (`0.01`, `he-normal`, `-5`).
    pub values: Vec<String>,
}

impl Axis {
    /// An axis from `key` and values separated by commas (`0.01,0.1,1,3`).
    pub fn parse(key: &str, values: &str) -> Result<Self, SweepError> {
        let values: Vec<String> = values.split(',').map(|value| value.trim().to_owned()).collect();
        let axis = Self { key: key.trim().to_owned(), values };
        axis.check()?;
        Ok(axis)
    }

    fn check(&self) -> Result<(), SweepError> {
        let fail = |reason: String| Err(SweepError::Axis { key: self.key.clone(), reason });
        if self.key == "seed" {
            return fail("the seeds are the sweep's own: use --seeds".to_owned());
        }
        if self.values.is_empty() || self.values.iter().any(String::is_empty) {
            return fail("give its values separated by commas, such as 0.01,0.1,1".to_owned());
        }
        if self.values.len() > MAX_AXIS_VALUES {
            return fail(format!("{} values; at most {MAX_AXIS_VALUES}", self.values.len()));
        }
        let mut sorted = self.values.clone();
        sorted.sort();
        if let Some([twice, _]) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return fail(format!("{twice} is listed twice"));
        }
        Ok(())
    }

    /// The setting as a reader says it: `network.initial_bias` → "initial bias".
    pub fn label(&self) -> String {
        self.key.rsplit('.').next().unwrap_or(&self.key).replace('_', " ")
    }
}

/// `config` with `key` set to `value` (see [`Axis::key`]).
pub fn with_setting(config: &RunConfig, key: &str, value: &str) -> Result<RunConfig, SweepError> {
    let refuse = |reason: String| SweepError::Setting { key: key.to_owned(), value: value.to_owned(), reason };
    let mut next = config.clone();
    match key {
        "width" | "depth" => {
            let number: usize = value.parse().map_err(|_| refuse("must be a whole number".to_owned()))?;
            let layers = &mut next.network.hidden_layers;
            let (depth, width) = (layers.len(), layers.first().copied().unwrap_or(1));
            *layers = if key == "width" { vec![number; depth] } else { vec![width; number] };
            next.validate().map_err(|error| refuse(error.to_string()))?;
            let limit = if key == "width" { MAX_WIDTH } else { MAX_HIDDEN_LAYERS };
            if number == 0 || number > limit {
                return Err(refuse(format!("must be from 1 to {limit}")));
            }
            Ok(next)
        }
        _ => with_assignments(config, &[format!("{key} = {}", toml_value(value))]).map_err(|error| match error {
            AssignmentError::Invalid { error, .. } => refuse(error.to_string()),
            other => refuse(other.to_string()),
        }),
    }
}

/// `text` as a TOML value: as it is if it is one (`0.1`, `true`, `[8, 8]`), else quoted
/// (`he-normal` → `"he-normal"`).
fn toml_value(text: &str) -> String {
    if toml::from_str::<toml::Table>(&format!("value = {text}")).is_ok() {
        text.to_owned()
    } else {
        toml::Value::String(text.to_owned()).to_string()
    }
}

/// A sweep: a base config, two axes, seeds and a step count.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// Every cell starts from this config.
    pub base: RunConfig,
    /// Its name in the CSV and the picture (a preset's name or a file's).
    pub base_name: String,
    /// The columns.
    pub x: Axis,
    /// The rows.
    pub y: Axis,
    /// Each cell runs every seed.
    pub seeds: RangeInclusive<u64>,
    /// Steps per run.
    pub steps: u64,
}

impl SweepSpec {
    /// A sweep whose every cell is checked to make a valid config.
    pub fn new(
        base: RunConfig,
        base_name: &str,
        x: Axis,
        y: Axis,
        seeds: RangeInclusive<u64>,
        steps: u64,
    ) -> Result<Self, SweepError> {
        x.check()?;
        y.check()?;
        if x.key == y.key {
            return Err(SweepError::Axis { key: x.key, reason: "both axes vary it: choose two settings".to_owned() });
        }
        let spec = Self { base, base_name: base_name.to_owned(), x, y, seeds, steps };
        let runs = spec.cell_count().saturating_mul(spec.seed_count());
        if runs > MAX_SWEEP_RUNS {
            return Err(SweepError::TooLarge { runs });
        }
        for cell in 0..spec.cell_count() {
            spec.cell_config(cell, *spec.seeds.start())?;
        }
        Ok(spec)
    }

    /// Cells: columns times rows.
    pub fn cell_count(&self) -> usize {
        self.x.values.len() * self.y.values.len()
    }

    /// Seeds per cell.
    pub fn seed_count(&self) -> usize {
        self.seeds.end().saturating_sub(*self.seeds.start()) as usize + 1
    }

    /// The seeds as written: `1-3`, or `4`.
    pub fn seeds_text(&self) -> String {
        if self.seeds.start() == self.seeds.end() {
            self.seeds.start().to_string()
        } else {
            format!("{}-{}", self.seeds.start(), self.seeds.end())
        }
    }

    /// The config of `cell` (row-major: `y_index * columns + x_index`) at `seed`.
    pub fn cell_config(&self, cell: usize, seed: u64) -> Result<RunConfig, SweepError> {
        let columns = self.x.values.len();
        let (x, y) = (cell % columns, cell / columns);
        let config = with_setting(&self.base, &self.x.key, &self.x.values[x])?;
        let mut config = with_setting(&config, &self.y.key, &self.y.values[y])?;
        config.seed = seed;
        Ok(config)
    }

    /// An empty table for this sweep.
    pub fn table(&self) -> SweepTable {
        SweepTable {
            x_setting: self.x.key.clone(),
            y_setting: self.y.key.clone(),
            x_values: self.x.values.clone(),
            y_values: self.y.values.clone(),
            base: self.base_name.clone(),
            steps: self.steps,
            seeds: self.seeds_text(),
            cells: vec![None; self.cell_count()],
        }
    }
}

/// How one run ended.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// Hidden neurons dead (zero gradient on every training input) at the end.
    pub dead: usize,
    /// Hidden neurons in all.
    pub neurons: usize,
    /// A whole hidden layer outputs zero: the network is a constant function.
    pub is_collapsed: bool,
    /// The run diverged (and stopped there).
    pub has_diverged: bool,
    /// Share of test points classified right (classification only).
    pub test_accuracy: Option<f64>,
    /// Mean test loss.
    pub test_loss: f64,
}

/// Trains `config` for `steps` (or until it diverges) and says how it ended.
pub fn run_one(config: RunConfig, steps: u64) -> Result<RunOutcome, SweepError> {
    let mut session = Session::new(config)?;
    let mut has_diverged = false;
    while session.step_count() < steps {
        if let StepOutcome::Diverged(_) = session.step() {
            has_diverged = true;
            break;
        }
    }
    let evaluation = session.evaluate();
    let diagnostics = &evaluation.diagnostics;
    Ok(RunOutcome {
        dead: diagnostics.count(NeuronState::Dead),
        neurons: diagnostics.neuron_count(),
        is_collapsed: diagnostics.is_collapsed,
        has_diverged,
        test_accuracy: evaluation.test_accuracy,
        test_loss: evaluation.test_loss,
    })
}

/// One cell's figures over its seeds, each rounded as the CSV holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    /// The median over seeds of the share of hidden neurons dead.
    pub median_dead_fraction: f64,
    /// Seeds whose network collapsed (a whole hidden layer dead).
    pub collapsed_seeds: usize,
    /// Seeds that diverged.
    pub diverged_seeds: usize,
    /// The median test accuracy (classification only).
    pub median_test_accuracy: Option<f64>,
    /// The median test loss.
    pub median_test_loss: f64,
}

impl CellSummary {
    /// The figures of `runs`, one per seed.
    pub fn of(runs: &[RunOutcome]) -> Self {
        let dead = runs.iter().map(|run| run.dead as f64 / run.neurons.max(1) as f64).collect();
        let accuracies: Option<Vec<f64>> = runs.iter().map(|run| run.test_accuracy).collect();
        Self {
            median_dead_fraction: rounded(median(dead)),
            collapsed_seeds: runs.iter().filter(|run| run.is_collapsed).count(),
            diverged_seeds: runs.iter().filter(|run| run.has_diverged).count(),
            median_test_accuracy: accuracies.map(|values| rounded(median(values))),
            median_test_loss: rounded(median(runs.iter().map(|run| run.test_loss).collect())),
        }
    }
}

/// The middle value (the mean of the two middle ones for an even count); NaN sorts last.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

/// `value` as six decimals give it (what the CSV holds).
fn rounded(value: f64) -> f64 {
    format!("{value:.6}").parse().unwrap_or(value)
}

/// A finished cell.
#[derive(Clone, Debug, PartialEq)]
pub struct CellResult {
    /// Its index (row-major).
    pub cell: usize,
    /// Its figures.
    pub summary: CellSummary,
}

/// Runs every seed of `cells` on `threads` named threads, calling `on_cell` (on the calling
/// thread) as each cell finishes, in whatever order they finish. Workers stop taking runs once
/// `should_stop` says so; the cells finished by then are returned, by index. Any thread count
/// gives the same figures.
pub fn run_cells(
    spec: &SweepSpec,
    cells: &[usize],
    threads: usize,
    should_stop: &(dyn Fn() -> bool + Sync),
    on_cell: &mut dyn FnMut(&CellResult),
) -> Result<Vec<CellResult>, SweepError> {
    let seeds = spec.seed_count();
    let total = cells.len() * seeds;
    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<Vec<Option<RunOutcome>>> = vec![vec![None; seeds]; cells.len()];
    let mut results = Vec::new();
    let threads = threads.clamp(1, total.max(1));
    std::thread::scope(|scope| -> Result<(), SweepError> {
        let (sender, receiver) = sync_channel::<(usize, Result<RunOutcome, SweepError>)>(threads * 4);
        for index in 0..threads {
            let (sender, next) = (sender.clone(), &next);
            let worker = move || {
                while !should_stop() {
                    let run = next.fetch_add(1, Ordering::Relaxed);
                    if run >= total {
                        return;
                    }
                    let (position, seed_index) = (run / seeds, run % seeds);
                    let seed = spec.seeds.start() + seed_index as u64;
                    let outcome =
                        spec.cell_config(cells[position], seed).and_then(|config| run_one(config, spec.steps));
                    if sender.send((run, outcome)).is_err() {
                        return;
                    }
                }
            };
            if let Err(error) = super::threads::spawn_scoped(scope, format!("sweep-{index}"), worker) {
                // Fewer threads do the same work; with none, say so.
                if index == 0 {
                    return Err(SweepError::Merge(format!("cannot start a sweep thread: {error}")));
                }
            }
        }
        drop(sender);
        for (run, outcome) in receiver {
            let (position, seed_index) = (run / seeds, run % seeds);
            outcomes[position][seed_index] = Some(outcome?);
            if outcomes[position].iter().all(Option::is_some) {
                let runs: Vec<RunOutcome> = outcomes[position].iter().flatten().copied().collect();
                let result = CellResult { cell: cells[position], summary: CellSummary::of(&runs) };
                on_cell(&result);
                results.push(result);
            }
        }
        Ok(())
    })?;
    results.sort_by_key(|result| result.cell);
    Ok(results)
}

/// One of `count` equal parts of a sweep: the cells whose index is `index - 1` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// From 1.
    pub index: usize,
    /// How many shards in all.
    pub count: usize,
}

impl Shard {
    /// The whole sweep.
    pub const WHOLE: Self = Self { index: 1, count: 1 };

    /// This shard's cells of `total`.
    pub fn cells(self, total: usize) -> Vec<usize> {
        (0..total).filter(|cell| cell % self.count == self.index - 1).collect()
    }
}

impl FromStr for Shard {
    type Err = SweepError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || SweepError::Shard(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (index.trim().parse().map_err(|_| bad())?, count.trim().parse().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// A sweep's figures, whole or in part: what the CSV holds and the picture shows.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepTable {
    /// The columns' setting.
    pub x_setting: String,
    /// The rows' setting.
    pub y_setting: String,
    /// The columns' values.
    pub x_values: Vec<String>,
    /// The rows' values.
    pub y_values: Vec<String>,
    /// The base config's name.
    pub base: String,
    /// Steps per run.
    pub steps: u64,
    /// The seeds, as written (`1-3`).
    pub seeds: String,
    /// Row-major; `None` for a cell not computed (here).
    pub cells: Vec<Option<CellSummary>>,
}

impl SweepTable {
    /// Puts a finished cell in.
    pub fn set(&mut self, result: &CellResult) {
        if let Some(cell) = self.cells.get_mut(result.cell) {
            *cell = Some(result.summary.clone());
        }
    }

    /// Whether every cell is in.
    pub fn is_complete(&self) -> bool {
        self.cells.iter().all(Option::is_some)
    }

    /// The CSV: the header, then a row per cell that is in, row-major. A stable format: fixed
    /// columns, figures with six decimals.
    pub fn to_csv(&self) -> String {
        let mut text = format!("{CSV_HEADER}\n");
        let columns = self.x_values.len();
        for (cell, summary) in self.cells.iter().enumerate() {
            let Some(summary) = summary else { continue };
            let (x, y) = (cell % columns, cell / columns);
            let fields = [
                csv_field(&self.x_setting),
                csv_field(&self.x_values[x]),
                x.to_string(),
                csv_field(&self.y_setting),
                csv_field(&self.y_values[y]),
                y.to_string(),
                self.cells.len().to_string(),
                csv_field(&self.base),
                self.steps.to_string(),
                csv_field(&self.seeds),
                format!("{:.6}", summary.median_dead_fraction),
                summary.collapsed_seeds.to_string(),
                summary.diverged_seeds.to_string(),
                summary.median_test_accuracy.map(|accuracy| format!("{accuracy:.6}")).unwrap_or_default(),
                format!("{:.6}", summary.median_test_loss),
            ];
            let _ = writeln!(text, "{}", fields.join(","));
        }
        text
    }

    /// Reads the parts of one sweep (each a CSV that [`SweepTable::to_csv`] wrote, with its name
    /// for messages) and joins them. Every cell must be in exactly one part.
    pub fn merge(parts: &[(String, String)]) -> Result<Self, SweepError> {
        let mut rows = Vec::new();
        for (name, text) in parts {
            if text.lines().next() != Some(CSV_HEADER) {
                let reason = "not a sweep CSV (its header differs)".to_owned();
                return Err(SweepError::Csv { file: name.clone(), line: 1, reason });
            }
            for (line_index, line) in text.lines().enumerate().skip(1).filter(|(_, line)| !line.is_empty()) {
                let row = Row::parse(line).map_err(|reason| SweepError::Csv {
                    file: name.clone(),
                    line: line_index + 1,
                    reason,
                })?;
                if let Some(first) = rows.first()
                    && !row.is_of_the_sweep_of(first)
                {
                    let reason = format!("this row is of another sweep than the first row read ({})", first.describe());
                    return Err(SweepError::Csv { file: name.clone(), line: line_index + 1, reason });
                }
                rows.push(row);
            }
        }
        let first = rows.first().ok_or_else(|| SweepError::Merge("the parts hold no cells".to_owned()))?;
        let columns = rows.iter().map(|row| row.x + 1).max().unwrap_or(1);
        let row_count = rows.iter().map(|row| row.y + 1).max().unwrap_or(1);
        let mut table = first.empty_table();
        table.x_values = vec![String::new(); columns];
        table.y_values = vec![String::new(); row_count];
        if columns * row_count > table.cells.len() {
            return Err(SweepError::Merge(format!(
                "the rows name more than the {} cells they say the sweep has",
                table.cells.len()
            )));
        }
        for row in &rows {
            set_value(&mut table.x_values, row.x, &row.x_value).map_err(SweepError::Merge)?;
            set_value(&mut table.y_values, row.y, &row.y_value).map_err(SweepError::Merge)?;
            let cell = &mut table.cells[row.y * columns + row.x];
            if cell.is_some() {
                return Err(SweepError::Merge(format!(
                    "the cell {} = {}, {} = {} is in two parts",
                    row.x_setting, row.x_value, row.y_setting, row.y_value
                )));
            }
            *cell = Some(row.summary.clone());
        }
        let missing = table.cells.iter().filter(|cell| cell.is_none()).count();
        if missing > 0 || columns * row_count != table.cells.len() {
            return Err(SweepError::Merge(format!(
                "{} of the {} cells are in the parts given: merge every shard's part",
                rows.len(),
                table.cells.len()
            )));
        }
        Ok(table)
    }

    /// The picture: a cell per grid point, coloured by its median dead share.
    pub fn heatmap(&self) -> Heatmap {
        let label = |key: &str| Axis { key: key.to_owned(), values: Vec::new() }.label();
        let seed_count = seed_count(&self.seeds);
        let cells = self
            .cells
            .iter()
            .map(|cell| {
                cell.as_ref().map(|summary| {
                    let mut lines = vec![
                        format!("dead {:.0}%", summary.median_dead_fraction * 100.0),
                        format!("collapsed {}/{seed_count}", summary.collapsed_seeds),
                    ];
                    lines.push(match summary.median_test_accuracy {
                        Some(accuracy) => format!("accuracy {:.1}%", accuracy * 100.0),
                        None => format!("test loss {:.3}", summary.median_test_loss),
                    });
                    if summary.diverged_seeds > 0 {
                        lines.push(format!("diverged {}/{seed_count}", summary.diverged_seeds));
                    }
                    HeatCell { value: summary.median_dead_fraction, lines }
                })
            })
            .collect();
        Heatmap {
            title: format!("Where networks die: {} × {}", label(&self.x_setting), label(&self.y_setting)),
            subtitle: format!(
                "{}, {} steps, seeds {}. Per cell: median share of hidden neurons dead; seeds with a whole layer \
                 dead (constant output); median test accuracy.",
                self.base, self.steps, self.seeds
            ),
            x_label: label(&self.x_setting),
            y_label: label(&self.y_setting),
            x_ticks: self.x_values.clone(),
            y_ticks: self.y_values.clone(),
            cells,
            color_label: "median dead share".to_owned(),
        }
    }

    /// The picture as PNG bytes.
    pub fn png(&self) -> Result<Vec<u8>, SweepError> {
        let caption = format!(
            "relu-lab sweep: {} × {}, {}, {} steps, seeds {}",
            self.x_setting, self.y_setting, self.base, self.steps, self.seeds
        );
        crate::media::encode_png(&self.heatmap().draw(), &caption).map_err(|error| SweepError::Merge(error.to_string()))
    }
}

impl SweepTable {
    /// How many seeds each cell ran.
    pub fn seed_count(&self) -> u64 {
        seed_count(&self.seeds)
    }
}

/// How many seeds `1-3` (or `4`) names.
fn seed_count(text: &str) -> u64 {
    let parse = |part: &str| part.trim().parse::<u64>().ok();
    match text.split_once('-').map(|(first, last)| (parse(first), parse(last))) {
        Some((Some(first), Some(last))) if last >= first => last - first + 1,
        _ => 1,
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// Splits a CSV line into fields (quotes as [`csv_field`] writes them).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut is_quoted = false;
    while let Some(c) = chars.next() {
        match (c, is_quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => is_quoted = false,
            ('"', false) if field.is_empty() => is_quoted = true,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    if is_quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    fields.push(field);
    Ok(fields)
}

/// One row of a sweep CSV, parsed.
struct Row {
    x_setting: String,
    x_value: String,
    x: usize,
    y_setting: String,
    y_value: String,
    y: usize,
    cells: usize,
    base: String,
    steps: u64,
    seeds: String,
    summary: CellSummary,
}

impl Row {
    fn parse(line: &str) -> Result<Self, String> {
        let fields = csv_fields(line)?;
        let columns = CSV_HEADER.split(',').count();
        if fields.len() != columns {
            return Err(format!("{} fields; a sweep row has {columns}", fields.len()));
        }
        let number = |index: usize| -> Result<f64, String> {
            fields[index].parse::<f64>().map_err(|_| format!("'{}' is not a number", fields[index]))
        };
        let whole = |index: usize| -> Result<usize, String> {
            fields[index].parse::<usize>().map_err(|_| format!("'{}' is not a whole number", fields[index]))
        };
        let row = Self {
            x_setting: fields[0].clone(),
            x_value: fields[1].clone(),
            x: whole(2)?,
            y_setting: fields[3].clone(),
            y_value: fields[4].clone(),
            y: whole(5)?,
            cells: whole(6)?,
            base: fields[7].clone(),
            steps: whole(8)? as u64,
            seeds: fields[9].clone(),
            summary: CellSummary {
                median_dead_fraction: number(10)?,
                collapsed_seeds: whole(11)?,
                diverged_seeds: whole(12)?,
                median_test_accuracy: if fields[13].is_empty() { None } else { Some(number(13)?) },
                median_test_loss: number(14)?,
            },
        };
        if row.cells == 0 || row.cells > MAX_AXIS_VALUES * MAX_AXIS_VALUES || row.x >= row.cells || row.y >= row.cells {
            return Err(format!("cell ({}, {}) of {} cells is out of range", row.x, row.y, row.cells));
        }
        Ok(row)
    }

    fn is_of_the_sweep_of(&self, other: &Self) -> bool {
        self.x_setting == other.x_setting
            && self.y_setting == other.y_setting
            && self.base == other.base
            && self.steps == other.steps
            && self.seeds == other.seeds
            && self.cells == other.cells
    }

    fn describe(&self) -> String {
        format!(
            "{} × {}, {}, {} steps, seeds {}, {} cells",
            self.x_setting, self.y_setting, self.base, self.steps, self.seeds, self.cells
        )
    }

    /// A table of `cells` cells with nothing in yet.
    fn empty_table(&self) -> SweepTable {
        SweepTable {
            x_setting: self.x_setting.clone(),
            y_setting: self.y_setting.clone(),
            x_values: Vec::new(),
            y_values: Vec::new(),
            base: self.base.clone(),
            steps: self.steps,
            seeds: self.seeds.clone(),
            cells: vec![None; self.cells],
        }
    }
}

/// Puts `value` at `index` of `values`; a different value already there is an error.
fn set_value(values: &mut [String], index: usize, value: &str) -> Result<(), String> {
    if values[index].is_empty() {
        value.clone_into(&mut values[index]);
        Ok(())
    } else if values[index] == value {
        Ok(())
    } else {
        Err(format!("value number {} of an axis is {value} in one row and {} in another", index + 1, values[index]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{ActivationKind, Init};

    fn small_spec(steps: u64) -> SweepSpec {
        SweepSpec::new(
            RunConfig::default(),
            "healthy-relu",
            Axis::parse("learning_rate", "0.03,3").unwrap(),
            Axis::parse("initial_bias", "0,-5").unwrap(),
            1..=2,
            steps,
        )
        .unwrap()
    }

    #[test]
    fn settings_take_numbers_words_and_shapes() {
        let base = RunConfig::default();
        assert_eq!(with_setting(&base, "learning_rate", "1").unwrap().training.learning_rate, 1.0);
        assert_eq!(with_setting(&base, "init", "rai").unwrap().network.init, Init::Rai);
        assert_eq!(
            with_setting(&base, "activation", "leaky-relu").unwrap().network.activation,
            ActivationKind::LeakyRelu
        );
        assert_eq!(with_setting(&base, "width", "3").unwrap().network.hidden_layers, [3, 3]);
        assert_eq!(with_setting(&base, "depth", "4").unwrap().network.hidden_layers, [8, 8, 8, 8]);
        let error = with_setting(&base, "learning_rate", "-1").unwrap_err();
        assert!(error.to_string().starts_with("learning_rate = -1: training.learning_rate"), "{error}");
        assert!(with_setting(&base, "width", "0").is_err());
        assert!(with_setting(&base, "colour", "3").unwrap_err().to_string().contains("is not a setting"));
        assert!(Axis::parse("seed", "1,2").is_err());
        assert!(Axis::parse("learning_rate", "0.1,0.1").unwrap_err().to_string().contains("listed twice"));
    }

    #[test]
    fn shards_split_the_cells_once_each() {
        let shards: Vec<Shard> = ["1/3", "2/3", "3/3"].iter().map(|text| text.parse().unwrap()).collect();
        let mut all: Vec<usize> = shards.iter().flat_map(|shard| shard.cells(8)).collect();
        all.sort_unstable();
        assert_eq!(all, (0..8).collect::<Vec<_>>());
        assert_eq!(shards[1].cells(8), [1, 4, 7]);
        for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn medians_and_the_csv_s_rounding() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(rounded(1.0 / 3.0), 0.333_333);
        assert_eq!(csv_fields(&csv_field("a, \"b\"")).unwrap(), ["a, \"b\""]);
        assert_eq!(csv_fields("1,,\"x,y\"").unwrap(), ["1", "", "x,y"]);
    }

    #[test]
    fn any_thread_count_gives_the_same_cells_and_shards_merge_into_the_whole() {
        let spec = small_spec(60);
        let whole_cells: Vec<usize> = (0..spec.cell_count()).collect();
        let one = run_cells(&spec, &whole_cells, 1, &|| false, &mut |_| {}).unwrap();
        let mut seen = 0;
        let three = run_cells(&spec, &whole_cells, 3, &|| false, &mut |_| seen += 1).unwrap();
        assert_eq!(one, three);
        assert_eq!(seen, 4);
        let mut whole = spec.table();
        for result in &one {
            whole.set(result);
        }
        let mut parts = Vec::new();
        for index in [2, 1] {
            let shard = Shard { index, count: 2 };
            let mut part = spec.table();
            for result in run_cells(&spec, &shard.cells(spec.cell_count()), 2, &|| false, &mut |_| {}).unwrap() {
                part.set(&result);
            }
            parts.push((format!("part {index}"), part.to_csv()));
        }
        let merged = SweepTable::merge(&parts).unwrap();
        assert_eq!(merged.to_csv(), whole.to_csv());
        assert_eq!(merged.png().unwrap(), whole.png().unwrap());
        assert_eq!(merged, whole);
        let error = SweepTable::merge(&parts[..1]).unwrap_err();
        assert!(error.to_string().contains("merge every shard's part"), "{error}");
        let twice = [parts[0].clone(), parts[1].clone(), parts[0].clone()];
        assert!(SweepTable::merge(&twice).unwrap_err().to_string().contains("in two parts"));
    }

    #[test]
    fn a_part_of_another_sweep_or_a_broken_line_is_named() {
        let mut table = small_spec(10).table();
        table.cells[0] = Some(CellSummary {
            median_dead_fraction: 0.5,
            collapsed_seeds: 1,
            diverged_seeds: 0,
            median_test_accuracy: Some(0.75),
            median_test_loss: 0.25,
        });
        let mut other = table.clone();
        other.steps = 20;
        other.cells[0] = None;
        other.cells[1].clone_from(&table.cells[0]);
        let parts = [("a.csv".to_owned(), table.to_csv()), ("b.csv".to_owned(), other.to_csv())];
        let error = SweepTable::merge(&parts).unwrap_err().to_string();
        assert!(error.starts_with("b.csv, line 2: this row is of another sweep"), "{error}");
        let broken = [("c.csv".to_owned(), format!("{CSV_HEADER}\n1,2,3\n"))];
        assert!(SweepTable::merge(&broken).unwrap_err().to_string().starts_with("c.csv, line 2: 3 fields"));
        let not_csv = [("d.csv".to_owned(), "hello\n".to_owned())];
        assert!(SweepTable::merge(&not_csv).unwrap_err().to_string().contains("header differs"));
    }
}

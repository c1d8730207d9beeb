//! `relu-lab sweep`: a grid of runs over two settings and several seeds, on every core, with a
//! CSV and a PNG heatmap; `--shard K/N` computes one part, `relu-lab sweep merge` joins parts
//! into the same files, byte for byte.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use super::files::{MAX_DATA_BYTES, OutputFile, OutputPlan, read_capped};
use super::interrupt;
use super::run::load_config_from;
use super::{Completion, DEFAULT_PRESET, SweepArgs, SweepMergeArgs};
use relu_lab::train::sweep::{Axis, Shard, SweepSpec, SweepTable, run_cells};

/// `relu-lab sweep`.
pub(super) fn sweep(args: &SweepArgs, out: &mut dyn Write) -> Result<Completion> {
    let mut plan = OutputPlan::default();
    let preset = args.preset.as_deref().or(args.config.is_none().then_some(DEFAULT_PRESET));
    let base = load_config_from(preset, args.config.as_deref(), None, &mut plan)?;
    let base_name = match (preset, &args.config) {
        (Some(name), _) => name.to_owned(),
        (None, Some(path)) => {
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
        }
        (None, None) => DEFAULT_PRESET.to_owned(),
    };
    let (x, y) = axes(args)?;
    let spec = SweepSpec::new(base, &base_name, x, y, args.seeds.clone(), args.steps)?;
    let csv = plan.output("CSV", args.csv.as_deref(), args.force)?;
    let png = plan.output("PNG", args.png.as_deref(), args.force)?;
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    let cells = shard.cells(spec.cell_count());
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        |threads| threads as usize,
    );
    let started = Instant::now();
    let progress = progress_bar(cells.len() as u64);
    let mut table = spec.table();
    let results = run_cells(&spec, &cells, threads, &|| interrupt::received().is_some(), &mut |_| progress.inc(1))?;
    progress.finish_and_clear();
    for result in &results {
        table.set(result);
    }
    let seconds = started.elapsed().as_secs_f64();
    print_table(&table, out)?;
    let runs = results.len() * spec.seed_count();
    let part = if shard == Shard::WHOLE { String::new() } else { format!(" (shard {}/{})", shard.index, shard.count) };
    writeln!(
        out,
        "{} of {} cells{part}, {runs} runs of {} steps, in {seconds:.2} s on {threads} thread(s)",
        results.len(),
        spec.cell_count(),
        spec.steps
    )?;
    write_outputs(&table, csv, png)?;
    match interrupt::received() {
        Some(interruption) => Ok(Completion::Interrupted(interruption)),
        None => Ok(Completion::Done),
    }
}

/// `relu-lab sweep merge`.
pub(super) fn merge(args: &SweepMergeArgs, out: &mut dyn Write) -> Result<Completion> {
    let mut plan = OutputPlan::default();
    let mut parts = Vec::new();
    for path in &args.parts {
        plan.input(path);
        parts.push((path.display().to_string(), read_capped(path, MAX_DATA_BYTES, "sweep part")?));
    }
    let csv = plan.output("CSV", args.csv.as_deref(), args.force)?;
    let png = plan.output("PNG", args.png.as_deref(), args.force)?;
    let table = SweepTable::merge(&parts)?;
    print_table(&table, out)?;
    writeln!(out, "{} cells merged from {} part(s)", table.cells.len(), parts.len())?;
    write_outputs(&table, csv, png)?;
    Ok(Completion::Done)
}

/// The two settings swept: the named flags in a fixed order, then `--axis` in the order given.
/// The first is the x axis (columns), the second the y axis (rows).
fn axes(args: &SweepArgs) -> Result<(Axis, Axis)> {
    let named = [
        ("learning_rate", &args.learning_rate),
        ("activation", &args.activation),
        ("init", &args.init),
        ("optimizer", &args.optimizer),
        ("batch_size", &args.batch_size),
        ("width", &args.width),
        ("depth", &args.depth),
        ("initial_bias", &args.initial_bias),
        ("bias_offset", &args.bias_offset),
    ];
    let mut axes = Vec::new();
    for (key, values) in named {
        if let Some(values) = values {
            axes.push(Axis::parse(key, values)?);
        }
    }
    for given in &args.axis {
        let Some((key, values)) = given.split_once('=') else {
            bail!("--axis '{given}': write it as KEY=VALUES, such as --axis 'momentum=0,0.9'");
        };
        axes.push(Axis::parse(key, values)?);
    }
    if axes.len() != 2 {
        bail!(
            "a sweep varies two settings; {} given. For example: --learning-rate 0.01,0.1,1,3 --initial-bias 0,-5",
            axes.len()
        );
    }
    let y = axes.pop().context("two axes")?;
    let x = axes.pop().context("two axes")?;
    Ok((x, y))
}

fn progress_bar(cells: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(cells);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} cells, about {eta} left") {
        bar.set_style(style);
    }
    bar
}

fn write_outputs(table: &SweepTable, csv: Option<OutputFile>, png: Option<OutputFile>) -> Result<()> {
    if let Some(csv) = csv {
        csv.finish_with(&table.to_csv())?;
    }
    if let Some(png) = png {
        png.finish_with_bytes(&table.png()?)?;
    }
    Ok(())
}

/// The grid as text: a row per y value, a column per x value.
fn print_table(table: &SweepTable, out: &mut dyn Write) -> Result<()> {
    let label = |key: &str| Axis { key: key.to_owned(), values: Vec::new() }.label();
    writeln!(
        out,
        "{}, {} steps, seeds {}: {} (columns) × {} (rows)\nper cell: median dead share, collapsed seeds, median test accuracy",
        table.base,
        table.steps,
        table.seeds,
        label(&table.x_setting),
        label(&table.y_setting)
    )?;
    let corner = label(&table.y_setting);
    let width = 22;
    let mut line = format!("{corner:>14} ");
    for value in &table.x_values {
        let _ = write!(line, "{value:<width$}");
    }
    writeln!(out, "{}", line.trim_end())?;
    let columns = table.x_values.len();
    for (row, value) in table.y_values.iter().enumerate() {
        let mut line = format!("{value:>14} ");
        for cell in &table.cells[row * columns..(row + 1) * columns] {
            let text = cell.as_ref().map_or_else(
                || "·".to_owned(),
                |summary| {
                    let accuracy = summary.median_test_accuracy.map_or_else(
                        || format!("loss {:.3}", summary.median_test_loss),
                        |accuracy| format!("{:.1}%", accuracy * 100.0),
                    );
                    let dead = summary.median_dead_fraction * 100.0;
                    format!("{dead:.0}% {}/{} {accuracy}", summary.collapsed_seeds, table.seed_count())
                },
            );
            let _ = write!(line, "{text:<width$}");
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

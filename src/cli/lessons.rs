//! `relu-lab lessons`: every lesson's script played on a range of seeds (one ensemble per
//! lesson, as the app plays it for one seed). Prints, per lesson and measured phase, each
//! figure's min, median and max (yes/no figures: on how many seeds), then compares the
//! measurement of seeds 1-10 with the figures committed in `assets/lessons-measured.json`, from
//! which the lessons' texts are filled: a difference fails and names the figure. `--measure`
//! prints the measurement itself; `--markdown` the README's generated parts.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Result, bail};

use super::interrupt::{self, Interruption};
use super::{Completion, LessonsArgs};
use relu_lab::train::lessons::{
    Figure, Lesson, LessonsError, MEASURED_SEEDS, Phase, SeedRun, committed_measurement, load_lessons, measure_all,
    presets_table, summarize,
};

/// `relu-lab lessons`.
pub(super) fn lessons(args: &LessonsArgs, out: &mut dyn Write) -> Result<Completion> {
    if args.markdown {
        let lessons = load_lessons()?;
        writeln!(out, "{}", presets_table(&lessons).trim_end())?;
        return Ok(Completion::Done);
    }
    let count = relu_lab::train::lessons::lesson_sources()?.len();
    if let Some(number) = args.lesson
        && !(1..=count).contains(&number)
    {
        bail!("there is no lesson {number}; the lessons are 1 to {count}");
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut printed = Ok(());
    let mut broken_pipe = false;
    let measured = measure_all(args.seeds.clone(), threads, |index, lesson, unfilled, runs| {
        if args.measure || args.lesson.is_some_and(|number| number != index + 1) || broken_pipe {
            return;
        }
        let text = if args.json {
            lesson_json(index, lesson, runs)
        } else {
            lesson_table(index, lesson, runs) + &lesson_text(lesson, unfilled, &args.seeds)
        };
        if let Err(error) = writeln!(out, "{text}").and_then(|()| out.flush()) {
            broken_pipe = error.kind() == std::io::ErrorKind::BrokenPipe;
            printed = Err(error);
        }
    })?;
    if let Some(interruption) = interrupt::received() {
        return Ok(Completion::Interrupted(interruption));
    }
    if broken_pipe {
        return Ok(Completion::Interrupted(Interruption::BrokenPipe));
    }
    printed?;
    if args.measure {
        write!(out, "{}", measured.to_json())?;
        return Ok(Completion::Done);
    }
    if args.seeds != MEASURED_SEEDS || args.lesson.is_some() {
        return Ok(Completion::Done);
    }
    let differences = committed_measurement()?.differences(&measured);
    if !differences.is_empty() {
        bail!(
            "{} figure(s) differ from the committed ones (assets/lessons-measured.json), from which the lessons' \
             texts are filled:\n  {}\nIf the change is meant, run `relu-lab lessons --measure > \
             assets/lessons-measured.json` and read the lessons again",
            differences.len(),
            differences.join("\n  ")
        );
    }
    Ok(Completion::Done)
}

fn phase_heading(lesson: &Lesson, phase: Phase) -> String {
    let at = lesson.measured_at(phase).unwrap_or(0);
    match phase {
        Phase::Start => "at step 0".to_owned(),
        Phase::Preset => format!("at step {at}, after the preset's training"),
        Phase::TryIt => {
            let label = lesson.try_it.as_ref().map_or("", |try_it| try_it.label.as_str());
            let made = lesson.try_it_at().unwrap_or(0);
            format!("at step {at}, after \"{label}\" at step {made}")
        }
    }
}

fn lesson_table(index: usize, lesson: &Lesson, runs: &[SeedRun]) -> String {
    let seeds = runs.iter().map(|run| run.seed);
    let (first, last) = (seeds.clone().min().unwrap_or(0), seeds.max().unwrap_or(0));
    let neurons = runs.first().and_then(|run| run.phase(Phase::Start)).map_or(0, |figures| figures.neurons);
    let mut text = format!("lesson {}: {} (seeds {first}-{last}, {neurons} hidden neurons)\n", index + 1, lesson.title);
    for phase in Phase::ALL {
        if runs.first().and_then(|run| run.phase(phase)).is_none() {
            continue;
        }
        let _ = writeln!(text, "  {}:", phase_heading(lesson, phase));
        for figure in Figure::ALL {
            let Some(summary) = summarize(runs, figure, phase) else { continue };
            // A seed without the figure (a ratio of zero gradients) shows "–", so that the
            // values stay in the order of the seeds.
            let values: Vec<String> = runs
                .iter()
                .map(|run| run.value(figure, phase).map_or_else(|| "–".to_owned(), |value| figure.format(value)))
                .collect();
            let line = if figure.is_yes_no() {
                format!("{} of {} seeds", summary.count, summary.seeds)
            } else {
                let (min, max) = (figure.format(summary.min), figure.format(summary.max));
                format!("min {min}  median {}  max {max}", summary.median_text())
            };
            let _ = writeln!(text, "    {:<32} {line:<40} per seed: {}", figure.label(), values.join(" "));
        }
    }
    text
}

/// The lesson's text and suggestion as the app shows them, filled from this measurement (on
/// the lesson's own seed where they speak of it).
fn lesson_text(lesson: &Lesson, unfilled: Option<&LessonsError>, seeds: &std::ops::RangeInclusive<u64>) -> String {
    if let Some(error) = unfilled {
        return format!("  its text cannot be filled from seeds {}-{}: {error}\n", seeds.start(), seeds.end());
    }
    let mut text = format!("  the lesson reads, filled from seeds {}-{}:\n", seeds.start(), seeds.end());
    for paragraph in [lesson.text.trim(), lesson.try_next.trim()] {
        for line in wrap(paragraph, 96) {
            let _ = writeln!(text, "    {line}");
        }
        text.push('\n');
    }
    text
}

/// `paragraph` in lines of at most `width` characters, broken at spaces.
fn wrap(paragraph: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in paragraph.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn lesson_json(index: usize, lesson: &Lesson, runs: &[SeedRun]) -> String {
    let mut phases = serde_json::Map::new();
    for phase in Phase::ALL {
        let mut figures = serde_json::Map::new();
        for figure in Figure::ALL {
            if let Some(summary) = summarize(runs, figure, phase) {
                let values: Vec<f64> = runs.iter().filter_map(|run| run.value(figure, phase)).collect();
                figures.insert(
                    figure.key().to_owned(),
                    serde_json::json!({
                        "min": summary.min, "median": summary.median, "max": summary.max,
                        "yes": figure.is_yes_no().then_some(summary.count), "per_seed": values,
                    }),
                );
            }
        }
        if !figures.is_empty() {
            phases.insert(phase.key().to_owned(), serde_json::Value::Object(figures));
        }
    }
    serde_json::json!({ "lesson": index + 1, "title": lesson.title, "phases": phases }).to_string()
}

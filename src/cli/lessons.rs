//! `relu-lab lessons`: every lesson as an experiment over a range of seeds. Prints, per
//! lesson and phase, each figure's min, median and max (yes/no figures: on how many seeds),
//! then checks the figures the lesson's text states.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Result, bail};

use super::interrupt::{self, Interruption};
use super::{Completion, LessonsArgs};
use relu_lab::train::lessons::{
    Figure, Lesson, PRESET_STEPS, Phase, SeedRun, TRY_IT_STEPS, check_claim, load_lessons, run_lesson, summarize,
};

/// The figures printed for every lesson, in order.
const FIGURES: [Figure; 10] = Figure::ALL;

/// `relu-lab lessons`.
pub(super) fn lessons(args: &LessonsArgs, out: &mut dyn Write) -> Result<Completion> {
    let lessons = load_lessons()?;
    if let Some(number) = args.lesson
        && !(1..=lessons.len()).contains(&number)
    {
        bail!("there is no lesson {number}; the lessons are 1 to {}", lessons.len());
    }
    let mut failures = Vec::new();
    for (index, lesson) in lessons.iter().enumerate() {
        if args.lesson.is_some_and(|number| number != index + 1) {
            continue;
        }
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let runs = run_lesson(lesson, args.seeds.clone(), threads)?;
        if let Some(interruption) = interrupt::received() {
            return Ok(Completion::Interrupted(interruption));
        }
        let problems = claim_problems(lesson, &runs);
        let text = if args.json {
            lesson_json(index, lesson, &runs, &problems)
        } else {
            lesson_table(index, lesson, &runs, &problems)
        };
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            return Ok(Completion::Interrupted(Interruption::BrokenPipe));
        }
        failures.extend(problems.into_iter().filter_map(|(words, result)| {
            result.err().map(|problem| format!("lesson {}: \"{words}\": {problem}", index + 1))
        }));
    }
    if !failures.is_empty() {
        bail!("{} claim(s) do not hold:\n  {}", failures.len(), failures.join("\n  "));
    }
    Ok(Completion::Done)
}

/// Each claim's words and whether it holds.
fn claim_problems(lesson: &Lesson, runs: &[SeedRun]) -> Vec<(String, Result<(), String>)> {
    lesson.claims.iter().map(|claim| (claim.words.clone(), check_claim(claim, runs))).collect()
}

fn phase_heading(lesson: &Lesson, phase: Phase) -> String {
    match phase {
        Phase::Start => "at step 0".to_owned(),
        Phase::Preset => format!("after {PRESET_STEPS} steps of {}", lesson.preset),
        Phase::TryIt => {
            let label = lesson.try_it.as_ref().map_or("", |try_it| try_it.label.as_str());
            format!("after \"{label}\" and {TRY_IT_STEPS} more steps")
        }
    }
}

fn lesson_table(index: usize, lesson: &Lesson, runs: &[SeedRun], claims: &[(String, Result<(), String>)]) -> String {
    let seeds = runs.iter().map(|run| run.seed);
    let (first, last) = (seeds.clone().min().unwrap_or(0), seeds.max().unwrap_or(0));
    let neurons = runs.first().map_or(0, |run| run.start.neurons);
    let mut text = format!("lesson {}: {} (seeds {first}-{last}, {neurons} hidden neurons)\n", index + 1, lesson.title);
    for phase in Phase::ALL {
        if runs.first().and_then(|run| run.phase(phase)).is_none() {
            continue;
        }
        let _ = writeln!(text, "  {}:", phase_heading(lesson, phase));
        for figure in FIGURES {
            let Some(summary) = summarize(runs, figure, phase) else { continue };
            let values: Vec<String> =
                runs.iter().filter_map(|run| run.value(figure, phase)).map(|value| figure.format(value)).collect();
            let line = if figure.is_yes_no() {
                format!("{} of {} seeds", summary.count, summary.seeds)
            } else {
                let (min, max) = (figure.format(summary.min), figure.format(summary.max));
                format!("min {min}  median {}  max {max}", summary.median_text())
            };
            let _ = writeln!(text, "    {:<32} {line:<40} per seed: {}", figure.label(), values.join(" "));
        }
    }
    for (words, result) in claims {
        let _ = match result {
            Ok(()) => writeln!(text, "  claim \"{words}\": holds"),
            Err(problem) => writeln!(text, "  claim \"{words}\": DOES NOT HOLD: {problem}"),
        };
    }
    text
}

fn lesson_json(index: usize, lesson: &Lesson, runs: &[SeedRun], claims: &[(String, Result<(), String>)]) -> String {
    let mut phases = serde_json::Map::new();
    for phase in Phase::ALL {
        let mut figures = serde_json::Map::new();
        for figure in FIGURES {
            if let Some(summary) = summarize(runs, figure, phase) {
                let values: Vec<f64> = runs.iter().filter_map(|run| run.value(figure, phase)).collect();
                figures.insert(
                    format!("{figure:?}"),
                    serde_json::json!({
                        "min": summary.min, "median": summary.median, "max": summary.max,
                        "yes": figure.is_yes_no().then_some(summary.count), "per_seed": values,
                    }),
                );
            }
        }
        if !figures.is_empty() {
            phases.insert(format!("{phase:?}"), serde_json::Value::Object(figures));
        }
    }
    let claims: Vec<serde_json::Value> = claims
        .iter()
        .map(|(words, result)| serde_json::json!({ "words": words, "holds": result.is_ok(), "problem": result.clone().err() }))
        .collect();
    serde_json::json!({ "lesson": index + 1, "title": lesson.title, "phases": phases, "claims": claims }).to_string()
}

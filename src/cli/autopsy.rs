//! `relu-lab autopsy`: train a run (or replay a record), then locate every death and revival
//! the census saw at its exact step, by replay, and print what did it.

use std::io::Write;

use anyhow::{Context, Result};

use super::files::{MAX_DATA_BYTES, OutputPlan, read_capped};
use super::interrupt::{self, Interruption};
use super::run::load_config_from;
use super::{AutopsyArgs, Completion};
use relu_lab::train::autopsy::{Autopsy, Death, Moment, Revival, RevivalCause, autopsy, figure};
use relu_lab::train::{ReplayCursor, RunRecord, Session, StepOutcome};

/// `relu-lab autopsy`.
pub(super) fn autopsy_command(args: &AutopsyArgs, out: &mut dyn Write) -> Result<Completion> {
    let mut plan = OutputPlan::default();
    let (session, interruption, name) = if let Some(path) = &args.record {
        plan.input(path);
        let text = read_capped(path, MAX_DATA_BYTES, "run record")?;
        let record = RunRecord::from_json(&text).with_context(|| format!("run record {}", path.display()))?;
        // The run of the record's first seed (its branch A, if it holds a comparison).
        let lane = record.first().context("the record holds no run")?;
        let (mut session, mut cursor) = ReplayCursor::start(lane)?;
        cursor
            .run_to_end(&mut session, |_| Ok::<(), std::convert::Infallible>(()))
            .map_err(|error| anyhow::anyhow!("{error}"))
            .with_context(|| format!("run record {} does not replay", path.display()))?;
        (session, None, path.display().to_string())
    } else {
        let config = load_config_from(args.preset.as_deref(), args.config.as_deref(), args.seed, &mut plan)?;
        let name = match (&args.preset, &args.config) {
            (Some(preset), _) => preset.clone(),
            (None, Some(path)) => path.display().to_string(),
            (None, None) => "the run".to_owned(),
        };
        let seed = config.seed;
        let (session, interruption) = train(Session::new(config)?, args.steps);
        (session, interruption, format!("{name}, seed {seed}"))
    };
    let report = autopsy(&session).context("the autopsy could not replay the run")?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else if args.words {
        print_words(&report, &name, out)?;
    } else {
        print_tables(&report, &name, out)?;
    }
    Ok(interruption.map_or(Completion::Done, Completion::Interrupted))
}

/// Trains `session` to `steps` (or until it diverges or is interrupted).
fn train(mut session: Session, steps: u64) -> (Session, Option<Interruption>) {
    while session.step_count() < steps {
        if let Some(interruption) = interrupt::received() {
            return (session, Some(interruption));
        }
        if matches!(session.step(), StepOutcome::Diverged(_)) {
            break;
        }
    }
    (session, None)
}

fn headline(report: &Autopsy, name: &str) -> String {
    let mut line = format!(
        "autopsy of {name} after {} steps: {} death(s), {} revival(s)",
        report.steps,
        report.deaths.len(),
        report.revivals.len()
    );
    if !report.dead_from_start.is_empty() {
        let names: Vec<String> = report.dead_from_start.iter().map(|neuron| neuron.label()).collect();
        line = format!("{line}; dead from the start: {}", names.join(", "));
    }
    if report.is_partial {
        line.push_str(" (the census dropped its oldest changes: early ones are missing)");
    }
    line
}

fn print_words(report: &Autopsy, name: &str, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{}", headline(report, name))?;
    for death in &report.deaths {
        writeln!(out, "\n{}", death.describe())?;
    }
    for revival in &report.revivals {
        writeln!(out, "\n{}", revival.describe())?;
    }
    Ok(())
}

fn print_tables(report: &Autopsy, name: &str, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{}", headline(report, name))?;
    if !report.deaths.is_empty() {
        writeln!(out, "\ndeaths")?;
        writeln!(
            out,
            "{:>5} {:>6} {:>6}  {:<24} {:<20} {:<20} {:>7}  pace",
            "layer", "neuron", "step", "what did it", "largest z before→after", "bias before→after", "|Δw|"
        )?;
        for death in &report.deaths {
            writeln!(out, "{}", death_row(death))?;
        }
    }
    if !report.revivals.is_empty() {
        writeln!(out, "\nrevivals")?;
        writeln!(
            out,
            "{:>5} {:>6} {:>6}  {:<24} {:<20} {:>7}  why",
            "layer", "neuron", "step", "what did it", "largest z before→after", "active"
        )?;
        for revival in &report.revivals {
            writeln!(out, "{}", revival_row(revival))?;
        }
    }
    Ok(())
}

/// "update, rate 3" or the command's words.
fn moment_cell(moment: &Moment) -> String {
    match moment {
        Moment::Update { learning_rate, .. } => format!("update, rate {}", figure(*learning_rate)),
        Moment::Command { text, .. } => text.clone(),
    }
}

fn arrow(before: f32, after: f32) -> String {
    format!("{} → {}", figure(f64::from(before)), figure(f64::from(after)))
}

fn death_row(death: &Death) -> String {
    let change = &death.change;
    let weight_change = change
        .weights_before
        .iter()
        .zip(&change.weights_after)
        .map(|(&w0, &w1)| (f64::from(w1) - f64::from(w0)).powi(2))
        .sum::<f64>()
        .sqrt();
    let pace = if death.pace.is_one_blow {
        "one blow".to_owned()
    } else {
        format!("slow ({} updates from step {})", death.pace.falling_updates, death.pace.peak_step)
    };
    format!(
        "{:>5} {:>6} {:>6}  {:<24} {:<20} {:<20} {:>7}  {pace}",
        death.neuron.layer + 1,
        death.neuron.neuron + 1,
        death.step,
        moment_cell(&change.moment),
        arrow(change.max_pre_activation_before, change.max_pre_activation_after),
        arrow(change.bias_before, change.bias_after),
        figure(weight_change),
    )
}

fn revival_row(revival: &Revival) -> String {
    let change = &revival.change;
    let why = match &revival.cause {
        RevivalCause::Command { .. } => "a change of settings",
        RevivalCause::LayerBelow => "the layer below moved",
        RevivalCause::OwnUpdate => "its own update",
    };
    format!(
        "{:>5} {:>6} {:>6}  {:<24} {:<20} {:>6.1}%  {why}",
        revival.neuron.layer + 1,
        revival.neuron.neuron + 1,
        revival.step,
        moment_cell(&change.moment),
        arrow(change.max_pre_activation_before, change.max_pre_activation_after),
        f64::from(change.active_fraction_after) * 100.0,
    )
}

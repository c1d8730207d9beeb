//! `relu-lab born-dead`: the Monte-Carlo estimate, shared out over the cores in chunks of
//! fixed size (each chunk its own random stream, so any thread count gives the same answer),
//! with an estimate of the time it takes before it starts.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use super::interrupt::{self, Interruption};
use super::{BornDeadArgs, Completion};
use relu_lab::nn::born_dead::{BornDeadEstimate, BornDeadSetup, CHUNK_TRIALS};

/// Work longer than this needs `--force`.
const MAX_UNFORCED: Duration = Duration::from_hours(1);
/// How long the pilot that times the work runs, at most.
const PILOT_TIME: Duration = Duration::from_millis(200);

/// `relu-lab born-dead`.
pub(super) fn born_dead(args: &BornDeadArgs, out: &mut dyn Write) -> Result<Completion> {
    let setup = BornDeadSetup {
        width: args.width as usize,
        hidden_layers: args.hidden_layers as usize,
        init: args.init,
        bias: args.bias,
        seed: args.seed,
    };
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        |threads| threads as usize,
    );
    let expected = expected_time(&setup, args.trials, threads);
    if expected > MAX_UNFORCED && !args.force {
        bail!(
            "this would take about {} on {threads} thread(s) (timed on a sample of the trials); \
             lower --trials, --width or --hidden-layers, or pass --force to run it anyway",
            duration_text(expected)
        );
    }
    let started = Instant::now();
    let (born_dead, done, interruption) = count_in_parallel(&setup, args.trials, threads, expected)?;
    let estimate = BornDeadEstimate::new(born_dead, done);
    let seconds = started.elapsed().as_secs_f64();
    print_estimate(args, &estimate, threads, seconds, out)?;
    Ok(interruption.map_or(Completion::Done, Completion::Interrupted))
}

/// Times the first chunk's networks (for at most `PILOT_TIME`) and scales to the whole run.
fn expected_time(setup: &BornDeadSetup, trials: u64, threads: usize) -> Duration {
    let started = Instant::now();
    let mut timed = 0;
    let pilot = trials.min(CHUNK_TRIALS);
    let mut step = 1;
    while timed < pilot && started.elapsed() < PILOT_TIME {
        let count = step.min(pilot - timed);
        // A chunk of `count` trials: the same draws as the first `count` of chunk 0.
        setup.count_chunk(0, count);
        timed += count;
        step *= 2;
    }
    let per_trial = started.elapsed().as_secs_f64() / timed.max(1) as f64;
    Duration::from_secs_f64(per_trial * trials as f64 / threads.max(1) as f64)
}

/// Counts the born-dead networks over every chunk on `threads` threads. Returns the count, the
/// trials done (all of them unless interrupted: then only whole chunks) and the interruption.
fn count_in_parallel(
    setup: &BornDeadSetup,
    trials: u64,
    threads: usize,
    expected: Duration,
) -> Result<(u64, u64, Option<Interruption>)> {
    let chunks = BornDeadSetup::chunk_count(trials);
    let next_chunk = AtomicU64::new(0);
    let born_dead = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let progress = progress_bar(trials, expected);
    std::thread::scope(|scope| -> Result<()> {
        for index in 0..threads.min(chunks as usize).max(1) {
            std::thread::Builder::new()
                .name(format!("born-dead-{index}"))
                .spawn_scoped(scope, || {
                    loop {
                        if interrupt::received().is_some() {
                            return;
                        }
                        let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
                        if chunk >= chunks {
                            return;
                        }
                        born_dead.fetch_add(setup.count_chunk(chunk, trials), Ordering::Relaxed);
                        let size = trials.saturating_sub(chunk * CHUNK_TRIALS).min(CHUNK_TRIALS);
                        progress.inc(size);
                        done.fetch_add(size, Ordering::Relaxed);
                    }
                })
                .context("cannot start a born-dead thread")?;
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    let interruption = interrupt::received();
    Ok((born_dead.into_inner(), done.into_inner(), interruption))
}

fn progress_bar(trials: u64, expected: Duration) -> ProgressBar {
    if !std::io::stderr().is_terminal() || expected < Duration::from_secs(2) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(trials);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} networks, about {eta} left") {
        bar.set_style(style);
    }
    bar
}

fn print_estimate(
    args: &BornDeadArgs,
    estimate: &BornDeadEstimate,
    threads: usize,
    seconds: f64,
    out: &mut dyn Write,
) -> Result<()> {
    if args.json {
        let value = serde_json::json!({
            "width": args.width, "hidden_layers": args.hidden_layers, "init": args.init.key(),
            "bias": args.bias, "seed": args.seed, "threads": threads, "seconds": seconds, "estimate": estimate,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(
            out,
            "born dead: {} of {} networks ({} x {} hidden, {}, bias {}): p = {:.4} ± {:.4} (standard error); \
             {seconds:.3} s on {threads} thread(s)",
            estimate.born_dead,
            estimate.trials,
            args.hidden_layers,
            args.width,
            args.init.label(),
            args.bias,
            estimate.probability,
            estimate.standard_error,
        )?;
    }
    Ok(())
}

/// A duration in the largest unit that reads well.
fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds >= 2.0 * 86_400.0 * 365.0 {
        format!("{:.0} years", seconds / (86_400.0 * 365.0))
    } else if seconds >= 2.0 * 86_400.0 {
        format!("{:.0} days", seconds / 86_400.0)
    } else {
        format!("{:.1} hours", seconds / 3600.0)
    }
}

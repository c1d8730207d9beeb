//! `relu-lab born-dead`: the Monte-Carlo estimate, shared out over the cores in chunks of
//! fixed size (each chunk its own random stream, so any thread count gives the same answer),
//! with an estimate of the time it takes before it starts.
//!
//! The estimate is a pilot: the first networks of chunk 0 are tested for at most
//! [`PILOT_TIME`], stopped mid-network if need be, so it is bounded however large a single
//! network is (512 x 64 takes about a minute each). If not even one network was done in that
//! time, the pilot gives a lower bound, and work whose lower bound is over an hour is refused
//! just the same. Ctrl-C (or SIGTERM, SIGHUP) is heard during the pilot and within a fraction
//! of a second during the count; only whole chunks are counted, and a count of zero networks
//! is never printed as a probability.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    let pilot = time_the_work(&setup, args.trials, threads)?;
    if let Some(interruption) = interrupt::received() {
        return Ok(no_estimate(interruption));
    }
    if pilot.expected > MAX_UNFORCED && !args.force {
        let about = if pilot.is_lower_bound { "at least" } else { "about" };
        bail!(
            "this would take {about} {} on {threads} thread(s) (timed on a sample of the trials for {} ms); \
             lower --trials, --width or --hidden-layers, or pass --force to run it anyway",
            duration_text(pilot.expected),
            PILOT_TIME.as_millis()
        );
    }
    let started = Instant::now();
    let (born_dead, done, interruption) = count_in_parallel(&setup, args.trials, threads, pilot.expected)?;
    if done == 0 {
        return Ok(no_estimate(interruption.unwrap_or(Interruption::Interrupt)));
    }
    let estimate = BornDeadEstimate::new(born_dead, done);
    let seconds = started.elapsed().as_secs_f64();
    print_estimate(args, &estimate, threads, seconds, out)?;
    Ok(interruption.map_or(Completion::Done, Completion::Interrupted))
}

/// Stopped before a single chunk was counted: no estimate, and none printed.
fn no_estimate(interruption: Interruption) -> Completion {
    let _ = writeln!(
        std::io::stderr(),
        "relu-lab: born-dead: {} before the first {CHUNK_TRIALS} networks were counted, so there is no estimate",
        interruption.describe()
    );
    Completion::Abandoned(interruption)
}

/// What the pilot found.
struct Pilot {
    /// The time the whole work would take.
    expected: Duration,
    /// Not one network was done in the pilot's time: the work takes at least `expected`.
    is_lower_bound: bool,
}

/// Times the first networks of chunk 0 for at most [`PILOT_TIME`] (stopping mid-network if
/// need be) and scales to the whole run.
fn time_the_work(setup: &BornDeadSetup, trials: u64, threads: usize) -> Result<Pilot> {
    let is_over = &AtomicBool::new(false);
    let (finished, finish) = std::sync::mpsc::sync_channel::<()>(1);
    let (count, elapsed) = std::thread::scope(|scope| -> Result<_> {
        std::thread::Builder::new()
            .name("born-dead-pilot-clock".to_owned())
            .spawn_scoped(scope, move || {
                // Woken early when the pilot ends (its sender is dropped).
                if finish.recv_timeout(PILOT_TIME) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                    is_over.store(true, Ordering::Relaxed);
                }
            })
            .context("cannot start the born-dead pilot's clock")?;
        let started = Instant::now();
        let stop = || is_over.load(Ordering::Relaxed) || interrupt::received().is_some();
        let count = setup.count_chunk_until(0, trials.min(CHUNK_TRIALS), &stop);
        let elapsed = started.elapsed();
        drop(finished);
        Ok((count, elapsed))
    })?;
    let per_trial = elapsed.as_secs_f64() / count.networks.max(1) as f64;
    Ok(Pilot {
        expected: Duration::from_secs_f64(per_trial * trials as f64 / threads.max(1) as f64),
        is_lower_bound: count.networks == 0,
    })
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
    let stop = || interrupt::received().is_some();
    std::thread::scope(|scope| -> Result<()> {
        for index in 0..threads.min(chunks as usize).max(1) {
            std::thread::Builder::new()
                .name(format!("born-dead-{index}"))
                .spawn_scoped(scope, || {
                    loop {
                        let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
                        if chunk >= chunks || stop() {
                            return;
                        }
                        let count = setup.count_chunk_until(chunk, trials, &stop);
                        // A chunk cut short is left out: the answer is over whole chunks.
                        if !count.is_complete {
                            return;
                        }
                        born_dead.fetch_add(count.born_dead, Ordering::Relaxed);
                        progress.inc(count.networks);
                        done.fetch_add(count.networks, Ordering::Relaxed);
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

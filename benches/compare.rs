//! What a comparison and the seeds view cost in training speed, through the trainer the app
//! runs (reports, snapshots and all, on the real clock): steps per second of one run, of two
//! branches in lockstep, and of ten seeds at once. The floors: each branch at least
//! 0.45 of the single run's rate on W2 (2-32x4-1, batch 64); each of ten healthy seeds at
//! least 0.09. Read the ratios from medians of the same run.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use relu_lab::train::clock::{Clock, SystemClock};
use relu_lab::train::{RunConfig, Speed, Trainer, WorkerCommand, presets};

/// Steps (lockstep steps, for two branches or ten seeds) per measured iteration.
const STEPS: u64 = 400;

fn healthy() -> RunConfig {
    presets::find("healthy-relu").and_then(|p| p.config().ok()).unwrap_or_default()
}

fn w2() -> RunConfig {
    let mut config = healthy();
    config.network.hidden_layers = vec![32; 4];
    config.training.batch_size = 64;
    config
}

/// A paused trainer at full speed, set up by `setup` (a fork, the seeds view).
fn trainer(config: RunConfig, setup: &[WorkerCommand]) -> Trainer {
    let mut trainer = Trainer::new(config, Box::new(SystemClock)).expect("a valid config");
    trainer.handle(WorkerCommand::SetSpeed(Speed::Max));
    trainer.handle(WorkerCommand::Pause);
    for command in setup {
        trainer.handle(command.clone());
    }
    while trainer.next_event().is_some() {}
    trainer
}

/// The time `iterations` × [`STEPS`] steps take, ticking as the worker thread does.
fn time_steps(trainer: &mut Trainer, iterations: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iterations {
        trainer.handle(WorkerCommand::Step(STEPS));
        while trainer.is_running() {
            trainer.tick(SystemClock.now() + Duration::from_millis(4));
            while trainer.next_event().is_some() {}
            let _ = trainer.take_new_snapshot();
        }
    }
    started.elapsed()
}

fn lockstep(c: &mut Criterion) {
    let mut group = c.benchmark_group("lockstep");
    group.measurement_time(Duration::from_secs(8)).sample_size(20);
    let cases: [(&str, RunConfig, Vec<WorkerCommand>); 4] = [
        ("W2 one run", w2(), Vec::new()),
        ("W2 two branches", w2(), vec![WorkerCommand::Fork { changes: Vec::new() }]),
        ("healthy one run", healthy(), Vec::new()),
        ("healthy ten seeds", healthy(), vec![WorkerCommand::OpenSeeds { count: 10 }]),
    ];
    for (name, config, setup) in cases {
        let mut trainer = trainer(config, &setup);
        group.bench_function(format!("{name}, {STEPS} steps"), |b| b.iter_custom(|n| time_steps(&mut trainer, n)));
    }
    group.finish();
}

criterion_group!(benches, lockstep);
criterion_main!(benches);

//! What live training costs: one snapshot for a W2 net (2-32-32-32-32-1) on a 48x48 grid, and
//! training throughput while publishing snapshots at 30 per second, against the bare step loop
//! in the same run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use relu_lab::train::snapshot::DEFAULT_GRID_RESOLUTION;
use relu_lab::train::{RunConfig, Session, Snapshotter};

/// The W2 workload as a run: 2-32-32-32-32-1, batch 64, on the circle.
fn w2_config() -> RunConfig {
    let mut config = RunConfig::default();
    config.network.hidden_layers = vec![32; 4];
    config.training.batch_size = 64;
    config
}

fn snapshot_cost(c: &mut Criterion) {
    let mut session = Session::new(w2_config()).expect("valid config");
    for _ in 0..100 {
        session.step();
    }
    let mut snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
    let mut group = c.benchmark_group("snapshot");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("W2 evaluate + snapshot 48x48", |b| {
        b.iter(|| {
            let evaluation = session.evaluate();
            black_box(snapshotter.snapshot(&session, &evaluation))
        });
    });
    group.finish();
}

fn throughput_while_publishing(c: &mut Criterion) {
    let interval = Duration::from_millis(33);
    let mut group = c.benchmark_group("live_W2");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    let mut bare = Session::new(w2_config()).expect("valid config");
    group.bench_function("bare step", |b| b.iter(|| black_box(bare.step())));
    let mut live = Session::new(w2_config()).expect("valid config");
    let mut snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
    // Timed by hand so that the 30-per-second clock runs on measured time only (criterion's
    // pauses between samples would otherwise make every sample start with a snapshot).
    group.bench_function("step, snapshots at 30/s", |b| {
        b.iter_custom(|iterations| {
            let started = Instant::now();
            let mut last = started;
            for _ in 0..iterations {
                black_box(live.step());
                if last.elapsed() >= interval {
                    let evaluation = live.evaluate();
                    black_box(snapshotter.snapshot(&live, &evaluation));
                    last = Instant::now();
                }
            }
            started.elapsed()
        });
    });
    group.finish();
}

criterion_group!(benches, snapshot_cost, throughput_while_publishing);
criterion_main!(benches);

//! Training-step throughput, and the single-core matrix-multiply peak it is measured against.
//!
//! Group `train_step`: one step is forward, loss and its gradient, backward, and a plain SGD
//! update, in `f32` on one thread. Inputs and targets are drawn once, before timing, so the step
//! itself allocates nothing. Throughput is one element per step, so criterion reports steps per
//! second.
//!
//! | id | sizes                   | batch | loss                  |
//! |----|-------------------------|-------|-----------------------|
//! | W1 | 2-8-8-1                 | 10    | binary cross-entropy  |
//! | W2 | 2-32-32-32-32-1         | 64    | binary cross-entropy  |
//! | W3 | 2-256-256-256-1         | 256   | binary cross-entropy  |
//! | W4 | 784-512-512-10          | 128   | softmax cross-entropy |
//!
//! Every workload uses `Activation::Relu` in its hidden layers and `Init::HeNormal` weights.
//!
//! Group `matmul_peak`: `ndarray`'s `general_mat_mul` alone (the `matrixmultiply` kernels the
//! large layers use), at the shapes of W3's hidden layers and W4's first layer. Throughput is
//! `2 * m * k * n` elements per product, so criterion's "elem/s" reads as FLOP/s.
//!
//! Counting a step's FLOPs: a dense layer with `n_in` inputs and `n_out` neurons at batch `B`
//! does three products of `2 * B * n_in * n_out` FLOPs each (forward `a · W`, weight gradient
//! `aᵀ · δ`, and the delta sent down `δ · Wᵀ`), so a step does about
//! `6 * B * sum(n_in * n_out)` FLOPs. The first layer sends no delta down (its `4` is counted as
//! `6`); the element-wise work (activations, loss, SGD) is `O(B * sum(n_out) + parameters)` and
//! left out. The fraction of peak is `steps_per_sec * step_flops / matmul_flops_per_sec`.
//!
//! Group `plain_ndarray`: W1 and W2 written the plain way with `ndarray` (`benches/support/
//! plain.rs`: `dot`, `mapv`, a new array per intermediate), the reference the small networks'
//! speed is judged against.
//!
//! After criterion's report the bench prints, from the same run, each workload's median steps
//! per second, its GFLOP/s and its fraction of the fastest `matmul_peak` shape: how close to
//! the machine's single-core limit it is, as a printed number; then W1's and W2's speed as a
//! multiple of the plain ndarray step's.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group};
use ndarray::Array2;
use ndarray::linalg::general_mat_mul;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "support/workloads.rs"]
mod workloads;

#[path = "support/plain.rs"]
mod plain;

use workloads::{SEED, Setup, WORKLOADS, Workload};

/// Seconds per iteration of every sample, by bench id (for the summary after criterion's).
static SECONDS_PER_ITERATION: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Runs `iterations` of `body`, notes the time per iteration under `id`, returns the total.
fn timed(id: &str, iterations: u64, mut body: impl FnMut()) -> Duration {
    let started = Instant::now();
    for _ in 0..iterations {
        body();
    }
    let elapsed = started.elapsed();
    if let Ok(mut samples) = SECONDS_PER_ITERATION.lock() {
        samples.entry(id.to_owned()).or_default().push(elapsed.as_secs_f64() / iterations.max(1) as f64);
    }
    elapsed
}

/// The median of the samples noted under `id`.
fn median_seconds(id: &str) -> Option<f64> {
    let samples = SECONDS_PER_ITERATION.lock().ok()?;
    let mut values = samples.get(id)?.clone();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// Fewer, flat samples for the slow steps, so that they fit the measurement time.
fn sampling(group: &mut BenchmarkGroup<'_, WallTime>, workload: &Workload) {
    if workload.is_slow {
        group.sample_size(20).sampling_mode(SamplingMode::Flat);
    } else {
        group.sample_size(50).sampling_mode(SamplingMode::Auto);
    }
}

fn bench_workload(group: &mut BenchmarkGroup<'_, WallTime>, workload: &Workload) {
    let mut setup = Setup::new(workload);
    sampling(group, workload);
    group.bench_function(workload.id, |bencher| {
        bencher.iter_custom(|iterations| {
            timed(workload.id, iterations, || {
                black_box(setup.step(workload.loss));
            })
        });
    });
    // A diverged net would time NaN arithmetic, not training.
    assert!(setup.mlp.is_finite(), "{}: the parameters diverged while benchmarking", workload.id);
}

fn train_step_benches(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("train_step");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    for workload in &WORKLOADS {
        bench_workload(&mut group, workload);
    }
    group.finish();
}

/// The workloads that have a plain-ndarray reference.
const PLAIN_REFERENCE_IDS: [&str; 2] = ["W1", "W2"];

/// The bench id of a workload's plain-ndarray step.
fn plain_id(id: &str) -> String {
    format!("{id} plain ndarray")
}

fn plain_reference_benches(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("plain_ndarray");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    for workload in WORKLOADS.iter().filter(|workload| PLAIN_REFERENCE_IDS.contains(&workload.id)) {
        let setup = Setup::new(workload);
        let mut plain = plain::PlainMlp::of(&setup.mlp);
        let id = plain_id(workload.id);
        sampling(&mut group, workload);
        group.bench_function(&id, |bencher| {
            bencher.iter_custom(|iterations| {
                timed(&id, iterations, || {
                    black_box(plain.step(&setup.inputs, &setup.targets, workload.loss, workloads::LEARNING_RATE));
                })
            });
        });
    }
    group.finish();
}

/// `c = a · b` with `a: [m, k]`, `b: [k, n]`, timed alone.
fn matmul_peak_benches(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("matmul_peak");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(20);
    group.sampling_mode(SamplingMode::Flat);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    for (m, k, n) in PEAK_SHAPES {
        let a = Array2::from_shape_fn((m, k), |_| rng.random_range(-1.0..1.0_f32));
        let b = Array2::from_shape_fn((k, n), |_| rng.random_range(-1.0..1.0_f32));
        let mut c = Array2::<f32>::zeros((m, n));
        group.throughput(Throughput::Elements(2 * (m * k * n) as u64));
        let id = format!("{m}x{k}x{n}");
        group.bench_function(&id, |bencher| {
            bencher.iter_custom(|iterations| {
                timed(&id, iterations, || general_mat_mul(1.0, black_box(&a), black_box(&b), 0.0, &mut c))
            });
        });
        black_box(&c);
    }
    group.finish();
}

/// The matrix shapes of `matmul_peak`, `(m, k, n)`.
const PEAK_SHAPES: [(usize, usize, usize); 2] = [(256, 256, 256), (128, 784, 512)];

/// The true FLOPs of one step of `workload`: `6 * B * n_in * n_out` per layer, but `4 * B *
/// n_in * n_out` for the first, which sends no delta down (the module's doc counts it as 6).
fn step_flops(workload: &Workload) -> f64 {
    let products: Vec<f64> = workload.sizes.windows(2).map(|pair| (pair[0] * pair[1]) as f64).collect();
    let first = products.first().copied().unwrap_or(0.0);
    let rest: f64 = products.iter().skip(1).sum();
    2.0 * workload.batch_size as f64 * (2.0 * first + 3.0 * rest)
}

/// Prints each workload's median rate, GFLOP/s and fraction of the fastest matmul shape.
fn fraction_of_peak_summary() {
    #[expect(clippy::print_stdout, reason = "the bench's own report")]
    let print = |line: String| println!("{line}");
    let peak = PEAK_SHAPES
        .iter()
        .filter_map(|&(m, k, n)| Some(2.0 * (m * k * n) as f64 / median_seconds(&format!("{m}x{k}x{n}"))?))
        .fold(0.0_f64, f64::max);
    print(format!("single-core f32 GEMM peak (fastest matmul_peak shape, median): {:.1} GFLOP/s", peak / 1e9));
    for workload in &WORKLOADS {
        let Some(seconds) = median_seconds(workload.id) else { continue };
        let flops = step_flops(workload) / seconds;
        let fraction = if peak > 0.0 { 100.0 * flops / peak } else { 0.0 };
        print(format!(
            "{}: {:.0} steps/s (median), {:.2} GFLOP/s, {fraction:.0}% of the peak",
            workload.id,
            1.0 / seconds,
            flops / 1e9
        ));
    }
    for id in PLAIN_REFERENCE_IDS {
        let (Some(ours), Some(plain)) = (median_seconds(id), median_seconds(&plain_id(id))) else { continue };
        print(format!(
            "{id}: ×{:.2} the plain ndarray step ({:.0} vs {:.0} steps/s, medians)",
            plain / ours,
            1.0 / ours,
            1.0 / plain
        ));
    }
}

criterion_group!(benches, train_step_benches, plain_reference_benches, matmul_peak_benches);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    fraction_of_peak_summary();
}

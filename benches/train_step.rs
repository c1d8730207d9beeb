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

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use ndarray::linalg::general_mat_mul;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod workloads;

use workloads::{SEED, Setup, WORKLOADS, Workload};

fn bench_workload(group: &mut BenchmarkGroup<'_, WallTime>, workload: &Workload) {
    let mut setup = Setup::new(workload);
    group.sample_size(workload.sample_size);
    group.sampling_mode(workload.sampling_mode);
    group.bench_function(workload.id, |bencher| {
        bencher.iter(|| black_box(setup.step(workload.loss)));
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

/// `c = a · b` with `a: [m, k]`, `b: [k, n]`, timed alone.
fn matmul_peak_benches(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("matmul_peak");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(20);
    group.sampling_mode(SamplingMode::Flat);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    for (m, k, n) in [(256, 256, 256), (128, 784, 512)] {
        let a = Array2::from_shape_fn((m, k), |_| rng.random_range(-1.0..1.0_f32));
        let b = Array2::from_shape_fn((k, n), |_| rng.random_range(-1.0..1.0_f32));
        let mut c = Array2::<f32>::zeros((m, n));
        group.throughput(Throughput::Elements(2 * (m * k * n) as u64));
        group.bench_function(format!("{m}x{k}x{n}"), |bencher| {
            bencher.iter(|| general_mat_mul(1.0, black_box(&a), black_box(&b), 0.0, &mut c));
        });
        black_box(&c);
    }
    group.finish();
}

criterion_group!(benches, train_step_benches, matmul_peak_benches);
criterion_main!(benches);

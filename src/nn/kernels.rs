//! The three matrix products a dense layer needs, without allocating.
//!
//! # One order of summation, whatever the machine
//!
//! Every output element is one chain of additions: it starts at its first value (the bias, or
//! 0) and adds the products `x(i, k) * y(k, j)` one at a time in increasing `k`, each product
//! rounded before it is added (Rust never fuses a multiply and an add into an FMA, and never
//! reorders a floating-point sum). That is the whole definition of the result, so any code that
//! computes each element as that chain gives the same bits. The loops (`super::chains`) keep a
//! block of rows by columns of such chains in registers and advance them together, one `k` at
//! a time; the compiler turns the columns of a block into vector instructions. On x86-64 they
//! run on the widest instruction set the CPU has, chosen once at run time (`super::dispatch`:
//! SSE2, AVX2 or AVX-512, with blocks of 8, 16 or 32 columns); elsewhere on what the build
//! targets (NEON, wasm SIMD or none). That decides how many chains move per instruction, never
//! the order inside a chain, and no result depends on which block computed it: a test checks
//! every product against the plain triple loop, bit for bit, at many shapes, on every
//! instruction set the machine has.
//!
//! # Fast numerics
//!
//! Under [`Numerics::Fast`] the products of large layers (more than [`SMALL_PRODUCT_WORK`]
//! multiply-adds) go to `ndarray`'s `general_mat_mul` instead: the `matrixmultiply` kernels,
//! which use FMA of the CPU's vector width, chosen at run time, and sum in blocks of their own.
//! Faster on a wide CPU, but not the same bits on another one. Small products run the chains
//! under either setting.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut2};

use super::Real;
use super::chains::{Finish, Left, Product};
use super::dispatch::{run_chains, run_column_sums, run_finish, run_transpose};
use super::numerics::Numerics;

/// Above this many multiply-adds a product goes to the blocked kernels under fast numerics.
const SMALL_PRODUCT_WORK: usize = 24 * 24 * 24;

/// Whether a product of this size goes to `matrixmultiply`.
fn uses_matrixmultiply(numerics: Numerics, m: usize, k: usize, n: usize) -> bool {
    numerics == Numerics::Fast && m * k * n > SMALL_PRODUCT_WORK
}

/// The chains on arrays of any layout, element by element (the slow path for views that are not
/// contiguous; the same chains, so the same bits).
fn chains_indexed<T: Real>(x: ArrayView2<T>, y: ArrayView2<T>, start: Option<ArrayView1<T>>, mut c: ArrayViewMut2<T>) {
    let (rows, depth) = x.dim();
    let n = y.ncols();
    for i in 0..rows {
        for j in 0..n {
            let mut sum = start.as_ref().map_or_else(T::zero, |start| start[j]);
            for k in 0..depth {
                sum += x[[i, k]] * y[[k, j]];
            }
            c[[i, j]] = sum;
        }
    }
}

/// Applies `finish` to `out`, which holds the products (in row-major order).
fn finish_view<T: Real>(finish: Finish<'_, T>, mut out: ArrayViewMut2<T>) {
    match out.as_slice_mut() {
        Some(c) => run_finish(finish, c),
        None => finish.apply(out.iter_mut()),
    }
}

/// `out = inputs · weights + biases` (a dense layer's pre-activations), then `finish`.
///
/// # Shapes
/// `inputs: [batch, n_in]`, `weights: [n_in, n_out]`, `biases: [n_out]`, `out: [batch, n_out]`.
pub(crate) fn affine<T: Real>(
    inputs: ArrayView2<T>,
    weights: ArrayView2<T>,
    biases: ArrayView1<T>,
    mut out: ArrayViewMut2<T>,
    finish: Finish<'_, T>,
    numerics: Numerics,
) {
    let (batch, n_in) = inputs.dim();
    let n_out = weights.ncols();
    if uses_matrixmultiply(numerics, batch, n_in, n_out) {
        out.assign(&biases.broadcast((batch, n_out)).unwrap_or_else(|| unreachable!()));
        general_mat_mul(T::one(), &inputs, &weights, T::one(), &mut out);
        finish_view(finish, out);
        return;
    }
    if let (Some(a), Some(w), Some(b)) = (inputs.as_slice(), weights.as_slice(), biases.as_slice())
        && let Some(c) = out.as_slice_mut()
    {
        let x = Left { data: a, row_stride: n_in, k_stride: 1 };
        run_chains(&Product { x, rows: batch, depth: n_in, y: w, start: Some(b) }, c, finish);
    } else {
        chains_indexed(inputs, weights, Some(biases), out.view_mut());
        finish_view(finish, out);
    }
}

/// `out = aᵀ · b` (the weight gradient: inputs transposed times deltas).
///
/// # Shapes
/// `a: [batch, m]`, `b: [batch, n]`, `out: [m, n]`.
pub(crate) fn transposed_times<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut out: ArrayViewMut2<T>,
    numerics: Numerics,
) {
    let (batch, m) = a.dim();
    let n = b.ncols();
    if uses_matrixmultiply(numerics, batch, m, n) {
        general_mat_mul(T::one(), &a.t(), &b, T::zero(), &mut out);
        return;
    }
    if let (Some(a), Some(b)) = (a.as_slice(), b.as_slice())
        && let Some(c) = out.as_slice_mut()
    {
        if n == 1 {
            // One column (the output neuron's gradient): `out[i] = Σ_b b[b] · a[b, i]` is the
            // one row `bᵀ · a`, whose chains run across `i`, a vector at a time, instead of
            // one lane each. The same chains: `a[b, i] · b[b]` and `b[b] · a[b, i]` are the
            // same rounded product, added in the same order.
            let x = Left { data: b, row_stride: batch, k_stride: 1 };
            run_chains(&Product { x, rows: 1, depth: batch, y: a, start: None }, c, Finish::Store);
        } else {
            let x = Left { data: a, row_stride: 1, k_stride: m };
            run_chains(&Product { x, rows: m, depth: batch, y: b, start: None }, c, Finish::Store);
        }
    } else {
        chains_indexed(a.t(), b, None, out);
    }
}

/// `out = a · bᵀ` (the gradient flowing back: deltas times weights transposed), then `finish`.
/// The chains
/// read `bᵀ` row by row, so `b` is first copied transposed into `scratch`.
///
/// # Shapes
/// `a: [batch, k]`, `b: [n, k]`, `out: [batch, n]`.
pub(crate) fn times_transposed<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut out: ArrayViewMut2<T>,
    finish: Finish<'_, T>,
    scratch: &mut Vec<T>,
    numerics: Numerics,
) {
    let (batch, k) = a.dim();
    let n = b.nrows();
    if uses_matrixmultiply(numerics, batch, k, n) {
        general_mat_mul(T::one(), &a, &b.t(), T::zero(), &mut out);
        finish_view(finish, out);
        return;
    }
    if let (Some(a_values), Some(b_values)) = (a.as_slice(), b.as_slice())
        && let Some(c) = out.as_slice_mut()
    {
        // A single column or row is its own transpose in memory.
        let y = if k == 1 || n == 1 {
            b_values
        } else {
            run_transpose(b_values, k, scratch);
            scratch
        };
        let x = Left { data: a_values, row_stride: k, k_stride: 1 };
        run_chains(&Product { x, rows: batch, depth: k, y, start: None }, c, finish);
    } else {
        chains_indexed(a, b.t(), None, out.view_mut());
        finish_view(finish, out);
    }
}

/// `sums[j] = Σ_b values[b, j]`: each column one chain from 0 down the rows (the bias gradient).
///
/// # Shapes
/// `values: [batch, n]`, `sums: [n]`.
pub(crate) fn column_sums<T: Real>(values: ArrayView2<T>, sums: &mut Array1<T>) {
    if let (Some(slice), Some(out)) = (values.as_slice(), sums.as_slice_mut())
        && out.len() == values.ncols()
    {
        run_column_sums(slice, out);
        return;
    }
    sums.fill(T::zero());
    for row in values.rows() {
        for (sum, &value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::dispatch::{Kernels, with_kernels};
    use ndarray::{Array1, Array2};

    /// Values whose products and sums round differently in every order, so that a change of
    /// summation order shows in the bits.
    fn rough(rows: usize, cols: usize, seed: u32) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            let index = (i * cols + j) as u32;
            (index.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) % 10_007
        })
        .mapv(|v| v as f32 / 97.3 - 51.0)
    }

    /// The definition: one chain per element, from `start` (or 0), in increasing `k`.
    fn by_definition(x: &Array2<f32>, y: &Array2<f32>, start: Option<&Array1<f32>>) -> Array2<f32> {
        Array2::from_shape_fn((x.nrows(), y.ncols()), |(i, j)| {
            let mut sum = start.map_or(0.0, |start| start[j]);
            for k in 0..x.ncols() {
                sum += x[[i, k]] * y[[k, j]];
            }
            sum
        })
    }

    fn bits(values: &Array2<f32>) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    const SHAPES: [(usize, usize, usize); 17] = [
        (1, 1, 1),
        (10, 2, 8),
        (10, 8, 1),
        (7, 9, 5),
        (3, 4, 17),
        (64, 32, 32),
        (13, 31, 29),
        (5, 3, 45),
        (40, 30, 20),
        (9, 1, 33),
        (250, 8, 8),
        (33, 64, 3),
        (70, 17, 64),
        (12, 40, 100),
        (6, 5, 50),
        (64, 32, 1),
        (70, 13, 1),
    ];

    /// The three products of one shape on the current instruction set, against the definition.
    fn check_shape<T: Real>(
        to_t: impl Fn(&Array2<f32>) -> Array2<T>,
        batch: usize,
        n_in: usize,
        n_out: usize,
        seed: u32,
    ) {
        let bits = |values: &Array2<T>| values.iter().map(|v| v.as_f64().to_bits()).collect::<Vec<_>>();
        let definition = |x: &Array2<T>, y: &Array2<T>, start: Option<&Array1<T>>| {
            Array2::from_shape_fn((x.nrows(), y.ncols()), |(i, j)| {
                let mut sum = start.map_or_else(T::zero, |start| start[j]);
                for k in 0..x.ncols() {
                    sum += x[[i, k]] * y[[k, j]];
                }
                sum
            })
        };
        let kernels = Kernels::current().name();
        let shape = format!("{batch}x{n_in}x{n_out} on {kernels}");
        let (a, w) = (to_t(&rough(batch, n_in, seed)), to_t(&rough(n_in, n_out, seed + 1)));
        let b = to_t(&rough(1, n_out, seed + 2)).row(0).to_owned();
        let mut out = Array2::zeros((batch, n_out));
        affine(a.view(), w.view(), b.view(), out.view_mut(), Finish::Store, Numerics::Portable);
        let z = definition(&a, &w, Some(&b));
        assert_eq!(bits(&out), bits(&z), "affine {shape}");
        // ReLU as they are stored: the same pre-activations, and ReLU of them.
        let (mut fused_z, mut fused_a) = (Array2::zeros((batch, n_out)), Array2::zeros((batch, n_out)));
        let activations = fused_a.as_slice_mut().expect("standard layout");
        affine(a.view(), w.view(), b.view(), fused_z.view_mut(), Finish::Relu(activations), Numerics::Portable);
        assert_eq!(bits(&fused_z), bits(&z), "affine then ReLU, pre-activations {shape}");
        let relu_of_z = z.mapv(|v| if v <= T::zero() { T::zero() } else { v });
        assert_eq!(bits(&fused_a), bits(&relu_of_z), "affine then ReLU, activations {shape}");

        let d = to_t(&rough(batch, n_out, seed + 3));
        let mut grad = Array2::zeros((n_in, n_out));
        transposed_times(a.view(), d.view(), grad.view_mut(), Numerics::Portable);
        assert_eq!(bits(&grad), bits(&definition(&a.t().to_owned(), &d, None)), "aᵀ·b {shape}");

        let mut back = Array2::zeros((batch, n_in));
        let mut scratch = Vec::new();
        times_transposed(d.view(), w.view(), back.view_mut(), Finish::Store, &mut scratch, Numerics::Portable);
        let back_by_definition = definition(&d, &w.t().to_owned(), None);
        assert_eq!(bits(&back), bits(&back_by_definition), "a·bᵀ {shape}");
        // ReLU's derivative as they are stored, at pre-activations with a -0, a 0 and a NaN.
        let mut z_below = to_t(&rough(batch, n_in, seed + 4));
        let specials = [-0.0, 0.0, f64::NAN].map(T::of);
        for (slot, special) in z_below.iter_mut().step_by(7).zip(specials) {
            *slot = special;
        }
        let pre_activations = z_below.as_slice().expect("standard layout");
        let finish = Finish::ReluSlope(pre_activations);
        times_transposed(d.view(), w.view(), back.view_mut(), finish, &mut scratch, Numerics::Portable);
        let mut masked = back_by_definition;
        masked.zip_mut_with(&z_below, |d, &z| *d = if z > T::zero() { *d } else { T::zero() });
        assert_eq!(bits(&back), bits(&masked), "a·bᵀ then ReLU's derivative {shape}");
        // And the column sums of that, as they are stored.
        let mut fused_sums = Array1::from_elem(n_in, T::of(7.0));
        let fused_slice = fused_sums.as_slice_mut().expect("standard layout");
        let finish = Finish::ReluSlopeSums(pre_activations, fused_slice);
        back.fill(T::of(3.0));
        times_transposed(d.view(), w.view(), back.view_mut(), finish, &mut scratch, Numerics::Portable);
        assert_eq!(bits(&back), bits(&masked), "a·bᵀ then ReLU's derivative, with sums {shape}");
        let masked_sums = masked.rows().into_iter().fold(Array1::zeros(n_in), |mut sums: Array1<T>, row| {
            sums.iter_mut().zip(row).for_each(|(sum, &value)| *sum += value);
            sums
        });
        let sum_bits = |sums: &Array1<T>| sums.iter().map(|v| v.as_f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(sum_bits(&fused_sums), sum_bits(&masked_sums), "column sums as stored {shape}");

        let mut sums = Array1::zeros(n_out);
        column_sums(d.view(), &mut sums);
        let by_rows = d.rows().into_iter().fold(Array1::zeros(n_out), |mut sums: Array1<T>, row| {
            sums.iter_mut().zip(row).for_each(|(sum, &value)| *sum += value);
            sums
        });
        assert_eq!(sums.map(|v| v.as_f64().to_bits()), by_rows.map(|v| v.as_f64().to_bits()), "column sums {shape}");
    }

    #[test]
    fn portable_kernels_give_the_bits_of_the_definition_at_every_shape_on_every_instruction_set() {
        let available = Kernels::available();
        assert!(available.contains(&Kernels::detected()) && available.contains(&Kernels::Baseline));
        for kernels in available {
            let checked = with_kernels(kernels, || {
                assert_eq!(Kernels::current(), kernels);
                for (seed, &(batch, n_in, n_out)) in SHAPES.iter().enumerate() {
                    let seed = seed as u32 * 3;
                    check_shape(Clone::clone, batch, n_in, n_out, seed);
                    check_shape(|values| values.mapv(f64::from), batch, n_in, n_out, seed);
                }
            });
            assert!(checked.is_some(), "{kernels:?} is available");
        }
    }

    #[test]
    fn kernels_are_forced_on_the_calling_thread_only_and_restored() {
        let detected = Kernels::detected();
        assert_eq!(Kernels::current(), detected);
        let inside = with_kernels(Kernels::Baseline, || {
            let other_thread = std::thread::scope(|scope| scope.spawn(Kernels::current).join());
            (Kernels::current(), other_thread.ok())
        });
        assert_eq!(inside, Some((Kernels::Baseline, Some(detected))));
        assert_eq!(Kernels::current(), detected);
        for kernels in Kernels::ALL {
            assert_eq!(with_kernels(kernels, || ()).is_some(), kernels.is_available(), "{kernels:?}");
        }
    }

    #[test]
    fn views_that_are_not_contiguous_give_the_same_bits() {
        let (a, w) = (rough(12, 9, 1), rough(5, 9, 2));
        let b = Array1::from_shape_fn(5, |j| j as f32 * 0.37);
        // `w.t()` is a [9, 5] view in column-major order: not a slice.
        let mut out = Array2::zeros((12, 5));
        affine(a.view(), w.t(), b.view(), out.view_mut(), Finish::Store, Numerics::Portable);
        let w_t = w.t().to_owned();
        assert_eq!(bits(&out), bits(&by_definition(&a, &w_t, Some(&b))));
    }

    #[test]
    fn fast_numerics_agree_with_the_portable_ones_to_rounding() {
        for &(batch, n_in, n_out) in &[(40, 30, 20), (64, 32, 32), (128, 64, 64)] {
            let (a, w) = (rough(batch, n_in, 5), rough(n_in, n_out, 6));
            let b = Array1::zeros(n_out);
            let (mut portable, mut fast) = (Array2::zeros((batch, n_out)), Array2::zeros((batch, n_out)));
            affine(a.view(), w.view(), b.view(), portable.view_mut(), Finish::Store, Numerics::Portable);
            affine(a.view(), w.view(), b.view(), fast.view_mut(), Finish::Store, Numerics::Fast);
            let scale = portable.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            assert!((&portable - &fast).iter().all(|d| d.abs() <= 1e-4 * scale), "{batch}x{n_in}x{n_out}");
        }
    }
}

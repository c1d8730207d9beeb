//! The three matrix products a dense layer needs, without allocating.
//!
//! # One order of summation, whatever the machine
//!
//! Every output element is one chain of additions: it starts at its first value (the bias, or
//! 0) and adds the products `x(i, k) * y(k, j)` one at a time in increasing `k`, each product
//! rounded before it is added (Rust never fuses a multiply and an add into an FMA, and never
//! reorders a floating-point sum). That is the whole definition of the result, so any code that
//! computes each element as that chain gives the same bits: the kernels below keep a block of
//! `R` rows by `C` columns of such chains in registers and advance them together, one `k` at a
//! time. The compiler turns the `C` columns of a block into vector instructions of whatever
//! width the target has (SSE, AVX2, AVX-512, NEON, wasm SIMD or none); that decides how many
//! chains move per instruction, never the order inside a chain. The blocks are fixed sizes
//! (`C` of 16, 8, 4 or 1 columns, `R` of 4 or 1 rows), and no result depends on which block
//! computed it: a test checks every kernel against the plain triple loop, bit for bit, at many
//! shapes.
//!
//! # Fast numerics
//!
//! Under [`Numerics::Fast`] the products of large layers (more than [`SMALL_PRODUCT_WORK`]
//! multiply-adds) go to `ndarray`'s `general_mat_mul` instead: the `matrixmultiply` kernels,
//! which use FMA of the CPU's vector width, chosen at run time, and sum in blocks of their own.
//! Faster on a wide CPU, but not the same bits on another one. Small products run the chains
//! under either setting.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};

use super::Real;
use super::numerics::Numerics;

/// Above this many multiply-adds a product goes to the blocked kernels under fast numerics.
const SMALL_PRODUCT_WORK: usize = 24 * 24 * 24;

/// Whether a product of this size goes to `matrixmultiply`.
fn uses_matrixmultiply(numerics: Numerics, m: usize, k: usize, n: usize) -> bool {
    numerics == Numerics::Fast && m * k * n > SMALL_PRODUCT_WORK
}

/// The left operand of a product as the chains read it: element `(i, k)` is
/// `data[i * row_stride + k * k_stride]`, with either `k_stride == 1` (rows contiguous: the
/// inputs or deltas themselves) or `row_stride == 1` (columns contiguous: a transposed view).
#[derive(Clone, Copy)]
struct Left<'a, T> {
    data: &'a [T],
    row_stride: usize,
    k_stride: usize,
}

/// `c[i][j] = start[j] + Σ_k x(i, k) · y[k][j]`, each element one chain in increasing `k`
/// (from 0 when `start` is `None`).
///
/// # Shapes
/// `x` has `rows` rows and `depth` columns; `y: [depth, n]` row-major; `start: [n]`;
/// `c: [rows, n]` row-major.
fn chains<T: Real>(x: Left<'_, T>, rows: usize, depth: usize, y: &[T], start: Option<&[T]>, c: &mut [T]) {
    let n = c.len().checked_div(rows).unwrap_or(0);
    let mut j = 0;
    while j < n {
        let width = match n - j {
            left if left >= 8 => 8,
            left if left >= 4 => 4,
            _ => 1,
        };
        let mut i = 0;
        while i + 4 <= rows {
            column_block::<T, 4>(x, i, depth, y, n, j, width, start, c);
            i += 4;
        }
        while i < rows {
            column_block::<T, 1>(x, i, depth, y, n, j, width, start, c);
            i += 1;
        }
        j += width;
    }
}

/// Calls [`block`] with the column count `width` as a constant.
#[expect(clippy::too_many_arguments, reason = "the block's coordinates, kept explicit in the hot loop")]
#[inline]
fn column_block<T: Real, const R: usize>(
    x: Left<'_, T>,
    i: usize,
    depth: usize,
    y: &[T],
    n: usize,
    j: usize,
    width: usize,
    start: Option<&[T]>,
    c: &mut [T],
) {
    match width {
        16 => block::<T, R, 16>(x, i, depth, y, n, j, start, c),
        8 => block::<T, R, 8>(x, i, depth, y, n, j, start, c),
        4 => block::<T, R, 4>(x, i, depth, y, n, j, start, c),
        _ => block::<T, R, 1>(x, i, depth, y, n, j, start, c),
    }
}

/// `R` rows by `C` columns of chains, from row `i` and column `j`, advanced together one `k` at
/// a time.
#[expect(clippy::too_many_arguments, reason = "the block's coordinates, kept explicit in the hot loop")]
#[expect(clippy::inline_always, reason = "inlined into its caller's match, each block is one constant shape")]
#[inline(always)]
fn block<T: Real, const R: usize, const C: usize>(
    x: Left<'_, T>,
    i: usize,
    depth: usize,
    y: &[T],
    n: usize,
    j: usize,
    start: Option<&[T]>,
    c: &mut [T],
) {
    let mut sums = [[T::zero(); C]; R];
    if let Some(start) = start {
        for row in &mut sums {
            row.copy_from_slice(&start[j..j + C]);
        }
    }
    let y_rows = y.chunks_exact(n).take(depth).map(|row| &row[j..j + C]);
    if x.k_stride == 1 {
        // Each row of x is contiguous: take R slices of `depth` values.
        let x_rows: [&[T]; R] = std::array::from_fn(|r| &x.data[(i + r) * x.row_stride..][..depth]);
        for (k, y_row) in y_rows.enumerate() {
            let Ok(y_row) = <&[T; C]>::try_from(y_row) else { unreachable!("C columns") };
            for (row, x_row) in sums.iter_mut().zip(&x_rows) {
                let x_value = x_row[k];
                for (sum, &y_value) in row.iter_mut().zip(y_row) {
                    *sum += x_value * y_value;
                }
            }
        }
    } else {
        // Each column of x is contiguous (x is a transposed view): take R values per `k`.
        for (k, y_row) in y_rows.enumerate() {
            let Ok(y_row) = <&[T; C]>::try_from(y_row) else { unreachable!("C columns") };
            let Ok(x_values) = <&[T; R]>::try_from(&x.data[k * x.k_stride + i * x.row_stride..][..R]) else {
                unreachable!("R rows")
            };
            for (row, &x_value) in sums.iter_mut().zip(x_values) {
                for (sum, &y_value) in row.iter_mut().zip(y_row) {
                    *sum += x_value * y_value;
                }
            }
        }
    }
    for (r, row) in sums.iter().enumerate() {
        c[(i + r) * n + j..(i + r) * n + j + C].copy_from_slice(row);
    }
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

/// `out = inputs · weights + biases` (a dense layer's pre-activations).
///
/// # Shapes
/// `inputs: [batch, n_in]`, `weights: [n_in, n_out]`, `biases: [n_out]`, `out: [batch, n_out]`.
pub(crate) fn affine<T: Real>(
    inputs: ArrayView2<T>,
    weights: ArrayView2<T>,
    biases: ArrayView1<T>,
    mut out: ArrayViewMut2<T>,
    numerics: Numerics,
) {
    let (batch, n_in) = inputs.dim();
    let n_out = weights.ncols();
    if uses_matrixmultiply(numerics, batch, n_in, n_out) {
        out.assign(&biases.broadcast((batch, n_out)).unwrap_or_else(|| unreachable!()));
        general_mat_mul(T::one(), &inputs, &weights, T::one(), &mut out);
        return;
    }
    if let (Some(a), Some(w), Some(b)) = (inputs.as_slice(), weights.as_slice(), biases.as_slice())
        && let Some(c) = out.as_slice_mut()
    {
        chains(Left { data: a, row_stride: n_in, k_stride: 1 }, batch, n_in, w, Some(b), c);
    } else {
        chains_indexed(inputs, weights, Some(biases), out);
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
        chains(Left { data: a, row_stride: 1, k_stride: m }, m, batch, b, None, c);
    } else {
        chains_indexed(a.t(), b, None, out);
    }
}

/// `out = a · bᵀ` (the gradient flowing back: deltas times weights transposed). The chains
/// read `bᵀ` row by row, so `b` is first copied transposed into `scratch`.
///
/// # Shapes
/// `a: [batch, k]`, `b: [n, k]`, `out: [batch, n]`.
pub(crate) fn times_transposed<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut out: ArrayViewMut2<T>,
    scratch: &mut Vec<T>,
    numerics: Numerics,
) {
    let (batch, k) = a.dim();
    let n = b.nrows();
    if uses_matrixmultiply(numerics, batch, k, n) {
        general_mat_mul(T::one(), &a, &b.t(), T::zero(), &mut out);
        return;
    }
    if let Some(a_values) = a.as_slice()
        && let Some(c) = out.as_slice_mut()
    {
        scratch.clear();
        scratch.extend(b.t().iter().copied());
        chains(Left { data: a_values, row_stride: k, k_stride: 1 }, batch, k, scratch, None, c);
    } else {
        chains_indexed(a, b.t(), None, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    const SHAPES: [(usize, usize, usize); 12] = [
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
    ];

    #[test]
    fn portable_kernels_give_the_bits_of_the_definition_at_every_shape() {
        for (seed, &(batch, n_in, n_out)) in SHAPES.iter().enumerate() {
            let seed = seed as u32 * 3;
            let (a, w, b) = (rough(batch, n_in, seed), rough(n_in, n_out, seed + 1), rough(1, n_out, seed + 2));
            let b = b.row(0).to_owned();
            let mut out = Array2::zeros((batch, n_out));
            affine(a.view(), w.view(), b.view(), out.view_mut(), Numerics::Portable);
            assert_eq!(bits(&out), bits(&by_definition(&a, &w, Some(&b))), "affine {batch}x{n_in}x{n_out}");

            let d = rough(batch, n_out, seed + 3);
            let mut grad = Array2::zeros((n_in, n_out));
            transposed_times(a.view(), d.view(), grad.view_mut(), Numerics::Portable);
            let a_t = a.t().to_owned();
            assert_eq!(bits(&grad), bits(&by_definition(&a_t, &d, None)), "aᵀ·b {batch}x{n_in}x{n_out}");

            let mut back = Array2::zeros((batch, n_in));
            let mut scratch = Vec::new();
            times_transposed(d.view(), w.view(), back.view_mut(), &mut scratch, Numerics::Portable);
            let w_t = w.t().to_owned();
            assert_eq!(bits(&back), bits(&by_definition(&d, &w_t, None)), "a·bᵀ {batch}x{n_in}x{n_out}");
        }
    }

    #[test]
    fn views_that_are_not_contiguous_give_the_same_bits() {
        let (a, w) = (rough(12, 9, 1), rough(5, 9, 2));
        let b = Array1::from_shape_fn(5, |j| j as f32 * 0.37);
        // `w.t()` is a [9, 5] view in column-major order: not a slice.
        let mut out = Array2::zeros((12, 5));
        affine(a.view(), w.t(), b.view(), out.view_mut(), Numerics::Portable);
        let w_t = w.t().to_owned();
        assert_eq!(bits(&out), bits(&by_definition(&a, &w_t, Some(&b))));
    }

    #[test]
    fn fast_numerics_agree_with_the_portable_ones_to_rounding() {
        for &(batch, n_in, n_out) in &[(40, 30, 20), (64, 32, 32), (128, 64, 64)] {
            let (a, w) = (rough(batch, n_in, 5), rough(n_in, n_out, 6));
            let b = Array1::zeros(n_out);
            let (mut portable, mut fast) = (Array2::zeros((batch, n_out)), Array2::zeros((batch, n_out)));
            affine(a.view(), w.view(), b.view(), portable.view_mut(), Numerics::Portable);
            affine(a.view(), w.view(), b.view(), fast.view_mut(), Numerics::Fast);
            let scale = portable.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            assert!((&portable - &fast).iter().all(|d| d.abs() <= 1e-4 * scale), "{batch}x{n_in}x{n_out}");
        }
    }
}

//! The three matrix products a dense layer needs, without allocating.
//!
//! Small products (the nets a lesson uses) run on plain slices, where the fixed cost of a
//! general matrix multiply would dominate; large ones go to `ndarray`'s `general_mat_mul`
//! (the `matrixmultiply` kernels, with their AVX-512 path where the CPU has it). Every path sums
//! in a fixed order, so results are repeatable.
//!
//! The small paths come in fixed widths: when the width a loop runs over is one the lessons use
//! (1, 2, 3, 4, 8, 16 or 32), it is a compile-time constant (`const N`), so the compiler keeps
//! a row in registers and unrolls it. Each output element is still summed in exactly the same
//! order as the plain loops, so the fixed and the plain paths give the same bits (a test checks
//! it for every width).

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};

use super::Real;

/// Above this many multiply-adds a product goes to the blocked kernels.
const SMALL_PRODUCT_WORK: usize = 24 * 24 * 24;

fn is_small(m: usize, k: usize, n: usize) -> bool {
    m * k * n <= SMALL_PRODUCT_WORK
}

/// Calls `$kernel::<T, N>(args...)` with `N` the constant equal to `$width` when it is one of
/// the fixed widths, and `$plain(args...)` otherwise.
macro_rules! dispatch_width {
    ($width:expr, $kernel:ident, $plain:ident, ($($arg:expr),*)) => {
        match $width {
            1 => $kernel::<T, 1>($($arg),*),
            2 => $kernel::<T, 2>($($arg),*),
            3 => $kernel::<T, 3>($($arg),*),
            4 => $kernel::<T, 4>($($arg),*),
            8 => $kernel::<T, 8>($($arg),*),
            16 => $kernel::<T, 16>($($arg),*),
            32 => $kernel::<T, 32>($($arg),*),
            _ => $plain($($arg),*),
        }
    };
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
) {
    let (batch, n_in) = inputs.dim();
    let n_out = weights.ncols();
    if is_small(batch, n_in, n_out)
        && let (Some(a), Some(w), Some(b)) = (inputs.as_slice(), weights.as_slice(), biases.as_slice())
        && let Some(c) = out.as_slice_mut()
    {
        if n_out == 1 {
            // One neuron: its weights are contiguous, so each row is one dot product (no chain of
            // dependent additions into the same output).
            for (a_row, c_value) in a.chunks_exact(n_in).zip(c.iter_mut()) {
                *c_value = b[0] + dot(a_row, w);
            }
            return;
        }
        dispatch_width!(n_out, affine_fixed, affine_plain, (a, w, b, c, n_in));
        return;
    }
    out.assign(&biases.broadcast((batch, n_out)).unwrap_or_else(|| unreachable!()));
    general_mat_mul(T::one(), &inputs, &weights, T::one(), &mut out);
}

/// The small affine product: each output row starts at the biases and adds `a[i] * w[i]` for
/// `i` in order.
fn affine_plain<T: Real>(a: &[T], w: &[T], b: &[T], c: &mut [T], n_in: usize) {
    let n_out = b.len();
    for (a_row, c_row) in a.chunks_exact(n_in).zip(c.chunks_exact_mut(n_out)) {
        c_row.copy_from_slice(b);
        for (&a_value, w_row) in a_row.iter().zip(w.chunks_exact(n_out)) {
            axpy(a_value, w_row, c_row);
        }
    }
}

/// [`affine_plain`] for `n_out == N`: the output row is kept in registers.
fn affine_fixed<T: Real, const N: usize>(a: &[T], w: &[T], b: &[T], c: &mut [T], n_in: usize) {
    let Ok(&biases) = <&[T; N]>::try_from(b) else { return affine_plain(a, w, b, c, n_in) };
    for (a_row, c_row) in a.chunks_exact(n_in).zip(c.chunks_exact_mut(N)) {
        let mut sums = biases;
        for (&a_value, w_row) in a_row.iter().zip(w.chunks_exact(N)) {
            for (sum, &w_value) in sums.iter_mut().zip(w_row) {
                *sum += a_value * w_value;
            }
        }
        c_row.copy_from_slice(&sums);
    }
}

/// `out = aᵀ · b` (the weight gradient: inputs transposed times deltas).
///
/// # Shapes
/// `a: [batch, m]`, `b: [batch, n]`, `out: [m, n]`.
pub(crate) fn transposed_times<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, mut out: ArrayViewMut2<T>) {
    let (batch, m) = a.dim();
    let n = b.ncols();
    if is_small(batch, m, n)
        && let (Some(a), Some(b)) = (a.as_slice(), b.as_slice())
        && let Some(c) = out.as_slice_mut()
    {
        dispatch_width!(n, transposed_times_fixed, transposed_times_plain, (a, b, c, m));
        return;
    }
    general_mat_mul(T::one(), &a.t(), &b, T::zero(), &mut out);
}

/// The small `aᵀ · b`: every output element starts at 0 and adds one product per batch row,
/// in row order.
fn transposed_times_plain<T: Real>(a: &[T], b: &[T], c: &mut [T], m: usize) {
    let n = c.len() / m.max(1);
    c.fill(T::zero());
    for (a_row, b_row) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
        for (&a_value, c_row) in a_row.iter().zip(c.chunks_exact_mut(n)) {
            axpy(a_value, b_row, c_row);
        }
    }
}

/// [`transposed_times_plain`] for `n == N`: one output row at a time, kept in registers while
/// the batch rows are added in the same order.
fn transposed_times_fixed<T: Real, const N: usize>(a: &[T], b: &[T], c: &mut [T], m: usize) {
    for (i, c_row) in c.chunks_exact_mut(N).enumerate() {
        let mut sums = [T::zero(); N];
        for (a_row, b_row) in a.chunks_exact(m).zip(b.chunks_exact(N)) {
            let a_value = a_row[i];
            for (sum, &b_value) in sums.iter_mut().zip(b_row) {
                *sum += a_value * b_value;
            }
        }
        c_row.copy_from_slice(&sums);
    }
}

/// `out = a · bᵀ` (the gradient flowing back: deltas times weights transposed).
///
/// # Shapes
/// `a: [batch, k]`, `b: [n, k]`, `out: [batch, n]`.
pub(crate) fn times_transposed<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, mut out: ArrayViewMut2<T>) {
    let (batch, k) = a.dim();
    let n = b.nrows();
    if is_small(batch, k, n)
        && let (Some(a), Some(b)) = (a.as_slice(), b.as_slice())
        && let Some(c) = out.as_slice_mut()
    {
        if k == 1 {
            // An outer product: `dot` of length one is `0 + a * b`, written as such so the
            // loop over the row vectorizes.
            for (&a_value, c_row) in a.iter().zip(c.chunks_exact_mut(n)) {
                for (c_value, &b_value) in c_row.iter_mut().zip(b) {
                    *c_value = T::zero() + a_value * b_value;
                }
            }
            return;
        }
        dispatch_width!(k, times_transposed_fixed, times_transposed_plain, (a, b, c, n));
        return;
    }
    general_mat_mul(T::one(), &a, &b.t(), T::zero(), &mut out);
}

/// The small `a · bᵀ`: each output element is one [`dot`] product.
fn times_transposed_plain<T: Real>(a: &[T], b: &[T], c: &mut [T], n: usize) {
    let k = b.len() / n.max(1);
    for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
        for (c_value, b_row) in c_row.iter_mut().zip(b.chunks_exact(k)) {
            *c_value = dot(a_row, b_row);
        }
    }
}

/// [`times_transposed_plain`] for `k == N`: the dot products have a compile-time length.
fn times_transposed_fixed<T: Real, const N: usize>(a: &[T], b: &[T], c: &mut [T], n: usize) {
    for (a_row, c_row) in a.chunks_exact(N).zip(c.chunks_exact_mut(n)) {
        let Ok(a_row) = <&[T; N]>::try_from(a_row) else { continue };
        for (c_value, b_row) in c_row.iter_mut().zip(b.chunks_exact(N)) {
            let Ok(b_row) = <&[T; N]>::try_from(b_row) else { continue };
            *c_value = dot_fixed(a_row, b_row);
        }
    }
}

/// `y += alpha * x`.
#[inline]
fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    for (y_value, &x_value) in y.iter_mut().zip(x) {
        *y_value += alpha * x_value;
    }
}

/// A dot product with four accumulators (a fixed order, so repeatable): lane `l` sums the
/// products at `l, l + 4, l + 8, ...`; then `(lane 0 + lane 1) + (lane 2 + lane 3)`; then the
/// products past the last multiple of four, in order.
#[inline]
fn dot<T: Real>(x: &[T], y: &[T]) -> T {
    let mut sums = [T::zero(); 4];
    let x_chunks = x.chunks_exact(4);
    let y_chunks = y.chunks_exact(4);
    let (x_rest, y_rest) = (x_chunks.remainder(), y_chunks.remainder());
    for (xs, ys) in x_chunks.zip(y_chunks) {
        for lane in 0..4 {
            sums[lane] += xs[lane] * ys[lane];
        }
    }
    let mut total = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    for (&a, &b) in x_rest.iter().zip(y_rest) {
        total += a * b;
    }
    total
}

/// [`dot`] for a length known at compile time, in the same order.
#[inline]
fn dot_fixed<T: Real, const N: usize>(x: &[T; N], y: &[T; N]) -> T {
    let mut sums = [T::zero(); 4];
    let whole = N / 4 * 4;
    for start in (0..whole).step_by(4) {
        for lane in 0..4 {
            sums[lane] += x[start + lane] * y[start + lane];
        }
    }
    let mut total = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    for index in whole..N {
        total += x[index] * y[index];
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    /// The element type `dispatch_width!` instantiates the kernels with.
    type T = f32;

    fn filled(rows: usize, cols: usize, seed: f64) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| ((i * cols + j) as f64 * seed).sin())
    }

    #[test]
    fn small_and_blocked_paths_agree() {
        for &(batch, n_in, n_out) in &[(3, 2, 5), (40, 30, 20), (7, 9, 1), (10, 8, 8), (6, 16, 3)] {
            let a = filled(batch, n_in, 0.37);
            let w = filled(n_in, n_out, 0.11);
            let b = Array1::from_shape_fn(n_out, |j| j as f64 * 0.1);
            let mut out = Array2::zeros((batch, n_out));
            affine(a.view(), w.view(), b.view(), out.view_mut());
            let expected = a.dot(&w) + &b;
            assert!((&out - &expected).iter().all(|d| d.abs() < 1e-12));

            let d = filled(batch, n_out, 0.23);
            let mut grad = Array2::zeros((n_in, n_out));
            transposed_times(a.view(), d.view(), grad.view_mut());
            assert!((&grad - &a.t().dot(&d)).iter().all(|v| v.abs() < 1e-12));

            let mut back = Array2::zeros((batch, n_in));
            times_transposed(d.view(), w.view(), back.view_mut());
            assert!((&back - &d.dot(&w.t())).iter().all(|v| v.abs() < 1e-12));
        }
    }

    /// Values whose products and sums round differently in every order, so that a change of
    /// summation order shows in the bits.
    fn rough(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 10_007)
            .map(|v| v as f32 / 97.3 - 51.0)
            .collect()
    }

    #[test]
    fn fixed_widths_give_the_same_bits_as_the_plain_loops() {
        let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for width in [1, 2, 3, 4, 8, 16, 32] {
            for other in [1, 5, 8, 13] {
                let batch = 7;
                // affine with n_out = width, n_in = other.
                let (a, w, b) = (rough(batch * other, 1), rough(other * width, 2), rough(width, 3));
                let (mut plain, mut fixed) = (vec![0.0; batch * width], vec![0.0; batch * width]);
                affine_plain(&a, &w, &b, &mut plain, other);
                dispatch_width!(width, affine_fixed, affine_plain, (&a, &w, &b, &mut fixed, other));
                assert_eq!(bits(&plain), bits(&fixed), "affine, width {width}, inputs {other}");
                // aᵀ · b with n = width, m = other.
                let (a, d) = (rough(batch * other, 4), rough(batch * width, 5));
                let (mut plain, mut fixed) = (vec![0.0; other * width], vec![0.0; other * width]);
                transposed_times_plain(&a, &d, &mut plain, other);
                dispatch_width!(width, transposed_times_fixed, transposed_times_plain, (&a, &d, &mut fixed, other));
                assert_eq!(bits(&plain), bits(&fixed), "aᵀ·b, width {width}, m {other}");
                // a · bᵀ with k = width, n = other.
                let (a, w) = (rough(batch * width, 6), rough(other * width, 7));
                let (mut plain, mut fixed) = (vec![0.0; batch * other], vec![0.0; batch * other]);
                times_transposed_plain(&a, &w, &mut plain, other);
                dispatch_width!(width, times_transposed_fixed, times_transposed_plain, (&a, &w, &mut fixed, other));
                assert_eq!(bits(&plain), bits(&fixed), "a·bᵀ, width {width}, n {other}");
            }
        }
    }
}

//! The three matrix products a dense layer needs, without allocating.
//!
//! Small products (the nets a lesson uses) run on plain slices, where the fixed cost of a
//! general matrix multiply would dominate; large ones go to `ndarray`'s `general_mat_mul`
//! (the `matrixmultiply` kernels). Both paths sum in a fixed order, so results are repeatable.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};

use super::Real;

/// Above this many multiply-adds a product goes to the blocked kernels.
const SMALL_PRODUCT_WORK: usize = 24 * 24 * 24;

fn is_small(m: usize, k: usize, n: usize) -> bool {
    m * k * n <= SMALL_PRODUCT_WORK
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
        for (a_row, c_row) in a.chunks_exact(n_in).zip(c.chunks_exact_mut(n_out)) {
            c_row.copy_from_slice(b);
            for (&a_value, w_row) in a_row.iter().zip(w.chunks_exact(n_out)) {
                axpy(a_value, w_row, c_row);
            }
        }
        return;
    }
    out.assign(&biases.broadcast((batch, n_out)).unwrap_or_else(|| unreachable!()));
    general_mat_mul(T::one(), &inputs, &weights, T::one(), &mut out);
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
        c.fill(T::zero());
        for (a_row, b_row) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
            for (&a_value, c_row) in a_row.iter().zip(c.chunks_exact_mut(n)) {
                axpy(a_value, b_row, c_row);
            }
        }
        return;
    }
    general_mat_mul(T::one(), &a.t(), &b, T::zero(), &mut out);
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
        for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
            for (c_value, b_row) in c_row.iter_mut().zip(b.chunks_exact(k)) {
                *c_value = dot(a_row, b_row);
            }
        }
        return;
    }
    general_mat_mul(T::one(), &a, &b.t(), T::zero(), &mut out);
}

/// `y += alpha * x`.
#[inline]
fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    for (y_value, &x_value) in y.iter_mut().zip(x) {
        *y_value += alpha * x_value;
    }
}

/// A dot product with four accumulators (a fixed order, so repeatable).
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    fn filled(rows: usize, cols: usize, seed: f64) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| ((i * cols + j) as f64 * seed).sin())
    }

    #[test]
    fn small_and_blocked_paths_agree() {
        for &(batch, n_in, n_out) in &[(3, 2, 5), (40, 30, 20), (7, 9, 1)] {
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
}

//! The chains as generic loops: what every matrix product of `super::kernels` runs where no
//! hand-written vector kernel does (the baseline build, aarch64, wasm32, `f64`, one-column
//! products), generic over the block shape; and the bias gradient's column sums, which
//! `super::dispatch` also compiles for AVX2 and AVX-512F.
//!
//! A product here is `c[i][j] = start[j] + Σ_k x(i, k) · y[k][j]`, every element one chain that
//! starts at `start[j]` (or 0) and adds the rounded products one at a time in increasing `k`.
//! The loops keep a block of `R` rows by `W` columns of such chains in registers and advance
//! them together, one `k` at a time; the compiler turns the `W` columns into vector
//! instructions of the width the surrounding function is compiled for. The block shape decides
//! how many chains move per instruction, never the order inside a chain, so every shape gives
//! the same bits (tested in `super::kernels` against the triple loop, on every instruction set
//! the machine has).
//!
//! Everything here is `#[inline(always)]`: it is compiled into the caller, and so with the
//! caller's instruction set (`super::dispatch`'s `#[target_feature]` wrappers).

use super::Real;

/// The left operand of a product as the chains read it: element `(i, k)` is
/// `data[i * row_stride + k * k_stride]`, with either `k_stride == 1` (rows contiguous: the
/// inputs or deltas themselves) or `row_stride == 1` (columns contiguous: a transposed view).
#[derive(Clone, Copy)]
pub(super) struct Left<'a, T> {
    /// The values.
    pub(super) data: &'a [T],
    /// The distance between rows.
    pub(super) row_stride: usize,
    /// The distance between columns.
    pub(super) k_stride: usize,
}

/// One product for the chains: `x` has `rows` rows and `depth` columns, `y: [depth, n]`
/// row-major, `start: [n]` (or every chain starts at 0); the result `c: [rows, n]` row-major.
#[derive(Clone, Copy)]
pub(super) struct Product<'a, T> {
    /// The left operand.
    pub(super) x: Left<'a, T>,
    /// Rows of `x` and of the result.
    pub(super) rows: usize,
    /// Columns of `x`, rows of `y`: the length of every chain.
    pub(super) depth: usize,
    /// The right operand, `[depth, n]` row-major.
    pub(super) y: &'a [T],
    /// The first value of every chain of column `j` (the biases), or `None` for 0.
    pub(super) start: Option<&'a [T]>,
}

/// What a product's results become as they are stored: themselves, or also ReLU of them, or
/// ReLU's derivative applied to them. The same element-wise operations as the separate loops
/// (`relu` and `relu_slope`), so the same bits.
pub(crate) enum Finish<'a, T> {
    /// `c` = the chains.
    Store,
    /// `c` = the chains, and these (the same shape) = ReLU of them.
    Relu(&'a mut [T]),
    /// `c` = the chains where these pre-activations (the same shape) are above 0, else 0.
    ReluSlope(&'a [T]),
    /// As [`Finish::ReluSlope`], and these (one per column) = the column sums of the result:
    /// each column one chain from 0 down the rows, as [`column_sums`] adds them (the bias
    /// gradient of the layer below, summed as its deltas are stored).
    ReluSlopeSums(&'a [T], &'a mut [T]),
}

impl<T: Real> Finish<'_, T> {
    /// Applies the finish to `c` (already holding the chains), in row-major order.
    pub(super) fn apply<'c>(self, c: impl IntoIterator<Item = &'c mut T>)
    where
        T: 'c,
    {
        match self {
            Self::Store => {}
            Self::Relu(activations) => {
                for (a, &mut z) in activations.iter_mut().zip(c) {
                    *a = relu(z);
                }
            }
            Self::ReluSlope(pre_activations) => {
                for (d, &z) in c.into_iter().zip(pre_activations) {
                    *d = relu_slope(z, *d);
                }
            }
            Self::ReluSlopeSums(pre_activations, sums) => {
                // Row by row, so that each column's chain adds its rows in order.
                let width = sums.len();
                sums.fill(T::zero());
                for (index, (d, &z)) in c.into_iter().zip(pre_activations).enumerate() {
                    *d = relu_slope(z, *d);
                    if let Some(sum) = sums.get_mut(index.checked_rem(width).unwrap_or(0)) {
                        *sum += *d;
                    }
                }
            }
        }
    }
}

/// ReLU: `z`, or 0 where `z <= 0` (`!(z <= 0)` keeps NaN, so a diverged neuron is not hidden as
/// a zero).
#[inline]
pub(crate) fn relu<T: Real>(z: T) -> T {
    if z <= T::zero() { T::zero() } else { z }
}

/// ReLU's derivative applied to the gradient `d` at pre-activation `z`: `d` where `z > 0`, else 0.
#[inline]
pub(crate) fn relu_slope<T: Real>(z: T, d: T) -> T {
    if z > T::zero() { d } else { T::zero() }
}

/// Computes `product` into `c` in blocks of up to `R` rows by `W` columns (`W` one of 32, 16,
/// 8 or 4; the last columns in narrower blocks down to 1, the last rows in blocks of 4 and 1).
#[expect(clippy::inline_always, reason = "compiled into each instruction set's wrapper")]
#[inline(always)]
pub(super) fn chains<T: Real, const R: usize, const W: usize>(product: &Product<'_, T>, c: &mut [T]) {
    let n = c.len().checked_div(product.rows).unwrap_or(0);
    let mut j = 0;
    while j < n {
        let left = n - j;
        // The widest block that fits; the branches wider than `W` are never taken, and vanish.
        j += if W >= 32 && left >= 32 {
            row_blocks::<T, R, 32>(product, n, j, c)
        } else if W >= 16 && left >= 16 {
            row_blocks::<T, R, 16>(product, n, j, c)
        } else if W >= 8 && left >= 8 {
            row_blocks::<T, R, 8>(product, n, j, c)
        } else if left >= 4 {
            row_blocks::<T, R, 4>(product, n, j, c)
        } else {
            row_blocks::<T, R, 1>(product, n, j, c)
        };
    }
}

/// Columns `j..j + C` of every row: blocks of `R` rows, then of 4, then single rows. Returns
/// `C`.
#[expect(clippy::inline_always, reason = "compiled into each instruction set's wrapper")]
#[inline(always)]
fn row_blocks<T: Real, const R: usize, const C: usize>(
    product: &Product<'_, T>,
    n: usize,
    j: usize,
    c: &mut [T],
) -> usize {
    let mut i = 0;
    while i + R <= product.rows {
        block::<T, R, C>(product, i, n, j, c);
        i += R;
    }
    while R > 4 && i + 4 <= product.rows {
        block::<T, 4, C>(product, i, n, j, c);
        i += 4;
    }
    while i < product.rows {
        block::<T, 1, C>(product, i, n, j, c);
        i += 1;
    }
    C
}

/// `R` rows by `C` columns of chains, from row `i` and column `j`, advanced together one `k` at
/// a time.
#[expect(clippy::inline_always, reason = "compiled into each instruction set's wrapper")]
#[inline(always)]
fn block<T: Real, const R: usize, const C: usize>(product: &Product<'_, T>, i: usize, n: usize, j: usize, c: &mut [T]) {
    let Product { x, depth, y, start, .. } = *product;
    let mut sums = [[T::zero(); C]; R];
    if let Some(start) = start {
        let Ok(start) = <&[T; C]>::try_from(&start[j..j + C]) else { unreachable!("C columns") };
        sums = [*start; R];
    }
    let y = &y[..depth * n];
    if x.k_stride == 1 {
        // Each row of x is contiguous: take R slices of `depth` values.
        let x_rows: [&[T]; R] = std::array::from_fn(|r| &x.data[(i + r) * x.row_stride..][..depth]);
        for k in 0..depth {
            let Ok(y_row) = <&[T; C]>::try_from(&y[k * n + j..][..C]) else { unreachable!("C columns") };
            for (row, x_row) in sums.iter_mut().zip(&x_rows) {
                let x_value = x_row[k];
                for (sum, &y_value) in row.iter_mut().zip(y_row) {
                    *sum += x_value * y_value;
                }
            }
        }
    } else {
        // Each column of x is contiguous (x is a transposed view): take R values per `k`.
        for k in 0..depth {
            let Ok(y_row) = <&[T; C]>::try_from(&y[k * n + j..][..C]) else { unreachable!("C columns") };
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
        c[(i + r) * n + j..][..C].copy_from_slice(row);
    }
}

/// `sums[j] = Σ_b values[b * width + j]`: each column one chain from 0 down the rows, `W`
/// columns at a time kept in registers (then 4, then 1).
#[expect(clippy::inline_always, reason = "compiled into each instruction set's wrapper")]
#[inline(always)]
pub(super) fn column_sums<T: Real, const W: usize>(values: &[T], sums: &mut [T]) {
    let width = sums.len();
    if width == 0 {
        return;
    }
    let mut j = 0;
    while j < width {
        let left = width - j;
        j += if W >= 32 && left >= 32 {
            column_block::<T, 32>(values, width, j, sums)
        } else if W >= 16 && left >= 16 {
            column_block::<T, 16>(values, width, j, sums)
        } else if W >= 8 && left >= 8 {
            column_block::<T, 8>(values, width, j, sums)
        } else if left >= 4 {
            column_block::<T, 4>(values, width, j, sums)
        } else {
            column_block::<T, 1>(values, width, j, sums)
        };
    }
}

/// Columns `j..j + C` of [`column_sums`]. Returns `C`.
#[expect(clippy::inline_always, reason = "compiled into each instruction set's wrapper")]
#[inline(always)]
fn column_block<T: Real, const C: usize>(values: &[T], width: usize, j: usize, sums: &mut [T]) -> usize {
    let mut block = [T::zero(); C];
    for row in values.chunks_exact(width) {
        let Ok(row) = <&[T; C]>::try_from(&row[j..j + C]) else { unreachable!("C columns") };
        for (sum, &value) in block.iter_mut().zip(row) {
            *sum += value;
        }
    }
    sums[j..j + C].copy_from_slice(&block);
    C
}

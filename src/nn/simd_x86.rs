//! The chains in `f32`, written with AVX2 instructions, on 16 registers or (with AVX-512F and
//! VL) 32 (x86-64 only).
//!
//! Left to the compiler, the wide blocks of `super::chains` come out as scalar code whose sums
//! live on the stack; written out with `std::arch`, a block of rows by columns keeps every chain
//! in a vector register. Each lane runs the chain of the definition: `sum = add(sum, mul(x,
//! y))`, a rounded multiplication then a rounded addition (two instructions, never an FMA:
//! nothing here asks LLVM to contract them, and it does not without fast-math flags), in
//! increasing `k`. A lane of AVX2 rounds as a scalar SSE2 instruction does, so the bits are
//! those of the triple loop; `super::kernels`' test compares them at many shapes.
//!
//! The last columns of a product that does not fill a vector are read and written through a
//! lane mask: the lanes outside it are neither loaded (no read past a slice) nor stored.

#![expect(
    unsafe_code,
    reason = "std::arch loads and stores through raw pointers, each index checked by `in_bounds` before the kernels run"
)]

use std::arch::x86_64::{
    __m256, __m256i, _CMP_GT_OQ, _CMP_LE_OQ, _mm256_add_ps, _mm256_and_ps, _mm256_andnot_ps, _mm256_cmp_ps,
    _mm256_cmpgt_epi32, _mm256_loadu_ps, _mm256_maskload_ps, _mm256_maskstore_ps, _mm256_mul_ps, _mm256_set1_epi32,
    _mm256_set1_ps, _mm256_setr_epi32, _mm256_setzero_ps, _mm256_storeu_ps,
};

use super::chains::Product;

/// What the results become as they are stored (`super::chains::Finish` as pointers to as
/// many values as `c` has, in the same layout).
#[derive(Clone, Copy)]
pub(super) enum Finish {
    /// `c` = the chains.
    Store,
    /// `c` = the chains, and these = ReLU of them.
    Relu(*mut f32),
    /// `c` = the chains where these pre-activations are above 0, else 0.
    ReluSlope(*const f32),
    /// As `ReluSlope`, and the second pointer's `n` values (one per column) = the column sums
    /// of the result, each column one chain from 0 down the rows in order.
    ReluSlopeSums(*const f32, *mut f32),
}

/// Whether every element the kernels touch for `product` and `c` is inside its slice: the
/// condition under which [`avx2::chains`] and [`avx512::chains`] are sound (with a [`Finish`]
/// whose pointers, if any, are to `c.len()` values apart from `c`, and for the column sums to
/// `n` values apart from both).
pub(super) fn in_bounds(product: &Product<'_, f32>, c: &[f32]) -> bool {
    let Product { x, rows, depth, y, start } = *product;
    let Some(n) = c.len().checked_div(rows) else { return c.is_empty() };
    let last_x = || (rows - 1).checked_mul(x.row_stride)?.checked_add((depth - 1).checked_mul(x.k_stride)?);
    c.len() == rows * n
        && depth.checked_mul(n).is_some_and(|len| len <= y.len())
        && start.is_none_or(|start| start.len() >= n)
        && (depth == 0 || last_x().is_some_and(|last| last < x.data.len()))
}

/// Generates one instruction set's kernels from its primitives (the module `isa` in scope:
/// `Vector`, `Mask`, `LANES`, `zero`, `splat`, `add`, `mul`, `mask`, `load`, `load_masked`,
/// `store`, `store_masked`), each function compiled with `$feature`.
macro_rules! chain_kernels {
    ($feature:literal, wide: $wide_rows:literal x $wide_vectors:literal, narrow_rows: $narrow_rows:literal) => {
        use super::{Finish, Product};
        use isa::{LANES, Mask, Vector};

        /// `product` into `c`: blocks of `$wide_rows` rows by two vectors of columns, then
        /// blocks of `$narrow_rows` rows (then 4, 2, 1) by one vector, the last one masked.
        ///
        /// # Safety
        /// The CPU has `$feature`, `super::in_bounds(product, c)`, and `finish` points to
        /// `c.len()` values apart from `c` (and its column sums to `n` values apart from both).
        #[target_feature(enable = $feature)]
        pub(in crate::nn) unsafe fn chains(product: &Product<'_, f32>, c: &mut [f32], finish: Finish) {
            let n = c.len().checked_div(product.rows).unwrap_or(0);
            let c = c.as_mut_ptr();
            let mut j = 0;
            // SAFETY (every call): the caller's bounds, and `j + width <= n`.
            while j + $wide_vectors * LANES <= n {
                unsafe { rows::<$wide_vectors, false, $wide_rows>(product, n, j, $wide_vectors * LANES, c, finish) };
                j += $wide_vectors * LANES;
            }
            while j + LANES <= n {
                unsafe { rows::<1, false, $narrow_rows>(product, n, j, LANES, c, finish) };
                j += LANES;
            }
            if j < n {
                unsafe { rows::<1, true, $narrow_rows>(product, n, j, n - j, c, finish) };
            }
        }

        /// Columns `j..j + width` (`V` vectors, the last one masked if `TAIL`) of every row:
        /// blocks of `R` rows, then of 4, of 2 and single rows (two chains hide more of an
        /// addition's latency than one).
        ///
        /// # Safety
        /// As [`chains`], and `j + width <= n`.
        #[target_feature(enable = $feature)]
        #[inline]
        unsafe fn rows<const V: usize, const TAIL: bool, const R: usize>(
            product: &Product<'_, f32>,
            n: usize,
            j: usize,
            width: usize,
            c: *mut f32,
            finish: Finish,
        ) {
            let mask = isa::mask(width - (V - 1) * LANES);
            // The column sums of these columns (under `ReluSlopeSums`): the blocks below go
            // down the rows in order, and each adds its rows in order.
            let mut column_sums = [isa::zero(); V];
            let mut i = 0;
            // SAFETY (every call): as above, and `i + rows <= product.rows`.
            while i + R <= product.rows {
                unsafe { block::<R, V, TAIL>(product, i, n, j, mask, c, finish) };
                unsafe { add_rows::<V, TAIL>(c, n, j, i..i + R, mask, finish, &mut column_sums) };
                i += R;
            }
            while R > 4 && i + 4 <= product.rows {
                unsafe { block::<4, V, TAIL>(product, i, n, j, mask, c, finish) };
                unsafe { add_rows::<V, TAIL>(c, n, j, i..i + 4, mask, finish, &mut column_sums) };
                i += 4;
            }
            while i + 2 <= product.rows {
                unsafe { block::<2, V, TAIL>(product, i, n, j, mask, c, finish) };
                unsafe { add_rows::<V, TAIL>(c, n, j, i..i + 2, mask, finish, &mut column_sums) };
                i += 2;
            }
            while i < product.rows {
                unsafe { block::<1, V, TAIL>(product, i, n, j, mask, c, finish) };
                unsafe { add_rows::<V, TAIL>(c, n, j, i..i + 1, mask, finish, &mut column_sums) };
                i += 1;
            }
            if let Finish::ReluSlopeSums(_, sums) = finish {
                for (v, &sum) in column_sums.iter().enumerate() {
                    // SAFETY: the caller's bounds: `sums` holds `n` values, and `j + width <= n`.
                    unsafe { store::<V, TAIL>(sums.add(j), v, mask, sum) };
                }
            }
        }

        /// Under `ReluSlopeSums`, adds the finished `rows` of columns `j..` (`V` vectors, the
        /// last one masked if `TAIL`) to `column_sums`, in row order; otherwise nothing.
        ///
        /// # Safety
        /// As [`rows`], and `rows.end <= product.rows`.
        #[target_feature(enable = $feature)]
        #[inline]
        unsafe fn add_rows<const V: usize, const TAIL: bool>(
            c: *const f32,
            n: usize,
            j: usize,
            rows: std::ops::Range<usize>,
            mask: Mask,
            finish: Finish,
            column_sums: &mut [Vector; V],
        ) {
            if let Finish::ReluSlopeSums(..) = finish {
                for row in rows {
                    let at = unsafe { c.add(row * n + j) };
                    for (v, sum) in column_sums.iter_mut().enumerate() {
                        *sum = isa::add(*sum, unsafe { load::<V, TAIL>(at, v, mask) });
                    }
                }
            }
        }

        /// Vector `v` of `V` from `at`: masked if it is the last one of a `TAIL` block.
        ///
        /// # Safety
        /// The lanes the mask keeps are inside one slice.
        #[target_feature(enable = $feature)]
        #[inline]
        unsafe fn load<const V: usize, const TAIL: bool>(at: *const f32, v: usize, mask: Mask) -> Vector {
            let at = unsafe { at.add(v * LANES) };
            if TAIL && v + 1 == V { unsafe { isa::load_masked(at, mask) } } else { unsafe { isa::load(at) } }
        }

        /// `R` rows by `V` vectors of chains, from row `i` and column `j`, advanced together one
        /// `k` at a time.
        ///
        /// # Safety
        /// As [`rows`], and `i + R <= product.rows`.
        #[target_feature(enable = $feature)]
        #[inline]
        unsafe fn block<const R: usize, const V: usize, const TAIL: bool>(
            product: &Product<'_, f32>,
            i: usize,
            n: usize,
            j: usize,
            mask: Mask,
            c: *mut f32,
            finish: Finish,
        ) {
            let Product { x, depth, y, start, .. } = *product;
            let mut sums = [[isa::zero(); V]; R];
            if let Some(start) = start {
                let start = unsafe { start.as_ptr().add(j) };
                for v in 0..V {
                    let value = unsafe { load::<V, TAIL>(start, v, mask) };
                    for row in &mut sums {
                        row[v] = value;
                    }
                }
            }
            let x_rows: [*const f32; R] = std::array::from_fn(|r| x.data.as_ptr().wrapping_add((i + r) * x.row_stride));
            let mut y_row = unsafe { y.as_ptr().add(j) };
            let mut x_offset = 0;
            for _ in 0..depth {
                let mut y_values = [isa::zero(); V];
                for (v, y_value) in y_values.iter_mut().enumerate() {
                    *y_value = unsafe { load::<V, TAIL>(y_row, v, mask) };
                }
                for (row, x_row) in sums.iter_mut().zip(&x_rows) {
                    let x_value = isa::splat(unsafe { *x_row.add(x_offset) });
                    for (sum, &y_value) in row.iter_mut().zip(&y_values) {
                        *sum = isa::add(*sum, isa::mul(x_value, y_value));
                    }
                }
                y_row = y_row.wrapping_add(n);
                x_offset += x.k_stride;
            }
            for (r, row) in sums.iter().enumerate() {
                let offset = (i + r) * n + j;
                for (v, &sum) in row.iter().enumerate() {
                    let value = match finish {
                        Finish::ReluSlope(z) | Finish::ReluSlopeSums(z, _) => {
                            isa::relu_slope(unsafe { load::<V, TAIL>(z.add(offset), v, mask) }, sum)
                        }
                        Finish::Store | Finish::Relu(_) => sum,
                    };
                    unsafe { store::<V, TAIL>(c.add(offset), v, mask, value) };
                    if let Finish::Relu(activations) = finish {
                        unsafe { store::<V, TAIL>(activations.add(offset), v, mask, isa::relu(sum)) };
                    }
                }
            }
        }

        /// Stores vector `v` of `V` at `at`: masked if it is the last one of a `TAIL` block.
        ///
        /// # Safety
        /// The lanes the mask keeps are inside one slice.
        #[target_feature(enable = $feature)]
        #[inline]
        unsafe fn store<const V: usize, const TAIL: bool>(at: *mut f32, v: usize, mask: Mask, value: Vector) {
            let at = unsafe { at.add(v * LANES) };
            if TAIL && v + 1 == V {
                unsafe { isa::store_masked(at, mask, value) };
            } else {
                unsafe { isa::store(at, value) };
            }
        }
    };
}

/// AVX2: 8 lanes, 16 registers (blocks of 4 rows by 16 columns, or 8 rows by 8).
pub(super) mod avx2 {
    /// The AVX2 primitives.
    pub(super) mod isa {
        use super::super::{
            __m256, __m256i, _CMP_GT_OQ, _CMP_LE_OQ, _mm256_add_ps, _mm256_and_ps, _mm256_andnot_ps, _mm256_cmp_ps,
            _mm256_cmpgt_epi32, _mm256_loadu_ps, _mm256_maskload_ps, _mm256_maskstore_ps, _mm256_mul_ps,
            _mm256_set1_epi32, _mm256_set1_ps, _mm256_setr_epi32, _mm256_setzero_ps, _mm256_storeu_ps,
        };

        pub(in crate::nn::simd_x86) type Vector = __m256;
        pub(in crate::nn::simd_x86) type Mask = __m256i;
        pub(in crate::nn::simd_x86) const LANES: usize = 8;

        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) fn zero() -> Vector {
            _mm256_setzero_ps()
        }
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) fn splat(value: f32) -> Vector {
            _mm256_set1_ps(value)
        }
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) fn add(a: Vector, b: Vector) -> Vector {
            _mm256_add_ps(a, b)
        }
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) fn mul(a: Vector, b: Vector) -> Vector {
            _mm256_mul_ps(a, b)
        }
        /// ReLU: `z`, or 0 where `z <= 0` (an ordered comparison: NaN is kept).
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) fn relu(z: Vector) -> Vector {
            _mm256_andnot_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(z, _mm256_setzero_ps()), z)
        }
        /// `d` where `z > 0`, else 0 (an ordered comparison: 0 where `z` is NaN).
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) fn relu_slope(z: Vector, d: Vector) -> Vector {
            _mm256_and_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(z, _mm256_setzero_ps()), d)
        }
        /// The first `count` lanes (1 to 8).
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) fn mask(count: usize) -> Mask {
            _mm256_cmpgt_epi32(_mm256_set1_epi32(count as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
        }
        /// # Safety
        /// 8 values from `at` are inside one slice.
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) unsafe fn load(at: *const f32) -> Vector {
            unsafe { _mm256_loadu_ps(at) }
        }
        /// # Safety
        /// The lanes of `mask` from `at` are inside one slice.
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) unsafe fn load_masked(at: *const f32, mask: Mask) -> Vector {
            unsafe { _mm256_maskload_ps(at, mask) }
        }
        /// # Safety
        /// 8 values from `at` are inside one slice.
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) unsafe fn store(at: *mut f32, value: Vector) {
            unsafe { _mm256_storeu_ps(at, value) }
        }
        /// # Safety
        /// The lanes of `mask` from `at` are inside one slice.
        #[target_feature(enable = "avx2")]
        #[inline]
        pub(in crate::nn::simd_x86) unsafe fn store_masked(at: *mut f32, mask: Mask, value: Vector) {
            unsafe { _mm256_maskstore_ps(at, mask, value) }
        }
    }

    chain_kernels!("avx2", wide: 4 x 2, narrow_rows: 8);
}

/// AVX-512F and VL: the AVX2 instructions on 32 registers instead of 16, so blocks of 6 rows
/// by 32 columns (24 registers of chains). On the Zen 4 this was measured on, that ran W2 about
/// 10% faster than blocks of 8 rows by two 16-lane vectors: as many multiplications and
/// additions per cycle, fewer broadcasts of `x` per product.
pub(super) mod avx512 {
    use super::avx2::isa;
    chain_kernels!("avx2,avx512f,avx512vl", wide: 6 x 4, narrow_rows: 8);
}

/// Transposes with AVX2 (8 by 8 tiles in registers; the edges one value at a time).
pub(super) mod transpose {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_permute2f128_ps, _mm256_set1_ps, _mm256_setr_ps,
        _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_storeu_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    };

    use super::Product;

    /// `out` (`[columns, rows]` row-major) becomes `values` (`[rows, columns]` row-major)
    /// transposed. Copies only, so the bits are the values'.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(in crate::nn) unsafe fn transpose(values: &[f32], columns: usize, out: &mut [f32]) {
        let Some(rows) = values.len().checked_div(columns) else { return };
        assert_eq!(out.len(), rows * columns, "the transposed values fit");
        let (full_rows, full_columns) = (rows - rows % 8, columns - columns % 8);
        for row in (0..full_rows).step_by(8) {
            for column in (0..full_columns).step_by(8) {
                tile(values, columns, row, column, out, rows);
            }
        }
        for row in 0..rows {
            let first_column = if row < full_rows { full_columns } else { 0 };
            for column in first_column..columns {
                out[column * rows + row] = values[row * columns + column];
            }
        }
    }

    /// The 8 by 8 tile from `(row, column)`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn tile(values: &[f32], columns: usize, row: usize, column: usize, out: &mut [f32], rows: usize) {
        // Loops, not closures: a closure would not be compiled with AVX2, nor inlined.
        let mut r = [_mm256_setzero_ps(); 8];
        for (offset, slot) in r.iter_mut().enumerate() {
            *slot = load8(&values[(row + offset) * columns + column..]);
        }
        let transposed = transpose8(r);
        for (c, &value) in transposed.iter().enumerate() {
            let Ok(lane) = <&mut [f32; 8]>::try_from(&mut out[(column + c) * rows + row..][..8]) else {
                unreachable!("8 values")
            };
            // SAFETY: `lane` is 8 values.
            unsafe { _mm256_storeu_ps(lane.as_mut_ptr(), value) };
        }
    }

    /// The first 8 values of `values`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn load8(values: &[f32]) -> __m256 {
        let Ok(lane) = <&[f32; 8]>::try_from(&values[..8]) else { unreachable!("8 values") };
        // SAFETY: `lane` is 8 values.
        unsafe { _mm256_loadu_ps(lane.as_ptr()) }
    }

    /// A one-column product (`y: [depth, 1]`, the output neuron's pre-activations) whose rows
    /// of `x` are contiguous: 8 rows per vector, so each lane is one row's chain, from
    /// `start[0]` (or 0) adding `x(i, k) * y[k]` in increasing `k`, as the scalar loop does. The
    /// rows are read 8 by 8 and transposed in registers; 4 groups of 8 rows move together to
    /// hide the additions' latency. The rows left over run the scalar chains.
    #[target_feature(enable = "avx2")]
    pub(in crate::nn) fn one_column(product: &Product<'_, f32>, c: &mut [f32]) {
        let Product { x, rows, depth, y, start } = *product;
        assert!(x.k_stride == 1 && c.len() == rows && y.len() >= depth, "a one-column product on rows");
        let first = start.map_or(0.0, |start| start[0]);
        let mut i = 0;
        while i + 32 <= rows {
            groups::<4>(product, i, first, c);
            i += 32;
        }
        while i + 8 <= rows {
            groups::<1>(product, i, first, c);
            i += 8;
        }
        for (offset, slot) in c.iter_mut().enumerate().skip(i) {
            let row = &x.data[offset * x.row_stride..][..depth];
            let mut sum = first;
            for (&x_value, &y_value) in row.iter().zip(y) {
                sum += x_value * y_value;
            }
            *slot = sum;
        }
    }

    /// `G` groups of 8 rows of [`one_column`], from row `i`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn groups<const G: usize>(product: &Product<'_, f32>, i: usize, first: f32, c: &mut [f32]) {
        let Product { x, depth, y, .. } = *product;
        // Loops, not closures: a closure would not be compiled with AVX2, nor inlined.
        let mut rows: [[&[f32]; 8]; G] = [[&[]; 8]; G];
        for (g, group) in rows.iter_mut().enumerate() {
            for (r, row) in group.iter_mut().enumerate() {
                *row = &x.data[(i + 8 * g + r) * x.row_stride..][..depth];
            }
        }
        let mut sums = [_mm256_set1_ps(first); G];
        let mut k = 0;
        while k + 8 <= depth {
            let mut y_values = [_mm256_setzero_ps(); 8];
            for (kk, y_value) in y_values.iter_mut().enumerate() {
                *y_value = _mm256_set1_ps(y[k + kk]);
            }
            for (sum, group) in sums.iter_mut().zip(&rows) {
                let mut loaded = [_mm256_setzero_ps(); 8];
                for (slot, row) in loaded.iter_mut().zip(group) {
                    *slot = load8(&row[k..]);
                }
                let columns = transpose8(loaded);
                for (&column, &y_value) in columns.iter().zip(&y_values) {
                    *sum = _mm256_add_ps(*sum, _mm256_mul_ps(column, y_value));
                }
            }
            k += 8;
        }
        while k < depth {
            let y_value = _mm256_set1_ps(y[k]);
            for (sum, group) in sums.iter_mut().zip(&rows) {
                let column = _mm256_setr_ps(
                    group[0][k],
                    group[1][k],
                    group[2][k],
                    group[3][k],
                    group[4][k],
                    group[5][k],
                    group[6][k],
                    group[7][k],
                );
                *sum = _mm256_add_ps(*sum, _mm256_mul_ps(column, y_value));
            }
            k += 1;
        }
        for (g, &sum) in sums.iter().enumerate() {
            let Ok(lane) = <&mut [f32; 8]>::try_from(&mut c[i + 8 * g..][..8]) else { unreachable!("8 values") };
            // SAFETY: `lane` is 8 values.
            unsafe { _mm256_storeu_ps(lane.as_mut_ptr(), sum) };
        }
    }

    /// Eight vectors of 8 transposed: lane `c` of vector `r` becomes lane `r` of vector `c`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
        let t = [
            _mm256_unpacklo_ps(r[0], r[1]),
            _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]),
            _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]),
            _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]),
            _mm256_unpackhi_ps(r[6], r[7]),
        ];
        let s = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        [
            _mm256_permute2f128_ps::<0x20>(s[0], s[4]),
            _mm256_permute2f128_ps::<0x20>(s[1], s[5]),
            _mm256_permute2f128_ps::<0x20>(s[2], s[6]),
            _mm256_permute2f128_ps::<0x20>(s[3], s[7]),
            _mm256_permute2f128_ps::<0x31>(s[0], s[4]),
            _mm256_permute2f128_ps::<0x31>(s[1], s[5]),
            _mm256_permute2f128_ps::<0x31>(s[2], s[6]),
            _mm256_permute2f128_ps::<0x31>(s[3], s[7]),
        ]
    }
}

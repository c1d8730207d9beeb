//! Which instruction set the chains run on: chosen once at run time from what the CPU has.
//!
//! The build targets the baseline x86-64 (SSE2), so the chains compiled the ordinary way move 4
//! `f32` per instruction. Most x86-64 CPUs in use have AVX2 (8) and many AVX-512 (16). On
//! those, the `f32` products run kernels written with those instructions (`super::simd_x86`:
//! blocks of up to 6 rows by 32 columns held in registers), and the short element-wise loops
//! (ReLU, the SGD update, the bias gradient) run compiled inside wrapper functions marked
//! `#[target_feature(enable = "avx2")]` or `"avx512f"`. The widest set the CPU has is chosen
//! once, by `is_x86_feature_detected!`; everywhere else (aarch64, wasm32, `f64`) the generic
//! loops of `super::chains` run as the build compiled them.
//!
//! **The bits do not change.** The instruction set decides how many chains move per
//! instruction, never what each chain computes: every element is still one chain of separately
//! rounded multiplications and additions in increasing `k` (Rust never fuses them into an FMA,
//! whatever the target features, and never reorders a floating-point sum; IEEE 754 rounds an
//! AVX-512 lane exactly as an SSE2 lane). The kernel test in `super::kernels` compares every
//! instruction set the machine has with the triple loop, bit for bit, and the digest check
//! (`tests/it/workload_digests.rs`, `portability/`) trains on each of them.
//!
//! **`unsafe`** is here and in `super::simd_x86` only: calling a `#[target_feature]` function
//! is `unsafe`, because running AVX2 instructions on a CPU without them is undefined behaviour.
//! A [`Kernels`] value other than [`Kernels::Baseline`] reaches the calls only through
//! [`Chosen`], which is made only after `is_x86_feature_detected!` answered yes for it.

#![cfg_attr(
    target_arch = "x86_64",
    expect(
        unsafe_code,
        reason = "calls the AVX2 and AVX-512 builds of the products and loops, each after the CPU check that makes it sound"
    )
)]

use std::cell::Cell;
use std::sync::OnceLock;

use super::Real;
#[cfg(target_arch = "x86_64")]
use super::chains::Left;
use super::chains::{Finish, Product, chains, column_sums};
#[cfg(target_arch = "x86_64")]
use super::simd_x86;

/// An instruction set the chains can be compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernels {
    /// What the build targets on every machine: SSE2 on x86-64, NEON on aarch64, SIMD128 or
    /// scalar on wasm32.
    Baseline,
    /// x86-64 with AVX2: 8 `f32` per instruction.
    Avx2,
    /// x86-64 with AVX-512F and VL: 32 vector registers (the products' blocks), 16 `f32` per
    /// instruction in the element-wise loops.
    Avx512,
}

impl Kernels {
    /// Every instruction set, narrowest first.
    pub const ALL: [Self; 3] = [Self::Baseline, Self::Avx2, Self::Avx512];

    /// The name a report prints: `baseline`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run these kernels.
    pub fn is_available(self) -> bool {
        Chosen::check(self).is_some()
    }

    /// The instruction sets this CPU can run, narrowest first.
    pub fn available() -> Vec<Self> {
        Self::ALL.into_iter().filter(|kernels| kernels.is_available()).collect()
    }

    /// The widest instruction set this CPU can run: what training uses (unless
    /// [`with_kernels`] says otherwise on the calling thread).
    pub fn detected() -> Self {
        detected().0
    }

    /// What the products on this thread run on now.
    pub fn current() -> Self {
        current().0
    }
}

/// A [`Kernels`] that this CPU has been checked to run. Made only by [`Chosen::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chosen(Kernels);

impl Chosen {
    /// `kernels`, if `is_x86_feature_detected!` says the CPU has its instruction set.
    fn check(kernels: Kernels) -> Option<Self> {
        let is_present = match kernels {
            Kernels::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx2")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernels::Avx2 | Kernels::Avx512 => false,
        };
        is_present.then_some(Self(kernels))
    }
}

/// The widest instruction set this CPU has, checked once.
fn detected() -> Chosen {
    static DETECTED: OnceLock<Chosen> = OnceLock::new();
    *DETECTED
        .get_or_init(|| Kernels::ALL.into_iter().rev().find_map(Chosen::check).unwrap_or(Chosen(Kernels::Baseline)))
}

thread_local! {
    /// The instruction set [`with_kernels`] asked for on this thread, if any.
    static FORCED: Cell<Option<Chosen>> = const { Cell::new(None) };
}

/// What the products on this thread run on.
fn current() -> Chosen {
    FORCED.with(Cell::get).unwrap_or_else(detected)
}

/// Runs `work` with every product on this thread computed on `kernels` instead of the
/// detected ones (threads that `work` starts keep the detected ones). `None` when this CPU
/// cannot run `kernels`. For tests and checks that compare the instruction sets.
pub fn with_kernels<R>(kernels: Kernels, work: impl FnOnce() -> R) -> Option<R> {
    /// Puts the previous choice back, even if `work` panics.
    struct Restore(Option<Chosen>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|forced| forced.set(self.0));
        }
    }
    let chosen = Chosen::check(kernels)?;
    let _restore = Restore(FORCED.with(|forced| forced.replace(Some(chosen))));
    Some(work())
}

/// [`chains`] on the instruction set this thread runs on: in `f32` on AVX2 or AVX-512F, the
/// kernels written with those instructions (`super::simd_x86`); otherwise the generic loops
/// as the build compiled them.
pub(super) fn run_chains<T: Real>(product: &Product<'_, T>, c: &mut [T], finish: Finish<'_, T>) {
    #[cfg(target_arch = "x86_64")]
    let mut finish = finish;
    #[cfg(target_arch = "x86_64")]
    if let Some(kernels @ (Kernels::Avx2 | Kernels::Avx512)) = Some(current().0)
        && c.len() != product.rows
        && let Some((product, c)) = as_f32(product, c)
        && simd_x86::in_bounds(&product, c)
        && let Some(finish) = finish_pointer(&mut finish, c.len(), c.len().checked_div(product.rows).unwrap_or(0))
    {
        match kernels {
            // SAFETY: `current()` is a `Chosen`, made only by `Chosen::check`, which returned
            // `Kernels::Avx2` only after `is_x86_feature_detected!("avx2")` said yes;
            // `in_bounds` holds, and `finish` points to `c.len()` values of another slice.
            Kernels::Avx2 => unsafe { simd_x86::avx2::chains(&product, c, finish) },
            // SAFETY: as above, after `is_x86_feature_detected!` said yes to "avx512f",
            // "avx512vl" and "avx2".
            Kernels::Avx512 => unsafe { simd_x86::avx512::chains(&product, c, finish) },
            Kernels::Baseline => unreachable!("matched above"),
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if matches!(current().0, Kernels::Avx2 | Kernels::Avx512)
        && c.len() == product.rows
        && product.x.k_stride == 1
        && let Some((product_f32, c_f32)) = as_f32(product, &mut *c)
        && simd_x86::in_bounds(&product_f32, c_f32)
        && product_f32.y.len() >= product_f32.depth
    {
        // SAFETY: `current()` is a `Chosen`: AVX2 was detected for either (`Chosen::check`
        // asks for AVX2 with AVX-512F and VL).
        unsafe { simd_x86::transpose::one_column(&product_f32, c_f32) };
        run_finish(finish, c);
        return;
    }
    if c.len() == product.rows {
        // One column (the output neuron): chains one lane each, so scalar, 8 rows at a time to
        // keep both adders busy (a wide vector would carry one useful lane).
        chains::<T, 8, 8>(product, c);
    } else {
        chains::<T, 4, 8>(product, c);
    }
    run_finish(finish, c);
}

/// Applies `finish` to `c`, which holds the chains (`[rows, n]` row-major, `n` the number of
/// column sums under [`Finish::ReluSlopeSums`]), on the instruction set this thread runs on.
pub(super) fn run_finish<T: Real>(finish: Finish<'_, T>, c: &mut [T]) {
    match finish {
        Finish::ReluSlopeSums(pre_activations, sums) if c.len() == pre_activations.len() => {
            run_wide(|| Finish::ReluSlope(pre_activations).apply(c.iter_mut()));
            run_column_sums(c, sums);
        }
        finish => run_wide(|| finish.apply(c.iter_mut())),
    }
}

/// `finish` as the pointers the vector kernels take, if `T` is `f32`, its values are `len` and
/// its column sums (if any) `n`.
#[cfg(target_arch = "x86_64")]
fn finish_pointer<T: Real>(finish: &mut Finish<'_, T>, len: usize, n: usize) -> Option<simd_x86::Finish> {
    match finish {
        Finish::Store => Some(simd_x86::Finish::Store),
        Finish::Relu(activations) => {
            let activations = T::as_f32s_mut(activations)?;
            (activations.len() == len).then_some(simd_x86::Finish::Relu(activations.as_mut_ptr()))
        }
        Finish::ReluSlope(pre_activations) => {
            let pre_activations = T::as_f32s(pre_activations)?;
            (pre_activations.len() == len).then_some(simd_x86::Finish::ReluSlope(pre_activations.as_ptr()))
        }
        Finish::ReluSlopeSums(pre_activations, sums) => {
            let pre_activations = T::as_f32s(pre_activations)?;
            let sums = T::as_f32s_mut(sums)?;
            (pre_activations.len() == len && sums.len() == n)
                .then_some(simd_x86::Finish::ReluSlopeSums(pre_activations.as_ptr(), sums.as_mut_ptr()))
        }
    }
}

/// `product` and `c` as `f32`, if `T` is `f32`.
#[cfg(target_arch = "x86_64")]
fn as_f32<'a, T: Real>(product: &Product<'a, T>, c: &'a mut [T]) -> Option<(Product<'a, f32>, &'a mut [f32])> {
    let x = Left { data: T::as_f32s(product.x.data)?, row_stride: product.x.row_stride, k_stride: product.x.k_stride };
    let start = match product.start {
        Some(start) => Some(T::as_f32s(start)?),
        None => None,
    };
    let product = Product { x, rows: product.rows, depth: product.depth, y: T::as_f32s(product.y)?, start };
    Some((product, T::as_f32s_mut(c)?))
}

/// `out` becomes `values` (`[rows, columns]` row-major) transposed, `[columns, rows]`
/// row-major: in `f32` on AVX2 or AVX-512F, in 8 by 8 tiles in registers. Copies only, so the
/// bits are the values'.
pub(super) fn run_transpose<T: Real>(values: &[T], columns: usize, out: &mut Vec<T>) {
    // Every value is written below: only new room is filled first.
    out.resize(values.len(), T::zero());
    #[cfg(target_arch = "x86_64")]
    if matches!(current().0, Kernels::Avx2 | Kernels::Avx512)
        && let (Some(values), Some(out)) = (T::as_f32s(values), T::as_f32s_mut(out))
    {
        // SAFETY: `current()` is a `Chosen`: AVX2 was detected for either (`Chosen::check`
        // asks for AVX2 with AVX-512F and VL).
        unsafe { simd_x86::transpose::transpose(values, columns, out) };
        return;
    }
    let Some(rows) = values.len().checked_div(columns) else { return };
    for (column, out_row) in out.chunks_exact_mut(rows).enumerate() {
        for (slot, &value) in out_row.iter_mut().zip(values[column..].iter().step_by(columns)) {
            *slot = value;
        }
    }
}

/// Runs `work` (a short element-wise loop: an activation, an update) compiled for the
/// instruction set this thread runs on: the closure is inlined into a wrapper with AVX2's or
/// AVX-512F's target features, so its loop moves 8 or 16 lanes at a time. Each lane's
/// arithmetic is the loop's own, so the bits are the same.
pub(crate) fn run_wide<R>(work: impl FnOnce() -> R) -> R {
    match current().0 {
        Kernels::Baseline => work(),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `current()` is a `Chosen`, made only by `Chosen::check`, which returned
        // `Kernels::Avx2` only after `is_x86_feature_detected!("avx2")` said yes.
        Kernels::Avx2 => unsafe { x86::wide_avx2(work) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, after `is_x86_feature_detected!("avx512f")` said yes.
        Kernels::Avx512 => unsafe { x86::wide_avx512(work) },
        #[cfg(not(target_arch = "x86_64"))]
        Kernels::Avx2 | Kernels::Avx512 => unreachable!("never available off x86-64"),
    }
}

/// [`column_sums`] on the instruction set this thread runs on.
pub(super) fn run_column_sums<T: Real>(values: &[T], sums: &mut [T]) {
    match current().0 {
        Kernels::Baseline => column_sums::<T, 8>(values, sums),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `current()` is a `Chosen`, made only by `Chosen::check`, which returned
        // `Kernels::Avx2` only after `is_x86_feature_detected!("avx2")` said yes.
        Kernels::Avx2 => unsafe { x86::column_sums_avx2(values, sums) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, after `is_x86_feature_detected!("avx512f")` said yes.
        Kernels::Avx512 => unsafe { x86::column_sums_avx512(values, sums) },
        #[cfg(not(target_arch = "x86_64"))]
        Kernels::Avx2 | Kernels::Avx512 => unreachable!("never available off x86-64"),
    }
}

/// The generic column sums compiled with AVX2 and with AVX-512F: wider blocks, the same chains.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Real, column_sums};

    /// `work` with AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) fn wide_avx2<R>(work: impl FnOnce() -> R) -> R {
        work()
    }

    /// `work` with AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) fn wide_avx512<R>(work: impl FnOnce() -> R) -> R {
        work()
    }

    /// [`column_sums`] with AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) fn column_sums_avx2<T: Real>(values: &[T], sums: &mut [T]) {
        column_sums::<T, 16>(values, sums);
    }

    /// [`column_sums`] with AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) fn column_sums_avx512<T: Real>(values: &[T], sums: &mut [T]) {
        column_sums::<T, 32>(values, sums);
    }
}

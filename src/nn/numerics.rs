//! Portable numerics: the same run gives the same bits on every machine.
//!
//! A run is reproducible bit for bit only if every operation rounds the same way wherever it
//! runs. Three things could make them differ, and each is pinned here or in the kernels:
//!
//! - **Elementary functions.** `f32::exp`, `ln`, `tanh`, `sin` and friends call the platform's
//!   math library (glibc on Linux, Apple's on a Mac, a Rust port in a browser), and those round
//!   differently in the last bit now and then. Every such call in training, data generation,
//!   initialization and diagnostics goes through the functions below instead, which are the
//!   pure-Rust `libm` crate on every target. (`sqrt`, `+`, `-`, `*`, `/` and conversions are
//!   correctly rounded by IEEE 754 everywhere and stay as they are; `powi` is not guaranteed, so
//!   [`powi`] spells out its multiplications.)
//! - **Fused multiply-add.** Rust never contracts `a * b + c` into one FMA, so plain Rust code
//!   always rounds the product and the sum separately. Only hand-written SIMD kernels use FMA:
//!   `matrixmultiply`'s, which `ndarray`'s products call and which pick an FMA kernel at run
//!   time where the CPU has one. Under [`Numerics::Portable`] no product goes there.
//! - **Summation order.** The compiler may vectorize a loop but never reorders a floating-point
//!   sum, so the order is the one the source writes. The kernels (`super::kernels`) write every
//!   output element as one chain of additions in a fixed order, whatever the vector width.
//!
//! The random draws (normal and Beta) are computed here too ([`standard_normal`],
//! [`beta_2_1`]): `rand_distr`'s call the platform's `exp` and `ln` on their rarer paths.
//!
//! [`Numerics::Fast`] keeps `matrixmultiply` for the large products of large networks: faster
//! where the CPU has wide FMA, but its bits then depend on the CPU. A record names the numerics
//! it used (in its config), and [`platform`] names the machine.

use rand::Rng;
use rand::distr::Open01;
use serde::{Deserialize, Serialize};

/// How a network's arithmetic is done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Numerics {
    /// The same bits on every machine: no FMA, sums in a fixed order, pure-Rust math functions.
    /// The default for networks of lesson size.
    #[default]
    Portable,
    /// The large products on the CPU's fastest matrix kernels (FMA of the CPU's vector width,
    /// chosen at run time): repeatable on one machine, not across machines. The default for
    /// networks wider than [`PORTABLE_MAX_WIDTH`].
    Fast,
}

/// The widest layer that [`Numerics::for_layer_sizes`] gives portable numerics by default.
pub const PORTABLE_MAX_WIDTH: usize = 64;

impl Numerics {
    /// Both settings, in menu order.
    pub const ALL: [Self; 2] = [Self::Portable, Self::Fast];

    /// The default for a network with these layer sizes (input, hidden..., output): portable
    /// while no layer is wider than [`PORTABLE_MAX_WIDTH`], fast beyond.
    pub fn for_layer_sizes(sizes: &[usize]) -> Self {
        if sizes.iter().all(|&width| width <= PORTABLE_MAX_WIDTH) { Self::Portable } else { Self::Fast }
    }

    /// The kebab-case name used in configs.
    pub fn key(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Fast => "fast",
        }
    }

    /// The name a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Portable => "portable (the same bits on every machine)",
            Self::Fast => "fast (this machine's matrix kernels)",
        }
    }
}

/// The machine this build runs on, as a record names it: `"x86_64-linux"`, `"aarch64-macos"`,
/// `"wasm32"` (a browser tab or any other WebAssembly host).
pub fn platform() -> &'static str {
    use std::env::consts::{ARCH, OS};
    match (ARCH, OS) {
        ("wasm32", _) => "wasm32",
        ("x86_64", "linux") => "x86_64-linux",
        ("x86_64", "macos") => "x86_64-macos",
        ("x86_64", "windows") => "x86_64-windows",
        ("aarch64", "linux") => "aarch64-linux",
        ("aarch64", "macos") => "aarch64-macos",
        ("aarch64", "windows") => "aarch64-windows",
        (arch, _) => arch,
    }
}

/// The elementary functions the network needs, from the `libm` crate for both float types.
pub trait Elementary: Copy {
    /// `e^x`.
    fn exp(x: Self) -> Self;
    /// `e^x - 1`, accurate near 0.
    fn exp_m1(x: Self) -> Self;
    /// The natural logarithm.
    fn ln(x: Self) -> Self;
    /// `ln(1 + x)`, accurate near 0.
    fn ln_1p(x: Self) -> Self;
    /// The hyperbolic tangent.
    fn tanh(x: Self) -> Self;
    /// The error function.
    fn erf(x: Self) -> Self;
    /// The sine.
    fn sin(x: Self) -> Self;
    /// The cosine.
    fn cos(x: Self) -> Self;
    /// `x^y`.
    fn pow(x: Self, y: Self) -> Self;
}

impl Elementary for f32 {
    fn exp(x: Self) -> Self {
        libm::expf(x)
    }
    fn exp_m1(x: Self) -> Self {
        libm::expm1f(x)
    }
    fn ln(x: Self) -> Self {
        libm::logf(x)
    }
    fn ln_1p(x: Self) -> Self {
        libm::log1pf(x)
    }
    fn tanh(x: Self) -> Self {
        libm::tanhf(x)
    }
    fn erf(x: Self) -> Self {
        libm::erff(x)
    }
    fn sin(x: Self) -> Self {
        libm::sinf(x)
    }
    fn cos(x: Self) -> Self {
        libm::cosf(x)
    }
    fn pow(x: Self, y: Self) -> Self {
        libm::powf(x, y)
    }
}

impl Elementary for f64 {
    fn exp(x: Self) -> Self {
        libm::exp(x)
    }
    fn exp_m1(x: Self) -> Self {
        libm::expm1(x)
    }
    fn ln(x: Self) -> Self {
        libm::log(x)
    }
    fn ln_1p(x: Self) -> Self {
        libm::log1p(x)
    }
    fn tanh(x: Self) -> Self {
        libm::tanh(x)
    }
    fn erf(x: Self) -> Self {
        libm::erf(x)
    }
    fn sin(x: Self) -> Self {
        libm::sin(x)
    }
    fn cos(x: Self) -> Self {
        libm::cos(x)
    }
    fn pow(x: Self, y: Self) -> Self {
        libm::pow(x, y)
    }
}

/// `e^x`, the same bits on every target.
#[inline]
pub fn exp<T: Elementary>(x: T) -> T {
    T::exp(x)
}

/// `e^x - 1`, the same bits on every target.
#[inline]
pub fn exp_m1<T: Elementary>(x: T) -> T {
    T::exp_m1(x)
}

/// The natural logarithm, the same bits on every target.
#[inline]
pub fn ln<T: Elementary>(x: T) -> T {
    T::ln(x)
}

/// `ln(1 + x)`, the same bits on every target.
#[inline]
pub fn ln_1p<T: Elementary>(x: T) -> T {
    T::ln_1p(x)
}

/// The hyperbolic tangent, the same bits on every target.
#[inline]
pub fn tanh<T: Elementary>(x: T) -> T {
    T::tanh(x)
}

/// The error function, the same bits on every target.
#[inline]
pub fn erf<T: Elementary>(x: T) -> T {
    T::erf(x)
}

/// The sine, the same bits on every target.
#[inline]
pub fn sin<T: Elementary>(x: T) -> T {
    T::sin(x)
}

/// The cosine, the same bits on every target.
#[inline]
pub fn cos<T: Elementary>(x: T) -> T {
    T::cos(x)
}

/// `x^y`, the same bits on every target.
#[inline]
pub fn pow<T: Elementary>(x: T, y: T) -> T {
    T::pow(x, y)
}

/// `x^n` by repeated squaring, spelled out: multiply the result by `x^(2^k)` for every bit `k`
/// set in `|n|`, lowest first, then take the reciprocal for a negative `n`. The same
/// multiplications in the same order as the compiler's own `powi` helper, so the same bits as
/// `f64::powi` gave where that helper ran, but now guaranteed on every target.
pub fn powi(x: f64, n: i32) -> f64 {
    let mut result = 1.0;
    let mut square = x;
    let mut bits = n.unsigned_abs();
    loop {
        if bits & 1 == 1 {
            result *= square;
        }
        bits >>= 1;
        if bits == 0 {
            break;
        }
        square *= square;
    }
    if n < 0 { 1.0 / result } else { result }
}

/// The ziggurat of the standard normal distribution (Marsaglia and Tsang 2000): 256 layers of
/// equal area `V`, the base layer ending at `R` with the tail beyond it.
mod ziggurat {
    /// Where the base layer's rectangle ends and the tail begins.
    pub(super) const R: f64 = 3.654_152_885_361_009;
    /// The area of each layer.
    const V: f64 = 0.004_928_673_233_99;
    /// The number of layers.
    const LAYERS: usize = 256;

    /// The unnormalized density `exp(-x^2 / 2)`, with the portable `exp`.
    pub(super) fn density(x: f64) -> f64 {
        libm::exp(-x * x / 2.0)
    }

    /// `x[i]`: the right edge of layer `i` (`x[0] = V / f(R)` stands for the base layer with its
    /// tail, `x[1] = R`, down to `x[256] = 0`); `f[i] = density(x[i])`.
    pub(super) struct Tables {
        pub(super) x: [f64; LAYERS + 1],
        pub(super) f: [f64; LAYERS + 1],
    }

    /// Computed once, with the portable functions, so the tables are the same everywhere.
    pub(super) fn tables() -> &'static Tables {
        static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
        TABLES.get_or_init(|| {
            let mut x = [0.0; LAYERS + 1];
            x[0] = V / density(R);
            x[1] = R;
            for i in 2..LAYERS {
                // The layer above has the same area: x[i-1] * (f(x[i]) - f(x[i-1])) = V.
                x[i] = libm::sqrt(-2.0 * libm::log(V / x[i - 1] + density(x[i - 1])));
            }
            x[LAYERS] = 0.0;
            let mut f = [0.0; LAYERS + 1];
            for (value, &edge) in f.iter_mut().zip(&x) {
                *value = density(edge);
            }
            Tables { x, f }
        })
    }
}

/// A standard normal draw by the ziggurat method, with the same steps (and so, in practice,
/// the same draws after rounding to `f32`) as `rand_distr::StandardNormal`, but only portable
/// arithmetic: its tables, the density in the wedge test and the logarithms of the tail all use
/// the `libm` crate.
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let tables = ziggurat::tables();
    loop {
        let bits = rng.next_u64();
        let layer = (bits & 0xff) as usize;
        // 52 random bits as a value in [2, 4), less 3: a value in [-1, 1).
        let u = f64::from_bits((bits >> 12) | (1024_u64 << 52)) - 3.0;
        let x = u * tables.x[layer];
        if x.abs() < tables.x[layer + 1] {
            return x;
        }
        if layer == 0 {
            return normal_tail(rng, u < 0.0);
        }
        let height = tables.f[layer + 1] + (tables.f[layer] - tables.f[layer + 1]) * rng.random::<f64>();
        if height < ziggurat::density(x) {
            return x;
        }
    }
}

/// A draw from the normal tail beyond `R` (Marsaglia 1964), negated when `is_negative`.
fn normal_tail<R: Rng + ?Sized>(rng: &mut R, is_negative: bool) -> f64 {
    loop {
        let x = libm::log(rng.sample::<f64, _>(Open01)) / ziggurat::R;
        let y = libm::log(rng.sample::<f64, _>(Open01));
        if -2.0 * y >= x * x {
            return if is_negative { x - ziggurat::R } else { ziggurat::R - x };
        }
    }
}

/// A `Beta(2, 1)` draw (density `2x` on (0, 1)) by Cheng's algorithm BC (1978), with the same
/// steps as `rand_distr::Beta` takes for these parameters but the portable `exp` and `ln`.
/// With Cheng's `a = 2` (the larger parameter), `b = 1`: `alpha = a + b`, `beta = 1 / b`,
/// `delta = 1 + a - b`, and the two squeeze constants `kappa1`, `kappa2`.
pub fn beta_2_1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    const A: f64 = 2.0;
    const B: f64 = 1.0;
    let alpha = A + B;
    let beta = 1.0 / B;
    let delta = 1.0 + A - B;
    let kappa1 = delta * (1.0 / 72.0 + 3.0 / 72.0 * B) / (A * beta - 14.0 / 18.0);
    let kappa2 = 0.25 + (0.5 + 0.25 / delta) * B;
    let w = loop {
        let u1: f64 = rng.sample(Open01);
        let u2: f64 = rng.sample(Open01);
        let z = if u1 < 0.5 {
            let y = u1 * u2;
            let z = u1 * y;
            if 0.25 * u2 + z - y >= kappa1 {
                continue;
            }
            z
        } else {
            let z = u1 * u1 * u2;
            if z <= 0.25 {
                let v = beta * libm::log(u1 / (1.0 - u1));
                break A * libm::exp(v);
            }
            if z >= kappa2 {
                continue;
            }
            z
        };
        let v = beta * libm::log(u1 / (1.0 - u1));
        let w = A * libm::exp(v);
        if alpha * (libm::log(alpha / (B + w)) + v) - libm::log(4.0) < libm::log(z) {
            continue;
        }
        break w;
    };
    if w == f64::INFINITY { 1.0 } else { w / (B + w) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Beta, Distribution, StandardNormal};

    #[test]
    fn powi_multiplies_as_the_compiler_helper_does() {
        for x in [0.9_f64, 0.999, 1.5, -2.25, 1e-3] {
            for n in [0, 1, 2, 3, 7, 100, 1023, -1, -5] {
                assert_eq!(powi(x, n).to_bits(), x.powi(n).to_bits(), "{x}^{n}");
            }
        }
    }

    /// The draws as the network stores them.
    fn as_f32(values: impl Iterator<Item = f64>) -> Vec<u32> {
        values.map(|v| (v as f32).to_bits()).collect()
    }

    #[test]
    fn normal_draws_are_rand_distrs_after_rounding_to_f32() {
        // 200,000 draws visit the tail (about 1 in 3,900) and the wedges many times.
        let ours = {
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            as_f32((0..200_000).map(|_| standard_normal(&mut rng)))
        };
        let theirs = {
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            as_f32((0..200_000).map(|_| StandardNormal.sample(&mut rng)))
        };
        assert!(ours == theirs, "{} draws differ", ours.iter().zip(&theirs).filter(|(a, b)| a != b).count());
    }

    #[test]
    fn beta_draws_are_rand_distrs_after_rounding_to_f32() {
        let beta = Beta::new(2.0, 1.0).unwrap();
        let ours = {
            let mut rng = ChaCha8Rng::seed_from_u64(12);
            as_f32((0..100_000).map(|_| beta_2_1(&mut rng)))
        };
        let theirs = {
            let mut rng = ChaCha8Rng::seed_from_u64(12);
            as_f32((0..100_000).map(|_| beta.sample(&mut rng)))
        };
        assert!(ours == theirs, "{} draws differ", ours.iter().zip(&theirs).filter(|(a, b)| a != b).count());
    }

    #[test]
    fn the_default_follows_the_widest_layer() {
        assert_eq!(Numerics::for_layer_sizes(&[2, 8, 8, 1]), Numerics::Portable);
        assert_eq!(Numerics::for_layer_sizes(&[2, 32, 32, 32, 32, 1]), Numerics::Portable);
        assert_eq!(Numerics::for_layer_sizes(&[2, 256, 256, 256, 1]), Numerics::Fast);
    }

    /// Calls whose rounding depends on the platform (its math library, FMA, `powi`'s helper) or
    /// that draw through `rand_distr`'s platform math.
    const PLATFORM_MATH: [&str; 21] = [
        ".exp()",
        ".exp_m1()",
        ".exp2()",
        ".ln()",
        ".ln_1p()",
        ".log10()",
        ".log2()",
        ".log(",
        ".tanh()",
        ".sinh()",
        ".cosh()",
        ".sin()",
        ".cos()",
        ".tan()",
        ".powf(",
        ".powi(",
        ".mul_add(",
        ".cbrt()",
        ".hypot(",
        "StandardNormal",
        "Beta::",
    ];

    #[test]
    fn training_data_and_initialization_call_no_platform_math() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        for folder in ["nn", "data"] {
            for entry in std::fs::read_dir(root.join(folder)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                // The code, without its tests (which may compare with the platform's functions).
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (number, line) in code.lines().enumerate() {
                    let line = line.split("//").next().unwrap_or_default();
                    if let Some(call) = PLATFORM_MATH.iter().find(|call| line.contains(*call)) {
                        found.push(format!("{}:{}: {call}", path.display(), number + 1));
                    }
                }
            }
        }
        assert!(found.is_empty(), "use relu_lab::nn::numerics instead:\n{}", found.join("\n"));
    }

    #[test]
    fn the_platform_is_named() {
        let name = platform();
        assert!(name.starts_with(std::env::consts::ARCH), "{name}");
    }
}

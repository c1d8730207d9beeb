//! Weight initializers, including the randomized asymmetric initialization (RAI) of Lu et al.

use rand::Rng;
use rand_distr::{Distribution, Uniform};
use serde::{Deserialize, Serialize};

use super::numerics::{beta_2_1, standard_normal};

/// The standard deviation factor of RAI's normal draws: `N(0, 0.6007^2 / fan_in)`.
pub const RAI_SIGMA: f64 = 0.6007;

/// How a layer's weights (and, for RAI, its biases) are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// `N(0, 2 / fan_in)` (He et al. 2015). Symmetric: biases take the initial bias.
    #[default]
    HeNormal,
    /// `U(-sqrt(6 / fan_in), sqrt(6 / fan_in))`. Symmetric.
    HeUniform,
    /// `U(-sqrt(6 / (fan_in + fan_out)), ..)` (Glorot and Bengio 2010). Symmetric.
    XavierUniform,
    /// `U(-0.5, 0.5)`, as TensorFlow Playground does. Symmetric.
    Uniform,
    /// Randomized asymmetric initialization (Lu et al. 2019): weights and bias
    /// `N(0, 0.6007^2 / fan_in)`, then one of the `fan_in + 1` entries, chosen uniformly,
    /// replaced by a `Beta(2, 1)` draw.
    Rai,
}

impl Init {
    /// Every initializer, in menu order.
    pub const ALL: [Self; 5] = [Self::HeNormal, Self::HeUniform, Self::XavierUniform, Self::Uniform, Self::Rai];

    /// The name a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::HeNormal => "He normal",
            Self::HeUniform => "He uniform",
            Self::XavierUniform => "Xavier uniform",
            Self::Uniform => "Uniform ±0.5",
            Self::Rai => "RAI (asymmetric)",
        }
    }

    /// The kebab-case name used in configs and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Self::HeNormal => "he-normal",
            Self::HeUniform => "he-uniform",
            Self::XavierUniform => "xavier-uniform",
            Self::Uniform => "uniform",
            Self::Rai => "rai",
        }
    }

    /// Parses a kebab-case key.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|init| init.key() == key)
    }

    /// Draws one neuron's incoming weights (`fan_in` of them) and the bias its recipe gives
    /// (0 for the symmetric initializers, which leave biases to the initial bias).
    pub fn draw_neuron<R: Rng + ?Sized>(self, rng: &mut R, fan_in: usize, fan_out: usize) -> (Vec<f64>, f64) {
        let fan_in_f = fan_in.max(1) as f64;
        match self {
            Self::HeNormal => (normal_draws(rng, fan_in, (2.0 / fan_in_f).sqrt()), 0.0),
            Self::HeUniform => (uniform_draws(rng, fan_in, (6.0 / fan_in_f).sqrt()), 0.0),
            Self::XavierUniform => {
                let limit = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
                (uniform_draws(rng, fan_in, limit), 0.0)
            }
            Self::Uniform => (uniform_draws(rng, fan_in, 0.5), 0.0),
            Self::Rai => {
                let mut entries = normal_draws(rng, fan_in + 1, RAI_SIGMA / fan_in_f.sqrt());
                let chosen = rng.random_range(0..=fan_in);
                entries[chosen] = beta_2_1(rng);
                let bias = entries.pop().unwrap_or_default();
                (entries, bias)
            }
        }
    }
}

/// Normal draws: the portable standard normal, scaled (`rand_distr::Normal` scales the same way).
fn normal_draws<R: Rng + ?Sized>(rng: &mut R, count: usize, std_dev: f64) -> Vec<f64> {
    (0..count).map(|_| standard_normal(rng) * std_dev).collect()
}

fn uniform_draws<R: Rng + ?Sized>(rng: &mut R, count: usize, limit: f64) -> Vec<f64> {
    match Uniform::new_inclusive(-limit, limit) {
        Ok(uniform) => (0..count).map(|_| uniform.sample(rng)).collect(),
        Err(_) => vec![0.0; count],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn rai_puts_one_positive_beta_draw_per_neuron() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let limit = 5.0 * RAI_SIGMA / 3.0_f64.sqrt();
        for _ in 0..200 {
            let (weights, bias) = Init::Rai.draw_neuron(&mut rng, 3, 3);
            assert_eq!(weights.len(), 3);
            let mut entries = weights.clone();
            entries.push(bias);
            // The Beta(2, 1) draw is in (0, 1); the normal draws are small but may exceed it,
            // so we only check that at least one entry is in (0, 1) and all are finite.
            assert!(entries.iter().any(|&v| v > 0.0 && v < 1.0));
            assert!(entries.iter().all(|v| v.is_finite() && v.abs() < limit.max(1.0)));
        }
    }

    #[test]
    fn symmetric_inits_leave_biases_to_the_config() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for init in [Init::HeNormal, Init::HeUniform, Init::XavierUniform, Init::Uniform] {
            let (weights, bias) = init.draw_neuron(&mut rng, 4, 2);
            assert_eq!(weights.len(), 4);
            assert_eq!(bias, 0.0);
        }
    }
}

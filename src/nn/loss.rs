//! Losses on the network's raw outputs, each with its gradient beside it.

use ndarray::{ArrayView2, ArrayViewMut2, Zip};
use serde::{Deserialize, Serialize};

use super::Real;
use super::activation::{positive_part, sigmoid};
use super::numerics::{exp, ln, ln_1p};

/// A loss on the output layer's raw values (logits for classification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Binary cross-entropy on a logit: targets are 0 or 1, the model's probability is
    /// `sigmoid(z)`. Averaged over every output.
    BinaryCrossEntropy,
    /// Softmax cross-entropy: targets are one-hot rows. Averaged over the batch.
    SoftmaxCrossEntropy,
    /// Mean squared error, `mean((z - y)^2)` over every output (as PyTorch's `MSELoss`).
    MeanSquaredError,
}

/// `ln(1 + exp(x))` without overflow.
fn softplus<T: Real>(x: T) -> T {
    positive_part(x) + ln_1p(exp(-x.abs()))
}

/// The largest value of a row (NaN ignored, as `max` does), written out so that the sign of a
/// zero maximum is the same on every target.
fn row_max<T: Real>(row: ndarray::ArrayView1<T>) -> T {
    row.fold(T::neg_infinity(), |max, &z| if z > max { z } else { max })
}

impl Loss {
    /// The name a user reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::BinaryCrossEntropy => "binary cross-entropy",
            Self::SoftmaxCrossEntropy => "softmax cross-entropy",
            Self::MeanSquaredError => "mean squared error",
        }
    }

    /// The mean loss of `outputs` against `targets`.
    ///
    /// # Shapes
    /// `outputs: [batch, n_out]`, `targets: [batch, n_out]`.
    pub fn value<T: Real>(self, outputs: ArrayView2<T>, targets: ArrayView2<T>) -> T {
        let count = T::of(outputs.len().max(1) as f64);
        match self {
            Self::BinaryCrossEntropy => {
                let mut total = T::zero();
                Zip::from(outputs).and(targets).for_each(|&z, &y| total += softplus(z) - z * y);
                total / count
            }
            Self::MeanSquaredError => {
                let mut total = T::zero();
                Zip::from(outputs).and(targets).for_each(|&z, &y| total += (z - y) * (z - y));
                total / count
            }
            Self::SoftmaxCrossEntropy => {
                let rows = T::of(outputs.nrows().max(1) as f64);
                let mut total = T::zero();
                for (z_row, y_row) in outputs.rows().into_iter().zip(targets.rows()) {
                    let max = row_max(z_row);
                    let log_sum = max + ln(z_row.iter().map(|&z| exp(z - max)).sum::<T>());
                    total += z_row.iter().zip(y_row).map(|(&z, &y)| y * (log_sum - z)).sum::<T>();
                }
                total / rows
            }
        }
    }

    /// The mean loss, with `dL/d outputs` written into `gradient`.
    ///
    /// # Shapes
    /// `outputs`, `targets` and `gradient`: `[batch, n_out]`.
    pub fn value_and_gradient<T: Real>(
        self,
        outputs: ArrayView2<T>,
        targets: ArrayView2<T>,
        mut gradient: ArrayViewMut2<T>,
    ) -> T {
        if self == Self::BinaryCrossEntropy
            && let (Some(z), Some(y), Some(g)) = (outputs.as_slice(), targets.as_slice(), gradient.as_slice_mut())
        {
            return binary_cross_entropy_fused(z, y, g);
        }
        let value = self.value(outputs, targets);
        let count = T::of(outputs.len().max(1) as f64);
        match self {
            Self::BinaryCrossEntropy => {
                Zip::from(&mut gradient).and(outputs).and(targets).for_each(|g, &z, &y| *g = (sigmoid(z) - y) / count);
            }
            Self::MeanSquaredError => {
                let two = T::of(2.0);
                Zip::from(&mut gradient).and(outputs).and(targets).for_each(|g, &z, &y| *g = two * (z - y) / count);
            }
            Self::SoftmaxCrossEntropy => {
                let rows = T::of(outputs.nrows().max(1) as f64);
                for ((z_row, y_row), mut g_row) in
                    outputs.rows().into_iter().zip(targets.rows()).zip(gradient.rows_mut())
                {
                    let max = row_max(z_row);
                    let sum: T = z_row.iter().map(|&z| exp(z - max)).sum();
                    for ((g, &z), &y) in g_row.iter_mut().zip(z_row).zip(y_row) {
                        *g = (exp(z - max) / sum - y) / rows;
                    }
                }
            }
        }
        value
    }
}

/// Binary cross-entropy's value and gradient in one pass, sharing `exp(-|z|)`: softplus needs
/// it, and so does the stable sigmoid on either side of 0 (`1 / (1 + e)` or `e / (1 + e)`).
/// The same operations as [`Loss::value`] and the gradient loop, in the same order, so the same
/// bits.
fn binary_cross_entropy_fused<T: Real>(outputs: &[T], targets: &[T], gradient: &mut [T]) -> T {
    let count = T::of(outputs.len().max(1) as f64);
    let (zero, one) = (T::zero(), T::one());
    let mut total = zero;
    for ((g, &z), &y) in gradient.iter_mut().zip(outputs).zip(targets) {
        let e = exp(-z.abs());
        total += (positive_part(z) + ln_1p(e)) - z * y;
        let probability = if z >= zero { one / (one + e) } else { e / (one + e) };
        *g = (probability - y) / count;
    }
    total / count
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn binary_cross_entropy_by_hand() {
        // z = 0 gives p = 0.5, so the loss is ln 2 whatever the target.
        let loss = Loss::BinaryCrossEntropy.value(array![[0.0_f64]].view(), array![[1.0]].view());
        assert!((loss - std::f64::consts::LN_2).abs() < 1e-12);
    }

    #[test]
    fn softmax_of_equal_logits_is_ln_classes() {
        let outputs = array![[1.0_f64, 1.0, 1.0, 1.0]];
        let targets = array![[0.0, 0.0, 1.0, 0.0]];
        let loss = Loss::SoftmaxCrossEntropy.value(outputs.view(), targets.view());
        assert!((loss - 4.0_f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn the_fused_binary_cross_entropy_gives_the_same_bits() {
        let outputs = ndarray::Array2::from_shape_fn((7, 3), |(i, j)| (i as f32 - 3.0) * 1.7 + j as f32 * 0.3 - 0.0);
        let targets = ndarray::Array2::from_shape_fn((7, 3), |(i, j)| ((i + j) % 2) as f32);
        let mut fused = ndarray::Array2::zeros((7, 3));
        let value = Loss::BinaryCrossEntropy.value_and_gradient(outputs.view(), targets.view(), fused.view_mut());
        let separate = Loss::BinaryCrossEntropy.value(outputs.view(), targets.view());
        assert_eq!(value.to_bits(), separate.to_bits());
        let count = 21.0_f32;
        for ((g, &z), &y) in fused.iter().zip(&outputs).zip(&targets) {
            assert_eq!(g.to_bits(), ((sigmoid(z) - y) / count).to_bits());
        }
    }

    #[test]
    fn mean_squared_error_by_hand() {
        // ((1 - 0)^2 + (3 - 1)^2) / 2 = 2.5.
        let loss = Loss::MeanSquaredError.value(array![[1.0_f64], [3.0]].view(), array![[0.0], [1.0]].view());
        assert_eq!(loss, 2.5);
    }
}

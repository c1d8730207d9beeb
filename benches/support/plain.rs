//! The reference the small-network speed is measured against: the same training step written
//! the plain way with `ndarray` (`dot` for every product, `+ &biases`, `mapv` for the
//! activation, a new array for every intermediate), as a first version of any ndarray MLP
//! would be. Same network, batch, loss and learning rate as the workload it shadows; it is timed
//! only, its numbers are not compared.

use ndarray::{Array1, Array2, Axis, Zip};
use relu_lab::nn::{Loss, Mlp};

/// One workload's network as plain arrays: `(weights [n_in, n_out], biases [n_out])` per layer.
pub(crate) struct PlainMlp {
    layers: Vec<(Array2<f32>, Array1<f32>)>,
}

impl PlainMlp {
    /// The same starting weights as `mlp`.
    pub(crate) fn of(mlp: &Mlp<f32>) -> Self {
        Self { layers: mlp.layers.iter().map(|layer| (layer.weights.clone(), layer.biases.clone())).collect() }
    }

    /// Forward, loss, backward and an SGD update on `(inputs, targets)`, ReLU hidden layers.
    /// Returns the loss before the update.
    ///
    /// # Shapes
    /// `inputs: [batch, n_in]`, `targets: [batch, n_out]`.
    pub(crate) fn step(&mut self, inputs: &Array2<f32>, targets: &Array2<f32>, loss: Loss, learning_rate: f32) -> f32 {
        let last = self.layers.len() - 1;
        let mut pre_activations = Vec::with_capacity(self.layers.len());
        let mut activations = vec![inputs.clone()];
        for (index, (weights, biases)) in self.layers.iter().enumerate() {
            let z = activations[index].dot(weights) + biases;
            let a = if index == last { z.clone() } else { z.mapv(|v| v.max(0.0)) };
            pre_activations.push(z);
            activations.push(a);
        }
        let (value, mut delta) = loss_and_delta(&activations[last + 1], targets, loss);
        for index in (0..self.layers.len()).rev() {
            let grad_weights = activations[index].t().dot(&delta);
            let grad_biases = delta.sum_axis(Axis(0));
            if index > 0 {
                let mut below = delta.dot(&self.layers[index].0.t());
                Zip::from(&mut below).and(&pre_activations[index - 1]).for_each(|d, &z| {
                    if z <= 0.0 {
                        *d = 0.0;
                    }
                });
                delta = below;
            }
            let (weights, biases) = &mut self.layers[index];
            weights.scaled_add(-learning_rate, &grad_weights);
            biases.scaled_add(-learning_rate, &grad_biases);
        }
        value
    }
}

/// The mean loss and `dL/d outputs`.
fn loss_and_delta(outputs: &Array2<f32>, targets: &Array2<f32>, loss: Loss) -> (f32, Array2<f32>) {
    match loss {
        Loss::SoftmaxCrossEntropy => {
            let rows = outputs.nrows() as f32;
            let mut delta = outputs.clone();
            let mut total = 0.0;
            for (mut row, target) in delta.rows_mut().into_iter().zip(targets.rows()) {
                let max = row.fold(f32::NEG_INFINITY, |m, &z| m.max(z));
                row.mapv_inplace(|z| (z - max).exp());
                let sum = row.sum();
                row /= sum;
                total -= row.iter().zip(target).map(|(p, y)| y * p.ln()).sum::<f32>();
                row -= &target;
                row /= rows;
            }
            (total / rows, delta)
        }
        Loss::BinaryCrossEntropy | Loss::MeanSquaredError => {
            let count = outputs.len() as f32;
            let probabilities = outputs.mapv(|z| 1.0 / (1.0 + (-z).exp()));
            let value = Zip::from(outputs)
                .and(targets)
                .fold(0.0, |total, &z, &y| total + z.max(0.0) + (-z.abs()).exp().ln_1p() - z * y);
            ((value / count), (probabilities - targets) / count)
        }
    }
}

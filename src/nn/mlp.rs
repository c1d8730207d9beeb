//! Dense layers and the multilayer perceptron: forward (keeping pre-activations) and backward.

use ndarray::{Array1, Array2, ArrayView2};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::chains::{Finish, relu, relu_slope};
use super::dispatch::run_wide;
use super::kernels::{affine, column_sums, times_transposed, transposed_times};
use super::numerics::Numerics;

/// Runs `$body` with `$name` bound to `$activation` rebuilt as a literal of its own kind: the
/// body is written out once per kind, so in each copy the compiler knows the kind and the
/// inlined `value_with_slope` / `derivative_with_slope` lose their `match`: the element loop
/// has no per-element dispatch. The same functions run, so the bits are the same.
macro_rules! with_known_kind {
    ($activation:expr, |$name:ident| $body:block) => {
        match $activation {
            Activation::Relu => {
                let $name = Activation::Relu;
                $body
            }
            Activation::LeakyRelu { slope } => {
                let $name = Activation::LeakyRelu { slope };
                $body
            }
            Activation::Prelu { initial_slope } => {
                let $name = Activation::Prelu { initial_slope };
                $body
            }
            Activation::Elu { alpha } => {
                let $name = Activation::Elu { alpha };
                $body
            }
            Activation::Selu => {
                let $name = Activation::Selu;
                $body
            }
            Activation::Gelu => {
                let $name = Activation::Gelu;
                $body
            }
            Activation::Silu => {
                let $name = Activation::Silu;
                $body
            }
            Activation::Softplus => {
                let $name = Activation::Softplus;
                $body
            }
            Activation::Tanh => {
                let $name = Activation::Tanh;
                $body
            }
            Activation::Sigmoid => {
                let $name = Activation::Sigmoid;
                $body
            }
            Activation::Linear => {
                let $name = Activation::Linear;
                $body
            }
        }
    };
}
use super::{Activation, Init, Real};

/// One dense layer's parameters. Also used, with the same shapes, for gradients and optimizer
/// state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dense<T> {
    /// Incoming weights. `[n_in, n_out]`: column `j` holds neuron `j`'s weights.
    pub weights: Array2<T>,
    /// One bias per neuron. `[n_out]`.
    pub biases: Array1<T>,
    /// One PReLU slope per neuron (used only when the activation is PReLU). `[n_out]`.
    pub prelu_slopes: Array1<T>,
}

impl<T: Real> Dense<T> {
    /// A layer of zeros (for gradients and optimizer state).
    pub fn zeros(n_in: usize, n_out: usize) -> Self {
        Self { weights: Array2::zeros((n_in, n_out)), biases: Array1::zeros(n_out), prelu_slopes: Array1::zeros(n_out) }
    }

    /// The number of inputs.
    pub fn input_size(&self) -> usize {
        self.weights.nrows()
    }

    /// The number of neurons.
    pub fn output_size(&self) -> usize {
        self.weights.ncols()
    }

    /// The three parameter tensors as flat slices: weights, biases, PReLU slopes.
    pub fn tensors(&self) -> [&[T]; 3] {
        [
            self.weights.as_slice().expect("parameters are kept in standard layout"),
            self.biases.as_slice().expect("parameters are kept in standard layout"),
            self.prelu_slopes.as_slice().expect("parameters are kept in standard layout"),
        ]
    }

    /// The three parameter tensors as flat mutable slices: weights, biases, PReLU slopes.
    pub fn tensors_mut(&mut self) -> [&mut [T]; 3] {
        [
            self.weights.as_slice_mut().expect("parameters are kept in standard layout"),
            self.biases.as_slice_mut().expect("parameters are kept in standard layout"),
            self.prelu_slopes.as_slice_mut().expect("parameters are kept in standard layout"),
        ]
    }

    /// Whether every parameter is finite.
    pub fn is_finite(&self) -> bool {
        self.tensors().iter().all(|t| T::all_finite(t))
    }
}

/// A multilayer perceptron: hidden layers share one activation, the output layer is linear
/// (its outputs are logits or regression values).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mlp<T> {
    /// The hidden layers, then the output layer.
    pub layers: Vec<Dense<T>>,
    /// The activation of every hidden neuron.
    pub activation: Activation,
    /// How the matrix products are computed: the same bits everywhere, or this machine's
    /// fastest kernels for large layers (see [`Numerics`]).
    #[serde(default)]
    pub numerics: Numerics,
}

/// Buffers for one batch size: the forward pass's pre-activations and activations and the
/// backward pass's deltas. Reused from step to step, so a step allocates nothing.
#[derive(Clone, Debug)]
pub struct Workspace<T> {
    /// Per layer, `[batch, n_out]`: `z = a_prev · W + b`.
    pub pre_activations: Vec<Array2<T>>,
    /// Per layer, `[batch, n_out]`: `f(z)`; for the output layer, `z` itself.
    pub activations: Vec<Array2<T>>,
    /// Per layer, `[batch, n_out]`: `dL/dz`. The loss writes the last one.
    pub deltas: Vec<Array2<T>>,
    /// The weights of the layer being back-propagated, transposed (the kernels read them row by
    /// row).
    scratch: Vec<T>,
}

impl<T: Real> Workspace<T> {
    /// Buffers for `mlp` at `batch` rows.
    pub fn new(mlp: &Mlp<T>, batch: usize) -> Self {
        let shapes: Vec<(usize, usize)> = mlp.layers.iter().map(|layer| (batch, layer.output_size())).collect();
        let make = || shapes.iter().map(|&shape| Array2::zeros(shape)).collect::<Vec<_>>();
        let scratch = Vec::with_capacity(mlp.layers.iter().map(|layer| layer.weights.len()).max().unwrap_or(0));
        Self { pre_activations: make(), activations: make(), deltas: make(), scratch }
    }

    /// The batch size these buffers hold.
    pub fn batch_size(&self) -> usize {
        self.activations.first().map_or(0, Array2::nrows)
    }

    /// Whether these buffers fit `mlp` at `batch` rows.
    pub fn fits(&self, mlp: &Mlp<T>, batch: usize) -> bool {
        self.activations.len() == mlp.layers.len()
            && self.activations.iter().zip(&mlp.layers).all(|(a, layer)| a.dim() == (batch, layer.output_size()))
    }

    /// The network's outputs from the last forward pass. `[batch, n_out]`.
    pub fn outputs(&self) -> ArrayView2<'_, T> {
        self.activations.last().expect("a network has an output layer").view()
    }
}

/// Gradients of the loss with respect to every parameter, shaped like the network's layers.
#[derive(Clone, Debug)]
pub struct Gradients<T> {
    /// Per layer, the same shapes as [`Mlp::layers`].
    pub layers: Vec<Dense<T>>,
}

impl<T: Real> Gradients<T> {
    /// Zero gradients shaped like `mlp`.
    pub fn zeros_like(mlp: &Mlp<T>) -> Self {
        Self { layers: mlp.layers.iter().map(|l| Dense::zeros(l.input_size(), l.output_size())).collect() }
    }

    /// The Frobenius norm of layer `index`'s weight gradient.
    pub fn weight_norm(&self, index: usize) -> f64 {
        self.layers[index].weights.iter().map(|&g| square(g.as_f64())).sum::<f64>().sqrt()
    }

    /// The Euclidean length of every gradient together (weights, biases and PReLU slopes of
    /// every layer), summed in `f64` in a fixed order.
    pub fn global_norm(&self) -> f64 {
        let squares = self.layers.iter().flat_map(Dense::tensors).flatten().map(|&g| square(g.as_f64()));
        squares.sum::<f64>().sqrt()
    }

    /// Gradient-norm clipping: if the global norm is above `max_norm`, scales every gradient
    /// by `max_norm / norm` so that it is `max_norm` long. Returns the norm before.
    pub fn clip_global_norm(&mut self, max_norm: f64) -> f64 {
        let norm = self.global_norm();
        if norm > max_norm {
            let scale = T::of(max_norm / norm);
            for layer in &mut self.layers {
                for tensor in layer.tensors_mut() {
                    for g in tensor {
                        *g *= scale;
                    }
                }
            }
        }
        norm
    }
}

impl<T: Real> Mlp<T> {
    /// A network with layer sizes `sizes` (input, hidden..., output), drawn with `init`, with
    /// the numerics its size gets by default ([`Numerics::for_layer_sizes`]).
    ///
    /// Hidden biases start at `initial_bias` (plus RAI's own draw under RAI); the output
    /// layer's bias is 0 under the symmetric initializers.
    pub fn new<R: Rng + ?Sized>(
        sizes: &[usize],
        activation: Activation,
        init: Init,
        initial_bias: f64,
        rng: &mut R,
    ) -> Self {
        let layer_count = sizes.len().saturating_sub(1);
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(index, pair)| {
                let is_hidden = index + 1 < layer_count;
                let bias_offset = if is_hidden { initial_bias } else { 0.0 };
                Self::draw_layer(pair[0], pair[1], init, bias_offset, activation, rng)
            })
            .collect();
        Self { layers, activation, numerics: Numerics::for_layer_sizes(sizes) }
    }

    /// The same network with `numerics`.
    pub fn with_numerics(mut self, numerics: Numerics) -> Self {
        self.numerics = numerics;
        self
    }

    fn draw_layer<R: Rng + ?Sized>(
        n_in: usize,
        n_out: usize,
        init: Init,
        bias_offset: f64,
        activation: Activation,
        rng: &mut R,
    ) -> Dense<T> {
        let mut layer = Dense::zeros(n_in, n_out);
        for neuron in 0..n_out {
            let (weights, bias) = init.draw_neuron(rng, n_in, n_out);
            for (slot, value) in layer.weights.column_mut(neuron).iter_mut().zip(weights) {
                *slot = T::of(value);
            }
            layer.biases[neuron] = T::of(bias + bias_offset);
        }
        layer.prelu_slopes.fill(T::of(activation.initial_prelu_slope()));
        layer
    }

    /// Redraws one neuron's incoming weights with `init` and sets its bias to `bias` (plus
    /// RAI's own draw under RAI).
    pub fn redraw_neuron<R: Rng + ?Sized>(
        &mut self,
        layer_index: usize,
        neuron: usize,
        init: Init,
        bias: f64,
        rng: &mut R,
    ) {
        let slope = T::of(self.activation.initial_prelu_slope());
        let Some(layer) = self.layers.get_mut(layer_index) else {
            return;
        };
        if neuron >= layer.output_size() {
            return;
        }
        let (weights, drawn_bias) = init.draw_neuron(rng, layer.input_size(), layer.output_size());
        for (slot, value) in layer.weights.column_mut(neuron).iter_mut().zip(weights) {
            *slot = T::of(value);
        }
        layer.biases[neuron] = T::of(drawn_bias + bias);
        layer.prelu_slopes[neuron] = slope;
    }

    /// Layer sizes: input, hidden..., output.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.input_size()];
        sizes.extend(self.layers.iter().map(Dense::output_size));
        sizes
    }

    /// The number of inputs.
    pub fn input_size(&self) -> usize {
        self.layers.first().map_or(0, Dense::input_size)
    }

    /// The number of outputs.
    pub fn output_size(&self) -> usize {
        self.layers.last().map_or(0, Dense::output_size)
    }

    /// The number of hidden layers.
    pub fn hidden_layer_count(&self) -> usize {
        self.layers.len().saturating_sub(1)
    }

    /// Switches the hidden activation, keeping every weight. Entering PReLU starts every
    /// slope at its initial value.
    pub fn set_activation(&mut self, activation: Activation) {
        let entering_prelu = matches!(activation, Activation::Prelu { .. }) && activation != self.activation;
        if entering_prelu {
            let slope = T::of(activation.initial_prelu_slope());
            for layer in &mut self.layers {
                layer.prelu_slopes.fill(slope);
            }
        }
        self.activation = activation;
    }

    /// Whether every parameter is finite.
    pub fn is_finite(&self) -> bool {
        self.layers.iter().all(Dense::is_finite)
    }

    /// Runs the network on `inputs`, keeping every layer's pre-activations and activations in
    /// `workspace` (resized if needed).
    ///
    /// # Shapes
    /// `inputs: [batch, n_in]`; afterwards `workspace.outputs(): [batch, n_out]`.
    pub fn forward(&self, inputs: ArrayView2<T>, workspace: &mut Workspace<T>) {
        let batch = inputs.nrows();
        if !workspace.fits(self, batch) {
            *workspace = Workspace::new(self, batch);
        }
        let output_index = self.layers.len() - 1;
        for (index, layer) in self.layers.iter().enumerate() {
            let (done, rest) = workspace.activations.split_at_mut(index);
            let layer_input = match done.last() {
                Some(previous) => previous.view(),
                None => inputs.view(),
            };
            let z = &mut workspace.pre_activations[index];
            let a = &mut rest[0];
            let (weights, biases) = (layer.weights.view(), layer.biases.view());
            if index != output_index
                && self.activation == Activation::Relu
                && let Some(activations) = a.as_slice_mut()
            {
                // ReLU as the pre-activations are stored (the same operation, one pass fewer).
                affine(layer_input, weights, biases, z.view_mut(), Finish::Relu(activations), self.numerics);
                continue;
            }
            affine(layer_input, weights, biases, z.view_mut(), Finish::Store, self.numerics);
            if index == output_index {
                a.assign(z);
            } else {
                self.activate(z.view(), layer, a);
            }
        }
    }

    fn activate(&self, z: ArrayView2<T>, layer: &Dense<T>, a: &mut Array2<T>) {
        let (Some(z), Some(a)) = (z.as_slice(), a.as_slice_mut()) else {
            unreachable!("workspace buffers are kept in standard layout")
        };
        let slopes = layer.prelu_slopes.as_slice().expect("parameters are kept in standard layout");
        // ReLU, the common case, gets its own loop: no per-element dispatch, so it vectorizes.
        // `!(z <= 0)` keeps NaN, so a diverged neuron is not hidden as a zero.
        if self.activation == Activation::Relu {
            run_wide(|| {
                for (a_value, &z_value) in a.iter_mut().zip(z) {
                    *a_value = relu(z_value);
                }
            });
            return;
        }
        with_known_kind!(self.activation, |activation| {
            for (a_row, z_row) in a.chunks_exact_mut(slopes.len()).zip(z.chunks_exact(slopes.len())) {
                for ((a_value, &z_value), &slope) in a_row.iter_mut().zip(z_row).zip(slopes) {
                    *a_value = activation.value_with_slope(z_value, slope);
                }
            }
        });
    }

    /// Multiplies the gradient flowing into layer `below`'s activations by `f'(z)`, and (under
    /// PReLU) accumulates the slopes' gradient.
    ///
    /// # Shapes
    /// `delta: [batch, n]`, `z: [batch, n]`, `slopes` and `slope_grads`: `[n]`.
    fn through_activation(&self, delta: &mut [T], z: &[T], slopes: &[T], slope_grads: &mut [T]) {
        slope_grads.fill(T::zero());
        if self.activation == Activation::Relu {
            run_wide(|| {
                for (d, &z_value) in delta.iter_mut().zip(z) {
                    *d = relu_slope(z_value, *d);
                }
            });
            return;
        }
        with_known_kind!(self.activation, |activation| {
            let is_prelu = matches!(activation, Activation::Prelu { .. });
            for (d_row, z_row) in delta.chunks_exact_mut(slopes.len()).zip(z.chunks_exact(slopes.len())) {
                let rows = d_row.iter_mut().zip(z_row).zip(slopes).zip(&mut *slope_grads);
                for (((d, &z_value), &slope), slope_grad) in rows {
                    if is_prelu {
                        *slope_grad += *d * Activation::slope_derivative(z_value);
                    }
                    *d *= activation.derivative_with_slope(z_value, slope);
                }
            }
        });
    }

    /// Back-propagates the output deltas that the loss wrote into `workspace.deltas` (last
    /// entry) after [`Mlp::forward`] on the same `inputs`, filling `gradients`.
    ///
    /// # Shapes
    /// `inputs: [batch, n_in]`, the same rows as the forward pass.
    pub fn backward(&self, inputs: ArrayView2<T>, workspace: &mut Workspace<T>, gradients: &mut Gradients<T>) {
        // Whether the layer's bias gradient was summed as its deltas were stored.
        let mut has_bias_gradient = false;
        for index in (0..self.layers.len()).rev() {
            let layer = &self.layers[index];
            let layer_input = if index == 0 { inputs.view() } else { workspace.activations[index - 1].view() };
            let (lower, upper) = workspace.deltas.split_at_mut(index);
            let delta = &upper[0];
            let grad = &mut gradients.layers[index];
            transposed_times(layer_input, delta.view(), grad.weights.view_mut(), self.numerics);
            if !has_bias_gradient {
                column_sums(delta.view(), &mut grad.biases);
            }
            has_bias_gradient = false;
            if index == 0 {
                continue;
            }
            let below = index - 1;
            let delta_below = &mut lower[below];
            let z_below =
                workspace.pre_activations[below].as_slice().expect("workspace buffers are kept in standard layout");
            let grad_below = &mut gradients.layers[below];
            let slope_grads = grad_below.prelu_slopes.as_slice_mut().expect("parameters are kept in standard layout");
            if self.activation == Activation::Relu {
                // ReLU's derivative applied as the gradient is stored, and the bias gradient
                // below summed as it is (two passes fewer).
                let bias_grads = grad_below.biases.as_slice_mut().expect("parameters are kept in standard layout");
                let finish = Finish::ReluSlopeSums(z_below, bias_grads);
                let (weights, scratch) = (layer.weights.view(), &mut workspace.scratch);
                times_transposed(delta.view(), weights, delta_below.view_mut(), finish, scratch, self.numerics);
                slope_grads.fill(T::zero());
                has_bias_gradient = true;
                continue;
            }
            times_transposed(
                delta.view(),
                layer.weights.view(),
                delta_below.view_mut(),
                Finish::Store,
                &mut workspace.scratch,
                self.numerics,
            );
            let slopes = self.layers[below].prelu_slopes.as_slice().expect("parameters are kept in standard layout");
            let Some(delta_below) = delta_below.as_slice_mut() else {
                unreachable!("workspace buffers are kept in standard layout")
            };
            self.through_activation(delta_below, z_below, slopes, slope_grads);
        }
    }

    /// The network's outputs on `inputs` (allocates; for evaluation, not the training loop).
    ///
    /// # Shapes
    /// `inputs: [batch, n_in]` → `[batch, n_out]`.
    pub fn predict(&self, inputs: ArrayView2<T>) -> Array2<T> {
        let mut workspace = Workspace::new(self, inputs.nrows());
        self.forward(inputs, &mut workspace);
        workspace.activations.pop().unwrap_or_default()
    }
}

/// `x²`, one rounded product (not `powi`, whose rounding no platform promises).
fn square(x: f64) -> f64 {
    x * x
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// A 2-2-1 ReLU net with constant weights, worked out by hand.
    #[test]
    fn forward_with_constant_weights() {
        let mut mlp: Mlp<f64> = Mlp {
            layers: vec![Dense::zeros(2, 2), Dense::zeros(2, 1)],
            activation: Activation::Relu,
            numerics: Numerics::Portable,
        };
        // Hidden: h1 = relu(x + y - 1), h2 = relu(-x + 0.5); output: 2 h1 - h2 + 0.25.
        mlp.layers[0].weights = array![[1.0, -1.0], [1.0, 0.0]];
        mlp.layers[0].biases = array![-1.0, 0.5];
        mlp.layers[1].weights = array![[2.0], [-1.0]];
        mlp.layers[1].biases = array![0.25];
        let inputs = array![[1.0, 2.0], [0.0, 0.0]];
        // Row 1: h = (relu(2), relu(-0.5)) = (2, 0), out = 4 + 0.25 = 4.25.
        // Row 2: h = (relu(-1), relu(0.5)) = (0, 0.5), out = -0.5 + 0.25 = -0.25.
        let out = mlp.predict(inputs.view());
        assert_eq!(out, array![[4.25], [-0.25]]);
    }
}

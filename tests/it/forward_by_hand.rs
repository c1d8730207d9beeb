//! Forward and backward passes with constant weights, each worked out by hand in a comment, so
//! a reader can check the expected numbers without running anything.
//!
//! Weights are `[n_in, n_out]`: row `i`, column `j` is the weight from input `i` to neuron `j`.

use ndarray::{Array1, Array2, array};
use relu_lab::nn::{Activation, Dense, Gradients, Loss, Mlp, Numerics, Workspace};

fn dense(weights: Array2<f64>, biases: Array1<f64>) -> Dense<f64> {
    let n_out = weights.ncols();
    Dense { weights, biases, prelu_slopes: Array1::zeros(n_out) }
}

fn assert_close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-12, "{what}: got {got}, want {want}");
}

/// A 1-2-1 leaky `ReLU` net (slope 0.25, so every number below is exact in binary).
#[test]
fn leaky_relu_1_2_1_forward() {
    let mlp = Mlp {
        layers: vec![dense(array![[1.0, -2.0]], array![0.5, 1.0]), dense(array![[2.0], [3.0]], array![-1.0])],
        activation: Activation::LeakyRelu { slope: 0.25 },
        numerics: Numerics::Portable,
    };
    let inputs = array![[1.0], [-1.0]];
    // x = 1:  z = (1 + 0.5, -2 + 1) = (1.5, -1)     h = (1.5, 0.25 * -1) = (1.5, -0.25)
    //         out = 2 * 1.5 + 3 * -0.25 - 1 = 3 - 0.75 - 1 = 1.25
    // x = -1: z = (-1 + 0.5, 2 + 1) = (-0.5, 3)     h = (0.25 * -0.5, 3) = (-0.125, 3)
    //         out = 2 * -0.125 + 3 * 3 - 1 = -0.25 + 9 - 1 = 7.75
    let mut workspace = Workspace::new(&mlp, 2);
    mlp.forward(inputs.view(), &mut workspace);
    assert_eq!(workspace.pre_activations[0], array![[1.5, -1.0], [-0.5, 3.0]]);
    assert_eq!(workspace.activations[0], array![[1.5, -0.25], [-0.125, 3.0]]);
    assert_eq!(workspace.outputs(), array![[1.25], [7.75]]);
    // The output layer is linear: its activations are its pre-activations.
    assert_eq!(workspace.pre_activations[1], workspace.activations[1]);
    assert_eq!(mlp.predict(inputs.view()), array![[1.25], [7.75]]);
}

/// A 2-1-1 tanh net, at inputs where tanh is a round number: tanh(ln(3) / 2) = (3 - 1) / (3 + 1)
/// = 0.5, since tanh(u) = (e^(2u) - 1) / (e^(2u) + 1).
#[test]
fn tanh_2_1_1_forward() {
    let mlp = Mlp {
        layers: vec![dense(array![[1.0], [-1.0]], array![0.0]), dense(array![[2.0]], array![0.5])],
        activation: Activation::Tanh,
        numerics: Numerics::Portable,
    };
    let u = 3.0_f64.ln() / 2.0;
    let inputs = array![[u, 0.0], [0.0, u], [1.0, 1.0]];
    // (u, 0): z = u - 0 = u,   h = tanh(u) = 0.5,   out = 2 * 0.5 + 0.5 = 1.5
    // (0, u): z = -u,          h = -0.5,            out = 2 * -0.5 + 0.5 = -0.5
    // (1, 1): z = 1 - 1 = 0,   h = 0,               out = 0.5
    let outputs = mlp.predict(inputs.view());
    assert_eq!(outputs.dim(), (3, 1));
    for (got, want) in outputs.iter().zip([1.5, -0.5, 0.5]) {
        assert_close(*got, want, "tanh net output");
    }
}

/// A 1-1-3 `ReLU` net whose logits make softmax probabilities of 1/8, 2/8 and 5/8, then the
/// softmax cross-entropy and its gradient.
#[test]
fn softmax_cross_entropy_after_a_1_1_3_relu_net() {
    let (ln2, ln5) = (2.0_f64.ln(), 5.0_f64.ln());
    let mlp = Mlp {
        layers: vec![dense(array![[1.0]], array![0.0]), dense(array![[0.0, ln2, ln5]], array![0.0, 0.0, 0.0])],
        activation: Activation::Relu,
        numerics: Numerics::Portable,
    };
    let inputs = array![[1.0], [-1.0]];
    let targets = array![[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    // x = 1:  h = relu(1) = 1, logits = (0, ln 2, ln 5), exp = (1, 2, 5), p = (1/8, 2/8, 5/8).
    //         Target class 1: loss = -ln(2/8) = ln 4.
    // x = -1: h = relu(-1) = 0 (the hidden unit is off), logits = biases = (0, 0, 0),
    //         p = (1/3, 1/3, 1/3). Target class 2: loss = ln 3.
    // Mean over the 2 rows: (ln 4 + ln 3) / 2 = ln(12) / 2.
    // Gradient (p - y) / 2: row 1 (1/16, (1/4 - 1) / 2, 5/16) = (1/16, -3/8, 5/16),
    //                       row 2 (1/6, 1/6, (1/3 - 1) / 2)   = (1/6, 1/6, -1/3).
    let mut workspace = Workspace::new(&mlp, 2);
    mlp.forward(inputs.view(), &mut workspace);
    let logits = workspace.outputs().to_owned();
    for (got, want) in logits.iter().zip([0.0, ln2, ln5, 0.0, 0.0, 0.0]) {
        assert_close(*got, want, "logit");
    }
    let mut gradient = Array2::zeros((2, 3));
    let loss = Loss::SoftmaxCrossEntropy.value_and_gradient(logits.view(), targets.view(), gradient.view_mut());
    assert_close(loss, 12.0_f64.ln() / 2.0, "softmax cross-entropy");
    let want = [1.0 / 16.0, -3.0 / 8.0, 5.0 / 16.0, 1.0 / 6.0, 1.0 / 6.0, -1.0 / 3.0];
    for (got, want) in gradient.iter().zip(want) {
        assert_close(*got, want, "softmax gradient");
    }
}

/// A 1-1-1 net `out = w2 * f(w1 * x + b1) + b2` with the loss `(out - y)^2` (one row, one
/// output, so the mean is the single term). By the chain rule:
///
/// ```text
/// dL/dout = 2 (out - y)
/// dL/dw2  = dL/dout * h          dL/db2 = dL/dout
/// dL/dh   = dL/dout * w2
/// dL/dz1  = dL/dh * f'(z1)       (for ReLU, f'(z1) = 1 if z1 > 0, else 0)
/// dL/dw1  = dL/dz1 * x           dL/db1 = dL/dz1
/// ```
struct ByHand {
    /// `[w1, b1, w2, b2]`.
    gradients: [f64; 4],
    /// `dL/dz1`, as backward left it in the workspace.
    hidden_delta: f64,
    loss: f64,
}

/// x = 2, w2 = 2, b2 = -1, target y = 0.5; the hidden neuron's `w1` and `b1` vary.
fn one_one_one(activation: Activation, w1: f64, b1: f64) -> ByHand {
    let mlp = Mlp {
        layers: vec![dense(array![[w1]], array![b1]), dense(array![[2.0]], array![-1.0])],
        activation,
        numerics: Numerics::Portable,
    };
    let inputs = array![[2.0]];
    let targets = array![[0.5]];
    let mut workspace = Workspace::new(&mlp, 1);
    mlp.forward(inputs.view(), &mut workspace);
    let outputs = workspace.activations.last().expect("an output layer");
    let deltas = workspace.deltas.last_mut().expect("an output layer");
    let loss = Loss::MeanSquaredError.value_and_gradient(outputs.view(), targets.view(), deltas.view_mut());
    let mut gradients = Gradients::zeros_like(&mlp);
    mlp.backward(inputs.view(), &mut workspace, &mut gradients);
    let [hidden, output] = [&gradients.layers[0], &gradients.layers[1]];
    ByHand {
        gradients: [hidden.weights[[0, 0]], hidden.biases[0], output.weights[[0, 0]], output.biases[0]],
        hidden_delta: workspace.deltas[0][[0, 0]],
        loss,
    }
}

#[test]
fn relu_1_1_1_backward_when_alive() {
    // w1 = 0.5, b1 = 0.5: z1 = 0.5 * 2 + 0.5 = 1.5 > 0, h = 1.5, out = 2 * 1.5 - 1 = 2.
    // L = (2 - 0.5)^2 = 2.25, dL/dout = 2 * 1.5 = 3.
    // dL/dw2 = 3 * 1.5 = 4.5, dL/db2 = 3, dL/dh = 3 * 2 = 6, dL/dz1 = 6 * 1 = 6,
    // dL/dw1 = 6 * 2 = 12, dL/db1 = 6.
    let result = one_one_one(Activation::Relu, 0.5, 0.5);
    assert_eq!(result.loss, 2.25);
    assert_eq!(result.hidden_delta, 6.0);
    assert_eq!(result.gradients, [12.0, 6.0, 4.5, 3.0]);
}

/// The dying-ReLU mechanism: when the hidden pre-activation is negative, the loss still has an
/// error signal, but nothing of it reaches the weights below the `ReLU`.
#[test]
fn relu_1_1_1_backward_when_dead_passes_no_gradient_below() {
    // w1 = -0.5, b1 = 0.5: z1 = -0.5 * 2 + 0.5 = -0.5 < 0, h = relu(-0.5) = 0, out = b2 = -1.
    // L = (-1 - 0.5)^2 = 2.25 (not zero: the net is wrong), dL/dout = 2 * -1.5 = -3.
    // dL/dw2 = -3 * h = 0, dL/db2 = -3, dL/dh = -3 * 2 = -6,
    // dL/dz1 = -6 * relu'(-0.5) = -6 * 0 = 0, so dL/dw1 = 0 and dL/db1 = 0 exactly:
    // gradient descent can never move w1 or b1, and the neuron stays dead.
    let dead = one_one_one(Activation::Relu, -0.5, 0.5);
    assert_eq!(dead.loss, 2.25);
    assert_eq!(dead.gradients[3], -3.0, "the output bias still learns");
    assert_eq!(dead.hidden_delta, 0.0);
    assert_eq!(dead.gradients[..3], [0.0, 0.0, 0.0], "nothing flows below or through the dead unit");

    // At the kink itself, z1 = -0.25 * 2 + 0.5 = 0: ReLU'(0) = 0 by convention, so the same.
    let at_kink = one_one_one(Activation::Relu, -0.25, 0.5);
    assert_eq!(at_kink.hidden_delta, 0.0);
    assert_eq!(at_kink.gradients[..3], [0.0, 0.0, 0.0]);
    assert_eq!(at_kink.gradients[3], -3.0);

    // The contrast: Leaky ReLU (slope 0.25) at the same weights keeps a gradient.
    // h = 0.25 * -0.5 = -0.125, out = 2 * -0.125 - 1 = -1.25, dL/dout = 2 * (-1.25 - 0.5) = -3.5.
    // dL/dw2 = -3.5 * -0.125 = 0.4375, dL/db2 = -3.5, dL/dh = -3.5 * 2 = -7,
    // dL/dz1 = -7 * 0.25 = -1.75, dL/dw1 = -1.75 * 2 = -3.5, dL/db1 = -1.75.
    let leaky = one_one_one(Activation::LeakyRelu { slope: 0.25 }, -0.5, 0.5);
    assert_eq!(leaky.loss, 3.0625);
    assert_eq!(leaky.hidden_delta, -1.75);
    assert_eq!(leaky.gradients, [-3.5, -1.75, 0.4375, -3.5]);
}

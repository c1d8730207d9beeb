// Origin: tests/data/activations.json is a verbatim copy of ../shared/reference/activations.json (PyTorch definitions and autograd conventions, computed in f64).

//! Every activation we implement is checked against that file's `f` and `f_prime` at every
//! `x`: in `f64` to 1e-6 absolute, in `f32` to 1e-5 relative (1e-6 absolute near zero).

use std::collections::BTreeMap;

use relu_lab::nn::Activation;
use relu_lab::nn::activation::{SELU_ALPHA, SELU_SCALE};
use serde::Deserialize;

/// The part of the reference file we read.
#[derive(Debug, Deserialize)]
struct Reference {
    /// The sample points, shared by every function.
    x: Vec<f64>,
    /// The constants the file was computed with.
    constants: BTreeMap<String, f64>,
    /// Values and derivatives at `x`, by the file's function name.
    functions: BTreeMap<String, ReferenceFunction>,
}

/// One function's values and derivatives at the reference points.
#[derive(Debug, Deserialize)]
struct ReferenceFunction {
    /// `f(x)` at each point.
    f: Vec<f64>,
    /// `f'(x)` at each point, with the autograd convention of `PyTorch` at a kink.
    f_prime: Vec<f64>,
}

/// The file's functions that we implement, with our activation for each.
const IMPLEMENTED: [(&str, Activation); 10] = [
    ("ReLU", Activation::Relu),
    ("LeakyReLU(0.01)", Activation::LeakyRelu { slope: 0.01 }),
    ("ELU(alpha=1)", Activation::Elu { alpha: 1.0 }),
    ("SELU", Activation::Selu),
    ("GELU(exact)", Activation::Gelu),
    ("SiLU", Activation::Silu),
    ("Softplus(beta=1)", Activation::Softplus),
    ("Tanh", Activation::Tanh),
    ("Sigmoid", Activation::Sigmoid),
    ("PReLU(a=0.25)", Activation::Prelu { initial_slope: 0.25 }),
];

/// The file's functions we deliberately do not check. We only implement the exact GELU
/// (`x * Phi(x)` with `erf`), not the tanh approximation, so "GELU(tanh)" has nothing to test.
const NOT_IMPLEMENTED: [&str; 1] = ["GELU(tanh)"];

/// The `PReLU` slope the reference file uses.
const REFERENCE_PRELU_SLOPE: f64 = 0.25;

const F64_ABSOLUTE_TOLERANCE: f64 = 1e-6;
const F32_RELATIVE_TOLERANCE: f64 = 1e-5;
const F32_ABSOLUTE_FLOOR: f64 = 1e-6;

fn reference() -> Reference {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/activations.json");
    let text = std::fs::read_to_string(path).expect("tests/data/activations.json is readable");
    let reference: Reference = serde_json::from_str(&text).expect("the reference file parses");
    for (name, function) in &reference.functions {
        assert_eq!(function.f.len(), reference.x.len(), "{name}: one f per x");
        assert_eq!(function.f_prime.len(), reference.x.len(), "{name}: one f' per x");
    }
    reference
}

fn reference_function<'a>(reference: &'a Reference, name: &str) -> &'a ReferenceFunction {
    reference.functions.get(name).unwrap_or_else(|| panic!("the reference file has no {name}"))
}

fn within_f64(got: f64, want: f64) -> bool {
    (got - want).abs() <= F64_ABSOLUTE_TOLERANCE
}

fn within_f32(got: f32, want: f64) -> bool {
    (f64::from(got) - want).abs() <= (F32_RELATIVE_TOLERANCE * want.abs()).max(F32_ABSOLUTE_FLOOR)
}

/// Checks `value` and `derivative` at every reference point, collecting every mismatch.
fn mismatches(
    reference: &Reference,
    name: &str,
    value: impl Fn(f64) -> (f64, f64),
    is_close: impl Fn(f64, f64) -> bool,
) -> Vec<String> {
    let function = reference_function(reference, name);
    let mut found = Vec::new();
    for (index, &x) in reference.x.iter().enumerate() {
        let (f, f_prime) = value(x);
        let (want_f, want_f_prime) = (function.f[index], function.f_prime[index]);
        if !is_close(f, want_f) {
            found.push(format!("{name}: f({x}) = {f}, reference {want_f}"));
        }
        if !is_close(f_prime, want_f_prime) {
            found.push(format!("{name}: f'({x}) = {f_prime}, reference {want_f_prime}"));
        }
    }
    found
}

#[test]
fn reference_file_lists_exactly_the_functions_we_expect() {
    let reference = reference();
    assert_eq!(reference.x.len(), 11);
    assert!(reference.x.contains(&0.0), "the kink at 0 must be among the points");
    let expected: Vec<&str> = IMPLEMENTED.iter().map(|&(name, _)| name).chain(NOT_IMPLEMENTED).collect();
    for name in reference.functions.keys() {
        assert!(
            expected.contains(&name.as_str()),
            "the reference file has {name}, which this test neither checks nor skips"
        );
    }
    for name in expected {
        assert!(reference.functions.contains_key(name), "the reference file lost {name}");
    }
}

#[test]
fn reference_constants_are_ours() {
    let reference = reference();
    let constant = |name: &str| {
        *reference.constants.get(name).unwrap_or_else(|| panic!("the reference file has no constant {name}"))
    };
    assert_eq!(constant("SELU_alpha"), SELU_ALPHA);
    assert_eq!(constant("SELU_scale"), SELU_SCALE);
    assert_eq!(constant("LeakyReLU_negative_slope"), 0.01);
    assert_eq!(constant("PReLU_a"), REFERENCE_PRELU_SLOPE);
    assert_eq!(constant("ELU_alpha"), 1.0);
}

#[test]
fn every_implemented_activation_matches_the_reference_in_f64() {
    let reference = reference();
    let found: Vec<String> = IMPLEMENTED
        .iter()
        .flat_map(|&(name, activation)| {
            mismatches(&reference, name, |x| (activation.value(x), activation.derivative(x)), within_f64)
        })
        .collect();
    assert!(found.is_empty(), "f64 mismatches:\n{}", found.join("\n"));
}

#[test]
fn every_implemented_activation_matches_the_reference_in_f32() {
    let reference = reference();
    let found: Vec<String> = IMPLEMENTED
        .iter()
        .flat_map(|&(name, activation)| {
            mismatches(
                &reference,
                name,
                |x| {
                    let x = x as f32;
                    (f64::from(activation.value(x)), f64::from(activation.derivative(x)))
                },
                // The f32 result went through f64 exactly, so narrowing it back is lossless.
                |got, want| within_f32(got as f32, want),
            )
        })
        .collect();
    assert!(found.is_empty(), "f32 mismatches:\n{}", found.join("\n"));
}

/// The learned-slope path: the slope passed in wins over the initial one.
#[test]
fn prelu_with_an_explicit_slope_matches_the_reference() {
    let reference = reference();
    // A different initial slope, so that a slope taken from the variant instead of the
    // argument would fail.
    let prelu = Activation::Prelu { initial_slope: 0.9 };
    let in_f64 = mismatches(
        &reference,
        "PReLU(a=0.25)",
        |x| (prelu.value_with_slope(x, REFERENCE_PRELU_SLOPE), prelu.derivative_with_slope(x, REFERENCE_PRELU_SLOPE)),
        within_f64,
    );
    let in_f32 = mismatches(
        &reference,
        "PReLU(a=0.25)",
        |x| {
            let (x, slope) = (x as f32, REFERENCE_PRELU_SLOPE as f32);
            (f64::from(prelu.value_with_slope(x, slope)), f64::from(prelu.derivative_with_slope(x, slope)))
        },
        |got, want| within_f32(got as f32, want),
    );
    let found = [in_f64, in_f32].concat();
    assert!(found.is_empty(), "PReLU mismatches:\n{}", found.join("\n"));
    // And the initial slope is really ignored: at x = -1 the value is -0.25, not -0.9.
    assert_eq!(prelu.value_with_slope(-1.0_f64, REFERENCE_PRELU_SLOPE), -0.25);
}

/// The one-sided derivatives at 0, where the file gives them: our `f'(0)` must be one of the
/// two (the autograd convention picks the left one for every kink in the file).
#[test]
fn derivative_at_the_kink_is_the_left_derivative() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/activations.json");
    let text = std::fs::read_to_string(path).expect("tests/data/activations.json is readable");
    let json: serde_json::Value = serde_json::from_str(&text).expect("the reference file parses");
    let mut checked = 0;
    for (name, activation) in IMPLEMENTED {
        let Some(left) = json["functions"][name]["one_sided_at_0"]["left"].as_f64() else {
            continue;
        };
        let derivative = activation.derivative(0.0_f64);
        assert!(within_f64(derivative, left), "{name}: f'(0) = {derivative}, left derivative {left}");
        checked += 1;
    }
    // ReLU, LeakyReLU, ELU, SELU and PReLU give one-sided derivatives.
    assert_eq!(checked, 5);
}

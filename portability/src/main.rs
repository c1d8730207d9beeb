//! Prints every digest that portable numerics promise to keep the same on every machine (the
//! benchmark workloads W1-W4 and every lesson's final network on seed 1), then compares them
//! with `benches/support/portable-digests.txt`. Exit code 0 when all match, 1 when one differs
//! (each difference is named), 2 when they could not be computed.
//!
//! `.ci/run` builds and runs this natively, under `qemu-x86_64 -cpu Nehalem` (SSE only, so
//! matrixmultiply and anything else chosen at run time takes its oldest path), for aarch64
//! under `qemu-aarch64`, and for `wasm32-wasip1` under Node's WASI, with and without SIMD.

#![expect(clippy::print_stdout, clippy::print_stderr, reason = "the program's report")]

use std::process::ExitCode;

use relu_lab::nn::dispatch::{Kernels, with_kernels};

#[path = "../../benches/support/workloads.rs"]
#[expect(dead_code, reason = "the benchmark's own helpers are not used here")]
mod workloads;

#[path = "../../benches/support/digests.rs"]
mod digests;

/// The vector features this run has: those the matrix kernels could choose at run time on
/// x86-64, WebAssembly SIMD as compiled in on wasm32.
fn vector_features() -> String {
    #[cfg(target_arch = "x86_64")]
    let features: Vec<&str> = [
        ("sse4.2", std::arch::is_x86_feature_detected!("sse4.2")),
        ("avx2", std::arch::is_x86_feature_detected!("avx2")),
        ("fma", std::arch::is_x86_feature_detected!("fma")),
        ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
    ]
    .into_iter()
    .filter_map(|(name, is_present)| is_present.then_some(name))
    .collect();
    #[cfg(target_arch = "aarch64")]
    let features = ["neon"];
    #[cfg(target_arch = "wasm32")]
    let features: Vec<&str> = if cfg!(target_feature = "simd128") { vec!["simd128"] } else { Vec::new() };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "wasm32")))]
    let features: Vec<&str> = Vec::new();
    if features.is_empty() { "no vector extensions".to_owned() } else { features.join(", ") }
}

fn main() -> ExitCode {
    let platform = relu_lab::nn::numerics::platform();
    println!("{platform} ({})", vector_features());
    let mut all_match = true;
    // Every instruction set the products can run on here (on x86-64 with AVX2 or AVX-512F,
    // the baseline build too), each giving every digest.
    for kernels in Kernels::available() {
        let lines = match with_kernels(kernels, digests::digest_lines) {
            Some(Ok(lines)) => lines,
            Some(Err(error)) => {
                eprintln!("relu-lab-portability on {platform}: {error}");
                return ExitCode::from(2);
            }
            None => continue,
        };
        let name = kernels.name();
        println!("-- the {name} kernels");
        print!("{lines}");
        let mismatches = mismatches(&lines, digests::EXPECTED_DIGESTS);
        if mismatches.is_empty() {
            let count = lines.lines().count();
            println!("{platform}, {name} kernels: all {count} digests match benches/support/portable-digests.txt");
        } else {
            all_match = false;
            for mismatch in &mismatches {
                println!("{platform}, {name} kernels: {mismatch}");
            }
        }
    }
    if all_match { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// What differs between the computed and the expected lines, one sentence each.
fn mismatches(computed: &str, expected: &str) -> Vec<String> {
    let expected: Vec<(&str, &str)> = expected.lines().filter_map(|line| line.split_once(' ')).collect();
    let computed: Vec<(&str, &str)> = computed.lines().filter_map(|line| line.split_once(' ')).collect();
    let mut found = Vec::new();
    for &(name, digest) in &computed {
        match expected.iter().find(|(expected_name, _)| *expected_name == name) {
            Some(&(_, want)) if want == digest => {}
            Some(&(_, want)) => found.push(format!("{name} is {digest}, expected {want}")),
            None => found.push(format!("{name} is {digest}, and the file has no line for it")),
        }
    }
    for &(name, _) in &expected {
        if !computed.iter().any(|(computed_name, _)| *computed_name == name) {
            found.push(format!("{name} is expected but was not computed"));
        }
    }
    found
}

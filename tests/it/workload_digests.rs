//! The benchmark workloads W1-W4 after 200 training steps, and every lesson's network at its
//! end on seed 1, bit for bit: under portable numerics every parameter hashes to the digest in
//! `benches/support/portable-digests.txt`, the same file the cross-target check
//! (`portability/`, run by `.ci/run` on an older x86-64, aarch64 and wasm32) compares with.
//! A faster kernel or another math function that changes a single bit fails here.

use relu_lab::nn::dispatch::{Kernels, with_kernels};

#[path = "../../benches/support/workloads.rs"]
#[expect(dead_code, reason = "the benchmark's own helpers are not used here")]
mod workloads;

#[path = "../../benches/support/digests.rs"]
mod digests;

#[test]
fn the_workloads_and_lessons_end_with_the_portable_bits() {
    // On every instruction set the products can run on here: the same bits on each.
    for kernels in Kernels::available() {
        let lines = with_kernels(kernels, digests::digest_lines)
            .expect("the CPU runs the kernels it lists")
            .expect("the lessons load and their commands apply");
        eprintln!("{} kernels:\n{lines}", kernels.name());
        assert_eq!(lines, digests::EXPECTED_DIGESTS, "on the {} kernels", kernels.name());
    }
}

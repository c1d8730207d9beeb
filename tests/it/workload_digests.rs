//! The benchmark workloads W1-W4 after 200 training steps, bit for bit: every parameter hashes
//! to the digest the first release's kernels gave (commit 2b70207), so a faster kernel that
//! changes a single bit fails here.

#[path = "../../benches/support/workloads.rs"]
#[expect(dead_code, reason = "the benchmark's sampling settings are not used here")]
mod workloads;

use relu_lab::train::record::parameter_digest;
use workloads::{Setup, WORKLOADS};

/// Steps each workload makes before its parameters are hashed.
const STEPS: usize = 200;

#[test]
fn the_workloads_end_with_the_first_releases_bits() {
    let digests: Vec<(&str, String)> = WORKLOADS
        .iter()
        .map(|workload| {
            let mut setup = Setup::new(workload);
            for _ in 0..STEPS {
                setup.step(workload.loss);
            }
            (workload.id, parameter_digest(&setup.mlp))
        })
        .collect();
    eprintln!("{digests:?}");
    // Printed by this test at commit 2b70207's kernels (the code before the faster ones).
    let expected = [
        ("W1", "fnv1a64:66e6de6129a6a98f"),
        ("W2", "fnv1a64:8096dcca5351eb33"),
        ("W3", "fnv1a64:87019f6db4ba9db2"),
        ("W4", "fnv1a64:edc755c3776c1f40"),
    ];
    for ((id, digest), (expected_id, expected_digest)) in digests.iter().zip(expected) {
        assert_eq!((*id, digest.as_str()), (expected_id, expected_digest));
    }
}

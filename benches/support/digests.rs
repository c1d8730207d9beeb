//! The digests that must come out the same on every machine: the benchmark workloads W1-W4
//! after [`WORKLOAD_STEPS`] steps (W3 and W4, whose steps are a thousand times longer, after
//! [`SLOW_WORKLOAD_STEPS`], so that the check stays short under an emulator), and every
//! lesson's network at the end of its script on seed 1, all under portable numerics. `tests/workload_digests.rs` checks them natively against
//! [`EXPECTED_DIGESTS`]; `portability/` prints them on other targets (an older x86-64, aarch64,
//! wasm32) for `.ci/run` to compare with the same file.

use relu_lab::nn::Numerics;
use relu_lab::train::Branch;
use relu_lab::train::lessons::{Lesson, load_lessons, play_lesson};
use relu_lab::train::record::parameter_digest;

use super::workloads::{Setup, WORKLOADS};

/// Steps W1 and W2 make before their parameters are hashed.
pub(crate) const WORKLOAD_STEPS: usize = 200;

/// Steps W3 and W4 make before their parameters are hashed: every product already sums
/// hundreds of terms, so a single changed rounding shows.
pub(crate) const SLOW_WORKLOAD_STEPS: usize = 10;

/// The seed every lesson runs on.
pub(crate) const LESSON_SEED: u64 = 1;

/// One line per digest, `name digest`, as [`digest_lines`] prints them: the expected output on
/// every target.
pub(crate) const EXPECTED_DIGESTS: &str = include_str!("portable-digests.txt");

/// `(name, digest)` of W1-W4 after their steps under portable numerics.
pub(crate) fn workload_digests() -> Vec<(String, String)> {
    WORKLOADS
        .iter()
        .map(|workload| {
            let mut setup = Setup::with_numerics(workload, Numerics::Portable);
            let steps = if workload.is_slow { SLOW_WORKLOAD_STEPS } else { WORKLOAD_STEPS };
            for _ in 0..steps {
                setup.step(workload.loss);
            }
            (workload.id.to_owned(), parameter_digest(&setup.mlp))
        })
        .collect()
}

/// `(name, digest)` of every lesson's network at its end, on [`LESSON_SEED`]: its script
/// played as `relu-lab lessons` plays it.
pub(crate) fn lesson_digests() -> Result<Vec<(String, String)>, String> {
    let lessons = load_lessons().map_err(|error| error.to_string())?;
    lessons
        .iter()
        .enumerate()
        .map(|(index, lesson)| Ok((format!("lesson-{}", index + 1), lesson_digest(lesson)?)))
        .collect()
}

fn lesson_digest(lesson: &Lesson) -> Result<String, String> {
    let mut config = lesson.config().ok_or_else(|| format!("{}: no preset", lesson.title))?;
    config.training.numerics = Some(Numerics::Portable);
    let mut ensemble =
        play_lesson(lesson, &config, LESSON_SEED..=LESSON_SEED, 1, |_, _| {}).map_err(|error| error.to_string())?;
    // The branch the lesson measures at its end: B once forked.
    let branch = if ensemble.is_forked() { Branch::B } else { Branch::A };
    let session = ensemble.first_mut().session_mut(branch).ok_or("no branch")?;
    Ok(parameter_digest(session.network()))
}

/// Every digest, one `name digest` line each, workloads first.
pub(crate) fn digest_lines() -> Result<String, String> {
    let lines: Vec<String> = workload_digests()
        .into_iter()
        .chain(lesson_digests()?)
        .map(|(name, digest)| format!("{name} {digest}\n"))
        .collect();
    Ok(lines.concat())
}

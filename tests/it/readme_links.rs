//! Every link in the README shows what it says: opened as the app opens it and trained for
//! 3000 steps, it does not diverge, unless the line it is on says it diverges. (The README's own
//! example once opened Leaky ReLU at a learning rate of 3 from step 0, which diverged at step
//! 12.)

use std::path::Path;

use relu_lab::share_link;
use relu_lab::train::lessons::load_lessons;
use relu_lab::train::{Session, StepOutcome};

/// The steps a link's run must train without diverging.
const STEPS: u64 = 3000;

/// Every link fragment in `text` ("lesson=2&lr=0.3…"), with the line it is on.
fn links(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("lesson=") {
            let link: String = rest[at..].chars().take_while(|c| !" `'\")|".contains(*c)).collect();
            rest = &rest[at + link.len()..];
            found.push((link, line.to_owned()));
        }
    }
    found.dedup();
    found
}

#[test]
fn every_link_in_the_readme_trains_without_diverging_unless_it_says_so() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let lessons = load_lessons().unwrap();
    let links = links(&readme);
    assert!(links.len() >= 4, "{links:?}");
    for (link, line) in links {
        let parsed = share_link::parse(&link);
        assert!(parsed.problems.is_empty(), "{link}: {:?}", parsed.problems);
        let opened = parsed.link.open(&lessons).unwrap();
        assert!(opened.problems.is_empty(), "{link}: {:?}", opened.problems);
        let mut session = Session::new(opened.config).unwrap();
        let diverged = (0..STEPS).find_map(|_| match session.step() {
            StepOutcome::Diverged(divergence) => Some(divergence.step),
            StepOutcome::Trained { .. } => None,
        });
        if let Some(step) = diverged {
            assert!(line.contains("diverge"), "{link} diverges at step {step}, and its line does not say so: {line}");
        }
    }
}

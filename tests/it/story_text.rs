//! Sentences that were false once, and must not come back: every text a user reads (the
//! README, the lessons and presets, every string in the app and the library) is searched for
//! them. Each entry says why it is false.

use std::path::{Path, PathBuf};

/// A false sentence (lower case, as a substring) and what is true instead.
const FALSE_SENTENCES: [(&str, &str); 12] = [
    ("never recovers", "beyond layer 1, and under momentum or Adam, a dead neuron can come back"),
    ("cannot recover", "only a layer-1 neuron under plain SGD on fixed data is dead for good"),
    ("can never update again", "the layers below can move a deeper dead neuron back"),
    ("zero gradient still moves nothing", "momentum and Adam move a just-dead neuron on for a while"),
    ("gelu…) stops neurons dying", "GELU goes flat far below zero and does not rescue from bias -5"),
    ("stops neurons dying", "a slope below zero lets a neuron climb back; GELU and SiLU barely do"),
    ("none stays dead", "many neurons are still below zero after 3000 steps under Leaky ReLU"),
    ("every neuron climbs back", "under PReLU 4 to 9 of 16 are still below zero after 3000 steps"),
    ("below zero on the whole plane", "dead is measured on the training inputs, not the plane"),
    ("so far that it cannot recover", "at a lower rate a neuron can still die"),
    ("seed 1 is born dead", "seed 1 of deep-narrow-he is alive at birth; it collapses by step 13"),
    ("gelu and silu behave similarly", "GELU and SiLU go flat far below zero, unlike ELU"),
];

/// Every file a user reads text from.
fn texts() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for folder in ["src", "assets"] {
        collect(&root.join(folder), &mut files);
    }
    files
}

fn collect(folder: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs" || extension == "toml") {
            files.push(path);
        }
    }
}

/// Joins the lines of a source file so that a sentence broken over two string lines still
/// matches: `\` continuations and line breaks become single spaces.
fn normalized(text: &str) -> String {
    let joined = text.replace("\\\n", " ").to_lowercase();
    joined.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn no_false_sentence_comes_back() {
    let files = texts();
    assert!(files.len() > 20, "the search found too few files: {files:?}");
    let mut found = Vec::new();
    for path in files {
        let text = normalized(&std::fs::read_to_string(&path).expect("readable"));
        for (sentence, truth) in FALSE_SENTENCES {
            if text.contains(sentence) {
                found.push(format!("{}: \"{sentence}\" ({truth})", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_search_finds_a_false_sentence_when_there_is_one() {
    let text = normalized("ui.label(\"It outputs 0 and never \\\n   recovers.\")");
    assert!(text.contains(FALSE_SENTENCES[0].0), "{text}");
}

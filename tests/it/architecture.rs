//! The shape of the code, checked: no two source files import each other, directly or through
//! others. Each file's `use crate::…`, `use super::…` and `use self::…` paths (and `crate::…`
//! paths written inline) are resolved to the file that defines the module they name; the import
//! graph must have no cycle. The binary's files (`src/cli`, `src/main.rs`) form a graph of their
//! own, as `relu_lab::…` names the library from there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The source root.
fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, as a module path relative to `src` ("train/session").
fn modules(dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            modules(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            let relative = path.strip_prefix(src()).expect("under src").with_extension("");
            let name = relative.to_string_lossy().replace('\\', "/");
            found.push(name.strip_suffix("/mod").map_or(name.clone(), str::to_owned));
        }
    }
}

/// The module a file is (its path without `lib`, `main` or `mod`), as segments.
fn module_segments(module: &str) -> Vec<String> {
    if module == "lib" || module == "main" {
        return Vec::new();
    }
    module.split('/').map(str::to_owned).collect()
}

/// The paths a file names: every `crate::a::b`, `super::a` or `self::a` path in a `use` or
/// inline, expanded through `{…}` groups.
fn named_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    // Drop comments, so doc examples do not count.
    let code: String =
        text.lines().map(|line| line.split_once("//").map_or(line, |(code, _)| code)).collect::<Vec<_>>().join("\n");
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(offset) = code[from..].find(start) {
            let at = from + offset;
            from = at + start.len();
            // Not part of a longer identifier (`my_crate::`).
            if code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[at..];
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches(':').to_owned();
            if rest[end..].starts_with('{') {
                // A group: `super::{a, b::c}` names each member.
                let group_end = matching_brace(&rest[end..]).map_or(rest.len(), |close| end + close);
                for member in split_group(&rest[end + 1..group_end]) {
                    paths.push(format!("{path}::{member}"));
                }
            } else {
                paths.push(path);
            }
        }
    }
    paths
}

/// Where the `}` closing the `{` at the start of `text` is.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// The members of a `{a, b::{c, d}}` group, each flattened to a path.
fn split_group(group: &str) -> Vec<String> {
    let mut members = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => {
                depth += 1;
                current.push(c);
            }
            '}' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => members.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    members.push(current);
    members
        .into_iter()
        .map(|member| member.split_whitespace().collect::<String>())
        .filter(|member| !member.is_empty())
        .flat_map(|member| match member.find('{') {
            Some(open) => {
                let prefix = member[..open].trim_end_matches(':').to_owned();
                let inner = &member[open + 1..member.len().saturating_sub(1)];
                split_group(inner).into_iter().map(|inner| format!("{prefix}::{inner}")).collect()
            }
            None => vec![member.split(" as ").next().unwrap_or_default().to_owned()],
        })
        .collect()
}

/// The file a path names from `module`, if it names another file of `files`.
fn resolve(module: &str, path: &str, files: &BTreeSet<String>, root: &[String]) -> Option<String> {
    let mut segments: Vec<String> = module_segments(module);
    // The directory a `super::` goes up from: the module itself.
    let mut parts = path.split("::").peekable();
    match parts.peek().copied() {
        Some("crate") => {
            parts.next();
            segments = root.to_vec();
        }
        Some("self") => {
            parts.next();
        }
        _ => {}
    }
    while parts.peek() == Some(&"super") {
        parts.next();
        segments.pop();
    }
    let named: Vec<String> = parts.map(str::to_owned).collect();
    // The longest prefix of the named path that is a file.
    for length in (1..=named.len()).rev() {
        let mut candidate = segments.clone();
        candidate.extend(named[..length].iter().cloned());
        let name = candidate.join("/");
        if files.contains(&name) && name != module {
            return Some(name);
        }
    }
    None
}

/// The import graph of the files under `dir` (relative to `src`), each file to those it names.
fn graph(prefix: &str, root: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let mut found = Vec::new();
    modules(&src().join(prefix), &mut found);
    let files: BTreeSet<String> = found.into_iter().collect();
    let mut edges = BTreeMap::new();
    for module in &files {
        let file = if module.is_empty() || module == "lib" || module == "main" {
            src().join(format!("{module}.rs"))
        } else {
            let plain = src().join(format!("{module}.rs"));
            if plain.exists() { plain } else { src().join(module).join("mod.rs") }
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        // A file's own unit tests (at its bottom) may use anything: they are not its design.
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
        let targets: BTreeSet<String> =
            named_paths(text).iter().filter_map(|path| resolve(module, path, &files, root)).collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The cycles of `graph`: every strongly connected component of more than one file.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju: order by finish time, then collect components on the reversed graph.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<String>,
    ) {
        if !seen.insert(node.to_owned()) {
            return;
        }
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, seen, order);
        }
        order.push(node.to_owned());
    }
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    for node in graph.keys() {
        visit(node, graph, &mut seen, &mut order);
    }
    let mut reversed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in graph {
        for to in targets {
            reversed.entry(to.clone()).or_default().insert(from.clone());
        }
    }
    let mut assigned = BTreeSet::new();
    let mut components = Vec::new();
    for node in order.iter().rev() {
        let mut component = Vec::new();
        visit(node, &reversed, &mut assigned, &mut component);
        if component.len() > 1 {
            component.sort();
            components.push(component);
        }
    }
    components
}

#[test]
fn no_two_source_files_import_each_other() {
    let library = graph("", &[]);
    assert!(library.len() > 50, "the library's files were found: {}", library.len());
    let library: BTreeMap<_, _> =
        library.into_iter().filter(|(module, _)| !module.starts_with("cli") && module != "main").collect();
    let found = cycles(&library);
    assert!(found.is_empty(), "import cycles in the library: {found:#?}");
    let binary = graph("cli", &[]);
    let found = cycles(&binary);
    assert!(found.is_empty(), "import cycles in the command line: {found:#?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.insert("a".into(), ["b".into()].into());
    graph.insert("b".into(), ["c".into()].into());
    graph.insert("c".into(), ["a".into()].into());
    graph.insert("d".into(), ["a".into()].into());
    assert_eq!(cycles(&graph), [vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]);
    let files: BTreeSet<String> = ["train/session", "train/record", "train/mod", "train"].map(str::to_owned).into();
    assert_eq!(resolve("train/session", "super::record::RunRecord", &files, &[]), Some("train/record".to_owned()));
    assert_eq!(resolve("train/session", "crate::train::record", &files, &[]), Some("train/record".to_owned()));
    let paths = named_paths("use super::{record::{LaneRecord, parameter_digest}, settings::Setting};");
    assert_eq!(paths, ["super::record::LaneRecord", "super::record::parameter_digest", "super::settings::Setting"]);
}

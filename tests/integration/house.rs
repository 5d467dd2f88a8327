//! The house reads one way (issue 25): two rules about the shape of `src/`,
//! checked from the source text so that CI keeps them.
//!
//! 1. No source file is over 800 lines. Test files (names ending in
//!    `tests.rs`, e.g. `routing_tests.rs` or `node/tests.rs`) are exempt, and
//!    so, for now, are the files listed in [`TOO_LONG_FOR_NOW`].
//! 2. Within each top-level module directory ([`TOP_LEVEL`]: `src/kad`,
//!    `src/report`, …) the imports between modules form no circle.
//!
//! What a "module" is for rule 2: a node of the graph is one direct child of
//! the top-level module, with everything below it folded in. In `src/kad`,
//! `config.rs` is the node `config`, and `node/mod.rs`, `node/ops.rs`, … are
//! all the node `node`; in `src/sim`, `world.rs` and `world/*.rs` are all the
//! node `world`. A module and its own children read each other's private
//! items by design, so imports inside one node are not edges. The top-level
//! module's own file (`src/kad/mod.rs`, `src/runner.rs`) is no node: it is the
//! front door, whose `pub use` re-exports only point down, and a child that
//! imports a re-exported name through it (`use super::Time`,
//! `crate::kad::Node`) is taken to import the child the name comes from.
//! Names the front door defines itself, and glob imports of it, are no edge.
//!
//! The edges come from the code with comments, strings and `#[cfg(test)]`
//! items removed (tests may reach anywhere): every `use` statement, its
//! `{a, b::{c, self}}` groups expanded, and every `crate::…`, `super::…` and
//! `self::…` path written in the code. A `use` path that starts with a plain
//! name is read as relative to the file's module (`use ops::Op` in
//! `node/mod.rs`) when a child module of that name exists. Edges to other
//! top-level modules are not followed: each directory is checked on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The line limit of a non-test source file.
const MAX_LINES: usize = 800;

/// Files still over the limit, exempt until they are split (none now: a
/// file that grows past the limit is split, not listed).
const TOO_LONG_FOR_NOW: [&str; 0] = [];

/// Circles allowed for now, each as its top-level module and the modules on
/// it (none: every circle found when this test was written has been cut by
/// moving what both sides shared below them). A circle not listed fails, and
/// so does a listed one that is gone.
const KNOWN_CIRCLES: [(&str, &[&str]); 0] = [];

/// The top-level module directories whose import graphs must have no circle.
const TOP_LEVEL: [&str; 11] =
    ["kad", "report", "sim", "net", "wire", "metrics", "files", "runner", "validation", "scenario", "cli"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("src is readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn is_test_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("tests.rs"))
}

/// `src/kad/node/ops.rs` as `src/kad/node/ops.rs` (forward slashes).
fn rel(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let r = path.strip_prefix(root).unwrap_or(path);
    r.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut long = Vec::new();
    for path in rust_files(&src()) {
        let name = rel(&path);
        if is_test_file(&path) || TOO_LONG_FOR_NOW.contains(&name.as_str()) {
            continue;
        }
        let lines = std::fs::read_to_string(&path).expect("source is readable").lines().count();
        if lines > MAX_LINES {
            long.push(format!("{name}: {lines} lines"));
        }
    }
    assert!(long.is_empty(), "split these files by job (at most {MAX_LINES} lines each):\n{}", long.join("\n"));
}

#[test]
fn the_exempt_long_files_still_exist() {
    // An exemption outliving its file would hide nothing, but would mislead.
    for name in TOO_LONG_FOR_NOW {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        assert!(path.is_file(), "{name} is gone: take it out of TOO_LONG_FOR_NOW");
    }
}

/// The code of a Rust file with comments, string and character literals
/// blanked out (newlines kept, so that line numbers stay right).
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if c[i] == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if (c[i] == 'r' || (c[i] == 'b' && at(i + 1) == 'r')) && !at(i.wrapping_sub(1)).is_alphanumeric() && {
            let s = if c[i] == 'b' { i + 2 } else { i + 1 };
            let mut k = s;
            while at(k) == '#' {
                k += 1;
            }
            at(k) == '"'
        } {
            // A raw string: r"…", r#"…"#, br"…".
            let s = if c[i] == 'b' { i + 2 } else { i + 1 };
            let mut k = s;
            while at(k) == '#' {
                k += 1;
            }
            let hashes = k - s;
            i = k + 1;
            while i < c.len() {
                if c[i] == '"' && (0..hashes).all(|h| at(i + 1 + h) == '#') {
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
            out.push_str("\"\"");
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A character literal ('x', '\n', '\u{1F600}'); a lifetime has no closing quote.
            i += 1;
            while i < c.len() && c[i] != '\'' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// `code` with every item marked `#[cfg(test)]` blanked out (newlines kept).
fn without_test_items(code: &str) -> String {
    let mut c: Vec<char> = code.chars().collect();
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + marker.len() <= c.len() {
        if c[i..i + marker.len()] != marker[..] {
            i += 1;
            continue;
        }
        // The item runs to the first `;` outside brackets or to the end of its first `{…}` block.
        let mut k = i + marker.len();
        let mut depth = 0i32;
        while k < c.len() {
            match c[k] {
                '{' | '(' | '[' => depth += 1,
                '}' | ')' | ']' => {
                    depth -= 1;
                    if depth == 0 && c[k] == '}' {
                        break;
                    }
                }
                ';' if depth == 0 => break,
                _ => {}
            }
            k += 1;
        }
        let end = (k + 1).min(c.len());
        for ch in &mut c[i..end] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = k + 1;
    }
    c.into_iter().collect()
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The paths of a `use` tree (`a::{b, c::{self, d as e}}` → `a::b`, `a::c`,
/// `a::c::d`), each a list of segments.
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    fn go(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        let tree = tree.trim();
        if tree.is_empty() {
            return;
        }
        if let Some(open) = tree.find('{') {
            let head: Vec<String> =
                tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
            let mut base = prefix.to_vec();
            base.extend(head);
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let (mut depth, mut start) = (0, 0);
            for (k, ch) in inner.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        go(&base, &inner[start..k], out);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            go(&base, &inner[start..], out);
            return;
        }
        let path = tree.split(" as ").next().unwrap_or(tree);
        let mut full = prefix.to_vec();
        for seg in path.split("::").map(str::trim).filter(|s| !s.is_empty()) {
            if seg != "self" || full.is_empty() {
                full.push(seg.to_string());
            }
        }
        out.push(full);
    }
    let mut out = Vec::new();
    go(&[], tree, &mut out);
    out
}

/// A path found in a file: its segments, its line and whether it came from a
/// `pub use` (a re-export).
struct Found {
    segs: Vec<String>,
    line: usize,
    reexport: bool,
}

/// Every path `code` uses: `use` trees expanded, and `crate::`, `super::`,
/// `self::` paths anywhere.
fn paths_in(code: &str) -> Vec<Found> {
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(k) = code[at..].find("use ") {
        let s = at + k;
        at = s + 4;
        if s > 0 && is_ident(bytes[s - 1] as char) {
            continue;
        }
        let Some(end) = code[s..].find(';') else { break };
        let before = code[..s].trim_end();
        let reexport = before.ends_with("pub")
            || before.ends_with(')') && before.rfind('(').is_some_and(|p| before[..p].trim_end().ends_with("pub"));
        let tree: String = code[s + 4..s + end].split_whitespace().collect::<Vec<_>>().join(" ");
        for segs in expand_use(&tree) {
            found.push(Found { segs, line: line_of(s), reexport });
        }
        at = s + end;
    }
    for start in ["crate", "super", "self"] {
        let mut at = 0;
        while let Some(k) = code[at..].find(start) {
            let s = at + k;
            at = s + start.len();
            if s > 0 && is_ident(bytes[s - 1] as char) {
                continue;
            }
            let mut segs = vec![start.to_string()];
            let mut j = s + start.len();
            loop {
                let rest = &code[j..];
                let trimmed = rest.trim_start();
                if !trimmed.starts_with("::") {
                    break;
                }
                let after = trimmed[2..].trim_start();
                let len = after.find(|ch: char| !is_ident(ch)).unwrap_or(after.len());
                if len == 0 {
                    break;
                }
                segs.push(after[..len].to_string());
                j = code.len() - after.len() + len;
            }
            if segs.len() > 1 {
                found.push(Found { segs, line: line_of(s), reexport: false });
            }
        }
    }
    found
}

/// A source file as a module: its path from the crate root (`["kad", "node", "ops"]`).
fn module_path(file: &Path) -> Vec<String> {
    let r = file.strip_prefix(src()).expect("under src");
    let mut segs: Vec<String> = r.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let last = segs.pop().expect("a file name");
    if last != "mod.rs" && last != "lib.rs" && last != "main.rs" {
        segs.push(last.trim_end_matches(".rs").to_string());
    }
    segs
}

/// The import graph of one top-level module: edges between its children,
/// each with the first place that makes it.
fn graph(top: &str) -> (BTreeSet<String>, BTreeMap<(String, String), String>) {
    let root = src();
    let dir = root.join(top);
    let mut children: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("top-level module directory") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            children.insert(name);
        } else if let Some(stem) = name.strip_suffix(".rs")
            && stem != "mod"
            && !is_test_file(&path)
        {
            children.insert(stem.to_string());
        }
    }
    let mut files: Vec<PathBuf> = rust_files(&dir).into_iter().filter(|p| !is_test_file(p)).collect();
    let front = if dir.join("mod.rs").is_file() { dir.join("mod.rs") } else { root.join(format!("{top}.rs")) };
    files.push(front.clone());
    let parsed: Vec<(PathBuf, Vec<Found>)> = files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("source is readable");
            let found = paths_in(&without_test_items(&strip(&text)));
            (f, found)
        })
        .collect();

    // The front door's re-exports: a name → the child it comes from.
    let front_path = module_path(&front);
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    let (_, front_found) = parsed.iter().find(|(f, _)| *f == front).expect("the front door is read");
    for f in front_found.iter().filter(|f| f.reexport) {
        if let Some(abs) = absolute(&front_path, &f.segs, &children)
            && abs.len() > 2
            && abs[0] == top
            && children.contains(&abs[1])
        {
            reexports.insert(abs.last().unwrap().clone(), abs[1].clone());
        }
    }

    let mut edges = BTreeMap::new();
    for (file, found) in &parsed {
        if *file == front {
            continue;
        }
        let me = module_path(file);
        let from = me[1].clone();
        for f in found {
            let Some(abs) = absolute(&me, &f.segs, &child_modules(&me)) else { continue };
            if abs.len() < 2 || abs[0] != top {
                continue;
            }
            let to = if children.contains(&abs[1]) {
                abs[1].clone()
            } else if let Some(child) = reexports.get(&abs[1]) {
                child.clone()
            } else {
                continue;
            };
            if to != from {
                let place = format!("{}:{} ({})", rel(file), f.line, f.segs.join("::"));
                edges.entry((from.clone(), to)).or_insert(place);
            }
        }
    }
    (children, edges)
}

/// The child modules of the module at `me` (files and directories beside or
/// below its file), for `use child::X` paths.
fn child_modules(me: &[String]) -> BTreeSet<String> {
    let dir = me.iter().fold(src(), |d, s| d.join(s));
    let mut out = BTreeSet::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            out.insert(name.trim_end_matches(".rs").to_string());
        }
    }
    out
}

/// `segs`, written in the module `me`, as a path from the crate root; `None`
/// for a path into another crate.
fn absolute(me: &[String], segs: &[String], my_children: &BTreeSet<String>) -> Option<Vec<String>> {
    let mut out: Vec<String>;
    let mut rest = segs;
    match segs.first().map(String::as_str) {
        Some("crate") => {
            out = Vec::new();
            rest = &segs[1..];
        }
        Some("self") => {
            out = me.to_vec();
            rest = &segs[1..];
        }
        Some("super") => {
            out = me.to_vec();
            while rest.first().is_some_and(|s| s == "super") {
                out.pop();
                rest = &rest[1..];
            }
        }
        Some(first) if my_children.contains(first) => out = me.to_vec(),
        _ => return None,
    }
    out.extend(rest.iter().filter(|s| *s != "*").cloned());
    Some(out)
}

/// A circle in the graph, as its nodes in order, if there is one.
fn find_cycle(nodes: &BTreeSet<String>, edges: &BTreeMap<(String, String), String>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<(String, String), String>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for (_, to) in edges.keys().filter(|(from, _)| from == n) {
            match state.get(to).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == to).expect("on the stack");
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(to.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(to, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in nodes {
        if state.get(n).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, edges, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_top_level_module_has_an_import_circle() {
    let mut circles = Vec::new();
    let mut known_seen = BTreeSet::new();
    for top in TOP_LEVEL {
        let (nodes, edges) = graph(top);
        // Every circle, not only the first: drop one edge of each found and look again.
        let mut left = edges.clone();
        while let Some(cycle) = find_cycle(&nodes, &left) {
            let n = cycle.len();
            left.remove(&(cycle[n - 2].clone(), cycle[n - 1].clone()));
            let on: BTreeSet<&str> = cycle.iter().map(String::as_str).collect();
            if let Some(k) =
                KNOWN_CIRCLES.iter().position(|(t, m)| *t == top && m.iter().copied().collect::<BTreeSet<_>>() == on)
            {
                known_seen.insert(k);
                continue;
            }
            let mut text = format!("{top}: {}", cycle.join(" -> "));
            for pair in cycle.windows(2) {
                let place = &edges[&(pair[0].clone(), pair[1].clone())];
                text.push_str(&format!("\n    {} -> {}: {place}", pair[0], pair[1]));
            }
            circles.push(text);
        }
    }
    assert!(
        circles.is_empty(),
        "import circles (cut each by moving what both sides share below them):\n{}",
        circles.join("\n")
    );
    let gone: Vec<String> = (0..KNOWN_CIRCLES.len())
        .filter(|k| !known_seen.contains(k))
        .map(|k| format!("{}: {}", KNOWN_CIRCLES[k].0, KNOWN_CIRCLES[k].1.join(", ")))
        .collect();
    assert!(gone.is_empty(), "these circles are cut: take them out of KNOWN_CIRCLES\n{}", gone.join("\n"));
}

#[test]
fn the_import_reader_sees_what_it_must() {
    // Groups, `self` in groups, aliases and nesting.
    let paths = expand_use("crate::kad::{id::NodeId, node::{self, Node as N}, time}");
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(joined, ["crate::kad::id::NodeId", "crate::kad::node", "crate::kad::node::Node", "crate::kad::time"]);
    // Comments, strings and test items are not code.
    let code = strip("// use crate::a::b;\nlet s = \"crate::c::d\"; let c = '{';\n/* crate::e */ crate::f::g();");
    let found: Vec<String> = paths_in(&code).iter().map(|f| f.segs.join("::")).collect();
    assert_eq!(found, ["crate::f::g"]);
    let code = without_test_items("use super::x;\n#[cfg(test)]\nmod tests {\n    use super::y;\n}\nfn f() {}\n");
    let found: BTreeSet<String> = paths_in(&code).iter().map(|f| f.segs.join("::")).collect();
    assert_eq!(found, BTreeSet::from(["super::x".to_string()]));
    // A circle is found, with its places; the graph of this crate's kad has
    // real edges (a reader that saw nothing would pass the circle test).
    let (nodes, edges) = graph("kad");
    assert!(edges.contains_key(&("node".to_string(), "routing".to_string())), "{edges:?}");
    assert!(edges.contains_key(&("trace".to_string(), "op".to_string())), "{edges:?}");
    assert!(find_cycle(&nodes, &edges).is_none());
    let mut circle = edges.clone();
    circle.insert(("op".to_string(), "node".to_string()), "made up".to_string());
    let cycle = find_cycle(&nodes, &circle).expect("a made-up back edge makes a circle");
    assert!(cycle.contains(&"op".to_string()) && cycle.contains(&"node".to_string()), "{cycle:?}");
}

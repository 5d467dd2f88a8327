//! Every `kadsim` command shown in README.md and docs/ is one the binary
//! accepts (issue 25): each line of a `sh` code block that runs kadsim (or
//! `cargo run --release -- ...`) is split as a shell would and parsed by the
//! command line's own parser, and every scenario file it names exists and
//! loads with the `--set`s it gives. A command whose flags were renamed, or a
//! scenario that was moved or broke, fails here naming the page and line.
//! Lines that are synopses (`[--flag]`, `FILE`, `...`) are skipped. Commands
//! are parsed, not run: the quick start's runs are run by the tests of their
//! own features.

use clap::Parser;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Splits a command line as `sh` does for the quoting docs use: single and
/// double quotes, no expansion.
pub(crate) fn split(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, ' ' | '\t') => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// A shell word with its parameter expansions as docs write them:
/// `${VAR:-default}` is the default, `${VAR}` the number 1 (a shard index or
/// a count); `$name` is left for the caller to skip.
pub(crate) fn expand(word: &str) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('}') else { break };
        let inner = &rest[at + 2..at + end];
        out.push_str(inner.split_once(":-").map_or("1", |(_, d)| d));
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether `cmd` holds a `<placeholder>` (a `<` right before a letter; `<
/// -0.01` in a rule is no placeholder).
pub(crate) fn placeholder(cmd: &str) -> bool {
    cmd.as_bytes().windows(2).any(|w| w[0] == b'<' && w[1].is_ascii_alphabetic())
}

/// README.md, then the pages of docs/ in name order.
pub(crate) fn pages() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    std::iter::once(root().join("README.md")).chain(docs).collect()
}

/// `(line, command)` for every kadsim command of the `sh` blocks of `page`,
/// continuation lines joined and comments cut; with `transcripts`, also the
/// `$ kadsim ...` lines of any block.
pub(crate) fn commands(page: &Path, transcripts: bool) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(page).expect("readable");
    let (mut out, mut in_block, mut in_sh, mut pending, mut start) = (Vec::new(), false, false, String::new(), 0);
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("```") {
            in_block = !in_block;
            in_sh = in_block && (t == "```sh" || t == "```bash" || t == "```shell");
            continue;
        }
        // A transcript in any block: `$ kadsim ...` is the command, the
        // lines after it its output.
        let t = match t.strip_prefix("$ ") {
            Some(cmd) if in_block && pending.is_empty() => {
                if transcripts {
                    out.push((i + 1, cmd.trim().to_string()));
                }
                continue;
            }
            _ => t,
        };
        if !in_sh {
            continue;
        }
        if pending.is_empty() {
            start = i + 1;
        }
        let body = t.strip_suffix('\\').unwrap_or(t);
        pending.push_str(body);
        pending.push(' ');
        if t.ends_with('\\') {
            continue;
        }
        let full = std::mem::take(&mut pending);
        // A comment after the command.
        let cmd = match full.find(" #") {
            Some(at) => full[..at].to_string(),
            None => full,
        };
        let cmd = cmd.trim();
        let cmd = cmd.strip_prefix("cargo run --release -- ").map(|c| format!("kadsim {c}")).unwrap_or(cmd.to_string());
        if cmd.starts_with("kadsim ") && !cmd.contains("...") && !cmd.contains("[-") && !placeholder(&cmd) {
            out.push((start, cmd));
        }
    }
    out
}

#[test]
fn every_kadsim_command_in_the_readme_and_the_guide_parses_and_its_scenarios_load() {
    let (mut checked, mut failures) = (0, Vec::new());
    for page in &pages() {
        let name = page.strip_prefix(root()).unwrap_or(page).display().to_string();
        for (line, cmd) in commands(page, true) {
            let args: Vec<String> = split(&cmd).iter().map(|a| expand(a)).collect();
            // Placeholders in upper case (FILE, DIR, BASE) mark a synopsis.
            if args.iter().skip(1).any(|a| a.len() > 1 && a.chars().all(|c| c.is_ascii_uppercase() || c == '_')) {
                continue;
            }
            if args.first().is_none_or(|a| a != "kadsim") {
                continue;
            }
            checked += 1;
            let parsed = kadsim::cli::Cli::try_parse_from(&args).map(|_| ()).or_else(|e| match e.kind() {
                clap::error::ErrorKind::DisplayVersion | clap::error::ErrorKind::DisplayHelp => Ok(()),
                _ => Err(e),
            });
            if let Err(e) = parsed {
                let first = e.to_string().lines().next().unwrap_or_default().to_string();
                failures.push(format!("{name}:{line}: `{cmd}`: {first}"));
                continue;
            }
            let sets: Vec<String> = args.windows(2).filter(|w| w[0] == "--set").map(|w| w[1].clone()).collect();
            // A file named through a shell variable (`$s.toml` in a loop) is not checked.
            for a in args.iter().filter(|a| a.starts_with("scenarios/") && a.ends_with(".toml") && !a.contains('$')) {
                if let Err(e) = kadsim::scenario::load_file(&root().join(a), &sets) {
                    failures.push(format!("{name}:{line}: `{cmd}`: {e}"));
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} commands found: is the extraction broken?");
    assert!(failures.is_empty(), "{} of {checked} commands fail:\n{}", failures.len(), failures.join("\n"));
}

/// The `console` transcripts of `page`: each with the files the `toml`
/// blocks before it define (a block whose first line is `# NAME.toml`), and
/// its `(command, expected output lines)` pairs.
#[allow(clippy::type_complexity)]
fn transcripts(page: &Path) -> Vec<(usize, Vec<(String, String)>, Vec<(String, Vec<String>)>)> {
    let text = std::fs::read_to_string(page).expect("readable");
    let (mut files, mut out) = (Vec::new(), Vec::new());
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let lang = match line.trim().strip_prefix("```") {
            Some(l) if l == "toml" || l == "console" => l.to_string(),
            _ => continue,
        };
        let body: Vec<&str> =
            lines.by_ref().map(|(_, l)| l).take_while(|l| !l.trim_start().starts_with("```")).collect();
        if lang == "toml" {
            if let Some(name) = body.first().and_then(|l| l.strip_prefix("# ")).filter(|n| n.ends_with(".toml")) {
                files.push((name.to_string(), body[1..].join("\n") + "\n"));
            }
            continue;
        }
        let mut steps: Vec<(String, Vec<String>)> = Vec::new();
        for l in body {
            match l.strip_prefix("$ ") {
                Some(cmd) => steps.push((cmd.to_string(), Vec::new())),
                None => {
                    if let Some(last) = steps.last_mut() {
                        last.1.push(l.to_string());
                    }
                }
            }
        }
        out.push((i + 1, files.clone(), steps));
    }
    out
}

#[test]
fn console_transcripts_in_the_guide_print_exactly_what_they_show() {
    let pages = pages();
    let mut ran = 0;
    for page in &pages {
        for (line, files, steps) in transcripts(page) {
            let dir = std::env::temp_dir().join(format!("kadsim-transcript-{}-{line}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("a temp dir");
            for (name, text) in &files {
                std::fs::write(dir.join(name), text).expect("written");
            }
            for (cmd, expected) in steps {
                let args = split(&cmd);
                let o = std::process::Command::new(env!("CARGO_BIN_EXE_kadsim"))
                    .args(&args[1..])
                    .current_dir(&dir)
                    .output()
                    .expect("kadsim runs");
                let got: Vec<String> = String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .chain(String::from_utf8_lossy(&o.stderr).lines())
                    .map(str::to_string)
                    .collect();
                assert_eq!(got, expected, "{}:{line}: `{cmd}`", page.display());
                ran += 1;
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    assert!(ran >= 3, "only {ran} transcript commands ran");
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The text of `page` outside code blocks.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_link_of_the_readme_and_the_guide_leads_somewhere() {
    let pages = pages();
    let anchors = |page: &Path| -> Vec<String> {
        prose(&std::fs::read_to_string(page).unwrap_or_default())
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| slug(l.trim_start_matches('#')))
            .collect()
    };
    let mut broken = Vec::new();
    for page in &pages {
        let text = prose(&std::fs::read_to_string(page).expect("readable"));
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let Some(end) = rest.find(')') else { break };
            let link = &rest[..end];
            if link.contains("://") || link.starts_with("mailto:") || link.contains(' ') {
                continue;
            }
            let (path, anchor) = link.split_once('#').unwrap_or((link, ""));
            let target = if path.is_empty() { page.clone() } else { page.parent().unwrap().join(path) };
            let name = page.strip_prefix(root()).unwrap_or(page).display().to_string();
            if !target.exists() {
                broken.push(format!("{name}: ({link}): no such file"));
            } else if !anchor.is_empty()
                && target.extension().is_some_and(|e| e == "md")
                && !anchors(&target).iter().any(|a| a == anchor)
            {
                broken.push(format!("{name}: ({link}): no such heading"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

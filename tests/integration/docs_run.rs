//! The commands of README.md and docs/ run (issue 25): each page's `sh`
//! blocks are run in order in a directory of their own, as a reader would
//! run them from a checkout, with networks scaled down so that the whole
//! guide runs in CI in about a minute: every `run` and `sweep` gets
//! `--set nodes=120 --set duration=3m --set warmup=30s --set
//! sample_interval=30s` (a scenario's own size is what the page is about;
//! the command, its flags, its scenario and the commands that read its
//! results are what is checked). A command fails the test when it exits
//! with an error, except `compare --fail-if`, whose exit code 1 is its
//! verdict. Not run, each for the reason given in [`SKIP`]: the real node
//! (interactive, tested on the loopback interface), the full validation
//! suite (CI runs `--quick`), and commands for a cluster or for results of
//! a size only the full-size run has.

use super::docs_commands::placeholder;
use std::path::{Path, PathBuf};

/// Commands not run: a substring of the command, and why.
const SKIP: [(&str, &str); 9] = [
    ("kadsim node", "the real node is interactive; tests/integration/net.rs runs it"),
    ("validation --full", "hours of work; CI runs validation --quick"),
    ("kadsim validation", "CI runs validation --quick as its own step"),
    ("/shared/", "a cluster's shared directory"),
    ("--shard", "a SLURM array job"),
    ("--op 37977", "an operation of the full-size traced run"),
    ("scenarios/regression/", "rebuilding the committed baselines"),
    ("nodes=1000000", "a million nodes"),
    ("cargo install", "installs into ~/.cargo"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `sh` lines of `page` that run kadsim, continuation lines joined,
/// comments cut, with their line numbers.
fn sh_commands(page: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(page).expect("readable");
    let (mut out, mut in_sh, mut in_block, mut pending, mut start) = (Vec::new(), false, false, String::new(), 0);
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("```") {
            in_block = !in_block;
            in_sh = in_block && (t == "```sh" || t == "```bash");
            continue;
        }
        if !in_sh {
            continue;
        }
        if pending.is_empty() {
            start = i + 1;
        }
        pending.push_str(t.strip_suffix('\\').unwrap_or(t));
        pending.push(' ');
        if t.ends_with('\\') {
            continue;
        }
        let full = std::mem::take(&mut pending);
        let cmd = full.find(" #").map_or(full.as_str(), |at| &full[..at]).trim().to_string();
        let cmd = cmd.strip_prefix("cargo run --release -- ").map_or(cmd.clone(), |c| format!("kadsim {c}"));
        if cmd.starts_with("kadsim ") && !cmd.contains("...") && !cmd.contains("[-") && !placeholder(&cmd) {
            out.push((start, cmd));
        }
    }
    out
}

#[test]
fn the_guides_commands_run_scaled_down() {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    let (mut ran, mut failures) = (0, Vec::new());
    for page in &pages {
        let cmds = sh_commands(page);
        if cmds.is_empty() {
            continue;
        }
        let name = page.file_name().unwrap().to_string_lossy().to_string();
        let dir = std::env::temp_dir().join(format!("kadsim-docs-run-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        for sub in ["scenarios", "assets"] {
            std::os::unix::fs::symlink(root().join(sub), dir.join(sub)).expect("a link");
        }
        for (line, cmd) in cmds {
            if cmd.contains('$') && !cmd.contains("${") || SKIP.iter().any(|(s, _)| cmd.contains(s)) {
                continue;
            }
            let mut args: Vec<String> =
                super::docs_commands::split(&cmd).iter().map(|a| super::docs_commands::expand(a)).collect();
            let sub = args.get(1).cloned().unwrap_or_default();
            if sub == "run" || sub == "sweep" {
                for s in ["nodes=120", "duration=3m", "warmup=30s", "sample_interval=30s"] {
                    args.extend(["--set".to_string(), s.to_string()]);
                }
                args.push("--quiet".into());
            }
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_kadsim"))
                .args(&args[1..])
                .current_dir(&dir)
                .output()
                .expect("kadsim runs");
            ran += 1;
            let verdict = sub == "compare" && cmd.contains("--fail-if") && o.status.code() == Some(1);
            if !o.status.success() && !verdict {
                let err = String::from_utf8_lossy(&o.stderr);
                failures.push(format!("{name}:{line}: `{cmd}`: {}", err.lines().last().unwrap_or_default()));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(ran > 20, "only {ran} commands ran");
    assert!(failures.is_empty(), "{} of {ran} commands fail:\n{}", failures.len(), failures.join("\n"));
}

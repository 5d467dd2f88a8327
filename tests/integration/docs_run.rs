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

use super::docs_commands::{commands, pages};
use std::path::PathBuf;

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

#[test]
fn the_guides_commands_run_scaled_down() {
    let (mut ran, mut failures) = (0, Vec::new());
    for page in &pages() {
        let cmds = commands(page, false);
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

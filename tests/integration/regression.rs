//! The regression suite: every scenario in `scenarios/regression/` runs and is
//! compared with its committed baseline in `results/baseline/<name>/` by
//! `kadsim compare`, with the `--fail-if` rules of
//! `scenarios/regression/thresholds.txt`. A protocol change that makes lookups
//! take more hops or fail more often than the thresholds allow fails this test.
//!
//! After an intended change of behaviour, re-bless the baseline:
//! `cargo run --release -- run scenarios/regression/<name>.toml --out results/baseline/<name> --quiet`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rules() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("scenarios/regression/thresholds.txt")).expect("thresholds.txt");
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios/regression"))
        .expect("scenarios/regression")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn kadsim(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kadsim")).args(args).output().expect("the kadsim binary runs")
}

fn check(scenario: &Path, rules: &[String]) -> Result<(), String> {
    let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
    let baseline = root().join("results/baseline").join(&name);
    if !baseline.join("manifest.json").exists() {
        return Err(format!("{name}: no baseline in {}", baseline.display()));
    }
    let out = std::env::temp_dir().join(format!("kadsim-regression-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = kadsim(&["run".as_ref(), scenario.as_os_str(), "--out".as_ref(), out.as_os_str(), "--quiet".as_ref()]);
    if !run.status.success() {
        return Err(format!("{name}: run failed: {}", String::from_utf8_lossy(&run.stderr)));
    }
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["compare".as_ref(), baseline.as_os_str(), out.as_os_str(), "--no-charts".as_ref()];
    for r in rules {
        args.push("--fail-if".as_ref());
        args.push(r.as_ref());
    }
    let cmp = kadsim(&args);
    let text = String::from_utf8_lossy(&cmp.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&out);
    match cmp.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(format!("{name}: regression against the baseline\n{text}")),
        _ => Err(format!("{name}: compare failed: {}\n{text}", String::from_utf8_lossy(&cmp.stderr))),
    }
}

#[test]
fn regression_suite_stays_within_thresholds_of_the_baseline() {
    let rules = rules();
    assert!(rules.len() >= 3, "thresholds.txt holds the rules");
    let scenarios = scenarios();
    assert!(scenarios.len() >= 2, "scenarios/regression holds the suite");
    let failures: Vec<String> = scenarios.iter().filter_map(|s| check(s, &rules).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

//! The regression suite: every scenario in `scenarios/regression/` is swept
//! with 3 replicas and the set is compared between seeds with its committed
//! baseline in `results/baseline/<name>/` (a sweep of the same 3 replicas) by
//! `kadsim compare`, with the `--fail-if` rules of
//! `scenarios/regression/thresholds.txt`: they bound the difference of the
//! two sets' means. A protocol change that makes lookups take more hops or
//! fail more often than the thresholds allow fails this test.
//!
//! After an intended change of behaviour, re-bless the baseline:
//! `rm -rf results/baseline/<name> && cargo run --release -- sweep
//! scenarios/regression/<name>.toml --replicas 3 --out results/baseline/<name> --quiet`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Replicas per scenario, in the baseline and in the test run.
const REPLICAS: usize = 3;

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

fn name_of(scenario: &Path) -> String {
    scenario.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The (replica, seed) columns of a sweep's runs.csv.
fn replicas_and_seeds(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let path = dir.join("runs.csv");
    let mut r = csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let head: Vec<String> = r.headers().map_err(|e| e.to_string())?.iter().map(String::from).collect();
    let col = |n: &str| head.iter().position(|h| h == n).ok_or_else(|| format!("{}: no column {n}", path.display()));
    let (rc, sc) = (col("replica")?, col("seed")?);
    r.records()
        .map(|rec| rec.map(|rec| (rec[rc].to_string(), rec[sc].to_string())).map_err(|e| e.to_string()))
        .collect()
}

fn check(scenario: &Path, rules: &[String]) -> Result<(), String> {
    let name = name_of(scenario);
    let baseline = root().join("results/baseline").join(&name);
    if !baseline.join("runs.csv").exists() {
        return Err(format!("{name}: no baseline sweep (runs.csv) in {}", baseline.display()));
    }
    let out = std::env::temp_dir().join(format!("kadsim-regression-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let replicas = REPLICAS.to_string();
    let sweep = kadsim(&[
        "sweep".as_ref(),
        scenario.as_os_str(),
        "--replicas".as_ref(),
        replicas.as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ]);
    if !sweep.status.success() {
        return Err(format!("{name}: sweep failed: {}", String::from_utf8_lossy(&sweep.stderr)));
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
    let want = format!("between-seed ({REPLICAS} vs {REPLICAS} runs)");
    if cmp.status.code() != Some(2) && !text.starts_with(&want) {
        return Err(format!("{name}: not a comparison of replica sets ({want}):\n{text}"));
    }
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

/// The committed baseline of every scenario is a replica set: a sweep of
/// `REPLICAS` runs, replica 0 on the scenario's own seed, the others on
/// distinct derived seeds, each run present.
#[test]
fn regression_baselines_are_replica_sets() {
    for scenario in scenarios() {
        let name = name_of(&scenario);
        let baseline = root().join("results/baseline").join(&name);
        let rows = replicas_and_seeds(&baseline).unwrap_or_else(|e| panic!("{name}: {e}"));
        let replicas: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(replicas, ["0", "1", "2"], "{name}");
        let text = std::fs::read_to_string(&scenario).unwrap();
        let seed = text.lines().find_map(|l| l.strip_prefix("seed = ")).expect("the scenario names its seed");
        assert_eq!(rows[0].1, seed.trim(), "{name}: replica 0 runs on the scenario's seed");
        let mut seeds: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), REPLICAS, "{name}: distinct seeds");
        for r in 0..REPLICAS {
            let run = baseline.join(format!("runs/base/r{r}"));
            assert!(run.join("manifest.json").exists() && run.join("summary.csv").exists(), "{}", run.display());
        }
    }
}

//! What `kadsim run` leaves behind and tells its user: whole result
//! directories, honest sizes and warnings, a manifest that says how the run was
//! made, files that other commands accept even when empty, and terminal output
//! fit for a terminal or a log.

use crate::bin::{kadsim, tmpdir};
use std::path::{Path, PathBuf};
use std::process::Output;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

fn summary(dir: &Path, metric: &str) -> String {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{metric},")).map(str::to_string))
        .unwrap_or_else(|| panic!("{metric} missing from summary.csv:\n{text}"))
}

/// A small churning network with every kind of operation.
const SMALL: &str = r#"
name = "small"
nodes = 120
duration = "5m"
warmup = "1m"
sample_interval = "30s"
[bootstrap]
join_rate = 20
[network.latency]
model = "lognormal"
median = "40ms"
sigma = 0.5
[churn]
model = "distributions"
session = { dist = "exponential", mean = "10m" }
downtime = { dist = "exponential", mean = "2m" }
[workload]
lookup_rate = 0.02
put_rate = 0.005
get_rate = 0.02
keys = 40
"#;

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_run_without_measured_operations_writes_tables_that_every_command_reads() {
    let d = tmpdir("runs-empty");
    let f = write(
        &d,
        "idle.toml",
        "name = \"idle\"\nnodes = 30\nduration = \"2m\"\nwarmup = \"1m\"\n[workload]\nlookup_rate = 0\nput_rate = 0\nget_rate = 0\n",
    );
    let run = d.join("run");
    ok(&kadsim(&["run", f.to_str().unwrap(), "--out", run.to_str().unwrap(), "-q"]));
    let ops = std::fs::read_to_string(run.join("ops.csv")).unwrap();
    assert!(ops.starts_with("start_us,end_us,kind,origin,target,hops"), "ops.csv keeps its header: {ops:?}");
    assert_eq!(ops.lines().count(), 1);
    let r = run.to_str().unwrap();
    ok(&kadsim(&["plot", r]));
    ok(&kadsim(&["report", r]));
    let o = kadsim(&["compare", r, r, "--no-charts"]);
    assert_eq!(o.status.code(), Some(0), "compare: {}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn timeseries_splits_success_and_latency_by_operation_kind() {
    let d = tmpdir("runs-kinds");
    let f = write(&d, "s.toml", SMALL);
    let run = d.join("run");
    ok(&kadsim(&["run", f.to_str().unwrap(), "--out", run.to_str().unwrap(), "-q"]));
    let mut rdr = csv::Reader::from_path(run.join("timeseries.csv")).unwrap();
    let head: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}: {head:?}"));
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let sum = |name: &str| rows.iter().map(|r| r[col(name)].parse::<u64>().unwrap()).sum::<u64>();
    // Per kind, the counts add up to the pooled ones, and match ops.csv.
    let done: u64 = ["find_node_done", "get_done", "put_done"].iter().map(|c| sum(c)).sum();
    assert_eq!(done, sum("ops_done"));
    let ok_: u64 = ["find_node_succeeded", "get_succeeded", "put_succeeded"].iter().map(|c| sum(c)).sum();
    assert_eq!(ok_, sum("ops_succeeded"));
    let ops = std::fs::read_to_string(run.join("ops.csv")).unwrap();
    let gets = ops.lines().filter(|l| l.split(',').nth(2) == Some("get")).count() as u64;
    assert_eq!(sum("get_done"), gets);
    // Gets (answered near their key) are far faster than node lookups, which
    // wait for their last replies: the pooled median hid that.
    let median = |name: &str| {
        let mut v: Vec<f64> = rows.iter().filter_map(|r| r[col(name)].parse().ok()).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    assert!(median("get_latency_p50_ms") < median("find_node_latency_p50_ms"));
    for r in &rows {
        let (n, s) = (r[col("get_done")].parse::<u64>().unwrap(), &r[col("get_success_rate")]);
        assert_eq!(n == 0, s.is_empty(), "a rate only where gets finished");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn slow_joins_are_reported_in_the_summary_and_as_a_warning() {
    let d = tmpdir("runs-slowjoin");
    // 400 nodes at one join per second: about 61 are in when the 60 s warm-up ends.
    let f = write(
        &d,
        "slow.toml",
        "name = \"slow\"\nnodes = 400\nduration = \"2m\"\nwarmup = \"1m\"\n[bootstrap]\njoin_rate = 1\n[workload]\nlookup_rate = 0.01\nput_rate = 0\nget_rate = 0\n",
    );
    let run = d.join("run");
    let o = kadsim(&["run", f.to_str().unwrap(), "--out", run.to_str().unwrap(), "-q"]);
    ok(&o);
    let joined: u32 = summary(&run, "nodes.joined_at_warmup").parse().unwrap();
    assert!((50..=70).contains(&joined), "about 61 joined by the end of the warm-up, not {joined}");
    let alive: f64 = summary(&run, "alive.mean").parse().unwrap();
    assert!((80.0..140.0).contains(&alive), "about 90 up on average while measured, not {alive}");
    assert_eq!(summary(&run, "nodes"), "400");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("warning: bootstrap.join_rate") && stderr.contains("of 400 nodes"), "{stderr}");
    let m = manifest(&run);
    let warnings = m["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("of 400 nodes")), "{m}");
    assert_eq!(m["population"]["at_warmup"]["joined"].as_u64(), Some(u64::from(joined)));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn joins_still_under_way_when_the_warm_up_ends_are_found_by_the_run() {
    let d = tmpdir("runs-midjoin");
    // Every join starts before the 20 s warm-up ends (the last at 19.9 s), but
    // a join takes seconds over 300 ms links: the last ones are not done.
    let f = write(
        &d,
        "mid.toml",
        "name = \"mid\"\nnodes = 200\nduration = \"1m\"\nwarmup = \"20s\"\n[bootstrap]\njoin_rate = 10\n\
         [network.latency]\nmodel = \"constant\"\nvalue = \"300ms\"\n[workload]\nlookup_rate = 0.01\nput_rate = 0\nget_rate = 0\n",
    );
    let run = d.join("run");
    let o = kadsim(&["run", f.to_str().unwrap(), "--out", run.to_str().unwrap(), "-q"]);
    ok(&o);
    let m = manifest(&run);
    let joining = m["population"]["at_warmup"]["joining"].as_u64().unwrap();
    let joined = m["population"]["at_warmup"]["joined"].as_u64().unwrap();
    assert!(joining > 0 && joined + joining == 200, "{m}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    let want = format!(
        "warning: only {joined} of 200 nodes had joined when the warm-up ended at 20 s ({joining} still joining"
    );
    assert!(stderr.contains(&want), "{want}\n{stderr}");
    assert!(m["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("still joining")));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_manifest_names_the_build_and_the_command_line() {
    let d = tmpdir("runs-prov");
    let f = write(&d, "s.toml", SMALL);
    let run = d.join("run");
    ok(&kadsim(&["run", f.to_str().unwrap(), "--out", run.to_str().unwrap(), "-q", "--set", "seed=7"]));
    let m = manifest(&run);
    let cmd: Vec<&str> = m["command_line"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(&cmd[1..], ["run", f.to_str().unwrap(), "--out", run.to_str().unwrap(), "-q", "--set", "seed=7"]);
    assert_eq!(m["kadsim_version"].as_str(), Some(env!("CARGO_PKG_VERSION")));
    let commit = m["git_commit"].as_str().unwrap();
    let hex = commit.trim_end_matches("-dirty");
    assert!(commit == "unknown" || (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit())), "{commit}");
    assert_eq!(m["seed"].as_u64(), Some(7));
    let _ = std::fs::remove_dir_all(&d);
}

/// The files of a results directory, with their contents.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn a_results_directory_never_mixes_two_runs() {
    let d = tmpdir("runs-whole");
    let f = write(&d, "s.toml", SMALL);
    let (fs, run) = (f.to_str().unwrap(), d.join("run"));
    let rs = run.to_str().unwrap();
    ok(&kadsim(&["run", fs, "--out", rs, "-q", "--seed", "1"]));
    let first = snapshot(&run);
    // Something in the way of one of the files: writing nodes.csv in place fails.
    std::fs::create_dir(run.join("nodes.csv.tmp")).unwrap();
    let o = kadsim(&["run", fs, "--out", rs, "-q", "--seed", "2", "--force"]);
    let after = snapshot(&run);
    let fresh = d.join("fresh");
    ok(&kadsim(&["run", fs, "--out", fresh.to_str().unwrap(), "-q", "--seed", "2"]));
    let csvs = |s: &[(String, Vec<u8>)]| s.iter().filter(|(n, _)| n.ends_with(".csv")).cloned().collect::<Vec<_>>();
    if o.status.success() {
        assert_eq!(csvs(&after), csvs(&snapshot(&fresh)), "every file is the second run's");
    } else {
        assert_eq!(after, first, "every file is still the first run's");
    }
    // A run killed part-way leaves the last complete results as they were.
    let mut big = std::process::Command::new(env!("CARGO_BIN_EXE_kadsim"))
        .args(["run", fs, "--out", rs, "-q", "--set", "nodes=3000", "--set", "duration=2h", "--force"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    big.kill().unwrap();
    big.wait().unwrap();
    let settled = snapshot(&run);
    assert_eq!(settled, after, "the killed run changed nothing");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_output_directory_of_other_files_is_refused_not_emptied() {
    let d = tmpdir("runs-refuse");
    let f = write(&d, "s.toml", SMALL);
    let mine = d.join("paper");
    std::fs::create_dir(&mine).unwrap();
    write(&mine, "draft.tex", "precious");
    let o = kadsim(&["run", f.to_str().unwrap(), "--out", mine.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("draft.tex: not written by kadsim"), "{err}");
    assert_eq!(std::fs::read_to_string(mine.join("draft.tex")).unwrap(), "precious");
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_run_ends_with_a_summary_and_logs_a_heartbeat_off_a_terminal() {
    let d = tmpdir("runs-talk");
    let f = write(&d, "s.toml", SMALL);
    let run = d.join("run");
    // stderr is a pipe here, as in a batch job: no bar, a heartbeat per 10%.
    let o = kadsim(&["run", f.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    let out = ok(&o);
    assert!(out.starts_with("small: 120 nodes,"), "{out}");
    for want in ["node lookups", "gets", "puts", "success", "hops", "p50", "next: kadsim report"] {
        assert!(out.contains(want), "{want}: {out}");
    }
    assert!(out.contains(&format!("results in {}", run.display())), "{out}");
    let lookups = out.lines().find(|l| l.trim_start().starts_with("node lookups")).unwrap();
    let count = summary(&run, "find_node.count");
    assert!(lookups.contains(&format!(" {count} ")), "the count is summary.csv's: {lookups} vs {count}");
    let err = String::from_utf8_lossy(&o.stderr);
    let beats: Vec<&str> = err.lines().filter(|l| l.contains("% of 300 s simulated")).collect();
    assert_eq!(beats.len(), 10, "{err}");
    assert!(beats[0].contains(" 10%") && beats[9].contains("100%"), "{beats:?}");
    // Every line fits 80 columns, but for those naming the (long) results path.
    let path = run.display().to_string();
    assert!(
        err.lines().chain(out.lines()).filter(|l| !l.contains(&path)).all(|l| l.chars().count() <= 80),
        "{err}{out}"
    );
    let q = kadsim(&["run", f.to_str().unwrap(), "--out", run.to_str().unwrap(), "--quiet"]);
    ok(&q);
    assert!(q.stderr.is_empty(), "--quiet: {}", String::from_utf8_lossy(&q.stderr));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn readme_says_how_to_install_and_cargo_states_its_rust_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let table: toml::Table = cargo.parse().unwrap();
    let v = table["package"]["rust-version"].as_str().expect("rust-version in [package]");
    assert!(v.split('.').all(|p| p.parse::<u32>().is_ok()), "{v}");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("cargo install --path ."), "README tells how to put kadsim on PATH");
    assert!(readme.contains(&format!("Rust {v}")), "README names the same minimum Rust ({v})");
}

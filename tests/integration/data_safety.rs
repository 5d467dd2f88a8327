//! A user's results are never lost (issue 20): kadsim never deletes or
//! overwrites a file it did not write, never replaces an earlier run (or
//! sweep, or charts of something else) without `--force`, replaces the same
//! run in place keeping what was drawn from it, and settles what a
//! replacement stopped halfway left behind, at the next command. Every
//! refusal is one line on stderr, exit code 2, and changes no file.

use crate::bin::{kadsim_at, tmpdir, tree};
use std::path::Path;
use std::process::Output;

/// A network small enough to run in a fraction of a second, with every kind
/// of operation.
const TINY: &str = "name = \"tiny\"\nnodes = 40\nduration = \"1m\"\nwarmup = \"10s\"\n\
[workload]\nlookup_rate = 0.5\nput_rate = 0.1\nget_rate = 0.2\nkeys = 10\n";

/// A scratch directory holding `tiny.toml`.
fn place(name: &str) -> std::path::PathBuf {
    let d = tmpdir(&format!("safety-{name}"));
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `kadsim args` in `d`; it must succeed.
fn ok(d: &Path, args: &[&str]) -> Output {
    let o = kadsim_at(d, args, &[]);
    assert!(o.status.success(), "kadsim {args:?}: {}{}", text(&o.stdout), text(&o.stderr));
    o
}

/// `kadsim args` in `d` must be refused: exit code 2 and exactly one line on
/// stderr, containing every one of `says`, and no file under `d` changed.
fn refused(d: &Path, args: &[&str], says: &[&str]) -> String {
    let before = tree(d);
    let o = kadsim_at(d, args, &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "kadsim {args:?}: {}{err}", text(&o.stdout));
    assert_eq!(err.lines().count(), 1, "kadsim {args:?}: one line: {err}");
    for s in says {
        assert!(err.contains(s), "kadsim {args:?}: expected {s:?} in: {err}");
    }
    assert!(tree(d) == before, "kadsim {args:?} changed files:\n{err}");
    err
}

fn seed_of(run: &Path) -> u64 {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap();
    m["seed"].as_u64().unwrap()
}

/// The files a run and `kadsim plot` wrote, without the record of them.
fn visible(run: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn a_thesis_beside_a_manifest_is_never_deleted_not_even_with_force() {
    let d = place("thesis");
    ok(&d, &["run", "tiny.toml", "--out", "work", "-q"]);
    std::fs::write(d.join("work/thesis.tex"), "\\chapter{Kademlia}").unwrap();
    std::fs::write(d.join("work/paper.pdf"), "%PDF-1.7 precious").unwrap();
    for extra in [&[][..], &["--force"][..], &["--seed", "2", "--force"][..]] {
        let args = [&["run", "tiny.toml", "--out", "work", "-q"][..], extra].concat();
        refused(&d, &args, &["work/paper.pdf: not written by kadsim", "move it away or choose another --out"]);
    }
    // Only names kadsim once wrote (a README, charts, a charts/ folder), but not by kadsim: kept.
    let lookalike = d.join("lookalike");
    std::fs::create_dir_all(lookalike.join("charts")).unwrap();
    std::fs::write(lookalike.join("README.md"), "my notes").unwrap();
    std::fs::write(lookalike.join("hops_cdf.png"), "my chart").unwrap();
    std::fs::write(lookalike.join("charts/fig1.svg"), "<svg/>").unwrap();
    std::fs::write(lookalike.join("manifest.json"), "{\"mine\": true}").unwrap();
    refused(&d, &["run", "tiny.toml", "--out", "lookalike", "-q", "--force"], &["lookalike", "--out"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_second_seed_keeps_the_first_run_until_force() {
    let d = place("seeds");
    ok(&d, &["run", "tiny.toml", "-q", "--seed", "1"]);
    ok(&d, &["plot", "results/tiny"]);
    let first = tree(&d.join("results/tiny"));
    let err = refused(
        &d,
        &["run", "tiny.toml", "-q", "--seed", "2"],
        &["results/tiny holds an earlier run (tiny, seed 1, finished 20", "UTC)", "seed 1 (this run: 2)"],
    );
    assert!(err.contains("--out results/tiny-seed2") && err.contains("--force"), "{err}");
    assert!(tree(&d.join("results/tiny")) == first);
    // The way out it names keeps both.
    ok(&d, &["run", "tiny.toml", "-q", "--seed", "2", "--out", "results/tiny-seed2"]);
    assert_eq!((seed_of(&d.join("results/tiny")), seed_of(&d.join("results/tiny-seed2"))), (1, 2));
    // Another setting, another build: the same refusal, naming what differs.
    refused(&d, &["run", "tiny.toml", "-q", "--set", "k=8"], &["protocol.k 20 (this run: 8)", "--out results/tiny-2"]);
    // --force replaces the earlier run as a whole: its charts go with it.
    ok(&d, &["run", "tiny.toml", "-q", "--seed", "3", "--force"]);
    assert_eq!(seed_of(&d.join("results/tiny")), 3);
    assert_eq!(
        visible(&d.join("results/tiny")),
        ["buckets.csv", "manifest.json", "nodes.csv", "ops.csv", "summary.csv", "timeseries.csv"]
    );
    let leftovers: Vec<_> = std::fs::read_dir(d.join("results")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 2, "no sibling left behind: {leftovers:?}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_same_run_again_is_replaced_in_place_keeping_its_charts_and_report() {
    let d = place("same");
    ok(&d, &["run", "tiny.toml", "-q", "--trace", "ops"]);
    ok(&d, &["report", "results/tiny"]);
    let before = tree(&d.join("results/tiny"));
    let o = ok(&d, &["run", "tiny.toml", "-q", "--trace", "ops"]);
    assert!(text(&o.stdout).contains("it held this same run: replaced by identical files"), "{}", text(&o.stdout));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    let after = tree(&d.join("results/tiny"));
    let data = |t: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        t.iter().filter(|(n, _)| n != "manifest.json").cloned().collect()
    };
    assert!(data(&after) == data(&before), "every file but the manifest byte for byte, report and charts kept");
    // The same run without its trace: the trace files go, the rest stays.
    ok(&d, &["run", "tiny.toml", "-q"]);
    let names = visible(&d.join("results/tiny"));
    assert!(!names.contains(&"trace.csv".to_string()) && names.contains(&"report.md".to_string()), "{names:?}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Runs `args` in `d` stopped at the test fault point `step`, as a crash would.
fn crash_at(d: &Path, args: &[&str], step: &str) {
    let o = kadsim_at(d, args, &[("KADSIM_TEST_FAULT", step)]);
    assert!(o.status.code().is_none(), "stopped by a signal at {step}: {:?} {}", o.status, text(&o.stderr));
}

fn siblings(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d.join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_replacement_stopped_halfway_is_settled_by_the_next_command() {
    let d = place("crash");
    let run = d.join("results/tiny");
    ok(&d, &["run", "tiny.toml", "-q", "--seed", "1"]);

    // Stopped between moving the earlier run aside and renaming the new one in:
    // the directory is missing; the next command finishes the replacement.
    crash_at(&d, &["run", "tiny.toml", "-q", "--seed", "2", "--force"], "swap-aside");
    assert!(!run.exists(), "the state the issue describes: {:?}", siblings(&d));
    let o = ok(&d, &["plot", "results/tiny"]);
    assert!(text(&o.stderr).contains("kadsim: note: results/tiny: finished a replacement that was stopped halfway"));
    assert_eq!(seed_of(&run), 2);
    assert_eq!(siblings(&d), ["tiny"]);

    // The same, but the new run's files lost too: the earlier run is restored.
    crash_at(&d, &["run", "tiny.toml", "-q", "--seed", "3", "--force"], "swap-aside");
    for s in siblings(&d).iter().filter(|s| s.contains(".partial-")) {
        std::fs::remove_dir_all(d.join("results").join(s)).unwrap();
    }
    let o = ok(&d, &["report", "results/tiny"]);
    assert!(text(&o.stderr).contains("restored the earlier run"), "{}", text(&o.stderr));
    assert_eq!(seed_of(&run), 2);
    assert_eq!(siblings(&d), ["tiny"]);

    // Stopped after the new run took its place, before the earlier one was removed.
    crash_at(&d, &["run", "tiny.toml", "-q", "--seed", "4", "--force"], "swap-renamed");
    assert_eq!(seed_of(&run), 4);
    let o = ok(&d, &["compare", "results/tiny", "results/tiny", "--no-charts"]);
    assert!(text(&o.stderr).contains("the earlier run that results/tiny replaced"), "{}", text(&o.stderr));
    assert_eq!(siblings(&d), ["tiny"]);

    // Stopped while the same run replaced its files one by one: complete either way.
    let before = tree(&run);
    crash_at(&d, &["run", "tiny.toml", "-q", "--seed", "4"], "inplace-midway");
    let o = ok(&d, &["run", "tiny.toml", "-q", "--seed", "4"]);
    assert!(text(&o.stderr).contains("kadsim: note: removed results/.tiny.partial-"), "{}", text(&o.stderr));
    let csvs = |t: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        t.iter().filter(|(n, _)| n.ends_with(".csv")).cloned().collect()
    };
    assert!(csvs(&tree(&run)) == csvs(&before));
    assert_eq!(siblings(&d), ["tiny"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn charts_never_replace_a_users_file_nor_another_runs_charts_without_force() {
    let d = place("charts");
    ok(&d, &["run", "tiny.toml", "-q", "--out", "a", "--trace", "ops"]);
    ok(&d, &["run", "tiny.toml", "-q", "--out", "b", "--seed", "2"]);
    // A folder of the user's with a file of a chart's name: nothing written, not even with --force.
    std::fs::create_dir(d.join("figs")).unwrap();
    std::fs::write(d.join("figs/hops_cdf.png"), "my own figure").unwrap();
    std::fs::write(d.join("figs/paper.tex"), "text").unwrap();
    refused(&d, &["plot", "a", "--out", "figs", "--force"], &["figs/hops_cdf.png: not written by kadsim"]);
    // Other names in the user's folder are fine, and the user's files stay.
    ok(&d, &["plot", "a", "b", "--out", "figs"]);
    assert_eq!(std::fs::read_to_string(d.join("figs/hops_cdf.png")).unwrap(), "my own figure");
    // The same charts again replace themselves; another run's need --force.
    ok(&d, &["plot", "a", "--out", "out"]);
    ok(&d, &["plot", "a", "--out", "out", "--format", "pdf"]);
    refused(&d, &["plot", "b", "--out", "out"], &["out/", "holds charts of a", "--force"]);
    ok(&d, &["plot", "b", "--out", "out", "--force"]);
    refused(&d, &["plot", "b", "a", "--out", "figs"], &["figs/overlay_", "holds overlay charts of a, b", "--force"]);
    // report.md, trace charts and comparison charts follow the same rule.
    std::fs::write(d.join("b/report.md"), "my report").unwrap();
    refused(&d, &["report", "b", "--force"], &["b/report.md: not written by kadsim"]);
    let op = {
        let ops = std::fs::read_to_string(d.join("a/ops.csv")).unwrap();
        let head: Vec<&str> = ops.lines().next().unwrap().split(',').collect();
        let (q, id) =
            (head.iter().position(|h| *h == "queried").unwrap(), head.iter().position(|h| *h == "op").unwrap());
        let row = ops.lines().skip(1).find(|l| l.split(',').nth(q) != Some("0")).unwrap();
        row.split(',').nth(id).unwrap().to_string()
    };
    std::fs::create_dir(d.join("tr")).unwrap();
    std::fs::write(d.join(format!("tr/op-{op}-convergence.svg")), "mine").unwrap();
    refused(
        &d,
        &["trace", "a", "--op", &op, "--out", "tr"],
        &[&format!("tr/op-{op}-convergence.svg: not written by kadsim")],
    );
    ok(&d, &["compare", "a", "b", "--out", "cmp"]);
    ok(&d, &["compare", "a", "b", "--out", "cmp"]);
    refused(
        &d,
        &["compare", "b", "a", "--out", "cmp"],
        &["cmp/compare_", "holds comparison charts of a vs b", "--force"],
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn sweeps_and_merges_follow_the_same_rules() {
    let d = place("sweeps");
    let sweep = ["sweep", "tiny.toml", "--param", "k=8,20", "--replicas", "2", "-q", "--out", "sw"];
    ok(&d, &sweep);
    let first = tree(&d.join("sw"));
    // The same sweep again: its runs replaced by identical ones.
    ok(&d, &sweep);
    let runs_csv = |t: &[(String, Vec<u8>)]| t.iter().find(|(n, _)| n == "runs.csv").cloned();
    assert_eq!(runs_csv(&tree(&d.join("sw"))), runs_csv(&first));
    // Another grid: refused naming the earlier sweep; --force replaces it whole.
    let other = [&sweep[..], &["--seed", "9"]].concat();
    refused(
        &d,
        &other,
        &[
            "sw holds an earlier sweep of tiny.toml (k=8,20; 2 replicas, seed 1",
            "base_seed 1 (this run: 9)",
            "--out sw-2",
            "--force",
        ],
    );
    // A file of the user's anywhere in it: refused even with --force.
    std::fs::write(d.join("sw/runs/k=8/notes.txt"), "mine").unwrap();
    refused(&d, &[&other[..], &["--force"]].concat(), &["sw/runs/k=8/notes.txt: not written by kadsim"]);
    std::fs::remove_file(d.join("sw/runs/k=8/notes.txt")).unwrap();
    ok(&d, &[&other[..], &["--force"]].concat());
    // merge writes only where kadsim owns the place too.
    for i in ["1/2", "2/2"] {
        ok(&d, &["sweep", "tiny.toml", "--param", "k=8,20", "--replicas", "2", "-q", "--out", "sh", "--shard", i]);
    }
    refused(&d, &["merge", "sh", "--out", "sw"], &["sw holds an earlier sweep", "--force"]);
    ok(&d, &["merge", "sh"]);
    ok(&d, &["merge", "sh"]);
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/runs.csv"), "my table").unwrap();
    refused(&d, &["merge", "sh", "--out", "mine", "--force"], &["mine/runs.csv: not written by kadsim"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn shards_running_at_once_share_one_directory() {
    let d = place("shards");
    let children: Vec<std::process::Child> = ["1/3", "2/3", "3/3"]
        .iter()
        .map(|i| {
            std::process::Command::new(crate::bin::binary())
                .args(["sweep", "tiny.toml", "--param", "k=8,20", "--replicas", "3", "-q", "--jobs", "1"])
                .args(["--out", "sh", "--shard", i])
                .current_dir(&d)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    ok(&d, &["merge", "sh"]);
    let rows = std::fs::read_to_string(d.join("sh/runs.csv")).unwrap();
    assert_eq!(rows.lines().count(), 7, "six runs: {rows}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_directory_from_before_ownership_is_refused_with_the_reason() {
    let d = place("legacy");
    ok(&d, &["run", "tiny.toml", "-q", "--out", "old"]);
    // As an older kadsim left it: the same files, no record of them.
    std::fs::remove_file(d.join("old/.kadsim-owned")).unwrap();
    refused(
        &d,
        &["run", "tiny.toml", "-q", "--out", "old", "--force"],
        &["old: written by an earlier kadsim that kept no record of its files", "move old away"],
    );
    // Reading it is fine.
    ok(&d, &["compare", "old", "old", "--no-charts"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_manifest_says_which_sources_ran_and_when() {
    let d = place("manifest");
    ok(&d, &["run", "tiny.toml", "-q"]);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("results/tiny/manifest.json")).unwrap()).unwrap();
    let sha = m["source_sha1"].as_str().unwrap();
    assert!(sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()), "{sha}");
    let at = m["finished_at"].as_str().unwrap();
    assert!(at.len() == 20 && at.starts_with("20") && at.ends_with('Z') && at.as_bytes()[10] == b'T', "{at}");
    let _ = std::fs::remove_dir_all(&d);
}

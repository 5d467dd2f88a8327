//! Scenario semantics a user cannot see, made visible (issue 20): sections
//! given as arrays, durations without a unit and scenario paths that are not
//! regular files are refused with one line and exit code 2, naming the file
//! (or the `--set`), the line and column, and the field; settings under
//! which no operation, or hardly any, can succeed are warned about by
//! `validate` and `run`, and the warnings are kept in the manifest.

use crate::bin::{kadsim, tmpdir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const HINT_50: &str = "durations need a unit: did you mean \"50ms\" or \"50s\"? (units: us, ms, s, m or min, h, d)";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes `text` to `dir/name` and returns its path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Asserts exit code 2 and exactly `want` as the one line on stderr.
fn refused(o: &Output, want: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_eq!(err.trim_end(), format!("kadsim: {want}"));
}

#[test]
fn a_section_given_as_an_array_is_refused_in_overrides_and_files() {
    let d = tmpdir("sem-sections");
    let f = write(&d, "w.toml", "nodes = 10\n[workload]\nkeys = 5\nget_rate = 0.1\n");
    for cmd in ["validate", "run"] {
        let o = kadsim(&[cmd, s(&f), "--set", "workload=[1,2]"]);
        refused(&o, "--set workload=[1,2]: workload: expected a table ([workload]), got an array");
    }
    let f = write(&d, "p.toml", "nodes = 10\nprotocol = [8, 3]\n");
    for cmd in ["validate", "run"] {
        let o = kadsim(&[cmd, s(&f)]);
        refused(&o, &format!("{}:2:12: protocol: expected a table ([protocol]), got an array", f.display()));
    }
    let f = write(&d, "q.toml", "[network]\npartitions = [{ start = \"1s\", end = \"2s\", fraction = 0.5 }, [1, 2]]\n");
    let o = kadsim(&["validate", s(&f)]);
    refused(
        &o,
        &format!("{}:2:61: network.partitions.1: expected a table ([[network.partitions]]), got an array", f.display()),
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_duration_without_a_unit_is_refused_with_a_hint() {
    let d = tmpdir("sem-units");
    let f = write(&d, "m.toml", "nodes = 10\n[network.latency]\nmodel = \"lognormal\"\nmedian = 50\n");
    for cmd in ["validate", "run"] {
        let o = kadsim(&[cmd, s(&f)]);
        refused(&o, &format!("{}:4:10: network.latency.median: {HINT_50}", f.display()));
    }
    let f = write(&d, "s.toml", "nodes = 10\n[network.latency]\nvalue = \"50\"\n");
    refused(&kadsim(&["validate", s(&f)]), &format!("{}:3:9: network.latency.value: {HINT_50}", f.display()));
    let base = write(&d, "base.toml", "nodes = 10\n[network.latency]\nmodel = \"lognormal\"\n");
    for cmd in ["validate", "run"] {
        let o = kadsim(&[cmd, s(&base), "--set", "network.latency.median=50"]);
        refused(&o, &format!("--set network.latency.median=50: network.latency.median: {HINT_50}"));
    }
    let o = kadsim(&["validate", s(&base), "--set", "duration=\"50\""]);
    refused(&o, &format!("--set duration=\"50\": duration: {HINT_50}"));
    let o = kadsim(&["sweep", s(&base), "--param", "duration=30,60", "--out", s(&d.join("sweep"))]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("duration: durations need a unit: did you mean \"30ms\" or \"30s\"?"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_listed_unit_is_still_accepted() {
    let d = tmpdir("sem-every-unit");
    for (unit, shown) in [
        ("250us", "250us"),
        ("250µs", "250us"),
        ("50ms", "50ms"),
        ("30s", "30s"),
        ("15m", "15m"),
        ("15min", "15m"),
        ("2h", "2h"),
        ("1d", "1d"),
    ] {
        let f = write(&d, "u.toml", &format!("nodes = 10\nduration = \"2d\"\nwarmup = \"{unit}\"\n"));
        let o = kadsim(&["validate", s(&f)]);
        assert_eq!(o.status.code(), Some(0), "{unit}: {}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(&format!("warmup = \"{shown}\"")), "{unit}: {out}");
        let o = kadsim(&["validate", s(&f), "--set", &format!("rpc_timeout={unit}")]);
        assert_eq!(o.status.code(), Some(0), "--set {unit}: {}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(&format!("rpc_timeout = \"{shown}\"")), "--set {unit}: {out}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Runs kadsim with `args`, killing it (and failing) if it has not ended in
/// a few seconds.
fn kadsim_within(args: &[&str]) -> Output {
    let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    let b = crate::bin::kadsim_bounded(Path::new("."), &args, Duration::from_secs(10));
    assert!(!b.killed, "kadsim {args:?} still running after 10 s: it blocked");
    b.output
}

#[test]
fn a_scenario_that_is_not_a_regular_file_is_refused_at_once() {
    let d = tmpdir("sem-not-regular");
    let o = kadsim_within(&["validate", s(&d)]);
    refused(&o, &format!("{}: cannot read the scenario: not a regular file (a directory); give a file", d.display()));
    let fifo = d.join("s.toml");
    match Command::new("mkfifo").arg(&fifo).status() {
        Ok(st) if st.success() => {
            let want =
                format!("{}: cannot read the scenario: not a regular file (a FIFO); give a file", fifo.display());
            for cmd in ["validate", "run"] {
                refused(&kadsim_within(&[cmd, s(&fifo)]), &want);
            }
            let o = kadsim_within(&["sweep", s(&fifo), "--param", "k=4,8", "--out", s(&d.join("sweep"))]);
            refused(&o, &want);
        }
        _ => eprintln!("mkfifo is not available: the FIFO case is skipped"),
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A small, fast scenario with `extra` added.
fn small(extra: &str) -> String {
    format!(
        "nodes = 20\nduration = \"2m\"\nsample_interval = \"1m\"\n[bootstrap]\nmode = \"oracle\"\n[workload]\nlookup_rate = 0.02\nput_rate = 0.01\nget_rate = 0.01\n{extra}"
    )
}

#[test]
fn settings_under_which_operations_fail_are_warned_about_and_kept() {
    let d = tmpdir("sem-warnings");
    let none = "so no operation can succeed";
    let cases: Vec<(String, String)> = vec![
        (
            small("[network.latency]\nmodel = \"lognormal\"\nmedian = \"50s\"\n"),
            "network.latency.median: a typical round trip (2 x 50s = 100s) is not shorter than protocol.rpc_timeout (2s): half the RPCs or more time out and many operations fail".into(),
        ),
        (
            small("[network]\nmin_latency = \"1500ms\"\n"),
            format!("network.min_latency: every round trip takes at least 2 x 1500ms = 3s, longer than protocol.rpc_timeout (2s): every RPC times out, {none}"),
        ),
        (
            small("[network.latency]\nvalue = \"1001ms\"\n"),
            format!("network.latency.value: every round trip takes at least 2 x 1001ms = 2002ms, longer than protocol.rpc_timeout (2s): every RPC times out, {none}"),
        ),
        (
            small("[network]\nmin_latency = \"1h\"\n").replace("\"2m\"", "\"3m\""),
            format!("network.min_latency: 1h is not shorter than the run (3m): no reply arrives within the run, {none}"),
        ),
        (
            format!("warmup = \"119s\"\n{}", small("[network.latency]\nvalue = \"600ms\"\n")),
            "network.latency.value: a round trip takes at least 1200ms, longer than the 1s from the end of the warm-up to the end of the run: no measured operation can get a reply".into(),
        ),
        (
            small("[protocol]\nop_timeout = \"1s\"\nrpc_timeout = \"5s\"\n[network.latency]\nvalue = \"600ms\"\n"),
            format!("protocol.op_timeout: 1s is shorter than the shortest round trip (1200ms): every operation ends before a reply arrives, {none}"),
        ),
        (
            small("[protocol]\nop_timeout = \"1s\"\n[network.latency]\nvalue = \"500ms\"\n"),
            "protocol.op_timeout: 1s is not longer than a typical round trip (1s): many operations end before a reply arrives".into(),
        ),
        (
            small("[network.loss]\nmodel = \"independent\"\nrate = 1.0\n"),
            format!("network.loss.rate: every message is lost, {none}"),
        ),
        (
            small("[network.loss]\nmodel = \"gilbert_elliott\"\nloss_good = 1.0\nloss_bad = 1.0\n"),
            format!("network.loss: every message is lost, {none}"),
        ),
        (
            small("").replace("nodes = 20", "nodes = 1"),
            format!("nodes: a single node has no other node to look up, store at or get from, {none}"),
        ),
        (
            small("[[network.partitions]]\nstart = \"30s\"\nend = \"1m\"\nfraction = 0.99\n"),
            "network.partitions.0.fraction: 0.99 of 20 nodes puts 20 on the far side: no message crosses the cut".into(),
        ),
    ];
    for (i, (text, warning)) in cases.iter().enumerate() {
        let f = write(&d, &format!("w{i}.toml"), text);
        let o = kadsim(&["validate", s(&f)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{text}\n{err}");
        assert!(err.lines().any(|l| l == format!("warning: {warning}")), "validate {text}\n{err}");
        let out = d.join(format!("out{i}"));
        let o = kadsim(&["run", s(&f), "--out", s(&out), "--quiet"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{text}\n{err}");
        assert!(err.lines().any(|l| l == format!("kadsim: warning: {warning}")), "run {text}\n{err}");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
        let kept: Vec<&str> = manifest["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str()).collect();
        assert!(kept.contains(&warning.as_str()), "manifest of {text}: {kept:#?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

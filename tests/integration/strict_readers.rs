//! Issue 20, parts 3 and 4: every reader of kadsim's own files is strict and
//! bounded. Each case damages a copy of a real run (or sweep) and checks that
//! the command refuses it with exit code 2 and one stderr line naming the
//! file, the line and the field, never dropping a value silently; older
//! files read leniently say so in `kadsim: note:` lines. The memory-cap cases
//! run kadsim under `prlimit --as` with `/dev/zero`, a sparse file of several
//! gigabytes and gzip bombs: exit 2 and one line, never an abort.

use super::bin::{kadsim, tmpdir};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tiny run: 50 nodes, two simulated minutes, all three kinds of operation.
const SCENARIO: &str = r#"
name = "strict"
nodes = 50
duration = "2m"
warmup = "30s"
[workload]
lookup_rate = 1.0
put_rate = 0.1
get_rate = 0.2
"#;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> Output {
    let o = kadsim(args);
    assert!(o.status.success(), "kadsim {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The scenario file in `d`.
fn scenario(d: &Path) -> PathBuf {
    let f = d.join("strict.toml");
    std::fs::write(&f, SCENARIO).unwrap();
    f
}

/// Runs the scenario into `d/name` with `extra` flags.
fn run(d: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = d.join(name);
    let f = scenario(d);
    let mut args = vec!["run", s(&f), "--out", s(&out), "-q"];
    args.extend_from_slice(extra);
    ok(&args);
    out
}

/// Copies the directory `from` (recursively) to `to`, replacing it.
fn copy(from: &Path, to: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
    to.to_path_buf()
}

/// The stderr lines of `o` that are not notes.
fn other_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| !l.starts_with("kadsim: note: "))
        .map(str::to_string)
        .collect()
}

fn notes(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr).lines().filter(|l| l.starts_with("kadsim: note: ")).map(str::to_string).collect()
}

/// Insists on exit 2, no note, and exactly one stderr line `kadsim: ...`
/// containing every one of `want`; returns it.
fn refused(args: &[&str], want: &[&str]) -> String {
    let o = kadsim(args);
    check_refused(&o, &format!("{args:?}"), want)
}

fn check_refused(o: &Output, what: &str, want: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: one line: {err}");
    assert!(err.starts_with("kadsim: ") && !err.contains("panicked"), "{what}: {err}");
    for w in want {
        assert!(err.contains(w), "{what}: {w:?} not in {err}");
    }
    err.trim_end().to_string()
}

/// Rewrites the CSV file `path`, each line split at commas (kadsim's files
/// quote nothing), by `f(line number from 1, fields)`.
fn edit_csv(path: &Path, f: impl Fn(usize, &mut Vec<String>)) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        let mut fields: Vec<String> = l.split(',').map(str::to_string).collect();
        f(i + 1, &mut fields);
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// Removes the column `name` from the CSV file `path`.
fn drop_column(path: &Path, name: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let col = text.lines().next().unwrap().split(',').position(|h| h == name).unwrap_or_else(|| panic!("{name}"));
    edit_csv(path, |_, f| {
        f.remove(col);
    });
}

/// Sets the column `name` of line `line` of the CSV file `path` to `value`.
fn set_cell(path: &Path, line: usize, name: &str, value: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let col = text.lines().next().unwrap().split(',').position(|h| h == name).unwrap_or_else(|| panic!("{name}"));
    edit_csv(path, |i, f| {
        if i == line {
            f[col] = value.to_string();
        }
    });
}

/// The line of `metric` in the summary.csv `path`.
fn summary_line(path: &Path, metric: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().position(|l| l.starts_with(&format!("{metric},"))).unwrap() + 1
}

/// Sets (or, with `None`, removes) the row of `metric` in the summary.csv `path`.
fn set_metric(path: &Path, metric: &str, value: Option<&str>) {
    let text = std::fs::read_to_string(path).unwrap();
    let out: Vec<String> = text
        .lines()
        .filter_map(|l| match l.strip_prefix(&format!("{metric},")) {
            Some(_) => value.map(|v| format!("{metric},{v}")),
            None => Some(l.to_string()),
        })
        .collect();
    std::fs::write(path, out.join("\n") + "\n").unwrap();
}

// ---------------------------------------------------------------------------
// compare and merge of replica sets
// ---------------------------------------------------------------------------

#[test]
fn compare_refuses_replica_values_it_cannot_use_and_counts_the_rest() {
    let d = tmpdir("strict-compare");
    let f = scenario(&d);
    for (name, seed) in [("base", "1"), ("cand", "5")] {
        ok(&["sweep", s(&f), "--replicas", "2", "--seed", seed, "--out", s(&d.join(name)), "-q"]);
    }
    let base = d.join("base");
    // A text, NaN or infinite value in one replica: the whole comparison is refused, naming it.
    for v in ["abc", "NaN", "1e999"] {
        let c = copy(&d.join("cand"), &d.join("damaged"));
        let summary = c.join("runs/base/r1/summary.csv");
        set_metric(&summary, "find_node.hops.mean", Some(v));
        let at = format!(
            "{}:{}: metric find_node.hops.mean",
            summary.display(),
            summary_line(&summary, "find_node.hops.mean")
        );
        refused(&["compare", s(&base), s(&c), "--no-charts"], &[&at, &format!("got \"{v}\"")]);
    }
    // A missing row: refused, naming the line where kadsim writes it.
    let c = copy(&d.join("cand"), &d.join("damaged"));
    let summary = c.join("runs/base/r1/summary.csv");
    let line = summary_line(&summary, "find_node.hops.mean");
    set_metric(&summary, "find_node.hops.mean", None);
    refused(
        &["compare", s(&base), s(&c), "--no-charts"],
        &[&format!("summary.csv:{line}: no row for metric find_node.hops.mean")],
    );
    // An empty value (not applicable) in one replica: compared over the other, said in a
    // warning naming the run and in the n column; no rule is judged on it.
    let c = copy(&d.join("cand"), &d.join("damaged"));
    set_metric(&c.join("runs/base/r1/summary.csv"), "find_node.hops.mean", Some(""));
    let o = ok(&["compare", s(&base), s(&c), "--no-charts"]);
    let err = other_lines(&o);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].starts_with("kadsim: warning: find_node.hops.mean has no value in 1 of 2 candidate runs (")
            && err[0].contains("runs/base/r1"),
        "{err:?}"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("n base  n cand"), "{out}");
    let row: Vec<&str> =
        out.lines().find(|l| l.starts_with("find_node.hops.mean ")).unwrap().split_whitespace().collect();
    assert_eq!(row[row.len() - 2..], ["2", "1"], "{out}");
    let row: Vec<&str> =
        out.lines().find(|l| l.starts_with("find_node.hops.p50 ")).unwrap().split_whitespace().collect();
    assert_eq!(row[row.len() - 2..], ["2", "2"], "{out}");
    refused(
        &["compare", s(&base), s(&c), "--no-charts", "--fail-if", "hops.mean > +50%"],
        &[
            "--fail-if 'hops.mean > +50%': find_node.hops.mean has no value in 1 of 2 candidate runs",
            "runs/base/r1",
            "refusing",
        ],
    );
    // A rule on a metric every run has is judged as before.
    let o = kadsim(&["compare", s(&base), s(&c), "--no-charts", "--fail-if", "hops.p50 > +1000%"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // A sweep's runs.csv is checked too: a run outside the sweep, a missing column.
    let c = copy(&d.join("cand"), &d.join("damaged"));
    set_cell(&c.join("runs.csv"), 2, "run", "../../elsewhere/r0");
    refused(&["compare", s(&base), s(&c), "--no-charts"], &["runs.csv:2: column run: expected a run directory"]);
    let c = copy(&d.join("cand"), &d.join("damaged"));
    drop_column(&c.join("runs.csv"), "replica");
    refused(&["compare", s(&base), s(&c), "--no-charts"], &["runs.csv:1: missing column replica"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn merge_refuses_a_text_or_non_finite_metric_in_a_shard() {
    let d = tmpdir("strict-merge");
    let f = scenario(&d);
    let shards = d.join("shards");
    for sh in ["1/2", "2/2"] {
        ok(&["sweep", s(&f), "--replicas", "2", "--shard", sh, "--out", s(&shards), "-q"]);
    }
    for v in ["abc", "NaN", "1e999"] {
        let c = copy(&shards, &d.join("damaged"));
        set_cell(&c.join("runs.shard-1-of-2.csv"), 2, "find_node.hops.mean", v);
        let out = d.join("merged");
        refused(
            &["merge", s(&c), "--out", s(&out)],
            &[&format!(
                "runs.shard-1-of-2.csv:2: column find_node.hops.mean: expected a finite number or empty, got \"{v}\""
            )],
        );
        assert!(!out.join("runs.csv").exists(), "nothing merged");
    }
    let c = copy(&shards, &d.join("damaged"));
    drop_column(&c.join("runs.shard-2-of-2.csv"), "events");
    refused(&["merge", s(&c), "--out", s(&d.join("merged"))], &["runs.shard-2-of-2.csv:1: missing column events"]);
    let c = copy(&shards, &d.join("damaged"));
    std::fs::write(c.join("sweep.shard-1-of-2.json"), "{}").unwrap();
    refused(
        &["merge", s(&c), "--out", s(&d.join("merged"))],
        &["sweep.shard-1-of-2.json:1:2: missing field `kadsim_version`"],
    );
    // Undamaged, the shards merge.
    ok(&["merge", s(&shards), "--out", s(&d.join("merged"))]);
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------------------
// plot, report and trace of one run
// ---------------------------------------------------------------------------

#[test]
fn a_missing_column_of_any_file_is_refused_with_its_name() {
    let d = tmpdir("strict-columns");
    let r = run(&d, "run", &["--trace", "ops,messages"]);
    // ops.csv without hops was drawn as hop charts of "n = 0".
    for (file, column) in [
        ("ops.csv", "hops"),
        ("timeseries.csv", "alive"),
        ("nodes.csv", "rt_size"),
        ("buckets.csv", "contacts_mean"),
        ("summary.csv", "value"),
    ] {
        let c = copy(&r, &d.join("damaged"));
        drop_column(&c.join(file), column);
        refused(&["plot", s(&c), "--out", s(&d.join("charts"))], &[&format!("{file}:1: missing column {column}")]);
        assert!(!d.join("charts").exists(), "{file}: nothing drawn");
    }
    // A nodes.csv the manifest lists but that is not there (committed baselines leave it
    // out): plot and compare read nothing from it and say so; report refuses the run.
    let c = copy(&r, &d.join("damaged"));
    std::fs::remove_file(c.join("nodes.csv")).unwrap();
    let o = ok(&["plot", s(&c), "--out", s(&d.join("charts"))]);
    assert_eq!(
        notes(&o),
        [format!("kadsim: note: {}: listed in the manifest but absent: not checked", c.join("nodes.csv").display())]
    );
    assert!(other_lines(&o).is_empty(), "{:?}", other_lines(&o));
    let _ = std::fs::remove_dir_all(d.join("charts"));
    refused(&["report", s(&c)], &["nodes.csv: cannot read"]);
    // The traces, checked by report (and trace) before anything is written.
    for (file, column) in [("trace.csv", "outcome"), ("messages.csv", "fate")] {
        let c = copy(&r, &d.join("damaged"));
        drop_column(&c.join(file), column);
        refused(&["report", s(&c)], &[&format!("{file}:1: missing column {column}")]);
        assert!(!c.join("report.md").exists(), "{file}: no report");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn values_of_the_wrong_kind_are_refused_with_file_line_and_field() {
    let d = tmpdir("strict-values");
    let r = run(&d, "run", &["--trace", "ops,messages"]);
    // A count of "lots" became a blank cell of the report.
    let c = copy(&r, &d.join("damaged"));
    let summary = c.join("summary.csv");
    let line = summary_line(&summary, "find_node.count");
    set_metric(&summary, "find_node.count", Some("lots"));
    refused(
        &["report", s(&c)],
        &[&format!("summary.csv:{line}: metric find_node.count: expected an unsigned integer, got \"lots\"")],
    );
    // A success rate above 1, an unknown kind of operation, hops that are no count.
    let c = copy(&r, &d.join("damaged"));
    set_metric(&c.join("summary.csv"), "find_node.success_rate", Some("1.5"));
    refused(
        &["plot", s(&c), "--out", s(&d.join("charts"))],
        &["metric find_node.success_rate: expected a number from 0 to 1"],
    );
    let c = copy(&r, &d.join("damaged"));
    set_cell(&c.join("ops.csv"), 3, "kind", "teleport");
    refused(
        &["plot", s(&c), "--out", s(&d.join("charts"))],
        &["ops.csv:3: column kind: expected one of find_node", "\"teleport\""],
    );
    let c = copy(&r, &d.join("damaged"));
    set_cell(&c.join("ops.csv"), 4, "hops", "-1");
    refused(
        &["compare", s(&r), s(&c), "--no-charts"],
        &["ops.csv:4: column hops: expected an unsigned integer of at most 255 or empty"],
    );
    let c = copy(&r, &d.join("damaged"));
    set_cell(&c.join("timeseries.csv"), 2, "latency_p50_ms", "inf");
    refused(
        &["plot", s(&c), "--out", s(&d.join("charts"))],
        &["timeseries.csv:2: column latency_p50_ms: expected a finite number or empty, got \"inf\""],
    );
    // An unknown outcome in trace.csv, an unknown fate in messages.csv.
    let ops = std::fs::read_to_string(r.join("trace.csv")).unwrap();
    let op = ops.lines().nth(1).unwrap().split(',').next().unwrap().to_string();
    let c = copy(&r, &d.join("damaged"));
    set_cell(&c.join("trace.csv"), 2, "outcome", "banana");
    refused(&["trace", s(&c), "--op", &op], &["trace.csv:2: column outcome: expected one of answered", "\"banana\""]);
    refused(&["report", s(&c)], &["trace.csv:2: column outcome"]);
    let c = copy(&r, &d.join("damaged"));
    set_cell(&c.join("messages.csv"), 2, "fate", "eaten");
    refused(&["report", s(&c)], &["messages.csv:2: column fate: expected one of delivered", "\"eaten\""]);
    // A trace row of an operation ops.csv does not have.
    let c = copy(&r, &d.join("damaged"));
    set_cell(&c.join("trace.csv"), 2, "op", "999999");
    refused(&["trace", s(&c), "--op", &op], &["trace.csv:2: column op: operation 999999 is not in ops.csv"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn manifests_of_the_wrong_shape_are_refused_naming_the_field() {
    let d = tmpdir("strict-manifest");
    let r = run(&d, "run", &[]);
    let text = std::fs::read_to_string(r.join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = m.clone();
        f(&mut v);
        serde_json::to_string_pretty(&v).unwrap()
    };
    let cases: Vec<(String, &[&str])> = vec![
        // "null nodes ... seed null" was printed for these two.
        ("[1,2,3]".into(), &["manifest.json:1:1: expected a JSON object, got an array"]),
        ("{}".into(), &["manifest.json:1:2: missing field `kadsim_version`"]),
        (
            with(&|v| v["scenario"]["nodes"] = "lots".into()),
            &["manifest.json:", "scenario.nodes: invalid type: string \"lots\""],
        ),
        (with(&|v| v["seed"] = (-1).into()), &["manifest.json:", ": seed: invalid value: integer `-1`"]),
        (with(&|v| v["trace_hash"] = "zz".into()), &["trace_hash: expected 16 lower-case hex digits, got \"zz\""]),
        (with(&|v| v["finished_at"] = "yesterday".into()), &["finished_at: expected a UTC time"]),
        (with(&|v| v["surprise"] = 1.into()), &["unknown field `surprise`"]),
        (with(&|v| v["files"] = serde_json::json!(["../ops.csv"])), &["files[0]: expected a file name"]),
        (
            with(&|v| v["scenario"]["duration"] = "120s".into()),
            &["scenario.duration: written as \"120s\", reads back as \"2m\""],
        ),
        ("{\"kadsim_version\": \"0.1.0\",".into(), &["manifest.json:1:"]),
    ];
    for (text, want) in &cases {
        let c = copy(&r, &d.join("damaged"));
        std::fs::write(c.join("manifest.json"), text).unwrap();
        refused(&["report", s(&c)], want);
        assert!(!c.join("report.md").exists());
    }
    // The fields being added (the sources' hash, the time the run finished) are read when present.
    let c = copy(&r, &d.join("later"));
    let later = with(&|v| {
        v["source_sha1"] = "0123456789abcdef0123456789abcdef01234567".into();
        v["finished_at"] = "2026-12-07T10:32:05Z".into();
    });
    std::fs::write(c.join("manifest.json"), later).unwrap();
    let o = ok(&["report", s(&c)]);
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn older_results_are_read_leniently_and_say_so() {
    let d = tmpdir("strict-older");
    let r = run(&d, "run", &["--trace", "ops"]);
    let c = copy(&r, &d.join("older"));
    // As the first result files of 2026-11-22 had them.
    for col in ["attacked", "eclipsed", "wrong_value", "peers", "op"] {
        drop_column(&c.join("ops.csv"), col);
    }
    let old_summary: Vec<String> =
        kadsim::files::schema::summary_metrics().into_iter().filter(|m| m.later).map(|m| m.name.into_owned()).collect();
    for m in &old_summary {
        set_metric(&c.join("summary.csv"), m, None);
    }
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(c.join("manifest.json")).unwrap()).unwrap();
    m["scenario"].as_object_mut().unwrap().remove("adversary");
    std::fs::write(c.join("manifest.json"), serde_json::to_string_pretty(&m).unwrap()).unwrap();
    let o = ok(&["plot", s(&c), "--out", s(&d.join("charts"))]);
    assert!(other_lines(&o).is_empty(), "{:?}", other_lines(&o));
    let n = notes(&o);
    assert_eq!(n.len(), 3, "{n:?}");
    assert!(
        n[0].contains("manifest.json: the scenario has no scenario.adversary") && n[0].contains("default"),
        "{n:?}"
    );
    assert!(
        n[1].contains("summary.csv: no metrics nodes.ever_up,") && n[1].contains("read as having no value"),
        "{n:?}"
    );
    assert!(
        n[2].contains("ops.csv: no columns attacked, eclipsed, wrong_value, peers and 1 more (added to kadsim after"),
        "{n:?}"
    );
    // Operations without their numbers cannot be traced: refused as before.
    refused(&["trace", s(&c), "--worst", "1"], &["ops.csv:1: no op column"]);
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------------------
// bounded memory
// ---------------------------------------------------------------------------

/// The address-space cap: far above what kadsim needs for these runs
/// (it plots them within 64 MiB), far below what the unbounded readers took.
const CAP: u64 = 256 << 20;

/// Runs kadsim with `args` under an address-space limit of [`CAP`].
fn capped(args: &[&str]) -> Output {
    let bin = crate::bin::binary();
    let prlimit = Path::new("/usr/bin/prlimit");
    let mut cmd = if prlimit.exists() {
        let mut c = Command::new(prlimit);
        c.arg(format!("--as={CAP}")).arg(bin);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(format!("ulimit -v {}; exec \"$0\" \"$@\"", CAP / 1024)).arg(&bin);
        c
    };
    cmd.args(args).output().expect("kadsim runs under a memory cap")
}

fn check_capped(args: &[&str], want: &[&str]) {
    let o = capped(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(o.status.signal(), None, "{args:?}: killed by a signal: {}", String::from_utf8_lossy(&o.stderr));
    }
    check_refused(&o, &format!("{args:?} under a {CAP}-byte cap"), want);
}

#[test]
fn endless_and_huge_files_are_refused_within_a_memory_cap() {
    let d = tmpdir("strict-bounded");
    let r = run(&d, "run", &[]);
    let charts = d.join("charts");
    // ops.csv that is /dev/zero.
    #[cfg(unix)]
    {
        let c = copy(&r, &d.join("zero"));
        std::fs::remove_file(c.join("ops.csv")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", c.join("ops.csv")).unwrap();
        check_capped(&["plot", s(&c), "--out", s(&charts)], &["ops.csv: not a regular file (a device)"]);
    }
    // ops.csv a sparse file of 8 GB of zeros: one endless line.
    let c = copy(&r, &d.join("sparse"));
    let f = std::fs::File::create(c.join("ops.csv")).unwrap();
    f.set_len(8 << 30).unwrap();
    drop(f);
    check_capped(&["plot", s(&c), "--out", s(&charts)], &["ops.csv:1: a line longer than 1 MiB"]);
    // A manifest as large.
    let c = copy(&r, &d.join("big-manifest"));
    std::fs::File::create(c.join("manifest.json")).unwrap().set_len(8 << 30).unwrap();
    check_capped(&["report", s(&c)], &["manifest.json: larger than 16 MiB"]);
    assert!(!charts.exists(), "nothing drawn");
    let _ = std::fs::remove_dir_all(&d);
}

/// Writes `lines` (each with its newline) `times` over, after `head`, as the
/// gzip file `path` at the best compression.
fn gzip(path: &Path, head: &str, line: &str, times: usize) {
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::best());
    gz.write_all(head.as_bytes()).unwrap();
    let block = line.repeat(4096);
    for _ in 0..times / 4096 {
        gz.write_all(block.as_bytes()).unwrap();
    }
    gz.finish().unwrap();
}

#[test]
fn gzip_bombs_of_trace_rows_are_refused_within_a_memory_cap() {
    let d = tmpdir("strict-bomb");
    let r = run(&d, "run", &["--trace", "ops"]);
    let ops = std::fs::read_to_string(r.join("ops.csv")).unwrap();
    let head: Vec<&str> = ops.lines().next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let first: Vec<&str> = ops.lines().nth(1).unwrap().split(',').collect();
    let (op, queried) = (first[col("op")], first[col("queried")]);
    let trace_head = format!("{}\n", std::fs::read_to_string(r.join("trace.csv")).unwrap().lines().next().unwrap());
    // Three million valid rows of one operation (the unbounded reader kept
    // every one: 600 MB): refused once they pass the RPCs it sent.
    let c = copy(&r, &d.join("rows"));
    std::fs::remove_file(c.join("trace.csv")).unwrap();
    let row = format!("{op},0,40000000,40050000,1,2,find_node,1,150.250,answered,nodes,20,148.000,7\n");
    gzip(&c.join("trace.csv.gz"), &trace_head, &row, 3 << 20);
    let line = queried.parse::<u64>().unwrap() + 2;
    check_capped(
        &["trace", s(&c), "--op", op],
        &[&format!("trace.csv.gz:{line}: operation {op} has more rows than the {queried} RPCs ops.csv says it sent")],
    );
    // Hundreds of megabytes of empty lines (which a CSV reader skips) from a
    // file of a few hundred kilobytes: refused by its ratio.
    let c = copy(&r, &d.join("blank"));
    std::fs::remove_file(c.join("trace.csv")).unwrap();
    gzip(&c.join("trace.csv.gz"), &trace_head, "\n", 200 << 20);
    check_capped(&["trace", s(&c), "--op", op], &["trace.csv.gz:", "decompresses to more than", "gzip bomb"]);
    let _ = std::fs::remove_dir_all(&d);
}

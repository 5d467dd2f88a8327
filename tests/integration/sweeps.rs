//! Sweeps as a user runs them (issue 21): progress and a results table off a
//! terminal; a sweep directory, and a merged sweep reduced to its three
//! files, redrawn by `kadsim plot` and reported on by `kadsim report` in
//! every format without running anything, and `kadsim merge` of a merged
//! sweep redrawing it; a study kept in the scenario file (`[study]`) running
//! the same grid as the equivalent `--param` flags, byte for byte, and
//! refused at its place when wrong.

use crate::bin::{kadsim, tmpdir, tree};
use std::path::Path;

/// A small churning network: 60 nodes, 2 simulated minutes.
const SMALL: &str = r#"name = "sw"
seed = 11
nodes = 60
duration = "2m"
warmup = "30s"
sample_interval = "20s"
[bootstrap]
join_rate = 30
[churn]
model = "distributions"
session = { dist = "weibull", shape = 0.5, scale = "30m" }
downtime = { dist = "exponential", mean = "15m" }
[workload]
lookup_rate = 0.05
put_rate = 0.01
get_rate = 0.02
keys = 30
"#;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs kadsim and insists on exit 0; returns (stdout, stderr).
fn ok(args: &[&str]) -> (String, String) {
    let o = kadsim(args);
    let (out, err) = (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned());
    assert!(o.status.success(), "kadsim {args:?}: {err}");
    (out, err)
}

/// Insists on exit 2 and one line on stderr; returns it.
fn refused(args: &[&str]) -> String {
    let o = kadsim(args);
    let err = String::from_utf8_lossy(&o.stderr).trim_end().to_string();
    assert_eq!(o.status.code(), Some(2), "kadsim {args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "kadsim {args:?}: {err}");
    err
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|it| it.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.retain(|n| !n.starts_with(".kadsim-owned"));
    v.sort();
    v
}

/// Every chart file of `dir` is what its extension says: a PNG, an SVG, a PDF.
fn check_formats(dir: &Path, stems: &[&str], exts: &[&str]) {
    for stem in stems {
        for ext in exts {
            let path = dir.join(format!("{stem}.{ext}"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let magic: &[u8] = match *ext {
                "png" => b"\x89PNG",
                "pdf" => b"%PDF",
                _ => b"<svg",
            };
            let at = if *ext == "svg" { bytes.windows(4).position(|w| w == magic) } else { Some(0) };
            assert!(at.is_some_and(|i| bytes[i..].starts_with(magic)), "{}", path.display());
        }
    }
}

#[test]
fn a_sweep_off_a_terminal_prints_its_progress_and_a_results_table() {
    let d = tmpdir("sweeps-progress");
    let f = d.join("sw.toml");
    std::fs::write(&f, SMALL).unwrap();
    // The tests' stderr is a pipe, as a batch job's log is.
    let (out, err) =
        ok(&["sweep", s(&f), "--param", "k=4,8", "--replicas", "2", "--out", s(&d.join("o")), "--jobs", "1"]);
    let beats: Vec<&str> = err.lines().filter(|l| l.starts_with("kadsim: sweep ")).collect();
    assert!(beats.len() >= 5 && beats.len() <= 10, "a heartbeat line per tenth of the simulated time: {err}");
    assert!(beats.last().unwrap().contains("100% of 480 s simulated in all"), "{err}");
    assert!(beats.iter().all(|l| l.contains("runs done") && l.chars().count() < 80), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("sw: 2 grid points x 2 replicas = 4 runs"), "{out}");
    assert!(
        lines[1].contains("lookup success") && lines[1].contains("hops") && lines[1].contains("latency p50"),
        "{out}"
    );
    // One line per grid point: k, n and each metric as mean [low, high].
    for (line, k) in lines[2..4].iter().zip(["4", "8"]) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[..2], [k, "2"], "{out}");
        assert_eq!(line.matches(" [").count(), 3, "{out}");
    }
    assert!(lines[4].starts_with("results in ") && lines[4].contains("charts in charts/"), "{out}");
    // --quiet: no progress, the table still.
    let (out, err) = ok(&["sweep", s(&f), "--param", "k=4,8", "--replicas", "2", "--out", s(&d.join("o")), "-q"]);
    assert!(err.is_empty() && out.contains("lookup success"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn plot_and_report_redraw_a_sweep_and_a_merged_sweep_in_every_format() {
    let d = tmpdir("sweeps-redraw");
    let f = d.join("sw.toml");
    std::fs::write(&f, SMALL).unwrap();
    let a = d.join("a");
    let sweep = ["sweep", s(&f), "--param", "k=4,8", "--replicas", "2", "-q"];
    ok(&[&sweep[..], &["--out", s(&a)]].concat());
    let runs_before = tree(&a.join("runs"));
    // plot: the chosen charts, named as asked, in every format and another size.
    let (out, _) = ok(&[
        "plot",
        s(&a),
        "--format",
        "png,svg,pdf",
        "--width",
        "600",
        "--height",
        "400",
        "--metrics",
        "find_node.success_rate,find_node.hops.mean",
        "--label",
        "k=bucket size k",
        "--label",
        "find_node.hops.mean=hops per lookup",
        "--title",
        "{metric} against {param}",
    ]);
    assert_eq!(out.lines().count(), 6, "{out}");
    let stems = ["find_node_success_rate_vs_k", "find_node_hops_mean_vs_k"];
    check_formats(&a.join("charts"), &stems, &["png", "svg", "pdf"]);
    let svg = std::fs::read_to_string(a.join("charts/find_node_hops_mean_vs_k.svg")).unwrap();
    assert!(svg.contains("<title>hops per lookup against bucket size k</title>") && svg.contains("Student-t"), "{svg}");
    assert_eq!(tree(&a.join("runs")), runs_before, "nothing run again");
    // report: report.md with the grid, a line per point with intervals, the charts.
    let (out, _) = ok(&["report", s(&a), "--format", "png,svg,pdf"]);
    assert_eq!(out.trim(), s(&a.join("report.md")));
    let md = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(md.starts_with("# kadsim sweep report: a\n"), "{md}");
    assert!(md.contains("| k | `protocol.k` | 4, 8 |"), "{md}");
    assert!(md.lines().any(|l| l.starts_with("| 4 | 2 | ") && l.contains(" [")), "{md}");
    assert!(md.contains("![node lookup success rate vs k](charts/find_node_success_rate_vs_k.png)"), "{md}");
    assert!(
        md.contains("[PDF](charts/find_node_success_rate_vs_k.pdf)") && md.contains("percentile bootstrap"),
        "{md}"
    );
    check_formats(&a.join("charts"), &stems, &["png", "svg", "pdf"]);

    // A merged sweep, reduced to its three files (the runs stayed on the machines that ran them).
    let (s1, s2, m) = (d.join("s1"), d.join("s2"), d.join("m"));
    ok(&[&sweep[..], &["--out", s(&s1), "--shard", "1/2"]].concat());
    ok(&[&sweep[..], &["--out", s(&s2), "--shard", "2/2"]].concat());
    // A directory of shards is not a sweep yet: merge it first.
    let err = refused(&["plot", s(&s1)]);
    assert!(err.contains("kadsim merge") && err.contains("not merged"), "{err}");
    let (out, _) = ok(&["merge", s(&s1), s(&s2), "--out", s(&m)]);
    assert!(out.contains("lookup success") && out.contains("results in "), "{out}");
    let bare = d.join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    for name in ["runs.csv", "aggregate.csv", "sweep.json"] {
        std::fs::copy(m.join(name), bare.join(name)).unwrap();
        assert_eq!(std::fs::read(m.join(name)).unwrap(), std::fs::read(a.join(name)).unwrap(), "{name}");
    }
    ok(&["plot", s(&bare), "--format", "svg"]);
    check_formats(&bare.join("charts"), &["find_node_success_rate_vs_k", "msgs_per_live_node_per_s_vs_k"], &["svg"]);
    ok(&["report", s(&bare), "--format", "png"]);
    assert!(bare.join("report.md").is_file() && bare.join("charts/find_node_hops_mean_vs_k.png").is_file());
    // merge DIR --format pdf on a merged sweep, without shards: its charts redrawn.
    let o = kadsim(&["merge", s(&bare), "--format", "pdf", "--no-title"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a merged sweep"));
    check_formats(&bare.join("charts"), &["find_node_success_rate_vs_k"], &["pdf"]);
    // Into --out elsewhere, too.
    ok(&["plot", s(&bare), "--out", s(&d.join("figs")), "--format", "pdf"]);
    assert!(files(&d.join("figs")).contains(&"find_node_success_rate_vs_k.pdf".to_string()));

    // Read strictly: a runs.csv that no longer gives aggregate.csv's numbers, a lost row,
    // an unknown metric or label: one line, exit 2, nothing drawn.
    let edited = d.join("edited");
    std::fs::create_dir_all(&edited).unwrap();
    for name in ["runs.csv", "aggregate.csv", "sweep.json"] {
        std::fs::copy(m.join(name), edited.join(name)).unwrap();
    }
    let runs = std::fs::read_to_string(edited.join("runs.csv")).unwrap();
    let mut lines: Vec<String> = runs.lines().map(String::from).collect();
    lines.truncate(4);
    std::fs::write(edited.join("runs.csv"), lines.join("\n") + "\n").unwrap();
    let err = refused(&["plot", s(&edited)]);
    assert!(err.contains("runs.csv:5") && err.contains("3 runs listed"), "{err}");
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    let hops = runs.lines().next().unwrap().split(',').position(|h| h == "find_node.hops.mean").unwrap();
    cells[hops] = "9.5".into();
    lines[1] = cells.join(",");
    lines.push(runs.lines().nth(4).unwrap().to_string());
    std::fs::write(edited.join("runs.csv"), lines.join("\n") + "\n").unwrap();
    let err = refused(&["report", s(&edited)]);
    assert!(err.contains("aggregate.csv: find_node.hops.mean at 4") && err.contains("edited"), "{err}");
    assert!(!edited.join("charts").exists() && !edited.join("report.md").exists());
    assert!(refused(&["plot", s(&bare), "--metrics", "nope"]).contains("unknown metric"));
    assert!(refused(&["plot", s(&bare), "--label", "alpha=x"]).contains("neither a swept parameter (k) nor a metric"));
    let _ = std::fs::remove_dir_all(&d);
}

/// The study of SMALL, as a scenario file's `[study]`.
const STUDY: &str = r#"
[study]
replicas = 2
[study.params]
k = [4, 8]
"churn.session.scale" = ["5m", "2h"]
"#;

#[test]
fn a_study_in_the_scenario_runs_the_grid_of_the_equivalent_flags_byte_for_byte() {
    let d = tmpdir("sweeps-study");
    let (plain, study) = (d.join("plain.toml"), d.join("study.toml"));
    std::fs::write(&plain, SMALL).unwrap();
    std::fs::write(&study, format!("{SMALL}{STUDY}")).unwrap();
    let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
    // No flags: the study's grid.
    let (out, _) = ok(&["sweep", s(&study), "--out", s(&a), "-q"]);
    assert!(out.starts_with("sw: 4 grid points x 2 replicas = 8 runs"), "{out}");
    // The same grid from flags, on the file with the study (the flags replace it) and without.
    let flags = ["--param", "k=4,8", "--param", "churn.session.scale=5m,2h", "--replicas", "2", "-q"];
    let (_, err) = ok(&[&["sweep", s(&study), "--out", s(&b)][..], &flags[..]].concat());
    assert!(err.contains("--param given: the [study] parameters"), "{err}");
    ok(&[&["sweep", s(&plain), "--out", s(&c)][..], &flags[..]].concat());
    let strip = |t: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        // Everything but the manifests' wall-clock fields and the records of kadsim's files.
        t.into_iter()
            .filter(|(n, _)| !n.contains(".kadsim-owned") && !n.ends_with("manifest.json") && !n.starts_with("charts/"))
            .collect()
    };
    let (ta, tb, tc) = (strip(tree(&a)), strip(tree(&b)), strip(tree(&c)));
    assert!(ta.iter().any(|(n, _)| n == "runs/k=4_churn.session.scale=5m/r1/ops.csv"), "{:?}", ta.len());
    assert!(ta == tb, "the study and its flags, on one file: every file the same");
    for ((na, xa), (nc, xc)) in ta.iter().zip(&tc) {
        assert_eq!(na, nc);
        if na != "sweep.json" {
            assert!(xa == xc, "{na} differs between the study and the flags on the file without it");
        }
    }
    // The charts too.
    for f in files(&a.join("charts")) {
        assert_eq!(
            std::fs::read(a.join("charts").join(&f)).unwrap(),
            std::fs::read(b.join("charts").join(&f)).unwrap()
        );
    }
    // A run of the file runs its scenario once, without the study, and says so.
    let (_, err) = ok(&["run", s(&study), "--out", s(&d.join("run")), "-q"]);
    assert!(err.contains("has a [study] (4 grid points): run runs its scenario once"), "{err}");
    // validate prints the study and its grid, and the printed file loads back.
    let (out, _) = ok(&["validate", s(&study)]);
    assert!(out.contains("[study.params]\n\"k\" = [4, 8]\n\"churn.session.scale\" = [\"5m\", \"2h\"]"), "{out}");
    assert!(
        out.contains("# the grid: 4 points x 2 replicas = 8 runs") && out.contains("#   k=8 churn.session.scale=2h")
    );
    let printed = d.join("printed.toml");
    std::fs::write(&printed, &out).unwrap();
    ok(&["validate", s(&printed)]);
    // A study that is wrong is refused by run, validate and sweep alike, at its place.
    let bad = d.join("bad.toml");
    std::fs::write(&bad, format!("{SMALL}{}", STUDY.replace("\"2h\"]", "\"2h\", 30]"))).unwrap();
    let x = d.join("x");
    for args in
        [vec!["run", s(&bad), "--out", s(&x)], vec!["validate", s(&bad)], vec!["sweep", s(&bad), "--out", s(&x)]]
    {
        let err = refused(&args);
        let want = "bad.toml:23:38: study.params.\"churn.session.scale\": 30: durations need a unit";
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert!(!x.exists());
    let _ = std::fs::remove_dir_all(&d);
}

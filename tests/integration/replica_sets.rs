//! Replica sets drawn (issue 21): `kadsim plot` and `kadsim report` take
//! each kind of results directory — a run, a replica set, a sweep and a
//! merged sweep — in every format; `kadsim plot SET1 SET2` overlays each
//! set's mean over its replicas with a 95% band, the mean and band checked
//! against values worked out by hand from the runs' `ops.csv`.

use crate::bin::{kadsim, tmpdir};
use kadsim::report::replica_charts::{self, Set};
use kadsim::report::runset;
use std::path::Path;

/// A small churning network: 60 nodes, 2 simulated minutes.
const SMALL: &str = r#"name = "rs"
seed = 5
nodes = 60
duration = "2m"
warmup = "30s"
sample_interval = "20s"
[bootstrap]
join_rate = 30
[churn]
model = "distributions"
session = { dist = "weibull", shape = 0.5, scale = "20m" }
downtime = { dist = "exponential", mean = "10m" }
[workload]
lookup_rate = 0.05
put_rate = 0.01
get_rate = 0.02
keys = 30
"#;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = kadsim(args);
    assert!(o.status.success(), "kadsim {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every `stem.ext` below `dir` exists and is what its extension says.
fn drawn(dir: &Path, stems: &[&str], exts: &[&str]) {
    for stem in stems {
        for ext in exts {
            let path = dir.join(format!("{stem}.{ext}"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let magic: &[u8] = match *ext {
                "png" => b"\x89PNG",
                "pdf" => b"%PDF",
                _ => b"<svg",
            };
            assert!(bytes.windows(magic.len()).take(200).any(|w| w == magic), "{}", path.display());
        }
    }
}

const REPLICA_STEMS: [&str; 5] =
    ["replicas_hops_cdf", "replicas_latency_cdf", "replicas_get_latency_cdf", "replicas_success", "replicas_traffic"];

#[test]
fn plot_and_report_take_a_run_a_replica_set_a_sweep_and_a_merged_sweep_in_every_format() {
    let d = tmpdir("replica-kinds");
    let f = d.join("rs.toml");
    std::fs::write(&f, SMALL).unwrap();
    let all = ["--format", "png,svg,pdf"];
    // A run.
    let run = d.join("run");
    ok(&["run", s(&f), "--out", s(&run), "-q"]);
    // A replica set: a sweep of one grid point, which draws its replica charts.
    let set = d.join("set");
    ok(&["sweep", s(&f), "--replicas", "3", "--out", s(&set), "-q"]);
    drawn(&set.join("charts"), &REPLICA_STEMS, &["png", "svg"]);
    // A sweep, and the same sweep run as two shards and merged.
    let sweep = d.join("sweep");
    let grid = ["sweep", s(&f), "--param", "k=4,8", "--replicas", "2", "-q"];
    ok(&[&grid[..], &["--out", s(&sweep)]].concat());
    let (s1, s2, merged) = (d.join("s1"), d.join("s2"), d.join("merged"));
    ok(&[&grid[..], &["--out", s(&s1), "--shard", "1/2"]].concat());
    ok(&[&grid[..], &["--out", s(&s2), "--shard", "2/2"]].concat());
    ok(&["merge", s(&s1), s(&s2), "--out", s(&merged)]);
    for (dir, charts, stems) in [
        (&run, run.clone(), vec!["hops_cdf", "latency_cdf", "success_alive"]),
        (&set, set.join("charts"), REPLICA_STEMS.to_vec()),
        (&sweep, sweep.join("charts"), vec!["find_node_success_rate_vs_k", "find_node_hops_mean_vs_k"]),
        (&merged, merged.join("charts"), vec!["find_node_success_rate_vs_k", "find_node_hops_mean_vs_k"]),
    ] {
        let out = ok(&[&["plot", s(dir)][..], &all].concat());
        assert!(!out.is_empty(), "{}: plot lists its files", dir.display());
        drawn(&charts, &stems, &["png", "svg", "pdf"]);
        ok(&[&["report", s(dir), "--force"][..], &all].concat());
        let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(report.contains(&format!("{}.png", stems[0])), "{}: the report shows its charts", dir.display());
    }
    let report = std::fs::read_to_string(set.join("report.md")).unwrap();
    assert!(report.contains("replicas_success.png") && report.contains("a replica set"), "{report}");
    // Drawn again in another process: the same bytes in every format (svg2pdf
    // writes resource dictionaries in a HashMap's order; kadsim sorts them).
    let again = d.join("again");
    ok(&[&["plot", s(&set), "--out", s(&again)][..], &all].concat());
    for stem in REPLICA_STEMS {
        for ext in ["png", "svg", "pdf"] {
            let name = format!("{stem}.{ext}");
            assert!(
                std::fs::read(again.join(&name)).unwrap() == std::fs::read(set.join("charts").join(&name)).unwrap(),
                "{name}"
            );
        }
    }
    // A folder of runs made by hand is a replica set too: its charts go into it.
    let folder = d.join("folder");
    std::fs::create_dir_all(&folder).unwrap();
    for r in 0..3 {
        let o = std::process::Command::new("cp")
            .args(["-r", s(&set.join(format!("runs/base/r{r}"))), s(&folder.join(format!("seed-{r}")))])
            .status()
            .unwrap();
        assert!(o.success());
    }
    ok(&["plot", s(&folder), "--format", "svg"]);
    drawn(&folder.join("charts"), &REPLICA_STEMS, &["svg"]);
    let _ = std::fs::remove_dir_all(&d);
}

/// The fraction of each run's node lookups (with a hop count) at most `h` hops.
fn by_hand(run: &Path, h: f64) -> f64 {
    let mut r = csv::Reader::from_path(run.join("ops.csv")).unwrap();
    let head = r.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|c| c == n).unwrap();
    let (kind, hops) = (col("kind"), col("hops"));
    let v: Vec<f64> = r
        .records()
        .map(Result::unwrap)
        .filter(|x| &x[kind] == "find_node" && !x[hops].is_empty())
        .map(|x| x[hops].parse().unwrap())
        .collect();
    v.iter().filter(|x| **x <= h).count() as f64 / v.len() as f64
}

#[test]
fn replica_set_overlays_draw_each_sets_mean_with_a_band_worked_out_by_hand() {
    let d = tmpdir("replica-overlay");
    let f = d.join("rs.toml");
    std::fs::write(&f, SMALL).unwrap();
    let (a, b) = (d.join("k4"), d.join("k8"));
    ok(&["sweep", s(&f), "--replicas", "4", "--set", "protocol.k=4", "--out", s(&a), "-q"]);
    ok(&["sweep", s(&f), "--replicas", "4", "--set", "protocol.k=8", "--out", s(&b), "-q"]);
    let o = d.join("o");
    let out = ok(&["plot", s(&a), s(&b), "--label", "k = 4,k = 8", "--out", s(&o), "--format", "svg"]);
    assert_eq!(out.lines().count(), 5, "{out}");
    let stems =
        ["overlay_hops_cdf", "overlay_latency_cdf", "overlay_get_latency_cdf", "overlay_success", "overlay_traffic"];
    drawn(&o, &stems, &["svg"]);
    let svg = std::fs::read_to_string(o.join("overlay_hops_cdf.svg")).unwrap();
    assert!(svg.contains("k = 4 (4 replicas)") && svg.contains("k = 8 (4 replicas)"), "the legend names the sets");
    assert!(svg.contains("percentile bootstrap"), "the note names the interval");

    // The model behind the charts, against the runs worked out by hand.
    let (sa, sb) = (
        runset::read_set(std::slice::from_ref(&a), "a").unwrap(),
        runset::read_set(std::slice::from_ref(&b), "b").unwrap(),
    );
    let sets = [Set { label: "k = 4".into(), runs: &sa.runs }, Set { label: "k = 8".into(), runs: &sb.runs }];
    let charts = replica_charts::charts(&sets);
    let hops = &charts.iter().find(|(n, _)| n == "overlay_hops_cdf").unwrap().1;
    for (i, set) in [&sa, &sb].into_iter().enumerate() {
        let series = &hops.series[i];
        assert_eq!(series.points.len(), series.band.len());
        let mut checked = 0;
        for (p, (lo, hi)) in series.points.iter().zip(&series.band) {
            let each: Vec<f64> = set.runs.iter().map(|r| by_hand(&r.dir, p.0)).collect();
            let x = p.0;
            // A step holds its value to the next integer: only the points at
            // an integer that carry its own value are checked.
            let mean = each.iter().sum::<f64>() / each.len() as f64;
            if (p.1 - mean).abs() > 1e-12 {
                continue;
            }
            let (min, max) = each.iter().fold((1.0f64, 0.0f64), |(l, h), v| (l.min(*v), h.max(*v)));
            assert!(*lo >= min - 1e-12 && *hi <= max + 1e-12, "set {i}, {x} hops: [{lo}, {hi}] outside [{min}, {max}]");
            assert!(*lo >= 0.0 && *hi <= 1.0 && lo <= hi);
            checked += 1;
        }
        assert!(checked >= 3, "set {i}: {checked} points checked");
    }
    // Success over time: proportions, bands within [0, 1]; traffic: the mean inside its band.
    let success = &charts.iter().find(|(n, _)| n == "overlay_success").unwrap().1;
    for series in &success.series {
        assert!(
            series.band.iter().zip(&series.points).all(|((l, h), p)| *l >= 0.0 && *h <= 1.0 && *l <= p.1 && p.1 <= *h)
        );
    }
    let traffic = &charts.iter().find(|(n, _)| n == "overlay_traffic").unwrap().1;
    for series in &traffic.series {
        assert!(series.band.iter().zip(&series.points).all(|((l, h), p)| *l <= p.1 + 1e-12 && p.1 <= *h + 1e-12));
        assert!(series.band.iter().any(|(l, h)| h > l), "replicas differ somewhere");
    }
    // A run against a set: the run is a set of one, without a band.
    let one = &sa.runs[..1];
    let mixed =
        replica_charts::charts(&[Set { label: "r0".into(), runs: one }, Set { label: "k = 8".into(), runs: &sb.runs }]);
    let s0 = &mixed[0].1.series[0];
    assert!(s0.band.iter().zip(&s0.points).all(|((l, h), p)| *l == p.1 && *h == p.1));
    ok(&["plot", s(&a.join("runs/base/r0")), s(&b), "--out", s(&d.join("o2")), "--format", "png"]);
    // One label per set, or one line and exit 2.
    let bad = kadsim(&["plot", s(&a), s(&b), "--label", "only one", "--out", s(&d.join("o3"))]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);
    let _ = std::fs::remove_dir_all(&d);
}

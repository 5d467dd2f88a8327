//! The reporting commands as a user runs them: `kadsim plot` (charts that
//! decode, have the right size and are not blank; clear errors for a bad
//! directory or CSV), `kadsim compare` (numbers checked by hand on a tiny
//! hand-written fixture, the `--fail-if` exit codes, an injected regression in
//! real simulated runs), `kadsim sweep` / `kadsim merge` (determinism across
//! `--jobs` and shards, aggregates recomputed by hand) and `kadsim report`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kadsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kadsim")).args(args).output().expect("the kadsim binary runs")
}

/// Runs kadsim and insists on exit 0; returns stdout.
fn kadsim_ok(args: &[&str]) -> String {
    let o = kadsim(args);
    assert!(o.status.success(), "kadsim {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Insists on exit 2 with exactly one stderr line `kadsim: ...`; returns that line.
fn bad_input(args: &[&str]) -> String {
    let o = kadsim(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "kadsim {args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "kadsim {args:?}: one line: {err}");
    assert!(err.starts_with("kadsim: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err.trim_end().to_string()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-it-{}-report-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A tiny static network with all three kinds of operation: 80 nodes, 3 simulated minutes.
const TINY: &str = r#"
name = "tiny"
seed = 7
nodes = 80
duration = "3m"
warmup = "1m"
sample_interval = "20s"
[bootstrap]
join_rate = 20
[network.latency]
model = "lognormal"
median = "40ms"
sigma = 0.5
[workload]
lookup_rate = 0.05
put_rate = 0.01
get_rate = 0.02
keys = 30
"#;

/// Writes TINY into `d` and runs it into `d/name` with `extra` flags.
fn run_tiny(d: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let file = d.join("tiny.toml");
    std::fs::write(&file, TINY).unwrap();
    let out = d.join(name);
    let mut args = vec!["run", s(&file), "--out", s(&out), "--quiet"];
    args.extend_from_slice(extra);
    kadsim_ok(&args);
    out
}

fn summary_metric(dir: &Path, name: &str) -> f64 {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name},")))
        .unwrap_or_else(|| panic!("{name} in {}", dir.display()))
        .parse()
        .unwrap()
}

/// Rows of `ops.csv` of `kind`, as maps column → value.
fn ops_of(dir: &Path, kind: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join("ops.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(String::from)).collect::<BTreeMap<_, _>>())
        .filter(|m| m["kind"] == kind)
        .collect()
}

/// Decodes a PNG and checks what a reader would see: 720×450, several
/// colours, and a real share of ink (non-white pixels).
fn check_png(path: &Path) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((info.width, info.height), (720, 450), "{}", path.display());
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{}", path.display());
    let channels = info.color_type.samples();
    let colour_channels = if channels >= 3 { 3 } else { 1 };
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks_exact(channels).collect();
    assert_eq!(pixels.len(), 720 * 450);
    let colours: HashSet<&[u8]> = pixels.iter().map(|p| &p[..colour_channels]).collect();
    assert!(colours.len() > 5, "{}: only {} colours", path.display(), colours.len());
    let ink = pixels.iter().filter(|p| p[..colour_channels].iter().any(|&c| c < 240)).count();
    let share = ink as f64 / pixels.len() as f64;
    assert!(share > 0.02, "{}: {:.2}% non-white pixels", path.display(), share * 100.0);
}

fn check_svg(path: &Path, texts: &[&str]) {
    let svg = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(svg.trim_start().starts_with("<svg") || svg.contains("<svg"), "{}", path.display());
    assert!(svg.contains(r#"width="720" height="450""#), "{}: size", path.display());
    for t in texts {
        assert!(svg.contains(t), "{} lacks the text {t:?}", path.display());
    }
}

#[test]
fn plot_draws_every_chart_readable_and_rejects_bad_dirs() {
    let d = tmpdir("plot");
    let run = run_tiny(&d, "run", &[]);
    let charts = d.join("charts");
    let out = kadsim_ok(&["plot", s(&run), "--out", s(&charts)]);
    let lookups = ops_of(&run, "find_node").iter().filter(|o| !o["hops"].is_empty()).count();
    assert!(lookups > 100, "the tiny run did lookups: {lookups}");
    let node_lookups = format!("node lookups (n = {lookups})");
    let expected: [(&str, Vec<&str>); 7] = [
        ("hops_hist", vec!["tiny: hop count", "hops (discovery depth)", "fraction of operations", &node_lookups]),
        ("hops_cdf", vec!["tiny: hop count CDF", "hops (discovery depth)", &node_lookups]),
        ("latency_cdf", vec!["tiny: operation latency CDF", "latency (ms, log scale)"]),
        ("success_alive", vec!["tiny: success rate and nodes up", "simulated time (s)", "nodes up", "node lookups"]),
        ("traffic", vec!["tiny: traffic per node", "simulated time (s)", "messages sent per node per s (log)"]),
        ("bandwidth", vec!["tiny: bandwidth per node", "bytes sent per node per s (log)"]),
        ("buckets", vec!["tiny: routing-table fill by bucket", "bucket i", "k = 20"]),
    ];
    let printed: Vec<&str> = out.lines().collect();
    assert_eq!(printed.len(), 14, "one printed path per file:\n{out}");
    for (stem, texts) in &expected {
        for ext in ["png", "svg"] {
            let p = charts.join(format!("{stem}.{ext}"));
            assert!(printed.contains(&s(&p)), "{} not printed:\n{out}", p.display());
        }
        check_png(&charts.join(format!("{stem}.png")));
        check_svg(&charts.join(format!("{stem}.svg")), texts);
    }
    assert!(!run.join("hops_hist.png").exists(), "--out keeps the results directory clean");

    // Not a results directory: exit 2, one line naming manifest.json, nothing drawn.
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = bad_input(&["plot", s(&empty)]);
    assert!(err.contains("manifest.json"), "{err}");
    assert!(std::fs::read_dir(&empty).unwrap().next().is_none(), "nothing written into {}", empty.display());

    // A non-number in ops.csv: the file and line are named.
    let bad = d.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    for e in std::fs::read_dir(&run).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, bad.join(p.file_name().unwrap())).unwrap();
        }
    }
    let ops = std::fs::read_to_string(run.join("ops.csv")).unwrap();
    let hops_col = ops.lines().next().unwrap().split(',').position(|h| h == "hops").unwrap();
    let lines: Vec<String> = ops
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 2 {
                let mut f: Vec<&str> = l.split(',').collect();
                f[hops_col] = "abc";
                f.join(",")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(bad.join("ops.csv"), lines.join("\n") + "\n").unwrap();
    let err = bad_input(&["plot", s(&bad)]);
    assert!(err.contains("ops.csv:3"), "the file and line 3 are named: {err}");
    assert!(!bad.join("hops_hist.png").exists(), "no chart from a malformed run");
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------------------
// compare on a hand-made fixture
// ---------------------------------------------------------------------------

const OPS_HEADER: &str = "start_us,end_us,kind,origin,target,hops,queried,responses,timeouts,latency_us,success,\
found_fraction,replicas,deadline_hit,attacked,eclipsed,wrong_value,peers,op,closest_found_us,closest_found_hops,stale_peers";

/// One find_node row of the fixture: (hops, latency ms, success, found fraction, queried, timeouts).
type FxOp = (u32, u64, bool, f64, u32, u32);

/// A real run, made once, whose manifest, time series, nodes and buckets
/// the hand-made fixtures copy: the readers check every file as kadsim
/// writes it.
fn template() -> &'static Path {
    static RUN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    RUN.get_or_init(|| run_tiny(&tmpdir("template"), "run", &[]))
}

/// Writes a results directory by hand: the template's manifest (named `fx`,
/// with `seed` and a trace hash of its own), time series, nodes and
/// buckets; `summary.csv` with every metric kadsim writes, `metrics` set,
/// `find_node.count` the number of `ops` (the readers check it against
/// `ops.csv`), the other counts 0 and the other values empty; `ops.csv`
/// with `ops`.
fn hand_run(dir: &Path, seed: u64, metrics: &[(&str, &str)], ops: &[FxOp]) {
    std::fs::create_dir_all(dir).unwrap();
    let t = template();
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("manifest.json")).unwrap()).unwrap();
    m["seed"] = seed.into();
    m["trace_hash"] = format!("{seed:016x}").into();
    m["scenario"]["seed"] = seed.into();
    m["scenario"]["name"] = "fx".into();
    m["scenario"]["protocol"]["k"] = 20.into();
    std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&m).unwrap()).unwrap();
    for f in ["timeseries.csv", "nodes.csv", "buckets.csv"] {
        std::fs::copy(t.join(f), dir.join(f)).unwrap();
    }
    let mut summary = "metric,value\n".to_string();
    for c in kadsim::files::schema::summary_metrics() {
        let given = metrics.iter().find(|(n, _)| *n == c.name).map(|(_, v)| v.to_string());
        let given = given.or_else(|| (c.name == "find_node.count").then(|| ops.len().to_string()));
        let v = given.unwrap_or_else(|| if c.empty { String::new() } else { "0".into() });
        summary.push_str(&format!("{},{v}\n", c.name));
    }
    std::fs::write(dir.join("summary.csv"), summary).unwrap();
    let mut text = format!("{OPS_HEADER}\n");
    for (i, &(hops, ms, success, ff, queried, timeouts)) in ops.iter().enumerate() {
        let start = 1_000_000 + 10_000 * i as u64;
        let lat = ms * 1000;
        text.push_str(&format!(
            "{start},{},find_node,{i},{:040x},{hops},{queried},{},{timeouts},{lat},{success},{ff:.1},0,false,,,,,{},,,\n",
            start + lat,
            i + 1,
            queried - timeouts,
            i + 1
        ));
    }
    std::fs::write(dir.join("ops.csv"), text).unwrap();
}

/// Writes a results directory with the given node lookups.
fn fixture(dir: &Path, msgs_per_node: &str, ops: &[FxOp]) {
    hand_run(dir, 1, &[("warmup_s", "0"), ("msgs.per_live_node_per_s", msgs_per_node)], ops);
}

/// Base: hops [2, 1, 3, 2] (sorted 1, 2, 2, 3), latencies [300, 100, 400, 200] ms,
/// all successful, found fraction 1, 3 queried, no timeouts; 2.0 messages/node/s.
const BASE_OPS: [FxOp; 4] =
    [(2, 300, true, 1.0, 3, 0), (1, 100, true, 1.0, 3, 0), (3, 400, true, 1.0, 3, 0), (2, 200, true, 1.0, 3, 0)];
/// Candidate: hops [3, 2, 4, 3] (sorted 2, 3, 3, 4), latencies [400, 200, 500, 300] ms,
/// one failure, one found fraction of 0.5, 4 queried, 2 timeouts in one lookup; 2.5 messages/node/s.
const CAND_OPS: [FxOp; 4] =
    [(3, 400, true, 1.0, 4, 0), (2, 200, true, 1.0, 4, 0), (4, 500, false, 1.0, 4, 2), (3, 300, true, 0.5, 4, 0)];

/// Writes `base` and `cand` fixture directories under `d`.
fn fixtures(d: &Path) -> (PathBuf, PathBuf) {
    let (base, cand) = (d.join("base"), d.join("cand"));
    fixture(&base, "2.0", &BASE_OPS);
    fixture(&cand, "2.5", &CAND_OPS);
    (base, cand)
}

/// The cells of every row of the Markdown tables, keyed by the first cell.
fn markdown_rows(out: &str) -> BTreeMap<String, Vec<String>> {
    out.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<String> = l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect();
            (cells[0].clone(), cells[1..].to_vec())
        })
        .collect()
}

fn num(cell: &str) -> f64 {
    cell.trim_end_matches('%').parse().unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}

/// `[low, high]` → (low, high).
fn interval(cell: &str) -> (f64, f64) {
    let inner = cell.strip_prefix('[').and_then(|c| c.strip_suffix(']')).unwrap_or_else(|| panic!("{cell:?}"));
    let (lo, hi) = inner.split_once(", ").unwrap();
    (num(lo), num(hi))
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want} ± {tol}");
}

#[test]
fn compare_fixture_numbers_match_hand_arithmetic() {
    let d = tmpdir("cmp-fixture");
    let (base, cand) = fixtures(&d);
    let out = kadsim_ok(&["compare", s(&base), s(&cand), "--markdown", "--no-charts"]);
    assert!(
        out.starts_with(
            "within-run only: base: base, candidate: cand; intervals: percentile bootstrap, 1000 resamples"
        ),
        "{out}"
    );
    // Two single runs: the output says what the intervals ignore.
    assert!(out.contains("\n> **warning:** within-run only: these intervals and tests treat the operations"), "{out}");
    assert!(out.contains("ignore seed-to-seed variation"), "{out}");
    let rows = markdown_rows(&out);
    // Cells: base, candidate, diff, diff %, CI.
    let row = |name: &str| rows.get(name).unwrap_or_else(|| panic!("no row {name} in\n{out}")).clone();
    // Exact expected cells (base, cand, diff, diff %), worked by hand:
    let want: &[(&str, [&str; 4])] = &[
        // success: base 4/4 = 1, candidate 3/4 = 0.75; diff −0.25 = −25%.
        ("find_node.success_rate", ["1", "0.75000", "-0.25000", "-25.00%"]),
        // hops: base (1+2+2+3)/4 = 8/4 = 2, candidate (2+3+3+4)/4 = 12/4 = 3; diff +1 = +50%.
        ("find_node.hops.mean", ["2", "3", "+1", "+50.00%"]),
        // Type-7 median: h = 3·0.5 = 1.5 → (2+2)/2 = 2 and (3+3)/2 = 3.
        ("find_node.hops.p50", ["2", "3", "+1", "+50.00%"]),
        // latency: base (100+200+300+400)/4 = 250 ms, candidate (200+…+500)/4 = 350 ms; +100 = +40%.
        ("find_node.latency_ms.mean", ["250", "350", "+100", "+40.00%"]),
        // median latency: (200+300)/2 = 250 and (300+400)/2 = 350.
        ("find_node.latency_ms.p50", ["250", "350", "+100", "+40.00%"]),
        // found fraction: 1 and (1+1+1+0.5)/4 = 0.875; −0.125 = −12.5%.
        ("find_node.found_fraction.mean", ["1", "0.87500", "-0.12500", "-12.50%"]),
        // queried: 3 and 4; +1 = +33.33%.
        ("find_node.queried.mean", ["3", "4", "+1", "+33.33%"]),
        // timeouts: 0 and 2/4 = 0.5; relative change from 0 is +inf.
        ("find_node.timeouts.mean", ["0", "0.50000", "+0.50000", "+inf"]),
        // messages per node up per second (summary.csv, no interval): 2.0 → 2.5, +0.5 = +25%.
        ("msgs.per_live_node_per_s", ["2", "2.5000", "+0.50000", "+25.00%"]),
    ];
    for (name, cells) in want {
        let r = row(name);
        assert_eq!(&r[..4], &cells[..], "{name}");
    }
    // Type-7 p90 / p99 need rounding care: h = 3·0.9 = 2.7 → 2 + 0.7·(3−2) = 2.7 and 3.7;
    // latency p90 = 300 + 0.7·100 = 370 and 470; p99: h = 2.97 → 397 and 497.
    for (name, b, c) in [
        ("find_node.hops.p90", 2.7, 3.7),
        ("find_node.latency_ms.p90", 370.0, 470.0),
        ("find_node.latency_ms.p99", 397.0, 497.0),
    ] {
        let r = row(name);
        close(num(&r[0]), b, 1e-4, name);
        close(num(&r[1]), c, 1e-4, name);
        close(num(&r[2]), c - b, 1e-4, name);
    }
    // Only metrics present in both runs' data appear: no get/put rows.
    assert!(!rows.keys().any(|k| k.starts_with("get.") || k.starts_with("put.")), "{out}");
    assert!(row("msgs.per_live_node_per_s")[4].is_empty(), "a total has no interval");

    // Bootstrap interval of the hops.mean difference. A resampled base mean lies in
    // [1, 3] (all 1s … all 3s), a candidate one in [2, 4], so every bootstrap
    // difference lies in [2 − 3, 4 − 1] = [−1, 3]; the point difference +1 is near
    // the middle of the bootstrap distribution (sd ≈ √(0.5/4 + 0.5/4) = 0.5), so
    // the 95% interval contains it.
    let (lo, hi) = interval(&row("find_node.hops.mean")[4]);
    assert!((-1.0..=3.0).contains(&lo) && (-1.0..=3.0).contains(&hi), "[{lo}, {hi}]");
    assert!(lo < 1.0 && 1.0 < hi, "CI [{lo}, {hi}] contains the difference +1");
    // It is genuinely wide for n = 4: about ±2·0.5.
    assert!(hi - lo > 0.5, "[{lo}, {hi}]");
    // Success-rate difference: the base resample mean is always 1, the candidate's
    // one of 0, .25, .5, .75, 1, so every difference is in [−1, 0]. P(no failure
    // drawn) = 0.75⁴ = 0.32 > 2.5%, so the upper bound is exactly 0; P(≥ 2 failures)
    // = 0.26 > 2.5% and P(4 failures) = 0.004 < 2.5%, so the lower bound is in [−1, −0.5].
    let (lo, hi) = interval(&row("find_node.success_rate")[4]);
    assert_eq!(hi, 0.0, "upper bound of the success-rate difference");
    assert!((-1.0..=-0.5).contains(&lo), "lower bound {lo}");
    // Constant in both runs: queried is always 3 in base and 4 in cand → [+1, +1].
    assert_eq!(row("find_node.queried.mean")[4], "[+1, +1]");

    // Distribution tests (cells: n base, n cand, U, p, D, p).
    // Hops: merged 1a 2a 2a 2b 3a 3b 3b 4b → midranks 1, 3, 3, 3, 6, 6, 6, 8;
    // R1 = 1 + 3 + 3 + 6 = 13, U1 = 13 − 4·5/2 = 3; μ = n1n2/2 = 8.
    // Ties: two groups of three → Σ(t³−t) = 24 + 24 = 48; N = 8.
    // σ² = 16/12 · (9 − 48/56) = 10.857143, σ = 3.295018;
    // z = (|3 − 8| − 0.5)/σ = 1.365698 → p = 2(1 − Φ(z)) = 0.1720337.
    // KS: F_a − F_b at 1: 1/4 − 0; at 2: 3/4 − 1/4 = 1/2; at 3: 1 − 3/4; at 4: 0 → D = 0.5;
    // ne = 16/8 = 2, λ = (√2 + 0.12 + 0.11/√2)·0.5 = 0.805998,
    // Q(λ) = 2(e^{−2λ²} − e^{−8λ²} + e^{−18λ²} …) = 0.5454647 − 0.0110656 + 0.0000167 = 0.5344157.
    assert_eq!(row("find_node.hops"), ["4", "4", "3.0", "0.1720", "0.5000", "0.5344"]);
    // Latency (ms): base 100 200 300 400, cand 200 300 400 500 → merged 100a 200ab 300ab 400ab 500b,
    // midranks 1, 2.5, 2.5, 4.5, 4.5, 6.5, 6.5, 8; R1 = 1 + 2.5 + 4.5 + 6.5 = 14.5, U1 = 14.5 − 10 = 4.5.
    // Ties: three pairs → Σ(t³−t) = 3·6 = 18; σ² = 16/12 · (9 − 18/56) = 11.571429, σ = 3.401680;
    // z = (|4.5 − 8| − 0.5)/σ = 0.881917 → Φ = 0.811089, p = 0.377822.
    // KS: differences 1/4 at every step → D = 0.25; λ = 0.402999 (< 1.18, theta form)
    // Q = 1 − (√(2π)/λ) Σ exp(−(2j−1)²π²/(8λ²)) = 0.996876.
    assert_eq!(row("find_node.latency_ms"), ["4", "4", "4.5", "0.3778", "0.2500", "0.9969"]);

    // The aligned text table says the same thing.
    let text = kadsim_ok(&["compare", s(&base), s(&cand), "--no-charts"]);
    let line = text.lines().find(|l| l.starts_with("find_node.hops.mean ")).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..5], ["find_node.hops.mean", "2", "3", "+1", "+50.00%"], "{line}");
    let line = text.lines().find(|l| l.starts_with("find_node.hops ")).unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["find_node.hops", "4", "4", "3.0", "0.1720", "0.5000", "0.5344"]
    );
    assert!(!text.contains("| "), "no Markdown without --markdown");
    // Same seed, same intervals; the resample count is reported.
    assert_eq!(text, kadsim_ok(&["compare", s(&base), s(&cand), "--no-charts"]));
    let few = kadsim_ok(&["compare", s(&base), s(&cand), "--no-charts", "--resamples", "200", "--seed", "9"]);
    assert!(few.contains("200 resamples"), "{few}");

    // A run against itself: no change anywhere, and a constant metric's interval is [0, 0].
    let same = kadsim_ok(&["compare", s(&base), s(&base), "--markdown", "--no-charts"]);
    let rows = markdown_rows(&same);
    for (name, cells) in &rows {
        if name.contains('.') && cells.len() == 5 {
            assert_eq!(&cells[2..4], ["0", "+0.00%"], "{name} against itself");
        }
    }
    assert_eq!(rows["find_node.success_rate"][4], "[0, 0]");
    assert_eq!(rows["find_node.queried.mean"][4], "[0, 0]");
    assert_eq!(rows["find_node.timeouts.mean"][4], "[0, 0]");
    // A non-constant metric still gets a non-degenerate interval around 0.
    let (lo, hi) = interval(&rows["find_node.hops.mean"][4]);
    assert!(lo < 0.0 && 0.0 < hi, "[{lo}, {hi}]");
    assert_eq!(rows["find_node.hops"], ["4", "4", "8.0", "1.0000", "0.0000", "1.0000"]);
    let _ = std::fs::remove_dir_all(&d);
}

/// Runs compare with `rules` (and `extra` flags); returns exit code, stdout, stderr.
fn compare_rules(base: &Path, cand: &Path, rules: &[&str], extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["compare", s(base), s(cand)];
    for r in rules {
        args.extend(["--fail-if", r]);
    }
    args.extend_from_slice(extra);
    let o = kadsim(&args);
    (o.status.code(), String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap())
}

#[test]
fn compare_fail_if_exit_codes_on_the_fixture() {
    let d = tmpdir("cmp-rules");
    let (base, cand) = fixtures(&d);
    let nc = ["--no-charts"];
    // (rules, expected exit code, expected verdict lines)
    let cases: &[(&[&str], i32, &[&str])] = &[
        // hops.mean rose by +50%.
        (&["hops.mean > +2%"], 1, &["FAIL hops.mean > +2%: measured +50.00%"]),
        (&["hops.mean > +60%"], 0, &["ok   hops.mean > +60%: measured +50.00%"]),
        (&["find_node.hops.mean >= +50%"], 1, &["FAIL find_node.hops.mean >= +50%: measured +50.00%"]),
        // Absolute changes: hops +1, success −0.25.
        (&["hops.mean > +0.5"], 1, &["FAIL hops.mean > +0.5: measured +1"]),
        (&["success_rate < -0.2"], 1, &["FAIL success_rate < -0.2: measured -0.25000"]),
        (&["success_rate < -0.3"], 0, &["ok   success_rate < -0.3: measured -0.25000"]),
        // Unsigned bounds are the candidate's own value: success 0.75, hops 3.
        (&["success_rate < 0.99"], 1, &["FAIL success_rate < 0.99: measured 0.75000"]),
        (&["success_rate < 0.5"], 0, &["ok   success_rate < 0.5: measured 0.75000"]),
        (&["hops.mean > 3.5"], 0, &["ok   hops.mean > 3.5: measured 3"]),
        (&["hops.mean >= 3"], 1, &["FAIL hops.mean >= 3: measured 3"]),
        // A metric from summary.csv, and several rules where only one fires.
        (
            &["msgs.per_live_node_per_s > +30%", "latency_ms.mean > +10%"],
            1,
            &[
                "ok   msgs.per_live_node_per_s > +30%: measured +25.00%",
                "FAIL latency_ms.mean > +10%: measured +40.00%",
            ],
        ),
    ];
    for (rules, code, lines) in cases {
        let (got, out, err) = compare_rules(&base, &cand, rules, &nc);
        assert_eq!(got, Some(*code), "{rules:?}:\n{out}\n{err}");
        let verdicts: Vec<&str> = out.lines().filter(|l| l.starts_with("FAIL ") || l.starts_with("ok   ")).collect();
        assert_eq!(&verdicts, lines, "{rules:?}:\n{out}");
        if *code == 1 {
            assert!(err.contains("regression"), "{err}");
        }
        // Single runs: stderr warns that seed-to-seed variation is ignored; nothing else unless it regressed.
        assert!(err.starts_with("kadsim: warning: within-run only: "), "{err}");
        let other: Vec<&str> = err.lines().filter(|l| !l.starts_with("kadsim: warning: ")).collect();
        assert_eq!(other.len(), usize::from(*code == 1), "{err}");
    }
    // The candidate as base and the base as candidate: success 1 ≥ 0.99, hops fell by a third.
    let (got, out, _) = compare_rules(&cand, &base, &["success_rate < 0.99", "hops.mean > +2%"], &nc);
    assert_eq!(got, Some(0), "{out}");
    assert!(out.contains("ok   success_rate < 0.99: measured 1\n"), "{out}");
    assert!(out.contains("ok   hops.mean > +2%: measured -33.33%\n"), "{out}");
    // A run against itself does not regress, even with a zero tolerance.
    let (got, out, _) = compare_rules(&base, &base, &["hops.mean > +0%"], &nc);
    assert_eq!(got, Some(0), "{out}");
    assert!(out.contains("ok   hops.mean > +0%: measured +0.00%"), "{out}");
    // --markdown prints the verdicts as a list.
    let (got, out, _) = compare_rules(&base, &cand, &["hops.mean > +2%"], &["--no-charts", "--markdown"]);
    assert_eq!(got, Some(1));
    assert!(out.contains("\n- FAIL hops.mean > +2%: measured +50.00%\n"), "{out}");

    // Bad rules: exit 2 before anything is printed or drawn.
    let charts = d.join("charts");
    for (rule, want) in [
        ("hops.mean >> x", "--fail-if 'hops.mean >> x'"),
        ("hops.mean", "expected METRIC OP BOUND"),
        ("hops.mean > 2%", "needs a sign"),
        ("nope > +1%", "unknown metric nope"),
        ("get.success_rate < 0.99", "unknown metric get.success_rate"),
    ] {
        let err = bad_input(&["compare", s(&base), s(&cand), "--fail-if", rule, "--out", s(&charts)]);
        assert!(err.contains(want), "{rule}: {err}");
        let o = kadsim(&["compare", s(&base), s(&cand), "--fail-if", rule, "--out", s(&charts)]);
        assert!(o.stdout.is_empty(), "{rule}: nothing printed: {}", String::from_utf8_lossy(&o.stdout));
        assert!(!charts.exists(), "{rule}: nothing drawn");
    }
    // A candidate without a value of the metric cannot pass a threshold on it.
    let nan = d.join("nan");
    fixture(&nan, "", &CAND_OPS);
    let (got, out, _) = compare_rules(&base, &nan, &["msgs.per_live_node_per_s > +1%"], &nc);
    assert_eq!(got, Some(1), "{out}");
    assert!(out.contains("FAIL msgs.per_live_node_per_s > +1%: no value in the candidate run"), "{out}");
    // A bound on the change needs the base's value: bad input.
    let err = bad_input(&["compare", s(&nan), s(&cand), "--no-charts", "--fail-if", "msgs.per_live_node_per_s > +1%"]);
    assert!(err.contains("base run has no") || err.contains("measured"), "{err}");
    // A value that is not a finite number is no value kadsim writes: refused, naming the file, line and metric.
    fixture(&nan, "NaN", &CAND_OPS);
    let err = bad_input(&["compare", s(&base), s(&nan), "--no-charts", "--fail-if", "msgs.per_live_node_per_s > +1%"]);
    assert!(
        err.contains("summary.csv:") && err.contains("metric msgs.per_live_node_per_s: expected a finite number"),
        "{err}"
    );
    // A directory that is not a run.
    let err = bad_input(&["compare", s(&base), s(&d.join("nowhere"))]);
    assert!(err.contains("manifest.json"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn compare_catches_an_injected_regression_in_simulated_runs() {
    let d = tmpdir("cmp-sim");
    let base = run_tiny(&d, "base", &[]);
    let same = run_tiny(&d, "same", &[]);
    // k = 2 instead of 20: replies carry fewer contacts, so lookups need more steps.
    let worse = run_tiny(&d, "worse", &["--set", "protocol.k=2"]);
    let (hb, hw) = (summary_metric(&base, "find_node.hops.mean"), summary_metric(&worse, "find_node.hops.mean"));
    assert!(hw > hb * 1.2, "k = 2 raises the mean hop count of node lookups: {hb} → {hw}");
    let rules = ["hops.mean > +2%", "success_rate < -1%"];

    let (code, out, err) = compare_rules(&base, &same, &rules, &[]);
    assert_eq!(code, Some(0), "same seed, same run:\n{out}\n{err}");
    assert!(out.contains("ok   hops.mean > +2%: measured +0.00%"), "{out}");
    assert!(out.contains("ok   success_rate < -1%: measured +0.00%"), "{out}");

    // k = 2 against k = 20 is a comparison of two settings: a gate on it must be asked for.
    let (code, _, err) = compare_rules(&base, &worse, &rules, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("different settings (protocol.k 20 vs 2)") && err.contains("--allow-different"), "{err}");
    let (code, out, err) = compare_rules(&base, &worse, &rules, &["--allow-different"]);
    assert_eq!(code, Some(1), "k = 2 is a regression:\n{out}\n{err}");
    assert!(out.contains("Settings that differ:") && out.contains("protocol.k"), "{out}");
    let fail =
        out.lines().find(|l| l.starts_with("FAIL hops.mean > +2%: measured +")).unwrap_or_else(|| panic!("{out}"));
    let measured = num(fail.rsplit(' ').next().unwrap());
    // The measured change is the one the two summaries show (they round to 6 decimals).
    close(measured, (hw / hb - 1.0) * 100.0, 0.01, "hops.mean change in %");
    // The hop distributions differ clearly.
    let line = out.lines().find(|l| l.starts_with("find_node.hops ")).unwrap();
    let p: f64 = line.split_whitespace().nth(4).unwrap().parse().unwrap_or(0.0);
    assert!(p < 0.01, "Mann-Whitney p of the hop counts: {line}");

    // The overlay charts, in CAND/compare by default, are listed and readable.
    for stem in ["compare_hops_cdf", "compare_latency_cdf"] {
        let png = worse.join("compare").join(format!("{stem}.png"));
        assert!(out.contains(&format!("chart: {}", png.display())), "{out}");
        check_png(&png);
    }
    check_svg(
        &worse.join("compare/compare_hops_cdf.svg"),
        &[
            "Node lookups hop count CDF: base vs worse",
            "hops (discovery depth)",
            "base: base (n = ",
            "candidate: worse",
        ],
    );
    check_svg(&worse.join("compare/compare_latency_cdf.svg"), &["latency (ms, log scale)"]);
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------------------
// sweep and merge
// ---------------------------------------------------------------------------

/// The sweep's scenario: TINY, smaller and shorter (60 nodes, 2 minutes), seed 11.
fn sweep_scenario() -> String {
    TINY.replace("name = \"tiny\"", "name = \"sw\"")
        .replace("seed = 7", "seed = 11")
        .replace("nodes = 80", "nodes = 60")
        .replace("duration = \"3m\"", "duration = \"2m\"")
        .replace("warmup = \"1m\"", "warmup = \"30s\"")
}

/// `kadsim sweep FILE --param k=4,8 --replicas 2 --out DIR -q` plus `extra`.
fn sweep(file: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["sweep", s(file), "--param", "k=4,8", "--replicas", "2", "--out", s(out), "-q"];
    args.extend_from_slice(extra);
    let o = kadsim(&args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r.records().map(|x| x.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

const SWEEP_FILES: [&str; 3] = ["runs.csv", "aggregate.csv", "sweep.json"];

fn assert_same_files(a: &Path, b: &Path) {
    for f in SWEEP_FILES {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{f} differs between {} and {}", a.display(), b.display());
    }
}

#[test]
fn sweep_is_deterministic_aggregates_by_hand_and_merges_shards() {
    let d = tmpdir("sweep");
    let file = d.join("sw.toml");
    std::fs::write(&file, sweep_scenario()).unwrap();
    let (one, two) = (d.join("jobs1"), d.join("jobs2"));
    sweep(&file, &one, &["--jobs", "1"]);
    sweep(&file, &two, &["--jobs", "2"]);
    assert_same_files(&one, &two);

    // runs.csv: 4 rows in grid order (k, then replica); replica 0 has the base seed 11, replica 1 the
    // first output of SplitMix64 seeded with 11, top 63 bits (computed in Python:
    // z = 11 + 0x9E3779B97F4A7C15; z = (z ^ z>>30)·0xBF58476D1CE4E5B9; z = (z ^ z>>27)·0x94D049BB133111EB;
    // (z ^ z>>31) >> 1, all mod 2^64), the same at both grid points.
    let (head, runs) = read_csv(&one.join("runs.csv"));
    assert_eq!(&head[..4], ["run", "k", "replica", "seed"]);
    let col = |name: &str| head.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let key: Vec<(&str, &str, &str, &str)> =
        runs.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str())).collect();
    assert_eq!(
        key,
        [
            ("runs/k=4/r0", "4", "0", "11"),
            ("runs/k=4/r1", "4", "1", "2916839690478819406"),
            ("runs/k=8/r0", "8", "0", "11"),
            ("runs/k=8/r1", "8", "1", "2916839690478819406"),
        ]
    );
    // Each row's metrics are those of its run directory, which ran with that seed and k.
    let hops = col("find_node.hops.mean");
    for r in &runs {
        let dir = one.join(&r[0]);
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m["seed"].to_string(), r[3], "{}", r[0]);
        assert_eq!(m["scenario"]["protocol"]["k"].to_string(), r[1], "{}", r[0]);
        close(summary_metric(&dir, "find_node.hops.mean"), num(&r[hops]), 0.0, &r[0]);
    }
    // The two replicas used different seeds, so their traces differ.
    assert_ne!(runs[0][col("trace_hash")], runs[1][col("trace_hash")]);

    // aggregate.csv: for every (point, metric) with two values x1, x2 in runs.csv:
    // mean = (x1 + x2)/2, sd = |x1 − x2|/√2 (n − 1 = 1); for a metric other than a
    // proportion the Student-t half-width t_{0.975,1}·sd/√2 = 12.706205·|x1 − x2|/2;
    // for a proportion the percentile bootstrap of the mean over the two
    // replicas, which lies between them (and so within [0, 1]): the resample
    // means are x1, (x1 + x2)/2 and x2, a quarter, half and quarter of the time,
    // so its 2.5% and 97.5% quantiles are x1 and x2 themselves.
    let (ahead, agg) = read_csv(&one.join("aggregate.csv"));
    assert_eq!(ahead, ["k", "metric", "n", "mean", "sd", "ci95_low", "ci95_high", "ci95_method"]);
    let mut checked_spread = false;
    for a in &agg {
        let (k, metric) = (&a[0], &a[1]);
        let xs: Vec<f64> = runs.iter().filter(|r| &r[1] == k).filter_map(|r| r[col(metric)].parse().ok()).collect();
        assert_eq!(a[2], xs.len().to_string(), "{k} {metric}");
        assert_eq!(xs.len(), 2, "{k} {metric}");
        let mean = (xs[0] + xs[1]) / 2.0;
        let sd = (xs[0] - xs[1]).abs() / 2f64.sqrt();
        let what = format!("k={k} {metric}");
        close(num(&a[3]), mean, 1e-6, &what);
        close(num(&a[4]), sd, 1e-6, &what);
        let proportion = ["success_rate", "fraction", "share"].iter().any(|p| metric.contains(p));
        if proportion {
            assert_eq!(a[7], "bootstrap_percentile", "{what}");
            close(num(&a[5]), xs[0].min(xs[1]), 1e-6, &what);
            close(num(&a[6]), xs[0].max(xs[1]), 1e-6, &what);
            assert!(num(&a[5]) >= 0.0 && num(&a[6]) <= 1.0, "{what}");
        } else {
            assert_eq!(a[7], "student_t", "{what}");
            let half = 12.706205 * sd / 2f64.sqrt();
            close(num(&a[5]), mean - half, 1e-5, &what);
            close(num(&a[6]), mean + half, 1e-5, &what);
        }
        checked_spread |= !proportion && sd > 1e-3;
    }
    assert!(checked_spread, "some metric differs between replicas");
    let points: HashSet<&str> = agg.iter().map(|a| a[0].as_str()).collect();
    assert_eq!(points, HashSet::from(["4", "8"]));
    assert!(agg.iter().any(|a| a[0] == "4" && a[1] == "find_node.hops.mean"), "the headline metric is aggregated");

    // A chart of a headline metric against k.
    check_png(&one.join("charts/find_node_hops_mean_vs_k.png"));
    check_svg(
        &one.join("charts/find_node_hops_mean_vs_k.svg"),
        &["mean hops of node lookups vs k", "mean hops", "95% Student-t interval", "4", "8"],
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(rec["runs"], 4);
    assert_eq!(rec["grid"]["base_seed"], 11);

    // compare refuses a sweep directory of several grid points, naming the points to pick from;
    // one point of it is a replica set, compared between seeds.
    let err = bad_input(&["compare", s(&one), s(&two), "--no-charts"]);
    assert!(err.contains("2 configurations") && err.contains("runs/k=4") && err.contains("runs/k=8"), "{err}");
    let out = kadsim_ok(&["compare", s(&one.join("runs/k=4")), s(&one.join("runs/k=8")), "--no-charts"]);
    assert!(out.starts_with("between-seed (2 vs 2 runs): base: jobs1/k=4, candidate: jobs1/k=8;"), "{out}");

    // Shards: each writes only its own files; merged, they equal the unsharded sweep.
    let (s1, s2, merged) = (d.join("shard1"), d.join("shard2"), d.join("merged"));
    sweep(&file, &s1, &["--shard", "1/2"]);
    sweep(&file, &s2, &["--shard", "2/2"]);
    for (dir, i) in [(&s1, 1), (&s2, 2)] {
        assert!(dir.join(format!("runs.shard-{i}-of-2.csv")).exists());
        assert!(dir.join(format!("sweep.shard-{i}-of-2.json")).exists());
        for f in SWEEP_FILES {
            assert!(!dir.join(f).exists(), "shard {i} writes no {f}");
        }
        let (_, rows) = read_csv(&dir.join(format!("runs.shard-{i}-of-2.csv")));
        assert_eq!(rows.len(), 2, "shard {i} has half the runs");
    }
    kadsim_ok(&["merge", s(&s1), s(&s2), "--out", s(&merged)]);
    assert_same_files(&one, &merged);
    // Shards may share one output directory (the second finds the first's files there); a
    // shard run again replaces its own runs with identical ones; a shard of another sweep
    // (another base seed) is refused there, naming the earlier sweep.
    let shared = d.join("shared");
    sweep(&file, &shared, &["--shard", "1/2"]);
    sweep(&file, &shared, &["--shard", "2/2"]);
    let again = ["sweep", s(&file), "--param", "k=4,8", "--replicas", "2", "--out", s(&shared), "-q", "--shard", "2/2"];
    kadsim_ok(&again);
    let err = bad_input(&[&again[..], &["--seed", "5"]].concat());
    assert!(err.contains("holds an earlier sweep") && err.contains("base_seed") && err.contains("--force"), "{err}");
    kadsim_ok(&["merge", s(&shared)]);
    assert_same_files(&one, &shared);
    check_png(&merged.join("charts/find_node_hops_mean_vs_k.png"));
    // The same shard twice, or a shard of another sweep (another base seed), is refused.
    let err = bad_input(&["merge", s(&s1), s(&s1), "--out", s(&d.join("twice"))]);
    assert!(err.contains("shard 1/2 twice"), "{err}");
    let other = d.join("other");
    sweep(&file, &other, &["--shard", "2/2", "--seed", "5"]);
    let err = bad_input(&["merge", s(&s1), s(&other), "--out", s(&d.join("mixed"))]);
    assert!(err.contains("different sweep"), "{err}");
    assert!(!d.join("twice").join("runs.csv").exists() && !d.join("mixed").join("runs.csv").exists());
    // One shard alone is not a sweep.
    let err = bad_input(&["merge", s(&s1), "--out", s(&d.join("half"))]);
    assert!(err.contains("missing"), "{err}");
    assert!(!d.join("half").join("runs.csv").exists());
    // A shard whose rows were edited (another k in a run of k=4) is refused, naming the line.
    let tampered = d.join("tampered");
    std::fs::create_dir_all(&tampered).unwrap();
    for f in ["runs.shard-2-of-2.csv", "sweep.shard-2-of-2.json"] {
        std::fs::copy(s2.join(f), tampered.join(f)).unwrap();
    }
    let path = tampered.join("runs.shard-2-of-2.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    cells[1] = if cells[1] == "4" { "8".into() } else { "4".into() };
    lines[1] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = bad_input(&["merge", s(&s1), s(&tampered), "--out", s(&d.join("edited"))]);
    assert!(err.contains("runs.shard-2-of-2.csv:2") && err.contains("differ"), "{err}");

    // Bad arguments: exit 2 before anything runs.
    let bad = d.join("bad");
    for (args, want) in [
        (vec!["--param", "k"], "--param 'k'"),
        (vec!["--param", "k="], "--param 'k='"),
        (vec!["--param", "k=4", "--shard", "3/2"], "--shard '3/2'"),
        (vec!["--param", "k=4", "--shard", "0/2"], "--shard '0/2'"),
        (vec!["--param", "k=4", "--replicas", "0"], "--replicas"),
        (vec!["--param", "k=4", "--replicas", "4294967295"], "--replicas"),
        (vec!["--param", "k=4,4"], "given twice"),
        (vec!["--param", "k=4", "--param", "protocol.k=8"], "given twice"),
    ] {
        let mut a = vec!["sweep", s(&file), "--out", s(&bad), "-q"];
        a.extend(args.iter().copied());
        let err = bad_input(&a);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!bad.exists(), "{args:?}: nothing written");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Seeds are not a sweep parameter (replica seeds derive from the base seed, and
/// runs.csv has its own `seed` column): `--param seed=...` is refused with one
/// line rather than silently overwritten.
#[test]
fn sweep_refuses_seed_as_a_parameter() {
    let d = tmpdir("sweep-seed");
    let file = d.join("sw.toml");
    std::fs::write(&file, sweep_scenario()).unwrap();
    let out = d.join("out");
    let o = kadsim(&["sweep", s(&file), "--param", "seed=1,2", "--replicas", "1", "--out", s(&out), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("kadsim: ") && err.trim_end().lines().count() == 1 && err.contains("seed"), "{err}");
    assert!(!out.join("runs.csv").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// `kadsim sweep FILE --replicas N` without `--param` is a replica set of N
/// runs: replica 0 on the seed, the others on mixed seeds, so the sets of two
/// neighbouring seeds share no run (with `seed + r`, seeds 11..13 and 12..14
/// shared two). A directory holding another sweep is refused without `--force`.
#[test]
fn sweep_without_param_makes_a_replica_set_and_refuses_a_full_directory() {
    let d = tmpdir("sweep-replicas");
    let file = d.join("sw.toml");
    std::fs::write(&file, sweep_scenario()).unwrap();
    let (a, b) = (d.join("a"), d.join("b"));
    let replicas = |out: &Path, extra: &[&str]| {
        let mut args = vec!["sweep", s(&file), "--replicas", "3", "--out", s(out), "-q"];
        args.extend_from_slice(extra);
        args.iter().map(|x| x.to_string()).collect::<Vec<String>>()
    };
    let run = |args: Vec<String>| kadsim_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    run(replicas(&a, &[]));
    let (head, rows) = read_csv(&a.join("runs.csv"));
    assert_eq!(&head[..3], ["run", "replica", "seed"]);
    let key: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())).collect();
    // SplitMix64 outputs 1 and 2 from seed 11, top 63 bits (Python, as in the sweep test above).
    assert_eq!(
        key,
        [
            ("runs/base/r0", "0", "11"),
            ("runs/base/r1", "1", "2916839690478819406"),
            ("runs/base/r2", "2", "2419891404314872272"),
        ]
    );
    for r in &rows {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(a.join(&r[0]).join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m["seed"].to_string(), r[2], "{}", r[0]);
    }
    let (_, agg) = read_csv(&a.join("aggregate.csv"));
    assert!(agg.iter().any(|c| c[0] == "find_node.hops.mean" && c[1] == "3"), "one point, n = 3: {agg:?}");

    // The same sweep again: its runs replaced with identical ones. Another sweep
    // (more replicas) into the same directory: refused with one line naming the
    // earlier sweep, nothing rewritten; with --force it runs.
    let before = std::fs::read(a.join("runs.csv")).unwrap();
    run(replicas(&a, &[]));
    assert_eq!(std::fs::read(a.join("runs.csv")).unwrap(), before, "the same sweep, the same runs");
    let mut more = replicas(&a, &[]);
    more[3] = "4".into();
    let err = bad_input(&more.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains(&format!("{} holds an earlier sweep", a.display())) && err.contains("--force"), "{err}");
    assert!(err.contains("replicas 3 (this run: 4)"), "{err}");
    assert_eq!(std::fs::read(a.join("runs.csv")).unwrap(), before, "nothing rewritten");
    let foreign = d.join("notes");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let args = replicas(&foreign, &[]);
    let err = bad_input(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("notes.txt"), "{err}");
    assert!(!foreign.join("runs").exists(), "nothing written");
    run(replicas(&a, &["--force"]));
    assert_eq!(std::fs::read(a.join("runs.csv")).unwrap(), before, "same seeds, same runs");
    assert!(!a.join("runs/base/r3").exists(), "refused: the four-replica sweep wrote nothing");
    let mut more = replicas(&a, &["--force"]);
    more[3] = "4".into();
    run(more);
    assert!(a.join("runs/base/r3/manifest.json").exists(), "replaced with --force");
    run(replicas(&a, &["--force"]));
    assert!(!a.join("runs/base/r3").exists(), "the four-replica sweep replaced as a whole");

    // Seed 12: no run in common with seed 11's set.
    run(replicas(&b, &["--seed", "12"]));
    let seeds = |dir: &Path| -> HashSet<String> {
        read_csv(&dir.join("runs.csv")).1.into_iter().map(|r| r[2].clone()).collect()
    };
    let (sa, sb) = (seeds(&a), seeds(&b));
    assert_eq!((sa.len(), sb.len()), (3, 3));
    assert!(sa.is_disjoint(&sb), "{sa:?} {sb:?}");
    // The two sweep directories are replica sets: compared between seeds, without warnings.
    let o = kadsim(&["compare", s(&a), s(&b), "--no-charts"]);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.starts_with("between-seed (3 vs 3 runs): base: a, candidate: b;"), "{out}");
    assert!(err.is_empty(), "{err}");
    // A set against (a point directory of) itself: the shared runs are pointed out.
    let o = kadsim(&["compare", "--base", s(&a), "--cand", s(&a.join("runs/base")), "--no-charts"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("kadsim: warning: base and candidate share 3 of their runs"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------------------
// compare between seeds on hand-made replica sets
// ---------------------------------------------------------------------------

/// A results directory for a between-seed comparison: `seed`, and
/// `summary.csv` with `metrics` (every other count 0, every other value
/// empty), no operations.
fn set_run(dir: &Path, seed: u64, metrics: &[(&str, f64)]) {
    let values: Vec<(&str, String)> = metrics.iter().map(|(m, v)| (*m, v.to_string())).collect();
    let values: Vec<(&str, &str)> = values.iter().map(|(m, v)| (*m, v.as_str())).collect();
    hand_run(dir, seed, &values, &[]);
}

/// Splits between-seed Markdown output into the main table's rows and the per-run table's rows.
fn set_tables(out: &str) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, Vec<String>>) {
    let (main, per_run) = out.split_once("Per-run values:").unwrap_or_else(|| panic!("no per-run table:\n{out}"));
    (markdown_rows(main), markdown_rows(per_run))
}

#[test]
fn compare_replica_sets_between_seeds_matches_welch_by_hand() {
    let d = tmpdir("cmp-sets");
    // Base: a directory of five replicas; hops 1..5, success 1, messages 100.
    for (i, h) in [1.0, 2.0, 3.0, 4.0, 5.0].iter().enumerate() {
        let m = [("find_node.hops.mean", *h), ("find_node.success_rate", 1.0), ("msgs.sent", 100.0)];
        set_run(&d.join(format!("base/r{i}")), 100 + i as u64, &m);
    }
    // Candidate: five run directories given one by one; hops 2, 4, …, 10, success 1, messages 101.
    for (i, h) in [2.0, 4.0, 6.0, 8.0, 10.0].iter().enumerate() {
        let m = [("find_node.hops.mean", *h), ("find_node.success_rate", 1.0), ("msgs.sent", 101.0)];
        set_run(&d.join(format!("cand/c{i}")), 200 + i as u64, &m);
    }
    let base = d.join("base");
    let cands: Vec<String> = (0..5).map(|i| s(&d.join(format!("cand/c{i}"))).to_string()).collect();
    let mut args = vec!["compare", "--base", s(&base), "--markdown", "--no-charts"];
    for c in &cands {
        args.extend(["--cand", c.as_str()]);
    }
    let o = kadsim(&args);
    let (out, err) = (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap());
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "distinct seeds and one configuration: no warning: {err}");
    assert!(out.starts_with("between-seed (5 vs 5 runs): base: base, candidate: c0+c1+c2+c3+c4;"), "{out}");
    assert!(out.contains("95% Welch t interval of the difference of means"), "{out}");
    assert!(!out.contains("within-run"), "{out}");
    let (rows, per_run) = set_tables(&out);
    // Cells: base mean, candidate mean, diff, diff %, 95% CI, p.
    // hops: means 3 and 6; s² = 2.5 and 10; se² = 2.5/5 + 10/5 = 2.5; Welch df = 6.25/(0.25/4 + 4/4)
    // = 5.882353; t_{0.975, 5.882} = 2.4588237 (mpmath) → half-width 2.4588237·√2.5 = 3.8877416;
    // t = 3/√2.5 = 1.8973666 → p = 0.10753 (SciPy ttest_ind(cand, base, equal_var=False)).
    // Holm over the 16 p-values (these three and the 13 other counts and totals every summary
    // has, 0 on both sides: p = 1): 0 · 16, 0.10753 · 15 > 1 → 1. Last, n base and n cand: every run.
    let row =
        |cells: [&'static str; 7]| -> Vec<String> { cells.iter().chain(&["5", "5"]).map(|c| c.to_string()).collect() };
    assert_eq!(
        rows["find_node.hops.mean"],
        row(["3", "6", "+3", "+100.00%", "[-0.88774, +6.8877]", "0.1075", "1.0000"])
    );
    // Constant and equal on both sides: no difference, p = 1.
    assert_eq!(rows["find_node.success_rate"], row(["1", "1", "0", "+0.00%", "[0, 0]", "1.0000", "1.0000"]));
    // Constant on each side but different: the difference has no spread, p = 0.
    assert_eq!(rows["msgs.sent"], row(["100", "101", "+1", "+1.00%", "[+1, +1]", "< 1e-300", "< 1e-300"]));
    // The run's size is not an outcome; a metric no run has a value for is shown empty, n = 0.
    assert!(!rows.contains_key("nodes"), "{out}");
    assert_eq!(rows["get.peers.mean"], ["", "", "", "", "", "", "", "0", "0"]);
    // Every run's value, in run order.
    assert_eq!(per_run["find_node.hops.mean"], ["1 2 3 4 5", "2 4 6 8 10"]);
    // No distribution test on pooled operations, and it says so.
    assert!(!out.contains("| distribution |"), "{out}");
    assert!(out.contains("No Mann-Whitney or KS test: operations pooled over runs are not independent"), "{out}");
    assert!(out.contains("1 of 17 metrics have p < 0.05; with no real change about 0.9 would, by chance. Corrected for testing 17 metrics at once (Holm), 1 differ significantly at 5%."), "{out}");

    // --fail-if on sets bounds the difference of means; `significant` also asks the interval to exclude 0.
    let set_args = |rules: &[&str]| {
        let mut a: Vec<String> = ["compare", "--base", s(&base), "--no-charts"].map(String::from).to_vec();
        for c in &cands {
            a.extend(["--cand".to_string(), c.clone()]);
        }
        for r in rules {
            a.extend(["--fail-if".to_string(), r.to_string()]);
        }
        a
    };
    let cases: &[(&str, i32, &str)] = &[
        ("hops.mean > +50%", 1, "FAIL hops.mean > +50%: measured +100.00%"),
        (
            "hops.mean > +50% significant",
            0,
            "ok   hops.mean > +50% significant: measured +100.00%, 95% CI of diff [-0.88774, +6.8877] covers 0: not significant",
        ),
        (
            "msgs.sent > +0.5 significant",
            1,
            "FAIL msgs.sent > +0.5 significant: measured +1, 95% CI of diff [+1, +1] excludes 0",
        ),
        ("hops.mean > 5", 1, "FAIL hops.mean > 5: measured 6"),
        (
            "success_rate < -0.01 significant",
            0,
            "ok   success_rate < -0.01 significant: measured 0, 95% CI of diff [0, 0] covers 0: not significant",
        ),
    ];
    for (rule, code, line) in cases {
        let a = set_args(&[rule]);
        let o = kadsim(&a.iter().map(String::as_str).collect::<Vec<_>>());
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(*code), "{rule}:\n{out}");
        assert!(out.lines().any(|l| l == *line), "{rule}: no line {line:?} in\n{out}");
    }
    let a = set_args(&["hops.mean > 5 significant"]);
    let err = bad_input(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("applies to a change"), "{err}");

    // One run against a set: the single run's variance is taken to be the set's (Crawford & Howell):
    // diff = 3 − 10 = −7, se = √2.5·√(1 + 1/5) = √3, df = 4: t_{0.975,4}·√3 = 4.8089440,
    // p = 2·P(T_4 > 7/√3 = 4.0414519) = 0.0155853 (mpmath). Holm over 16 p-values (the single run has
    // no success rate; its messages, 0 against 100, come first): 0.0155853 · 15 = 0.2337795.
    let single = d.join("single");
    set_run(&single, 300, &[("find_node.hops.mean", 10.0)]);
    let o = kadsim(&["compare", s(&single), s(&base), "--markdown", "--no-charts"]);
    let (out, err) = (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap());
    assert!(out.starts_with("between-seed (1 vs 5 runs): base: single, candidate: base;"), "{out}");
    // In a Markdown document the warnings are the document's (once), not also on stderr.
    assert!(out.contains("> **warning:** the base side is a single run") && err.is_empty(), "{out}{err}");
    let (rows, _) = set_tables(&out);
    assert_eq!(
        rows["find_node.hops.mean"],
        ["10", "3", "-7", "-70.00%", "[-11.8089, -2.1911]", "0.0156", "0.2338", "1", "5"]
    );
    // The success rate no base run has: said, and no rule judged on it.
    assert!(out.contains("> **warning:** find_node.success_rate has no value in 1 of 1 base run ("), "{out}");

    // A run on both sides is pointed out; the same run twice in one set is refused.
    let o = kadsim(&[
        "compare",
        "--base",
        s(&base),
        "--cand",
        &cands[1],
        "--cand",
        &cands[2],
        "--cand",
        s(&base.join("r3")),
        "--no-charts",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("warning: base and candidate share 1 of their runs") && err.contains("r3"), "{err}");
    let err = bad_input(&[
        "compare",
        "--base",
        s(&base),
        "--base",
        s(&base.join("r1")),
        "--cand",
        s(&d.join("cand")),
        "--no-charts",
    ]);
    assert!(err.contains("the base set holds the same run twice"), "{err}");
    // Runs of two configurations side by side under one directory: refused, naming them.
    let err = bad_input(&["compare", s(&d), s(&base), "--no-charts"]);
    assert!(err.contains("configurations") && err.contains("base") && err.contains("cand"), "{err}");
    // Wrong numbers of directories, or both syntaxes at once: one line, exit 2.
    for (args, want) in [
        (vec!["compare", s(&base)], "expected two directories BASE CAND, got 1"),
        (vec!["compare", s(&base), s(&base), s(&base)], "got 3"),
        (vec!["compare", "--base", s(&base)], "missing --cand"),
        (vec!["compare", s(&base), s(&base), "--cand", s(&base)], "not both"),
        (vec!["compare", s(&d.join("empty-nowhere")), s(&base)], "no such directory"),
    ] {
        let err = bad_input(&args);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    std::fs::create_dir_all(d.join("hollow/x")).unwrap();
    let err = bad_input(&["compare", s(&d.join("hollow")), s(&base)]);
    assert!(err.contains("no runs in it or below it"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The issue "Trustworthy experiments": `churn.toml` (made smaller: 400 nodes,
/// 15 simulated minutes, still churning) with seed 1 against seed 2, one
/// configuration. Single runs compared within runs come out "different";
/// five replicas per side compared between seeds show no difference in any
/// metric of summary.csv.
#[test]
fn two_seeds_of_one_churning_configuration_do_not_differ_between_seeds() {
    let d = tmpdir("churn-seeds");
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/churn.toml");
    let smaller = ["--set", "nodes=400", "--set", "duration=15m", "--set", "warmup=3m"];
    for seed in ["1", "2"] {
        let out = d.join(format!("seed{seed}"));
        let mut args = vec!["sweep", s(&file), "--replicas", "5", "--seed", seed, "--out", s(&out), "-q"];
        args.extend_from_slice(&smaller);
        kadsim_ok(&args);
    }
    let (s1, s2) = (d.join("seed1"), d.join("seed2"));
    assert!(summary_metric(&s1.join("runs/base/r0"), "churn.leaves") > 100.0, "the network churns");

    // The old way: replica 0 of each (seeds 1 and 2) compared within runs flags differences.
    let (r1, r2) = (s1.join("runs/base/r0"), s2.join("runs/base/r0"));
    let o = kadsim(&["compare", s(&r1), s(&r2), "--markdown", "--no-charts"]);
    let (out, err) = (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap());
    assert!(out.starts_with("within-run only:"), "{out}");
    assert_eq!(out.matches("within-run only: these intervals").count(), 1, "warned once: {out}");
    assert!(err.is_empty(), "{err}");
    let rows = markdown_rows(&out);
    let excluding_zero: Vec<&String> = rows
        .iter()
        .filter(|(_, c)| c.len() == 5 && c[4].starts_with('['))
        .filter(|(_, c)| {
            let (lo, hi) = interval(&c[4]);
            lo > 0.0 || hi < 0.0
        })
        .map(|(n, _)| n)
        .collect();
    let low_p: Vec<&String> = rows
        .iter()
        .filter(|(n, c)| c.len() == 6 && !n.starts_with("distribution"))
        .filter(|(_, c)| c[3].starts_with('<') || num(&c[3]) < 0.05 || c[5].starts_with('<') || num(&c[5]) < 0.05)
        .map(|(n, _)| n)
        .collect();
    assert!(
        excluding_zero.len() + low_p.len() >= 2,
        "within-run: intervals excluding 0 {excluding_zero:?}, distributions with p < 0.05 {low_p:?}\n{out}"
    );

    // Between seeds: no metric differs (every p ≥ 0.05, every interval covers 0).
    let o = kadsim(&["compare", s(&s1), s(&s2), "--markdown"]);
    let (out, err) = (String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap());
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "no shared runs, no single run: {err}");
    assert!(out.starts_with("between-seed (5 vs 5 runs): base: seed1, candidate: seed2;"), "{out}");
    let (rows, per_run) = set_tables(&out);
    let tested: Vec<(&String, &Vec<String>)> =
        rows.iter().filter(|(_, c)| c.len() == 9 && c[4].starts_with('[')).collect();
    assert!(tested.len() >= 45, "every metric of summary.csv: {}\n{out}", tested.len());
    for (name, c) in &tested {
        let (lo, hi) = interval(&c[4]);
        assert!(lo <= 0.0 && 0.0 <= hi, "{name}: 95% CI [{lo}, {hi}] excludes 0\n{out}");
        assert!(num(&c[5]) >= 0.05, "{name}: p = {}\n{out}", c[5]);
        assert!(num(&c[6]) >= 0.05, "{name}: Holm p = {}\n{out}", c[6]);
    }
    assert!(out.contains(&format!("0 of {} metrics have p < 0.05", tested.len())), "{out}");
    assert!(out.contains("at once (Holm), 0 differ significantly"), "{out}");
    assert_eq!(per_run["find_node.hops.mean"].iter().map(|c| c.split(' ').count()).collect::<Vec<_>>(), [5, 5]);
    // The overlay charts pool each set's operations and say so.
    check_png(&s2.join("compare/compare_latency_cdf.png"));
    check_svg(
        &s2.join("compare/compare_hops_cdf.svg"),
        &["base: seed1 (5 runs, n = ", "candidate: seed2 (5 runs, n = "],
    );
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------

#[test]
fn report_writes_markdown_with_counts_and_charts() {
    let d = tmpdir("report");
    let run = run_tiny(&d, "run", &[]);
    let out = kadsim_ok(&["report", s(&run)]);
    let path = run.join("report.md");
    assert_eq!(out.trim_end(), s(&path));
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.starts_with("# kadsim report"), "{md}");
    assert!(md.contains("# kadsim report: tiny"));
    assert!(md.contains("80 nodes"), "{md}");
    assert!(md.contains("seed 7"), "{md}");
    // The operations table: the node-lookup count is the number of find_node rows in ops.csv.
    let head: Vec<String> = md
        .lines()
        .find(|l| l.starts_with("| kind |"))
        .unwrap()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect();
    let count_col = head.iter().position(|h| h == "count").unwrap();
    let row_of = |label: &str| -> Vec<String> {
        let line =
            md.lines().find(|l| l.starts_with(&format!("| {label} |"))).unwrap_or_else(|| panic!("{label}\n{md}"));
        line.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect()
    };
    for (label, kind) in [("node lookups", "find_node"), ("gets", "get"), ("puts", "put")] {
        let n = ops_of(&run, kind).len();
        assert!(n > 0, "{kind}");
        assert_eq!(row_of(label)[count_col], n.to_string(), "{label} count");
    }
    let hops_col = head.iter().position(|h| h == "hops mean").unwrap();
    let lookups = ops_of(&run, "find_node");
    let mean = lookups.iter().map(|o| num(&o["hops"])).sum::<f64>() / lookups.len() as f64;
    close(num(&row_of("node lookups")[hops_col]), mean, 1e-4, "node lookups hops mean");
    // Every chart is linked, and every link points to a file that exists and decodes.
    for stem in ["hops_hist", "hops_cdf", "latency_cdf", "success_alive", "traffic", "bandwidth", "buckets"] {
        assert!(md.contains(&format!("]({stem}.png)")), "{stem}.png linked:\n{md}");
        assert!(md.contains(&format!("]({stem}.svg)")), "{stem}.svg linked");
        check_png(&run.join(format!("{stem}.png")));
        assert!(run.join(format!("{stem}.svg")).exists());
    }
    // Every Markdown link resolves to a file next to the report.
    for part in md.split("](").skip(1) {
        let target = &part[..part.find(')').unwrap()];
        assert!(run.join(target).exists(), "link {target} resolves");
    }
    // Not a results directory.
    let err = bad_input(&["report", s(&d)]);
    assert!(err.contains("manifest.json"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

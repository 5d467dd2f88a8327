//! The few lines `kadsim run` prints when it ends: the network's size, each
//! operation kind's count, success rate, mean hops and median latency; when
//! the node lookups reached the true closest node, the stale contacts and
//! peers under churn, and with an adversary its outcomes (docs/outputs.md "Metric
//! definitions"); where the results are and what to run next. Read from the
//! rows of `summary.csv`, so the lines say exactly what the files say.

use crate::runner::Threads;
use std::fmt::Write as _;
use std::path::Path;

/// The value of `metric` among `rows`, if present and not empty.
fn value<'a>(rows: &'a [(String, String)], metric: &str) -> Option<&'a str> {
    rows.iter().find(|(m, _)| m == metric).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn number(rows: &[(String, String)], metric: &str) -> Option<f64> {
    value(rows, metric).and_then(|v| v.parse().ok())
}

/// What the run took: its events, its wall time and its threads.
pub struct Run<'a> {
    /// Events processed.
    pub events: u64,
    /// Wall time, seconds.
    pub wall_s: f64,
    /// The threads, and who chose them.
    pub threads: &'a Threads,
    /// How the events fell into windows (`crate::sim::windows`), one line:
    /// why a second thread helps or not.
    pub windows: Option<&'a str>,
}

/// The end-of-run summary, several lines, each under 80 columns but for the
/// ones that name the results directory.
///
/// `replaced_same`: the directory held the same run, replaced in place.
pub fn render(name: &str, rows: &[(String, String)], dir: &Path, run: &Run, replaced_same: bool) -> String {
    let mut out = String::new();
    let nodes = value(rows, "nodes").unwrap_or("?");
    let alive = value(rows, "end.alive").unwrap_or("?");
    let alive_mean = number(rows, "alive.mean").map_or(String::new(), |a| format!(", {a:.0} up on average"));
    let _ = writeln!(out, "{name}: {nodes} nodes, {alive} up at the end{alive_mean}");
    let (events, wall_s, t) = (run.events, run.wall_s, run.threads);
    let plural = if t.n == 1 { "" } else { "s" };
    if t.chosen_by.starts_with("default") {
        let _ = writeln!(out, "  {events} events in {wall_s:.1} s on {} thread{plural}", t.n);
        let _ = writeln!(out, "  ({})", t.chosen_by);
    } else {
        let _ = writeln!(out, "  {events} events in {wall_s:.1} s on {} thread{plural} ({})", t.n, t.chosen_by);
    }
    if let Some(windows) = run.windows {
        let _ = writeln!(out, "  {windows}");
    }
    let mut any = false;
    for (kind, label) in [("find_node", "node lookups"), ("get", "gets"), ("put", "puts")] {
        let count = number(rows, &format!("{kind}.count")).unwrap_or(0.0);
        if count == 0.0 {
            continue;
        }
        any = true;
        let ok = number(rows, &format!("{kind}.success_rate")).map_or("-".into(), |v| format!("{:.2}%", v * 100.0));
        let hops = number(rows, &format!("{kind}.hops.mean")).map_or("-".into(), |v| format!("{v:.2}"));
        let p50 = number(rows, &format!("{kind}.latency_ms.p50")).map_or("-".into(), |v| format!("{v:.0} ms"));
        let _ = writeln!(out, "  {label:<12} {count:>8}  success {ok:>7}  hops {hops:>5}  p50 {p50:>8}");
    }
    if !any {
        let _ = writeln!(out, "  no operation was measured (none finished after the warm-up)");
    }
    churn_lines(&mut out, rows);
    adversary_lines(&mut out, rows);
    let d = dir.display();
    let _ = writeln!(out, "results in {d}");
    if replaced_same {
        let _ = writeln!(out, "  (it held this same run: replaced by identical files, its charts kept)");
    }
    let _ = writeln!(out, "next: kadsim report {d}");
    let _ = writeln!(out, "  or: kadsim plot {d}");
    out
}

/// A share as a percentage with two decimals.
fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

/// The churn study's lines: when node lookups reached the true closest node
/// (`closest_found_ms`), and, when nodes went down, the stale contacts of
/// the routing tables and the stale peers gets returned.
fn churn_lines(out: &mut String, rows: &[(String, String)]) {
    let ms = |q: &str| number(rows, &format!("find_node.closest_found_ms.{q}")).map(|v| format!("{v:.0} ms"));
    if let (Some(p50), Some(p90)) = (ms("p50"), ms("p90")) {
        let _ = writeln!(out, "  node lookups reached the closest node: p50 {p50}, p90 {p90}");
    }
    if number(rows, "churn.leaves").unwrap_or(0.0) == 0.0 {
        return;
    }
    if let (Some(mean), Some(end)) =
        (number(rows, "stale_contacts_share.mean"), number(rows, "end.stale_contacts_share"))
    {
        let (mean, end) = (pct(mean), pct(end));
        let _ = writeln!(out, "  stale contacts: {mean} of a routing table on average, {end} at the end");
    }
    if let Some(share) = number(rows, "get.stale_peers.share") {
        let _ = writeln!(out, "  stale peers: {} of the peers gets returned were down", pct(share));
    }
}

/// The adversary's lines, when one is configured: its size and share of the
/// honest routing tables; for each kind with operations, how many had an
/// attacked target and the success rate of those and of the others; the
/// share eclipsed; the gets that returned a forged value.
fn adversary_lines(out: &mut String, rows: &[(String, String)]) {
    let Some(nodes) = value(rows, "adversary.nodes") else {
        return;
    };
    let share = number(rows, "adversary.rt_share")
        .map_or(String::new(), |v| format!(", {} of the honest routing-table contacts", pct(v)));
    let _ = writeln!(out, "adversary: {nodes} nodes{share}");
    let mut eclipsed = Vec::new();
    for (kind, label) in [("find_node", "node lookups"), ("get", "gets"), ("put", "puts")] {
        let count = number(rows, &format!("{kind}.count")).unwrap_or(0.0);
        if count == 0.0 {
            continue;
        }
        let hit = number(rows, &format!("{kind}.attacked.count")).unwrap_or(0.0);
        let rate = |side: &str| {
            number(rows, &format!("{kind}.{side}.success_rate")).map_or("-".into(), |v| format!("{:.2}%", v * 100.0))
        };
        let (a, o) = (rate("attacked"), rate("not_attacked"));
        let of = format!("{:.1}%", hit / count * 100.0);
        let _ = writeln!(out, "  {label:<12} attacked {hit:>7} ({of:>5})  success {a:>7}  others {o:>7}");
        if let Some(e) = number(rows, &format!("{kind}.eclipsed_fraction")) {
            eclipsed.push(format!("{label} {}", pct(e)));
        }
    }
    if !eclipsed.is_empty() {
        let _ = writeln!(out, "  eclipsed     {}", eclipsed.join(", "));
    }
    if let Some(w) = number(rows, "get.wrong_value_fraction") {
        let _ = writeln!(out, "  wrong values {} of gets", pct(w));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    /// 5 events in 0.1 s on 2 threads, as `--threads 2` asked.
    fn run() -> Run<'static> {
        Run { events: 5, wall_s: 0.1, threads: Box::leak(Box::new(Threads::given(2))), windows: None }
    }

    #[test]
    fn the_summary_names_size_operations_and_the_next_step() {
        let r = rows(&[
            ("nodes", "2000"),
            ("end.alive", "1874"),
            ("alive.mean", "1850.4"),
            ("find_node.count", "9876"),
            ("find_node.success_rate", "0.998700"),
            ("find_node.hops.mean", "3.412000"),
            ("find_node.latency_ms.p50", "812.300000"),
            ("get.count", "0"),
            ("put.count", "12"),
            ("put.success_rate", "1.000000"),
            ("put.hops.mean", ""),
            ("put.latency_ms.p50", "900"),
        ]);
        let sc = crate::scenario::load_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/churn.toml"), &[])
            .expect("valid");
        let threads = Threads::default_for(&sc, 2);
        let run = Run { events: 1_234_567, wall_s: 12.34, threads: &threads, windows: None };
        let text = render("churn", &r, Path::new("results/churn"), &run, false);
        assert!(text.contains("  1234567 events in 12.3 s on 1 thread\n  (default: 1 thread: "), "{text}");
        assert!(text.contains("churn: 2000 nodes, 1874 up at the end, 1850 up on average"), "{text}");
        assert!(text.contains("node lookups     9876  success  99.87%  hops  3.41  p50   812 ms"), "{text}");
        assert!(!text.contains("gets"), "a kind with no operations is left out: {text}");
        assert!(text.contains("hops     -"), "an empty metric prints as -: {text}");
        assert!(text.contains("results in results/churn\nnext: kadsim report results/churn"), "{text}");
        assert!(text.contains("\n  or: kadsim plot results/churn\n"), "{text}");
        assert!(text.lines().filter(|l| !l.starts_with("  (default")).all(|l| l.chars().count() <= 80), "{text}");
    }

    #[test]
    fn a_run_without_operations_says_so() {
        let text = render("idle", &rows(&[("nodes", "10")]), Path::new("r"), &run(), true);
        assert!(text.contains("  5 events in 0.1 s on 2 threads (--threads)\n"), "{text}");
        assert!(text.contains("no operation was measured"), "{text}");
        assert!(text.contains("results in r\n  (it held this same run: replaced by identical files"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }

    /// Issue 21: the adversary's outcomes are in the closing summary when one
    /// is configured, and only then; the churn study's lines likewise.
    #[test]
    fn an_adversary_and_churn_get_their_lines_and_a_plain_run_none() {
        let plain = rows(&[
            ("nodes", "400"),
            ("end.alive", "400"),
            ("get.count", "500"),
            ("get.success_rate", "0.990000"),
            ("churn.leaves", "0"),
            ("stale_contacts_share.mean", "0.000000"),
            ("end.stale_contacts_share", "0.000000"),
            ("adversary.nodes", ""),
            ("get.attacked.count", ""),
            ("get.attacked.success_rate", ""),
        ]);
        let text = render("plain", &plain, Path::new("r"), &run(), false);
        assert!(!text.contains("adversary") && !text.contains("attacked"), "{text}");
        assert!(!text.contains("stale"), "no departures, no staleness line: {text}");
        let attacked = rows(&[
            ("nodes", "1000"),
            ("end.alive", "700"),
            ("find_node.count", "900"),
            ("find_node.success_rate", "0.950000"),
            ("find_node.closest_found_ms.p50", "266.4"),
            ("find_node.closest_found_ms.p90", "1234.6"),
            ("get.count", "5000"),
            ("get.success_rate", "0.900000"),
            ("put.count", "0"),
            ("churn.leaves", "812"),
            ("get.stale_peers.share", ""),
            ("stale_contacts_share.mean", "0.123456"),
            ("end.stale_contacts_share", "0.102000"),
            ("find_node.attacked.count", "90"),
            ("find_node.attacked.success_rate", "0.500000"),
            ("find_node.not_attacked.success_rate", "1.000000"),
            ("find_node.eclipsed_fraction", "0.023000"),
            ("get.attacked.count", "812"),
            ("get.attacked.success_rate", "0.170000"),
            ("get.not_attacked.success_rate", "0.991000"),
            ("get.eclipsed_fraction", "0.011000"),
            ("get.wrong_value_fraction", "0.012000"),
            ("adversary.nodes", "20"),
            ("adversary.rt_share", "0.031000"),
        ]);
        let text = render("eclipse", &attacked, Path::new("results/eclipse"), &run(), false);
        for want in [
            "  node lookups reached the closest node: p50 266 ms, p90 1235 ms
",
            "  stale contacts: 12.35% of a routing table on average, 10.20% at the end
",
            "adversary: 20 nodes, 3.10% of the honest routing-table contacts
",
            "  node lookups attacked      90 (10.0%)  success  50.00%  others 100.00%
",
            "  gets         attacked     812 (16.2%)  success  17.00%  others  99.10%
",
            "  eclipsed     node lookups 2.30%, gets 1.10%
",
            "  wrong values 1.20% of gets
",
        ] {
            assert!(text.contains(want), "{want:?} in\n{text}");
        }
        assert!(!text.contains("stale peers"), "no peers recorded: {text}");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }

    #[test]
    fn the_windows_line_follows_the_event_count() {
        let run = Run { windows: Some("2 windows, 2.5 events each"), ..run() };
        let text = render("idle", &rows(&[("nodes", "10")]), Path::new("r"), &run, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "  5 events in 0.1 s on 2 threads (--threads)");
        assert_eq!(lines[2], "  2 windows, 2.5 events each");
    }
}

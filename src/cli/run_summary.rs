//! The few lines `kadsim run` prints when it ends: the network's size, each
//! operation kind's count, success rate, mean hops and median latency, where
//! the results are and what to run next. Read from the rows of `summary.csv`,
//! so the lines say exactly what the files say.

use std::fmt::Write as _;
use std::path::Path;

/// The value of `metric` among `rows`, if present and not empty.
fn value<'a>(rows: &'a [(String, String)], metric: &str) -> Option<&'a str> {
    rows.iter().find(|(m, _)| m == metric).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn number(rows: &[(String, String)], metric: &str) -> Option<f64> {
    value(rows, metric).and_then(|v| v.parse().ok())
}

/// The end-of-run summary, several lines, each under 80 columns but for the
/// ones that name the results directory.
///
/// `replaced_same`: the directory held the same run, replaced in place.
pub fn render(
    name: &str,
    rows: &[(String, String)],
    dir: &Path,
    events: u64,
    wall_s: f64,
    replaced_same: bool,
) -> String {
    let mut out = String::new();
    let nodes = value(rows, "nodes").unwrap_or("?");
    let alive = value(rows, "end.alive").unwrap_or("?");
    let alive_mean = number(rows, "alive.mean").map_or(String::new(), |a| format!(", {a:.0} up on average"));
    let _ = writeln!(out, "{name}: {nodes} nodes, {alive} up at the end{alive_mean}");
    let _ = writeln!(out, "  {events} events in {wall_s:.1} s");
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
    let d = dir.display();
    let _ = writeln!(out, "results in {d}");
    if replaced_same {
        let _ = writeln!(out, "  (it held this same run: replaced by identical files, its charts kept)");
    }
    let _ = writeln!(out, "next: kadsim report {d}");
    let _ = writeln!(out, "  or: kadsim plot {d}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
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
        let text = render("churn", &r, Path::new("results/churn"), 1_234_567, 12.34, false);
        assert!(text.contains("churn: 2000 nodes, 1874 up at the end, 1850 up on average"), "{text}");
        assert!(text.contains("node lookups     9876  success  99.87%  hops  3.41  p50   812 ms"), "{text}");
        assert!(!text.contains("gets"), "a kind with no operations is left out: {text}");
        assert!(text.contains("hops     -"), "an empty metric prints as -: {text}");
        assert!(text.contains("results in results/churn\nnext: kadsim report results/churn"), "{text}");
        assert!(text.contains("\n  or: kadsim plot results/churn\n"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }

    #[test]
    fn a_run_without_operations_says_so() {
        let text = render("idle", &rows(&[("nodes", "10")]), Path::new("r"), 5, 0.1, true);
        assert!(text.contains("no operation was measured"), "{text}");
        assert!(text.contains("results in r\n  (it held this same run: replaced by identical files"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }
}

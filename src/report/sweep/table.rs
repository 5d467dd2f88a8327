//! A sweep's results as a table, one line per grid point: the parameter
//! values, the replicas, and each metric's mean with its 95% interval. The
//! sweep ends with it on the terminal (as a run ends with its summary);
//! `report.md` holds it as Markdown.

use super::aggregate::Cell;
use super::grid::Grid;
use super::metrics::Naming;

/// The metrics of the closing table: node lookup success, mean hops and
/// median latency, each with the column head it gets.
pub const CLOSING: [(&str, &str); 3] = [
    ("find_node.success_rate", "lookup success"),
    ("find_node.hops.mean", "hops"),
    ("find_node.latency_ms.p50", "latency p50 (ms)"),
];

/// A value in as many decimals as its metric needs.
fn fmt(metric: &str, v: f64) -> String {
    let decimals = if super::metrics::is_proportion(metric) {
        3
    } else if metric.contains("latency_ms")
        || metric.starts_with("bytes.")
        || (metric.starts_with("msgs.") && !metric.contains("_per_"))
    {
        0
    } else {
        2
    };
    format!("{v:.decimals$}")
}

/// A cell as `mean [low, high]`, or `mean` alone without an interval, or `–`.
fn show(metric: &str, c: Option<&Cell>) -> String {
    match c {
        None => "–".into(),
        Some(c) if c.ci.0.is_finite() && c.ci.1.is_finite() => {
            format!("{} [{}, {}]", fmt(metric, c.mean), fmt(metric, c.ci.0), fmt(metric, c.ci.1))
        }
        Some(c) => fmt(metric, c.mean),
    }
}

/// The table of `metrics` (name, column head) per grid point of `grid`, as
/// aligned text or Markdown.
pub fn render(grid: &Grid, cells: &[Cell], metrics: &[(&str, String)], naming: &Naming, markdown: bool) -> String {
    let mut head: Vec<String> = grid.params.iter().map(|p| naming.label(&p.name, &p.path).to_string()).collect();
    head.push("n".into());
    head.extend(metrics.iter().map(|(_, h)| h.clone()));
    let mut body: Vec<Vec<String>> = Vec::new();
    for point in grid.points() {
        let at: Vec<&Cell> = cells.iter().filter(|c| c.values == point).collect();
        let n = at.iter().map(|c| c.n).max().unwrap_or(0);
        let mut row = point.clone();
        row.push(n.to_string());
        row.extend(metrics.iter().map(|(m, _)| show(m, at.iter().find(|c| c.metric == *m).copied())));
        body.push(row);
    }
    let mut out = String::new();
    if markdown {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        out.push_str(&line(&head));
        let rule: Vec<String> =
            (0..head.len()).map(|i| if i < grid.params.len() { "---".into() } else { "---:".into() }).collect();
        out.push_str(&line(&rule));
        for r in &body {
            out.push_str(&line(r));
        }
        return out;
    }
    let width: Vec<usize> = (0..head.len())
        .map(|i| body.iter().map(|r| r[i].chars().count()).chain([head[i].chars().count()]).max().unwrap_or(0))
        .collect();
    let np = grid.params.len();
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = width[i].saturating_sub(c.chars().count());
                if i < np { format!("{c}{}", " ".repeat(pad)) } else { format!("{}{c}", " ".repeat(pad)) }
            })
            .collect();
        format!("  {}\n", parts.join("  ").trim_end())
    };
    out.push_str(&line(&head));
    for r in &body {
        out.push_str(&line(r));
    }
    out
}

/// The closing table of a sweep on the terminal: the [`CLOSING`] metrics,
/// then each metric the study charts (`[study] metrics`, `--metrics`) that
/// they leave out, headed by its axis label, so that the table shows what
/// the study is about.
pub fn closing(grid: &Grid, cells: &[Cell], naming: &Naming) -> String {
    let mut metrics: Vec<(&str, String)> = CLOSING.iter().map(|(m, h)| (*m, h.to_string())).collect();
    for m in naming.metrics.iter().flatten() {
        if !metrics.iter().any(|(x, _)| x == m) {
            metrics.push((m.as_str(), super::metrics::axis_label(m).to_string()));
        }
    }
    render(grid, cells, &metrics, naming, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sweep::aggregate::cell;

    #[test]
    fn one_line_per_point_with_intervals() {
        let grid = Grid {
            file: "x.toml".into(),
            set: Vec::new(),
            params: vec!["k=8,20".parse().unwrap()],
            replicas: 2,
            base_seed: 1,
            scenario_sha1: String::new(),
        };
        let v = |k: &str| vec![k.to_string()];
        let cells = vec![
            cell(&v("8"), "find_node.success_rate", &[0.9, 0.95]),
            cell(&v("8"), "find_node.hops.mean", &[2.0, 2.2]),
            cell(&v("20"), "find_node.success_rate", &[0.99, 1.0]),
        ];
        let t = closing(&grid, &cells, &Naming::default());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3, "{t}");
        assert!(lines[0].starts_with("  k   n  ") && lines[0].ends_with("latency p50 (ms)"), "{t}");
        assert!(lines[1].starts_with("  8   2  0.925 [0.900, 0.950]") && lines[1].contains("2.10 ["), "{t}");
        assert!(lines[2].contains("0.995 [0.990, 1.000]") && lines[2].ends_with('–'), "{t}");
        // A study's charted metrics join the table after the closing three,
        // once each.
        let cells = vec![cell(&v("8"), "find_node.timeouts.mean", &[4.0, 6.0])];
        let naming = Naming {
            metrics: Some(vec!["find_node.timeouts.mean".into(), "find_node.hops.mean".into()]),
            ..Naming::default()
        };
        let t = closing(&grid, &cells, &naming);
        let head = t.lines().next().unwrap_or_default();
        assert!(head.ends_with(crate::report::sweep::metrics::axis_label("find_node.timeouts.mean")), "{t}");
        assert_eq!(head.matches("hops").count(), 1, "{t}");
        assert!(t.lines().nth(1).is_some_and(|l| l.ends_with("5.00 [-7.71, 17.71]")), "{t}");
    }
}

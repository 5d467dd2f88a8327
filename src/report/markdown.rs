//! `kadsim report`: a Markdown report of one run, `report.md` in its
//! directory: what was run, the summary table by operation kind, traffic and
//! churn, the charts (drawn afresh), and the scenario as run.

use super::chart::{ChartError, SaveError, Style};
use super::format::{num, table};
use super::plot;
use super::results::{Results, kind_label};
use crate::files::owned::Out;
use crate::metrics::writer::AtomicFile;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// The charts of the report, with their captions.
const CHARTS: [(&str, &str); 7] = [
    ("hops_hist", "Hop count (discovery depth) by operation kind"),
    ("hops_cdf", "Hop count CDF"),
    ("latency_cdf", "Operation latency CDF (log axis)"),
    ("success_alive", "Success rate per interval of each operation kind, and nodes up"),
    ("traffic", "Messages sent per node per second: lookup and maintenance traffic (log axis)"),
    ("bandwidth", "Bytes sent per node per second: lookup and maintenance traffic (log axis)"),
    ("buckets", "Routing-table fill by bucket"),
];

/// The report's text.
pub fn render(r: &Results) -> String {
    let m = &r.manifest;
    let sc = &m.scenario;
    let mut out = String::new();
    let _ = writeln!(out, "# kadsim report: {}\n", r.name());
    let _ = writeln!(
        out,
        "{} nodes, {} s simulated of which {} s warm-up (excluded from the metrics), seed {}. \
         {} events; trace hash `{}`. kadsim {}, {:.1} s wall time.\n",
        sc.nodes,
        num(r.metric("duration_s")),
        num(r.metric("warmup_s")),
        m.seed,
        m.events,
        m.trace_hash.0,
        m.kadsim_version,
        m.wall_time_s.0,
    );
    let _ = writeln!(
        out,
        "Protocol: k = {}, α = {}, b = {}; bootstrap `{}`; churn `{}`.\n",
        sc.protocol.k,
        sc.protocol.alpha,
        sc.protocol.b,
        word(&sc.bootstrap.mode),
        word(&sc.churn.model),
    );
    out.push_str("## Operations\n\n");
    out.push_str(
        "Hops are discovery depths (see \"Metric definitions\" in kadsim's README); success and found fraction are judged against the \
         simulator's global view of the nodes up.\n\n",
    );
    let head = [
        "kind",
        "count",
        "success rate",
        "hops mean",
        "hops p50",
        "hops p90",
        "latency mean (ms)",
        "latency p99 (ms)",
        "found fraction",
    ];
    let body: Vec<[String; 9]> = r
        .kinds()
        .iter()
        .map(|k| {
            let g = |f: &str| num(r.metric(&format!("{k}.{f}")));
            [
                kind_label(k).to_string(),
                g("count"),
                g("success_rate"),
                g("hops.mean"),
                g("hops.p50"),
                g("hops.p90"),
                g("latency_ms.mean"),
                g("latency_ms.p99"),
                g("found_fraction.mean"),
            ]
        })
        .collect();
    out.push_str(&table(&head, &body, true));
    if let Some(rep) = r.metric("put.replicas.mean") {
        let _ = writeln!(out, "\nPuts stored {} replicas on average.", num(Some(rep)));
    }
    out.push_str("\n## Traffic and churn\n\n");
    let rows: Vec<[String; 2]> = [
        ("messages per node up per second", "msgs.per_live_node_per_s"),
        ("bytes per node up per second", "bytes.per_live_node_per_s"),
        ("messages sent", "msgs.sent"),
        ("messages lost", "msgs.lost"),
        ("messages cut by partitions", "msgs.cut"),
        ("messages dropped by the NATs of unreachable nodes", "msgs.to_unreachable"),
        ("joins", "churn.joins"),
        ("leaves", "churn.leaves"),
        ("nodes up at the end", "end.alive"),
        ("mean routing-table size at the end", "end.rt_size.mean"),
        ("pairs stored at the end", "end.stored_pairs"),
    ]
    .iter()
    .filter_map(|(label, key)| r.metric(key).map(|v| [label.to_string(), num(Some(v))]))
    .collect();
    out.push_str(&table(&["quantity", "value"], &rows, true));
    out.push_str("\n## Charts\n\n");
    for (stem, caption) in CHARTS {
        // The image shown: the PNG, else the SVG; the other formats linked.
        let present: Vec<&str> =
            ["png", "svg", "pdf"].into_iter().filter(|ext| r.dir.join(format!("{stem}.{ext}")).exists()).collect();
        let Some(shown) = present.iter().find(|e| **e != "pdf") else { continue };
        let links: Vec<String> =
            present.iter().filter(|e| *e != shown).map(|e| format!("[{}]({stem}.{e})", e.to_uppercase())).collect();
        let links = if links.is_empty() { String::new() } else { format!(" ({})", links.join(", ")) };
        let _ = writeln!(out, "![{caption}]({stem}.{shown})\n\n*{caption}*{links}\n");
    }
    out.push_str("## Scenario as run\n\n```toml\n");
    // TOML has no null: fields left unset (JSON null) are dropped, as in the file.
    let scenario_toml = serde_json::from_value::<toml::Value>(without_nulls(r.scenario_json.clone()))
        .ok()
        .and_then(|v| toml::to_string(&v).ok());
    let text = scenario_toml.unwrap_or_else(|| r.scenario_json.to_string());
    out.push_str(&text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("```\n");
    out
}

/// How a scenario's setting (a unit enum) is written in the file.
fn word<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".into(),
    }
}

/// `v` with every null object member and array element removed.
fn without_nulls(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().filter(|v| !v.is_null()).map(without_nulls).collect()),
        other => other,
    }
}

/// Draws the charts afresh into `out` (the run's directory; an older chart
/// may be of another run written there), then writes `report.md` there; both
/// recorded as kadsim's, neither written over a file of the user's.
pub fn write_report(r: &Results, out: &Out, style: &Style) -> Result<PathBuf, SaveError> {
    let charts = plot::run_charts(r);
    let mut names: Vec<String> = charts
        .iter()
        .flat_map(|(stem, _)| style.formats.iter().map(move |f| format!("{stem}.{}", f.extension())))
        .collect();
    names.push("report.md".into());
    // Every file claimed before the first is written.
    let path = out.claim_all(names.iter().map(String::as_str))?.pop().unwrap_or_default();
    super::chart::save_all(&charts, out, style)?;
    let fail = |e: std::io::Error| ChartError { path: path.clone(), msg: e.to_string() };
    let mut f = AtomicFile::create(&path).map_err(fail)?;
    f.write_all(render(r).as_bytes()).map_err(fail)?;
    f.finish().map_err(fail)?;
    Ok(path)
}

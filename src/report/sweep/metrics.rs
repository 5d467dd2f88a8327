//! What a sweep records and draws: the headline metrics copied from each
//! run's `summary.csv` into `runs.csv`, their names on charts, the short
//! default set that is drawn, and the naming options of the charts
//! (`--metrics`, `--label FIELD=Text`, `--title`), which `sweep.json`
//! keeps so that a redrawn sweep is named as it was.

use super::grid::Grid;
use crate::files::schema::{self, Ty};
use serde::{Deserialize, Serialize};

/// Headline metrics recorded per run (names of `summary.csv`), each with the
/// label of its chart against each parameter.
pub const METRICS: [(&str, &str); 27] = [
    ("find_node.success_rate", "node lookup success rate"),
    ("find_node.hops.mean", "mean hops of node lookups"),
    ("find_node.hops.p90", "90th percentile of node lookup hops"),
    ("find_node.latency_ms.mean", "mean node lookup latency (ms)"),
    ("find_node.latency_ms.p90", "90th percentile of node lookup latency (ms)"),
    ("find_node.found_fraction.mean", "node lookups: fraction of the true k closest found"),
    ("get.success_rate", "get success rate"),
    ("get.latency_ms.mean", "mean get latency (ms)"),
    ("put.replicas.mean", "replicas stored per put"),
    ("msgs.per_live_node_per_s", "messages per node per second"),
    ("bytes.per_live_node_per_s", "bytes per node per second"),
    ("end.rt_size.mean", "routing-table size at the end (contacts)"),
    // The adversary's (empty without one), last so that the older columns of runs.csv keep their places.
    ("find_node.attacked.success_rate", "node lookup success, attacked targets"),
    ("get.attacked.success_rate", "get success rate, attacked keys"),
    ("find_node.eclipsed_fraction", "node lookups eclipsed"),
    ("get.eclipsed_fraction", "gets eclipsed"),
    ("get.wrong_value_fraction", "gets with a wrong value"),
    // Later still: maintenance traffic (BEP 5's good/questionable rule moves
    // it) and peers per get_peers (empty unless records are peers).
    ("msgs.maintenance_per_live_node_per_s", "maintenance messages per node per second"),
    ("get.peers.mean", "peers per get_peers"),
    // The median lookup latency (issue 21), for the default charts and the closing table.
    ("find_node.latency_ms.p50", "median node lookup latency (ms)"),
    // The churn study's (issue 21): when the closest node answered, table
    // staleness, stale peers and the success of gets the attackers missed.
    ("find_node.closest_found_ms.p50", "median time until the closest node answered (ms)"),
    ("find_node.closest_found_ms.p90", "90th percentile of the time until the closest node answered (ms)"),
    ("stale_contacts_share.mean", "share of routing-table contacts that are down"),
    ("get.stale_peers.share", "share of returned peers that are down"),
    ("get.not_attacked.success_rate", "get success rate, keys not attacked"),
    // Reachability (issue 24): timeouts per node lookup (`ops.csv` timeouts,
    // averaged), and the datagrams the NATs of unreachable nodes dropped.
    ("find_node.timeouts.mean", "RPC timeouts per node lookup"),
    ("msgs.to_unreachable", "datagrams dropped by the NATs of unreachable nodes"),
];

/// Metrics whose `runs.csv` column a later kadsim added: a `runs.csv` of an
/// older sweep is read without them (and says so).
pub const LATER: [&str; 8] = [
    "find_node.latency_ms.p50",
    "find_node.closest_found_ms.p50",
    "find_node.closest_found_ms.p90",
    "stale_contacts_share.mean",
    "get.stale_peers.share",
    "get.not_attacked.success_rate",
    "find_node.timeouts.mean",
    "msgs.to_unreachable",
];

/// The charts a sweep draws unless `--metrics` says otherwise: node lookup
/// success, mean hops, median and 90th-percentile latency, the fraction of
/// the true k closest found, messages per node per second, and lookup and get
/// success on attacked targets (drawn only when an adversary gives them values).
pub const DEFAULT_METRICS: [&str; 8] = [
    "find_node.success_rate",
    "find_node.hops.mean",
    "find_node.latency_ms.p50",
    "find_node.latency_ms.p90",
    "find_node.found_fraction.mean",
    "msgs.per_live_node_per_s",
    "find_node.attacked.success_rate",
    "get.attacked.success_rate",
];

/// The index of `metric` in [`METRICS`].
pub fn index(metric: &str) -> Option<usize> {
    METRICS.iter().position(|(m, _)| *m == metric)
}

/// The long name of `metric` (a chart's default title).
pub fn title(metric: &str) -> &'static str {
    METRICS.iter().find(|(m, _)| *m == metric).map_or("value", |(_, t)| t)
}

/// Whether `metric` is a proportion (from 0 to 1: rates and shares), whose
/// interval must stay within [0, 1].
pub fn is_proportion(metric: &str) -> bool {
    schema::metric_column(metric).is_some_and(|c| c.ty == Ty::Fraction)
}

/// The y-axis label of a sweep chart of `metric`: a few words and the unit
/// (the chart's title keeps the long name).
pub fn axis_label(metric: &str) -> &'static str {
    match metric {
        "find_node.success_rate" => "lookup success rate",
        "find_node.hops.mean" => "mean hops",
        "find_node.hops.p90" => "hops, 90th pct.",
        "find_node.latency_ms.mean" => "mean latency (ms)",
        "find_node.latency_ms.p50" => "median latency (ms)",
        "find_node.latency_ms.p90" => "latency, 90th pct. (ms)",
        "find_node.found_fraction.mean" => "k closest found",
        "get.success_rate" => "get success rate",
        "get.latency_ms.mean" => "mean get latency (ms)",
        "put.replicas.mean" => "replicas per put",
        "msgs.per_live_node_per_s" => "messages / node / s",
        "bytes.per_live_node_per_s" => "bytes / node / s",
        "end.rt_size.mean" => "contacts per table",
        "find_node.attacked.success_rate" => "success, attacked targets",
        "get.attacked.success_rate" => "get success, attacked keys",
        "find_node.eclipsed_fraction" => "lookups eclipsed",
        "get.eclipsed_fraction" => "gets eclipsed",
        "get.wrong_value_fraction" => "gets with a wrong value",
        "msgs.maintenance_per_live_node_per_s" => "maintenance msgs / node / s",
        "get.peers.mean" => "peers per get",
        "find_node.closest_found_ms.p50" => "closest found, median (ms)",
        "find_node.closest_found_ms.p90" => "closest found, 90th pct. (ms)",
        "stale_contacts_share.mean" => "stale contacts",
        "get.stale_peers.share" => "stale peers",
        "get.not_attacked.success_rate" => "get success, keys not attacked",
        "find_node.timeouts.mean" => "timeouts per lookup",
        "msgs.to_unreachable" => "datagrams dropped by NATs",
        _ => "value",
    }
}

/// How a sweep's charts are chosen and named: `--metrics`, `--label
/// FIELD=Text` (repeatable) and `--title`, or the `[study]`'s `metrics`,
/// `[study.labels]` and `title`. Kept in `sweep.json`, so that `kadsim plot`
/// redraws a sweep named as it was drawn; options given then override it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Naming {
    /// The metrics charted (names of [`METRICS`]); `None`: [`DEFAULT_METRICS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<String>>,
    /// (field, text): a parameter (by its name or path) or a metric, named
    /// `text` on the charts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<(String, String)>,
    /// The charts' title, with `{metric}` and `{param}` standing for their
    /// names; `None`: `{metric} vs {param}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Longest label or title, in bytes.
const MAX_TEXT: usize = 200;

impl Naming {
    /// The naming of the command-line options: `--metrics LIST` (names
    /// separated by commas, `default` or `all`), `--label FIELD=Text`
    /// (repeatable), `--title TEXT`.
    pub fn from_options(metrics: Option<&str>, labels: &[String], title: Option<&str>) -> Result<Naming, String> {
        let metrics = metrics.map(|m| parse_metrics(m, "--metrics")).transpose()?;
        let labels = labels
            .iter()
            .map(|l| {
                let (field, text) = l
                    .split_once('=')
                    .filter(|(f, t)| !f.trim().is_empty() && !t.trim().is_empty())
                    .ok_or_else(|| format!("--label '{l}': expected FIELD=Text, e.g. protocol.k=\"bucket size k\""))?;
                check_text(text.trim(), &format!("--label '{l}'"))?;
                Ok((field.trim().to_string(), text.trim().to_string()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        if let Some(t) = title {
            check_text(t, "--title")?;
        }
        Ok(Naming { metrics, labels, title: title.map(String::from) })
    }

    /// This naming with `over`'s choices in place of its own: `over`'s
    /// metrics and title when given, its labels added after (and so over)
    /// these.
    pub fn overridden_by(&self, over: &Naming) -> Naming {
        let mut labels = self.labels.clone();
        labels.extend(over.labels.iter().cloned());
        Naming {
            metrics: over.metrics.clone().or_else(|| self.metrics.clone()),
            labels,
            title: over.title.clone().or_else(|| self.title.clone()),
        }
    }

    /// Checks every label names a parameter of `grid` or a metric.
    pub fn check(&self, grid: &Grid) -> Result<(), String> {
        for (field, text) in &self.labels {
            let param = grid.params.iter().any(|p| p.name == *field || p.path == *field);
            if !param && index(field).is_none() {
                let names: Vec<&str> = grid.params.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "--label '{field}={text}': {field} is neither a swept parameter ({}) nor a metric of runs.csv",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ));
            }
        }
        Ok(())
    }

    /// The metrics charted, in order.
    pub fn metrics(&self) -> Vec<&'static str> {
        match &self.metrics {
            None => DEFAULT_METRICS.to_vec(),
            Some(list) => list.iter().filter_map(|m| index(m).map(|i| METRICS[i].0)).collect(),
        }
    }

    /// The name of a parameter (by its name or path) or metric on the charts.
    pub fn label<'a>(&'a self, field: &'a str, path: &str) -> &'a str {
        self.labels.iter().rev().find(|(f, _)| f == field || f == path).map_or(field, |(_, t)| t.as_str())
    }

    /// The short name of `metric` on a y axis.
    pub fn axis(&self, metric: &str) -> String {
        self.labels.iter().rev().find(|(f, _)| f == metric).map_or(axis_label(metric), |(_, t)| t.as_str()).to_string()
    }

    /// The title of the chart of `metric` against the parameter named `param`.
    pub fn title(&self, metric: &str, param: &str) -> String {
        let long = self.labels.iter().rev().find(|(f, _)| f == metric).map_or(title(metric), |(_, t)| t.as_str());
        match &self.title {
            None => format!("{long} vs {param}"),
            Some(t) => t.replace("{metric}", long).replace("{param}", param),
        }
    }
}

fn check_text(text: &str, what: &str) -> Result<(), String> {
    if text.len() > MAX_TEXT || text.chars().any(char::is_control) {
        return Err(format!("{what}: expected at most {MAX_TEXT} bytes of text on one line"));
    }
    Ok(())
}

/// The metrics of a list: names separated by commas, `default` or `all`;
/// `what` names the list in errors.
pub fn parse_metrics(list: &str, what: &str) -> Result<Vec<String>, String> {
    let names: Vec<&str> = list.split(',').map(str::trim).collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(format!("{what} '{list}': expected metric names separated by commas, or default, or all"));
    }
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let add: Vec<&str> = match n {
            "all" => METRICS.iter().map(|(m, _)| *m).collect(),
            "default" => DEFAULT_METRICS.to_vec(),
            m if index(m).is_some() => vec![m],
            m => {
                let known: Vec<&str> = METRICS.iter().map(|(m, _)| *m).collect();
                return Err(format!("{what}: unknown metric {m:?} (default, all, or any of {})", known.join(", ")));
            }
        };
        for m in add {
            if !out.iter().any(|o| o == m) {
                out.push(m.to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lists() {
        let n = Naming::from_options(
            Some("find_node.success_rate,default"),
            &["k=bucket size k".into(), "find_node.success_rate=Lookup success".into()],
            Some("{metric} against {param}"),
        )
        .unwrap();
        assert_eq!(n.metrics().len(), DEFAULT_METRICS.len());
        assert_eq!(n.metrics()[0], "find_node.success_rate");
        assert_eq!(n.label("k", "protocol.k"), "bucket size k");
        assert_eq!(n.label("protocol.k", "protocol.k"), "protocol.k");
        assert_eq!(n.axis("find_node.success_rate"), "Lookup success");
        assert_eq!(n.title("find_node.success_rate", "bucket size k"), "Lookup success against bucket size k");
        assert!(Naming::from_options(Some("nope"), &[], None).unwrap_err().contains("unknown metric \"nope\""));
        assert!(Naming::from_options(None, &["k".into()], None).unwrap_err().contains("FIELD=Text"));
        assert_eq!(parse_metrics("all", "x").unwrap().len(), METRICS.len());
        assert!(is_proportion("find_node.success_rate") && !is_proportion("find_node.hops.mean"));
        assert!(is_proportion("find_node.found_fraction.mean"));
    }
}

//! Reading a run's `summary.csv` strictly: `metric,value` rows whose metrics
//! are the fixed list the runner writes ([`schema::summary_metrics`]), each
//! once, each value empty (not applicable) or of the metric's type. A metric
//! the list does not know, a value that is not a finite number, a count that
//! is not an integer, or a missing row is an error naming the line and the
//! metric. Metrics added to kadsim after the run are read as absent, with a
//! note. Per-class rows (`class.NAME.STAT`, [`schema::class_metrics`]) come
//! in whole blocks: a class with a row has every one of its rows.

use crate::files::ReadError;
use crate::files::schema::{self, Column};
use crate::files::table::{Table, short_list};
use std::path::Path;

/// The rows of `summary.csv` in file order, and notes on lenient readings.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// `(metric, value)`, in file order.
    pub rows: Vec<(String, String)>,
    /// Metrics added after the run, absent from it: one line.
    pub notes: Vec<String>,
}

/// Reads `path` as a run's `summary.csv`.
pub fn read(path: &Path) -> Result<Summary, ReadError> {
    let metrics: Vec<Column> = schema::summary_metrics();
    let mut t = Table::open(path, schema::summary())?;
    // The line of each metric, once read.
    let mut seen: Vec<Option<u64>> = vec![None; metrics.len()];
    let mut rows = Vec::with_capacity(metrics.len());
    // Per-class rows (`class.NAME.STAT`): each class's statistics seen, by line.
    let stats = schema::class_metrics();
    let mut classes: Vec<(String, Vec<Option<u64>>)> = Vec::new();
    while t.next_row()? {
        let (name, value) = (t.get(0).unwrap_or_default(), t.get(1).unwrap_or_default());
        if let Some((class, col)) = schema::class_metric(name) {
            let at = match classes.iter().position(|(c, _)| c == class) {
                Some(at) => at,
                None => {
                    classes.push((class.to_string(), vec![None; stats.len()]));
                    classes.len() - 1
                }
            };
            let j = stats.iter().position(|s| s.name == col.name).unwrap_or(0);
            if let Some(first) = classes[at].1[j] {
                return Err(t.error(format!("metric {name} appears twice (first on line {first})")));
            }
            classes[at].1[j] = Some(t.line());
            col.check(value).map_err(|why| t.error(format!("metric {name}: {why}")))?;
            rows.push((name.to_string(), value.to_string()));
            continue;
        }
        let Some(i) = metrics.iter().position(|m| m.name == name) else {
            return Err(t.error(format!("unknown metric {:?}", crate::scenario::clip::clip(name))));
        };
        if let Some(first) = seen[i] {
            return Err(t.error(format!("metric {name} appears twice (first on line {first})")));
        }
        seen[i] = Some(t.line());
        metrics[i].check(value).map_err(|why| t.error(format!("metric {name}: {why}")))?;
        rows.push((name.to_string(), value.to_string()));
    }
    let mut later: Vec<&str> = Vec::new();
    for (i, m) in metrics.iter().enumerate().filter(|(i, _)| seen[*i].is_none()) {
        if m.later {
            later.push(&m.name);
            continue;
        }
        // Where the runner would have written it: after the metric before it.
        let before = (0..i).rev().find_map(|j| seen[j].map(|line| (line, metrics[j].name.as_ref())));
        let (line, after) = match before {
            Some((line, name)) => (line + 1, format!("after {name}")),
            None => (2, "first".to_string()),
        };
        return Err(ReadError::at(
            path,
            Some(line),
            format!("no row for metric {} (kadsim writes it {after})", m.name),
        ));
    }
    for (class, seen) in &classes {
        if let Some(j) = seen.iter().position(Option::is_none) {
            let line = seen.iter().flatten().max().map_or(2, |l| l + 1);
            return Err(ReadError::at(
                path,
                Some(line),
                format!(
                    "no row for metric class.{class}.{} (every class has all {} of its rows)",
                    stats[j].name,
                    stats.len()
                ),
            ));
        }
    }
    let mut notes = t.take_notes();
    if !later.is_empty() {
        notes.push(format!(
            "{}: no metric{} {} (added to kadsim after this run): read as having no value",
            path.display(),
            if later.len() == 1 { "" } else { "s" },
            short_list(&later)
        ));
    }
    Ok(Summary { rows, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, text: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("kadsim-summary-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A complete summary: every metric, counts 0, the rest empty.
    fn complete() -> Vec<(String, String)> {
        schema::summary_metrics()
            .into_iter()
            .map(|m| {
                let v = if m.empty { "" } else { "0" };
                (m.name.into_owned(), v.to_string())
            })
            .collect()
    }

    fn text(rows: &[(String, String)]) -> String {
        let mut s = "metric,value\n".to_string();
        for (m, v) in rows {
            s.push_str(&format!("{m},{v}\n"));
        }
        s
    }

    fn error(name: &str, rows: &[(String, String)]) -> String {
        let e = read(&scratch(name, &text(rows))).unwrap_err().to_string();
        e.rsplit_once(name).unwrap().1.to_string()
    }

    #[test]
    fn a_complete_summary_reads_and_every_fault_is_named() {
        let ok = complete();
        let s = read(&scratch("ok.csv", &text(&ok))).unwrap();
        assert_eq!(s.rows, ok);
        assert!(s.notes.is_empty());
        let at = |name: &str| ok.iter().position(|(m, _)| m == name).unwrap();
        let with = |name: &str, v: &str| {
            let mut r = ok.clone();
            r[at(name)].1 = v.to_string();
            r
        };
        let line = |name: &str| at(name) + 2;
        assert_eq!(
            error("text.csv", &with("find_node.hops.mean", "abc")),
            format!(
                ":{}: metric find_node.hops.mean: expected a finite number or empty, got \"abc\"",
                line("find_node.hops.mean")
            )
        );
        for v in ["NaN", "1e999", "inf"] {
            assert!(error("nan.csv", &with("msgs.per_live_node_per_s", v)).ends_with(&format!("got \"{v}\"")));
        }
        assert_eq!(
            error("lots.csv", &with("find_node.count", "lots")),
            format!(":{}: metric find_node.count: expected an unsigned integer, got \"lots\"", line("find_node.count"))
        );
        assert!(error("rate.csv", &with("get.success_rate", "1.5")).contains("expected a number from 0 to 1 or empty"));
        assert!(
            error("empty.csv", &with("events", ""))
                .contains("metric events: expected an unsigned integer, got an empty value")
        );
        let mut unknown = ok.clone();
        unknown.push(("find_node.magic".into(), "1".into()));
        assert_eq!(error("unknown.csv", &unknown), format!(":{}: unknown metric \"find_node.magic\"", ok.len() + 2));
        let mut twice = ok.clone();
        twice.push(("events".into(), "1".into()));
        assert!(error("twice.csv", &twice).ends_with("metric events appears twice (first on line 5)"));
        // A missing row: the line where the runner writes it.
        let mut missing = ok.clone();
        missing.remove(at("find_node.hops.mean"));
        assert_eq!(
            error("missing.csv", &missing),
            format!(
                ":{}: no row for metric find_node.hops.mean (kadsim writes it after find_node.success_rate)",
                line("find_node.hops.mean")
            )
        );
    }

    #[test]
    fn an_older_summary_without_later_metrics_reads_with_a_note() {
        let old: Vec<(String, String)> = complete()
            .into_iter()
            .filter(|(m, _)| schema::summary_metrics().iter().any(|c| c.name == *m && !c.later))
            .collect();
        let s = read(&scratch("old.csv", &text(&old))).unwrap();
        assert_eq!(s.rows, old);
        assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
        assert!(
            s.notes[0]
                .contains("old.csv: no metrics nodes.ever_up, nodes.joined_at_warmup, alive.mean, get.peers.mean and "),
            "{:?}",
            s.notes
        );
    }
}

//! The settings in which two sides of a comparison differ: their effective
//! scenarios (every default filled in, as the runs' manifests record them)
//! field by field, the seed and the run's name aside. A comparison of k = 8
//! against k = 20 should say so; a comparison of a churn study against an
//! eclipse attack on half as many nodes should say so louder, and a CI gate
//! across different scenarios is refused unless asked for
//! (`compare --allow-different`).

use super::results::Results;
use serde_json::Value;
use std::collections::BTreeMap;

/// One setting that differs: its field path, the base's value and the
/// candidate's (`unset` where a side has none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Dotted field path, as in a scenario file (`network.latency.median`).
    pub field: String,
    /// The base side's value.
    pub base: String,
    /// The candidate side's value.
    pub cand: String,
}

/// Fields that name or seed a run rather than set it up.
const NOT_SETTINGS: [&str; 2] = ["name", "seed"];

/// The effective scenario of `r` as JSON: the typed scenario written out, so
/// that a run of an older kadsim (whose manifest lacks fields added since)
/// compares with their defaults.
fn effective(r: &Results) -> Value {
    serde_json::to_value(&r.manifest.scenario).unwrap_or_else(|_| r.scenario_json.clone())
}

/// Every leaf of `v` under its dotted path, as text.
fn flatten(path: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    let at = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if path.is_empty() && NOT_SETTINGS.contains(&k.as_str()) {
                    continue;
                }
                flatten(&at(k), x, out);
            }
        }
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&at(&i.to_string()), x, out);
            }
        }
        Value::String(s) => {
            out.insert(path.to_string(), s.clone());
        }
        Value::Null => {}
        other => {
            out.insert(path.to_string(), other.to_string());
        }
    }
}

/// The settings in which `cand`'s scenario differs from `base`'s, in field
/// order.
pub fn differences(base: &Results, cand: &Results) -> Vec<Difference> {
    let (mut b, mut c) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &effective(base), &mut b);
    flatten("", &effective(cand), &mut c);
    let mut fields: Vec<&String> = b.keys().chain(c.keys()).collect();
    fields.sort();
    fields.dedup();
    let unset = || "unset".to_string();
    fields
        .into_iter()
        .filter(|f| b.get(*f) != c.get(*f))
        .map(|f| Difference {
            field: f.clone(),
            base: b.get(f).cloned().unwrap_or_else(unset),
            cand: c.get(f).cloned().unwrap_or_else(unset),
        })
        .collect()
}

/// The differences in one line: the first few, then how many more.
pub fn summary(diffs: &[Difference]) -> String {
    let shown: Vec<String> = diffs.iter().take(3).map(|d| format!("{} {} vs {}", d.field, d.base, d.cand)).collect();
    let more = diffs.len().saturating_sub(shown.len());
    if more > 0 { format!("{}, and {more} more", shown.join(", ")) } else { shown.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_flattened_by_path_and_tables_of_lists_by_index() {
        let v = serde_json::json!({
            "name": "churn", "seed": 3, "nodes": 2000,
            "network": {"latency": {"model": "lognormal", "median": "50ms"}, "partitions": [{"start": "1m"}]},
            "adversary": {"behaviours": ["black_hole"], "fraction": null},
        });
        let mut m = BTreeMap::new();
        flatten("", &v, &mut m);
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "adversary.behaviours",
                "network.latency.median",
                "network.latency.model",
                "network.partitions.0.start",
                "nodes"
            ]
        );
        assert_eq!(m["network.latency.median"], "50ms");
        assert_eq!(m["adversary.behaviours"], "[\"black_hole\"]");
    }

    #[test]
    fn a_summary_names_three_and_counts_the_rest() {
        let d = |f: &str| Difference { field: f.into(), base: "1".into(), cand: "2".into() };
        assert_eq!(summary(&[d("a")]), "a 1 vs 2");
        assert_eq!(summary(&[d("a"), d("b"), d("c"), d("d"), d("e")]), "a 1 vs 2, b 1 vs 2, c 1 vs 2, and 2 more");
    }
}

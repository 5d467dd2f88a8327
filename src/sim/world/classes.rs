//! The per-class rows of `summary.csv` (`[[classes]]`, `docs/classes.md`):
//! for each class, its nodes, how many are up at the end, the share of the
//! routing-table entries that point to its nodes, and the operations its
//! nodes started, with the same definitions as the run-wide rows
//! (`files::schema::class_metrics` lists them).

use super::World;
use crate::metrics::stats::{mean, quantile_sorted};

/// The workload kinds whose operations are counted by class.
const KINDS: [&str; 3] = ["find_node", "get", "put"];

impl World {
    /// The `[[classes]]` name of `node`, or `""` without classes.
    pub(super) fn class_name(&self, node: u32) -> &str {
        self.co.groups.as_ref().map_or("", |g| &g.names[g.of(node)])
    }

    /// `class.NAME.STAT` rows, class by class in the scenario's order; none
    /// without `[[classes]]`. The operations are those after the warm-up
    /// whose origin is of the class; `rt_share` counts the contacts in the
    /// tables of the honest nodes up at the end (empty when they hold none).
    pub fn class_summary(&self) -> Vec<(String, String)> {
        let Some(g) = &self.co.groups else { return Vec::new() };
        let classes = g.names.len();
        let (mut nodes, mut alive, mut held) = (vec![0u64; classes], vec![0u64; classes], vec![0u64; classes]);
        let mut contacts = 0u64;
        self.each_host(|i, h| {
            let c = g.of(i);
            nodes[c] += 1;
            if !h.alive {
                return;
            }
            alive[c] += 1;
            if self.co.is_malicious(i) {
                return;
            }
            for contact in h.node.routing_table().contacts() {
                held[g.of(contact.addr.node())] += 1;
                contacts += 1;
            }
        });
        let fmt = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.6}"));
        let mut rows = Vec::new();
        for (c, name) in g.names.iter().enumerate() {
            let mut put = |stat: &str, v: String| rows.push((format!("class.{name}.{stat}"), v));
            put("nodes", nodes[c].to_string());
            put("end.alive", alive[c].to_string());
            put("rt_share", fmt((contacts > 0).then(|| held[c] as f64 / contacts as f64)));
            for kind in KINDS {
                let ops: Vec<_> =
                    self.recorder().ops.iter().filter(|r| r.kind == kind && g.of(r.origin) == c).collect();
                let n = ops.len();
                put(&format!("{kind}.count"), n.to_string());
                let ok = ops.iter().filter(|r| r.success).count();
                put(&format!("{kind}.success_rate"), fmt((n > 0).then(|| ok as f64 / n as f64)));
                let hops: Vec<f64> = ops.iter().filter_map(|r| r.hops.map(f64::from)).collect();
                put(&format!("{kind}.hops.mean"), fmt(mean(&hops)));
                let mut lat: Vec<f64> = ops.iter().map(|r| r.latency_us as f64 / 1e3).collect();
                lat.sort_by(f64::total_cmp);
                put(&format!("{kind}.latency_ms.mean"), fmt(mean(&lat)));
                for (q, p) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
                    put(&format!("{kind}.latency_ms.{p}"), fmt(quantile_sorted(&lat, q)));
                }
                let timeouts: Vec<f64> = ops.iter().map(|r| f64::from(r.timeouts)).collect();
                put(&format!("{kind}.timeouts.mean"), fmt(mean(&timeouts)));
            }
        }
        rows
    }
}

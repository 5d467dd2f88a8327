//! Collects what a run measures: one record per operation, per-interval
//! counters for the time series, and run totals for the summary.

use crate::metrics::stats::{mean, quantile_sorted};
use crate::metrics::{OpRecord, SampleRow};

/// One sample interval (or the whole run) being counted: the counter columns
/// of its time-series row, filled as events happen, and the samples its
/// statistics columns are computed from when the interval closes.
#[derive(Clone, Debug, Default)]
pub struct Interval {
    /// The row's counters (joins, leaves, messages, bytes, operations).
    pub counts: SampleRow,
    hops: Vec<f64>,
    latency_ms: Vec<f64>,
    /// Per workload kind (node lookups, gets, puts): finished, succeeded, latencies.
    by_kind: [KindInterval; 3],
    /// Workload operations eclipsed, gets that returned a forged value.
    eclipsed: u32,
    wrong_values: u32,
    /// Workload operations whose target region was attacked: finished,
    /// succeeded; then the same of those not attacked.
    attacked: [u32; 4],
}

/// One workload kind's operations finished in an interval.
#[derive(Clone, Debug, Default)]
struct KindInterval {
    done: u32,
    succeeded: u32,
    latency_ms: Vec<f64>,
}

/// What a time-series row says of the nodes up at its end.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tables {
    /// Mean routing-table size.
    pub rt_size_mean: f64,
    /// Pairs stored, over all of them.
    pub stored_pairs: u64,
    /// Mean share of stale contacts (`SampleRow::stale_contacts_share`).
    pub stale_contacts_share: Option<f64>,
}

/// The workload kinds, in the order of `Interval::by_kind`.
const KINDS: [&str; 3] = ["find_node", "get", "put"];

impl KindInterval {
    /// `(done, succeeded, success rate, latency p50, p90, p99)`.
    #[allow(clippy::type_complexity)]
    fn close(mut self) -> (u32, u32, Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
        self.latency_ms.sort_by(f64::total_cmp);
        let q = |p| quantile_sorted(&self.latency_ms, p);
        let rate = (self.done > 0).then(|| f64::from(self.succeeded) / f64::from(self.done));
        (self.done, self.succeeded, rate, q(0.5), q(0.9), q(0.99))
    }
}

/// The run's measurements.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// Finished operations after the warm-up, in completion order.
    pub ops: Vec<OpRecord>,
    /// Time-series rows.
    pub samples: Vec<SampleRow>,
    /// The interval being filled.
    pub cur: Interval,
    /// Totals over the whole run.
    pub total: Interval,
    /// Node-microseconds of uptime over the whole run.
    pub node_us: f64,
    /// The totals and node-microseconds at the end of the warm-up.
    at_warmup: Option<(SampleRow, f64)>,
    /// Whether the scenario has an adversary: its columns and rows are
    /// filled, else left empty.
    pub adversary: bool,
}

impl Recorder {
    /// Records a finished operation. Workload operations (node lookups, gets,
    /// puts) count in the current interval too, like `ops_started`; joins,
    /// refreshes and republishes only go to `ops.csv` when asked for.
    pub fn op(&mut self, rec: OpRecord) {
        let workload = matches!(rec.kind, "find_node" | "get" | "put");
        let counted: &mut [&mut Interval] = if workload { &mut [&mut self.cur, &mut self.total] } else { &mut [] };
        for iv in counted.iter_mut() {
            iv.counts.ops_done += 1;
            iv.counts.ops_succeeded += u32::from(rec.success);
            if rec.kind == "find_node"
                && let Some(h) = rec.hops
            {
                iv.hops.push(f64::from(h));
            }
            iv.latency_ms.push(rec.latency_us as f64 / 1e3);
            iv.eclipsed += u32::from(rec.eclipsed == Some(true));
            iv.wrong_values += u32::from(rec.wrong_value == Some(true));
            if let Some(hit) = rec.attacked {
                let side = if hit { 0 } else { 2 };
                iv.attacked[side] += 1;
                iv.attacked[side + 1] += u32::from(rec.success);
            }
        }
        // Per kind for the time series only: the summary reads `ops` itself.
        if let Some(k) = KINDS.iter().position(|k| *k == rec.kind) {
            let by = &mut self.cur.by_kind[k];
            by.done += 1;
            by.succeeded += u32::from(rec.success);
            by.latency_ms.push(rec.latency_us as f64 / 1e3);
        }
        self.ops.push(rec);
    }

    /// Closes the current interval at `time_s` and starts a new one; the
    /// arguments are the state of the nodes up at its end.
    pub fn sample(&mut self, time_s: f64, warmup: bool, alive: u32, tables: Tables) {
        let iv = std::mem::take(&mut self.cur);
        let mut lat = iv.latency_ms;
        lat.sort_by(f64::total_cmp);
        let [f, g, p] = iv.by_kind;
        let (f, g, p) = (f.close(), g.close(), p.close());
        self.samples.push(SampleRow {
            find_node_done: f.0,
            find_node_succeeded: f.1,
            find_node_success_rate: f.2,
            find_node_latency_p50_ms: f.3,
            find_node_latency_p90_ms: f.4,
            find_node_latency_p99_ms: f.5,
            get_done: g.0,
            get_succeeded: g.1,
            get_success_rate: g.2,
            get_latency_p50_ms: g.3,
            get_latency_p90_ms: g.4,
            get_latency_p99_ms: g.5,
            put_done: p.0,
            put_succeeded: p.1,
            put_success_rate: p.2,
            put_latency_p50_ms: p.3,
            put_latency_p90_ms: p.4,
            put_latency_p99_ms: p.5,
            time_s,
            warmup,
            alive,
            lookup_hops_mean: mean(&iv.hops),
            latency_p50_ms: quantile_sorted(&lat, 0.5),
            latency_p90_ms: quantile_sorted(&lat, 0.9),
            latency_p99_ms: quantile_sorted(&lat, 0.99),
            rt_size_mean: tables.rt_size_mean,
            stored_pairs: tables.stored_pairs,
            eclipsed: self.adversary.then_some(iv.eclipsed),
            wrong_values: self.adversary.then_some(iv.wrong_values),
            stale_contacts_share: tables.stale_contacts_share,
            attacked_done: self.adversary.then_some(iv.attacked[0]),
            attacked_succeeded: self.adversary.then_some(iv.attacked[1]),
            not_attacked_done: self.adversary.then_some(iv.attacked[2]),
            not_attacked_succeeded: self.adversary.then_some(iv.attacked[3]),
            ..iv.counts
        });
    }

    /// Notes the totals at the end of the warm-up (the uptime counted up to it).
    pub fn mark_warmup(&mut self) {
        self.at_warmup = Some((self.total.counts.clone(), self.node_us));
    }

    /// Node-seconds of uptime after the warm-up (`None` before it ended).
    pub fn node_seconds_after_warmup(&self) -> Option<f64> {
        self.at_warmup.as_ref().map(|(_, w)| (self.node_us - w) / 1e6)
    }

    /// Applies `f` to the current interval and the run totals.
    pub fn count(&mut self, f: impl Fn(&mut SampleRow)) {
        f(&mut self.cur.counts);
        f(&mut self.total.counts);
    }

    /// `metric,value` rows for `summary.csv`: counts, rates, means and type-7
    /// quantiles of the operations after the warm-up, by kind.
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: String| rows.push((k.to_string(), v));
        let fmt = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.6}"));
        for kind in KINDS {
            let ops: Vec<&OpRecord> = self.ops.iter().filter(|r| r.kind == kind).collect();
            let n = ops.len();
            let ok = ops.iter().filter(|r| r.success).count();
            put(&format!("{kind}.count"), n.to_string());
            put(&format!("{kind}.success_rate"), fmt((n > 0).then(|| ok as f64 / n as f64)));
            let mut hops: Vec<f64> = ops.iter().filter_map(|r| r.hops.map(f64::from)).collect();
            hops.sort_by(f64::total_cmp);
            put(&format!("{kind}.hops.mean"), fmt(mean(&hops)));
            for (q, name) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
                put(&format!("{kind}.hops.{name}"), fmt(quantile_sorted(&hops, q)));
            }
            let mut lat: Vec<f64> = ops.iter().map(|r| r.latency_us as f64 / 1e3).collect();
            lat.sort_by(f64::total_cmp);
            put(&format!("{kind}.latency_ms.mean"), fmt(mean(&lat)));
            for (q, name) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
                put(&format!("{kind}.latency_ms.{name}"), fmt(quantile_sorted(&lat, q)));
            }
            let f: Vec<f64> = ops.iter().filter_map(|r| r.found_fraction).collect();
            if kind != "get" {
                put(&format!("{kind}.found_fraction.mean"), fmt(mean(&f)));
            }
            let per = |g: fn(&OpRecord) -> u32| mean(&ops.iter().map(|r| f64::from(g(r))).collect::<Vec<_>>());
            put(&format!("{kind}.queried.mean"), fmt(per(|r| r.queried)));
            put(&format!("{kind}.timeouts.mean"), fmt(per(|r| r.timeouts)));
            if kind == "put" {
                put("put.replicas.mean", fmt(per(|r| r.replicas)));
            }
            if kind == "get" {
                // Peers per get_peers that found any (records = "peers" only).
                let peers: Vec<f64> = ops.iter().filter(|r| r.success).filter_map(|r| r.peers.map(f64::from)).collect();
                put("get.peers.mean", fmt(mean(&peers)));
            }
        }
        let t = &self.total.counts;
        put("msgs.sent", t.msgs_sent.to_string());
        put("msgs.lost", t.msgs_lost.to_string());
        put("msgs.cut", t.msgs_cut.to_string());
        put("msgs.to_dead", t.msgs_to_dead.to_string());
        put("bytes.sent", t.bytes_sent.to_string());
        // Per node that is up, after the warm-up (node-seconds of uptime); then
        // the same split into lookup and maintenance traffic (`kad::traffic`).
        let rate = |count: fn(&SampleRow) -> u64| {
            self.at_warmup.as_ref().map_or_else(String::new, |(w, w_node_us)| {
                let node_s = (self.node_us - w_node_us) / 1e6;
                fmt((node_s > 0.0).then(|| (count(t) - count(w)) as f64 / node_s))
            })
        };
        put("msgs.per_live_node_per_s", rate(|r| r.msgs_sent));
        put("bytes.per_live_node_per_s", rate(|r| r.bytes_sent));
        put("msgs.lookup_per_live_node_per_s", rate(|r| r.lookup_msgs_sent));
        put("msgs.maintenance_per_live_node_per_s", rate(|r| r.maintenance_msgs_sent));
        put("bytes.lookup_per_live_node_per_s", rate(|r| r.lookup_bytes_sent));
        put("bytes.maintenance_per_live_node_per_s", rate(|r| r.maintenance_bytes_sent));
        put("churn.joins", t.joins.to_string());
        put("churn.leaves", t.leaves.to_string());
        rows
    }

    /// The churn study's rows of `summary.csv` (docs/outputs.md "Metric
    /// definitions"), after every older row: by workload kind, the mean and
    /// type-7 quantiles of `closest_found_us` in ms and the mean of
    /// `closest_found_hops`, over the operations that have them; the share
    /// of the peers that gets returned that were down, pooled (Σ stale / Σ
    /// returned); the mean of the time series' `stale_contacts_share` over
    /// the rows after the warm-up, and its last value. Every row is present
    /// in every run, empty when there is nothing to count.
    pub fn churn_summary(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = Vec::new();
        let fmt = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.6}"));
        for kind in KINDS {
            let ops = || self.ops.iter().filter(move |r| r.kind == kind);
            let mut ms: Vec<f64> = ops().filter_map(|r| r.closest_found_us).map(|us| us as f64 / 1e3).collect();
            ms.sort_by(f64::total_cmp);
            rows.push((format!("{kind}.closest_found_ms.mean"), fmt(mean(&ms))));
            for (q, name) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
                rows.push((format!("{kind}.closest_found_ms.{name}"), fmt(quantile_sorted(&ms, q))));
            }
            let hops: Vec<f64> = ops().filter_map(|r| r.closest_found_hops).map(f64::from).collect();
            rows.push((format!("{kind}.closest_found_hops.mean"), fmt(mean(&hops))));
        }
        let (returned, stale) = self
            .ops
            .iter()
            .filter_map(|r| r.peers.zip(r.stale_peers))
            .fold((0u64, 0u64), |(p, s), (rp, rs)| (p + u64::from(rp), s + u64::from(rs)));
        rows.push(("get.stale_peers.share".into(), fmt((returned > 0).then(|| stale as f64 / returned as f64))));
        let measured: Vec<f64> =
            self.samples.iter().filter(|s| !s.warmup).filter_map(|s| s.stale_contacts_share).collect();
        rows.push(("stale_contacts_share.mean".into(), fmt(mean(&measured))));
        let end = self.samples.last().and_then(|s| s.stale_contacts_share);
        rows.push(("end.stale_contacts_share".into(), fmt(end)));
        rows
    }

    /// The reachability rows of `summary.csv` (`docs/reachability.md`),
    /// after every older row: the datagrams dropped by the NATs of
    /// unreachable nodes, over the whole run like `msgs.to_dead`.
    pub fn reach_summary(&self) -> Vec<(String, String)> {
        vec![("msgs.to_unreachable".into(), self.total.counts.msgs_to_unreachable.to_string())]
    }

    /// The adversary's rows of `summary.csv`, by workload kind: the success
    /// rate (and found fraction) of the operations whose target region was
    /// attacked and of the others, the share eclipsed, and the share of gets
    /// that returned a forged value. Every row is present with or without an
    /// adversary, empty without one (and a rate with no operation to count is
    /// empty), so that compare and sweep see the same metrics in every run.
    pub fn adversary_summary(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = Vec::new();
        let on = self.adversary;
        let fmt = |x: Option<f64>| x.filter(|_| on).map_or(String::new(), |v| format!("{v:.6}"));
        let share = |ops: &[&OpRecord], f: &dyn Fn(&OpRecord) -> bool| {
            (!ops.is_empty()).then(|| ops.iter().filter(|r| f(r)).count() as f64 / ops.len() as f64)
        };
        for kind in KINDS {
            let ops: Vec<&OpRecord> = self.ops.iter().filter(|r| r.kind == kind).collect();
            let (hit, clear): (Vec<&OpRecord>, Vec<&OpRecord>) = ops.iter().partition(|r| r.attacked == Some(true));
            let count = if on { hit.len().to_string() } else { String::new() };
            rows.push((format!("{kind}.attacked.count"), count));
            for (side, set) in [("attacked", &hit), ("not_attacked", &clear)] {
                rows.push((format!("{kind}.{side}.success_rate"), fmt(share(set, &|r| r.success))));
                if kind != "get" {
                    let f: Vec<f64> = set.iter().filter_map(|r| r.found_fraction).collect();
                    rows.push((format!("{kind}.{side}.found_fraction.mean"), fmt(mean(&f))));
                }
            }
            rows.push((format!("{kind}.eclipsed_fraction"), fmt(share(&ops, &|r| r.eclipsed == Some(true)))));
            if kind == "get" {
                rows.push(("get.wrong_value_fraction".into(), fmt(share(&ops, &|r| r.wrong_value == Some(true)))));
            }
        }
        rows
    }
}

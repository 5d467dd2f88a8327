//! How many threads a run uses when `--threads` is not given (README
//! "Threads by default"), and why: the manifest's `threads` and
//! `threads_chosen_by`. The choice never changes a run's outputs, only its
//! speed.
//!
//! A run on two threads splits its nodes into two shards, and a window is
//! shared between the threads only when it holds enough events
//! (`sim::parallel::Sharing`): on an idle machine from a handful of events
//! on, but when other processes keep the cores busy only from
//! [`BUSY_WINDOW_EVENTS`] (48) on, since a worker spinning between windows
//! would take the main thread's CPU time. The split itself costs something on
//! every window (datagrams between shards go through mailboxes): measured on
//! two cores with one of them kept busy, 5–15% of a run whose windows hold a
//! few events (`churn.toml`, `static.toml`), while windows of 48 events or
//! more still ran about 10% faster on two threads; on an idle machine two
//! threads were never more than 8% slower and up to 1.6 times faster. So the
//! default takes every core when at least [`BUSY_SHARE`] of the run's events
//! are expected in windows of [`BUSY_WINDOW_EVENTS`] events or more, where
//! the gain on that share outweighs the loss on the rest even under load, and
//! one thread otherwise.
//!
//! The events are estimated from the scenario ([`Phases::of`]), in two
//! phases: the join phase (`bootstrap.mode = "join"`: `nodes / join_rate`
//! seconds of joins, each a lookup of the node's own ID and a refresh of its
//! buckets) and the steady state (the workload's operations, bucket
//! refreshes once the first refresh interval has passed, and rejoins under
//! churn); and, with `bootstrap.mode = "oracle"`, the tables the oracle fills
//! at the start, which are built on every thread and count as busy. The
//! constants come from measured runs (events per lookup and per join of
//! `scenarios/bench/join.toml` and `oracle.toml`); the estimate only has to
//! fall on the right side of [`BUSY_SHARE`]. For the benchmark scenarios this
//! means: `bench/join.toml` (N/10 joins per second) from about 2,000 nodes on,
//! `bench/oracle.toml` (0.001 lookups per node per second) from about 100,000
//! (its tables) on; `churn.toml` and `static.toml` (2,000 nodes) never.
//!
//! `kadsim validation` and `kadsim sweep` run many small runs at once: there
//! each run takes one thread while the runs at once fill the cores, and the
//! default's choice on its share of the cores otherwise ([`Threads::per_run`]).

use crate::scenario::{BootstrapMode, ChurnModel, Scenario};
use crate::sim::churn::DurationDist;

/// Events per window from which two threads beat one even when another
/// process keeps a core busy (`sim::parallel::WAKE_MIN_EVENTS`).
pub const BUSY_WINDOW_EVENTS: f64 = crate::sim::parallel::WAKE_MIN_EVENTS as f64;

/// Share of a run's events in busy windows from which the default takes
/// every core. Measured on two cores with one kept busy, a busy window ran
/// about 0.9 times as long on two threads and the rest about 1.08 times:
/// break-even at about 44%. Idle, two threads never lost by more than 8%.
pub const BUSY_SHARE: f64 = 0.4;

/// Events of a node lookup (requests, replies and timers): measured 46 at
/// 1,000 nodes and 49 at 10,000 (`bench/oracle.toml`, k = 20, α = 3); this
/// gives 47 and 53.
fn events_per_lookup(n: f64, k: f64, alpha: f64) -> f64 {
    k + alpha * (2.0 * n.max(2.0).log10() + 3.0)
}

/// Event-equivalents of building one contact of an oracle-filled table
/// (1,000,000 nodes: about 40 µs of CPU per node of 330 contacts, at about
/// 1–3 µs per event).
const EVENTS_PER_ORACLE_CONTACT: f64 = 0.1;

/// How many threads a run uses, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threads {
    /// Threads, the main one included.
    pub n: usize,
    /// Who chose the number: `--threads`, or the default's rule with its numbers.
    pub chosen_by: String,
}

impl Threads {
    /// `n` threads, as asked for with `--threads`.
    pub fn given(n: usize) -> Threads {
        Threads { n: n.max(1), chosen_by: "--threads".into() }
    }

    /// `n` threads, chosen by `who` (a command's own rule).
    pub fn chosen(n: usize, who: impl Into<String>) -> Threads {
        Threads { n: n.max(1), chosen_by: who.into() }
    }

    /// The default for `sc` on a machine with `cores` cores (see the module's docs).
    pub fn default_for(sc: &Scenario, cores: usize) -> Threads {
        let p = Phases::of(sc);
        let share = p.busy_share();
        let pct = (share * 100.0).round();
        if cores <= 1 {
            return Threads::chosen(1, "default: 1 thread (one core)");
        }
        let all = BUSY_SHARE * 100.0;
        let busy = format!("windows of {BUSY_WINDOW_EVENTS}+");
        if share >= BUSY_SHARE {
            let n = cores.min(sc.nodes.max(1) as usize);
            Threads::chosen(
                n,
                format!("default: all {cores} cores: {pct}% of events expected in {busy} (>= {all:.0}%)"),
            )
        } else {
            Threads::chosen(1, format!("default: 1 thread: {pct}% of events expected in {busy} (< {all:.0}%)"))
        }
    }

    /// The threads of each of a batch of runs made `at_once` at a time on
    /// `cores` cores (`kadsim sweep`, `kadsim validation`), chosen by `who`:
    /// one thread each while the runs at once fill the cores, which beats
    /// sharing each run's windows; with cores to spare, the default's choice
    /// for `sc` on its share of them.
    pub fn per_run(sc: &Scenario, cores: usize, at_once: usize, who: &str) -> Threads {
        let share = (cores / at_once.max(1)).max(1);
        let d = Threads::default_for(sc, share);
        let runs = if at_once == 1 { "1 run".to_string() } else { format!("{at_once} runs") };
        Threads::chosen(d.n, format!("{who}: {runs} at a time on {cores} cores; {}", d.chosen_by))
    }
}

impl From<usize> for Threads {
    /// `n` threads, chosen by the caller.
    fn from(n: usize) -> Threads {
        Threads::chosen(n, "the caller")
    }
}

/// A scenario's expected events, by phase, with the events per window of each.
#[derive(Clone, Debug, PartialEq)]
pub struct Phases {
    /// (events, events per window) of each phase.
    pub phases: Vec<(f64, f64)>,
}

impl Phases {
    /// The phases of `sc` (a validated scenario).
    pub fn of(sc: &Scenario) -> Phases {
        let n = f64::from(sc.nodes);
        let k = sc.protocol.k as f64;
        let alpha = sc.protocol.alpha as f64;
        let window_s = sc.network.min_latency.as_secs_f64().max(1e-6);
        let duration_s = sc.duration.as_secs_f64();
        let epl = events_per_lookup(n, k, alpha);
        // Buckets holding contacts: log2(n/k) + 1 levels, 2^b − 1 buckets per b levels.
        let b = f64::from(sc.protocol.b.max(1));
        let levels = (n / k).log2().max(0.0) + 1.0;
        let buckets = (levels / b).ceil() * (b.exp2() - 1.0);
        // A join: a lookup of its own ID, then a refresh of each bucket.
        let per_join = (1.0 + buckets) * epl;
        let trace = sc.churn.model == ChurnModel::Trace;
        let oracle = sc.bootstrap.mode == BootstrapMode::Oracle && !trace;
        // Under churn, the share of the time a node is up, and rejoins per node per second.
        let (up, rejoins) = if sc.churn.model == ChurnModel::Distributions {
            let session = sc.churn.session.as_ref().map_or_else(DurationDist::default_session, DurationDist::new);
            let downtime = sc.churn.downtime.as_ref().map_or_else(DurationDist::default_downtime, DurationDist::new);
            let (s, d) = (session.mean_micros().max(1.0), downtime.mean_micros().max(0.0));
            (s / (s + d), 1e6 / (s + d))
        } else {
            (1.0, 0.0)
        };
        let w = &sc.workload;
        // Bucket refreshes, once the first refresh interval has passed, spread over the run.
        let refresh_s = sc.protocol.refresh_interval.as_secs_f64().max(1e-3);
        let refreshing = (duration_s - refresh_s).max(0.0) / duration_s.max(1e-6);
        let per_node_s = (w.lookup_rate.0 + w.get_rate.0) * epl
            + w.put_rate.0 * (epl + 2.0 * k)
            + buckets / refresh_s * epl * refreshing
            + rejoins * per_join;
        let steady_rate = n * up * per_node_s;
        let mut phases = Vec::new();
        let mut steady_s = duration_s;
        if oracle {
            // The tables, built on every thread at the start: busy.
            phases.push((n * (k * buckets).min(n) * EVENTS_PER_ORACLE_CONTACT, f64::INFINITY));
        } else if !trace && sc.bootstrap.join_rate.0 > 0.0 {
            let join_s = (n / sc.bootstrap.join_rate.0).min(duration_s);
            // Half the network is up, on average, while it joins.
            let rate = sc.bootstrap.join_rate.0 * per_join + steady_rate / 2.0;
            phases.push((rate * join_s, rate * window_s));
            steady_s -= join_s;
        }
        phases.push((steady_rate * steady_s, steady_rate * window_s));
        Phases { phases }
    }

    /// The share of the events expected in windows of [`BUSY_WINDOW_EVENTS`] or more
    /// (a phase counts whole, by its mean).
    pub fn busy_share(&self) -> f64 {
        let all: f64 = self.phases.iter().map(|p| p.0).sum();
        let busy: f64 = self.phases.iter().filter(|p| p.1 >= BUSY_WINDOW_EVENTS).map(|p| p.0).fold(0.0, |a, b| a + b);
        if all > 0.0 { busy / all } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_file;
    use std::path::Path;

    fn scenario(file: &str, set: &[&str]) -> Scenario {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        load_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file), &set).expect("valid")
    }

    #[test]
    fn the_default_takes_every_core_only_where_it_measured_faster() {
        // Measured (docs/performance.md "Threads by default"): one thread is faster on these…
        for (file, set) in [
            ("churn.toml", &[][..]),
            ("bench/join.toml", &["nodes=1000", "bootstrap.join_rate=100"]),
            ("static.toml", &[]),
            ("bench/oracle.toml", &["nodes=1000", "workload.lookup_rate=0.1"]),
        ] {
            let t = Threads::default_for(&scenario(file, set), 2);
            eprintln!("{file} {set:?}: {}", t.chosen_by);
            assert_eq!(t.n, 1, "{file} {set:?}: {}", t.chosen_by);
            assert!(t.chosen_by.starts_with("default: 1 thread"), "{}", t.chosen_by);
        }
        // …and two threads on these.
        for (file, set) in [
            ("bench/join.toml", &["nodes=10000", "bootstrap.join_rate=1000"][..]),
            ("bench/oracle.toml", &["nodes=100000"]),
            ("bench/oracle.toml", &["nodes=1000000"]),
        ] {
            let t = Threads::default_for(&scenario(file, set), 2);
            assert_eq!(t.n, 2, "{file} {set:?}: {}", t.chosen_by);
            assert!(t.chosen_by.starts_with("default: all 2 cores"), "{}", t.chosen_by);
        }
        // One core: one thread, whatever the scenario.
        let join = scenario("bench/join.toml", &[]);
        assert_eq!(Threads::default_for(&join, 1).n, 1);
        assert_eq!(Threads::given(4), Threads { n: 4, chosen_by: "--threads".into() });
        // A batch of runs filling the cores: one thread each, whatever the scenario.
        let big = scenario("bench/oracle.toml", &["nodes=1000000"]);
        assert_eq!(Threads::per_run(&big, 2, 2, "kadsim sweep").n, 1);
        assert_eq!(Threads::per_run(&big, 8, 1, "kadsim sweep").n, 8);
        assert_eq!(Threads::per_run(&big, 8, 3, "kadsim sweep").n, 2);
        assert_eq!(Threads::per_run(&scenario("churn.toml", &[]), 8, 1, "kadsim sweep").n, 1);
    }
}

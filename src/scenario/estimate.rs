//! What a scenario will cost before it runs: an upper-end estimate of its
//! memory and of its events, and the refusal of scenarios that cannot run on
//! this machine class (DESIGN.md §7: bad input, exit code 2).
//!
//! The estimate is deliberately high (about 1.2–1.5× the measured memory and
//! 4× the measured events of the joining benchmark runs in the README, 20× for
//! the short oracle run, whose refreshes it counts though none is due), so that
//! every runnable scenario passes and an absurd one is refused with the field
//! that drives it. Three checks, in order:
//!
//! 1. per-node timers: `protocol.refresh_interval`, `republish_interval`,
//!    `publisher_republish_interval` and the median churn session and downtime
//!    must be at least [`MIN_TIMER`] (1 ms), so that no node's timer fires
//!    more than once per simulated millisecond;
//! 2. memory: [`Estimate::memory`] at most [`Limits::memory_bytes`] (the
//!    machine's RAM, or [`DEFAULT_MEMORY_LIMIT`] when it is unknown);
//! 3. events: [`Estimate::events`] at most [`MAX_EVENTS`] (10^11, a day or
//!    more at the engine's 0.5–1 M events per second).

use super::distribution::*;
use super::network::*;
use super::sections::*;
use super::units::Dur;
use crate::metrics::{OpRecord, SampleRow};
use crate::sim::churn::DurationDist;

/// Memory limit when the machine's RAM cannot be read: 64 GiB.
pub const DEFAULT_MEMORY_LIMIT: f64 = 64.0 * GIB;
/// Most events a scenario may be estimated to take.
pub const MAX_EVENTS: f64 = 1e11;
/// Shortest period of a per-node timer.
pub const MIN_TIMER: Dur = Dur::millis(1);

const KIB: f64 = 1024.0;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Bytes of a node apart from its contacts: the host and node structs, bucket
/// records, random streams, status, oracle entry, queued events.
const NODE_BASE_BYTES: f64 = 3.0 * KIB;
/// Bytes per contact with oracle tables (10-byte slots, bucket overhead).
const CONTACT_BYTES_ORACLE: f64 = 12.0;
/// Bytes per contact when nodes join by the protocol (replacement caches,
/// pending requests and pools of a network still forming).
const CONTACT_BYTES_JOIN: f64 = 24.0;
/// Bytes per node of the coordinates latency model (x, y, height).
const COORD_BYTES: f64 = 12.0;
/// Bytes per node of the matrix latency model: its host, and its access
/// delay when there is one (`sim::latency`).
const MATRIX_HOST_BYTES: f64 = 2.0;
/// See [`MATRIX_HOST_BYTES`].
const MATRIX_ACCESS_BYTES: f64 = 4.0;
/// Bytes per key of the key population (put flags, put order, pending puts).
const KEY_BYTES: f64 = 32.0;
/// Bytes of a stored pair apart from its value (key, Arc, expiry, publisher).
const PAIR_BYTES: f64 = 96.0;
/// Cost of one node's visit in a time-series sample, in events.
const SAMPLE_VISIT_EVENTS: f64 = 0.1;

/// What a scenario may use on this machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Bytes of memory.
    pub memory_bytes: f64,
    /// Where the memory limit comes from, for error messages.
    pub memory_source: String,
    /// Events.
    pub events: f64,
}

impl Limits {
    /// The machine's total RAM (Linux `/proc/meminfo`), or
    /// [`DEFAULT_MEMORY_LIMIT`] when it cannot be read; [`MAX_EVENTS`].
    pub fn machine() -> Limits {
        match total_ram() {
            Some(bytes) => {
                Limits { memory_bytes: bytes, memory_source: "this machine's memory".into(), events: MAX_EVENTS }
            }
            None => Limits::fixed(DEFAULT_MEMORY_LIMIT),
        }
    }

    /// A fixed memory limit of `bytes` and [`MAX_EVENTS`].
    pub fn fixed(bytes: f64) -> Limits {
        Limits { memory_bytes: bytes, memory_source: "the memory limit".into(), events: MAX_EVENTS }
    }
}

fn total_ram() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * KIB)
}

/// How a part of the estimate grows with the field that drives it, to suggest
/// a value that fits.
#[derive(Clone, Debug, PartialEq)]
pub enum Scaling {
    /// In proportion to a count (nodes, keys): suggest at most a smaller count.
    Count(f64),
    /// In proportion to a rate: suggest at most a smaller rate.
    Rate(f64),
    /// In inverse proportion to a period in microseconds: suggest at least a longer one.
    Period(f64),
    /// In inverse proportion to the typical session plus downtime, in
    /// microseconds: suggest at least a longer cycle.
    Cycle(f64),
    /// Switched on by a flag: suggest switching it off.
    Flag,
    /// Set by an input file's size (a latency matrix): no value to suggest.
    Input,
}

/// One term of the estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The field that drives it (dotted path).
    pub field: &'static str,
    /// What it is, for the error message.
    pub what: String,
    /// Bytes or events.
    pub amount: f64,
    /// How it changes with the field.
    pub scaling: Scaling,
}

/// The estimate of a scenario: memory in bytes and events, each as a sum of
/// parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Memory terms, bytes.
    pub memory: Vec<Part>,
    /// Event terms.
    pub events: Vec<Part>,
}

/// The quantities of a scenario the estimate is built from.
struct Model {
    n: f64,
    k: f64,
    /// Non-empty buckets per node.
    buckets: f64,
    /// Node lookups a join makes: its own ID, then a refresh of each bucket.
    lookups_per_join: f64,
    /// Events of one node lookup: about 2k messages for the last round and
    /// 2α per hop, each message an event, plus timers.
    events_per_lookup: f64,
    /// Events of a put or republish: a lookup and k STOREs answered.
    events_per_store: f64,
    duration_s: f64,
    measured_s: f64,
}

impl Model {
    fn of(sc: &Scenario) -> Model {
        let n = f64::from(sc.nodes);
        let k = sc.protocol.k as f64;
        let alpha = sc.protocol.alpha as f64;
        let b = f64::from(sc.protocol.b.max(1));
        // Levels of the tree holding contacts: log2(n/k) + 1; with b bits per
        // step, 2^b − 1 buckets for every b levels (paper §4.2).
        let levels = (n / k).log2().max(0.0) + 1.0;
        let buckets = (levels / b).ceil() * (b.exp2() - 1.0);
        let hops = n.max(2.0).log2() + 1.0;
        let events_per_lookup = 4.0 * k + 2.0 * alpha * hops;
        Model {
            n,
            k,
            buckets,
            lookups_per_join: 1.0 + buckets,
            events_per_lookup,
            events_per_store: events_per_lookup + 2.0 * k,
            duration_s: sc.duration.as_secs_f64(),
            measured_s: sc.duration.as_secs_f64() - sc.warmup.as_secs_f64(),
        }
    }

    /// Contacts a node holds.
    fn contacts(&self) -> f64 {
        (self.k * self.buckets).min((self.n - 1.0).max(0.0))
    }
}

/// The typical length of a churn distribution in microseconds: the smaller of
/// its mean and median (the default when unset).
fn typical_us(d: Option<&Distribution>, default: fn() -> DurationDist) -> f64 {
    let dist = d.map_or_else(default, DurationDist::new);
    dist.mean_micros().min(dist.quantile_micros(0.5))
}

fn median_us(d: Option<&Distribution>, default: fn() -> DurationDist) -> f64 {
    d.map_or_else(default, DurationDist::new).quantile_micros(0.5)
}

impl Estimate {
    /// The estimate of `sc` (a scenario that passed validation).
    pub fn of(sc: &Scenario) -> Estimate {
        let m = Model::of(sc);
        let w = &sc.workload;
        let p = &sc.protocol;
        let oracle = sc.bootstrap.mode == BootstrapMode::Oracle && sc.churn.model != ChurnModel::Trace;
        let mut memory = Vec::new();
        let mut events = Vec::new();

        // Nodes.
        let contact_bytes = if oracle { CONTACT_BYTES_ORACLE } else { CONTACT_BYTES_JOIN };
        let l = &sc.network.latency;
        let coords = match l.model {
            LatencyModel::Coordinates => COORD_BYTES,
            LatencyModel::Matrix => MATRIX_HOST_BYTES + if l.access.is_some() { MATRIX_ACCESS_BYTES } else { 0.0 },
            _ => 0.0,
        };
        let per_node = NODE_BASE_BYTES + m.contacts() * contact_bytes + coords;
        memory.push(Part {
            field: "nodes",
            what: format!(
                "{} nodes at about {} each ({} bootstrap)",
                sc.nodes,
                bytes(per_node),
                if oracle { "oracle" } else { "join" }
            ),
            amount: m.n * per_node,
            scaling: Scaling::Count(m.n),
        });

        // The latency matrix, once, whatever the nodes.
        if let (LatencyModel::Matrix, Some(matrix)) = (l.model, &l.loaded.0) {
            memory.push(Part {
                field: "network.latency.file",
                what: format!("a latency matrix of {} hosts", matrix.hosts()),
                amount: matrix.bytes() as f64,
                scaling: Scaling::Input,
            });
        }

        // Time series.
        let rows = (m.duration_s / sc.sample_interval.as_secs_f64()).ceil();
        memory.push(Part {
            field: "sample_interval",
            what: format!("{} over {} makes {} timeseries rows", sc.sample_interval, sc.duration, count(rows)),
            amount: rows * std::mem::size_of::<SampleRow>() as f64,
            scaling: Scaling::Period(sc.sample_interval.0 as f64),
        });
        events.push(Part {
            field: "sample_interval",
            what: format!(
                "{} over {} makes {} samples, each visiting {} nodes",
                sc.sample_interval,
                sc.duration,
                count(rows),
                sc.nodes
            ),
            amount: rows * (1.0 + m.n * SAMPLE_VISIT_EVENTS),
            scaling: Scaling::Period(sc.sample_interval.0 as f64),
        });

        // Workload: records of ops.csv, and events.
        let op_bytes = std::mem::size_of::<OpRecord>() as f64 + 48.0;
        let kinds = [
            ("workload.lookup_rate", "lookups", w.lookup_rate.0, m.events_per_lookup),
            ("workload.put_rate", "puts", w.put_rate.0, m.events_per_store),
            ("workload.get_rate", "gets", w.get_rate.0, m.events_per_lookup),
        ];
        for (field, name, rate, per_op) in kinds {
            if rate <= 0.0 {
                continue;
            }
            let recorded = m.n * rate * m.measured_s;
            memory.push(Part {
                field,
                what: format!(
                    "{name} at {rate} per node per second for {} nodes over the {} after the warm-up make {} rows of ops.csv",
                    sc.nodes,
                    micros(m.measured_s * 1e6),
                    count(recorded)
                ),
                amount: recorded * op_bytes,
                scaling: Scaling::Rate(rate),
            });
            let started = m.n * rate * m.duration_s;
            events.push(Part {
                field,
                what: format!(
                    "{name} at {rate} per node per second for {} nodes over {} make {} operations",
                    sc.nodes,
                    sc.duration,
                    count(started)
                ),
                amount: started * per_op,
                scaling: Scaling::Rate(rate),
            });
        }

        // Keys and stored values.
        let keys = f64::from(w.keys);
        memory.push(Part {
            field: "workload.keys",
            what: format!("{} keys take a table of {} bytes each", w.keys, KEY_BYTES),
            amount: keys * KEY_BYTES,
            scaling: Scaling::Count(keys),
        });
        let puts = m.n * w.put_rate.0 * m.duration_s;
        let distinct = keys.min(puts);
        let copies_per_key = if p.cache_on_get && w.get_rate.0 > 0.0 { 2.0 * m.k } else { m.k };
        let stored = (distinct * copies_per_key).min(m.n * p.max_stored_pairs as f64);
        let published = puts.min(m.n * keys);
        let pair = PAIR_BYTES + f64::from(w.value_size);
        if stored + published > 0.0 {
            let (field, scaling) = if keys <= puts {
                ("workload.keys", Scaling::Count(keys))
            } else {
                ("workload.put_rate", Scaling::Rate(w.put_rate.0))
            };
            memory.push(Part {
                field,
                what: format!(
                    "about {} stored copies and {} published pairs of {}-byte values",
                    count(stored),
                    count(published),
                    w.value_size
                ),
                amount: (stored + published) * pair,
                scaling,
            });
        }

        // Joins (none with the oracle bootstrap: every table is filled at
        // time 0) and churn.
        let joins = if oracle { 0.0 } else { m.n };
        events.push(Part {
            field: "nodes",
            what: format!("{} joins of about {:.0} node lookups each", sc.nodes, m.lookups_per_join),
            amount: joins * m.lookups_per_join * m.events_per_lookup,
            scaling: Scaling::Count(m.n),
        });
        let mut churn_joins = 0.0;
        if sc.churn.model == ChurnModel::Distributions {
            let session = typical_us(sc.churn.session.as_ref(), DurationDist::default_session);
            let downtime = typical_us(sc.churn.downtime.as_ref(), DurationDist::default_downtime);
            let cycle_us = (session + downtime).max(1.0);
            churn_joins = m.n * m.duration_s * 1e6 / cycle_us;
            let field = if session <= downtime { "churn.session" } else { "churn.downtime" };
            events.push(Part {
                field,
                what: format!(
                    "sessions and downtimes of typically {} together make {} rejoins of about {:.0} node lookups each",
                    micros(cycle_us),
                    count(churn_joins),
                    m.lookups_per_join
                ),
                amount: churn_joins * (2.0 + m.lookups_per_join * m.events_per_lookup),
                scaling: Scaling::Cycle(cycle_us),
            });
        }

        // Maintenance.
        let refreshes = m.n * m.buckets * m.duration_s / p.refresh_interval.as_secs_f64();
        events.push(Part {
            field: "protocol.refresh_interval",
            what: format!(
                "refreshing {:.0} buckets per node every {} for {} nodes over {} makes {} node lookups",
                m.buckets,
                p.refresh_interval,
                sc.nodes,
                sc.duration,
                count(refreshes)
            ),
            amount: refreshes * m.events_per_lookup,
            scaling: Scaling::Period(p.refresh_interval.0 as f64),
        });
        if stored > 0.0 {
            let republishes = stored * m.duration_s / p.republish_interval.as_secs_f64();
            events.push(Part {
                field: "protocol.republish_interval",
                what: format!(
                    "republishing about {} stored pairs every {} makes {} republishes",
                    count(stored),
                    p.republish_interval,
                    count(republishes)
                ),
                amount: republishes * m.events_per_store,
                scaling: Scaling::Period(p.republish_interval.0 as f64),
            });
            let by_publisher = published * m.duration_s / p.publisher_republish_interval.as_secs_f64();
            events.push(Part {
                field: "protocol.publisher_republish_interval",
                what: format!(
                    "republishing about {} published pairs every {} makes {} republishes",
                    count(published),
                    p.publisher_republish_interval,
                    count(by_publisher)
                ),
                amount: by_publisher * m.events_per_store,
                scaling: Scaling::Period(p.publisher_republish_interval.0 as f64),
            });
        }
        if sc.output.maintenance_ops {
            let rows = (joins + churn_joins) * m.measured_s / m.duration_s + refreshes * m.measured_s / m.duration_s;
            memory.push(Part {
                field: "output.maintenance_ops",
                what: format!("recording joins and refreshes makes about {} more rows of ops.csv", count(rows)),
                amount: rows * op_bytes,
                scaling: Scaling::Flag,
            });
        }
        Estimate { memory, events }
    }

    /// Estimated peak memory, bytes.
    pub fn memory_bytes(&self) -> f64 {
        self.memory.iter().map(|p| p.amount).sum()
    }

    /// Estimated events.
    pub fn events(&self) -> f64 {
        self.events.iter().map(|p| p.amount).sum()
    }
}

/// Refuses `sc` if a per-node timer is shorter than [`MIN_TIMER`], or the
/// estimate is over `limits`; the error is the field to change and why.
pub fn check(sc: &Scenario, limits: &Limits) -> Result<(), (String, String)> {
    check_timers(sc)?;
    let est = Estimate::of(sc);
    let total = est.memory_bytes();
    if total > limits.memory_bytes {
        let part = largest(&est.memory);
        let mut msg = format!(
            "{}: about {} of the {} of memory estimated, over the {} of {}",
            part.what,
            bytes(part.amount),
            bytes(total),
            bytes(limits.memory_bytes),
            limits.memory_source
        );
        if let Some(s) = suggest(part, total, limits.memory_bytes) {
            msg.push_str(&format!("; use {s}"));
        }
        return Err((part.field.to_string(), msg));
    }
    let total = est.events();
    if total > limits.events {
        let part = largest(&est.events);
        let mut msg = format!(
            "{}: about {} of the {} events estimated, over the limit of {} (a day or more at a million events per second)",
            part.what,
            count(part.amount),
            count(total),
            count(limits.events)
        );
        if let Some(s) = suggest(part, total, limits.events) {
            msg.push_str(&format!("; use {s}"));
        }
        return Err((part.field.to_string(), msg));
    }
    Ok(())
}

fn check_timers(sc: &Scenario) -> Result<(), (String, String)> {
    let p = &sc.protocol;
    for (field, d, what) in [
        ("protocol.refresh_interval", p.refresh_interval, "refresh its buckets"),
        ("protocol.republish_interval", p.republish_interval, "republish its pairs"),
        ("protocol.publisher_republish_interval", p.publisher_republish_interval, "republish the pairs it published"),
    ] {
        if d < MIN_TIMER {
            return Err((
                field.to_string(),
                format!(
                    "{d} makes every node {what} more than once per simulated millisecond; use at least {MIN_TIMER}"
                ),
            ));
        }
    }
    if sc.churn.model == ChurnModel::Distributions {
        let c = &sc.churn;
        for (field, d, default, what) in [
            ("churn.session", c.session.as_ref(), DurationDist::default_session as fn() -> DurationDist, "session"),
            ("churn.downtime", c.downtime.as_ref(), DurationDist::default_downtime, "downtime"),
        ] {
            let median = median_us(d, default);
            if median < MIN_TIMER.0 as f64 {
                return Err((
                    field.to_string(),
                    format!(
                        "a median {what} of {} makes every node leave and come back more than once per simulated millisecond; use a median of at least {MIN_TIMER}",
                        micros(median)
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn largest(parts: &[Part]) -> &Part {
    parts.iter().max_by(|a, b| a.amount.total_cmp(&b.amount)).expect("an estimate has parts")
}

/// A value of `part`'s field that brings `total` to 90% of `limit`, if one
/// does. Every part grows with the number of nodes, so scaling the nodes
/// scales the total; any other field scales its own part.
fn suggest(part: &Part, total: f64, limit: f64) -> Option<String> {
    let target = 0.9 * limit;
    if part.scaling == Scaling::Input {
        return None;
    }
    let keep = if part.field == "nodes" { target / total } else { (part.amount - (total - target)) / part.amount };
    if !(keep > 0.0 && keep.is_finite()) {
        return match part.scaling {
            Scaling::Flag => Some("false".into()),
            _ => None,
        };
    }
    Some(match part.scaling {
        Scaling::Count(n) => format!("at most {}", round_down(n * keep).max(1.0)),
        Scaling::Rate(r) => format!("at most {}", round_down(r * keep)),
        Scaling::Period(us) => format!("at least {}", round_up_dur(us / keep)),
        Scaling::Cycle(us) => {
            format!("a session and downtime typically adding up to at least {}", round_up_dur(us / keep))
        }
        Scaling::Flag => "false".into(),
        Scaling::Input => return None,
    })
}

/// `x` rounded down to two significant digits.
fn round_down(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    let r = (x / scale).floor() * scale;
    // Print without binary noise: through the decimal digits it has.
    let digits = (1 - x.log10().floor() as i32).max(0) as usize;
    format!("{r:.digits$}").parse().unwrap_or(r)
}

/// `us` microseconds rounded up to two significant digits of the largest
/// unit below it.
fn round_up_dur(us: f64) -> Dur {
    let unit = [86_400e6, 3_600e6, 60e6, 1e6, 1e3, 1.0].into_iter().find(|u| us >= *u).unwrap_or(1.0);
    let v = us / unit;
    let scale = 10f64.powi(v.log10().floor() as i32 - 1).max(1.0 / 10.0);
    Dur(((v / scale).ceil() * scale * unit).ceil().min(1e18) as u64)
}

/// Bytes with a binary unit, one decimal.
pub fn bytes(b: f64) -> String {
    let units = [("TiB", GIB * 1024.0), ("GiB", GIB), ("MiB", KIB * KIB), ("KiB", KIB)];
    for (name, size) in units {
        if b >= size {
            return format!("{:.1} {name}", b / size);
        }
    }
    format!("{b:.0} bytes")
}

/// A count: whole below a million, else with an exponent (`3.6e9`).
pub fn count(x: f64) -> String {
    if x < 1e6 { format!("{x:.0}") } else { format!("{x:.1e}") }
}

/// Microseconds as a duration with three significant digits (`1.5h`, `693ns`).
fn micros(us: f64) -> String {
    if us < 1.0 {
        return format!("{:.0}ns", us * 1e3);
    }
    let (unit, name) = [(86_400e6, "d"), (3_600e6, "h"), (60e6, "m"), (1e6, "s"), (1e3, "ms"), (1.0, "us")]
        .into_iter()
        .find(|(u, _)| us >= *u)
        .unwrap_or((1.0, "us"));
    let v = us / unit;
    let digits = (2 - v.log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.digits$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    format!("{text}{name}")
}

#[cfg(test)]
#[path = "estimate_tests.rs"]
mod tests;

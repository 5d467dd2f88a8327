//! What kadsim writes, column by column: the schema of every CSV file a run
//! or a sweep writes (DESIGN.md §5), so that every reader checks a file
//! against its writer ([`super::table`]). A column has a name, a type, whether
//! it may be empty, and whether a later kadsim added it (an older results
//! directory lacks it: read without it, and said so).
//!
//! `summary.csv` is a table of `metric,value` rows whose metric names are a
//! fixed list, the same in every run: [`summary_metrics`] gives them as
//! "columns" of that one row. The unit tests hold every schema to its
//! writer's header (or, for `summary.csv`, to a real run's rows).

use std::borrow::Cow;

/// What a value must be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ty {
    /// An unsigned integer of at most this value, in decimal digits.
    Uint(u64),
    /// A finite number (no `NaN`, no `inf`).
    Number,
    /// A finite number from 0 to 1 (rates and shares).
    Fraction,
    /// `true` or `false`.
    Bool,
    /// A node ID or key: 40 or 64 lower-case hex digits.
    HexId,
    /// A 64-bit hash: 16 lower-case hex digits (`trace_hash`).
    Hash16,
    /// One of a fixed set of words.
    Word(&'static [&'static str]),
    /// A log2 distance: a finite number, or `-inf` for distance 0.
    Log2,
    /// A run's directory below its sweep: `runs/...`, relative, without `..`.
    RunDir,
    /// Any text.
    Text,
}

/// The largest `u8`, `u16`, `u32`, `u64`.
pub const U8: Ty = Ty::Uint(u8::MAX as u64);
/// See [`U8`].
pub const U16: Ty = Ty::Uint(u16::MAX as u64);
/// See [`U8`].
pub const U32: Ty = Ty::Uint(u32::MAX as u64);
/// See [`U8`].
pub const U64: Ty = Ty::Uint(u64::MAX);

/// The kinds of operation in `ops.csv` (`kad::OpKind::as_str`).
pub const OP_KINDS: [&str; 8] = ["find_node", "get", "put", "ping", "request", "join", "refresh", "republish"];
/// The requests of `trace.csv` (`kad::RequestKind::as_str`).
pub const REQUESTS: [&str; 4] = ["ping", "store", "find_node", "find_value"];
/// How an RPC of `trace.csv` ended (`sim::trace::Tracer::op`).
pub const OUTCOMES: [&str; 7] = ["answered", "timed_out", "lost", "cut", "dead", "unreachable", "open"];
/// What a reply of `trace.csv` said (`kad::ReplyKind::as_str`).
pub const REPLIES: [&str; 5] = ["nodes", "value", "pong", "stored", "refused"];
/// The datagrams of `messages.csv` (`sim::trace::kind_of`).
pub const MESSAGE_KINDS: [&str; 8] = ["ping", "store", "find_node", "find_value", "pong", "stored", "nodes", "value"];
/// What became of a datagram of `messages.csv`.
pub const FATES: [&str; 6] = ["delivered", "lost", "cut", "dead", "unreachable", "in_flight"];
/// How a node takes part (`nodes.csv` `class`, `sim::reach::Class::as_str`).
pub const CLASSES: [&str; 3] = ["server", "unreachable", "client"];

impl Ty {
    /// What a value of this type looks like, for error messages.
    pub fn expected(&self) -> String {
        match self {
            Ty::Uint(u64::MAX) => "an unsigned integer".into(),
            Ty::Uint(max) => format!("an unsigned integer of at most {max}"),
            Ty::Number => "a finite number".into(),
            Ty::Fraction => "a number from 0 to 1".into(),
            Ty::Bool => "true or false".into(),
            Ty::HexId => "an ID of 40 or 64 lower-case hex digits".into(),
            Ty::Hash16 => "16 lower-case hex digits".into(),
            Ty::Word(words) => format!("one of {}", words.join(", ")),
            Ty::Log2 => "a finite number or -inf".into(),
            Ty::RunDir => "a run directory runs/.../rN".into(),
            Ty::Text => "text".into(),
        }
    }

    /// Whether `v` (not empty) is a value of this type.
    pub fn accepts(&self, v: &str) -> bool {
        match self {
            Ty::Uint(max) => v.bytes().all(|b| b.is_ascii_digit()) && v.parse::<u64>().is_ok_and(|n| n <= *max),
            Ty::Number => finite(v).is_some(),
            Ty::Fraction => finite(v).is_some_and(|x| (0.0..=1.0).contains(&x)),
            Ty::Bool => v == "true" || v == "false",
            Ty::HexId => (v.len() == 40 || v.len() == 64) && lower_hex(v),
            Ty::Hash16 => v.len() == 16 && lower_hex(v),
            Ty::Word(words) => words.contains(&v),
            Ty::Log2 => v == "-inf" || finite(v).is_some(),
            Ty::RunDir => {
                let parts: Vec<&str> = v.split('/').collect();
                parts.len() >= 3
                    && parts[0] == "runs"
                    && parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\\'))
            }
            Ty::Text => true,
        }
    }

    /// The word of the set equal to `v`, with the set's lifetime.
    pub fn word(&self, v: &str) -> Option<&'static str> {
        match self {
            Ty::Word(words) => words.iter().find(|w| **w == v).copied(),
            _ => None,
        }
    }
}

/// `v` as a finite number: decimal notation only (Rust's parser would also
/// take `inf` and `NaN`, which no kadsim writer writes).
pub fn finite(v: &str) -> Option<f64> {
    let plain = v.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    v.parse::<f64>().ok().filter(|x| plain && x.is_finite())
}

fn lower_hex(v: &str) -> bool {
    v.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One column of a table, or one metric of `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Its name in the header (or the metric's name).
    pub name: Cow<'static, str>,
    /// What its values are.
    pub ty: Ty,
    /// Whether a value may be empty (not applicable, or no sample).
    pub empty: bool,
    /// Whether a later kadsim added it: files of older runs lack it.
    pub later: bool,
}

impl Column {
    /// A column always filled.
    pub const fn new(name: &'static str, ty: Ty) -> Column {
        Column { name: Cow::Borrowed(name), ty, empty: false, later: false }
    }

    /// The same column, whose values may be empty.
    pub fn or_empty(self) -> Column {
        Column { empty: true, ..self }
    }

    /// The same column, added by a later kadsim.
    pub fn later(self) -> Column {
        Column { later: true, ..self }
    }

    /// Why `v` is not a value of this column, if it is not: `expected ...`.
    pub fn check(&self, v: &str) -> Result<(), String> {
        if v.is_empty() && self.empty || !v.is_empty() && self.ty.accepts(v) {
            return Ok(());
        }
        let or_empty = if self.empty { " or empty" } else { "" };
        let got =
            if v.is_empty() { "an empty value".to_string() } else { format!("{:?}", crate::scenario::clip::clip(v)) };
        Err(format!("expected {}{or_empty}, got {got}", self.ty.expected()))
    }
}

/// The columns of a CSV file, in the order its writer writes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// The file's name, as messages say it (`ops.csv`).
    pub file: &'static str,
    /// Its columns.
    pub columns: Vec<Column>,
}

impl Schema {
    /// The index of the column `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_ref()).collect()
    }
}

use Ty::{Bool, Fraction, HexId, Log2, Number, Word};

/// `ops.csv` (`metrics::OpRecord`).
pub fn ops() -> Schema {
    let c = Column::new;
    Schema {
        file: "ops.csv",
        columns: vec![
            c("start_us", U64),
            c("end_us", U64),
            c("kind", Word(&OP_KINDS)),
            c("origin", U32),
            c("target", HexId),
            c("hops", U8).or_empty(),
            c("queried", U32),
            c("responses", U32),
            c("timeouts", U32),
            c("latency_us", U64),
            c("success", Bool),
            c("found_fraction", Fraction).or_empty(),
            c("replicas", U32),
            c("deadline_hit", Bool),
            // With adversaries (2026-12-03).
            c("attacked", Bool).or_empty().later(),
            c("eclipsed", Bool).or_empty().later(),
            c("wrong_value", Bool).or_empty().later(),
            // Peers per get_peers, then tracing's operation numbers (2026-12-03).
            c("peers", U32).or_empty().later(),
            c("op", U64).later(),
            // The churn study's: when the true closest node answered, and
            // the stale peers of a get_peers (2026-12-07, issue 21).
            c("closest_found_us", U64).or_empty().later(),
            c("closest_found_hops", U8).or_empty().later(),
            c("stale_peers", U32).or_empty().later(),
        ],
    }
}

/// `timeseries.csv` (`metrics::SampleRow`).
pub fn timeseries() -> Schema {
    let c = Column::new;
    let mut columns = vec![
        c("time_s", Number),
        c("warmup", Bool),
        c("alive", U32),
        c("joins", U32),
        c("leaves", U32),
        c("msgs_sent", U64),
        c("msgs_lost", U64),
        c("msgs_cut", U64),
        c("msgs_to_dead", U64),
        c("bytes_sent", U64),
        c("ops_started", U32),
        c("ops_done", U32),
        c("ops_succeeded", U32),
        c("lookup_hops_mean", Number).or_empty(),
        c("latency_p50_ms", Number).or_empty(),
        c("latency_p90_ms", Number).or_empty(),
        c("latency_p99_ms", Number).or_empty(),
        c("rt_size_mean", Number),
        c("stored_pairs", U64),
    ];
    // Per operation kind (2026-12-03).
    for kind in ["find_node", "get", "put"] {
        let named = |suffix: &str, ty: Ty, empty: bool| Column {
            name: Cow::Owned(format!("{kind}_{suffix}")),
            ty,
            empty,
            later: true,
        };
        columns.push(named("done", U32, false));
        columns.push(named("succeeded", U32, false));
        columns.push(named("success_rate", Fraction, true));
        for q in ["p50", "p90", "p99"] {
            columns.push(named(&format!("latency_{q}_ms"), Number, true));
        }
    }
    // Lookup and maintenance traffic, then the adversary's counts (2026-12-03).
    for name in ["lookup_msgs_sent", "lookup_bytes_sent", "maintenance_msgs_sent", "maintenance_bytes_sent"] {
        columns.push(c(name, U64).later());
    }
    columns.push(c("eclipsed", U32).or_empty().later());
    columns.push(c("wrong_values", U32).or_empty().later());
    // Routing-table staleness, then the adversary's split of success (2026-12-07, issue 21).
    columns.push(c("stale_contacts_share", Fraction).or_empty().later());
    for name in ["attacked_done", "attacked_succeeded", "not_attacked_done", "not_attacked_succeeded"] {
        columns.push(c(name, U32).or_empty().later());
    }
    // Datagrams an unreachable node's NAT dropped (issue 24).
    columns.push(c("msgs_to_unreachable", U64).later());
    Schema { file: "timeseries.csv", columns }
}

/// `nodes.csv` (`metrics::NodeRow`).
pub fn nodes() -> Schema {
    let c = Column::new;
    Schema {
        file: "nodes.csv",
        columns: vec![
            c("node", U32),
            c("id", HexId),
            c("alive", Bool),
            c("sessions", U32),
            c("rt_size", U32),
            c("buckets", U32),
            c("stored_pairs", U32),
            c("msgs_sent", U64),
            c("msgs_received", U64),
            c("msgs_dropped", U64),
            // Reachability (issue 24).
            c("class", Word(&CLASSES)).later(),
            // Node classes (issue 24): the `[[classes]]` name, empty without.
            c("class_name", Ty::Text).or_empty().later(),
        ],
    }
}

/// `buckets.csv` (`metrics::BucketRow`).
pub fn buckets() -> Schema {
    let c = Column::new;
    Schema {
        file: "buckets.csv",
        columns: vec![c("bucket", U8), c("nodes", U32), c("contacts_mean", Number), c("full_fraction", Fraction)],
    }
}

/// `trace.csv` (`metrics::trace::RpcRow`).
pub fn trace() -> Schema {
    let c = Column::new;
    Schema {
        file: "trace.csv",
        columns: vec![
            c("op", U64),
            c("seq", U32),
            c("sent_us", U64),
            c("end_us", U64).or_empty(),
            c("from", U32),
            c("to", U32),
            c("kind", Word(&REQUESTS)),
            c("depth", U8).or_empty(),
            c("dist_log2", Log2).or_empty(),
            c("outcome", Word(&OUTCOMES)),
            c("reply", Word(&REPLIES)).or_empty(),
            c("contacts", U16).or_empty(),
            c("nearest_log2", Log2).or_empty(),
            c("tx", U32),
        ],
    }
}

/// `closest.csv` (`metrics::trace::ClosestRow`).
pub fn closest() -> Schema {
    let c = Column::new;
    Schema {
        file: "closest.csv",
        columns: vec![
            c("op", U64),
            c("rank", U32),
            c("node", U32),
            c("dist_log2", Log2).or_empty(),
            c("asked", Bool),
            c("answered", Bool),
        ],
    }
}

/// `messages.csv` (`metrics::trace::MessageRow`).
pub fn messages() -> Schema {
    let c = Column::new;
    Schema {
        file: "messages.csv",
        columns: vec![
            c("sent_us", U64),
            c("arrived_us", U64).or_empty(),
            c("from", U32),
            c("to", U32),
            c("kind", Word(&MESSAGE_KINDS)),
            c("tx", U32),
            c("bytes", U32),
            c("fate", Word(&FATES)),
        ],
    }
}

/// `summary.csv` as a table: `metric,value`; each row is then checked
/// against [`summary_metrics`].
pub fn summary() -> Schema {
    Schema {
        file: "summary.csv",
        columns: vec![Column::new("metric", Ty::Text), Column::new("value", Ty::Text).or_empty()],
    }
}

/// The metrics of `summary.csv`, in the order the runner writes them
/// (`runner::run_traced`, `sim::recorder::Recorder::summary` and
/// `adversary_summary`, `sim::world::World::adversary_summary`). Counts are
/// unsigned integers; rates and shares fractions; an empty value means "not
/// applicable" (no operation of that kind, no adversary).
pub fn summary_metrics() -> Vec<Column> {
    let mut m: Vec<Column> = Vec::new();
    let col = |name: String, ty: Ty, empty: bool, later: bool| Column { name: Cow::Owned(name), ty, empty, later };
    let mut put = |name: &str, ty: Ty, empty: bool, later: bool| m.push(col(name.to_string(), ty, empty, later));
    put("nodes", U32, false, false);
    put("duration_s", Number, false, false);
    put("warmup_s", Number, false, false);
    put("events", U64, false, false);
    // The network's effective size (2026-12-03).
    put("nodes.ever_up", U32, false, true);
    put("nodes.joined_at_warmup", U32, true, true);
    put("alive.mean", Number, true, true);
    for kind in ["find_node", "get", "put"] {
        let k = |s: &str| format!("{kind}.{s}");
        put(&k("count"), U64, false, false);
        put(&k("success_rate"), Fraction, true, false);
        for stat in ["hops.mean", "hops.p50", "hops.p90", "hops.p99"] {
            put(&k(stat), Number, true, false);
        }
        for stat in ["latency_ms.mean", "latency_ms.p50", "latency_ms.p90", "latency_ms.p99"] {
            put(&k(stat), Number, true, false);
        }
        if kind != "get" {
            put(&k("found_fraction.mean"), Fraction, true, false);
        }
        put(&k("queried.mean"), Number, true, false);
        put(&k("timeouts.mean"), Number, true, false);
        if kind == "put" {
            put("put.replicas.mean", Number, true, false);
        }
        if kind == "get" {
            put("get.peers.mean", Number, true, true);
        }
    }
    for name in ["msgs.sent", "msgs.lost", "msgs.cut", "msgs.to_dead", "bytes.sent"] {
        put(name, U64, false, false);
    }
    put("msgs.per_live_node_per_s", Number, true, false);
    put("bytes.per_live_node_per_s", Number, true, false);
    // Lookup and maintenance traffic (2026-12-03).
    for name in [
        "msgs.lookup_per_live_node_per_s",
        "msgs.maintenance_per_live_node_per_s",
        "bytes.lookup_per_live_node_per_s",
        "bytes.maintenance_per_live_node_per_s",
    ] {
        put(name, Number, true, true);
    }
    put("churn.joins", U64, false, false);
    put("churn.leaves", U64, false, false);
    put("end.alive", U32, false, false);
    put("end.rt_size.mean", Number, false, false);
    put("end.stored_pairs", U64, false, false);
    // The adversary's (2026-12-03): every row present, empty without one.
    for kind in ["find_node", "get", "put"] {
        let k = |s: &str| format!("{kind}.{s}");
        put(&k("attacked.count"), U64, true, true);
        for side in ["attacked", "not_attacked"] {
            put(&k(&format!("{side}.success_rate")), Fraction, true, true);
            if kind != "get" {
                put(&k(&format!("{side}.found_fraction.mean")), Fraction, true, true);
            }
        }
        put(&k("eclipsed_fraction"), Fraction, true, true);
        if kind == "get" {
            put("get.wrong_value_fraction", Fraction, true, true);
        }
    }
    put("adversary.nodes", U32, true, true);
    put("adversary.rt_share", Fraction, true, true);
    put("adversary.victim_rt_share", Fraction, true, true);
    // The churn study's (2026-12-07, issue 21): every row present, empty when nothing counts.
    for kind in ["find_node", "get", "put"] {
        let k = |s: &str| format!("{kind}.{s}");
        for stat in ["closest_found_ms.mean", "closest_found_ms.p50", "closest_found_ms.p90", "closest_found_ms.p99"] {
            put(&k(stat), Number, true, true);
        }
        put(&k("closest_found_hops.mean"), Number, true, true);
    }
    put("get.stale_peers.share", Fraction, true, true);
    put("stale_contacts_share.mean", Fraction, true, true);
    put("end.stale_contacts_share", Fraction, true, true);
    // Reachability (issue 24): datagrams an unreachable node's NAT dropped.
    put("msgs.to_unreachable", U64, false, true);
    m
}

/// The statistics `summary.csv` gives for each `[[classes]]` entry, as
/// `class.NAME.STAT` rows after every other metric (`sim::world::classes`),
/// in the order the runner writes them; the columns are named by `STAT`.
pub fn class_metrics() -> Vec<Column> {
    let col = |name: String, ty: Ty, empty: bool| Column { name: Cow::Owned(name), ty, empty, later: false };
    let mut m = vec![col("nodes".into(), U32, false), col("end.alive".into(), U32, false)];
    m.push(col("rt_share".into(), Fraction, true));
    for kind in ["find_node", "get", "put"] {
        m.push(col(format!("{kind}.count"), U64, false));
        m.push(col(format!("{kind}.success_rate"), Fraction, true));
        for stat in
            ["hops.mean", "latency_ms.mean", "latency_ms.p50", "latency_ms.p90", "latency_ms.p99", "timeouts.mean"]
        {
            m.push(col(format!("{kind}.{stat}"), Number, true));
        }
    }
    m
}

/// A per-class metric's class name and column (named by its `STAT`), if
/// `name` is `class.NAME.STAT` with a class name kadsim accepts
/// (`scenario::classes`) and a `STAT` of [`class_metrics`].
pub fn class_metric(name: &str) -> Option<(&str, Column)> {
    let rest = name.strip_prefix("class.")?;
    let (class, stat) = rest.split_once('.')?;
    let good = crate::scenario::classes::is_class_name(class);
    let col = class_metrics().into_iter().find(|c| c.name == stat)?;
    good.then_some((class, col))
}

/// The type of the summary metric `name` (how `runs.csv` holds it too).
pub fn metric_column(name: &str) -> Option<Column> {
    summary_metrics()
        .into_iter()
        .find(|c| c.name == name)
        .or_else(|| class_metric(name).map(|(_, c)| Column { name: Cow::Owned(name.to_string()), ..c }))
}

/// `runs.csv` of a sweep over `params` (and its shards): the run's
/// directory, the parameter values, replica and seed, the headline
/// `metrics` copied from each run's `summary.csv`, the event count and the
/// trace hash. Metrics are typed as in `summary.csv`; those that a later
/// kadsim added to the headline metrics are marked `later`.
pub fn runs(params: &[String], metrics: &[&str]) -> Schema {
    let text = |name: &str| Column { name: Cow::Owned(name.to_string()), ty: Ty::Text, empty: false, later: false };
    let mut columns = vec![Column::new("run", Ty::RunDir)];
    columns.extend(params.iter().map(|p| text(p)));
    columns.push(Column::new("replica", U32));
    columns.push(Column::new("seed", Ty::Uint(i64::MAX as u64)));
    for m in metrics {
        let typed = metric_column(m).unwrap_or_else(|| text(m));
        // A headline metric is copied verbatim, empty when the run has none.
        columns.push(Column { empty: true, ..typed });
    }
    columns.push(Column::new("events", U64));
    columns.push(Column::new("trace_hash", Ty::Hash16));
    Schema { file: "runs.csv", columns }
}

/// How a sweep's interval was computed (`aggregate.csv`'s `ci95_method`):
/// a Student-t interval of the mean, or a percentile bootstrap of the mean
/// over the replicas (for proportions, so that it stays within [0, 1]).
pub const CI_METHODS: [&str; 2] = ["student_t", "bootstrap_percentile"];

/// `aggregate.csv` of a sweep over `params`: one row per grid point and
/// metric, with the number of replicas that had a value, their mean and
/// standard deviation, the 95% interval and its method (each empty where
/// undefined: one replica). `ci95_method` came with issue 21: an older file
/// lacks it, and its intervals are all Student-t.
pub fn aggregate(params: &[String]) -> Schema {
    let text = |name: &str| Column { name: Cow::Owned(name.to_string()), ty: Ty::Text, empty: false, later: false };
    let mut columns: Vec<Column> = params.iter().map(|p| text(p)).collect();
    columns.push(Column::new("metric", Ty::Text));
    columns.push(Column::new("n", U32));
    // Empty only if the mean is not finite (the writer's rule); never, from finite values.
    columns.push(Column::new("mean", Number).or_empty());
    for name in ["sd", "ci95_low", "ci95_high"] {
        columns.push(Column::new(name, Number).or_empty());
    }
    columns.push(Column::new("ci95_method", Ty::Word(&CI_METHODS)).or_empty().later());
    Schema { file: "aggregate.csv", columns }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::writer::header_line;
    use crate::metrics::{BucketRow, NodeRow, OpRecord, SampleRow};

    fn header(s: &Schema) -> String {
        format!("{}\n", s.names().join(","))
    }

    #[test]
    fn each_schema_is_its_writers_header_in_order() {
        assert_eq!(header(&ops()), header_line(&OpRecord::header_row()).unwrap());
        assert_eq!(header(&timeseries()), header_line(&SampleRow::default()).unwrap());
        assert_eq!(header(&nodes()), header_line(&NodeRow::default()).unwrap());
        assert_eq!(header(&buckets()), header_line(&BucketRow::default()).unwrap());
        assert_eq!(trace().names(), crate::metrics::trace::RPC_COLUMNS);
        assert_eq!(messages().names(), crate::metrics::trace::MESSAGE_COLUMNS);
        assert_eq!(closest().names(), crate::metrics::trace::CLOSEST_COLUMNS);
    }

    #[test]
    fn later_columns_come_after_the_first_files_columns() {
        // Writers append new columns, so an older file's header is the
        // schema without its later columns.
        for s in [ops(), timeseries(), nodes(), buckets()] {
            let first_later = s.columns.iter().position(|c| c.later).unwrap_or(s.columns.len());
            assert!(s.columns[first_later..].iter().all(|c| c.later), "{}", s.file);
        }
    }

    #[test]
    fn the_word_sets_are_the_writers() {
        use crate::kad::{OpKind, ReplyKind, RequestKind};
        let kinds = [
            OpKind::FindNode,
            OpKind::Get,
            OpKind::Put,
            OpKind::Ping,
            OpKind::Request,
            OpKind::Join,
            OpKind::Refresh,
            OpKind::Republish,
        ];
        // Exhaustive: a new kind fails to compile here until it is listed.
        for k in kinds {
            match k {
                OpKind::FindNode
                | OpKind::Get
                | OpKind::Put
                | OpKind::Ping
                | OpKind::Request
                | OpKind::Join
                | OpKind::Refresh
                | OpKind::Republish => {}
            }
        }
        assert_eq!(kinds.map(OpKind::as_str), OP_KINDS);
        let requests = [RequestKind::Ping, RequestKind::Store, RequestKind::FindNode, RequestKind::FindValue];
        assert_eq!(requests.map(RequestKind::as_str), REQUESTS);
        let replies = [ReplyKind::Nodes, ReplyKind::Value, ReplyKind::Pong, ReplyKind::Stored, ReplyKind::Refused];
        assert_eq!(replies.map(ReplyKind::as_str), REPLIES);
        assert_eq!(crate::report::trace::convergence::OUTCOMES.map(|o| o.0), OUTCOMES);
    }

    #[test]
    fn the_summary_metrics_are_those_a_run_writes_in_order_and_of_their_types() {
        let text = "name = \"s\"\nnodes = 30\nduration = \"90s\"\nwarmup = \"30s\"\n[workload]\nlookup_rate = 0.5\nput_rate = 0.1\nget_rate = 0.1\n";
        let sc = crate::scenario::load_str(text, "s.toml", &[]).unwrap();
        let dir = std::env::temp_dir().join(format!("kadsim-schema-summary-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let o = crate::runner::run(&sc, &dir, &mut crate::runner::Silent, 1).unwrap();
        let want: Vec<&str> = o.summary.iter().map(|(m, _)| m.as_str()).collect();
        let metrics = summary_metrics();
        assert_eq!(metrics.iter().map(|c| c.name.as_ref()).collect::<Vec<_>>(), want);
        for ((name, value), c) in o.summary.iter().zip(&metrics) {
            assert!(c.check(value).is_ok(), "{name} = {value:?}: {:?}", c.check(value));
        }
        // Every file the run wrote reads back under its schema.
        for s in [ops(), timeseries(), nodes(), buckets()] {
            super::super::table::verify(&dir.join(s.file), s.clone()).unwrap();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

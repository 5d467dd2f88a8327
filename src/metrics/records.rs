//! Row types of the output files. Units are in the column names.

use serde::Serialize;

/// One row of `ops.csv`: a finished operation (DESIGN.md §4).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpRecord {
    /// Simulated start time.
    pub start_us: u64,
    /// Simulated end time.
    pub end_us: u64,
    /// `find_node`, `get`, `put` (and, if asked for, `join`, `refresh`, `republish`).
    pub kind: &'static str,
    /// The node that started it.
    pub origin: u32,
    /// Target ID or key, written as 40 hex digits.
    #[serde(serialize_with = "hex_id")]
    pub target: crate::kad::NodeId,
    /// Discovery depth of the result (empty when there is none).
    pub hops: Option<u8>,
    /// RPCs sent.
    pub queried: u32,
    /// RPCs answered.
    pub responses: u32,
    /// RPCs timed out.
    pub timeouts: u32,
    /// `end_us - start_us`.
    pub latency_us: u64,
    /// Node lookup: the closest node found is the true closest alive node;
    /// get: the value came back; put: at least one STORE acknowledged.
    pub success: bool,
    /// Node lookups and puts: |result ∩ true k closest alive| / min(k, alive − 1).
    pub found_fraction: Option<f64>,
    /// Puts: STOREs acknowledged.
    pub replicas: u32,
    /// Whether the overall deadline cut it off.
    pub deadline_hit: bool,
    /// With an adversary (empty without): whether the target region was
    /// attacked, i.e. at least one malicious node is among the true k
    /// closest live nodes to the target (origin excluded) when the operation
    /// is judged, at its end, as `success` is. The columns from here on come
    /// last, so that readers of the older columns by position keep working.
    pub attacked: Option<bool>,
    /// With an adversary: whether the result set (the up to k closest nodes
    /// that answered) is non-empty and all malicious: the operation was
    /// eclipsed.
    pub eclipsed: Option<bool>,
    /// Gets, with an adversary: whether the value returned was a forged one
    /// (`wrong_value` attackers, `kad::behaviour::forged_value`); such a get
    /// does not count as a success.
    pub wrong_value: Option<bool>,
    /// Gets with `workload.records = "peers"` (empty otherwise): how many
    /// peers the get_peers returned (0 when none).
    pub peers: Option<u32>,
    /// The operation's number: 1 for the first row, 2 for the next… (rows
    /// are in completion order, the same for any thread count). `trace.csv`
    /// names operations by it.
    pub op: u64,
    /// Lookup-like operations (node lookups, gets, puts; joins, refreshes
    /// and republishes when recorded): microseconds from the start until
    /// the true closest live node to the target (origin excluded, judged at
    /// the end as `success` is) answered the operation's lookup; empty when
    /// it never did (docs/outputs.md "Metric definitions"). The columns from here on
    /// come after `op`, so that readers by position keep working.
    pub closest_found_us: Option<u64>,
    /// With `closest_found_us`: that node's discovery depth (DESIGN.md §4,
    /// the smaller depth kept), so the `hops` of a node lookup that succeeded.
    pub closest_found_hops: Option<u8>,
    /// Gets with `workload.records = "peers"` (empty otherwise): how many of
    /// the `peers` returned are down when the get ends (0 when none returned).
    pub stale_peers: Option<u32>,
}

impl OpRecord {
    /// A record whose only use is naming the columns of an empty `ops.csv`.
    pub fn header_row() -> OpRecord {
        OpRecord {
            start_us: 0,
            end_us: 0,
            kind: "find_node",
            origin: 0,
            target: crate::kad::NodeId::default(),
            hops: None,
            queried: 0,
            responses: 0,
            timeouts: 0,
            latency_us: 0,
            success: false,
            found_fraction: None,
            replicas: 0,
            deadline_hit: false,
            attacked: None,
            eclipsed: None,
            wrong_value: None,
            peers: None,
            op: 0,
            closest_found_us: None,
            closest_found_hops: None,
            stale_peers: None,
        }
    }
}

/// Writes an ID as 40 hex digits: kept as 20 bytes in memory, so that
/// recording an operation allocates nothing.
fn hex_id<S: serde::Serializer>(id: &crate::kad::NodeId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_hex())
}

/// One row of `timeseries.csv`: one sample interval ending at `time_s`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SampleRow {
    /// End of the interval.
    pub time_s: f64,
    /// Whether the interval lies (partly) in the warm-up.
    pub warmup: bool,
    /// Nodes up at the end of the interval.
    pub alive: u32,
    /// Nodes that came up during the interval.
    pub joins: u32,
    /// Nodes that went down during the interval.
    pub leaves: u32,
    /// Messages sent.
    pub msgs_sent: u64,
    /// Messages lost by the loss model.
    pub msgs_lost: u64,
    /// Messages dropped at a partition.
    pub msgs_cut: u64,
    /// Messages that reached a node that was down.
    pub msgs_to_dead: u64,
    /// UDP payload bytes sent (KRPC encoding).
    pub bytes_sent: u64,
    /// Workload operations started.
    pub ops_started: u32,
    /// Workload operations finished.
    pub ops_done: u32,
    /// Of those, successful.
    pub ops_succeeded: u32,
    /// Mean hops of the node lookups finished.
    pub lookup_hops_mean: Option<f64>,
    /// Median latency of the operations finished, all kinds pooled (the
    /// per-kind columns below separate fast gets from slow node lookups).
    pub latency_p50_ms: Option<f64>,
    /// 90th percentile latency.
    pub latency_p90_ms: Option<f64>,
    /// 99th percentile latency.
    pub latency_p99_ms: Option<f64>,
    /// Mean routing-table size of the nodes up.
    pub rt_size_mean: f64,
    /// Pairs stored over all nodes up.
    pub stored_pairs: u64,
    /// Node lookups finished in the interval.
    pub find_node_done: u32,
    /// Of those, successful.
    pub find_node_succeeded: u32,
    /// Their success rate (empty when none finished).
    pub find_node_success_rate: Option<f64>,
    /// Their median latency.
    pub find_node_latency_p50_ms: Option<f64>,
    /// Their 90th percentile latency.
    pub find_node_latency_p90_ms: Option<f64>,
    /// Their 99th percentile latency.
    pub find_node_latency_p99_ms: Option<f64>,
    /// Gets finished in the interval.
    pub get_done: u32,
    /// Of those, successful (the value came back).
    pub get_succeeded: u32,
    /// Their success rate.
    pub get_success_rate: Option<f64>,
    /// Their median latency.
    pub get_latency_p50_ms: Option<f64>,
    /// Their 90th percentile latency.
    pub get_latency_p90_ms: Option<f64>,
    /// Their 99th percentile latency.
    pub get_latency_p99_ms: Option<f64>,
    /// Puts finished in the interval.
    pub put_done: u32,
    /// Of those, successful (a STORE acknowledged).
    pub put_succeeded: u32,
    /// Their success rate.
    pub put_success_rate: Option<f64>,
    /// Their median latency.
    pub put_latency_p50_ms: Option<f64>,
    /// Their 90th percentile latency.
    pub put_latency_p90_ms: Option<f64>,
    /// Their 99th percentile latency.
    pub put_latency_p99_ms: Option<f64>,
    /// Of `msgs_sent`, lookup traffic (`kad::traffic`, after Li et al., IPTPS
    /// 2004): the requests of the workload's node lookups, gets and puts and
    /// the replies to them. Last in the row, with the three below, so that
    /// readers of the older columns by position keep working.
    pub lookup_msgs_sent: u64,
    /// Of `bytes_sent`, lookup traffic.
    pub lookup_bytes_sent: u64,
    /// Of `msgs_sent`, maintenance traffic: everything else (joins, bucket
    /// refreshes, republishing, hand-overs, eviction and verification PINGs,
    /// and the replies to them). `lookup_msgs_sent + maintenance_msgs_sent =
    /// msgs_sent`.
    pub maintenance_msgs_sent: u64,
    /// Of `bytes_sent`, maintenance traffic.
    pub maintenance_bytes_sent: u64,
    /// With an adversary (empty without): workload operations finished in
    /// the interval whose result set was all malicious (eclipsed).
    pub eclipsed: Option<u32>,
    /// With an adversary: gets finished in the interval that returned a
    /// forged value.
    pub wrong_values: Option<u32>,
    /// Routing-table staleness at the end of the interval: over the nodes up
    /// with at least one contact in their buckets (replacement caches not
    /// counted), the mean share of those contacts whose node is down (or up
    /// under another ID); empty when no node up has a contact. Last, with
    /// the four below, so that readers by position keep working.
    pub stale_contacts_share: Option<f64>,
    /// With an adversary (empty without): workload operations finished in
    /// the interval whose target region was attacked (`ops.csv` `attacked`).
    pub attacked_done: Option<u32>,
    /// With an adversary: of those, successful.
    pub attacked_succeeded: Option<u32>,
    /// With an adversary: workload operations finished in the interval whose
    /// target region was not attacked.
    pub not_attacked_done: Option<u32>,
    /// With an adversary: of those, successful.
    pub not_attacked_succeeded: Option<u32>,
    /// Messages that reached an unreachable node (`network.unreachable`)
    /// whose NAT had no pinhole open to their sender, and were dropped
    /// there. Last, so that readers by position keep working.
    pub msgs_to_unreachable: u64,
}

/// One row of `nodes.csv`: a node at the end of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeRow {
    /// Node index.
    pub node: u32,
    /// Its current ID, 40 hex digits.
    pub id: String,
    /// Whether it is up.
    pub alive: bool,
    /// Sessions it has had.
    pub sessions: u32,
    /// Contacts in its routing table.
    pub rt_size: u32,
    /// Non-empty buckets.
    pub buckets: u32,
    /// Pairs stored.
    pub stored_pairs: u32,
    /// Messages sent over the whole run.
    pub msgs_sent: u64,
    /// Messages received over the whole run.
    pub msgs_received: u64,
    /// Datagrams it dropped as unknown, unexpected or malformed.
    pub msgs_dropped: u64,
    /// How it takes part (`sim::reach`): `server`, `unreachable` (behind a
    /// NAT, `network.unreachable`) or `client` (read-only, `network.clients`).
    /// Last, so that readers by position keep working.
    pub class: &'static str,
    /// Its `[[classes]]` entry's name (`sim::classes`), empty without classes.
    pub class_name: String,
}

/// One row of `buckets.csv`: routing-table fill at the end of the run, by the
/// classic bucket index `i` of the paper (§2.2: bucket `i` holds the contacts
/// at distance `2^i ≤ d < 2^(i+1)`), over the nodes up. Rows run from the
/// farthest bucket (159) down to the nearest one that any node fills.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BucketRow {
    /// Bucket index `i`: the contacts share `159 − i` leading bits with the node.
    pub bucket: u8,
    /// Nodes up at the end (the denominator of the means).
    pub nodes: u32,
    /// Mean contacts per node up in this distance range.
    pub contacts_mean: f64,
    /// Fraction of the nodes up with k contacts in this range.
    pub full_fraction: f64,
}

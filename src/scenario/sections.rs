//! The sections of a scenario file, with their defaults.

use super::distribution::Distribution;
use super::network::Network;
use super::units::{Dur, NonNegative};
use crate::kad::{BucketLayout, Config, Eviction, IdWidth, Parallelism};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// The deployed Kademlia whose parameters the scenario starts from:
    /// `"paper"` (the default), `"mainline"`, `"ipfs"` or `"discv5"`
    /// ([`Profile`](super::Profile), which documents each and its sources).
    /// Fields the file sets override the profile's.
    pub profile: super::Profile,
    /// Name of the run; results go to `results/<name>/`. Defaults to the file's stem.
    pub name: String,
    /// Master seed of every random stream. Defaults to 1.
    pub seed: u64,
    /// Number of nodes. Defaults to 1000.
    pub nodes: u32,
    /// Simulated time to run. Defaults to 1 h.
    pub duration: Dur,
    /// Operations started before this time are left out of the metrics. Defaults to 0.
    pub warmup: Dur,
    /// Period of the rows of `timeseries.csv`. Defaults to 60 s.
    pub sample_interval: Dur,
    /// Protocol parameters (paper defaults).
    pub protocol: Protocol,
    /// How the network forms.
    pub bootstrap: Bootstrap,
    /// Latency, loss and partitions.
    pub network: Network,
    /// Sessions and downtimes.
    pub churn: Churn,
    /// Operations the nodes start.
    pub workload: Workload,
    /// What the output files include.
    pub output: Output,
    /// Malicious nodes (none by default).
    pub adversary: super::adversary::Adversary,
    /// `[[classes]]`: heterogeneous peers ([`super::classes`]); none by
    /// default, when every node is alike.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<super::classes::NodeClass>,
    /// `[study]`: the parameter study of `kadsim sweep FILE`, read and
    /// checked by [`super::study`]; no part of the scenario a run runs (nor
    /// of its manifest).
    #[serde(skip_serializing)]
    #[schemars(skip)]
    pub study: StudySlot,
}

impl Scenario {
    /// What the user should know about how the scenario's inputs were read
    /// (a latency matrix's dropped hosts, estimated pairs), one line each.
    pub fn notes(&self) -> &[String] {
        self.network.latency.loaded.0.as_ref().map_or(&[], |m| m.notes())
    }
}

/// The place of `[study]` in a scenario: accepted here, read by
/// [`super::study::load_study`], so that a run of a file with a study is
/// the run of its scenario, identical to one without.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StudySlot;

impl<'de> Deserialize<'de> for StudySlot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StudySlot, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(StudySlot)
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            profile: super::Profile::Paper,
            name: String::new(),
            seed: 1,
            nodes: 1000,
            duration: Dur::secs(3600),
            warmup: Dur::secs(0),
            sample_interval: Dur::secs(60),
            protocol: Protocol::default(),
            bootstrap: Bootstrap::default(),
            network: Network::default(),
            churn: Churn::default(),
            workload: Workload::default(),
            output: Output::default(),
            adversary: super::adversary::Adversary::default(),
            classes: Vec::new(),
            study: StudySlot,
        }
    }
}

/// `[protocol]`: the Kademlia parameters, named and defaulted as in the paper
/// (see [`crate::kad::Config`] for each one's meaning).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Protocol {
    /// k (paper §2.2). Defaults to 20.
    pub k: usize,
    /// α (paper §2.3). Defaults to 3.
    pub alpha: usize,
    /// b, bits per lookup step (paper §4.2). Defaults to 1.
    pub b: u8,
    /// Bits of node IDs and keys: 160 (paper §2.1, SHA-1; BitTorrent, BEP 5)
    /// or 256 (SHA-256 in libp2p's Kademlia; Keccak-256 in Ethereum's
    /// discv5). Keys are the SHA-1 or SHA-256 of their names. Defaults to 160.
    pub id_bits: u16,
    /// `"tree"`: the paper's routing tree (§2.4: the own bucket splits, and
    /// so do buckets near the own ID by the relaxed rule, and §4.2's when b >
    /// 1). `"log_distance"`: one bucket per log-distance, as Ethereum's
    /// discv5 (a bucket i for distances in [2^i, 2^(i+1)), never split; b
    /// must be 1). Defaults to tree.
    pub buckets: BucketsName,
    /// What a FIND_NODE asks for. `"closest"`: the k contacts closest to the
    /// target (paper §2.3). `"distances"`: Ethereum discv5's FINDNODE, which
    /// names log-distances (the target's from the recipient, and the two
    /// next to it) and is answered with the recipient's whole buckets at
    /// those distances, at most 16 records (discv5 wire spec, "FINDNODE
    /// Request"; go-ethereum's lookupDistances). Defaults to closest.
    pub find_node: FindNodeName,
    /// `"loose"` or `"strict"` (paper §2.3). Defaults to loose.
    pub parallelism: ParallelismName,
    /// `"lazy"` (paper §4.1: cache newcomers, replace contacts that fail) or
    /// `"ping"` (paper §2.2: ping the least-recently-seen contact of a full
    /// bucket for every newcomer). Defaults to lazy.
    pub eviction: EvictionName,
    /// BEP 5's good/questionable rule: a contact silent this long (no answer
    /// to this node, nor a request after having answered once) is
    /// questionable. A full bucket then pings only questionable contacts,
    /// least recently seen first, and keeps the newcomer waiting when all are
    /// good; a failed ping is retried once; a bucket changing counts as its
    /// refresh. BEP 5: "15m" (the mainline profile). Defaults to "0s": off,
    /// the paper's §2.2 (the least-recently-seen contact is pinged whatever
    /// its age).
    pub questionable_after: Dur,
    /// Replacement-cache size per bucket (paper §4.1). Defaults to 4.
    pub replacement_cache: usize,
    /// Failures in a row before a contact is stale (paper §4.1). Defaults to 5.
    pub stale_limit: u8,
    /// Per-RPC timeout. Defaults to 2 s.
    pub rpc_timeout: Dur,
    /// Overall deadline of an operation. Defaults to 60 s.
    pub op_timeout: Dur,
    /// Bucket refresh period (paper §2.3). Defaults to 1 h.
    pub refresh_interval: Dur,
    /// Republish period (paper §2.5). Defaults to 1 h.
    pub republish_interval: Dur,
    /// Pair lifetime (paper §2.5). Defaults to 24 h.
    pub expire_after: Dur,
    /// Publisher's republish period (paper §2.5). Defaults to 24 h.
    pub publisher_republish_interval: Dur,
    /// Cache found values along the lookup path (paper §2.3). Defaults to true.
    pub cache_on_get: bool,
    /// Hand pairs to newly seen closer nodes (paper §2.5). Defaults to true.
    pub replicate_to_new_nodes: bool,
    /// Values one key holds at most: 1 in the paper (a STORE replaces the
    /// value); more makes a key hold a set, answered whole by FIND_VALUE, as
    /// BEP 5's `get_peers` returns the peers that announced an infohash
    /// (the mainline profile: 100, libtorrent's most peers per reply). Up to
    /// 100. Defaults to 1.
    pub values_per_key: usize,
    /// Pairs a node stores at most. Defaults to 100 000.
    pub max_stored_pairs: usize,
    /// S/Kademlia disjoint lookups over d paths (Baumgart & Mies 2007, §4.4):
    /// each node is queried by at most one path, each path keeps α queries in
    /// flight, a get ends at the first value (or quorum) of any path and a node
    /// lookup merges the paths' results. A defence, not in the paper; loose
    /// parallelism only. Defaults to 1 (off).
    pub disjoint_paths: usize,
    /// A get accepts a value only once this many distinct nodes returned it
    /// byte for byte, and queries on until then. A defence against
    /// `wrong_value` adversaries, not in the paper (§2.3 takes the first
    /// value). From 1 to k. Defaults to 1 (off).
    pub value_quorum: usize,
    /// Contacts one simulated /24 may hold in one bucket, replacement cache
    /// included: the real node's admission limit (libtorrent's
    /// `dht_restrict_routing_ips`, `kadsim node --max-per-subnet`), run by the
    /// same routing-table code. Only addresses with a group are counted: the
    /// adversary's nodes when `adversary.subnets` is set (each honest node is
    /// on a /24 of its own, so never limited). Applies to contacts the
    /// protocol admits, not to tables the oracle bootstrap builds. Defaults to
    /// no limit (off); 2 is libtorrent's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_per_subnet_per_bucket: Option<usize>,
    /// BEP 5's routing table of known good nodes, as jech/dht and
    /// libtorrent apply it: a contact first heard from in a request of its
    /// own is handed to other nodes only once it has answered this node
    /// (it is PINGed 60 to 180 s after it was first heard from); a contact
    /// whose last request went unanswered is neither handed out nor used to
    /// start lookups until it answers; a request clears no failures
    /// (`kad::Config::answered_only`). It keeps unreachable nodes
    /// (`network.unreachable`) out of what nodes hand to each other.
    /// Defaults to false: the paper's §2.2.
    #[serde(skip_serializing_if = "is_false")]
    pub answered_only: bool,
    /// BEP 43: a request flagged read-only (sent by a client-only node,
    /// `network.clients`) is answered, but its sender is never added to the
    /// routing table. Every profile honours it, as libtorrent, the `mainline`
    /// crate and libp2p's servers do. Defaults to true.
    #[serde(skip_serializing_if = "is_true")]
    pub honour_read_only: bool,
    /// Whether a STORE is answered (`kad::Config::store_acks`): true for
    /// the paper's STORE RPC (§2.3) and BEP 44's `put`; false for libp2p's
    /// ADD_PROVIDER, which gets no answer, so that a put ends when its
    /// STOREs leave and counts them as its replicas (the `ipfs` profile).
    /// Defaults to true.
    #[serde(skip_serializing_if = "is_true")]
    pub store_acks: bool,
}

/// Whether a flag is off (a field left out of a printed scenario).
fn is_false(b: &bool) -> bool {
    !*b
}

/// Whether a flag is on (a field left out of a printed scenario).
fn is_true(b: &bool) -> bool {
    *b
}

/// Names of the bucket layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BucketsName {
    /// Paper §2.4.
    Tree,
    /// discv5's per-distance buckets.
    LogDistance,
}

/// Names of the FIND_NODE styles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindNodeName {
    /// Paper §2.3: the k closest contacts.
    #[default]
    Closest,
    /// discv5: whole buckets at log-distances.
    Distances,
}

/// Names of the full-bucket policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvictionName {
    /// Paper §4.1.
    Lazy,
    /// Paper §2.2.
    Ping,
}

/// Names of the lookup parallelism modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParallelismName {
    /// α in flight at all times.
    Loose,
    /// Rounds of α.
    Strict,
}

impl Default for Protocol {
    fn default() -> Self {
        let c = Config::default();
        let d = |x: std::time::Duration| Dur(x.as_micros() as u64);
        Protocol {
            k: c.k,
            alpha: c.alpha,
            b: c.b,
            id_bits: c.id_width.bits() as u16,
            buckets: BucketsName::Tree,
            find_node: FindNodeName::Closest,
            parallelism: ParallelismName::Loose,
            eviction: EvictionName::Lazy,
            questionable_after: Dur(0),
            replacement_cache: c.replacement_cache,
            stale_limit: c.stale_limit,
            rpc_timeout: d(c.rpc_timeout),
            op_timeout: d(c.op_timeout),
            refresh_interval: d(c.refresh_interval),
            republish_interval: d(c.republish_interval),
            expire_after: d(c.expire_after),
            publisher_republish_interval: d(c.publisher_republish_interval),
            cache_on_get: c.cache_on_get,
            replicate_to_new_nodes: c.replicate_to_new_nodes,
            values_per_key: c.values_per_key,
            max_stored_pairs: c.max_stored_pairs,
            disjoint_paths: c.disjoint_paths,
            value_quorum: c.value_quorum,
            max_per_subnet_per_bucket: None,
            answered_only: c.answered_only,
            honour_read_only: c.honour_read_only,
            store_acks: c.store_acks,
        }
    }
}

impl Protocol {
    /// The ID width `id_bits` names (160 bits for an unsupported value, which
    /// validation refuses).
    pub fn id_width(&self) -> IdWidth {
        IdWidth::from_bits(usize::from(self.id_bits)).unwrap_or_default()
    }

    /// The core's configuration.
    pub fn config(&self) -> Config {
        Config {
            k: self.k,
            alpha: self.alpha,
            b: self.b,
            id_width: self.id_width(),
            buckets: match self.buckets {
                BucketsName::Tree => BucketLayout::Tree,
                BucketsName::LogDistance => BucketLayout::LogDistance,
            },
            find_node: match self.find_node {
                FindNodeName::Closest => crate::kad::FindNodeStyle::Closest,
                FindNodeName::Distances => crate::kad::FindNodeStyle::Distances,
            },
            parallelism: match self.parallelism {
                ParallelismName::Loose => Parallelism::Loose,
                ParallelismName::Strict => Parallelism::Strict,
            },
            eviction: match self.eviction {
                EvictionName::Lazy => Eviction::Lazy,
                EvictionName::Ping => Eviction::Ping,
            },
            questionable_after: (self.questionable_after.0 > 0).then(|| self.questionable_after.std()),
            replacement_cache: self.replacement_cache,
            stale_limit: self.stale_limit,
            rpc_timeout: self.rpc_timeout.std(),
            op_timeout: self.op_timeout.std(),
            refresh_interval: self.refresh_interval.std(),
            republish_interval: self.republish_interval.std(),
            expire_after: self.expire_after.std(),
            publisher_republish_interval: self.publisher_republish_interval.std(),
            cache_on_get: self.cache_on_get,
            replicate_to_new_nodes: self.replicate_to_new_nodes,
            values_per_key: self.values_per_key,
            max_stored_pairs: self.max_stored_pairs,
            // Every simulated node has an IP address of its own: one per IP never binds.
            max_per_ip_per_bucket: Config::default().max_per_ip_per_bucket,
            max_per_subnet_per_bucket: self.max_per_subnet_per_bucket.unwrap_or(crate::kad::MAX_K),
            disjoint_paths: self.disjoint_paths,
            value_quorum: self.value_quorum,
            answered_only: self.answered_only,
            // Set by the engine for the client-only nodes (`network.clients`).
            read_only: false,
            honour_read_only: self.honour_read_only,
            store_acks: self.store_acks,
            behaviour: crate::kad::Behaviour::HONEST,
            // Set by the engine for the nodes it traces (`--trace`).
            trace: None,
        }
    }
}

/// `[bootstrap]`: how the network forms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Bootstrap {
    /// `"join"`: node 0 starts alone and the others join one by one through a
    /// random live node by the paper's join procedure (§2.3). `"oracle"`: every
    /// routing table is filled at time 0 as a settled network would hold it.
    /// Defaults to join.
    pub mode: BootstrapMode,
    /// Joins per second in join mode. Defaults to 50.
    pub join_rate: NonNegative,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap { mode: BootstrapMode::Join, join_rate: NonNegative(50.0) }
    }
}

/// Bootstrap modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapMode {
    /// The paper's join procedure.
    Join,
    /// Tables filled from the global view.
    Oracle,
}

/// `[churn]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Churn {
    /// `"none"`, `"distributions"` (alternating session and downtime lengths drawn
    /// from `session` and `downtime`) or `"trace"` (replayed from the CSV file
    /// `trace`, with columns `time_s,node,event` and event `up` or `down`).
    /// Defaults to none.
    pub model: ChurnModel,
    /// Session length distribution. Defaults to Weibull, shape 0.5, scale 1 h.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<Distribution>,
    /// Downtime length distribution. Defaults to exponential, mean 1 h.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downtime: Option<Distribution>,
    /// The trace file, relative to the scenario file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<PathBuf>,
    /// `"crash"`: a leaving node vanishes silently. `"graceful"`: it first hands
    /// each stored pair to the closest node it knows to the pair's key. Defaults to crash.
    pub leave: LeaveMode,
    /// `"same"`: a returning node keeps its ID. `"new"`: it takes a new one.
    /// Either way it comes back with empty state and joins again. Defaults to same.
    pub rejoin_id: RejoinId,
}

impl Default for Churn {
    fn default() -> Self {
        Churn {
            model: ChurnModel::None,
            session: None,
            downtime: None,
            trace: None,
            leave: LeaveMode::Crash,
            rejoin_id: RejoinId::Same,
        }
    }
}

/// Churn models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChurnModel {
    /// No churn.
    None,
    /// Drawn session and downtime lengths.
    Distributions,
    /// Replayed trace.
    Trace,
}

/// How a node leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeaveMode {
    /// Silently.
    Crash,
    /// Handing over its pairs first.
    Graceful,
}

/// Which ID a returning node has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejoinId {
    /// Its old ID.
    Same,
    /// A fresh random ID.
    New,
}

/// `[workload]`: operations started by live nodes, each kind a Poisson process
/// whose rate is the per-node rate times the live nodes; the origin is a
/// uniformly chosen live node that has joined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Workload {
    /// Node lookups of random IDs per node per second. Defaults to 0.01.
    pub lookup_rate: NonNegative,
    /// Puts per node per second. Defaults to 0.001.
    pub put_rate: NonNegative,
    /// Gets per node per second. Defaults to 0.005.
    pub get_rate: NonNegative,
    /// Key population: key i is the SHA-1 of `"key-<i>"`. Defaults to 1000.
    pub keys: u32,
    /// `"uniform"` or `"zipf"` over the key population (puts), and over the keys
    /// put so far in order of first put (gets). Defaults to uniform.
    pub key_distribution: KeyDistribution,
    /// Zipf exponent s. Defaults to 1.0.
    pub zipf_exponent: NonNegative,
    /// Bytes per value. Defaults to 64.
    pub value_size: u32,
    /// What puts and gets carry, which sets their KRPC sizes: `"values"`
    /// (BEP 44 `put` and `get`: the paper's STORE and FIND_VALUE) or
    /// `"peers"` (BEP 5 `announce_peer` and `get_peers`: a value is the
    /// announcing node's 6-byte compact address, stored under an infohash;
    /// `value_size` must be 6; with `protocol.values_per_key` > 1 a key holds
    /// every peer that announced it). Defaults to values.
    pub records: Records,
}

/// What puts and gets carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Records {
    /// BEP 44 values.
    Values,
    /// BEP 5 peers under infohashes.
    Peers,
    /// libp2p provider records: a put is ADD_PROVIDER (the origin announces
    /// itself as a provider of the key), a get GET_PROVIDERS; stored as
    /// peers are, one entry per provider, each expiring on its own.
    Providers,
}

impl Records {
    /// Whether a key holds a set of peers (BEP 5 peers, libp2p providers),
    /// each a 6-byte entry naming the node that announced it.
    pub fn peer_sets(self) -> bool {
        matches!(self, Records::Peers | Records::Providers)
    }
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            lookup_rate: NonNegative(0.01),
            put_rate: NonNegative(0.001),
            get_rate: NonNegative(0.005),
            keys: 1000,
            key_distribution: KeyDistribution::Uniform,
            zipf_exponent: NonNegative(1.0),
            value_size: 64,
            records: Records::Values,
        }
    }
}

/// Key popularity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// Rank r with probability ∝ r^-s.
    Zipf,
}

/// `[output]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Output {
    /// Also write joins, bucket refreshes and republishes to `ops.csv`. Defaults to false.
    pub maintenance_ops: bool,
}

//! Protocol parameters, each named as in the paper with the paper's default.

use super::behaviour::Behaviour;
use super::id::IdWidth;
use super::trace::TraceFilter;
use std::time::Duration;

/// The most disjoint lookup paths ([`Config::disjoint_paths`]).
pub const MAX_PATHS: usize = 16;

/// The most values one key may hold ([`Config::values_per_key`]):
/// libtorrent's `dht_max_peers_reply`, the most peers one `get_peers` reply
/// carries (100 compact peers take 800 bytes of KRPC).
pub const MAX_VALUES_PER_KEY: usize = 100;

/// The largest `k` (and `α`) a node accepts. Deployed networks use 8
/// (BitTorrent), 16 (Ethereum discv5) and 20 (libp2p, the paper); a reply of k
/// contacts takes 26·k bytes of a datagram.
pub const MAX_K: usize = 255;

/// How a lookup keeps its `α` queries in flight (paper §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parallelism {
    /// A new query is sent as soon as any of the `α` in flight answers or times
    /// out ("the recursion can begin before all α of the previous RPCs have
    /// returned", paper §2.3). The default, as in most deployed Kademlias.
    Loose,
    /// Rounds: the next `α` queries go out only when every query of the round
    /// has answered or timed out; a round that finds nothing closer is followed
    /// by a round to all of the k closest not yet queried (paper §2.3).
    Strict,
}

/// What a node does when a newcomer arrives for a full bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// Cache the newcomer; replace a contact only once RPCs to it have failed
    /// `stale_limit` times in a row (paper §4.1: Kademlia "delays probing
    /// contacts until it has useful messages to send them"). The default: the
    /// eager ping of §2.2 makes every message from an unknown node cost a PING,
    /// and each PING received by a node with a full bucket sets off another.
    Lazy,
    /// PING the least-recently-seen contact at once; evict it if it does not
    /// answer, else drop the newcomer to the replacement cache (paper §2.2).
    Ping,
}

/// How the routing table divides the ID space into buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketLayout {
    /// The paper's routing tree (§2.4): the bucket holding the own ID splits
    /// when full, and so does a full bucket inside the smallest subtree around
    /// the own ID that holds k contacts (the relaxed rule for "highly
    /// unbalanced trees"), and with `b > 1` the buckets of §4.2. The default.
    Tree,
    /// One bucket per log-distance and nothing else: bucket i holds contacts
    /// at distances in [2^i, 2^(i+1)) (paper §2.2's flat view), a full bucket
    /// never splits. Ethereum's discv5 ("The node table ... 256 k-buckets ...
    /// bucket i contains nodes at logarithmic distance i"; discv5 spec,
    /// node table) and libtorrent's default table are laid out so. Only the
    /// own bucket splits, which yields exactly those buckets; `b` must be 1.
    LogDistance,
}

/// What a FIND_NODE asks for and what its answer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindNodeStyle {
    /// The k contacts closest to the target (paper §2.3). The default.
    Closest,
    /// Ethereum's discv5: FINDNODE names log-distances from the recipient,
    /// and the answer holds the recipient's whole buckets at those distances,
    /// at most [`DISTANCE_REPLY_LIMIT`] records (discv5 wire spec, "FINDNODE
    /// Request": "the recipient should respond with NODES messages containing
    /// nodes at the requested distances"). A lookup asks for the target's
    /// log-distance from the recipient `d`, then `d + 1` and `d − 1`
    /// ([`lookup_distances`], as go-ethereum's `lookupDistances` does). The
    /// recipient can tell the distances from the target and its own ID, so
    /// the core carries the target and each side derives the same list.
    Distances,
}

/// Records in one answer to a FINDNODE by distances (go-ethereum's
/// `findnodeResultLimit`; the discv5 bucket size).
pub const DISTANCE_REPLY_LIMIT: usize = 16;

/// Log-distances a FINDNODE asks for when `d` is the target's log-distance
/// from the recipient (1..=`width`): `d`, then `d + 1` and `d − 1`, those in
/// range, three at most (go-ethereum, `p2p/discover/v5_udp.go`,
/// `lookupDistances`, `lookupRequestLimit = 3`). The list is empty when the
/// target is the recipient itself (`d = 0`).
pub fn lookup_distances(d: usize, width: usize) -> ([u16; 3], usize) {
    let mut out = [0u16; 3];
    if d == 0 || d > width {
        return (out, 0);
    }
    out[0] = d as u16;
    let mut n = 1;
    let mut i = 1;
    while n < 3 && (d + i <= width || i < d) {
        for x in [(d + i <= width).then(|| d + i), (i < d).then(|| d - i)].into_iter().flatten() {
            if n < 3 {
                out[n] = x as u16;
                n += 1;
            }
        }
        i += 1;
    }
    (out, n)
}

/// The parameters of one Kademlia node. `Config::default()` is the paper's.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `k`: bucket capacity and replication parameter (paper §2.2). Defaults to 20.
    pub k: usize,
    /// `α`: the lookup's concurrency (paper §2.3). Defaults to 3.
    pub alpha: usize,
    /// `b`: bits resolved per lookup step in accelerated lookups (paper §4.2):
    /// a full bucket at depth `d` not holding the own ID is split when
    /// `d mod b != 0`. Defaults to 1 (no acceleration).
    pub b: u8,
    /// The width of IDs and keys: 160 bits (paper §2.1, SHA-1; BitTorrent's
    /// BEP 5) or 256 (SHA-256 in libp2p, Keccak-256 in Ethereum's discv5).
    /// Every node of a network must use the same width; a node's own ID must
    /// fit it. Defaults to 160.
    pub id_width: IdWidth,
    /// How the routing table divides the ID space. Defaults to the paper's tree.
    pub buckets: BucketLayout,
    /// What a FIND_NODE asks for: the k closest contacts (the paper's) or
    /// whole buckets at log-distances (discv5). Defaults to the paper's.
    pub find_node: FindNodeStyle,
    /// Whether lookups use loose or strict parallelism (paper §2.3). Defaults to loose.
    pub parallelism: Parallelism,
    /// Full-bucket policy: lazy replacement (§4.1) or ping-before-evict (§2.2).
    /// Defaults to lazy.
    pub eviction: Eviction,
    /// BEP 5's good/questionable rule: a contact that has not answered this
    /// node for this long (nor sent it a request after answering once) is
    /// questionable; a full bucket pings only questionable contacts, least
    /// recently seen first, retries a failed ping once, and keeps the
    /// newcomer waiting when all are good; bucket changes count as refreshes
    /// ([`RoutingTable::with_questionable_after`](super::RoutingTable::with_questionable_after)).
    /// BEP 5 uses 15 minutes. Defaults to `None`: the paper's §2.2, which
    /// pings the least-recently-seen contact whatever its age.
    pub questionable_after: Option<Duration>,
    /// Replacement-cache entries per bucket (paper §4.1, which gives no size).
    /// Defaults to 4: enough to replace the failed contacts of a bucket between
    /// two refreshes, at 96 bytes per full bucket.
    pub replacement_cache: usize,
    /// Failed RPCs in a row after which a contact is stale and replaced by a
    /// waiting replacement (paper §4.1: "5 RPCs in a row"). Defaults to 5.
    pub stale_limit: u8,
    /// How long an RPC may go unanswered before it counts as failed and frees its
    /// lookup slot. The paper gives no value; defaults to 2 s.
    pub rpc_timeout: Duration,
    /// Overall deadline of an operation, so that no lookup runs forever. Defaults to 60 s.
    pub op_timeout: Duration,
    /// A bucket with no node lookup in its range for this long is refreshed by a
    /// lookup of a random ID in it (paper §2.3: an hour). Defaults to 1 h.
    pub refresh_interval: Duration,
    /// Period of republishing every stored pair (paper §2.5: hourly). Defaults to 1 h.
    pub republish_interval: Duration,
    /// Lifetime of a pair after its original publication (paper §2.5: 24 h). Defaults to 24 h.
    pub expire_after: Duration,
    /// Period at which the original publisher republishes its pairs (paper §2.5: 24 h).
    /// Defaults to 24 h.
    pub publisher_republish_interval: Duration,
    /// After a successful value lookup, store the pair at the closest node seen that
    /// did not return it (paper §2.3). Defaults to true.
    pub cache_on_get: bool,
    /// Hand stored pairs to a newly seen node closer to their key (paper §2.5).
    /// Defaults to true.
    pub replicate_to_new_nodes: bool,
    /// Values a key holds at most: 1 in the paper (a STORE replaces the
    /// value, §2.3); more makes a key hold a set, as BEP 5's `get_peers`
    /// returns every peer that announced an infohash (and IPFS a key's
    /// providers). A FIND_VALUE is answered with the whole set. Defaults to 1.
    pub values_per_key: usize,
    /// Upper bound on stored pairs, so a flood of STOREs cannot exhaust memory.
    /// Defaults to 100 000.
    pub max_stored_pairs: usize,
    /// Contacts (replacement cache included) one IP address may hold in one
    /// bucket. Not from the paper, whose §2.2 admits any sender: libtorrent's
    /// `dht_restrict_routing_ips` allows one node per IP, so that one host
    /// cannot fill a bucket with made-up IDs. Defaults to 1. Applies only to
    /// addresses with an admission group ([`Address::group`](super::Address::group)):
    /// loopback, private and link-local addresses (tests, local networks) and
    /// simulated addresses are never limited.
    pub max_per_ip_per_bucket: usize,
    /// Contacts (replacement cache included) one IPv4 /24 or IPv6 /64 may hold
    /// in one bucket, as [`max_per_ip_per_bucket`](Self::max_per_ip_per_bucket)
    /// does for one IP. Defaults to 2.
    pub max_per_subnet_per_bucket: usize,
    /// S/Kademlia's disjoint lookups (Baumgart & Mies 2007, §4.4): a lookup
    /// spreads its first candidates over `d` paths, each path a lookup of the
    /// paper's with its own α in flight, and each node is queried by at most
    /// one path (the path that first learned of it), so that the paths stay
    /// disjoint and an attacker on one cannot steer the others. The lookup
    /// ends when every path has converged, or at the first value (or quorum)
    /// of any path; a node lookup's result merges the paths. Not in the
    /// paper. Defaults to 1 (the paper's single lookup). Loose parallelism only.
    pub disjoint_paths: usize,
    /// A value lookup accepts a value only once this many distinct nodes have
    /// returned it, byte for byte (after S/Kademlia §4.4's majority over the
    /// paths, and the quorum reads of storage systems); until then it keeps
    /// querying. Not in the paper, which takes the first value (§2.3).
    /// Defaults to 1.
    pub value_quorum: usize,
    /// BEP 5's routing table of known good nodes ("A good node is a node
    /// has responded to one of our queries"; "Nodes that we know are good
    /// are given priority over nodes with unknown status"), as jech/dht
    /// (Transmission's DHT) and libtorrent apply it: a contact first heard
    /// from in a request of its own is of unknown status and is handed to
    /// other nodes (in replies to FIND_NODE and FIND_VALUE) only once it has
    /// answered a request of this node; this node's own lookups may try it,
    /// and it is PINGed once, 60 to 180 s after it was first heard from
    /// (jech/dht's maintenance period). A contact whose last request went
    /// unanswered is neither handed out nor used to start lookups until it
    /// answers again (libtorrent's `find_node` skips entries not
    /// `confirmed()`), and a request from a contact clears none of its
    /// failures (BEP 5: "Nodes become bad when they fail to respond to
    /// multiple queries in a row"). This keeps nodes behind a NAT, which
    /// send requests but answer only through the pinholes those open, out
    /// of what nodes hand to each other (`docs/reachability.md`). Defaults
    /// to false: the paper's §2.2, under which every message received
    /// admits its sender and any contact may be handed out.
    pub answered_only: bool,
    /// BEP 43 ("Read-only DHT Nodes"): this node "no longer responds to
    /// 'query' messages that it receives", and flags every request it sends
    /// read-only (the top-level `ro` = 1), so that others do not add it to
    /// their routing tables; it still looks up, gets and puts. libp2p's DHT
    /// client mode is the same role. Defaults to false.
    pub read_only: bool,
    /// BEP 43: a request flagged read-only is answered, but its sender is
    /// never added to the routing table (the flag signals "other DHT nodes
    /// to not place it in their routing table and not to ping it").
    /// libtorrent, the `mainline` crate and libp2p's servers (which add only
    /// peers that advertise the DHT protocol) all do. Defaults to true.
    pub honour_read_only: bool,
    /// Whether a STORE is answered. The paper's STORE is an RPC (§2.3), and
    /// a put counts the replicas that acknowledged it. libp2p's
    /// ADD_PROVIDER is sent without waiting for an answer and its receiver
    /// sends none (go-libp2p-kad-dht `PutProvider` uses `SendMessage`;
    /// rust-libp2p's `AddProvider` has no response): with `false` a storer
    /// answers no STORE, and a put or republish ends when its STOREs leave,
    /// counting as replicas the STOREs sent. Defaults to true.
    pub store_acks: bool,
    /// How this node answers requests: honestly (the default) or as an
    /// attacker ([`Behaviour`]). A hook of the simulator's adversaries.
    pub behaviour: Behaviour,
    /// Which of the node's operations record their RPCs for the driver
    /// ([`TraceFilter`], [`crate::kad::trace`]); `None` (the default)
    /// records nothing. Not a protocol parameter: a hook of the drivers.
    pub trace: Option<TraceFilter>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            k: 20,
            alpha: 3,
            b: 1,
            id_width: IdWidth::Bits160,
            buckets: BucketLayout::Tree,
            find_node: FindNodeStyle::Closest,
            parallelism: Parallelism::Loose,
            eviction: Eviction::Lazy,
            questionable_after: None,
            replacement_cache: 4,
            stale_limit: 5,
            rpc_timeout: Duration::from_secs(2),
            op_timeout: Duration::from_secs(60),
            refresh_interval: Duration::from_secs(3600),
            republish_interval: Duration::from_secs(3600),
            expire_after: Duration::from_secs(24 * 3600),
            publisher_republish_interval: Duration::from_secs(24 * 3600),
            cache_on_get: true,
            replicate_to_new_nodes: true,
            values_per_key: 1,
            max_stored_pairs: 100_000,
            max_per_ip_per_bucket: 1,
            max_per_subnet_per_bucket: 2,
            disjoint_paths: 1,
            value_quorum: 1,
            answered_only: false,
            read_only: false,
            honour_read_only: true,
            store_acks: true,
            behaviour: Behaviour::HONEST,
            trace: None,
        }
    }
}

/// A parameter out of its range: the field's name and what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {expected}")]
pub struct ConfigError {
    /// The field, as named in [`Config`].
    pub field: &'static str,
    /// What the field must be.
    pub expected: String,
}

impl Config {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field, expected: &str| Err(ConfigError { field, expected: expected.to_string() });
        if self.k == 0 || self.k > MAX_K {
            return err("k", &format!("expected an integer from 1 to {MAX_K}"));
        }
        if self.alpha == 0 || self.alpha > MAX_K {
            return err("alpha", &format!("expected an integer from 1 to {MAX_K}"));
        }
        if self.b == 0 || self.b > 8 {
            return err("b", "expected an integer from 1 to 8");
        }
        if self.buckets == BucketLayout::LogDistance && self.b != 1 {
            return err("b", "expected 1 with bucket layout \"log_distance\" (b > 1 splits buckets, §4.2)");
        }
        if self.replacement_cache > 255 {
            return err("replacement_cache", "expected an integer from 0 to 255");
        }
        if self.stale_limit == 0 {
            return err("stale_limit", "expected an integer of at least 1");
        }
        for (field, d) in [
            ("rpc_timeout", self.rpc_timeout),
            ("op_timeout", self.op_timeout),
            ("refresh_interval", self.refresh_interval),
            ("republish_interval", self.republish_interval),
            ("expire_after", self.expire_after),
            ("publisher_republish_interval", self.publisher_republish_interval),
        ] {
            if d.is_zero() {
                return err(field, "expected a positive duration");
            }
        }
        if self.questionable_after.is_some_and(|d| d < Duration::from_secs(1)) {
            return err("questionable_after", "expected a duration of at least 1 s");
        }
        if self.max_stored_pairs == 0 {
            return err("max_stored_pairs", "expected an integer of at least 1");
        }
        if self.values_per_key == 0 || self.values_per_key > MAX_VALUES_PER_KEY {
            return err("values_per_key", &format!("expected an integer from 1 to {MAX_VALUES_PER_KEY}"));
        }
        for (field, n) in [
            ("max_per_ip_per_bucket", self.max_per_ip_per_bucket),
            ("max_per_subnet_per_bucket", self.max_per_subnet_per_bucket),
        ] {
            if n == 0 || n > MAX_K {
                return err(field, &format!("expected an integer from 1 to {MAX_K}"));
            }
        }
        if self.disjoint_paths == 0 || self.disjoint_paths > MAX_PATHS {
            return err("disjoint_paths", &format!("expected an integer from 1 to {MAX_PATHS}"));
        }
        if self.disjoint_paths > 1 && self.parallelism == Parallelism::Strict {
            return err("disjoint_paths", "expected 1 with strict parallelism (disjoint paths run loose lookups)");
        }
        if self.value_quorum == 0 || self.value_quorum > self.k {
            return err("value_quorum", &format!("expected an integer from 1 to k ({})", self.k));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_papers() {
        let c = Config::default();
        assert_eq!((c.k, c.alpha, c.b, c.stale_limit), (20, 3, 1, 5));
        assert_eq!(c.expire_after, Duration::from_secs(86_400));
        assert_eq!(c.republish_interval, Duration::from_secs(3_600));
        assert_eq!(c.refresh_interval, Duration::from_secs(3_600));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn lookup_distances_are_go_ethereums() {
        let ds = |d, w| {
            let (a, n) = lookup_distances(d, w);
            a[..n].to_vec()
        };
        assert_eq!(ds(250, 256), [250, 251, 249]);
        assert_eq!(ds(256, 256), [256, 255, 254]);
        assert_eq!(ds(1, 256), [1, 2, 3]);
        assert_eq!(ds(2, 256), [2, 3, 1]);
        assert_eq!(ds(0, 256), Vec::<u16>::new());
        assert_eq!(ds(1, 1), [1]);
        assert_eq!(ds(160, 160), [160, 159, 158]);
    }

    #[test]
    fn out_of_range_fields_are_named() {
        let c = Config { k: 0, ..Config::default() };
        assert_eq!(c.validate().unwrap_err().field, "k");
        let c = Config { alpha: 0, ..Config::default() };
        assert_eq!(c.validate().unwrap_err().field, "alpha");
        let c = Config { rpc_timeout: Duration::ZERO, ..Config::default() };
        assert_eq!(c.validate().unwrap_err().field, "rpc_timeout");
    }
}

//! Profiles: `profile = "paper" | "mainline" | "ipfs" | "discv5"` at the top
//! of a scenario sets many fields at once to the values of a deployed
//! Kademlia. A profile is a base under the file: every field the file (or
//! `--set`) gives overrides the profile's, and fields neither sets keep the
//! paper's defaults. Each profile below is TOML, each value with its source.
//!
//! What kadsim does not model of these systems (each profile's doc names
//! it; docs/profiles.md lists it): connection set-up
//! (libp2p's TCP or QUIC handshakes, discv5's WHOAREYOU handshake), signed
//! records, and each client's own lookup termination rules.

use serde::{Deserialize, Serialize};

/// The profile a scenario starts from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// The paper's parameters (Maymounkov & Mazières 2002): every default of
    /// kadsim. Sets nothing.
    #[default]
    Paper,
    /// BitTorrent's Mainline DHT (BEP 5, "DHT Protocol"): k = 8, 160-bit IDs,
    /// buckets split only around the own ID, 15-minute bucket refresh, good
    /// and questionable nodes (15 minutes; a full bucket pings its
    /// least-recently-seen questionable contact before evicting it),
    /// and a get_peers/announce_peer workload storing 6-byte compact peer
    /// addresses under infohashes, charged at their KRPC sizes.
    Mainline,
    /// libp2p's Kademlia as IPFS runs it (libp2p kad-dht specification;
    /// go-libp2p-kad-dht): 256-bit keyspace (SHA-256), k = 20, α = 10,
    /// provider records (ADD_PROVIDER, unanswered; GET_PROVIDERS) that
    /// expire after 48 h and that their provider republishes every 22 h,
    /// every message charged as a libp2p protobuf on a stream.
    Ipfs,
    /// Ethereum's node discovery v5 (devp2p discv5 specification, "Node
    /// Table" and "Lookup"): 256-bit IDs (Keccak-256), k = 16, 256
    /// log-distance buckets, α = 3, node lookups only.
    Discv5,
}

/// BEP 5 (<https://www.bittorrent.org/beps/bep_0005.html>).
const MAINLINE: &str = r#"
[protocol]
# "Each bucket can only hold K nodes, currently eight."
k = 8
# 160-bit node IDs and infohashes (SHA-1 space).
id_bits = 160
# "When a bucket is full of known good nodes, no more nodes may be added
# unless our own node ID falls within the range of the bucket": only the own
# bucket splits.
buckets = "log_distance"
# "If there are any questionable nodes in the bucket, the least recently seen
# node is pinged": ping before evict, and only questionable nodes.
eviction = "ping"
# "A good node is a node has responded to one of our queries within the last
# 15 minutes. A node is also good if it has ever responded to one of our
# queries and has sent us a query within the last 15 minutes. After 15
# minutes of inactivity, a node becomes questionable."
questionable_after = "15m"
# "Buckets that have not been changed in 15 minutes should be refreshed."
refresh_interval = "15m"
# Peers are not replicated by storers, nor cached along lookup paths: the
# torrent client re-announces (libtorrent: every 15 minutes, peers expire
# after 30 minutes without an announce, dht_storage.cpp).
republish_interval = "30m"
expire_after = "30m"
publisher_republish_interval = "15m"
cache_on_get = false
replicate_to_new_nodes = false
# "If the queried node has peers for the infohash, they are returned in a key
# "values" as a list of strings": a storer keeps every peer that announced,
# each expiring on its own; libtorrent replies with at most 100
# (dht_max_peers_reply).
values_per_key = 100

[workload]
# get_peers / announce_peer: a value is a peer's compact IP/port (6 bytes,
# "Compact IP-address/port info"), stored under an infohash.
records = "peers"
value_size = 6
"#;

/// libp2p kad-dht spec (<https://github.com/libp2p/specs/blob/master/kad-dht/README.md>)
/// and go-libp2p-kad-dht's Amino defaults (`amino/defaults.go`).
const IPFS: &str = r#"
[protocol]
# Keys and peer IDs are compared as SHA-256 digests: a 256-bit keyspace.
id_bits = 256
# "k ... replication parameter ... default value of 20".
k = 20
# "α ... concurrency of node and value lookups ... default value of 10".
alpha = 10
# go-libp2p-kbucket keeps one bucket per common-prefix length, splitting the
# last (own) one only.
buckets = "log_distance"
# Provider records: DefaultProvideValidity = 48h, DefaultReprovideInterval = 22h.
# Storers do not republish (the provider does) nor cache along lookup paths.
expire_after = "48h"
publisher_republish_interval = "22h"
republish_interval = "48h"
cache_on_get = false
replicate_to_new_nodes = false
# go-libp2p-kad-dht refreshes its routing table every 10 minutes.
refresh_interval = "10m"
# ADD_PROVIDER is sent without waiting for an answer, and none comes
# (go-libp2p-kad-dht: PutProvider uses SendMessage, not SendRequest).
store_acks = false
# A storer keeps every provider of a key (go-libp2p-kad-dht's provider
# store has no per-key limit); kadsim bounds the set at 100, as mainline's.
values_per_key = 100

[workload]
# Provider records: a put is ADD_PROVIDER (the origin provides the key), a
# get GET_PROVIDERS; each provider is one entry of the key's set, expiring
# on its own. Messages are charged as libp2p protobuf (wire::libp2p_size).
records = "providers"
value_size = 6
"#;

/// devp2p discv5 (<https://github.com/ethereum/devp2p/blob/master/discv5/discv5-theory.md>).
const DISCV5: &str = r#"
[protocol]
# Node IDs are keccak256 of the public key: 256 bits.
id_bits = 256
# "For each 0 <= i < 256, every node keeps a k-bucket for nodes of
# logdistance(self, n) == i ... The protocol uses k = 16."
k = 16
buckets = "log_distance"
# "FINDNODE ... distances: list of distances to search for ... the recipient
# should respond with NODES messages containing nodes at the requested
# distances" (discv5 wire spec); a lookup asks for the target's distance from
# the recipient and the two next to it (go-ethereum, lookupDistances), and
# is answered with at most 16 records (findnodeResultLimit).
find_node = "distances"
# "The lookup initiator starts by picking α closest nodes ... α = 3".
alpha = 3
# A full bucket's least-recently-seen entry is revalidated (pinged) before a
# newcomer replaces it.
eviction = "ping"

[workload]
# Discovery only: no values are stored.
put_rate = 0
get_rate = 0
"#;

impl Profile {
    /// The protocol parameters of a real node (`kadsim node --profile`),
    /// which speaks BEP 5 and so takes only 160-bit profiles: the profile's
    /// `[protocol]` with the real node's own store bound and admission
    /// limits. `None` for a profile of another ID width.
    pub fn node_config(self, base: &crate::kad::Config) -> Option<crate::kad::Config> {
        let p = self.base().protocol;
        (p.id_width() == crate::kad::IdWidth::Bits160).then(|| crate::kad::Config {
            max_stored_pairs: base.max_stored_pairs,
            max_per_ip_per_bucket: base.max_per_ip_per_bucket,
            max_per_subnet_per_bucket: base.max_per_subnet_per_bucket,
            ..p.config()
        })
    }

    /// The scenario the profile alone gives: its fields, and defaults elsewhere.
    pub fn base(self) -> super::Scenario {
        let text = toml::to_string(&self.table()).expect("a table serializes");
        let mut sc: super::Scenario = toml::from_str(&text).expect("the profiles are valid scenarios");
        sc.profile = self;
        sc
    }

    /// The fields the profile sets, as a TOML table (empty for the paper).
    pub fn table(self) -> toml::Table {
        let text = match self {
            Profile::Paper => "",
            Profile::Mainline => MAINLINE,
            Profile::Ipfs => IPFS,
            Profile::Discv5 => DISCV5,
        };
        text.parse().expect("the profiles are valid TOML")
    }
}

/// `over` laid over `base`: tables merge key by key, any other value of
/// `over` replaces `base`'s.
pub fn merge(mut base: toml::Table, over: toml::Table) -> toml::Table {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                let merged = merge(std::mem::take(b), o);
                *b = merged;
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn a_real_node_takes_the_160_bit_profiles_only() {
        let base = crate::net::NodeConfig::default().kad;
        assert_eq!(Profile::Paper.node_config(&base), Some(base.clone()), "the paper's profile changes nothing");
        let m = Profile::Mainline.node_config(&base).unwrap();
        assert_eq!(
            (m.k, m.buckets, m.eviction),
            (8, crate::kad::BucketLayout::LogDistance, crate::kad::Eviction::Ping)
        );
        assert_eq!(m.questionable_after, Some(std::time::Duration::from_secs(900)));
        assert_eq!(
            (m.max_stored_pairs, m.max_per_subnet_per_bucket),
            (base.max_stored_pairs, base.max_per_subnet_per_bucket)
        );
        assert!(m.validate().is_ok());
        assert_eq!(Profile::Ipfs.node_config(&base), None);
        assert_eq!(Profile::Discv5.node_config(&base), None);
    }

    #[test]
    fn every_profile_is_a_valid_scenario_fragment() {
        for p in [Profile::Paper, Profile::Mainline, Profile::Ipfs, Profile::Discv5] {
            let text = toml::to_string(&p.table()).unwrap();
            let sc: Scenario = toml::from_str(&text).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            assert!(sc.protocol.config().validate().is_ok(), "{p:?}");
        }
    }

    #[test]
    fn merge_keeps_what_the_file_does_not_set() {
        let base: toml::Table = "a = 1\n[t]\nx = 1\ny = 2\n".parse().unwrap();
        let over: toml::Table = "b = 2\n[t]\ny = 3\n".parse().unwrap();
        let m = merge(base, over);
        assert_eq!(m.to_string(), "a = 1\nb = 2\n\n[t]\nx = 1\ny = 3\n");
    }
}

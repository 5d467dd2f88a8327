//! Encoded size of a KRPC message, computed arithmetically (no allocation).
//!
//! The mapping of the paper's RPCs onto KRPC:
//!
//! | RPC | query `q` | arguments `a` | reply `r` |
//! |---|---|---|---|
//! | PING | `ping` | `id` | `id` |
//! | FIND_NODE | `find_node` | `id`, `target` | `id`, `nodes` (26 bytes per IPv4 contact) |
//! | FIND_VALUE | `get` (BEP 44) | `id`, `target` | `id`, `token`, and `v` with `ttl`, or `nodes` |
//! | STORE | `put` (BEP 44) | `id`, `target`, `token`, `ttl`, `v` | `id` |
//!
//! Every message also carries `t` (the 4-byte transaction ID), `y` (`q` or `r`)
//! and `v` (a 4-byte client version); a read-only node's queries `ro` = 1
//! (BEP 43). A `put`'s `target` is the key (BEP 44
//! implementations such as `mainline` require it); a `target` other than the
//! SHA-1 of the bencoded value, and `ttl`, are kadsim's extension of BEP 44 for
//! string keys and lifetimes. A refused STORE is answered with a KRPC error.
//!
//! Two variations ([`Sizing`]) serve the simulator's profiles:
//! - *Peers* (BEP 5's tracker use): FIND_VALUE is `get_peers` with an
//!   `info_hash`, answered by `id`, `token` and `values` (a list of 6-byte
//!   compact peers: the value) or `nodes`; STORE is `announce_peer` with
//!   `info_hash`, `port` and `token`, answered by `id`.
//! - *Wide IDs*: a 256-bit network is charged as KRPC with 32-byte IDs,
//!   targets and keys, and 38-byte compact node infos.
//! - *libp2p* ([`super::libp2p_size`], the `ipfs` profile): every message is
//!   charged as a length-prefixed protobuf on a yamux stream under Noise.
//! - *discv5* ([`discv5_len`]): PING, PONG, FINDNODE and NODES are charged
//!   as discv5 packets (devp2p discv5 wire spec): a 16-byte masking IV, a
//!   23-byte static header, a 32-byte source ID (an ordinary message's
//!   authdata), the message type and RLP message data, and a 16-byte GCM tag.
//!   A NODES answer travels in packets of at most 3 records (go-ethereum's
//!   `nodesResponseItemLimit`), each record an ENR of [`ENR_LEN`] bytes; its
//!   charge is the sum of its packets (the simulator counts it as one
//!   message). Values (STORE, FIND_VALUE) are not part of discv5 and keep
//!   their KRPC charge.

use super::compact::{ADDR_V4, PEER_LEN};
use crate::kad::{Body, IdWidth, Message};

/// How the simulator charges messages: ID width and what values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Sizing {
    /// Width of IDs and keys on the wire.
    pub width: IdWidth,
    /// Gets and puts are BEP 5 `get_peers` and `announce_peer`.
    pub peers: bool,
    /// Node discovery messages are discv5 packets (see the module documentation).
    pub discv5: bool,
    /// Every message is a libp2p kad-dht protobuf message on a stream
    /// ([`super::libp2p_size`]; the `ipfs` profile).
    pub libp2p: bool,
}

/// Bytes of one ENR in a discv5 NODES answer: the example record of EIP-778
/// (an `id`, `ip`, `secp256k1` and `udp` entry with its 64-byte signature),
/// 134 bytes of RLP. The spec's limit is 300 bytes; consensus-layer records
/// with `eth2` and `attnets` entries run to about 180.
pub const ENR_LEN: usize = 134;
/// Records per discv5 NODES packet (go-ethereum, `nodesResponseItemLimit`).
pub const ENRS_PER_PACKET: usize = 3;
/// A discv5 packet without its message data: masking IV (16), static header
/// (23), an ordinary message's authdata, the source node ID (32), the message
/// type (1) and the AES-GCM tag (16).
pub const DISCV5_OVERHEAD: usize = 16 + 23 + 32 + 1 + 16;
/// RLP bytes of a discv5 request ID (8 bytes, as go-ethereum sends them).
const RLP_REQUEST_ID: usize = 9;
/// RLP bytes of an ENR sequence number (8 bytes).
const RLP_ENR_SEQ: usize = 9;

/// Bytes of an RLP list header for `payload` bytes of items.
fn rlp_list(payload: usize) -> usize {
    if payload < 56 { 1 } else { 1 + (usize::BITS - payload.leading_zeros()).div_ceil(8) as usize }
}

/// The UDP payload size of `msg` as discv5 packets (see the module
/// documentation), or `None` for a message discv5 does not have.
pub fn discv5_len<A: crate::kad::Address>(msg: &Message<A>) -> Option<usize> {
    let packet = |data: usize| DISCV5_OVERHEAD + rlp_list(data) + data;
    Some(match &msg.body {
        // [request-id, enr-seq]
        Body::Ping => packet(RLP_REQUEST_ID + RLP_ENR_SEQ),
        // [request-id, enr-seq, recipient-ip (4 bytes), recipient-port (2 bytes)]
        Body::Pong => packet(RLP_REQUEST_ID + RLP_ENR_SEQ + 5 + 3),
        // [request-id, [d1, d2, d3]]: distances of 128..=255 take 2 bytes each.
        Body::FindNode { .. } => packet(RLP_REQUEST_ID + rlp_list(6) + 6),
        // [request-id, total, [ENR, ...]] per packet of at most 3 records; an
        // empty answer is one packet.
        Body::Nodes { contacts } => {
            let n = contacts.len();
            let packets = n.div_ceil(ENRS_PER_PACKET).max(1);
            (0..packets)
                .map(|i| {
                    let records = (n - i * ENRS_PER_PACKET).min(ENRS_PER_PACKET) * ENR_LEN;
                    packet(RLP_REQUEST_ID + 1 + rlp_list(records) + records)
                })
                .sum()
        }
        _ => return None,
    })
}

/// The port an `announce_peer` announces (BitTorrent's customary 6881).
const ANNOUNCE_PORT: i64 = 6881;
/// Bytes of a write token (BEP 44), as kadsim issues them.
pub const TOKEN_LEN: usize = 4;
/// IPv4 and UDP headers, which [`encoded_len`] does not include.
pub const UDP_IPV4_OVERHEAD: usize = 28;
/// Bytes of the client version string `v`.
const VERSION_LEN: usize = 4;
/// Bytes of a transaction ID.
const TX_LEN: usize = 4;
/// The error message of a refused STORE.
pub(crate) const STORE_REFUSED: &str = "store full";
/// KRPC error code of a refused STORE (201 is "generic error" in BEP 5).
pub(crate) const STORE_REFUSED_CODE: i64 = 201;

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// A bencoded byte string of `n` bytes: `<n>:<bytes>`.
fn bstr(n: usize) -> usize {
    digits(n) + 1 + n
}

/// A key/value pair of a dictionary whose value takes `value` bytes.
fn entry(key: &str, value: usize) -> usize {
    bstr(key.len()) + value
}

/// A bencoded integer: `i<digits>e`.
fn bint(n: i64) -> usize {
    2 + digits(n.unsigned_abs() as usize) + usize::from(n < 0)
}

/// The UDP payload size of `msg` as KRPC; contacts count as IPv4 compact node info.
pub fn encoded_len<A: crate::kad::Address>(msg: &Message<A>) -> usize {
    encoded_len_as(msg, Sizing::default())
}

/// The UDP payload size of `msg` as KRPC with `sizing`'s IDs and records
/// (see the module documentation).
pub fn encoded_len_as<A: crate::kad::Address>(msg: &Message<A>, sizing: Sizing) -> usize {
    if sizing.discv5
        && let Some(n) = discv5_len(msg)
    {
        return n;
    }
    if sizing.libp2p {
        return super::libp2p_size::libp2p_len(msg, sizing.peers);
    }
    let idb = sizing.width.bytes();
    let id = entry("id", bstr(idb));
    let envelope = 2 + entry("t", bstr(TX_LEN)) + entry("v", bstr(VERSION_LEN)) + entry("y", bstr(1));
    // BEP 43: a read-only node's queries carry `ro` = 1.
    let ro = if msg.read_only { entry("ro", bint(1)) } else { 0 };
    let query = |name: &str, args: usize| envelope + ro + entry("q", bstr(name.len())) + entry("a", 2 + id + args);
    let reply = |fields: usize| envelope + entry("r", 2 + id + fields);
    match &msg.body {
        Body::Ping => query("ping", 0),
        Body::FindNode { .. } => query("find_node", entry("target", bstr(idb))),
        Body::FindValue { .. } if sizing.peers => query("get_peers", entry("info_hash", bstr(idb))),
        Body::FindValue { .. } => query("get", entry("target", bstr(idb))),
        Body::Store { .. } if sizing.peers => query(
            "announce_peer",
            entry("info_hash", bstr(idb)) + entry("port", bint(ANNOUNCE_PORT)) + entry("token", bstr(TOKEN_LEN)),
        ),
        Body::Store { value, ttl_secs, .. } => query(
            "put",
            entry("target", bstr(idb))
                + entry("token", bstr(TOKEN_LEN))
                + entry("ttl", bint(i64::from(*ttl_secs)))
                + entry("v", bstr(value.len())),
        ),
        Body::Pong | Body::Stored { accepted: true } => reply(0),
        Body::Stored { accepted: false } => {
            envelope + entry("e", 2 + bint(STORE_REFUSED_CODE) + bstr(STORE_REFUSED.len()))
        }
        Body::Nodes { contacts } => {
            // A `get` that found no value also returns a token; the codec cannot
            // tell the two replies apart without the request, and neither can a
            // size estimate, so both are charged as find_node replies.
            reply(entry("nodes", bstr(contacts.len() * (idb + ADDR_V4 - 20))))
        }
        Body::Found { value, .. } if sizing.peers => {
            // A list of 6-byte compact peers, one string each.
            let peers: usize = value.chunks(PEER_LEN).map(|p| bstr(p.len())).sum();
            reply(entry("token", bstr(TOKEN_LEN)) + entry("values", 2 + peers))
        }
        Body::Found { value, ttl_secs } => reply(
            entry("token", bstr(TOKEN_LEN)) + entry("ttl", bint(i64::from(*ttl_secs))) + entry("v", bstr(value.len())),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kad::{Contact, Contacts, NodeId};
    use std::sync::Arc;

    fn msg(body: Body<u32>) -> Message<u32> {
        Message { read_only: false, tx: 1, sender: NodeId::default(), body }
    }

    #[test]
    fn ping_matches_bep5_example_plus_version_and_longer_tx() {
        // BEP 5: d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe is 56
        // bytes with a 2-byte transaction ID; kadsim sends 4 bytes and a 4-byte
        // version entry (1:v4:KS01, 9 bytes): 56 + 2 + 9 = 67.
        assert_eq!(encoded_len(&msg(Body::Ping)), 67);
        // Reply d1:rd2:id20:...e1:t2:aa1:y1:re is 47 bytes in BEP 5: 47 + 2 + 9.
        assert_eq!(encoded_len(&msg(Body::Pong)), 58);
    }

    #[test]
    fn find_node_reply_grows_26_bytes_per_contact() {
        let mut contacts = Vec::new();
        let empty = encoded_len(&msg(Body::Nodes { contacts: contacts.clone() }));
        for i in 0..8 {
            contacts.push(Contact { id: NodeId::default(), addr: i });
        }
        let eight = encoded_len(&msg(Body::Nodes { contacts }));
        // "0:" becomes "208:": 8 x 26 bytes plus two more length digits.
        assert_eq!(eight - empty, 8 * 26 + 2);
        // BEP 5's find_node query: 92 bytes with a 2-byte tx; + 2 + 9.
        assert_eq!(encoded_len(&msg(Body::FindNode { target: NodeId::default() })), 103);
    }

    #[test]
    fn mainline_replies_of_8_contacts_cost_8_compact_node_infos() {
        // BEP 5's find_node response, "d1:rd2:id20:...5:nodes208:...e1:t2:aa1:y1:re",
        // with 8 contacts of 26 bytes; kadsim's 4-byte tx and version add 11.
        let peers = Sizing { width: IdWidth::Bits160, peers: true, ..Sizing::default() };
        let contacts: Contacts<u32> = (0..8).map(|i| Contact { id: NodeId::default(), addr: i }).collect();
        let reply = encoded_len_as(&msg(Body::Nodes { contacts }), peers);
        assert_eq!(
            reply,
            "d1:rd2:id20:".len() + 20 + "5:nodes208:".len() + 8 * 26 + "e1:t4:....1:v4:KS011:y1:re".len()
        );
        assert_eq!(reply, 277);
        // get_peers: BEP 5's example is 95 bytes with a 2-byte tx; + 2 + 9.
        assert_eq!(encoded_len_as(&msg(Body::FindValue { key: NodeId::default() }), peers), 106);
        // get_peers answered with one peer: BEP 5's "values" list of compact peers.
        let found = Body::Found { value: Arc::from(vec![0u8; 6]), ttl_secs: 60 };
        let want =
            "d1:rd2:id20:".len() + 20 + "5:token4:....6:valuesl6:......e".len() + "e1:t4:....1:v4:KS011:y1:re".len();
        assert_eq!(encoded_len_as(&msg(found), peers), want);
        // Three peers: three 6-byte strings in the list.
        let three = Body::Found { value: Arc::from(vec![0u8; 18]), ttl_secs: 60 };
        assert_eq!(encoded_len_as(&msg(three), peers), want + 2 * "6:......".len());
        // announce_peer: BEP 5's example (with implied_port, 2-byte tx, 8-byte token)
        // less "12:implied_porti1e" and 4 token bytes, plus 11.
        let store = Body::Store { key: NodeId::default(), value: Arc::from(vec![0u8; 6]), ttl_secs: 60 };
        let bep5 = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
        assert_eq!(encoded_len_as(&msg(store), peers), bep5.len() - 4 + 11);
    }

    #[test]
    fn discv5_packets_cost_their_spec_sizes() {
        let d = Sizing { width: IdWidth::Bits256, discv5: true, ..Sizing::default() };
        let len = |body| encoded_len_as(&msg(body), d);
        // 88 bytes of packet around the RLP message data, worked out by hand:
        // PING [id(9), seq(9)] = 18 + list header 1.
        assert_eq!(len(Body::Ping), 88 + 19);
        // PONG [id(9), seq(9), ip(5), port(3)] = 26 + 1.
        assert_eq!(len(Body::Pong), 88 + 27);
        // FINDNODE [id(9), [3 distances of 2 bytes] (7)] = 16 + 1.
        assert_eq!(len(Body::FindNode { target: NodeId::default() }), 88 + 17);
        // NODES of 16 records: 5 packets of 3 ENRs (402 bytes, header 3;
        // data 9 + 1 + 405 = 415, header 3) and one of 1 (134, header 2;
        // data 146, header 2).
        let c: Contacts<u32> = (0..16).map(|i| Contact { id: NodeId::default(), addr: i }).collect();
        assert_eq!(len(Body::Nodes { contacts: c }), 5 * (88 + 418) + (88 + 148));
        // An empty NODES is one packet: [id, total, []].
        assert_eq!(len(Body::Nodes { contacts: Vec::new() }), 88 + 12);
        // Values keep their KRPC charge.
        let wide = Sizing { discv5: false, ..d };
        let get = Body::FindValue { key: NodeId::default() };
        assert_eq!(encoded_len_as(&msg(get.clone()), d), encoded_len_as(&msg(get), wide));
    }

    #[test]
    fn wide_ids_cost_32_bytes_and_38_per_contact() {
        let wide = Sizing { width: IdWidth::Bits256, ..Sizing::default() };
        assert_eq!(encoded_len_as(&msg(Body::Ping), wide), 67 + 12);
        assert_eq!(encoded_len_as(&msg(Body::FindNode { target: NodeId::default() }), wide), 103 + 24);
        let contacts: Contacts<u32> = (0..16).map(|i| Contact { id: NodeId::default(), addr: i }).collect();
        let n = encoded_len_as(&msg(Body::Nodes { contacts }), wide);
        assert_eq!(n, 58 + 12 + "5:nodes608:".len() + 16 * 38);
    }

    #[test]
    fn store_counts_value_and_ttl() {
        let v: Arc<[u8]> = Arc::from(vec![0u8; 100]);
        let a = encoded_len(&msg(Body::Store { key: NodeId::default(), value: v.clone(), ttl_secs: 86_400 }));
        let b = encoded_len(&msg(Body::Store { key: NodeId::default(), value: v, ttl_secs: 5 }));
        assert_eq!(a - b, 4, "i86400e vs i5e");
        assert_eq!(bint(-12), 5);
    }
}

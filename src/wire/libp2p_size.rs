//! Encoded size of a message as libp2p's Kademlia sends it (the `ipfs`
//! profile): a length-prefixed protobuf `Message` of the libp2p kad-dht
//! specification ("RPC messages"), on a stream that go-libp2p-kad-dht keeps
//! open per peer, inside a yamux frame inside a Noise transport message.
//! Computed arithmetically, like the KRPC sizes (`wire::size`), without building anything.
//!
//! | kadsim | libp2p | request | answer |
//! |---|---|---|---|
//! | PING | `PING` (5) | `type` | `type` |
//! | FIND_NODE | `FIND_NODE` (4) | `type`, `key` = the target's peer ID | `type`, `key`, `closerPeers` |
//! | FIND_VALUE, peer-set records | `GET_PROVIDERS` (3) | `type`, `key` = a multihash | `type`, `key`, `providerPeers`, and [`CLOSER_PEERS`] `closerPeers` |
//! | FIND_VALUE, values | `GET_VALUE` (1) | `type`, `key` | `type`, `key`, `record`, and [`CLOSER_PEERS`] `closerPeers` |
//! | STORE, peer-set records | `ADD_PROVIDER` (2) | `type`, `key`, one `providerPeers` (the sender) | none (`kad::Config::store_acks` off) |
//! | STORE, values | `PUT_VALUE` (0, the default, not encoded) | `key`, `record` | `type`, `key` |
//!
//! Sizes of the parts:
//! - a peer ID is an Ed25519 key's identity multihash, 38 bytes (go-libp2p's
//!   default key type); a key is a SHA-256 multihash, 34 bytes;
//! - a `Peer` holds the ID, two addresses (`/ip4/…/tcp/4001`, 8 bytes, and
//!   `/ip4/…/udp/4001/quic-v1`, 11 bytes: the IPv4 addresses a Kubo node
//!   listens on by default) and `connection` = CONNECTED, so [`PEER_LEN`]
//!   bytes, 67 as a repeated field. Real peers often advertise more
//!   addresses (IPv6, WebTransport): this is a lower bound;
//! - a `record` holds the key, the value and `timeReceived`, an RFC 3339
//!   time of 30 characters;
//! - each message: an unsigned-varint length prefix, then [`FRAMING`]
//!   bytes of transport (a 12-byte yamux header, Noise's 2-byte length and
//!   16-byte tag). TCP and IP headers are not counted, as the KRPC charge
//!   leaves out IP and UDP's.
//!
//! What kadsim's messages leave out and the charge keeps or not: a
//! providers or value answer carries [`CLOSER_PEERS`] closer peers in
//! libp2p (the specification's `GET_PROVIDERS` and `GET_VALUE`), charged
//! here although kadsim's lookup, which ends at the first answer with
//! providers, does not use them; the `PUT_VALUE` answer echoes the whole
//! request in go-libp2p-kad-dht, charged here as its type and key only.

use crate::kad::{Body, Message};

/// Bytes of a peer ID: the identity multihash (2 bytes) of a 36-byte
/// protobuf-encoded Ed25519 public key.
pub const PEER_ID_LEN: usize = 38;
/// Bytes of a content key: a SHA-256 multihash (2 + 32).
pub const KEY_LEN: usize = 34;
/// Bytes of `/ip4/a.b.c.d/tcp/4001` as a binary multiaddr.
const ADDR_TCP: usize = 1 + 4 + 1 + 2;
/// Bytes of `/ip4/a.b.c.d/udp/4001/quic-v1` as a binary multiaddr.
const ADDR_QUIC: usize = 1 + 4 + 2 + 2 + 2;
/// Bytes of a `Peer`: its ID, two addresses and `connection` = CONNECTED.
pub const PEER_LEN: usize = field(PEER_ID_LEN) + field(ADDR_TCP) + field(ADDR_QUIC) + 2;
/// Closer peers in a `GET_PROVIDERS` or `GET_VALUE` answer: Amino's k.
pub const CLOSER_PEERS: usize = 20;
/// Transport bytes per message: yamux header (12), Noise length (2) and tag (16).
pub const FRAMING: usize = 12 + 2 + 16;
/// Characters of `timeReceived` (`2006-01-02T15:04:05.999999999Z`).
const TIME_RECEIVED: usize = 30;
/// `type` as a varint field (tag and one byte).
const TYPE: usize = 2;

/// Bytes of an unsigned varint of `n`.
const fn uvarint(n: usize) -> usize {
    let mut bytes = 1;
    let mut n = n >> 7;
    while n > 0 {
        bytes += 1;
        n >>= 7;
    }
    bytes
}

/// A length-delimited field of `n` bytes: tag, length, bytes.
const fn field(n: usize) -> usize {
    1 + uvarint(n) + n
}

/// A repeated `Peer` field of `n` peers.
const fn peers(n: usize) -> usize {
    n * field(PEER_LEN)
}

/// A `record` field holding a value of `value` bytes, with `timeReceived`
/// when `received` (a stored record served back).
fn record(value: usize, received: bool) -> usize {
    let inner = field(KEY_LEN) + field(value) + if received { field(TIME_RECEIVED) } else { 0 };
    field(inner)
}

/// The bytes `msg` takes as a libp2p kad-dht message (see the module
/// documentation); `peer_sets` when gets and puts are providers (`records =
/// "peers"` or `"providers"`), else values.
pub fn libp2p_len<A: crate::kad::Address>(msg: &Message<A>, peer_sets: bool) -> usize {
    let key = field(KEY_LEN);
    let body = match &msg.body {
        Body::Ping | Body::Pong => TYPE,
        Body::FindNode { .. } => TYPE + field(PEER_ID_LEN),
        Body::Nodes { contacts } => TYPE + field(PEER_ID_LEN) + peers(contacts.len()),
        Body::FindValue { .. } => TYPE + key,
        Body::Found { value, .. } if peer_sets => {
            TYPE + key + peers(value.len().div_ceil(super::PEER_LEN)) + peers(CLOSER_PEERS)
        }
        Body::Found { value, .. } => TYPE + key + record(value.len(), true) + peers(CLOSER_PEERS),
        Body::Store { .. } if peer_sets => TYPE + key + peers(1),
        Body::Store { value, .. } => key + record(value.len(), false),
        Body::Stored { .. } => TYPE + key,
    };
    FRAMING + uvarint(body) + body
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
    fn sizes_worked_out_by_hand_from_the_spec() {
        // A Peer: id 1+1+38, addrs 1+1+8 and 1+1+11, connection 2 = 65.
        assert_eq!(PEER_LEN, 65);
        // PING: type (2), a 1-byte prefix, 30 of framing.
        assert_eq!(libp2p_len(&msg(Body::Ping), false), 33);
        // FIND_NODE: type 2 + key 1+1+38 = 42; prefix 1; framing 30.
        assert_eq!(libp2p_len(&msg(Body::FindNode { target: NodeId::hash_of(b"t") }), false), 73);
        // Its answer with 20 peers: 42 + 20 × 67 = 1382 bytes; a 2-byte prefix.
        let twenty: Contacts<u32> = (0..20).map(|i| Contact { id: NodeId::default(), addr: i }).collect();
        assert_eq!(libp2p_len(&msg(Body::Nodes { contacts: twenty }), false), 30 + 2 + 1382);
        // ADD_PROVIDER: type 2 + key 1+1+34 + one peer 67 = 105.
        let store = Body::Store { key: NodeId::hash_of(b"k"), value: Arc::from(&[0u8; 6][..]), ttl_secs: 60 };
        assert_eq!(libp2p_len(&msg(store.clone()), true), 30 + 1 + 105);
        // PUT_VALUE of 6 bytes: key 36 + record 1+1+(36 + 1+1+6) = 82.
        assert_eq!(libp2p_len(&msg(store), false), 30 + 1 + 82);
        // GET_PROVIDERS answered with 2 providers and 20 closer peers.
        let found = Body::Found { value: Arc::from(&[0u8; 12][..]), ttl_secs: 60 };
        assert_eq!(libp2p_len(&msg(found), true), 30 + 2 + 2 + 36 + 22 * 67);
    }
}

//! The four RPCs of the paper (§2.3) and their replies, as plain values, with
//! BEP 43's read-only flag on requests.
//!
//! Messages are never encoded inside the simulator. A reply's contacts are one
//! small heap buffer: measured on `scenarios/churn.toml`, allocating it is ~10%
//! faster overall than carrying a 32-contact inline array (768 bytes) through
//! every move between node, outbox and event queue, and it keeps queued events
//! small. A value is a reference-counted byte slice that clones without
//! copying. The wire codec (KRPC, bencode) lives in `crate::wire`.

use super::address::Address;
pub use super::address::Contact;
use super::id::{Key, NodeId};
use std::sync::Arc;

/// A transaction ID: chosen at random by the requester and echoed by the reply (paper §2.3).
pub type TxId = u32;

/// A stored value. Cloning shares the bytes.
pub type Value = Arc<[u8]>;

/// The contacts of a reply, nearest first, in the form routing tables store
/// them ([`Address::Slot`]): the whole contact on a real network, a 10-byte
/// slot in the simulator, so that a reply of k = 20 contacts carries 200
/// bytes instead of 720 and no ID is rebuilt between a table and a lookup.
pub type Contacts<A> = Vec<<A as Address>::Slot>;

/// One datagram of the protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct Message<A: Address> {
    /// Transaction ID; a reply carries its request's (paper §2.3).
    pub tx: TxId,
    /// The sender's node ID: every message carries it, so that every message
    /// received can refresh the sender's bucket (paper §2.2).
    pub sender: NodeId,
    /// What the message says.
    pub body: Body<A>,
    /// BEP 43 ("Read-only DHT Nodes"): set on the requests of a node that
    /// does not answer queries (the top-level `ro` = 1 of KRPC). A node that
    /// honours it ([`Config::honour_read_only`](super::Config::honour_read_only))
    /// answers such a request but never adds its sender to its routing table.
    /// Always false on replies.
    pub read_only: bool,
}

impl<A: Address> Message<A> {
    /// A message that is not read-only (the paper's: every sender serves).
    pub fn new(tx: TxId, sender: NodeId, body: Body<A>) -> Self {
        Message { tx, sender, body, read_only: false }
    }
}

/// Requests and replies (paper §2.3).
#[derive(Clone, Debug, PartialEq)]
pub enum Body<A: Address> {
    /// PING: is the node online?
    Ping,
    /// STORE: keep `(key, value)`. `ttl_secs` is the pair's remaining lifetime,
    /// so that a republished pair still expires 24 h after its original
    /// publication (paper §2.5).
    Store {
        /// The key.
        key: Key,
        /// The value.
        value: Value,
        /// Remaining lifetime in seconds.
        ttl_secs: u32,
    },
    /// FIND_NODE: the k closest contacts the recipient knows to `target`.
    FindNode {
        /// The ID looked up.
        target: NodeId,
    },
    /// FIND_VALUE: the value of `key`, or else the k closest contacts to it.
    FindValue {
        /// The key looked up.
        key: Key,
    },
    /// Reply to PING.
    Pong,
    /// Reply to STORE: whether the pair was kept.
    Stored {
        /// False when the recipient refused it (its store is full).
        accepted: bool,
    },
    /// Reply to FIND_NODE or FIND_VALUE: up to k contacts closest to the target.
    Nodes {
        /// The contacts.
        contacts: Contacts<A>,
    },
    /// Reply to FIND_VALUE when the recipient holds the value.
    Found {
        /// The value.
        value: Value,
        /// Its remaining lifetime in seconds, so that a copy cached along the
        /// lookup path expires with the original (paper §2.5).
        ttl_secs: u32,
    },
}

/// The kind of request a reply answers, used to check that a reply fits its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// PING.
    Ping,
    /// STORE.
    Store,
    /// FIND_NODE.
    FindNode,
    /// FIND_VALUE.
    FindValue,
}

impl<A: Address> Body<A> {
    /// Whether this is a request (as opposed to a reply).
    pub fn is_request(&self) -> bool {
        matches!(self, Body::Ping | Body::Store { .. } | Body::FindNode { .. } | Body::FindValue { .. })
    }

    /// The request kind, for a request.
    pub fn request_kind(&self) -> Option<RequestKind> {
        Some(match self {
            Body::Ping => RequestKind::Ping,
            Body::Store { .. } => RequestKind::Store,
            Body::FindNode { .. } => RequestKind::FindNode,
            Body::FindValue { .. } => RequestKind::FindValue,
            _ => return None,
        })
    }

    /// Whether this reply is a valid answer to a request of kind `kind`.
    pub fn answers(&self, kind: RequestKind) -> bool {
        matches!(
            (self, kind),
            (Body::Pong, RequestKind::Ping)
                | (Body::Stored { .. }, RequestKind::Store)
                | (Body::Nodes { .. }, RequestKind::FindNode)
                | (Body::Nodes { .. } | Body::Found { .. }, RequestKind::FindValue)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_must_fit_their_request_paper_2_3() {
        let nodes: Body<u32> = Body::Nodes { contacts: Vec::new() };
        assert!(nodes.answers(RequestKind::FindNode));
        assert!(nodes.answers(RequestKind::FindValue));
        assert!(!nodes.answers(RequestKind::Ping));
        let found: Body<u32> = Body::Found { value: Arc::from(&b"v"[..]), ttl_secs: 60 };
        assert!(found.answers(RequestKind::FindValue));
        assert!(!found.answers(RequestKind::FindNode));
        assert!(Body::<u32>::Pong.answers(RequestKind::Ping));
        assert!(!Body::<u32>::Pong.answers(RequestKind::Store));
        assert!(Body::<u32>::Ping.is_request());
        assert!(!Body::<u32>::Pong.is_request());
    }

    #[test]
    fn small_message_in_the_simulator() {
        // Queued by the million: keep a message near one cache line and a
        // half. Two 32-byte IDs (sender, and a STORE's key) make it 96 bytes,
        // where 20-byte IDs made it 80 (measured in README, Performance).
        assert!(std::mem::size_of::<Message<u32>>() <= 96, "{}", std::mem::size_of::<Message<u32>>());
    }
}

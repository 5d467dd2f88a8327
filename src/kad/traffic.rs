//! Lookup traffic and maintenance traffic: the split of a DHT's bandwidth by
//! which Li et al. compare DHTs under churn ("Comparing the performance of
//! distributed hash tables under churn", IPTPS 2004).
//!
//! The core decides the class of every request it sends, since it knows the
//! operation or timer behind it: [`Output::Send`](super::Output::Send) carries
//! it. A reply belongs to the class of the request it answers. Only the
//! requester knows that class, and it does not travel on the wire, so a reply
//! leaves the core unclassified (`traffic: None`); a driver that counts traffic
//! keeps each request's class beside the datagram while it is in flight (the
//! simulator does, on its delivery event) and gives it to the reply sent while
//! handling that datagram. The real UDP node ignores the class.
//!
//! - [`Traffic::Lookup`]: what a user's node lookup, get or put sends (paper
//!   §2.3): the FIND_NODE and FIND_VALUE queries of its iterative lookup, the
//!   STOREs of a put at the k closest nodes, and the STORE with which a get
//!   caches the value it found at the closest node that lacked it (part of
//!   the get, §2.3).
//! - [`Traffic::Maintenance`]: everything else. The join procedure (its PING
//!   of the bootstrap node, its lookup of the own ID and the bucket refreshes
//!   that follow, §2.3), bucket refreshes of idle buckets (§2.3), republishing
//!   and its lookups (§2.5), the hand-over of pairs to a new node and before a
//!   graceful departure (§2.5), the PINGs of a full bucket's least-recently-seen
//!   contact (§2.2) and of newcomers before a hand-over, and a user's single
//!   PING or request ([`Command::Ping`](super::Command::Ping),
//!   [`Command::Request`](super::Command::Request)), which the simulator never
//!   starts.

use super::op::OpKind;

/// The class of a message, for counting traffic (Li et al., IPTPS 2004).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Traffic {
    /// Sent for a user's node lookup, get or put, or in reply to such a request.
    Lookup = 0,
    /// Sent to build and keep the routing tables and the stored pairs, or in
    /// reply to such a request.
    Maintenance = 1,
}

impl Traffic {
    /// Both classes, in the order of their `as usize` values.
    pub const ALL: [Traffic; 2] = [Traffic::Lookup, Traffic::Maintenance];

    /// Lower-case name, as in column names.
    pub fn as_str(self) -> &'static str {
        match self {
            Traffic::Lookup => "lookup",
            Traffic::Maintenance => "maintenance",
        }
    }
}

impl OpKind {
    /// The class of the requests an operation of this kind sends.
    pub fn traffic(self) -> Traffic {
        match self {
            OpKind::FindNode | OpKind::Get | OpKind::Put => Traffic::Lookup,
            OpKind::Join | OpKind::Refresh | OpKind::Republish | OpKind::Ping | OpKind::Request => Traffic::Maintenance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_lookups_gets_and_puts_are_lookup_traffic_the_rest_maintenance() {
        for k in [OpKind::FindNode, OpKind::Get, OpKind::Put] {
            assert_eq!(k.traffic(), Traffic::Lookup, "{k:?}");
        }
        for k in [OpKind::Join, OpKind::Refresh, OpKind::Republish, OpKind::Ping, OpKind::Request] {
            assert_eq!(k.traffic(), Traffic::Maintenance, "{k:?}");
        }
        for (i, t) in Traffic::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
    }
}

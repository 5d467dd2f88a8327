//! Answering requests: PING, STORE, FIND_NODE and FIND_VALUE as the
//! recipient handles them (Maymounkov & Mazières 2002, §2.3), the caching
//! of values along the lookup path with expiry shortened by distance (§2.5),
//! the answers of a read-only node (BEP 43) and the answers a malicious node
//! gives instead ([`Behaviour`](crate::kad::Behaviour)).

use super::{Address, Behaviour, Node, Outbox, Output, behaviour, secs};
use crate::kad::config::{DISTANCE_REPLY_LIMIT, FindNodeStyle, lookup_distances};
use crate::kad::id::{Key, NodeId};
use crate::kad::message::{Body, Contacts, Message, Value};
use crate::kad::time::Time;
use std::time::Duration;

impl<A: Address> Node<A> {
    /// Answers a request (paper §2.3) after refreshing its sender (paper §2.2).
    /// A malicious node answers as its [`Behaviour`] says instead.
    /// A read-only node (BEP 43) answers nothing, and a read-only sender is
    /// answered but not added to the routing table when the node honours
    /// the flag.
    pub(super) fn on_request(&mut self, now: Time, from: A, msg: Message<A>, out: &mut Outbox<A>) {
        if self.cfg.read_only {
            self.stats.unanswered_requests += 1;
            out.recycle_message(msg);
            return;
        }
        if !(msg.read_only && self.cfg.honour_read_only) {
            self.saw(now, msg.sender, from, false, out);
        }
        let bad = self.cfg.behaviour;
        let body = if bad.is_honest() {
            match msg.body {
                Body::Ping => Body::Pong,
                Body::FindNode { target } => Body::Nodes { contacts: self.find_node(&target, &msg.sender, out) },
                Body::FindValue { key } => self.find_value(now, &key, &msg.sender, out),
                Body::Store { key, value, ttl_secs } => {
                    Body::Stored { accepted: self.accept_store(now, key, value, ttl_secs, out) }
                }
                reply @ (Body::Pong | Body::Stored { .. } | Body::Nodes { .. } | Body::Found { .. }) => {
                    out.recycle_body(reply);
                    return;
                }
            }
        } else {
            match self.answer_as(bad, now, msg.sender, msg.body, out) {
                Some(body) => body,
                None => return,
            }
        };
        if !self.cfg.store_acks && matches!(body, Body::Stored { .. }) {
            // libp2p's ADD_PROVIDER gets no answer (`Config::store_acks`).
            return;
        }
        self.stats.sent += 1;
        out.push(Output::Send { to: from, msg: Message::new(msg.tx, self.own(), body), traffic: None });
    }

    /// The honest answer to FIND_VALUE: the value if held, else the k closest contacts (paper §2.3).
    pub(super) fn find_value(&mut self, now: Time, key: &Key, sender: &NodeId, out: &mut Outbox<A>) -> Body<A> {
        match self.store.get_with_lifetime(key, now) {
            Some((value, left)) => Body::Found { value, ttl_secs: secs(left) },
            None => Body::Nodes { contacts: self.closest_for_reply(key, sender, out) },
        }
    }

    /// The answer of a malicious node to a request `body` from `sender`, or
    /// `None` to send none; precedence as in the table of [`behaviour`].
    pub(super) fn answer_as(
        &mut self,
        bad: Behaviour,
        now: Time,
        sender: NodeId,
        body: Body<A>,
        out: &mut Outbox<A>,
    ) -> Option<Body<A>> {
        if bad.has(Behaviour::BLACK_HOLE) || !body.is_request() {
            out.recycle_body(body);
            return None;
        }
        Some(match body {
            Body::Ping => Body::Pong,
            Body::Store { .. } if bad.has(Behaviour::DROP_STORE) => Body::Stored { accepted: true },
            Body::Store { key, value, ttl_secs } => {
                Body::Stored { accepted: self.accept_store(now, key, value, ttl_secs, out) }
            }
            Body::FindValue { key } if bad.has(Behaviour::WRONG_VALUE) => {
                Body::Found { value: behaviour::forged_value(&key), ttl_secs: secs(self.cfg.expire_after) }
            }
            Body::FindNode { target } | Body::FindValue { key: target } if bad.has(Behaviour::POISON) => {
                Body::Nodes { contacts: self.colluders_closest(&target, &sender, out) }
            }
            Body::FindValue { key } if bad.has(Behaviour::FREE_RIDE) => match self.store.get_with_lifetime(&key, now) {
                Some((value, left)) => Body::Found { value, ttl_secs: secs(left) },
                None => Body::Nodes { contacts: out.contacts_for(self.cfg.k) },
            },
            Body::FindNode { .. } if bad.has(Behaviour::FREE_RIDE) => {
                Body::Nodes { contacts: out.contacts_for(self.cfg.k) }
            }
            Body::FindNode { target } => Body::Nodes { contacts: self.find_node(&target, &sender, out) },
            Body::FindValue { key } => self.find_value(now, &key, &sender, out),
            reply => {
                out.recycle_body(reply);
                return None;
            }
        })
    }

    /// The k colluders closest to `target`, without the requester and this
    /// node, nearest first, in a pooled buffer: one pass over the list keeping
    /// a sorted top k, so nothing is allocated per request.
    pub(super) fn colluders_closest(&self, target: &NodeId, requester: &NodeId, out: &mut Outbox<A>) -> Contacts<A> {
        let k = self.cfg.k;
        let mut best = out.contacts_for(k);
        let Some(all) = &self.colluders else {
            return best;
        };
        let own = self.own();
        for c in all.iter().filter(|c| c.id != *requester && c.id != own) {
            let d = c.id.distance(target);
            if best.len() == k && best.last().is_some_and(|l| A::unpack(l).id.distance(target) <= d) {
                continue;
            }
            let at = best.partition_point(|x| A::unpack(x).id.distance(target) < d);
            if best.len() == k {
                best.pop();
            }
            best.insert(at, A::pack(*c));
        }
        best
    }

    /// The honest answer to FIND_NODE from `sender`, in a pooled buffer: the
    /// k closest contacts to `target` (paper §2.3), or, by discv5's rule
    /// ([`FindNodeStyle::Distances`]), the whole buckets at the log-distances
    /// a discv5 lookup asks for ([`lookup_distances`]), at most
    /// [`DISTANCE_REPLY_LIMIT`] records.
    pub(super) fn find_node(&self, target: &NodeId, sender: &NodeId, out: &mut Outbox<A>) -> Contacts<A> {
        match self.cfg.find_node {
            FindNodeStyle::Closest => self.closest_for_reply(target, sender, out),
            FindNodeStyle::Distances => {
                let width = self.cfg.id_width.bits();
                let d = width.saturating_sub(target.common_prefix_len(&self.own()));
                let (ds, n) = lookup_distances(d, width);
                let mut contacts = out.contacts_for(DISTANCE_REPLY_LIMIT);
                self.table.at_distances(&ds[..n], DISTANCE_REPLY_LIMIT, Some(sender), &mut contacts);
                contacts
            }
        }
    }

    /// The k closest contacts to `target`, without `exclude`, in a pooled buffer.
    pub(super) fn closest(&self, target: &NodeId, exclude: Option<&NodeId>, out: &mut Outbox<A>) -> Contacts<A> {
        let mut contacts = out.contacts_for(self.cfg.k);
        self.table.closest(target, self.cfg.k, exclude, &mut contacts);
        contacts
    }

    /// The k closest contacts to `target` to hand to `exclude`, who asked:
    /// under the answered-only rule, only contacts that have answered this
    /// node (BEP 5's "known good nodes").
    pub(super) fn closest_for_reply(&self, target: &NodeId, exclude: &NodeId, out: &mut Outbox<A>) -> Contacts<A> {
        let mut contacts = out.contacts_for(self.cfg.k);
        self.table.closest_for_reply(target, self.cfg.k, Some(exclude), &mut contacts);
        contacts
    }

    /// Stores a pair received by STORE. Its lifetime is the one offered, cut
    /// exponentially with the estimated number of nodes between this node and
    /// the key, so that caches far from the key expire sooner (paper §2.3).
    pub(super) fn accept_store(
        &mut self,
        now: Time,
        key: Key,
        value: Value,
        ttl_secs: u32,
        out: &mut Outbox<A>,
    ) -> bool {
        let offered = Duration::from_secs(u64::from(ttl_secs)).min(self.cfg.expire_after);
        let lifetime = offered / (1u32 << self.cache_halvings(&key, out));
        let expires = now.plus(lifetime);
        let c = &self.cfg;
        let ok = self.store.put(key, value, now, expires, c.republish_interval, c.max_stored_pairs, c.values_per_key);
        if ok {
            self.maintenance_due = self.maintenance_due.min(self.store.next_due());
        } else {
            self.stats.stores_refused += 1;
        }
        ok
    }

    /// How many times to halve a stored pair's lifetime. The number of nodes
    /// closer to `key` than this node is estimated from the density of the own
    /// neighbourhood: if the k closest contacts lie within distance r of this
    /// node, about k·d/r nodes lie within distance d of the key. Each k nodes
    /// beyond the first k halve the lifetime, so the k closest nodes keep the
    /// full lifetime (paper §2.3: "exponentially inversely proportional to the
    /// number of nodes between the current node and the node whose ID is closest
    /// to the key ID … inferred from the bucket structure").
    pub(super) fn cache_halvings(&self, key: &Key, out: &mut Outbox<A>) -> u32 {
        let near = self.closest(&self.own(), None, out);
        // Knowing fewer than k nodes, a node cannot tell how far its neighbourhood
        // reaches, and in so small a network every node is among the k closest.
        let kth = (near.len() >= self.cfg.k).then(|| near.last().map(A::unpack)).flatten();
        out.recycle_contacts(near);
        let Some(kth) = kth else {
            return 0;
        };
        let radius = kth.id.distance(&self.own()).as_f64();
        let ratio = self.own().distance(key).as_f64() / radius;
        if ratio.is_finite() && ratio > 2.0 {
            // floor(ratio - 1), capped so that the shift stays in range.
            (ratio - 1.0).floor().min(31.0) as u32
        } else {
            0
        }
    }
}

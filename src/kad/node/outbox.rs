//! The outbox a driver hands a node with every call: the outputs the node
//! produced, and pools of the buffers its messages, lookups and requests use.
//!
//! A node takes a buffer from the pool when it needs one (a reply's contact
//! list, a lookup's shortlist, its list of pending requests) and gives it back
//! when done; a driver gives back the buffers of messages and reports it has
//! consumed ([`recycle_message`](Outbox::recycle_message),
//! [`recycle_report`](Outbox::recycle_report)). One outbox serves many nodes
//! (a simulator keeps one per thread), so in steady state nothing is
//! allocated per message or per operation, and an idle node holds no buffer.

use super::ops::Op;
use super::{Address, Output, Pending};
use crate::kad::lookup::LookupBuffers;
use crate::kad::message::{Body, Contacts, Message};
use crate::kad::node::report::OpReport;
use std::ops::{Deref, DerefMut};

/// Buffers kept per kind, beyond which returned buffers are freed.
const POOL_MAX: usize = 4096;

/// Outputs to drain, and buffer pools. A clone holds the same outputs and
/// empty pools.
#[derive(Debug)]
pub struct Outbox<A: Address> {
    outputs: Vec<Output<A>>,
    contacts: Vec<Contacts<A>>,
    lookups: Vec<LookupBuffers<A>>,
    pub(super) pending: Vec<Vec<Pending<A>>>,
    pub(super) ops: Vec<Vec<Op<A>>>,
}

impl<A: Address> Default for Outbox<A> {
    fn default() -> Self {
        Outbox { outputs: Vec::new(), contacts: Vec::new(), lookups: Vec::new(), pending: Vec::new(), ops: Vec::new() }
    }
}

impl<A: Address> Clone for Outbox<A> {
    fn clone(&self) -> Self {
        Outbox { outputs: self.outputs.clone(), ..Outbox::default() }
    }
}

impl<A: Address> Deref for Outbox<A> {
    type Target = Vec<Output<A>>;
    fn deref(&self) -> &Vec<Output<A>> {
        &self.outputs
    }
}

impl<A: Address> DerefMut for Outbox<A> {
    fn deref_mut(&mut self) -> &mut Vec<Output<A>> {
        &mut self.outputs
    }
}

/// Returns `v` to `pool` (emptied) unless the pool is full.
fn give<T>(pool: &mut Vec<Vec<T>>, mut v: Vec<T>) {
    if v.capacity() > 0 && pool.len() < POOL_MAX {
        v.clear();
        pool.push(v);
    }
}

impl<A: Address> Outbox<A> {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty contact list, from the pool when it has one.
    pub fn contacts(&mut self) -> Contacts<A> {
        self.contacts.pop().unwrap_or_default()
    }

    /// An empty contact list with room for `n` contacts. Pooled lists serve
    /// replies, queries and results alike, so each is sized for the largest.
    pub(crate) fn contacts_for(&mut self, n: usize) -> Contacts<A> {
        let mut c = self.contacts();
        c.reserve(n);
        c
    }

    /// Gives a contact list back to the pool.
    pub fn recycle_contacts(&mut self, c: Contacts<A>) {
        give(&mut self.contacts, c);
    }

    /// Gives back the buffers of a message the driver consumed or dropped.
    pub fn recycle_message(&mut self, msg: Message<A>) {
        self.recycle_body(msg.body);
    }

    /// Gives back the buffers of a message body.
    pub fn recycle_body(&mut self, body: Body<A>) {
        if let Body::Nodes { contacts } = body {
            self.recycle_contacts(contacts);
        }
    }

    /// Gives back the buffers of a report the driver has read.
    pub fn recycle_report(&mut self, r: OpReport<A>) {
        self.recycle_contacts(r.closest);
        if let Some(body) = r.reply {
            self.recycle_body(body);
        }
    }

    /// Lookup buffers, from the pool when it has some.
    pub(crate) fn lookup_buffers(&mut self) -> LookupBuffers<A> {
        self.lookups.pop().unwrap_or_default()
    }

    /// Gives lookup buffers back to the pool.
    pub(crate) fn recycle_lookup(&mut self, b: LookupBuffers<A>) {
        if self.lookups.len() < POOL_MAX {
            self.lookups.push(b);
        }
    }

    /// Gives back a node's request list, now empty.
    pub(super) fn recycle_pending(&mut self, v: Vec<Pending<A>>) {
        give(&mut self.pending, v);
    }

    /// Gives back a node's operation list, now empty.
    pub(super) fn recycle_ops(&mut self, v: Vec<Op<A>>) {
        give(&mut self.ops, v);
    }
}

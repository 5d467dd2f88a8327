//! Eviction and the replacement cache: what happens to a full bucket's
//! least-recently-seen contact when a newcomer waits (Maymounkov & Mazières
//! 2002, §2.2: PING it, evict it only if it fails to answer), the stale
//! counters that remove a contact after repeated failures once a replacement
//! waits, and the promotion of cached replacements into free room (§4.1).

use super::{AfterFailedPing, Contact, RoutingTable, Time, secs_of};
use crate::kad::address::Address;
use crate::kad::id::NodeId;

impl<A: Address> RoutingTable<A> {
    /// Puts a newcomer at the head of bucket `bi`'s replacement cache (most
    /// recently seen first), dropping its older copy (at `cached`) or, when
    /// full, the oldest.
    pub(super) fn cache_newcomer(&mut self, bi: usize, slot: A::Slot, cached: Option<usize>, age: u32) {
        let m = self.metas[bi];
        let (front, run_end) = (m.end(), m.run_end());
        if let Some(r) = cached {
            self.put_at_front(front, r, slot, age);
        } else if m.rlen >= self.cache {
            self.put_at_front(front, run_end - 1, slot, age);
        } else {
            self.insert_slot(bi, front, slot, age);
            self.metas[bi].rlen += 1;
        }
    }

    /// Moves replacements into free room, most recently seen first (§4.1): the
    /// head of the cache sits right after the contacts, so promoting it is a
    /// change of the boundary. Returns the last promoted.
    pub(super) fn promote_replacements(&mut self, bi: usize) -> Option<Contact<A>> {
        let mut last = None;
        while self.metas[bi].len < self.k && self.metas[bi].rlen > 0 {
            let m = &mut self.metas[bi];
            let c = A::unpack(&self.slots[m.end()]);
            m.len += 1;
            m.rlen -= 1;
            self.near_changed(&c.id);
            last = Some(c);
        }
        last
    }

    /// The eviction PING to `id` was answered at `now`: the contact stays (it
    /// was moved to the tail by [`heard`](Self::heard)) and the newcomer stays
    /// in the cache (§2.2). Under the good/questionable rule, the bucket's
    /// next questionable contact is returned to be pinged while a newcomer
    /// waits (BEP 5: "If the pinged node responds then the next least
    /// recently seen questionable node is pinged until one fails to respond
    /// or all of the nodes in the bucket are known to be good").
    pub fn eviction_answered(&mut self, id: &NodeId, now: Time) -> Option<Contact<A>> {
        let bi = self.bucket_of(id);
        self.metas[bi].evicting = false;
        if !self.on() {
            return None;
        }
        let now_s = secs_of(now);
        self.bucket_changed(bi, now_s);
        if self.metas[bi].rlen == 0 {
            return None;
        }
        let i = self.first_questionable(bi, now_s)?;
        self.metas[bi].evicting = true;
        Some(A::unpack(&self.slots[i]))
    }

    /// Gives up the eviction PING of `id`'s bucket without an outcome (a
    /// driver filling a table without messages).
    pub fn cancel_eviction(&mut self, id: &NodeId) {
        let bi = self.bucket_of(id);
        self.metas[bi].evicting = false;
    }

    /// The eviction PING to `id` went unanswered: evict it and promote the most
    /// recently seen replacement (§2.2, §4.1). Under the good/questionable
    /// rule a contact that had not failed is pinged once more first (BEP 5:
    /// "it is suggested to try once more before discarding the node").
    pub fn eviction_failed(&mut self, id: &NodeId) -> AfterFailedPing<A> {
        let bi = self.bucket_of(id);
        self.metas[bi].evicting = false;
        let m = self.metas[bi];
        let Some(pos) = self.find(m.start as usize, m.end(), id) else {
            return AfterFailedPing::Nothing;
        };
        if m.rlen == 0 {
            // Nobody waits: keep the contact, counting the failure (§4.1).
            self.count_failure(id);
            return AfterFailedPing::Nothing;
        }
        if self.on() && self.failures(id) == 0 {
            self.count_failure(id);
            self.metas[bi].evicting = true;
            return AfterFailedPing::PingAgain(A::unpack(&self.slots[pos]));
        }
        self.remove_entry(bi, pos, id);
        match self.promote_replacements(bi) {
            Some(c) => AfterFailedPing::Promoted(c),
            None => AfterFailedPing::Nothing,
        }
    }

    pub(super) fn remove_entry(&mut self, bi: usize, pos: usize, id: &NodeId) {
        self.remove_slot(bi, pos);
        self.metas[bi].len -= 1;
        self.clear_failures(id);
        self.near_changed(id);
    }

    /// An RPC to `id` failed. After `stale_limit` failures in a row the contact
    /// is removed if a replacement waits, which is promoted and returned (§4.1).
    pub fn failed(&mut self, id: &NodeId) -> Option<Contact<A>> {
        let bi = self.bucket_of(id);
        let m = self.metas[bi];
        let pos = self.find(m.start as usize, m.end(), id)?;
        let failures = self.count_failure(id);
        if failures < self.stale_limit || m.rlen == 0 {
            return None;
        }
        self.remove_entry(bi, pos, id);
        self.promote_replacements(bi)
    }

    /// Failed RPCs in a row to `id` (paper §4.1).
    pub fn failures(&self, id: &NodeId) -> u8 {
        self.failing.iter().find(|(f, _)| f == id).map_or(0, |(_, n)| *n)
    }

    pub(super) fn is_stale(&self, id: &NodeId) -> bool {
        self.failures(id) >= self.stale_limit
    }

    pub(super) fn is_stale_slot(&self, i: usize) -> bool {
        let top = A::top(&self.slots[i]);
        self.failing.iter().any(|(f, n)| f.top() == top && *n >= self.stale_limit && A::unpack(&self.slots[i]).id == *f)
    }

    /// Counts one more failure of `id`; returns the count.
    pub(super) fn count_failure(&mut self, id: &NodeId) -> u8 {
        if let Some((_, n)) = self.failing.iter_mut().find(|(f, _)| f == id) {
            *n = n.saturating_add(1);
            return *n;
        }
        self.failing.push((*id, 1));
        1
    }

    pub(super) fn clear_failures(&mut self, id: &NodeId) {
        if !self.failing.is_empty() {
            self.failing.retain(|(f, _)| f != id);
            if self.failing.is_empty() {
                self.failing = Vec::new();
            }
        }
    }
}

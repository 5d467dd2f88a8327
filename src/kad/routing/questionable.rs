//! BEP 5's good and questionable nodes ("Routing Table"): which contacts of a
//! full bucket are worth a PING. A contact is good while it has answered
//! this node within a window (15 minutes in BEP 5), or answered once and
//! sent a request within it; otherwise it is questionable. The table keeps
//! one stamp per slot for this, in a side vector that exists only when the
//! rule is on; the slot moves that keep it aligned live in the table itself.

use super::{Address, NodeId, RoutingTable, Time, secs_of};

impl<A: Address> RoutingTable<A> {
    /// Turns on BEP 5's good/questionable rule for full buckets ("a good node
    /// is a node has responded to one of our queries within the last 15
    /// minutes. A node is also good if it has ever responded to one of our
    /// queries and has sent us a query within the last 15 minutes. After 15
    /// minutes of inactivity, a node becomes questionable"), with `after` in
    /// place of the 15 minutes; `None` leaves the paper's §2.2 rule, which
    /// pings the least-recently-seen contact whatever its age. With the rule
    /// on, a full bucket pings its least-recently-seen *questionable*
    /// contact for a newcomer, and none when every contact is good (the
    /// newcomer waits in the replacement cache); an answered ping moves on
    /// to the next questionable contact while a newcomer waits, and an
    /// unanswered one is sent once more before the contact is evicted (BEP 5,
    /// "Routing Table"). Bucket changes (a contact added or replaced, a
    /// pinged contact answering) count as lookups in the bucket's range for
    /// the refresh (BEP 5: "Buckets that have not been changed in 15 minutes
    /// should be refreshed"). Contacts already held count as good at `now`.
    pub fn with_questionable_after(mut self, after: Option<std::time::Duration>, now: Time) -> Self {
        self.questionable_s = after.map_or(0, |d| u32::try_from(d.as_secs().max(1)).unwrap_or(u32::MAX));
        self.ages = if self.stamped() { vec![secs_of(now).saturating_add(1); self.slots.len()] } else { Vec::new() };
        self
    }

    /// Whether the good/questionable rule is on.
    #[inline]
    pub(super) fn on(&self) -> bool {
        self.questionable_s != 0
    }

    /// Whether each slot carries a stamp: under the good/questionable rule,
    /// and under the answered-only rule, which reads whether a contact ever
    /// answered ([`RoutingTable::with_answered_only`]).
    #[inline]
    pub(super) fn stamped(&self) -> bool {
        self.questionable_s != 0 || self.answered_only
    }

    /// Whether the contact in slot `i` is good at second `now_s` (rule on).
    fn good(&self, i: usize, now_s: u32) -> bool {
        let a = self.ages[i];
        a != 0 && now_s.saturating_add(1).saturating_sub(a) < self.questionable_s
    }

    /// The first questionable contact of bucket `bi`, least recently seen first.
    pub(super) fn first_questionable(&self, bi: usize, now_s: u32) -> Option<usize> {
        let m = &self.metas[bi];
        (m.start as usize..m.end()).find(|&i| !self.good(i, now_s))
    }

    /// Whether the contact `id` is good at `now` under the good/questionable
    /// rule (`None` when the rule is off or `id` is not in a bucket).
    pub fn is_good(&self, id: &NodeId, now: Time) -> Option<bool> {
        if !self.on() {
            return None;
        }
        let m = &self.metas[self.bucket_of(id)];
        self.find(m.start as usize, m.end(), id).map(|i| self.good(i, secs_of(now)))
    }

    /// The stamp of a contact heard from at second `now_s`, whose slot so far
    /// (if any) is `old`: good now if it answered a request (`verified`), or
    /// if it sent one after having answered once; else never answered.
    pub(super) fn stamp(&self, old: Option<usize>, now_s: u32, verified: bool) -> u32 {
        if !self.stamped() {
            return 0;
        }
        let answered_once = old.is_some_and(|i| self.ages[i] != 0);
        if verified || answered_once { now_s.saturating_add(1) } else { 0 }
    }

    /// A bucket changed at `now_s`: under the rule, it is fresh for the refresh.
    pub(super) fn bucket_changed(&mut self, bi: usize, now_s: u32) {
        if self.on() {
            self.metas[bi].last_lookup_s = now_s;
        }
    }
}

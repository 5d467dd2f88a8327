//! The routing table: k-buckets arranged as the paper's binary tree (§2.2, §2.4),
//! with replacement caches and stale counters (§4.1) and accelerated-lookup
//! splitting (§4.2).
//!
//! Buckets are leaves of a prefix tree, kept sorted by their lowest ID, so the
//! bucket of an ID is a binary search. Only non-empty regions of the tree exist:
//! the table starts as one bucket covering the whole space and splits on
//! demand. The layout is flat (DESIGN.md §6): every contact of every bucket,
//! replacement caches included, lives in one vector of slots (12 bytes each in
//! the simulator, see [`Address::Slot`]), bucket after bucket; a bucket is a
//! 44-byte record of its range and of where its run starts and how long it is. Inside a bucket's
//! run the contacts come first, least recently seen first, then its
//! replacement cache, most recently seen first.
//!
//! This file keeps the slots and buckets (insertion, splitting, removal);
//! its parts are eviction and the replacement cache (`eviction.rs`),
//! closest-contact selection (`closest.rs`), bucket refresh (`refresh.rs`)
//! and BEP 5's good/questionable and answered-only rules
//! (`questionable.rs`, `answered.rs`).

mod answered;
mod closest;
mod eviction;
mod questionable;
mod refresh;

use super::address::Address;
use super::config::BucketLayout;
use super::id::{IdWidth, MAX_ID_BITS, NodeId};
use super::message::Contact;
use super::time::Time;

/// One contact in a bucket. Failure counts live apart, in the table's short
/// list of failing contacts, since nearly every contact has none.
pub type Entry<A> = Contact<A>;

/// A leaf of the routing tree: where its run of slots lies.
#[derive(Clone, Copy, Debug)]
struct Meta {
    /// Lowest ID of the range: the IDs sharing `depth` leading bits with it.
    lo: NodeId,
    depth: u8,
    /// Contacts, then replacements, in `slots[start..]`.
    len: u8,
    rlen: u8,
    /// An eviction PING to the head contact is outstanding (paper §2.2).
    evicting: bool,
    start: u32,
    /// When a node lookup last targeted the range, in whole seconds (32 bits
    /// hold 136 years, and keep the record at 44 bytes).
    last_lookup_s: u32,
}

/// A time in whole seconds, rounded down.
fn secs_of(t: Time) -> u32 {
    u32::try_from(t.0 / 1_000_000).unwrap_or(u32::MAX)
}

impl Meta {
    fn last_lookup(&self) -> Time {
        Time(u64::from(self.last_lookup_s) * 1_000_000)
    }
    fn contains(&self, id: &NodeId) -> bool {
        id.has_prefix(&self.lo, usize::from(self.depth))
    }
    fn end(&self) -> usize {
        self.start as usize + usize::from(self.len)
    }
    fn run_end(&self) -> usize {
        self.end() + usize::from(self.rlen)
    }
}

/// A bucket as read from the table: its range and copies of its contacts.
#[derive(Clone, Debug)]
pub struct Bucket<A> {
    lo: NodeId,
    depth: u8,
    last_lookup: Time,
    entries: Vec<Entry<A>>,
    replacements: Vec<Contact<A>>,
}

impl<A> Bucket<A> {
    /// The lowest ID of the bucket's range.
    pub fn lo(&self) -> &NodeId {
        &self.lo
    }
    /// The bucket's depth in the tree: its range is the IDs sharing this many bits with `lo`.
    pub fn depth(&self) -> usize {
        usize::from(self.depth)
    }
    /// Contacts, least recently seen first.
    pub fn entries(&self) -> &[Entry<A>] {
        &self.entries
    }
    /// Replacement cache, most recently seen first.
    pub fn replacements(&self) -> &[Contact<A>] {
        &self.replacements
    }
    /// When a node lookup last targeted this bucket's range (whole seconds).
    pub fn last_lookup(&self) -> Time {
        self.last_lookup
    }
}

/// What [`RoutingTable::seen`] did with a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen<A> {
    /// A known contact moved to the tail of its bucket.
    Refreshed,
    /// A new contact entered its bucket: a newly seen node (paper §2.5).
    Inserted,
    /// The bucket was full: the newcomer waits in the replacement cache. If `ping`
    /// is set, the driver of the table must PING that least-recently-seen contact
    /// and report the outcome (paper §2.2).
    Cached {
        /// The contact to ping, when no eviction ping is outstanding yet.
        ping: Option<Contact<A>>,
    },
    /// The own ID, never stored.
    Ignored,
    /// The ID is known at another address that has not failed: the claim is
    /// ignored and the contact keeps its address (a hijack, or a node that
    /// moved; it gets in once its old entry is stale, §4.1).
    Conflict,
    /// The bucket already holds as many contacts of the newcomer's IP address
    /// or subnet as allowed ([`Address::group`]): the newcomer is not admitted.
    Refused,
}

/// What follows an unanswered eviction PING ([`RoutingTable::eviction_failed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailedPing<A> {
    /// Nothing: the contact stays (no newcomer waits, or it was not in a
    /// bucket any more).
    Nothing,
    /// The contact was evicted and this replacement took its place: heard
    /// from, never verified.
    Promoted(Contact<A>),
    /// PING the contact once more before evicting it (BEP 5).
    PingAgain(Contact<A>),
}

/// A node's routing table.
#[derive(Clone, Debug)]
pub struct RoutingTable<A: Address> {
    own: NodeId,
    /// The width of the ID space: how deep the tree may grow, how wide random
    /// refresh targets are.
    width: IdWidth,
    /// The relaxed split rule of §2.4 and the §4.2 splits are on
    /// ([`BucketLayout::Tree`]); off, only the own bucket splits.
    relaxed: bool,
    k: u8,
    b: u8,
    cache: u8,
    stale_limit: u8,
    /// Ping the head of a full bucket when a newcomer arrives (§2.2); if false,
    /// only cache the newcomer and let failures evict (§4.1).
    ping_on_full: bool,
    /// BEP 5's table of good nodes taken literally: only contacts that have
    /// answered this node enter it ([`with_answered_only`](Self::with_answered_only)).
    answered_only: bool,
    /// Admission limits per bucket (replacement cache included) for addresses
    /// with a group: contacts per IP address, per subnet.
    max_ip: u8,
    max_subnet: u8,
    /// BEP 5's good/questionable rule: a contact is questionable once this
    /// many seconds passed since it last proved good; 0 turns the rule off.
    questionable_s: u32,
    /// With the rule on, one stamp per slot, aligned with `slots`: 1 + the
    /// second at which the contact last proved good, 0 if it never answered
    /// this node. Empty when the rule is off, so the paper's table pays nothing.
    ages: Vec<u32>,
    /// Cached common-prefix length of the own ID with its k-th closest contact
    /// (`None`: fewer than k contacts), for the relaxed split rule. Valid while
    /// `near_valid`; a change among the contacts at least that near clears it.
    near: Option<u8>,
    near_valid: bool,
    /// Failed RPCs in a row of the contacts that have any (paper §4.1).
    failing: Vec<(NodeId, u8)>,
    metas: Vec<Meta>,
    slots: Vec<A::Slot>,
}

impl<A: Address> RoutingTable<A> {
    /// An empty table for the node `own`: one bucket covering the whole ID space.
    /// `cache` is the replacement-cache size; at least one newcomer is always
    /// kept while an eviction ping is outstanding.
    pub fn new(own: NodeId, k: usize, b: u8, cache: usize, stale_limit: u8, now: Time) -> Self {
        RoutingTable {
            own,
            width: IdWidth::Bits160,
            relaxed: true,
            k: u8::try_from(k.max(1)).unwrap_or(u8::MAX),
            b: b.max(1),
            cache: u8::try_from(cache.max(1)).unwrap_or(u8::MAX),
            stale_limit,
            ping_on_full: true,
            answered_only: false,
            max_ip: 1,
            max_subnet: 2,
            questionable_s: 0,
            ages: Vec::new(),
            near: None,
            near_valid: false,
            failing: Vec::new(),
            metas: vec![Meta {
                lo: NodeId::default(),
                depth: 0,
                len: 0,
                rlen: 0,
                evicting: false,
                start: 0,
                last_lookup_s: secs_of(now),
            }],
            slots: Vec::new(),
        }
    }

    /// Builds a table in one pass from its buckets, given in ID order as
    /// `(lowest ID, depth, contacts)`: for drivers that know a settled
    /// network's tables (the simulator's oracle bootstrap). The buckets must
    /// partition the ID space, hold at most k contacts each, all in range and
    /// none the own ID; this is checked in debug builds.
    pub fn from_buckets<'a, I>(
        own: NodeId,
        k: usize,
        b: u8,
        cache: usize,
        stale_limit: u8,
        now: Time,
        buckets: I,
    ) -> Self
    where
        I: IntoIterator<Item = (NodeId, u8, &'a [Contact<A>])>,
        I::IntoIter: Clone,
    {
        let buckets = buckets.into_iter();
        // Sized exactly: a million tables built at once leave no slack behind.
        let (n_buckets, n_contacts) = buckets.clone().fold((0, 0), |(b, c), (_, _, s)| (b + 1, c + s.len()));
        let mut t = Self::new(own, k, b, cache, stale_limit, now);
        t.metas = Vec::with_capacity(n_buckets);
        t.slots = Vec::with_capacity(n_contacts);
        for (lo, depth, contacts) in buckets {
            let start = t.slots.len() as u32;
            let len = u8::try_from(contacts.len()).unwrap_or(u8::MAX);
            t.slots.extend(contacts.iter().take(usize::from(len)).map(|c| A::pack(*c)));
            t.metas.push(Meta { lo, depth, len, rlen: 0, evicting: false, start, last_lookup_s: secs_of(now) });
        }
        debug_assert_eq!(t.check_invariants(), Ok(()));
        t
    }

    /// Sets the width of the ID space (a bare table: 160 bits) and the bucket
    /// layout (a bare table: the paper's tree).
    pub fn with_layout(mut self, width: IdWidth, layout: BucketLayout) -> Self {
        self.width = width;
        self.relaxed = layout == BucketLayout::Tree;
        self
    }

    /// Chooses the full-bucket policy: `true` pings the least-recently-seen
    /// contact for every newcomer (§2.2, the default of a bare table); `false`
    /// only caches newcomers, stale contacts being replaced when RPCs to them
    /// fail (§4.1).
    pub fn with_eviction_ping(mut self, ping: bool) -> Self {
        self.ping_on_full = ping;
        self
    }

    /// Sets the admission limits per bucket (replacement cache included):
    /// contacts per IP address and per subnet, for addresses with an
    /// [`Address::group`] (a bare table: 1 and 2, as libtorrent's defaults).
    pub fn with_admission_limits(mut self, per_ip: usize, per_subnet: usize) -> Self {
        self.max_ip = u8::try_from(per_ip.max(1)).unwrap_or(u8::MAX);
        self.max_subnet = u8::try_from(per_subnet.max(1)).unwrap_or(u8::MAX);
        self
    }

    /// Moves slot `pos` to the end of `slots[pos..end]` as `slot` stamped `age`.
    fn put_at_tail(&mut self, pos: usize, end: usize, slot: A::Slot, age: u32) {
        self.slots[pos..end].rotate_left(1);
        self.slots[end - 1] = slot;
        if self.stamped() {
            self.ages[pos..end].rotate_left(1);
            self.ages[end - 1] = age;
        }
    }

    /// Moves slot `last` to `front` (shifting the slots between) as `slot` stamped `age`.
    fn put_at_front(&mut self, front: usize, last: usize, slot: A::Slot, age: u32) {
        self.slots[front..=last].rotate_right(1);
        self.slots[front] = slot;
        if self.stamped() {
            self.ages[front..=last].rotate_right(1);
            self.ages[front] = age;
        }
    }

    /// The owner's ID.
    pub fn own_id(&self) -> &NodeId {
        &self.own
    }

    /// Number of buckets (leaves of the tree).
    pub fn bucket_count(&self) -> usize {
        self.metas.len()
    }

    /// Number of buckets holding at least one contact.
    pub fn nonempty_buckets(&self) -> usize {
        self.metas.iter().filter(|m| m.len > 0).count()
    }

    /// Copies of the buckets, in ID order (for tests and reports; the hot
    /// paths never build these).
    pub fn buckets(&self) -> Vec<Bucket<A>> {
        self.metas
            .iter()
            .map(|m| Bucket {
                lo: m.lo,
                depth: m.depth,
                last_lookup: m.last_lookup(),
                entries: self.slots[m.start as usize..m.end()].iter().map(A::unpack).collect(),
                replacements: self.slots[m.end()..m.run_end()].iter().map(A::unpack).collect(),
            })
            .collect()
    }

    /// Number of contacts held (not counting replacement caches).
    pub fn len(&self) -> usize {
        self.metas.iter().map(|m| usize::from(m.len)).sum()
    }

    /// Whether the table holds no contact.
    pub fn is_empty(&self) -> bool {
        self.metas.iter().all(|m| m.len == 0)
    }

    /// The contacts as stored, in the order of [`contacts`](Self::contacts),
    /// without rebuilding any ID: for a driver's metrics that need only each
    /// contact's address and top bits ([`Address::addr`], [`Address::top`]).
    pub fn slots(&self) -> impl Iterator<Item = &A::Slot> + '_ {
        self.metas.iter().flat_map(|m| self.slots[m.start as usize..m.end()].iter())
    }

    /// All contacts, bucket by bucket, each least recently seen first.
    pub fn contacts(&self) -> impl Iterator<Item = Contact<A>> + '_ {
        self.metas.iter().flat_map(|m| self.slots[m.start as usize..m.end()].iter().map(A::unpack))
    }

    /// Whether `id` is in a bucket.
    pub fn contains(&self, id: &NodeId) -> bool {
        let m = &self.metas[self.bucket_of(id)];
        self.find(m.start as usize, m.end(), id).is_some()
    }

    /// Heap bytes held by the table, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.metas.capacity() * std::mem::size_of::<Meta>()
            + self.slots.capacity() * std::mem::size_of::<A::Slot>()
            + self.failing.capacity() * std::mem::size_of::<(NodeId, u8)>()
            + self.ages.capacity() * std::mem::size_of::<u32>()
    }

    /// The bucket whose range holds `id`: a binary search over the buckets'
    /// lowest IDs, on their top 64 bits unless those tie.
    #[inline]
    fn bucket_of(&self, id: &NodeId) -> usize {
        let (own, n) = (self.own.top(), self.metas.len());
        let shared = (id.top() ^ own).leading_zeros() as usize;
        if shared < 63 {
            let g = sibling_guess(own, n, shared);
            if let Some(m) = self.metas.get(g)
                && usize::from(m.depth) == shared + 1
                && m.contains(id)
            {
                debug_assert_eq!(g, self.search(id));
                return g;
            }
        }
        self.search(id)
    }

    /// [`bucket_of`](Self::bucket_of) by binary search over the buckets'
    /// lowest IDs, for any shape of tree.
    #[inline]
    fn search(&self, id: &NodeId) -> usize {
        let top = id.top();
        let i = self.metas.partition_point(|m| {
            let mt = m.lo.top();
            mt < top || (mt == top && m.lo <= *id)
        });
        i - 1
    }

    /// Position of `id` among `slots[from..to]`.
    #[inline]
    fn find(&self, from: usize, to: usize, id: &NodeId) -> Option<usize> {
        let top = id.top();
        (from..to).find(|&i| A::top(&self.slots[i]) == top && (A::ID_FROM_TOP || A::unpack(&self.slots[i]).id == *id))
    }

    /// Inserts a slot at `at`, inside bucket `bi`'s run, moving the runs after it.
    fn insert_slot(&mut self, bi: usize, at: usize, s: A::Slot, age: u32) {
        if self.slots.len() == self.slots.capacity() {
            // Grow by an eighth: a million tables keep little slack.
            self.slots.reserve_exact(4);
        }
        self.slots.insert(at, s);
        if self.stamped() {
            self.ages.insert(at, age);
        }
        for m in &mut self.metas[bi + 1..] {
            m.start += 1;
        }
    }

    /// Removes the slot at `at`, inside bucket `bi`'s run.
    fn remove_slot(&mut self, bi: usize, at: usize) -> A::Slot {
        for m in &mut self.metas[bi + 1..] {
            m.start -= 1;
        }
        if self.stamped() {
            self.ages.remove(at);
        }
        self.slots.remove(at)
    }

    /// Records that `id` at `addr` was heard from (paper §2.2: "when a Kademlia
    /// node receives any message from another node, it updates the appropriate
    /// k-bucket for the sender's node ID").
    ///
    /// Two rules guard the table against forged senders. A known ID keeps its
    /// address until it fails: a claim of that ID from another address is
    /// neither refreshed nor moved but reported as [`Seen::Conflict`], unless
    /// the contact at the old address is stale (§4.1: `stale_limit` failed
    /// RPCs in a row), when the new address takes over. And a newcomer whose
    /// address has an admission group ([`Address::group`]) is refused
    /// ([`Seen::Refused`]) when its bucket, replacement cache included,
    /// already holds the configured most contacts of its IP or subnet.
    pub fn seen(&mut self, id: NodeId, addr: A) -> Seen<A> {
        self.heard(id, addr, Time::ZERO, true)
    }

    /// [`seen`](Self::seen), at `now`, of a message that was (`verified`) or
    /// was not a reply to a request of this node: the good/questionable rule
    /// ([`with_questionable_after`](Self::with_questionable_after)) reads both.
    /// With the answered-only rule on, a request from a contact already held
    /// clears none of its failures ([`with_answered_only`](Self::with_answered_only)).
    pub fn heard(&mut self, id: NodeId, addr: A, now: Time, verified: bool) -> Seen<A> {
        if id == self.own {
            return Seen::Ignored;
        }
        let slot = A::pack(Contact { id, addr });
        let now_s = secs_of(now);
        loop {
            let bi = self.bucket_of(&id);
            let m = self.metas[bi];
            let (start, end) = (m.start as usize, m.end());
            if let Some(pos) = self.find(start, end, &id) {
                if A::addr(&self.slots[pos]) != addr {
                    if !self.is_stale_slot(pos) {
                        return Seen::Conflict;
                    }
                    if !self.admits(bi, addr, Some(pos)) {
                        return Seen::Refused;
                    }
                    // The old address failed (§4.1): the claim from the new one
                    // is a new contact for the same ID, at the tail.
                    self.clear_failures(&id);
                    self.put_at_tail(pos, end, slot, self.stamp(None, now_s, verified));
                    self.bucket_changed(bi, now_s);
                    return Seen::Inserted;
                }
                // To the tail: least recently seen first (paper §2.2).
                self.put_at_tail(pos, end, slot, self.stamp(Some(pos), now_s, verified));
                // Under the answered-only rule only an answer shows the
                // contact can be reached; a request of its own does not.
                if verified || !self.answered_only {
                    self.clear_failures(&id);
                }
                return Seen::Refreshed;
            }
            let cached = self.find(end, m.run_end(), &id);
            if let Some(r) = cached
                && A::addr(&self.slots[r]) != addr
            {
                return Seen::Conflict;
            }
            // A cached copy at this address is already counted in its groups.
            let counted = cached.is_some();
            if m.len < self.k {
                if !counted && !self.admits(bi, addr, None) {
                    return Seen::Refused;
                }
                self.near_changed(&id);
                let age = self.stamp(cached, now_s, verified);
                if let Some(r) = cached {
                    self.remove_slot(bi, r);
                    self.metas[bi].rlen -= 1;
                }
                self.insert_slot(bi, end, slot, age);
                self.metas[bi].len += 1;
                self.bucket_changed(bi, now_s);
                return Seen::Inserted;
            }
            if self.may_split(bi, &id) {
                self.split(bi);
                continue;
            }
            // A stale contact is replaced as soon as a replacement appears (§4.1).
            let stale_pos = if self.failing.is_empty() { None } else { (start..end).find(|&i| self.is_stale_slot(i)) };
            if !counted && !self.admits(bi, addr, stale_pos) {
                return Seen::Refused;
            }
            if let Some(pos) = stale_pos {
                let gone = A::unpack(&self.slots[pos]).id;
                self.near_changed(&gone);
                self.near_changed(&id);
                self.clear_failures(&gone);
                self.put_at_tail(pos, end, slot, self.stamp(cached, now_s, verified));
                if let Some(r) = cached {
                    // Not in the cache as well as in the bucket.
                    self.remove_slot(bi, r);
                    self.metas[bi].rlen -= 1;
                }
                self.bucket_changed(bi, now_s);
                return Seen::Inserted;
            }
            self.cache_newcomer(bi, slot, cached, self.stamp(cached, now_s, verified));
            if self.metas[bi].evicting || !self.ping_on_full {
                return Seen::Cached { ping: None };
            }
            // The paper pings the least-recently-seen contact (§2.2); BEP 5
            // the least-recently-seen questionable one, and none if all are good.
            let head = if self.on() { self.first_questionable(bi, now_s) } else { Some(self.metas[bi].start as usize) };
            let Some(i) = head else {
                return Seen::Cached { ping: None };
            };
            self.metas[bi].evicting = true;
            return Seen::Cached { ping: Some(A::unpack(&self.slots[i])) };
        }
    }

    /// Whether bucket `bi` may take one more contact at `addr` under the
    /// admission limits, not counting the slot `except` (which is to be
    /// replaced). Free for addresses without a group.
    #[inline]
    fn admits(&self, bi: usize, addr: A, except: Option<usize>) -> bool {
        let Some(g) = addr.group() else {
            return true;
        };
        let m = &self.metas[bi];
        let (mut ip, mut net) = (0u32, 0u32);
        for i in m.start as usize..m.run_end() {
            if Some(i) == except {
                continue;
            }
            if let Some(h) = A::addr(&self.slots[i]).group() {
                ip += u32::from(h.ip == g.ip);
                net += u32::from(h.subnet == g.subnet);
            }
        }
        ip < u32::from(self.max_ip) && net < u32::from(self.max_subnet)
    }

    /// Whether the full bucket `bi` may split to make room for `newcomer`:
    /// it holds the own ID (§2.4); or its depth is not a multiple of `b` (§4.2);
    /// or the newcomer lies in the smallest subtree around the own ID that
    /// holds at least k contacts: the relaxed rule that keeps every contact of
    /// that subtree (§2.4, "highly unbalanced trees").
    fn may_split(&mut self, bi: usize, newcomer: &NodeId) -> bool {
        let m = &self.metas[bi];
        let depth = usize::from(m.depth);
        // A depth is a byte: at 256 bits the last split leaves buckets of two IDs.
        if depth >= self.width.bits().min(usize::from(u8::MAX)) {
            return false;
        }
        if m.contains(&self.own) {
            return true;
        }
        if !self.relaxed {
            return false;
        }
        if !depth.is_multiple_of(usize::from(self.b)) {
            return true;
        }
        // Inside the smallest subtree around the own ID that holds at least k
        // contacts: that subtree's depth is the number of leading bits the k-th
        // closest contact shares with the own ID.
        match self.near_prefix() {
            None => true,
            Some(r) => newcomer.common_prefix_len(&self.own) >= usize::from(r),
        }
    }

    /// Whether the cached near prefix, if valid, equals a fresh computation.
    #[cfg(test)]
    pub(crate) fn near_cache_is_fresh(&mut self) -> bool {
        if !self.near_valid {
            return true;
        }
        let cached = self.near;
        self.near_valid = false;
        cached == self.near_prefix()
    }

    /// Common-prefix length of the own ID with its k-th closest contact,
    /// cached: a count of the contacts by prefix length, read from the longest.
    fn near_prefix(&mut self) -> Option<u8> {
        if !self.near_valid {
            let mut count = [0u16; MAX_ID_BITS + 1];
            for m in &self.metas {
                for s in &self.slots[m.start as usize..m.end()] {
                    let d = A::top(s) ^ self.own.top();
                    let cpl =
                        if d != 0 { d.leading_zeros() as usize } else { self.own.common_prefix_len(&A::unpack(s).id) };
                    count[cpl] += 1;
                }
            }
            let mut seen = 0usize;
            self.near = None;
            for cpl in (0..=MAX_ID_BITS).rev() {
                seen += usize::from(count[cpl]);
                if seen >= usize::from(self.k) {
                    self.near = Some(cpl as u8);
                    break;
                }
            }
            self.near_valid = true;
        }
        self.near
    }

    fn split(&mut self, bi: usize) {
        let m = self.metas[bi];
        let depth = usize::from(m.depth);
        let (start, end, run_end) = (m.start as usize, m.end(), m.run_end());
        let high = |s: &A::Slot| A::unpack(s).id.bit(depth);
        // Stable partition of the run: [low entries, low cache, high entries, high cache].
        let run: Vec<A::Slot> = self.slots[start..run_end].to_vec();
        let ages: Vec<u32> = if self.stamped() { self.ages[start..run_end].to_vec() } else { Vec::new() };
        let (entries, cache) = (0..end - start, end - start..run_end - start);
        let mut w = start;
        let mut counts = [0u8; 4];
        for (part, (src, want_high)) in
            [(entries.clone(), false), (cache.clone(), false), (entries, true), (cache, true)].into_iter().enumerate()
        {
            for j in src.filter(|&j| high(&run[j]) == want_high) {
                self.slots[w] = run[j];
                if let Some(&a) = ages.get(j) {
                    self.ages[w] = a;
                }
                w += 1;
                counts[part] += 1;
            }
        }
        let hi_lo = m.lo.with_bit(depth, true);
        let low = Meta { depth: m.depth + 1, len: counts[0], rlen: counts[1], evicting: false, ..m };
        let high_meta = Meta {
            lo: hi_lo,
            depth: m.depth + 1,
            len: counts[2],
            rlen: counts[3],
            evicting: false,
            start: m.start + u32::from(counts[0]) + u32::from(counts[1]),
            last_lookup_s: m.last_lookup_s,
        };
        self.metas[bi] = low;
        self.metas.insert(bi + 1, high_meta);
        for i in [bi, bi + 1] {
            self.promote_replacements(i);
        }
    }

    /// A contact `id` entered or left the table: the cached near prefix stays
    /// valid only if `id` shares fewer bits with the own ID.
    fn near_changed(&mut self, id: &NodeId) {
        if self.near_valid && self.near.is_some_and(|r| id.common_prefix_len(&self.own) < usize::from(r)) {
            return;
        }
        self.near_valid = false;
    }

    /// Removes `id` outright (for instance a contact that turned out to have another ID).
    pub fn remove(&mut self, id: &NodeId) -> bool {
        let bi = self.bucket_of(id);
        let m = self.metas[bi];
        let Some(pos) = self.find(m.start as usize, m.end(), id) else {
            return false;
        };
        self.remove_entry(bi, pos, id);
        self.promote_replacements(bi);
        true
    }

    /// Checks the table's structural invariants: buckets partition the ID space
    /// in order and their runs tile the slots; no bucket holds more than k
    /// contacts or a contact outside its range, a duplicate, or the own ID.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut expected_lo = Some(NodeId::default());
        let mut next_start = 0usize;
        for m in &self.metas {
            if Some(m.lo) != expected_lo {
                return Err(format!("bucket {:?}/{} does not follow its predecessor", m.lo, m.depth));
            }
            if m.lo.truncated(usize::from(m.depth)) != m.lo {
                return Err("bucket lower bound has bits past its depth".into());
            }
            if m.start as usize != next_start {
                return Err("bucket runs do not tile the slots".into());
            }
            next_start = m.run_end();
            expected_lo = next_prefix(&m.lo, usize::from(m.depth));
            if m.len > self.k {
                return Err(format!("bucket holds {} > k contacts", m.len));
            }
            let entries: Vec<Contact<A>> = self.slots[m.start as usize..m.end()].iter().map(A::unpack).collect();
            for (i, e) in entries.iter().enumerate() {
                if e.id == self.own {
                    return Err("own ID in the table".into());
                }
                if !m.contains(&e.id) {
                    return Err("contact outside its bucket's range".into());
                }
                if entries[..i].iter().any(|o| o.id == e.id) {
                    return Err("duplicate contact".into());
                }
            }
            if self.slots[m.end()..m.run_end()].iter().map(A::unpack).any(|c| c.id == self.own || !m.contains(&c.id)) {
                return Err("bad replacement entry".into());
            }
            let groups: Vec<_> =
                self.slots[m.start as usize..m.run_end()].iter().filter_map(|s| A::addr(s).group()).collect();
            for g in &groups {
                if groups.iter().filter(|h| h.ip == g.ip).count() > usize::from(self.max_ip) {
                    return Err("a bucket holds more contacts of one IP than allowed".into());
                }
                if groups.iter().filter(|h| h.subnet == g.subnet).count() > usize::from(self.max_subnet) {
                    return Err("a bucket holds more contacts of one subnet than allowed".into());
                }
            }
        }
        if next_start != self.slots.len() {
            return Err("slots beyond the last bucket".into());
        }
        if self.stamped() && self.ages.len() != self.slots.len() {
            return Err("one age per slot under the good/questionable or answered-only rule".into());
        }
        if expected_lo.is_some() {
            return Err("buckets do not cover the ID space".into());
        }
        Ok(())
    }
}

/// The lowest ID after the subtree `lo/depth`, or `None` past the end of the space.
pub fn next_prefix(lo: &NodeId, depth: usize) -> Option<NodeId> {
    if depth == 0 {
        return None;
    }
    let mut out = lo.0;
    let mut bit = depth - 1;
    loop {
        let mask = 1u8 << (7 - bit % 8);
        if out[bit / 8] & mask == 0 {
            out[bit / 8] |= mask;
            return Some(NodeId(out));
        }
        out[bit / 8] &= !mask;
        if bit == 0 {
            return None;
        }
        bit -= 1;
    }
}

/// Where the bucket of an ID sharing exactly `shared` leading bits with the
/// own ID (top word `own`) is, in a table of `n` buckets, if the tree above
/// it is the paper's (§2.4): the own ID's sibling at every depth up to
/// `shared` is one bucket. Sorted by their lowest IDs, the siblings on the
/// side where the own ID has a 1 lie below it, shallowest first; those where
/// it has a 0 lie above it, shallowest last. Splits deeper in the tree (the
/// relaxed rule near the own ID, §4.2) move neither. The caller checks the
/// guess against the bucket's range.
#[inline]
fn sibling_guess(own: u64, n: usize, shared: usize) -> usize {
    // The own ID's ones among its first `shared` bits.
    let ones = if shared == 0 { 0 } else { (own >> (64 - shared)).count_ones() as usize };
    if own >> (63 - shared) & 1 == 1 { ones } else { n.wrapping_sub(1 + (shared - ones)) }
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;

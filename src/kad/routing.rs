//! The routing table: k-buckets arranged as the paper's binary tree (§2.2, §2.4),
//! with replacement caches and stale counters (§4.1) and accelerated-lookup
//! splitting (§4.2).
//!
//! Buckets are leaves of a prefix tree, kept in a `Vec` sorted by their lowest
//! ID, so the bucket of an ID is a binary search. Only non-empty regions of the
//! tree exist: the table starts as one bucket covering the whole space and
//! splits on demand. Inside a bucket the contacts are ordered least recently
//! seen first; the replacement cache is ordered most recently seen first.

use super::id::{Distance, ID_BITS, NodeId};
use super::message::Contact;
use super::time::Time;
use rand_core::RngCore;
use std::cell::RefCell;

/// One contact in a bucket: an ID and an address, 24 bytes in the simulator.
/// Failure counts live apart, in the table's short list of failing contacts,
/// since nearly every contact has none.
pub type Entry<A> = Contact<A>;

/// A leaf of the routing tree: the IDs sharing `depth` leading bits with `lo`.
#[derive(Clone, Debug)]
pub struct Bucket<A> {
    lo: NodeId,
    depth: u8,
    /// An eviction PING to the head contact is outstanding (paper §2.2).
    evicting: bool,
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
    /// When a node lookup last targeted this bucket's range.
    pub fn last_lookup(&self) -> Time {
        self.last_lookup
    }
    /// The smallest XOR distance from `target` to any ID of this bucket's range.
    #[inline]
    fn min_distance(&self, target: &NodeId) -> Distance {
        self.lo.subtree_distance_range(self.depth(), target).0
    }
    fn contains(&self, id: &NodeId) -> bool {
        id.has_prefix(&self.lo, self.depth())
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
}

/// Scratch for `closest`: buckets by least possible distance, then candidates
/// as (distance, bucket, position).
type Scratch = (Vec<(Distance, u32)>, Vec<(Distance, u32, u16)>);

thread_local! {
    /// Scratch for `closest`: bucket order and candidates. Shared by every table
    /// on the thread so that a million nodes do not each carry a buffer.
    static SCRATCH: RefCell<Scratch> =
        const { RefCell::new((Vec::new(), Vec::new())) };
}

/// A node's routing table.
#[derive(Clone, Debug)]
pub struct RoutingTable<A> {
    own: NodeId,
    k: u8,
    b: u8,
    cache: u8,
    stale_limit: u8,
    /// Cached distance from the own ID to its k-th closest contact (`None`:
    /// fewer than k contacts), for the relaxed split rule. Valid while
    /// `near_valid`; any change to the set of contacts clears it.
    near: Option<Distance>,
    near_valid: bool,
    /// Failed RPCs in a row of the contacts that have any (paper §4.1).
    failing: Vec<(NodeId, u8)>,
    /// Ping the head of a full bucket when a newcomer arrives (§2.2); if false,
    /// only cache the newcomer and let failures evict (§4.1).
    ping_on_full: bool,
    /// The top 64 bits of each bucket's lowest ID, densely packed: the bucket
    /// search reads these few cache lines instead of the buckets themselves.
    keys: Vec<u64>,
    buckets: Vec<Bucket<A>>,
}

impl<A: Copy + PartialEq> RoutingTable<A> {
    /// An empty table for the node `own`: one bucket covering the whole ID space.
    /// `cache` is the replacement-cache size; at least one newcomer is always
    /// kept while an eviction ping is outstanding.
    pub fn new(own: NodeId, k: usize, b: u8, cache: usize, stale_limit: u8, now: Time) -> Self {
        RoutingTable {
            own,
            k: u8::try_from(k).unwrap_or(u8::MAX),
            b: b.max(1),
            cache: u8::try_from(cache.max(1)).unwrap_or(u8::MAX),
            stale_limit,
            near: None,
            near_valid: false,
            failing: Vec::new(),
            ping_on_full: true,
            keys: vec![0],
            buckets: vec![Bucket {
                lo: NodeId::default(),
                depth: 0,
                evicting: false,
                last_lookup: now,
                entries: Vec::new(),
                replacements: Vec::new(),
            }],
        }
    }

    /// Chooses the full-bucket policy: `true` pings the least-recently-seen
    /// contact for every newcomer (§2.2, the default of a bare table); `false`
    /// only caches newcomers, stale contacts being replaced when RPCs to them
    /// fail (§4.1).
    pub fn with_eviction_ping(mut self, ping: bool) -> Self {
        self.ping_on_full = ping;
        self
    }

    /// The owner's ID.
    pub fn own_id(&self) -> &NodeId {
        &self.own
    }

    /// The buckets, in ID order.
    pub fn buckets(&self) -> &[Bucket<A>] {
        &self.buckets
    }

    /// Number of contacts held (not counting replacement caches).
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.entries.len()).sum()
    }

    /// Whether the table holds no contact.
    pub fn is_empty(&self) -> bool {
        self.buckets.iter().all(|b| b.entries.is_empty())
    }

    /// All contacts, bucket by bucket.
    pub fn contacts(&self) -> impl Iterator<Item = &Entry<A>> {
        self.buckets.iter().flat_map(|b| b.entries.iter())
    }

    /// Whether `id` is in a bucket.
    pub fn contains(&self, id: &NodeId) -> bool {
        self.buckets[self.bucket_of(id)].entries.iter().any(|e| e.id == *id)
    }

    /// Heap bytes held by the table, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket<A>>()
            + self.keys.capacity() * std::mem::size_of::<u64>()
            + self.failing.capacity() * std::mem::size_of::<(NodeId, u8)>()
            + self
                .buckets
                .iter()
                .map(|b| {
                    b.entries.capacity() * std::mem::size_of::<Entry<A>>()
                        + b.replacements.capacity() * std::mem::size_of::<Contact<A>>()
                })
                .sum::<usize>()
    }

    fn bucket_of(&self, id: &NodeId) -> usize {
        let top = Distance::of(id).top();
        let mut i = self.keys.partition_point(|k| *k <= top) - 1;
        // Buckets deeper than 64 bits share their top word: step back to the
        // last one that starts at or below `id`.
        while self.buckets[i].lo > *id {
            i -= 1;
        }
        i
    }

    /// Records that `id` at `addr` was heard from (paper §2.2: "when a Kademlia
    /// node receives any message from another node, it updates the appropriate
    /// k-bucket for the sender's node ID").
    pub fn seen(&mut self, id: NodeId, addr: A) -> Seen<A> {
        if id == self.own {
            return Seen::Ignored;
        }
        loop {
            let bi = self.bucket_of(&id);
            let k = usize::from(self.k);
            let bucket = &mut self.buckets[bi];
            if let Some(pos) = bucket.entries.iter().position(|e| e.id == id) {
                let mut e = bucket.entries.remove(pos);
                e.addr = addr;
                bucket.entries.push(e);
                self.clear_failures(&id);
                return Seen::Refreshed;
            }
            if bucket.entries.len() < k {
                self.near_changed(&id);
                let bucket = &mut self.buckets[bi];
                bucket.replacements.retain(|c| c.id != id);
                push_bounded(&mut bucket.entries, Contact { id, addr }, k);
                return Seen::Inserted;
            }
            if self.may_split(bi, &id) {
                self.split(bi);
                continue;
            }
            let cache = usize::from(self.cache);
            // A stale contact is replaced as soon as a replacement appears (§4.1).
            let stale_pos = if self.failing.is_empty() {
                None
            } else {
                self.buckets[bi].entries.iter().position(|e| self.is_stale(&e.id))
            };
            if let Some(pos) = stale_pos {
                let gone = self.buckets[bi].entries[pos].id;
                self.near_changed(&gone);
                self.near_changed(&id);
                self.clear_failures(&gone);
                let bucket = &mut self.buckets[bi];
                bucket.entries.remove(pos);
                bucket.entries.push(Contact { id, addr });
                return Seen::Inserted;
            }
            let bucket = &mut self.buckets[bi];
            bucket.replacements.retain(|c| c.id != id);
            if bucket.replacements.len() >= cache {
                bucket.replacements.pop();
            }
            bucket.replacements.insert(0, Contact { id, addr });
            if bucket.evicting || !self.ping_on_full {
                return Seen::Cached { ping: None };
            }
            bucket.evicting = true;
            return Seen::Cached { ping: Some(bucket.entries[0]) };
        }
    }

    /// Whether the full bucket `bi` may split to make room for `newcomer`:
    /// it holds the own ID (§2.4); or its depth is not a multiple of `b` (§4.2);
    /// or the newcomer lies in the smallest subtree around the own ID that
    /// holds at least k contacts: the relaxed rule that keeps every contact of
    /// that subtree (§2.4, "highly unbalanced trees").
    fn may_split(&mut self, bi: usize, newcomer: &NodeId) -> bool {
        let bucket = &self.buckets[bi];
        if bucket.depth() >= ID_BITS {
            return false;
        }
        if bucket.contains(&self.own) || !bucket.depth().is_multiple_of(usize::from(self.b)) {
            return true;
        }
        // Inside the smallest subtree around the own ID that holds at least k
        // contacts: that subtree's depth is the number of leading bits the k-th
        // closest contact shares with the own ID.
        match self.near_radius() {
            None => true,
            Some(r) => newcomer.distance(&self.own).leading_zeros() >= r.leading_zeros(),
        }
    }

    /// Whether the cached k-th closest distance, if valid, equals a fresh computation.
    #[cfg(test)]
    pub(crate) fn near_cache_is_fresh(&mut self) -> bool {
        if !self.near_valid {
            return true;
        }
        let cached = self.near;
        self.near_valid = false;
        cached == self.near_radius()
    }

    /// Distance from the own ID to its k-th closest contact, cached.
    fn near_radius(&mut self) -> Option<Distance> {
        if !self.near_valid {
            let k = usize::from(self.k);
            let mut d: Vec<Distance> = self.contacts().map(|e| e.id.distance(&self.own)).collect();
            self.near = (d.len() >= k).then(|| *d.select_nth_unstable(k - 1).1);
            self.near_valid = true;
        }
        self.near
    }

    fn split(&mut self, bi: usize) {
        let depth = self.buckets[bi].depth();
        let old = &mut self.buckets[bi];
        let hi_lo = old.lo.with_bit(depth, true);
        let (keep, moved): (Vec<_>, Vec<_>) = old.entries.drain(..).partition(|e| !e.id.bit(depth));
        let (keep_r, moved_r): (Vec<_>, Vec<_>) = old.replacements.drain(..).partition(|c| !c.id.bit(depth));
        old.entries = keep;
        old.replacements = keep_r;
        old.depth += 1;
        old.evicting = false;
        let high = Bucket {
            lo: hi_lo,
            depth: old.depth,
            evicting: false,
            last_lookup: old.last_lookup,
            entries: moved,
            replacements: moved_r,
        };
        self.buckets.reserve_exact(1);
        self.keys.reserve_exact(1);
        self.keys.insert(bi + 1, Distance::of(&hi_lo).top());
        self.buckets.insert(bi + 1, high);
        for i in [bi, bi + 1] {
            self.promote_replacements(i);
            let b = &mut self.buckets[i];
            b.entries.shrink_to_fit();
            b.replacements.shrink_to_fit();
        }
    }

    /// Moves replacements into free room, most recently seen first (§4.1).
    fn promote_replacements(&mut self, bi: usize) -> Option<Contact<A>> {
        let k = usize::from(self.k);
        let mut last = None;
        while self.buckets[bi].entries.len() < k && !self.buckets[bi].replacements.is_empty() {
            let b = &mut self.buckets[bi];
            let c = b.replacements.remove(0);
            push_bounded(&mut b.entries, c, k);
            self.near_changed(&c.id);
            last = Some(c);
        }
        last
    }

    /// A contact `id` entered or left the table: the cached k-th closest distance
    /// stays valid only if `id` lies beyond it.
    fn near_changed(&mut self, id: &NodeId) {
        if self.near_valid && self.near.is_some_and(|r| id.distance(&self.own) > r) {
            return;
        }
        self.near_valid = false;
    }

    /// The eviction PING to `id` was answered: the contact stays (it was moved
    /// to the tail by [`seen`](Self::seen)) and the newcomer stays in the cache (§2.2).
    pub fn eviction_answered(&mut self, id: &NodeId) {
        let bi = self.bucket_of(id);
        self.buckets[bi].evicting = false;
    }

    /// The eviction PING to `id` went unanswered: evict it and promote the most
    /// recently seen replacement, which is returned (§2.2, §4.1).
    pub fn eviction_failed(&mut self, id: &NodeId) -> Option<Contact<A>> {
        let bi = self.bucket_of(id);
        let b = &mut self.buckets[bi];
        b.evicting = false;
        if b.replacements.is_empty() {
            // Nobody waits: keep the contact, counting the failure (§4.1).
            if b.entries.iter().any(|e| e.id == *id) {
                self.count_failure(id);
            }
            return None;
        }
        let before = b.entries.len();
        b.entries.retain(|e| e.id != *id);
        if b.entries.len() == before {
            return None;
        }
        self.clear_failures(id);
        self.near_changed(id);
        self.promote_replacements(bi)
    }

    /// An RPC to `id` failed. After `stale_limit` failures in a row the contact
    /// is removed if a replacement waits, which is promoted and returned (§4.1).
    pub fn failed(&mut self, id: &NodeId) -> Option<Contact<A>> {
        let bi = self.bucket_of(id);
        let pos = self.buckets[bi].entries.iter().position(|e| e.id == *id)?;
        let failures = self.count_failure(id);
        if failures < self.stale_limit || self.buckets[bi].replacements.is_empty() {
            return None;
        }
        self.buckets[bi].entries.remove(pos);
        self.clear_failures(id);
        self.near_changed(id);
        self.promote_replacements(bi)
    }

    /// Failed RPCs in a row to `id` (paper §4.1).
    pub fn failures(&self, id: &NodeId) -> u8 {
        self.failing.iter().find(|(f, _)| f == id).map_or(0, |(_, n)| *n)
    }

    fn is_stale(&self, id: &NodeId) -> bool {
        self.failures(id) >= self.stale_limit
    }

    /// Counts one more failure of `id`; returns the count.
    fn count_failure(&mut self, id: &NodeId) -> u8 {
        if let Some((_, n)) = self.failing.iter_mut().find(|(f, _)| f == id) {
            *n = n.saturating_add(1);
            return *n;
        }
        self.failing.push((*id, 1));
        1
    }

    fn clear_failures(&mut self, id: &NodeId) {
        if !self.failing.is_empty() {
            self.failing.retain(|(f, _)| f != id);
            if self.failing.is_empty() {
                self.failing = Vec::new();
            }
        }
    }

    /// Removes `id` outright (for instance a contact that turned out to have another ID).
    pub fn remove(&mut self, id: &NodeId) -> bool {
        let bi = self.bucket_of(id);
        let b = &mut self.buckets[bi];
        let before = b.entries.len();
        b.entries.retain(|e| e.id != *id);
        let removed = b.entries.len() != before;
        if removed {
            self.clear_failures(id);
            self.near_changed(id);
            self.promote_replacements(bi);
        }
        removed
    }

    /// Up to `n` contacts closest to `target` by XOR, nearest first, leaving out
    /// `exclude` and stale contacts (paper §2.3: FIND_NODE "returns the k nodes it
    /// knows about closest to the target"). Buckets are visited in order of their
    /// least possible distance to `target`, and the walk stops once no further
    /// bucket can hold a closer contact.
    pub fn closest(&self, target: &NodeId, n: usize, exclude: Option<&NodeId>, out: &mut impl Extend<Contact<A>>) {
        if n == 0 {
            return;
        }
        SCRATCH.with(|s| {
            let (order, cands) = &mut *s.borrow_mut();
            order.clear();
            cands.clear();
            let target_w = Distance::of(target);
            let take = |cands: &mut Vec<(Distance, u32, u16)>, bi: usize| {
                for (p, e) in self.buckets[bi].entries.iter().enumerate() {
                    if Some(&e.id) == exclude || (!self.failing.is_empty() && self.is_stale(&e.id)) {
                        continue;
                    }
                    cands.push((target_w.to(&e.id), bi as u32, p as u16));
                }
            };
            // Every ID outside the target's own bucket differs from the target
            // within the bucket's prefix, so it is farther than every ID inside:
            // when that bucket holds n contacts, no other bucket is read.
            let tb = self.bucket_of(target);
            take(cands, tb);
            if cands.len() < n {
                for (i, b) in self.buckets.iter().enumerate() {
                    if i != tb && !b.entries.is_empty() {
                        order.push((b.min_distance(target), i as u32));
                    }
                }
                order.sort_unstable();
                for &(md, bi) in order.iter() {
                    if cands.len() >= n {
                        cands.select_nth_unstable(n - 1);
                        cands.truncate(n);
                        if md >= cands[n - 1].0 {
                            break;
                        }
                    }
                    take(cands, bi as usize);
                }
            }
            if cands.len() > n {
                cands.select_nth_unstable(n - 1);
                cands.truncate(n);
            }
            cands.sort_unstable();
            out.extend(cands.iter().map(|&(_, bi, pos)| self.buckets[bi as usize].entries[usize::from(pos)]));
        });
    }

    /// Notes that a node lookup targeted `target`, which keeps its bucket fresh (paper §2.3).
    pub fn touch(&mut self, target: &NodeId, now: Time) {
        let bi = self.bucket_of(target);
        self.buckets[bi].last_lookup = now;
    }

    /// The earliest time at which some bucket becomes due for a refresh.
    pub fn next_refresh(&self, interval: std::time::Duration) -> Time {
        self.buckets.iter().map(|b| b.last_lookup.plus(interval)).min().unwrap_or(Time::NEVER)
    }

    /// For every bucket without a lookup for `interval`, a random ID in its range
    /// to look up; the bucket counts as touched now (paper §2.3, bucket refresh).
    pub fn due_refreshes<R: RngCore>(&mut self, now: Time, interval: std::time::Duration, rng: &mut R) -> Vec<NodeId> {
        let mut out = Vec::new();
        for b in &mut self.buckets {
            if b.last_lookup.plus(interval) <= now {
                b.last_lookup = now;
                out.push(NodeId::random_in_prefix(&b.lo, b.depth(), rng));
            }
        }
        out
    }

    /// Random IDs to look up at the end of a join: one in each subtree farther
    /// from the own ID than `neighbour`, the closest neighbour (paper §2.3: "u
    /// refreshes all k-buckets further away than its closest neighbor"). The
    /// subtree at level i holds the IDs sharing exactly i leading bits with the own
    /// ID, the classic bucket i of a flat table; in the tree several levels may
    /// still lie inside the unsplit own bucket, and they are refreshed too. Each
    /// target's bucket counts as touched now.
    pub fn join_refreshes<R: RngCore>(&mut self, neighbour: &NodeId, now: Time, rng: &mut R) -> Vec<NodeId> {
        let near = neighbour.common_prefix_len(&self.own).min(ID_BITS - 1);
        let mut out = Vec::with_capacity(near);
        for level in 0..near {
            let prefix = self.own.with_bit(level, !self.own.bit(level));
            let target = NodeId::random_in_prefix(&prefix, level + 1, rng);
            self.touch(&target, now);
            out.push(target);
        }
        out
    }

    /// Checks the table's structural invariants: buckets partition the ID space
    /// in order; no bucket holds more than k contacts or a contact outside its
    /// range, a duplicate, or the own ID.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut expected_lo = Some(NodeId::default());
        for b in &self.buckets {
            if Some(b.lo) != expected_lo {
                return Err(format!("bucket {:?}/{} does not follow its predecessor", b.lo, b.depth));
            }
            if b.lo.truncated(b.depth()) != b.lo {
                return Err("bucket lower bound has bits past its depth".into());
            }
            expected_lo = next_prefix(&b.lo, b.depth());
            if b.entries.len() > usize::from(self.k) {
                return Err(format!("bucket holds {} > k contacts", b.entries.len()));
            }
            for (i, e) in b.entries.iter().enumerate() {
                if e.id == self.own {
                    return Err("own ID in the table".into());
                }
                if !b.contains(&e.id) {
                    return Err("contact outside its bucket's range".into());
                }
                if b.entries[..i].iter().any(|o| o.id == e.id) {
                    return Err("duplicate contact".into());
                }
            }
            if b.replacements.iter().any(|c| c.id == self.own || !b.contains(&c.id)) {
                return Err("bad replacement entry".into());
            }
        }
        if expected_lo.is_some() {
            return Err("buckets do not cover the ID space".into());
        }
        Ok(())
    }
}

/// The lowest ID after the subtree `lo/depth`, or `None` past the end of the space.
fn next_prefix(lo: &NodeId, depth: usize) -> Option<NodeId> {
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

/// Pushes, growing the buffer only as far as `cap` so a bucket never holds
/// spare room beyond k entries.
fn push_bounded<T>(v: &mut Vec<T>, x: T, cap: usize) {
    if v.len() == v.capacity() {
        let want = (v.capacity() * 2).max(4).min(cap.max(1));
        v.reserve_exact(want.saturating_sub(v.len()).max(1));
    }
    v.push(x);
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;

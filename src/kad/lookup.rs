//! The iterative lookup of paper §2.3, as a state machine that knows nothing of
//! messages or clocks: it is told which candidates answered or failed (and at
//! what time, which it only notes) and says which to query next.
//!
//! The shortlist holds every candidate seen, nearest first, with its discovery
//! depth (DESIGN.md §4: contacts from the origin's own table have depth 1, a
//! contact first learned from a node at depth d has depth d + 1, and a contact
//! learned again keeps the smaller depth). Failed candidates stay in the list,
//! so that they are not queried again, but no longer count among "the k closest".
//!
//! With `disjoint_paths = d > 1` (S/Kademlia, Baumgart & Mies 2007, §4.4) each
//! candidate belongs to one of d paths: the seeds are dealt out round-robin,
//! nearest first, and a contact learned from a reply joins the path of the node
//! that replied, unless a path already holds it. A path queries only its own
//! candidates, keeps its own α in flight and converges by the paper's rule over
//! its own k closest; so no node is queried by two paths, and a poisoned path
//! cannot draw the others into its colluders, which are already its own.
//!
//! For the churn study's `closest_found` metric (README "Metric definitions")
//! the lookup notes one time: when the nearest node that has answered so far
//! answered, updated only by an answer from a node nearer than every earlier
//! one. Answered candidates never leave the shortlist, so at the end that is
//! when the first node of [`Lookup::result`] answered ([`Lookup::nearest_answer`]).

use super::address::{Address, cmp_to};
use super::config::{Config, MAX_PATHS, Parallelism};
use super::id::{Distance, NodeId};
use super::message::{Contact, Contacts};
use super::time::Time;
use std::cmp::Ordering;

/// Where a candidate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandState {
    /// Seen, not yet queried.
    Fresh,
    /// Queried, no answer yet.
    InFlight,
    /// Queried and answered.
    Answered,
    /// Queried and timed out: out of the shortlist for good.
    Failed,
}

/// One node the lookup knows of: 24 bytes in the simulator, so that a
/// 40-candidate shortlist spans 15 cache lines.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<A: Address> {
    /// The top 64 bits of its distance to the target: candidates compare on
    /// these, and on their full IDs only when these tie.
    key: u64,
    /// The node, in its stored form.
    slot: A::Slot,
    /// Discovery depth (1 for contacts from the own routing table).
    pub depth: u8,
    /// Query state.
    pub state: CandState,
    /// The disjoint path it belongs to (0 with a single path).
    pub path: u8,
}

impl<A: Address> Candidate<A> {
    /// The node.
    pub fn contact(&self) -> Contact<A> {
        A::unpack(&self.slot)
    }

    /// The node in the form routing tables store it.
    pub fn slot(&self) -> A::Slot {
        self.slot
    }

    /// The node's ID.
    pub fn id(&self) -> NodeId {
        A::unpack(&self.slot).id
    }
}

/// The nearest node that answered a lookup: when its answer came and its
/// discovery depth (DESIGN.md §4; the smaller depth kept, as for `hops`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NearestAnswer {
    /// When it answered.
    pub at: Time,
    /// Its discovery depth at the end of the lookup.
    pub depth: u8,
}

/// The buffers a lookup works in, handed back by [`Lookup::into_buffers`] so
/// that the next lookup reuses them (no allocation per lookup in steady state).
#[derive(Debug)]
pub struct LookupBuffers<A: Address> {
    cands: Vec<Candidate<A>>,
    incoming: Vec<Candidate<A>>,
}

impl<A: Address> Default for LookupBuffers<A> {
    fn default() -> Self {
        LookupBuffers { cands: Vec::new(), incoming: Vec::new() }
    }
}

/// An iterative lookup for one target.
#[derive(Clone, Debug)]
pub struct Lookup<A: Address> {
    target: NodeId,
    /// `target` in word form, to measure contacts against.
    target_w: Distance,
    own: NodeId,
    k: usize,
    alpha: usize,
    strict: bool,
    /// Disjoint paths (S/Kademlia §4.4); 1 is the paper's lookup.
    paths: usize,
    /// Queries in flight per path (with more than one path).
    in_flight_by: [u8; MAX_PATHS],
    /// Shortlist length kept: 2k per path, the k closest plus as many spares for those that fail.
    cap: usize,
    cands: Vec<Candidate<A>>,
    /// Scratch for merging a reply into `cands`: the reply's new candidates.
    incoming: Vec<Candidate<A>>,
    /// Candidates in `cands` that failed: they stay listed but do not count
    /// against the cap, so that failures never crowd out live contacts.
    failed_n: usize,
    in_flight: usize,
    /// Strict parallelism: closest candidate when the current round started.
    round_best: Option<NodeId>,
    rounds: u32,
    /// When the nearest candidate that has answered so far answered.
    nearest_at: Option<Time>,
}

impl<A: Address> Lookup<A> {
    /// A lookup of `target` by the node `own`, which never enters its own shortlist.
    pub fn new(target: NodeId, own: NodeId, cfg: &Config) -> Self {
        Self::with_buffers(target, own, cfg, LookupBuffers::default())
    }

    /// As [`new`](Self::new), working in buffers left by an earlier lookup.
    pub fn with_buffers(target: NodeId, own: NodeId, cfg: &Config, mut buf: LookupBuffers<A>) -> Self {
        buf.cands.clear();
        buf.incoming.clear();
        let paths = cfg.disjoint_paths.clamp(1, MAX_PATHS);
        buf.cands.reserve(cfg.k * 2 * paths);
        Lookup {
            target,
            target_w: Distance::of(&target),
            own,
            k: cfg.k,
            alpha: cfg.alpha,
            strict: cfg.parallelism == Parallelism::Strict,
            paths,
            in_flight_by: [0; MAX_PATHS],
            cap: cfg.k * 2 * paths,
            cands: buf.cands,
            incoming: buf.incoming,
            failed_n: 0,
            in_flight: 0,
            round_best: None,
            rounds: 0,
            nearest_at: None,
        }
    }

    /// The lookup's buffers, for the next lookup to reuse.
    pub fn into_buffers(self) -> LookupBuffers<A> {
        LookupBuffers { cands: self.cands, incoming: self.incoming }
    }

    /// Heap bytes held by the shortlist.
    pub fn heap_bytes(&self) -> usize {
        (self.cands.capacity() + self.incoming.capacity()) * std::mem::size_of::<Candidate<A>>()
    }

    /// The target.
    pub fn target(&self) -> &NodeId {
        &self.target
    }

    /// The candidates, nearest first.
    pub fn candidates(&self) -> &[Candidate<A>] {
        &self.cands
    }

    /// Queries in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    #[inline]
    fn cmp(&self, a: &NodeId, b: &NodeId) -> Ordering {
        cmp_to(&self.target_w, a, b)
    }

    /// The order of two candidates by distance to the target.
    #[inline]
    fn cmp_cands(&self, a: &Candidate<A>, b: &Candidate<A>) -> Ordering {
        match a.key.cmp(&b.key) {
            Ordering::Equal if !A::ID_FROM_TOP => self.cmp(&a.id(), &b.id()),
            o => o,
        }
    }

    /// A fresh candidate for `contact` at depth `depth` on path `path`.
    fn candidate(&self, slot: A::Slot, depth: u8, path: u8) -> Candidate<A> {
        Candidate { key: A::top(&slot) ^ self.target_w.top(), slot, depth, state: CandState::Fresh, path }
    }

    /// Seeds the lookup with the origin's own closest contacts (depth 1),
    /// dealt out over the disjoint paths round-robin, nearest first
    /// (S/Kademlia §4.4: "distributes them into d independent lookup buckets").
    pub fn seed(&mut self, contacts: &[A::Slot]) {
        self.add_all(contacts, 1);
        if self.paths > 1 {
            for (i, c) in self.cands.iter_mut().enumerate() {
                c.path = (i % self.paths) as u8;
            }
        }
    }

    /// Adds a contact learned at discovery depth `depth`. The own ID is ignored;
    /// a contact already known keeps the smaller depth.
    pub fn add(&mut self, contact: Contact<A>, depth: u8) {
        self.add_all(&[A::pack(contact)], depth);
    }

    /// Adds the contacts of one reply, all learned at discovery depth `depth`:
    /// they are sorted among themselves (a well-behaved reply already is, nearest
    /// first) and merged into the sorted shortlist in one pass, instead of one
    /// search and insertion each. The own ID is ignored; a contact already known
    /// keeps the smaller depth; the shortlist is then cut back to its cap.
    pub fn add_all(&mut self, contacts: &[A::Slot], depth: u8) {
        self.add_all_on(contacts, depth, 0);
    }

    /// [`add_all`](Self::add_all) onto path `path`: a contact a path already
    /// holds stays on its path.
    fn add_all_on(&mut self, contacts: &[A::Slot], depth: u8, path: u8) {
        let mut incoming = std::mem::take(&mut self.incoming);
        incoming.clear();
        let full = self.cands.len() - self.failed_n >= self.cap;
        let last = self.cands.last().copied();
        let own_top = self.own.top();
        for c in contacts {
            if A::top(c) == own_top && (A::ID_FROM_TOP || A::unpack(c).id == self.own) {
                continue;
            }
            let cand = self.candidate(*c, depth, path);
            if full && last.is_some_and(|l| self.cmp_cands(&cand, &l) == Ordering::Greater) {
                continue; // beyond a full shortlist: not kept, nothing to update
            }
            incoming.push(cand);
        }
        if incoming.is_empty() {
            self.incoming = incoming;
            return;
        }
        if !incoming.is_sorted_by(|a, b| self.cmp_cands(a, b).is_lt()) {
            let tw = self.target_w;
            if A::ID_FROM_TOP {
                incoming.sort_unstable_by_key(|c| c.key);
                incoming.dedup_by_key(|c| c.key);
            } else {
                incoming.sort_unstable_by(|a, b| a.key.cmp(&b.key).then_with(|| cmp_to(&tw, &a.id(), &b.id())));
                incoming.dedup_by(|a, b| a.key == b.key && a.id() == b.id());
            }
        }
        // A contact already listed keeps the smaller depth and is not added
        // again: one pass over both sorted runs.
        let (mut i, mut keep) = (0, 0);
        for j in 0..incoming.len() {
            let c = incoming[j];
            while i < self.cands.len() && self.cmp_cands(&self.cands[i], &c) == Ordering::Less {
                i += 1;
            }
            if i < self.cands.len() && self.cmp_cands(&self.cands[i], &c) == Ordering::Equal {
                self.cands[i].depth = self.cands[i].depth.min(c.depth);
            } else {
                incoming[keep] = c;
                keep += 1;
            }
        }
        incoming.truncate(keep);
        // Merge in place from the back: the larger of the two tails goes last,
        // so only the shortlist itself is read and written.
        let (mut i, mut j) = (self.cands.len(), incoming.len());
        self.cands.extend_from_slice(&incoming);
        let mut w = self.cands.len();
        while j > 0 {
            w -= 1;
            if i > 0 && self.cmp_cands(&self.cands[i - 1], &incoming[j - 1]) == Ordering::Greater {
                self.cands[w] = self.cands[i - 1];
                i -= 1;
            } else {
                self.cands[w] = incoming[j - 1];
                j -= 1;
            }
        }
        self.incoming = incoming;
        while self.cands.len() - self.failed_n > self.cap {
            match self.cands.last().map(|c| c.state) {
                Some(CandState::Fresh) => {}
                Some(CandState::Failed) => self.failed_n -= 1,
                _ => break,
            }
            self.cands.pop();
        }
    }

    fn index_of(&self, id: &NodeId) -> Option<usize> {
        let key = id.top() ^ self.target_w.top();
        self.cands
            .binary_search_by(|c| match c.key.cmp(&key) {
                Ordering::Equal if !A::ID_FROM_TOP => self.cmp(&c.id(), id),
                o => o,
            })
            .ok()
    }

    /// The discovery depth of candidate `id`, if listed.
    pub fn depth_of(&self, id: &NodeId) -> Option<u8> {
        self.index_of(id).map(|i| self.cands[i].depth)
    }

    /// The k closest candidates that have not failed, nearest first.
    fn top_k(&self) -> impl Iterator<Item = &Candidate<A>> {
        self.cands.iter().filter(|c| c.state != CandState::Failed).take(self.k)
    }

    /// The k closest candidates of path `p` that have not failed, nearest first.
    fn top_k_of(&self, p: u8) -> impl Iterator<Item = &Candidate<A>> {
        self.cands.iter().filter(move |c| c.path == p && c.state != CandState::Failed).take(self.k)
    }

    /// Appends to `out` the candidates to query now and marks them in flight.
    /// Loose parallelism keeps up to α queries in flight among the k closest;
    /// strict parallelism starts a new round only when the last one is over:
    /// α queries after a round that found a closer node, otherwise all of the
    /// k closest not yet queried (paper §2.3).
    pub fn next_queries(&mut self, out: &mut Contacts<A>) {
        if self.paths > 1 {
            return self.next_queries_disjoint(out);
        }
        let quota = if self.strict {
            if self.in_flight > 0 {
                return;
            }
            let best = self.top_k().next().map(|c| c.id());
            let improved = self.rounds == 0
                || matches!((best, self.round_best), (Some(b), Some(r)) if self.cmp(&b, &r) == Ordering::Less);
            self.round_best = best;
            self.rounds += 1;
            if improved { self.alpha } else { self.k }
        } else {
            self.alpha.saturating_sub(self.in_flight)
        };
        let sent = send_fresh(self.cands.iter_mut(), quota, self.k, out);
        self.in_flight += sent;
    }

    /// Loose parallelism on each disjoint path: up to α of its queries in
    /// flight among its own k closest (S/Kademlia §4.4).
    fn next_queries_disjoint(&mut self, out: &mut Contacts<A>) {
        for p in 0..self.paths {
            let quota = self.alpha.saturating_sub(usize::from(self.in_flight_by[p]));
            let path = self.cands.iter_mut().filter(|c| usize::from(c.path) == p);
            let sent = send_fresh(path, quota, self.k, out);
            self.in_flight_by[p] += sent as u8;
            self.in_flight += sent;
        }
    }

    /// `id` answered with `contacts` at time `now`. Returns the answering
    /// candidate's depth, or `None` if `id` was not in flight in this lookup.
    /// An answer from a node nearer the target than every earlier one is
    /// noted as the nearest answer's time.
    pub fn answered(&mut self, now: Time, id: &NodeId, contacts: &[A::Slot]) -> Option<u8> {
        let i = self.index_of(id)?;
        if self.cands[i].state != CandState::InFlight {
            return None;
        }
        // Nearest so far when no candidate before it (a nearer one) has answered.
        if !self.cands[..i].iter().any(|c| c.state == CandState::Answered) {
            self.nearest_at = Some(now);
        }
        let c = &mut self.cands[i];
        c.state = CandState::Answered;
        let (depth, path) = (c.depth, c.path);
        self.in_flight -= 1;
        if self.paths > 1 {
            self.in_flight_by[usize::from(path)] -= 1;
        }
        self.add_all_on(contacts, depth.saturating_add(1), path);
        Some(depth)
    }

    /// The query to `id` timed out: it frees its slot and leaves the shortlist.
    pub fn failed(&mut self, id: &NodeId) {
        if let Some(i) = self.index_of(id)
            && self.cands[i].state == CandState::InFlight
        {
            self.cands[i].state = CandState::Failed;
            self.failed_n += 1;
            self.in_flight -= 1;
            if self.paths > 1 {
                self.in_flight_by[usize::from(self.cands[i].path)] -= 1;
            }
        }
    }

    /// The paper's termination: each of the k closest candidates that have not
    /// failed has been queried and has answered (paper §2.3). A lookup with no
    /// candidate left is over too. With disjoint paths, every path by this
    /// rule over its own candidates.
    pub fn is_done(&self) -> bool {
        if self.paths > 1 {
            return (0..self.paths as u8).all(|p| self.top_k_of(p).all(|c| c.state == CandState::Answered));
        }
        self.top_k().all(|c| c.state == CandState::Answered)
    }

    /// The result: up to k closest candidates that answered, nearest first
    /// (with disjoint paths, the paths' results merged).
    pub fn result(&self) -> impl Iterator<Item = &Candidate<A>> {
        self.cands.iter().filter(|c| c.state == CandState::Answered).take(self.k)
    }

    /// The nearest node that has answered: when it answered and its
    /// discovery depth now; `None` before any answer.
    pub fn nearest_answer(&self) -> Option<NearestAnswer> {
        let at = self.nearest_at?;
        self.result().next().map(|c| NearestAnswer { at, depth: c.depth })
    }

    /// The closest answered candidate other than `skip`: where a value lookup
    /// caches the pair it found (paper §2.3).
    pub fn closest_answered_except(&self, skip: &NodeId) -> Option<Contact<A>> {
        self.cands.iter().filter(|c| c.state == CandState::Answered).map(Candidate::contact).find(|c| c.id != *skip)
    }
}

/// Queries the fresh candidates among the first k not failed of `cands`
/// (nearest first), at most `quota` of them (paper §2.3: the α closest not yet
/// queried of the k closest); marks them in flight, appends their contacts to
/// `out` and returns how many were sent.
fn send_fresh<'a, A: Address + 'a>(
    cands: impl Iterator<Item = &'a mut Candidate<A>>,
    quota: usize,
    k: usize,
    out: &mut Contacts<A>,
) -> usize {
    let (mut sent, mut seen) = (0, 0);
    for c in cands {
        if sent >= quota || seen >= k {
            break;
        }
        if c.state == CandState::Failed {
            continue;
        }
        seen += 1;
        if c.state == CandState::Fresh {
            out.push(c.slot);
            c.state = CandState::InFlight;
            sent += 1;
        }
    }
    sent
}

#[cfg(test)]
#[path = "lookup_tests.rs"]
mod tests;

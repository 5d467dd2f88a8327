//! An independent reference model of Kademlia's iterative node lookup over
//! ideal routing tables (Maymounkov & Mazières, IPTPS 2002), written apart
//! from the protocol core: nothing here calls `src/kad` or `src/sim`. It has
//! its own IDs, its own tables and its own lookup, built from the paper's
//! rules and the semantics kadsim states for them, so that a change to the
//! core that moves hop counts shows up as a disagreement with this file.
//!
//! **IDs.** A network is `n` distinct random 64-bit IDs drawn from a ChaCha
//! stream with a fixed seed, held sorted (8 bytes a node). Lookup targets are
//! uniform 64-bit IDs. Kademlia only ever compares IDs by XOR distance (§2.1),
//! and with n ≤ 10^6 two IDs never agree on 64 bits, so 64 bits behave as
//! the paper's 160.
//!
//! **Tables (§2.2, §2.4, §4.2).** A node's table is the one a settled network
//! gives it: the routing tree grown by the paper's splitting when every other
//! node has been seen. Going down the node's own path, the subtree holding
//! the own ID splits while it holds more than k other nodes and is then the
//! own bucket, holding all of them. The sibling subtree at each level j (the
//! nodes sharing exactly j leading bits with the own ID) is
//! - all of its nodes, when it holds at most k, or when it lies inside the
//!   smallest subtree around the own ID that holds k other nodes (§2.4's
//!   relaxed rule for unbalanced trees: "all valid contacts in a subtree of
//!   size at least k nodes");
//! - else, with b bits per step (§4.2), split further while its depth is not
//!   a multiple of b, each part again by these rules;
//! - else one full bucket: k of its nodes drawn uniformly at random (which k
//!   a node ends up with depends on the order it met them; none is preferred).
//!
//! With the IDs sorted, every subtree is a contiguous range of the array
//! (the nodes at XOR distance [2^i, 2^(i+1)) from a node are one sibling
//! subtree), found by binary search; so no table is stored. A bucket's sample
//! is a function of (network seed, node, bucket): a node's table is the same
//! each time it is asked, and a million-node network costs 8 MB.
//!
//! **Replies.** A node asked for a target answers with the k closest nodes of
//! its table to the target, leaving out the node that asks (§2.3). The model
//! reads them bucket group by bucket group in order of XOR distance to the
//! target (the sibling subtree on the target's side first, then the rest of
//! the node's own subtree, then the farther siblings), so it builds only the
//! buckets it needs.
//!
//! **Lookup (§2.3).** The origin seeds a shortlist with the k closest nodes of
//! its own table, at discovery depth 1; a node first learned from a reply of
//! a node at depth d has depth d + 1, and a node learned again keeps the
//! smaller depth. Up to α queries are in flight, always to the closest not yet
//! queried among the k closest seen; the lookup ends when the k closest seen
//! have all answered (the paper's termination rule). The shortlist keeps 2k
//! nodes (nodes beyond it can never re-enter the k closest: without failures
//! that distance only shrinks). Its **hops** are the discovery depth of the
//! closest node found; **queried** counts the queries sent; **rounds** the
//! round trips until the end.
//!
//! **Time.** Without loss and with one constant latency, every query returns
//! one round trip after it was sent, so the lookup runs in rounds; the
//! replies of one round are handled one after another, each at once: the
//! reply is merged, then as many queries go out as the ones still in flight
//! leave room for (a query sent while handling round r's replies returns in
//! round r + 1). A discrete-event simulator must pick an order for replies
//! that arrive at the same instant; the model orders them by a random key per
//! node, drawn independently of its ID, as an order by node number is. The
//! order matters little but not nothing: a query sent after the first reply
//! of a round knows only that reply.
//!
//! Deliberately broken variants ([`Variant`]) exist for the suite's own test:
//! buckets of k − 1, and a lookup that stops one round early.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Protocol parameters of one model configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Nodes.
    pub n: usize,
    /// Bucket size and reply size (§2.2).
    pub k: usize,
    /// Queries in flight (§2.3).
    pub alpha: usize,
    /// Bits per routing step (§4.2).
    pub b: u8,
}

/// The model as the paper has it, or a deliberately broken protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The paper's protocol.
    Paper,
    /// Full buckets hold k − 1 nodes (replies still carry up to k).
    SmallBuckets,
    /// The lookup reports what it had one round before it would have ended.
    StopRoundEarly,
}

/// A network: its sorted IDs and how its tables are filled.
#[derive(Clone, Debug)]
pub struct Network {
    ids: Vec<u64>,
    /// Nodes a full bucket holds.
    bucket: usize,
    /// k: the own-subtree and relaxed-split thresholds, as in the paper.
    k: usize,
    b: usize,
    seed: u64,
}

/// Bit `d` of `x`, bit 0 the most significant.
fn bit(x: u64, d: usize) -> bool {
    x >> (63 - d) & 1 == 1
}

/// The first `d` bits of `x`.
fn prefix(x: u64, d: usize) -> u64 {
    if d == 0 { 0 } else { x & (u64::MAX << (64 - d)) }
}

/// SplitMix64's finaliser: a fixed bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small generator (SplitMix64) for bucket samples: one stream per bucket.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
}

/// Where a node's own path stands: the ranges of nodes sharing at least d
/// bits with it (`ranges[d]`), the depth of its own bucket and the depth of
/// the smallest subtree around it holding k other nodes.
#[derive(Default)]
struct OwnPath {
    ranges: Vec<(usize, usize)>,
    /// Depth of the own bucket.
    leaf: usize,
    /// Deepest d whose own subtree holds more than k nodes (the own included).
    near: Option<usize>,
}

/// Reusable buffers for replies and lookups.
#[derive(Default)]
pub struct Scratch {
    path: OwnPath,
    group: Vec<u32>,
    pick: Vec<usize>,
    reply: Vec<u32>,
}

impl Network {
    /// `n` distinct random IDs from a ChaCha stream seeded with `seed`; full
    /// buckets of `k` nodes (of `k − 1` for [`Variant::SmallBuckets`]).
    pub fn new(n: usize, k: usize, b: u8, seed: u64, variant: Variant) -> Network {
        assert!(n >= 2 && k >= 2 && b >= 1, "a network of at least 2 nodes, k ≥ 2, b ≥ 1");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut ids: Vec<u64> = Vec::with_capacity(n);
        while ids.len() < n {
            let missing = n - ids.len();
            ids.extend((0..missing).map(|_| rng.next_u64()));
            ids.sort_unstable();
            ids.dedup();
        }
        let bucket = if variant == Variant::SmallBuckets { k - 1 } else { k };
        Network { ids, bucket, k, b: usize::from(b), seed }
    }

    /// Nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none (never: a network holds at least 2).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ID of node `i` (nodes are numbered in ID order).
    pub fn id(&self, i: usize) -> u64 {
        self.ids[i]
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.ids.capacity() * 8
    }

    /// The first index in `s..e` whose ID has bit `d` set, the range's IDs
    /// sharing their first `d` bits.
    fn split(&self, s: usize, e: usize, d: usize) -> usize {
        s + self.ids[s..e].partition_point(|&x| !bit(x, d))
    }

    fn own_path(&self, node: usize, p: &mut OwnPath) {
        let x = self.ids[node];
        p.ranges.clear();
        let (mut s, mut e) = (0, self.ids.len());
        p.ranges.push((s, e));
        let mut d = 0;
        while e - s > 1 && d < 64 {
            let m = self.split(s, e, d);
            (s, e) = if bit(x, d) { (m, e) } else { (s, m) };
            d += 1;
            p.ranges.push((s, e));
        }
        p.leaf = p.ranges.iter().position(|&(s, e)| e - s - 1 <= self.k).unwrap_or(p.ranges.len() - 1);
        p.near = p.ranges.iter().rposition(|&(s, e)| e - s > self.k);
    }

    /// The sibling subtree at level `j` of the own path: its range and lowest ID.
    fn sibling(&self, node: usize, p: &OwnPath, j: usize) -> (usize, usize, u64) {
        let x = self.ids[node];
        let ((s, e), (s1, e1)) = (p.ranges[j], p.ranges[j + 1]);
        let lo = prefix(x, j) | (!x & 1 << (63 - j));
        if bit(x, j) { (s, s1, lo) } else { (e1, e, lo) }
    }

    /// Appends the table contacts of level `j` (nodes sharing exactly j bits
    /// with node `node`).
    fn level(&self, node: usize, p: &OwnPath, j: usize, pick: &mut Vec<usize>, out: &mut Vec<u32>) {
        let (s, e, lo) = self.sibling(node, p, j);
        if p.near.is_some_and(|r| j >= r) {
            out.extend(s as u32..e as u32);
        } else {
            self.subtree(node, lo, j + 1, s, e, pick, out);
        }
    }

    /// A sibling subtree (or part of one) at `depth` below the relaxed
    /// region, its nodes `s..e`, lowest ID `lo`.
    #[allow(clippy::too_many_arguments)]
    fn subtree(
        &self,
        node: usize,
        lo: u64,
        depth: usize,
        s: usize,
        e: usize,
        pick: &mut Vec<usize>,
        out: &mut Vec<u32>,
    ) {
        let n = e - s;
        if n <= self.bucket {
            out.extend(s as u32..e as u32);
        } else if depth < 64 && !depth.is_multiple_of(self.b) {
            let m = self.split(s, e, depth);
            self.subtree(node, lo, depth + 1, s, m, pick, out);
            self.subtree(node, lo | 1 << (63 - depth), depth + 1, m, e, pick, out);
        } else {
            // A full bucket: `bucket` distinct positions of n, uniformly
            // (Floyd's algorithm), from this bucket's own stream.
            let mut rng = Mix(mix(self.seed ^ mix(self.ids[node] ^ mix(lo ^ depth as u64))));
            pick.clear();
            for j in n - self.bucket..n {
                let t = (rng.next() % (j as u64 + 1)) as usize;
                pick.push(if pick.contains(&t) { j } else { t });
            }
            out.extend(pick.iter().map(|&i| (s + i) as u32));
        }
    }

    /// The whole table of `node`, level by level (for tests and sizes).
    pub fn table(&self, node: usize, scratch: &mut Scratch) -> Vec<u32> {
        let mut p = std::mem::take(&mut scratch.path);
        self.own_path(node, &mut p);
        let mut out = Vec::new();
        for j in 0..p.leaf {
            self.level(node, &p, j, &mut scratch.pick, &mut out);
        }
        let (s, e) = p.ranges[p.leaf];
        out.extend((s..e).filter(|&i| i != node).map(|i| i as u32));
        scratch.path = p;
        out
    }

    /// Into `out`: the (up to) `count` nodes of `node`'s table closest to
    /// `target`, nearest first, leaving out `exclude`.
    pub fn closest(
        &self,
        node: usize,
        target: u64,
        count: usize,
        exclude: Option<usize>,
        scratch: &mut Scratch,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        let mut p = std::mem::take(&mut scratch.path);
        let mut group = std::mem::take(&mut scratch.group);
        self.own_path(node, &mut p);
        let x = self.ids[node];
        let c = (x ^ target).leading_zeros() as usize;
        // Groups of contacts, each farther from the target than the one
        // before: (levels from, levels to, with the own bucket).
        let take = |group: &mut Vec<u32>, out: &mut Vec<u32>| {
            group.retain(|&i| Some(i as usize) != exclude);
            group.sort_unstable_by_key(|&i| self.ids[i as usize] ^ target);
            let room = count - out.len();
            out.extend(group.iter().take(room));
            group.clear();
            out.len() >= count
        };
        let own_bucket = |group: &mut Vec<u32>| {
            let (s, e) = p.ranges[p.leaf];
            group.extend((s..e).filter(|&i| i != node).map(|i| i as u32));
        };
        let mut done;
        let below = if c < p.leaf {
            // The sibling on the target's side, then the rest of the own subtree.
            self.level(node, &p, c, &mut scratch.pick, &mut group);
            done = take(&mut group, out);
            if !done {
                for j in c + 1..p.leaf {
                    self.level(node, &p, j, &mut scratch.pick, &mut group);
                }
                own_bucket(&mut group);
                done = take(&mut group, out);
            }
            c
        } else {
            own_bucket(&mut group);
            done = take(&mut group, out);
            p.leaf
        };
        for j in (0..below).rev() {
            if done {
                break;
            }
            self.level(node, &p, j, &mut scratch.pick, &mut group);
            done = take(&mut group, out);
        }
        scratch.path = p;
        scratch.group = group;
    }

    /// The node closest to `target` by XOR, other than `exclude` (a descent
    /// of the ID tree).
    pub fn nearest(&self, target: u64, exclude: usize) -> usize {
        let (mut s, mut e) = (0, self.ids.len());
        let others = |s: usize, e: usize| e - s - usize::from((s..e).contains(&exclude));
        for d in 0..64 {
            if others(s, e) == 1 && e - s <= 2 {
                break;
            }
            let m = self.split(s, e, d);
            let (near, far) = if bit(target, d) { ((m, e), (s, m)) } else { ((s, m), (m, e)) };
            (s, e) = if others(near.0, near.1) > 0 { near } else { far };
        }
        (s..e).find(|&i| i != exclude).expect("a network of at least 2 nodes")
    }

    /// The order in which replies arriving at the same instant are handled:
    /// a random key per node, independent of its ID's distances.
    fn reply_order(&self, node: u32) -> u64 {
        mix(self.ids[node as usize] ^ mix(self.seed ^ 0x005e_ed0f_0d3e))
    }
}

/// A shortlist entry's query state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    Fresh,
    InFlight,
    Answered,
}

#[derive(Clone, Copy, Debug)]
struct Cand {
    dist: u64,
    node: u32,
    depth: u8,
    asked: Asked,
}

/// One lookup's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Discovery depth of the closest node found (`None`: nothing found).
    pub hops: Option<u8>,
    /// Queries sent.
    pub queried: u32,
    /// Round trips until the lookup ended.
    pub rounds: u32,
    /// Whether the closest node found is the closest node of the network
    /// (the origin left out).
    pub success: bool,
}

/// The iterative lookup of `target` by `origin`, as the module docs say.
pub fn lookup(
    net: &Network,
    origin: usize,
    target: u64,
    k: usize,
    alpha: usize,
    variant: Variant,
    scratch: &mut Scratch,
) -> Outcome {
    let cap = 2 * k;
    let mut list: Vec<Cand> = Vec::with_capacity(cap + k);
    let mut reply = std::mem::take(&mut scratch.reply);
    // Adds a reply's nodes at `depth`; known nodes keep the smaller depth.
    let merge = |list: &mut Vec<Cand>, nodes: &[u32], depth: u8| {
        for &m in nodes {
            if m as usize == origin {
                continue;
            }
            let dist = net.id(m as usize) ^ target;
            match list.binary_search_by_key(&dist, |c| c.dist) {
                Ok(i) => list[i].depth = list[i].depth.min(depth),
                Err(i) => list.insert(i, Cand { dist, node: m, depth, asked: Asked::Fresh }),
            }
        }
        while list.len() > cap && list.last().is_some_and(|c| c.asked == Asked::Fresh) {
            list.pop();
        }
    };
    // Sends up to α − in flight queries to fresh nodes among the k closest.
    let send = |list: &mut Vec<Cand>, in_flight: &mut Vec<u32>, queried: &mut u32, sending: &mut Vec<u32>| {
        let quota = alpha.saturating_sub(in_flight.len());
        let mut sent = 0;
        for c in list.iter_mut().take(k) {
            if sent == quota {
                break;
            }
            if c.asked == Asked::Fresh {
                c.asked = Asked::InFlight;
                in_flight.push(c.node);
                sending.push(c.node);
                sent += 1;
            }
        }
        *queried += sent as u32;
    };
    let done = |list: &[Cand]| list.iter().take(k).all(|c| c.asked == Asked::Answered);
    let result = |list: &[Cand]| list.iter().find(|c| c.asked == Asked::Answered).map(|c| (c.depth, c.node));

    net.closest(origin, target, k, None, scratch, &mut reply);
    merge(&mut list, &reply, 1);
    let (mut in_flight, mut arriving, mut sending) = (Vec::new(), Vec::new(), Vec::new());
    let mut queried = 0;
    send(&mut list, &mut in_flight, &mut queried, &mut sending);
    let mut rounds = 0;
    while !done(&list) {
        std::mem::swap(&mut arriving, &mut sending);
        sending.clear();
        if arriving.is_empty() {
            break; // cannot happen: a fresh node among the k closest is always sent
        }
        arriving.sort_unstable_by_key(|&m| net.reply_order(m));
        rounds += 1;
        // What the lookup had at the end of the round before.
        let before = (result(&list), queried);
        for &m in &arriving {
            in_flight.retain(|&x| x != m);
            let i = list.iter().position(|c| c.node == m).expect("a queried node stays listed");
            list[i].asked = Asked::Answered;
            let depth = list[i].depth.saturating_add(1);
            net.closest(m as usize, target, k, Some(origin), scratch, &mut reply);
            merge(&mut list, &reply, depth);
            send(&mut list, &mut in_flight, &mut queried, &mut sending);
            if done(&list) {
                break;
            }
        }
        if done(&list) && variant == Variant::StopRoundEarly && rounds > 1 {
            scratch.reply = reply;
            return outcome(net, origin, target, before.0, before.1, rounds - 1);
        }
    }
    scratch.reply = reply;
    outcome(net, origin, target, result(&list), queried, rounds)
}

fn outcome(net: &Network, origin: usize, target: u64, res: Option<(u8, u32)>, queried: u32, rounds: u32) -> Outcome {
    Outcome {
        hops: res.map(|r| r.0),
        queried,
        rounds,
        success: res.is_some_and(|r| r.1 as usize == net.nearest(target, origin)),
    }
}

/// Lookups of one configuration: their hops, queried counts and rounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// Hops of each lookup that found a node.
    pub hops: Vec<u8>,
    /// Queries sent by each lookup.
    pub queried: Vec<u32>,
    /// Round trips of each lookup (`None` when the source does not tell).
    pub rounds: Vec<u32>,
    /// Lookups whose closest node found is the true closest.
    pub successes: usize,
    /// Lookups.
    pub lookups: usize,
    /// Where each network's lookups end in `hops`: lookups of one network
    /// are not independent of each other (they share its tables), so a test
    /// needs to know which came from which. Empty: one network.
    pub network_ends: Vec<usize>,
}

impl Sample {
    /// Mean of the hops.
    pub fn mean_hops(&self) -> f64 {
        mean(self.hops.iter().map(|&h| f64::from(h)))
    }

    /// Mean queries per lookup.
    pub fn mean_queried(&self) -> f64 {
        mean(self.queried.iter().map(|&q| f64::from(q)))
    }

    /// Mean rounds per lookup.
    pub fn mean_rounds(&self) -> f64 {
        mean(self.rounds.iter().map(|&r| f64::from(r)))
    }

    /// Share of lookups that found the true closest node.
    pub fn success_rate(&self) -> f64 {
        self.successes as f64 / self.lookups as f64
    }

    /// Lookups per hop count: `[h]` is the number with `h` hops.
    pub fn hop_counts(&self) -> Vec<u64> {
        let mut c = vec![0u64; self.hops.iter().copied().max().map_or(0, |m| usize::from(m) + 1)];
        for &h in &self.hops {
            c[usize::from(h)] += 1;
        }
        c
    }

    /// The hop counts of each network ([`hop_counts`](Self::hop_counts) of
    /// its lookups).
    pub fn hop_counts_by_network(&self) -> Vec<Vec<u64>> {
        let mut ends = self.network_ends.clone();
        if ends.last() != Some(&self.hops.len()) {
            ends.push(self.hops.len());
        }
        let mut start = 0;
        ends.iter()
            .map(|&e| {
                let part = Sample { hops: self.hops[start..e].to_vec(), ..Sample::default() };
                start = e;
                part.hop_counts()
            })
            .collect()
    }

    /// Appends the lookups of `other`, a network (or networks) of its own.
    pub fn append(&mut self, other: Sample) {
        let base = self.hops.len();
        if self.network_ends.last() != Some(&base) && base > 0 {
            self.network_ends.push(base);
        }
        let ends = if other.network_ends.is_empty() { vec![other.hops.len()] } else { other.network_ends };
        self.network_ends.extend(ends.into_iter().map(|e| base + e));
        self.hops.extend(other.hops);
        self.queried.extend(other.queried);
        self.rounds.extend(other.rounds);
        self.successes += other.successes;
        self.lookups += other.lookups;
    }

    fn push(&mut self, o: Outcome) {
        self.lookups += 1;
        if let Some(h) = o.hops {
            self.hops.push(h);
        }
        self.queried.push(o.queried);
        self.rounds.push(o.rounds);
        self.successes += usize::from(o.success);
    }
}

fn mean(x: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = x.len();
    if n == 0 { f64::NAN } else { x.sum::<f64>() / n as f64 }
}

/// `lookups` lookups of uniformly random targets from uniformly random
/// origins, spread evenly over `networks` independent networks (so that the
/// mean is over networks as well as over lookups), on `threads` threads.
/// Deterministic in `seed` whatever the threads.
pub fn sample(p: Params, variant: Variant, lookups: usize, networks: usize, seed: u64, threads: usize) -> Sample {
    let networks = networks.max(1);
    let one = |i: usize| -> Sample {
        let net = Network::new(p.n, p.k, p.b, mix(seed ^ mix(i as u64 + 1)), variant);
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed ^ mix(i as u64 + 1) ^ 0x00c0_ffee));
        let count = lookups / networks + usize::from(i < lookups % networks);
        let mut out = Sample::default();
        let mut scratch = Scratch::default();
        for _ in 0..count {
            let origin = (rng.next_u64() % p.n as u64) as usize;
            let target = rng.next_u64();
            out.push(lookup(&net, origin, target, p.k, p.alpha, variant, &mut scratch));
        }
        out
    };
    // Thread t draws networks t, t + threads, …; merged in network order.
    let threads = threads.clamp(1, networks);
    let one = &one;
    let mut parts: Vec<(usize, Sample)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| s.spawn(move || (t..networks).step_by(threads).map(|i| (i, one(i))).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("no model thread panicked")).collect()
    });
    parts.sort_by_key(|(i, _)| *i);
    let mut all = Sample::default();
    for (_, s) in parts {
        all.append(s);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_closest(net: &Network, table: &[u32], target: u64, count: usize, exclude: Option<usize>) -> Vec<u32> {
        let mut t: Vec<u32> = table.iter().copied().filter(|&i| Some(i as usize) != exclude).collect();
        t.sort_by_key(|&i| net.id(i as usize) ^ target);
        t.truncate(count);
        t
    }

    #[test]
    fn replies_are_the_k_closest_of_the_whole_table() {
        let mut s = Scratch::default();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for (n, k, b) in [(50, 8, 1u8), (3000, 8, 1), (3000, 20, 3), (3000, 8, 2), (21, 20, 1)] {
            let net = Network::new(n, k, b, 4, Variant::Paper);
            for node in (0..n).step_by(n / 20 + 1) {
                let table = net.table(node, &mut s);
                let mut sorted = table.clone();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!(sorted.len(), table.len(), "no contact twice");
                assert!(!table.contains(&(node as u32)), "never the own ID");
                for _ in 0..20 {
                    // Targets anywhere, and next to the node itself.
                    let target =
                        if rng.next_u64() % 3 == 0 { net.id(node) ^ (rng.next_u64() >> 40) } else { rng.next_u64() };
                    let exclude = Some((rng.next_u64() % n as u64) as usize);
                    let mut got = Vec::new();
                    net.closest(node, target, k, exclude, &mut s, &mut got);
                    assert_eq!(got, brute_closest(&net, &table, target, k, exclude), "n {n} node {node}");
                }
            }
        }
    }

    #[test]
    fn tables_are_deterministic_and_hold_the_paper_sizes() {
        // Issue 9's figures for oracle tables at n = 5000, k = 20: about 178
        // contacts for b = 1 and 358 for b = 3. A b = 1 table holds, for each
        // level j, min(k, nodes at level j), and the whole own neighbourhood.
        let mut s = Scratch::default();
        for (b, want) in [(1u8, 178.0), (3, 358.0)] {
            let net = Network::new(5000, 20, b, 7, Variant::Paper);
            let mean = (0..5000).step_by(50).map(|i| net.table(i, &mut s).len()).sum::<usize>() as f64 / 100.0;
            assert!((mean - want).abs() / want < 0.06, "b = {b}: {mean}, about {want} expected");
            assert_eq!(net.table(17, &mut s), net.table(17, &mut s));
        }
        let net = Network::new(5000, 20, 1, 7, Variant::Paper);
        let small = Network::new(5000, 20, 1, 7, Variant::SmallBuckets);
        let (a, b) = (net.table(3, &mut s).len(), small.table(3, &mut s).len());
        assert!(b < a && a - b >= 5, "buckets of k − 1: {b} against {a}");
    }

    #[test]
    fn nearest_is_the_closest_by_xor() {
        let net = Network::new(500, 8, 1, 3, Variant::Paper);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let t = rng.next_u64();
            let ex = (rng.next_u64() % 500) as usize;
            let want = (0..500).filter(|&i| i != ex).min_by_key(|&i| net.id(i) ^ t).unwrap();
            assert_eq!(net.nearest(t, ex), want);
            assert_eq!(
                net.nearest(net.id(ex), ex),
                (0..500).filter(|&i| i != ex).min_by_key(|&i| net.id(i) ^ net.id(ex)).unwrap()
            );
        }
    }

    #[test]
    fn a_small_network_is_one_hop_and_the_rule_asks_the_k_closest() {
        // Everyone knows everyone: the seeds are the k closest, found at depth 1.
        let mut s = Scratch::default();
        let net = Network::new(15, 20, 1, 2, Variant::Paper);
        for t in 0..50u64 {
            let o = lookup(&net, (t % 15) as usize, mix(t), 20, 3, Variant::Paper, &mut s);
            assert_eq!((o.hops, o.queried, o.success), (Some(1), 14, true));
            assert_eq!(o.rounds, 5, "14 queries, 3 at a time");
        }
        // Larger: every lookup finds the closest node and asks at least k.
        let p = Params { n: 2000, k: 8, alpha: 3, b: 1 };
        let x = sample(p, Variant::Paper, 2000, 2, 5, 2);
        assert_eq!(x.successes, x.lookups);
        assert!(x.queried.iter().all(|&q| q >= 8));
        assert!(x.mean_hops() > 1.5 && x.mean_hops() < 3.5, "{}", x.mean_hops());
        assert_eq!(x, sample(p, Variant::Paper, 2000, 2, 5, 1), "the same whatever the threads");
    }

    #[test]
    fn larger_k_alpha_and_b_take_fewer_hops_or_rounds_and_broken_variants_differ() {
        let m = |k, alpha, b, v| sample(Params { n: 10_000, k, alpha, b }, v, 3000, 2, 11, 2);
        let base = m(8, 1, 1, Variant::Paper);
        assert!(m(20, 1, 1, Variant::Paper).mean_hops() < base.mean_hops() - 0.1);
        assert!(m(8, 1, 3, Variant::Paper).mean_hops() < base.mean_hops() - 0.1);
        assert!(m(8, 3, 1, Variant::Paper).mean_rounds() < base.mean_rounds() - 0.5);
        // Stopping a round early loses nothing but the last round: the
        // closest node has always answered before it (the last round only
        // confirms the k closest, §2.3).
        let early = m(8, 1, 1, Variant::StopRoundEarly);
        assert!((early.mean_rounds() - (base.mean_rounds() - 1.0)).abs() < 1e-9);
        assert_eq!((&early.hops, &early.queried, early.successes), (&base.hops, &base.queried, base.successes));
        // Buckets of k − 1 cost about 0.1 hops at k = 8.
        let small = m(8, 1, 1, Variant::SmallBuckets);
        assert!(small.mean_hops() > base.mean_hops() + 0.05, "{} against {}", small.mean_hops(), base.mean_hops());
    }
}

//! Analytic expectations the validation suite compares kadsim with (issue
//! 22, item 3): pure functions of the protocol's parameters, worked out from
//! the paper's rules and written apart from the protocol core (nothing here
//! calls `src/kad` or `src/sim`).
//!
//! - [`expected_table_size`]: the mean routing-table size of a settled
//!   network of n uniformly random IDs, from the binomial occupancy of each
//!   bucket: the routing tree of §2.2 and §2.4 (the own bucket splits, and so
//!   does any bucket inside the smallest subtree around the own ID that holds
//!   k contacts, the relaxed rule for "highly unbalanced trees"), with the
//!   buckets of §4.2 for b > 1 (a bucket at a depth that is not a multiple of
//!   b splits), or one bucket per log-distance (discv5, BEP 5).
//! - [`rpc_failure`], [`lookup_success_bound`]: an RPC under independent loss
//!   p without resends, and the §2.3 lookup whose failed candidates are never
//!   asked again.
//! - [`stale_share`]: the share of routing-table contacts whose node is down
//!   when nodes crash after exponential sessions (§2.2's and §4.1's
//!   eviction rules remove a contact only on evidence, so with no messages
//!   none is removed); [`stale_share_renewal`] for tables that never change
//!   under up/down renewal.
//! - [`survival`]: the probability that a pair stored on r nodes (§2.3's
//!   STORE at the k closest) still has a replica up after a time T without
//!   republishing (§2.5).
//! - [`lookup_messages`]: the messages of one workload operation as the sum
//!   of its queries and their replies.
//!
//! Each has unit tests against values worked out by hand, by enumeration or
//! by brute-force Monte Carlo (the routing tree built node by node from the
//! rules, the formula never consulted).

use statrs::function::factorial::{ln_binomial, ln_factorial};

/// How a routing table divides the ID space (the scenario's `protocol.buckets`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The paper's routing tree (§2.4 relaxed rule, §4.2 buckets for b > 1).
    Tree,
    /// One bucket per log-distance, only the own bucket splits (b = 1).
    LogDistance,
}

/// P(X = j) for X ~ Binomial(n, p), through logarithms (exact at p = 0 or 1).
pub fn binomial_pmf(n: u64, j: u64, p: f64) -> f64 {
    if j > n {
        return 0.0;
    }
    if p <= 0.0 {
        return f64::from(u8::from(j == 0));
    }
    if p >= 1.0 {
        return f64::from(u8::from(j == n));
    }
    (ln_binomial(n, j) + j as f64 * p.ln() + (n - j) as f64 * (-p).ln_1p()).exp()
}

/// P(X < j) for X ~ Binomial(n, p), summed term by term (j is small: k).
fn binomial_below(n: u64, j: u64, p: f64) -> f64 {
    (0..j.min(n + 1)).map(|i| binomial_pmf(n, i, p)).sum()
}

/// E[Σ_T (|T| − k)⁺] when c nodes fall uniformly into 2^s equal subtrees T:
/// the contacts a full bucket range loses when it is cut into 2^s buckets of
/// k. With X ~ Binomial(c, 2^−s) for one subtree,
/// `2^s · E[(X − k)⁺] = 2^s · (E[X] − k + E[(k − X)⁺])`
/// `                  = c − 2^s·k + 2^s · Σ_{j<k} (k − j)·P(X = j)`.
pub fn expected_excess(c: u64, s: u32, k: u64) -> f64 {
    if s == 0 {
        return c.saturating_sub(k) as f64;
    }
    let parts = f64::from(1u32 << s);
    let p = 1.0 / parts;
    let short: f64 = (0..k).map(|j| (k - j) as f64 * binomial_pmf(c, j, p)).sum();
    (c as f64 - parts * k as f64 + parts * short).max(0.0)
}

/// The expected number of contacts in a node's routing table when `n` nodes
/// with independent uniformly random IDs of `bits` bits have all met (an
/// oracle-filled, settled network), with bucket size `k`, `b` bits per
/// step (§4.2) and the given layout.
///
/// Derivation. Let m = n − 1 and, for the node x, C_l the number of other
/// nodes sharing exactly l leading bits with x (those at distance
/// 2^(159−l) ≤ d < 2^(160−l): the paper's bucket i = 159 − l) and N_l =
/// C_l + C_(l+1) + … those sharing at least l. (C_0, C_1, …) is multinomial
/// with P(share exactly l) = 2^−(l+1), so C_l ~ Binomial(m, 2^−(l+1)) and,
/// given C_l = c, N_(l+1) ~ Binomial(m − c, 2^−(l+1) / (1 − 2^−(l+1))).
///
/// Tree (§2.4): the smallest subtree around x holding at least k others is
/// kept whole: its depth is r = max{d : N_d ≥ k}, and level l lies outside
/// it exactly when l < r, i.e. when N_(l+1) ≥ k. Outside, the sibling
/// subtree of level l (C_l nodes, depth l + 1) splits while its depth is not
/// a multiple of b (§4.2), down to depth D = b·⌈(l+1)/b⌉, and each of its
/// 2^s subtrees (s = D − l − 1) keeps min(count, k); a subtree of at most k
/// is one bucket holding all, wherever it stops. So the table holds m minus
/// what the full buckets outside the kept subtree leave out:
///
/// `E[size] = m − Σ_l Σ_(c>k) P(C_l = c) · h_l(c) · P(N_(l+1) ≥ k | C_l = c)`,
/// h_l(c) = [`expected_excess`](c, s_l, k).
///
/// Log-distance: only the own bucket splits, so level l holds min(C_l, k)
/// while x's own subtree at depth l holds more than k others, and all of
/// them after; since C_l > k implies N_l > k, `E[size] = Σ_l E[min(C_l, k)]
/// = m − Σ_l E[(C_l − k)⁺]`.
///
/// The sums run over a window of ±12 standard deviations of C_l (and the
/// levels stop once P(C_l > k) < 10⁻¹⁶), so the result is exact to about
/// 10⁻⁹ relative.
pub fn expected_table_size(n: u64, k: u64, b: u32, layout: Layout, bits: u32) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let m = n - 1;
    if m <= k {
        return m as f64;
    }
    let b = b.max(1);
    let mut lost = 0.0;
    for l in 0..bits {
        let p = 0.5f64.powi(l as i32 + 1);
        let mean = m as f64 * p;
        // P(C_l ≥ k + 1) ≤ mean^(k+1) / (k+1)!: once negligible, so are all deeper levels.
        if mean < k as f64 && (k + 1) as f64 * mean.ln() - ln_factorial(k + 1) < -16.0 * std::f64::consts::LN_10 {
            break;
        }
        let sd = (mean * (1.0 - p)).sqrt();
        let lo = (k + 1).max((mean - 12.0 * sd).floor().max(0.0) as u64);
        let hi = m.min((mean + 12.0 * sd).ceil() as u64 + k + 40);
        let s = match layout {
            Layout::Tree => (b - (l + 1) % b) % b,
            Layout::LogDistance => 0,
        };
        let deeper = p / (1.0 - p);
        for c in lo..=hi {
            let w = binomial_pmf(m, c, p);
            if w == 0.0 {
                continue;
            }
            let outside = match layout {
                Layout::Tree => 1.0 - binomial_below(m - c, k, deeper),
                Layout::LogDistance => 1.0,
            };
            lost += w * expected_excess(c, s, k) * outside;
        }
    }
    m as f64 - lost
}

/// The probability that one RPC times out under independent loss `p` per
/// datagram, with no resend (kadsim sends each request once, and a reply
/// that arrives comes before the timeout when the round trip is shorter):
/// the request is lost, or it arrives and the reply is lost,
/// p + (1 − p)·p = 1 − (1 − p)².
pub fn rpc_failure(p: f64) -> f64 {
    1.0 - (1.0 - p) * (1.0 - p)
}

/// An upper bound on a node lookup's success under independent loss `p`:
/// success means the true closest node c answered (§2.3: the result is the
/// closest nodes that answered). A failed candidate is never queried again
/// and each query fails independently of the past with [`rpc_failure`], so
/// P(success) = (1 − p)² · P(c is queried) ≤ (1 − p)². The termination rule
/// (each of the k closest candidates not failed has answered) queries c as
/// soon as c is known, so equality holds when c is always learned. The same
/// bound holds for the mean share of the true k closest that answered.
pub fn lookup_success_bound(p: f64) -> f64 {
    1.0 - rpc_failure(p)
}

/// The mean share of stale contacts among the nodes up at time `t` in a
/// network of `n` nodes, all up at time 0, each crashing after an
/// exponential session of mean `mean` and never coming back, when no
/// contact ever leaves a table (no message is sent, so no eviction rule
/// has evidence to act on).
///
/// Each node is down at t independently with probability q = 1 − e^(−t/mean).
/// The measured value is (1/|L|) Σ_(x∈L) (1/S_x) Σ_(y∈T_x) 1{y down}, over the
/// set L of nodes up, each with its fixed table T_x of S_x contacts, and only
/// when L is not empty. For a pair (x, y), with R ~ Binomial(n − 2, 1 − q)
/// the other nodes up, E[1{x up}·1{y down}/|L|] = (1 − q)·q·E[1/(1 + R)] and
/// E[1/(1 + R)] = (1 − q^(n−1)) / ((n − 1)(1 − q)); the weights 1/S_x sum
/// to 1 over each table, so summing over the n nodes and conditioning on L
/// not empty (probability 1 − q^n):
///
/// `E[share] = q · n/(n − 1) · (1 − q^(n−1)) / (1 − q^n)`,
///
/// which is q up to a relative 1/(n − 1): the mean is over the nodes up in
/// each network, not over all observations pooled.
pub fn stale_share(t: f64, mean: f64, n: u64) -> f64 {
    let q = 1.0 - (-t / mean).exp();
    if n < 2 || q <= 0.0 {
        return 0.0;
    }
    let n_f = n as f64;
    q * n_f / (n_f - 1.0) * (1.0 - q.powf(n_f - 1.0)) / (1.0 - q.powf(n_f))
}

/// The share of stale contacts at time `t` when every node alternates
/// exponential up and down periods of means `up` and `down`, all up at 0,
/// and tables never change (a contact is stale exactly while its node is
/// down): the two-state chain's P(down at t) = down/(up + down) ·
/// (1 − e^(−(1/up + 1/down)·t)), tending to the renewal-reward share
/// `E[down]/(E[up] + E[down])` (large n, the 1/(n − 1) of [`stale_share`]
/// left out).
pub fn stale_share_renewal(t: f64, up: f64, down: f64) -> f64 {
    down / (up + down) * (1.0 - (-(1.0 / up + 1.0 / down) * t).exp())
}

/// The probability that a pair stored on `replicas` nodes at time 0 still
/// has a replica up at time `t`, when each replica crashes after an
/// exponential session of mean `mean` (memoryless: its age at the STORE
/// does not matter), independently, and nothing re-replicates in between
/// (no republish, §2.5, no caching, no hand-over):
/// 1 − (1 − e^(−t/mean))^replicas.
pub fn survival(t: f64, mean: f64, replicas: u32) -> f64 {
    1.0 - (1.0 - (-t / mean).exp()).powi(replicas as i32)
}

/// The lookup-class messages of one workload operation on a network
/// without loss or churn: each of its `queried` requests (FIND_NODE,
/// FIND_VALUE, a put's STOREs) and its reply, and a get's caching STORE
/// (§2.3) and its reply when one was sent.
pub fn lookup_messages(queried: u64, cache_store: bool) -> u64 {
    2 * queried + 2 * u64::from(cache_store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, want {want} ± {tol}");
    }

    #[test]
    fn table_sizes_match_hand_derivations() {
        // At most k others: all kept.
        close(expected_table_size(15, 20, 1, Layout::Tree, 160), 14.0, 0.0);
        close(expected_table_size(21, 20, 3, Layout::LogDistance, 256), 20.0, 0.0);
        // k = 1, two others. Tree: when both share exactly l bits with x, the
        // smallest subtree around x with one other is that of depth l, which
        // holds both: always 2. Log-distance: one is lost when both share
        // exactly l bits, P = Σ_l 4^−(l+1) = 1/3.
        close(expected_table_size(3, 1, 1, Layout::Tree, 160), 2.0, 1e-12);
        close(expected_table_size(3, 1, 1, Layout::LogDistance, 160), 5.0 / 3.0, 1e-12);
        // k = 1, three others. Tree: one is lost exactly when two share l bits
        // and the third is deeper (then level l < r holds 1 of 2):
        // Σ_l 3·(2^−(l+1))²·2^−(l+1) = 3/7. Log-distance: Σ_l P(C_l ≥ 1) =
        // Σ_l (3p − 3p² + p³) with Σp = 1, Σp² = 1/3, Σp³ = 1/7: 15/7.
        close(expected_table_size(4, 1, 1, Layout::Tree, 160), 3.0 - 3.0 / 7.0, 1e-12);
        close(expected_table_size(4, 1, 1, Layout::LogDistance, 160), 15.0 / 7.0, 1e-12);
        // b = 2: levels l = 0, 2, 4, … (depth l + 1 odd) split once more, so
        // two nodes there are kept apart when they fall in different
        // quarters: their loss is 2·P(Binomial(2, 1/2) = 2) = 1/2 instead
        // of 1. 3·(1/2)·Σ_(l even) 8^−(l+1) + 3·Σ_(l odd) 8^−(l+1) =
        // 3·(1/2)·(8/63) + 3·(1/63) = 5/21.
        close(expected_table_size(4, 1, 2, Layout::Tree, 160), 3.0 - 5.0 / 21.0, 1e-12);
        close(expected_table_size(3, 1, 2, Layout::Tree, 160), 2.0, 1e-12);
    }

    /// 2^s·E[(X − k)⁺] by splitting the subtree in halves s times, each half
    /// getting Binomial(c, 1/2) of the nodes.
    fn excess_by_halving(c: u64, s: u32, k: u64) -> f64 {
        if s == 0 {
            return c.saturating_sub(k) as f64;
        }
        (0..=c)
            .map(|j| binomial_pmf(c, j, 0.5) * (excess_by_halving(j, s - 1, k) + excess_by_halving(c - j, s - 1, k)))
            .sum()
    }

    #[test]
    fn excess_matches_repeated_halving() {
        for (c, s, k) in [(10, 1, 2), (25, 2, 4), (40, 3, 3), (3, 2, 5), (60, 2, 8)] {
            close(expected_excess(c, s, k), excess_by_halving(c, s, k), 1e-9);
        }
        // By hand: 2 nodes, 2 halves, k = 1: both in one half w.p. 1/2, losing 1.
        close(expected_excess(2, 1, 1), 0.5, 1e-15);
        close(binomial_pmf(4, 2, 0.5), 6.0 / 16.0, 1e-15);
        close(binomial_pmf(7, 7, 1.0), 1.0, 0.0);
        close(binomial_pmf(7, 3, 1.0), 0.0, 0.0);
    }

    /// The size of the table of a node with ID 0 among `others` (random
    /// 64-bit IDs), built from the rules as stated, one subtree at a time.
    struct Brute {
        k: usize,
        b: usize,
        tree: bool,
        near: Option<usize>,
    }

    impl Brute {
        fn size(others: &[u64], k: usize, b: usize, tree: bool) -> usize {
            // The smallest subtree around the own ID holding at least k others:
            // the deepest d with at least k others sharing d leading bits.
            let near =
                (0..=64usize).rev().find(|&d| others.iter().filter(|x| x.leading_zeros() as usize >= d).count() >= k);
            Brute { k, b, tree, near }.own(others.to_vec(), 0)
        }

        fn halves(set: Vec<u64>, depth: usize) -> (Vec<u64>, Vec<u64>) {
            set.into_iter().partition(|x| x >> (63 - depth) & 1 == 0)
        }

        /// The subtree holding the own ID: one bucket of all when at most k
        /// others, else split.
        fn own(&self, set: Vec<u64>, depth: usize) -> usize {
            if set.len() <= self.k || depth >= 64 {
                return set.len();
            }
            let (zero, one) = Self::halves(set, depth);
            self.own(zero, depth + 1) + self.other(one, depth + 1, depth)
        }

        /// A subtree sharing exactly `level` bits with the own ID.
        fn other(&self, set: Vec<u64>, depth: usize, level: usize) -> usize {
            if set.len() <= self.k {
                return set.len();
            }
            let splits =
                self.tree && depth < 64 && (!depth.is_multiple_of(self.b) || self.near.is_some_and(|r| level >= r));
            if !splits {
                return self.k;
            }
            let (zero, one) = Self::halves(set, depth);
            self.other(zero, depth + 1, level) + self.other(one, depth + 1, level)
        }
    }

    #[test]
    fn table_sizes_match_brute_force_monte_carlo() {
        let mut rng = ChaCha8Rng::seed_from_u64(22);
        let trials = 20_000;
        for (n, k, b, layout) in [
            (41u64, 4u64, 1u32, Layout::Tree),
            (41, 4, 2, Layout::Tree),
            (41, 4, 3, Layout::Tree),
            (41, 4, 1, Layout::LogDistance),
            (120, 8, 1, Layout::Tree),
        ] {
            let (mut sum, mut sum2) = (0.0, 0.0);
            for _ in 0..trials {
                let others: Vec<u64> = (0..n - 1).map(|_| rng.next_u64()).collect();
                let s = Brute::size(&others, k as usize, b as usize, layout == Layout::Tree) as f64;
                sum += s;
                sum2 += s * s;
            }
            let mean = sum / trials as f64;
            let se = ((sum2 / trials as f64 - mean * mean) / trials as f64).sqrt();
            let want = expected_table_size(n, k, b, layout, 160);
            assert!(
                (mean - want).abs() < 4.0 * se,
                "n {n} k {k} b {b} {layout:?}: brute force {mean} ± {se}, formula {want}"
            );
        }
    }

    #[test]
    fn large_networks_hold_what_issue_9_measured() {
        // kadsim's oracle tables at n = 5000 held about 178 (b = 1) and 358
        // (b = 3) contacts (src/sim/bootstrap.rs); the §2.4 relaxed rule
        // keeps about one contact more than one bucket per log-distance.
        let t1 = expected_table_size(5000, 20, 1, Layout::Tree, 160);
        let t3 = expected_table_size(5000, 20, 3, Layout::Tree, 160);
        let log = expected_table_size(5000, 20, 1, Layout::LogDistance, 160);
        assert!((t1 - 178.3).abs() < 0.1 && (t3 - 358.1).abs() < 0.1, "{t1} {t3}");
        assert!(log < t1 && t1 - log < 1.0, "{log} {t1}");
        // The width does not matter: the tree never reaches 48 bits.
        close(expected_table_size(5000, 20, 1, Layout::Tree, 256), t1, 1e-9);
        // Monotone in n, and a million nodes in well under a second.
        let big = expected_table_size(1_000_000, 20, 1, Layout::Tree, 160);
        assert!(big > expected_table_size(100_000, 20, 1, Layout::Tree, 160) && big < 400.0, "{big}");
    }

    #[test]
    fn loss_stale_survival_and_messages_by_hand() {
        close(rpc_failure(0.1), 0.19, 1e-15);
        close(lookup_success_bound(0.1), 0.81, 1e-15);
        close(rpc_failure(0.0), 0.0, 0.0);
        // Monte Carlo of one RPC: request then reply, each lost with p.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let p = 0.3;
        let lost = |r: &mut ChaCha8Rng| (r.next_u64() as f64 / u64::MAX as f64) < p;
        let trials = 200_000;
        let failed = (0..trials).filter(|_| lost(&mut rng) || lost(&mut rng)).count();
        close(failed as f64 / trials as f64, 0.51, 4.0 * (0.51f64 * 0.49 / trials as f64).sqrt());
        // t = mean·ln 2: half the nodes are down.
        let half = std::f64::consts::LN_2;
        close(stale_share(half, 1.0, 1_000_000_000), 0.5, 1e-9);
        // Two nodes, each the other's contact: the share is 1 when exactly one
        // is up and undefined when none is: 2q(1 − q)/(1 − q²) = 2q/(1 + q).
        close(stale_share(half, 1.0, 2), 2.0 * 0.5 / 1.5, 1e-12);
        close(stale_share(0.0, 1.0, 100), 0.0, 0.0);
        close(stale_share_renewal(1e9, 1.0, 3.0), 0.75, 1e-12);
        close(stale_share_renewal(0.0, 1.0, 3.0), 0.0, 0.0);
        // One replica survives t with e^(−t/mean); two replicas at t = mean·ln 2:
        // 1 − (1/2)² = 3/4; k = 8 at t = mean: 1 − (1 − 1/e)^8.
        close(survival(half, 1.0, 1), 0.5, 1e-12);
        close(survival(half, 1.0, 2), 0.75, 1e-12);
        close(survival(1.0, 1.0, 8), 1.0 - (1.0 - (-1.0f64).exp()).powi(8), 1e-15);
        assert_eq!(lookup_messages(12, false), 24);
        assert_eq!(lookup_messages(7, true), 16);
    }

    #[test]
    fn stale_share_matches_monte_carlo_over_random_tables() {
        // Five nodes with random tables of 1 to 3 contacts; each node down with
        // probability q; the mean over the nodes up of their stale shares.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let n = 5usize;
        let (t, mean) = (0.7f64, 1.0f64);
        let q = 1.0 - (-t / mean).exp();
        let trials = 400_000;
        let (mut sum, mut sum2, mut defined) = (0.0, 0.0, 0usize);
        for _ in 0..trials {
            let tables: Vec<Vec<usize>> = (0..n)
                .map(|x| {
                    let size = 1 + (rng.next_u64() % 3) as usize;
                    let mut others: Vec<usize> = (0..n).filter(|&y| y != x).collect();
                    for i in 0..size {
                        let j = i + (rng.next_u64() as usize % (others.len() - i));
                        others.swap(i, j);
                    }
                    others.truncate(size);
                    others
                })
                .collect();
            let down: Vec<bool> = (0..n).map(|_| (rng.next_u64() as f64 / u64::MAX as f64) < q).collect();
            let up: Vec<usize> = (0..n).filter(|&x| !down[x]).collect();
            if up.is_empty() {
                continue;
            }
            let share = up
                .iter()
                .map(|&x| tables[x].iter().filter(|&&y| down[y]).count() as f64 / tables[x].len() as f64)
                .sum::<f64>()
                / up.len() as f64;
            sum += share;
            sum2 += share * share;
            defined += 1;
        }
        let m = sum / defined as f64;
        let se = ((sum2 / defined as f64 - m * m) / defined as f64).sqrt();
        let want = stale_share(t, mean, n as u64);
        assert!((m - want).abs() < 4.0 * se, "Monte Carlo {m} ± {se}, formula {want}");
        // And the finite-n correction is visible: q alone is off.
        assert!((m - q).abs() > 4.0 * se, "Monte Carlo {m} ± {se} against q = {q}");
    }
}

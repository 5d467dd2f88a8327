//! Completing a matrix read with missing entries (`network.latency.missing`).
//!
//! 1. A pair measured one way only holds both ways.
//! 2. `"estimate"`: a pair missing both ways gets the shortest detour through
//!    a third host, min over k of rtt(i, k) + rtt(j, k), from measured
//!    entries only (an estimate never feeds another, so the order does not
//!    matter). The detour is an upper bound of the direct path when the
//!    triangle inequality holds, which Internet RTTs mostly, not always, obey.
//! 3. Whatever is still missing (everything, with `"drop"`) is removed by
//!    dropping hosts: repeatedly the host with the most missing entries among
//!    those left (the lowest index on a tie), until none is missing. The hosts
//!    left keep their order and are numbered from 0 again.
//!
//! Time: O(n²) for steps 1 and 3 (each drop costs O(n)), O(m·n) for m pairs
//! estimated, refused beyond [`ESTIMATE_WORK`].

use super::MAX_HALF_US;
use super::read::MatrixError;
use crate::scenario::MatrixMissing;

/// A cell no line of the file gave.
pub const UNSET: u32 = u32::MAX;
/// A cell given as missing (a negative number, `nan`).
pub const GIVEN_MISSING: u32 = u32::MAX - 1;

/// The most host-pair visits an estimate may take (m missing pairs × n
/// hosts): some seconds.
pub const ESTIMATE_WORK: u64 = 4_000_000_000;

fn missing(v: u32) -> bool {
    v > MAX_HALF_US
}

/// What completing a matrix did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completed {
    /// Hosts left.
    pub hosts: usize,
    /// Hosts dropped.
    pub dropped: usize,
    /// Pairs estimated (each counted once, for both ways).
    pub estimated: u64,
}

/// Completes the `n` × `n` table (row by row; cells above [`MAX_HALF_US`]
/// missing) as `how` says, in place: on return it holds the hosts left,
/// `hosts` × `hosts`, with no missing cell off the diagonal.
pub fn complete(table: &mut Vec<u32>, n: usize, how: MatrixMissing) -> Result<Completed, MatrixError> {
    debug_assert_eq!(table.len(), n * n);
    // 1. One way measured: both ways.
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (table[i * n + j], table[j * n + i]);
            match (missing(a), missing(b)) {
                (true, false) => table[i * n + j] = b,
                (false, true) => table[j * n + i] = a,
                (true, true) => {
                    table[i * n + j] = GIVEN_MISSING;
                    table[j * n + i] = GIVEN_MISSING;
                }
                (false, false) => {}
            }
        }
    }
    // 2. Detours.
    let mut estimated = 0;
    if how == MatrixMissing::Estimate {
        let pairs = (0..n).map(|i| (i + 1..n).filter(|&j| missing(table[i * n + j])).count() as u64).sum::<u64>();
        if pairs.saturating_mul(n as u64) > ESTIMATE_WORK {
            return Err(MatrixError {
                position: None,
                field: Some("network.latency.missing"),
                message: format!(
                    "estimating {pairs} missing host pairs over {n} hosts would take too long (more than {ESTIMATE_WORK} steps): use \"drop\""
                ),
            });
        }
        let mut found = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                if !missing(table[i * n + j]) {
                    continue;
                }
                let (ri, rj) = (&table[i * n..(i + 1) * n], &table[j * n..(j + 1) * n]);
                // k = i and k = j fall out by themselves: rtt(j, i) is missing.
                let best = ri
                    .iter()
                    .zip(rj)
                    .filter(|(a, b)| !missing(**a) && !missing(**b))
                    .map(|(a, b)| u64::from(*a) + u64::from(*b))
                    .min();
                if let Some(d) = best {
                    found.push((i, j, d.min(u64::from(MAX_HALF_US)) as u32));
                }
            }
        }
        estimated = found.len() as u64;
        for (i, j, d) in found {
            table[i * n + j] = d;
            table[j * n + i] = d;
        }
    }
    // 3. Drops.
    let mut count: Vec<u32> =
        (0..n).map(|i| (0..n).filter(|&j| j != i && missing(table[i * n + j])).count() as u32).collect();
    let mut alive = vec![true; n];
    let mut dropped = 0;
    loop {
        let mut worst = None;
        for (h, &c) in count.iter().enumerate() {
            if alive[h] && c > 0 && worst.is_none_or(|(_, w)| c > w) {
                worst = Some((h, c));
            }
        }
        let Some((h, _)) = worst else { break };
        alive[h] = false;
        dropped += 1;
        count[h] = 0;
        for k in 0..n {
            if alive[k] && k != h && missing(table[h * n + k]) {
                count[k] -= 1;
            }
        }
    }
    let kept: Vec<usize> = (0..n).filter(|&h| alive[h]).collect();
    let m = kept.len();
    if m < 2 {
        return Err(MatrixError {
            position: None,
            field: None,
            message: format!(
                "{} usable host{} of {n}: expected a matrix of at least 2 hosts{}",
                m,
                if m == 1 { "" } else { "s" },
                if dropped > 0 { format!(" ({dropped} dropped for missing RTTs)") } else { String::new() }
            ),
        });
    }
    // Moved down in place: cell (a, b) of the kept hosts lands at or before
    // the cell it comes from, and after every cell moved before it.
    if dropped > 0 {
        for (a, &i) in kept.iter().enumerate() {
            for (b, &j) in kept.iter().enumerate() {
                table[a * m + b] = table[i * n + j];
            }
        }
        table.truncate(m * m);
        table.shrink_to_fit();
    }
    for a in 0..m {
        table[a * m + a] = 0;
    }
    Ok(Completed { hosts: m, dropped, estimated })
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: u32 = GIVEN_MISSING;

    #[test]
    fn one_way_measured_holds_both_ways() {
        let mut t = vec![0, 5, X, 0];
        let done = complete(&mut t, 2, MatrixMissing::Drop).unwrap();
        assert_eq!(done, Completed { hosts: 2, dropped: 0, estimated: 0 });
        assert_eq!(t, [0, 5, 5, 0]);
    }

    #[test]
    fn drop_removes_the_host_with_the_most_missing_entries_first() {
        // Host 3 misses pairs with 0, 1 and 2; host 1 misses only host 3 too.
        // Dropping 3 alone completes the matrix (dropping 1 first would not).
        #[rustfmt::skip]
        let mut t = vec![
            0, 10, 20, X,
            10, 0, 30, X,
            20, 30, 0, X,
            X, X, X, 0,
        ];
        let done = complete(&mut t, 4, MatrixMissing::Drop).unwrap();
        assert_eq!(done, Completed { hosts: 3, dropped: 1, estimated: 0 });
        assert_eq!(t, [0, 10, 20, 10, 0, 30, 20, 30, 0]);
    }

    #[test]
    fn drop_keeps_the_order_of_the_hosts_left_and_breaks_ties_by_index() {
        // Pairs 0–2 and 1–3 missing: every host misses one; host 0 goes
        // first, then host 1 (host 3's last missing pair), leaving 2 and 3.
        #[rustfmt::skip]
        let mut t = vec![
            0, 1, X, 3,
            1, 0, 4, X,
            X, 4, 0, 6,
            3, X, 6, 0,
        ];
        let done = complete(&mut t, 4, MatrixMissing::Drop).unwrap();
        assert_eq!(done, Completed { hosts: 2, dropped: 2, estimated: 0 });
        assert_eq!(t, [0, 6, 6, 0]);
    }

    #[test]
    fn estimate_takes_the_shortest_detour_from_measured_entries_only() {
        // 0–3 missing: via 1 = 10 + 7 = 17, via 2 = 20 + 1 = 21: 17. 1–2 missing: via 0
        // = 10 + 20, via 3 = 7 + 1: 8 (not via the estimated 0–3).
        #[rustfmt::skip]
        let mut t = vec![
            0, 10, 20, X,
            10, 0, X, 7,
            20, X, 0, 1,
            X, 7, 1, 0,
        ];
        let done = complete(&mut t, 4, MatrixMissing::Estimate).unwrap();
        assert_eq!(done, Completed { hosts: 4, dropped: 0, estimated: 2 });
        assert_eq!(t, [0, 10, 20, 17, 10, 0, 8, 7, 20, 8, 0, 1, 17, 7, 1, 0]);
    }

    #[test]
    fn estimate_drops_what_no_detour_reaches() {
        // Host 2 has no measured pair at all.
        let mut t = vec![0, 4, X, 4, 0, X, X, X, 0];
        let done = complete(&mut t, 3, MatrixMissing::Estimate).unwrap();
        assert_eq!(done, Completed { hosts: 2, dropped: 1, estimated: 0 });
        assert_eq!(t, [0, 4, 4, 0]);
    }

    #[test]
    fn fewer_than_two_hosts_left_is_an_error() {
        let mut t = vec![0, X, X, 0];
        let e = complete(&mut t, 2, MatrixMissing::Drop).unwrap_err();
        assert_eq!(e.message, "1 usable host of 2: expected a matrix of at least 2 hosts (1 dropped for missing RTTs)");
        let mut one = vec![0];
        assert!(complete(&mut one, 1, MatrixMissing::Drop).unwrap_err().message.starts_with("1 usable host of 1"));
    }

    #[test]
    fn an_estimate_too_costly_is_refused_with_the_field() {
        let n = 2_100;
        let mut t = vec![X; n * n];
        let e = complete(&mut t, n, MatrixMissing::Estimate).unwrap_err();
        assert_eq!(e.field, Some("network.latency.missing"));
        assert!(e.message.contains("use \"drop\""), "{}", e.message);
    }
}

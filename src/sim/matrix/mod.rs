//! A measured latency matrix (`network.latency.model = "matrix"`): round-trip
//! times between hosts, read once from a file ([`read()`]), completed where
//! entries are missing ([`fill`]), and shared by every clone of the scenario
//! and every thread of its runs through an `Arc`. Nodes are placed on hosts by
//! [`place`]; `sim::latency` turns a pair of hosts into a one-way delay.
//!
//! The table holds half of each RTT in whole microseconds as a `u32`, row by
//! row, n × n (the diagonal 0): 4 bytes per host pair, 25 MB for 2,500 hosts.
//! A pair's one-way delay is one index computation and one load.

pub mod fill;
pub mod place;
pub mod read;

pub use read::{MatrixError, Options, read};

/// The most hosts a matrix may have: a host is a `u16` per node.
pub const MAX_HOSTS: usize = 65_535;

/// The largest half-RTT the table holds, in microseconds (about 71 minutes).
pub const MAX_HALF_US: u32 = u32::MAX - 2;

/// A complete matrix of half-RTTs between hosts.
pub struct Matrix {
    hosts: usize,
    /// `half_us[a * hosts + b]`: half the RTT from host `a` to host `b`, µs.
    half_us: Vec<u32>,
    /// The SHA-1 of the file's bytes, 40 lower-case hex digits.
    sha1: String,
    /// What the user should know about how the file was read, one line each.
    notes: Vec<String>,
    /// The least half-RTT between two distinct hosts, µs.
    min_us: u32,
    /// The mean half-RTT over ordered pairs of distinct hosts, µs.
    mean_us: f64,
}

impl std::fmt::Debug for Matrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Matrix({} hosts, sha1 {})", self.hosts, self.sha1)
    }
}

impl Matrix {
    /// A matrix of `hosts` × `hosts` half-RTTs in microseconds (row by row;
    /// the diagonal is set to 0), with the SHA-1 of the file it came from
    /// and the notes on how it was read.
    ///
    /// # Panics
    ///
    /// If `half_us` does not hold `hosts²` values, if `hosts` is below 2 or
    /// above [`MAX_HOSTS`], or if a value is above [`MAX_HALF_US`]: the
    /// reader refuses all of these first.
    pub fn new(hosts: usize, mut half_us: Vec<u32>, sha1: String, notes: Vec<String>) -> Matrix {
        assert!((2..=MAX_HOSTS).contains(&hosts) && half_us.len() == hosts * hosts, "a complete square matrix");
        let mut min_us = u32::MAX;
        let mut sum = 0u128;
        for a in 0..hosts {
            half_us[a * hosts + a] = 0;
            for (b, &v) in half_us[a * hosts..(a + 1) * hosts].iter().enumerate() {
                assert!(v <= MAX_HALF_US, "a complete matrix");
                if a != b {
                    min_us = min_us.min(v);
                    sum += u128::from(v);
                }
            }
        }
        let mean_us = sum as f64 / (hosts * (hosts - 1)) as f64;
        Matrix { hosts, half_us, sha1, notes, min_us, mean_us }
    }

    /// The number of hosts.
    pub fn hosts(&self) -> usize {
        self.hosts
    }

    /// Half the RTT from host `a` to host `b` in microseconds (0 when they
    /// are the same host).
    ///
    /// # Panics
    ///
    /// If `a` or `b` is not below [`Matrix::hosts`].
    #[inline]
    pub fn half_us(&self, a: u16, b: u16) -> u32 {
        self.half_us[usize::from(a) * self.hosts + usize::from(b)]
    }

    /// The SHA-1 of the matrix file's bytes, 40 lower-case hex digits.
    pub fn sha1(&self) -> &str {
        &self.sha1
    }

    /// What the user should know about how the file was read (hosts
    /// dropped, pairs estimated), one line each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The least half-RTT between two distinct hosts, in microseconds.
    pub fn min_half_us(&self) -> u32 {
        self.min_us
    }

    /// The mean half-RTT over ordered pairs of distinct hosts, in microseconds.
    pub fn mean_half_us(&self) -> f64 {
        self.mean_us
    }

    /// The fraction of ordered pairs of distinct hosts whose half-RTT is
    /// below `us` microseconds.
    pub fn fraction_below(&self, us: u64) -> f64 {
        let mut below = 0u64;
        for a in 0..self.hosts {
            for (b, &v) in self.half_us[a * self.hosts..(a + 1) * self.hosts].iter().enumerate() {
                below += u64::from(a != b && u64::from(v) < us);
            }
        }
        below as f64 / (self.hosts * (self.hosts - 1)) as f64
    }

    /// Bytes of the table.
    pub fn bytes(&self) -> usize {
        self.half_us.len() * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_indexed_row_by_row_and_its_statistics_skip_the_diagonal() {
        // Hosts 0, 1, 2 with half-RTTs 10, 20, 30 µs (0–1, 0–2, 1–2); the
        // diagonal's 99s are set to 0.
        let m = Matrix::new(3, vec![99, 10, 20, 10, 99, 30, 20, 30, 99], "0".repeat(40), Vec::new());
        assert_eq!((m.half_us(0, 1), m.half_us(2, 1), m.half_us(1, 1)), (10, 30, 0));
        assert_eq!(m.min_half_us(), 10);
        assert_eq!(m.mean_half_us(), 20.0);
        assert_eq!(m.fraction_below(20), 2.0 / 6.0);
        assert_eq!(m.fraction_below(31), 1.0);
        assert_eq!(m.bytes(), 36);
        assert_eq!(format!("{m:?}"), format!("Matrix(3 hosts, sha1 {})", "0".repeat(40)));
    }
}

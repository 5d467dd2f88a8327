//! The grid of a sweep: its parameters and their values (from `--param` or
//! the scenario file's `[study]`), replicas and seeds, its runs in order and
//! the scenario of each, and shards of it.

use crate::files::owned::Source;
use crate::runner;
use crate::scenario::{self, Scenario, ScenarioError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One swept parameter and its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// As given on the command line or in `[study.params]` (`k`, `network.loss.p`).
    pub name: String,
    /// The field path it sets (`protocol.k`).
    pub path: String,
    /// The values, in order, as `--param` takes them.
    pub values: Vec<String>,
}

impl std::str::FromStr for Param {
    type Err = String;

    /// `NAME=V1,V2,...`
    fn from_str(s: &str) -> Result<Param, String> {
        let usage = || format!("--param '{s}': expected NAME=V1,V2,..., e.g. k=8,20 or protocol.alpha=1,3");
        let (name, vals) = s.split_once('=').ok_or_else(usage)?;
        let name = name.trim();
        let values: Vec<String> = vals.split(',').map(|v| v.trim().to_string()).collect();
        if name.is_empty() || values.iter().any(String::is_empty) {
            return Err(usage());
        }
        if name == "seed" {
            return Err(format!(
                "--param '{s}': seeds are not swept; give --replicas N (replica seeds derive from --seed or the file's seed)"
            ));
        }
        let path = scenario::field_path(name);
        Ok(Param { name: name.to_string(), path, values })
    }
}

/// The grid: scenario file, parameters, replicas and base seed. Its runs are
/// numbered in order, the last parameter varying fastest, then replicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// The scenario file as given.
    pub file: PathBuf,
    /// Extra `--set` overrides applied to every run.
    pub set: Vec<String>,
    /// Swept parameters.
    pub params: Vec<Param>,
    /// Runs per grid point.
    pub replicas: u32,
    /// Seed of replica 0.
    pub base_seed: u64,
    /// SHA-1 of the scenario file's bytes, so that shards of sweeps of
    /// different files (or of one file edited in between) are never merged.
    pub scenario_sha1: String,
}

/// One run of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Index in grid order.
    pub index: usize,
    /// Parameter values, one per parameter.
    pub values: Vec<String>,
    /// Replica number.
    pub replica: u32,
    /// Seed.
    pub seed: u64,
}

impl RunSpec {
    /// Directory of the run, relative to the sweep's.
    pub fn dir(&self, grid: &Grid) -> String {
        format!("runs/{}/r{}", grid.point_dir(&self.values), self.replica)
    }
}

/// `s` with every character but ASCII letters, digits and `=._-` replaced by `-`.
pub fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "=._-".contains(c) { c } else { '-' }).collect()
}

/// The seed of replica `r` of a sweep whose base seed is `seed`: the seed
/// itself for r = 0; for r ≥ 1 the r-th output of a SplitMix64 generator
/// seeded with `seed` (Steele, Lea & Flood 2014: state `seed + r·γ`,
/// γ = 0x9E3779B97F4A7C15, through the Stafford variant-13 finalizer), keeping
/// its top 63 bits so that it is a valid scenario seed (TOML integers are
/// signed). The finalizer is a bijection and r·γ ≠ 1 modulo 2^64 for every
/// r − r' that fits in a u32, so the replicas of base seeds 1 and 2 never
/// coincide.
pub fn replica_seed(seed: u64, r: u32) -> u64 {
    if r == 0 {
        return seed;
    }
    let mut z = seed.wrapping_add(u64::from(r).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 1
}

/// Most replicas per grid point.
pub const MAX_REPLICAS: u32 = 10_000;

impl Grid {
    /// What makes two sweeps the same sweep: the grid (not the path the
    /// scenario file was given by: its SHA-1 is in the grid) and the kadsim
    /// sources.
    pub(super) fn identity(&self, source_sha1: Option<&str>) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.remove("file");
            m.insert("source_sha1".into(), source_sha1.into());
        }
        v
    }

    /// The source the sweep's files are recorded under.
    pub fn source(&self) -> Source {
        self.source_of(Some(runner::SOURCE_SHA1))
    }

    /// The source of the files of this grid swept by the kadsim of
    /// `source_sha1` (a sweep's record says which): a sweep redrawn by
    /// another build of kadsim is still the same sweep.
    pub fn source_of(&self, source_sha1: Option<&str>) -> Source {
        Source::new(
            format!("the sweep of {} ({})", self.file.display(), self.describe()),
            &[self.identity(source_sha1).to_string().as_bytes()],
        )
    }

    /// The parameters in words: `k=8,20 alpha=1,3`, or `no parameters`.
    pub fn describe(&self) -> String {
        let params: Vec<String> = self.params.iter().map(|p| format!("{}={}", p.name, p.values.join(","))).collect();
        if params.is_empty() { "no parameters".into() } else { params.join(" ") }
    }

    /// The folder of the grid point of `values` under `runs/`: `k=8_alpha=3`, or `base`.
    pub fn point_dir(&self, values: &[String]) -> String {
        let point: Vec<String> = self.params.iter().zip(values).map(|(p, v)| format!("{}={v}", p.name)).collect();
        sanitize(&if point.is_empty() { "base".to_string() } else { point.join("_") })
    }

    /// Checks the grid: parameters named once, values distinct, every run in a
    /// directory of its own, a sane number of replicas.
    pub fn check(&self) -> Result<(), String> {
        if self.replicas == 0 || self.replicas > MAX_REPLICAS {
            return Err(format!("--replicas {}: expected 1 to {MAX_REPLICAS}", self.replicas));
        }
        for (i, p) in self.params.iter().enumerate() {
            if self.params[..i].iter().any(|q| q.path == p.path) {
                return Err(format!("--param {}: the parameter is given twice", p.name));
            }
            for (j, v) in p.values.iter().enumerate() {
                if p.values[..j].iter().any(|w| sanitize(w) == sanitize(v)) {
                    return Err(format!("--param {}: the value {v} is given twice", p.name));
                }
            }
        }
        let mut dirs: Vec<String> = self.runs().iter().map(|r| r.dir(self)).collect();
        dirs.sort();
        if let Some(w) = dirs.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("two grid points would share the run directory {}", w[0]));
        }
        Ok(())
    }

    /// The grid points (parameter values), in order.
    pub fn points(&self) -> Vec<Vec<String>> {
        let mut points: Vec<Vec<String>> = vec![Vec::new()];
        for p in &self.params {
            points = points
                .into_iter()
                .flat_map(|pt| p.values.iter().map(move |v| [pt.clone(), vec![v.clone()]].concat()))
                .collect();
        }
        points
    }

    /// Every run, in grid order.
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut runs = Vec::new();
        for values in self.points() {
            for r in 0..self.replicas {
                runs.push(RunSpec {
                    index: runs.len(),
                    values: values.clone(),
                    replica: r,
                    seed: replica_seed(self.base_seed, r),
                });
            }
        }
        runs
    }

    /// The scenario of `run`, with its overrides applied and checked.
    pub fn scenario(&self, run: &RunSpec) -> Result<Scenario, ScenarioError> {
        let mut set = self.set.clone();
        set.extend(self.params.iter().zip(&run.values).map(|(p, v)| format!("{}={v}", p.path)));
        set.push(format!("seed={}", run.seed));
        scenario::load_file(&self.file, &set)
    }
}

/// A shard: run `index` belongs to shard `i` (1-based) of `n` when `index % n == i − 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// This shard, 1..=n.
    pub i: usize,
    /// Number of shards.
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard '{s}': expected I/N with 1 <= I <= N, e.g. 2/8");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard { i, n })
    }
}

impl Shard {
    /// Whether run `index` of the grid is this shard's.
    pub fn owns(&self, index: usize) -> bool {
        index % self.n == self.i - 1
    }

    /// `shard-I-of-N`, as its files are named.
    pub fn tag(&self) -> String {
        format!("shard-{}-of-{}", self.i, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_seeds_are_splitmix64_and_do_not_overlap() {
        // SplitMix64 seeded with 0 first returns 0xE220A8397B1DCDAF (Vigna's reference splitmix64.c).
        assert_eq!(replica_seed(0, 1), 0xE220_A839_7B1D_CDAF >> 1);
        assert_eq!(replica_seed(42, 0), 42);
        // Sets of 1000 replicas from seeds 1 and 2 share no seed (with seed + r they shared 999).
        let a: std::collections::BTreeSet<u64> = (0..1000).map(|r| replica_seed(1, r)).collect();
        let b: std::collections::BTreeSet<u64> = (0..1000).map(|r| replica_seed(2, r)).collect();
        assert_eq!((a.len(), b.len()), (1000, 1000));
        assert!(a.is_disjoint(&b));
        // Every derived seed fits a TOML integer.
        assert!(a.iter().chain(&b).all(|&s| s <= i64::MAX as u64));
    }
}

//! Reading a results directory back: the CSV files and the manifest that
//! `kadsim run` wrote (DESIGN.md §5), for charts, comparisons and reports.
//! Every file is checked against what its writer writes ([`crate::files`]),
//! streaming, in bounded memory: a missing or malformed file is an input
//! error naming the file, the line and the field. What an older run lacks is
//! read leniently and noted ([`Results::notes`]).

use super::manifest::{self, Manifest};
use crate::files::schema;
use crate::files::table::{Table, push_row, verify};
use crate::scenario::Scenario;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use super::ops::Op;
pub use crate::files::ReadError;

/// A row of `timeseries.csv` as read back.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Sample {
    /// End of the interval.
    pub time_s: f64,
    /// Whether the interval lies (partly) in the warm-up.
    pub warmup: bool,
    /// Nodes up at the end.
    pub alive: u32,
    /// Messages sent in the interval.
    pub msgs_sent: u64,
    /// Payload bytes sent in the interval.
    pub bytes_sent: u64,
    /// Workload operations finished.
    pub ops_done: u32,
    /// Of those, successful.
    pub ops_succeeded: u32,
    /// Node lookups finished (0 in runs that predate the per-kind columns).
    #[serde(default)]
    pub find_node_done: u32,
    /// Of those, successful.
    #[serde(default)]
    pub find_node_succeeded: u32,
    /// Gets finished.
    #[serde(default)]
    pub get_done: u32,
    /// Of those, successful.
    #[serde(default)]
    pub get_succeeded: u32,
    /// Puts finished.
    #[serde(default)]
    pub put_done: u32,
    /// Of those, successful.
    #[serde(default)]
    pub put_succeeded: u32,
    /// Messages of workload operations (requests and their replies); empty
    /// in runs that predate the split.
    #[serde(default)]
    pub lookup_msgs_sent: Option<u64>,
    /// Their bytes.
    #[serde(default)]
    pub lookup_bytes_sent: Option<u64>,
    /// Messages of maintenance: join, refresh, republish, hand-over, pings.
    #[serde(default)]
    pub maintenance_msgs_sent: Option<u64>,
    /// Their bytes.
    #[serde(default)]
    pub maintenance_bytes_sent: Option<u64>,
    /// Mean share of stale routing-table contacts of the nodes up (empty
    /// when none has a contact, and in runs that predate it).
    #[serde(default)]
    pub stale_contacts_share: Option<f64>,
    /// With an adversary: workload operations on attacked targets finished.
    #[serde(default)]
    pub attacked_done: Option<u32>,
    /// Of those, successful.
    #[serde(default)]
    pub attacked_succeeded: Option<u32>,
    /// With an adversary: workload operations on targets not attacked finished.
    #[serde(default)]
    pub not_attacked_done: Option<u32>,
    /// Of those, successful.
    #[serde(default)]
    pub not_attacked_succeeded: Option<u32>,
    /// Nodes that went down in the interval.
    #[serde(default)]
    pub leaves: u32,
}

impl Sample {
    /// Operations of `kind` finished in the interval and how many succeeded.
    pub fn done_of(&self, kind: &str) -> (u32, u32) {
        match kind {
            "find_node" => (self.find_node_done, self.find_node_succeeded),
            "get" => (self.get_done, self.get_succeeded),
            "put" => (self.put_done, self.put_succeeded),
            _ => (self.ops_done, self.ops_succeeded),
        }
    }
}

/// A row of `buckets.csv` as read back.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Bucket {
    /// Classic bucket index i (distance in [2^i, 2^(i+1))).
    pub bucket: u32,
    /// Mean contacts per node up.
    pub contacts_mean: f64,
    /// Fraction of nodes with k contacts there.
    pub full_fraction: f64,
}

/// A run's results, read back.
#[derive(Clone, Debug)]
pub struct Results {
    /// The directory.
    pub dir: PathBuf,
    /// Every operation after the warm-up.
    pub ops: Vec<Op>,
    /// The time series.
    pub samples: Vec<Sample>,
    /// Routing-table fill by bucket (empty when the run predates `buckets.csv`).
    pub buckets: Vec<Bucket>,
    /// `summary.csv`, in file order.
    pub summary: Vec<(String, String)>,
    /// `manifest.json`.
    pub manifest: Manifest,
    /// The manifest's `scenario` object as written (a run's identity, and
    /// the scenario as printed).
    pub scenario_json: serde_json::Value,
    /// What was read leniently (an older run's missing columns), one line
    /// each: the commands print them as notes.
    pub notes: Vec<String>,
}

/// Reads every row of the CSV file `path` into `T`, checking each against
/// `schema` first; notes on lenient readings go to `notes`.
pub fn read_table<T: for<'de> Deserialize<'de>>(
    path: &Path,
    schema: schema::Schema,
    notes: &mut Vec<String>,
) -> Result<Vec<T>, ReadError> {
    let mut t = Table::open(path, schema)?;
    let mut rows = Vec::new();
    while t.next_row()? {
        let row = t.deserialize()?;
        push_row(&mut rows, row, &t)?;
    }
    notes.extend(t.take_notes());
    Ok(rows)
}

/// Reads `timeseries.csv` (`path`) of a run of `sc`: besides each row's
/// columns, its times are the writer's, a row every `sample_interval` and
/// the last at the end of the run, so that a row lost or repeated in the
/// middle, or rows lost at the end, are refused rather than drawn over.
fn read_samples(path: &Path, sc: &Scenario, notes: &mut Vec<String>) -> Result<Vec<Sample>, ReadError> {
    let (every, end) = (sc.sample_interval.0.max(1), sc.duration.0);
    let rows_written = end.div_ceil(every);
    let at = |i: u64| ((i + 1).saturating_mul(every)).min(end) as f64 / 1e6;
    let grid = || format!("rows every sample_interval ({}) up to the duration ({})", sc.sample_interval, sc.duration);
    let mut t = Table::open(path, schema::timeseries())?;
    let mut rows: Vec<Sample> = Vec::new();
    while t.next_row()? {
        let row: Sample = t.deserialize()?;
        let i = rows.len() as u64;
        if i >= rows_written {
            return Err(t.error(format!("one row too many: {} end at time_s {}", grid(), at(i))));
        }
        if row.time_s != at(i) {
            return Err(t.error(format!("column time_s: expected {} ({}), got {}", at(i), grid(), row.time_s)));
        }
        push_row(&mut rows, row, &t)?;
    }
    if (rows.len() as u64) < rows_written {
        let msg = format!("the file ends before its row at time_s {} ({})", at(rows.len() as u64), grid());
        return Err(ReadError::at(path, Some(t.line() + 1), msg));
    }
    notes.extend(t.take_notes());
    Ok(rows)
}

/// Checks that the summary's per-class rows are those of the scenario's
/// `[[classes]]`, in its order: no class missing, none the run did not have.
fn classes_agree(dir: &Path, sc: &Scenario, summary: &[(String, String)]) -> Result<(), ReadError> {
    let mut seen: Vec<&str> = Vec::new();
    for (m, _) in summary {
        if let Some((class, _)) = schema::class_metric(m)
            && seen.last() != Some(&class)
        {
            seen.push(class);
        }
    }
    let want: Vec<&str> = sc.classes.iter().map(|c| c.name.as_str()).collect();
    if seen != want {
        return Err(ReadError::at(
            &dir.join("summary.csv"),
            None,
            format!(
                "per-class rows for {:?}, but the manifest's scenario has [[classes]] {:?}: the files do not belong together",
                seen, want
            ),
        ));
    }
    Ok(())
}

/// Checks that `ops` holds as many operations of each kind as the summary's
/// `KIND.count` says: `ops.csv` cut short at a line's end reads as a whole
/// file on its own.
fn counts_agree(dir: &Path, ops: &[Op], summary: &[(String, String)]) -> Result<(), ReadError> {
    for kind in ["find_node", "get", "put"] {
        let name = format!("{kind}.count");
        let Some(count) = summary.iter().find(|(m, _)| *m == name).and_then(|(_, v)| v.parse::<u64>().ok()) else {
            continue;
        };
        let rows = ops.iter().filter(|o| o.kind == kind).count() as u64;
        if rows != count {
            let summary = dir.join("summary.csv");
            return Err(ReadError::at(
                &dir.join("ops.csv"),
                None,
                format!(
                    "{rows} {kind} rows, but {} gives {name} = {count}: one of the two files is damaged or cut short",
                    summary.display()
                ),
            ));
        }
    }
    Ok(())
}

impl Results {
    /// Reads the results in `dir`: the manifest, `summary.csv`, `ops.csv`,
    /// `timeseries.csv` and `buckets.csv`, each checked against what kadsim
    /// writes, and `nodes.csv` checked as it streams by (when there: a note
    /// says when it is not; `kadsim report` refuses that).
    pub fn read(dir: &Path) -> Result<Results, ReadError> {
        let m = manifest::read(&dir.join("manifest.json"))?;
        let mut notes = m.notes;
        let listed = |name: &str| m.manifest.files.iter().any(|f| f.0 == name);
        for name in ["ops.csv", "timeseries.csv", "nodes.csv", "summary.csv"] {
            if !listed(name) {
                return Err(ReadError::at(
                    &dir.join("manifest.json"),
                    None,
                    format!("files: {name} is not listed (every run writes it)"),
                ));
            }
        }
        let summary = super::summary::read(&dir.join("summary.csv"))?;
        notes.extend(summary.notes);
        let (ops, ops_notes) = super::ops::read(&dir.join("ops.csv"))?;
        notes.extend(ops_notes);
        counts_agree(dir, &ops, &summary.rows)?;
        classes_agree(dir, &m.manifest.scenario, &summary.rows)?;
        let samples = read_samples(&dir.join("timeseries.csv"), &m.manifest.scenario, &mut notes)?;
        let buckets = if listed("buckets.csv") {
            read_table(&dir.join("buckets.csv"), schema::buckets(), &mut notes)?
        } else {
            Vec::new()
        };
        // Nothing here reads nodes.csv: it is checked when there, and its
        // absence noted (committed baselines leave it out for its size).
        let nodes = dir.join("nodes.csv");
        if std::fs::symlink_metadata(&nodes).is_ok() {
            notes.extend(verify(&nodes, schema::nodes())?.1);
        } else {
            notes.push(format!("{}: listed in the manifest but absent: not checked", nodes.display()));
        }
        Ok(Results {
            dir: dir.to_path_buf(),
            ops,
            samples,
            buckets,
            summary: summary.rows,
            manifest: m.manifest,
            scenario_json: m.scenario_json,
            notes,
        })
    }

    /// The scenario's name.
    pub fn name(&self) -> String {
        let name = &self.manifest.scenario.name;
        if name.is_empty() { "run".to_string() } else { name.clone() }
    }

    /// The bucket size k the run used.
    pub fn k(&self) -> Option<f64> {
        Some(self.manifest.scenario.protocol.k as f64)
    }

    /// The scheduled partitions as (start, end, fraction cut off), seconds,
    /// from the scenario in the manifest.
    pub fn partitions(&self) -> Vec<(f64, f64, f64)> {
        let list = &self.manifest.scenario.network.partitions;
        list.iter().map(|p| (p.start.as_secs_f64(), p.end.as_secs_f64(), p.fraction.0)).collect()
    }

    /// The warm-up's length in seconds (from the summary).
    pub fn warmup_s(&self) -> f64 {
        self.metric("warmup_s").unwrap_or(0.0)
    }

    /// A numeric summary metric (`None`: empty, or absent in an older run).
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.summary.iter().find(|(m, _)| m == name).and_then(|(_, v)| schema::finite(v))
    }

    /// The operations of `kind`.
    pub fn ops_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Op> + 'a {
        self.ops.iter().filter(move |o| o.kind == kind)
    }

    /// The workload kinds present, in a fixed order.
    pub fn kinds(&self) -> Vec<&'static str> {
        ["find_node", "get", "put"].into_iter().filter(|k| self.ops_of(k).next().is_some()).collect()
    }
}

/// How an operation kind is named on charts and in tables.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "find_node" => "node lookups",
        "get" => "gets",
        "put" => "puts",
        other => other,
    }
}

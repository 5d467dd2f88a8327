//! Reading a results directory back: the CSV files and the manifest that
//! `kadsim run` wrote (DESIGN.md §5), for charts, comparisons and reports.
//! A missing or malformed file is an input error naming the file and line.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A row of `ops.csv` as read back.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Op {
    /// Simulated start time.
    pub start_us: u64,
    /// Simulated end time.
    pub end_us: u64,
    /// `find_node`, `get` or `put` (and maintenance kinds when recorded).
    pub kind: String,
    /// Discovery depth of the result.
    pub hops: Option<u32>,
    /// RPCs sent.
    pub queried: u32,
    /// RPCs timed out.
    pub timeouts: u32,
    /// End minus start.
    pub latency_us: u64,
    /// See DESIGN.md §4.
    pub success: bool,
    /// |result ∩ true k closest| / min(k, alive − 1).
    pub found_fraction: Option<f64>,
    /// STOREs acknowledged (puts).
    pub replicas: u32,
}

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

/// Why a results directory could not be read (bad input, exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {msg}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// The line, when known.
    pub line: Option<u64>,
    /// What is wrong.
    pub msg: String,
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
    pub manifest: serde_json::Value,
}

/// Reads every row of the CSV file `path` into `T`.
pub fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, ReadError> {
    let err = |line: Option<u64>, msg: String| ReadError { path: path.to_path_buf(), line, msg };
    let mut r = csv::Reader::from_path(path).map_err(|e| err(None, io_msg(&e)))?;
    if r.headers().map_err(|e| err(Some(1), e.to_string()))?.is_empty() {
        return Err(err(None, "empty file: expected a header line".into()));
    }
    let mut rows = Vec::new();
    for row in r.deserialize() {
        rows.push(row.map_err(|e: csv::Error| {
            let line = e.position().map(|p| p.line());
            let msg = match e.into_kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                    Some(f) => format!("column {}: {}", f + 1, err.kind()),
                    None => err.kind().to_string(),
                },
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("{len} fields, expected {expected_len} as in the header")
                }
                csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_string(),
                csv::ErrorKind::Io(e) => format!("cannot read: {e}"),
                other => format!("{other:?}"),
            };
            err(line, msg)
        })?);
    }
    Ok(rows)
}

fn io_msg(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("cannot read: {io}"),
        _ => e.to_string(),
    }
}

impl Results {
    /// Reads the results in `dir`.
    pub fn read(dir: &Path) -> Result<Results, ReadError> {
        let manifest_path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| ReadError {
            path: manifest_path.clone(),
            line: None,
            msg: format!("cannot read: {e} (is this a kadsim results directory?)"),
        })?;
        let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| ReadError {
            path: manifest_path.clone(),
            line: Some(e.line() as u64),
            msg: e.to_string(),
        })?;
        #[derive(Deserialize)]
        struct Row {
            metric: String,
            value: String,
        }
        let summary = read_csv::<Row>(&dir.join("summary.csv"))?.into_iter().map(|r| (r.metric, r.value)).collect();
        let buckets_path = dir.join("buckets.csv");
        let buckets = if buckets_path.exists() { read_csv(&buckets_path)? } else { Vec::new() };
        Ok(Results {
            dir: dir.to_path_buf(),
            ops: read_csv(&dir.join("ops.csv"))?,
            samples: read_csv(&dir.join("timeseries.csv"))?,
            buckets,
            summary,
            manifest,
        })
    }

    /// The scenario's name.
    pub fn name(&self) -> String {
        self.manifest["scenario"]["name"].as_str().unwrap_or("run").to_string()
    }

    /// The bucket size k the run used.
    pub fn k(&self) -> Option<f64> {
        self.manifest["scenario"]["protocol"]["k"].as_f64()
    }

    /// The scheduled partitions as (start, end, fraction cut off), seconds,
    /// from the scenario in the manifest.
    pub fn partitions(&self) -> Vec<(f64, f64, f64)> {
        let secs = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => crate::scenario::units::Dur::parse(s).ok().map(|d| d.as_secs_f64()),
            other => other.as_f64(),
        };
        let list = self.manifest["scenario"]["network"]["partitions"].as_array().cloned().unwrap_or_default();
        list.iter()
            .filter_map(|p| Some((secs(&p["start"])?, secs(&p["end"])?, p["fraction"].as_f64().unwrap_or(0.0))))
            .collect()
    }

    /// The warm-up's length in seconds (from the summary).
    pub fn warmup_s(&self) -> f64 {
        self.metric("warmup_s").unwrap_or(0.0)
    }

    /// A numeric summary metric.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.summary.iter().find(|(m, _)| m == name).and_then(|(_, v)| v.parse().ok())
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

//! Reading a run's `manifest.json` back strictly: a small file (at most
//! [`MAX_MANIFEST`] bytes), a JSON object with exactly the fields the runner
//! writes (`runner::Manifest`), each of its type, and a `scenario` that reads
//! as a [`Scenario`] and writes back as it was written. An error names the
//! file, the line and column, and the field path
//! (`manifest.json:3:11: seed: invalid type: ...`).
//!
//! Fields that a later kadsim added are optional: an older manifest lacks
//! them, and nothing kadsim reads depends on them. A scenario written by an
//! older kadsim lacks the fields added since: it is read with their defaults,
//! and a note says so.

use crate::files::ReadError;
use crate::files::json::read_json;
use crate::scenario::Scenario;
use crate::scenario::clip::clip;
use crate::scenario::units::NonNegative;
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// The largest manifest read: a real one is a few kilobytes.
pub const MAX_MANIFEST: u64 = 16 << 20;

/// `manifest.json`, as the runner writes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a kadsim run manifest (a JSON object)")]
pub struct Manifest {
    /// The kadsim version that ran it.
    pub kadsim_version: String,
    /// The git commit kadsim was built from (absent before 2026-12-03).
    #[serde(default)]
    pub git_commit: Option<String>,
    /// SHA-1 of the sources kadsim was built from, 40 hex digits (absent in older runs).
    #[serde(default)]
    pub source_sha1: Option<Sha1Hex>,
    /// The command line (absent before 2026-12-03).
    #[serde(default)]
    pub command_line: Option<Vec<String>>,
    /// The scenario as run, with every default written out.
    pub scenario: Scenario,
    /// The master seed.
    pub seed: u64,
    /// What the run warned about (absent before 2026-12-03).
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
    /// The network's size at the end of the warm-up and at the end (absent before 2026-12-03).
    #[serde(default)]
    pub population: Option<Populations>,
    /// Events processed.
    pub events: u64,
    /// Hash of the ordered event trace.
    pub trace_hash: Hash16,
    /// Wall time of the whole run, seconds.
    pub wall_time_s: NonNegative,
    /// Wall time of its set-up.
    pub setup_time_s: NonNegative,
    /// Events per wall second of the event loop.
    pub events_per_s: NonNegative,
    /// Worker threads (absent before 2026-12-03).
    #[serde(default)]
    pub threads: Option<u32>,
    /// Who chose `threads`: `--threads`, or the default's rule with its
    /// numbers (`runner::threads`; absent in older runs).
    #[serde(default)]
    pub threads_chosen_by: Option<String>,
    /// Mean bytes per node.
    pub node_memory_bytes_mean: NonNegative,
    /// How the events fell into windows, and which the workers shared
    /// (`sim::windows`; absent before 2026-12-07).
    #[serde(default)]
    pub windows: Option<crate::sim::windows::Windows>,
    /// The trace's settings, when the run wrote one (absent before 2026-12-03).
    #[serde(default)]
    pub trace: Option<TraceSettings>,
    /// When the run finished, UTC (`2026-12-07T10:32:05Z`; absent in older runs).
    #[serde(default)]
    pub finished_at: Option<UtcTime>,
    /// The files the run wrote in its directory.
    pub files: Vec<FileName>,
}

/// The population at the end of the warm-up and at the end.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Populations {
    /// At the end of the warm-up (none without one).
    pub at_warmup: Option<Population>,
    /// At the end.
    pub at_end: Population,
}

/// Nodes by state (`sim::world::Population`).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Up and joined.
    pub joined: u32,
    /// Up, joining.
    pub joining: u32,
    /// Down after having been up.
    pub down: u32,
    /// Never up yet.
    pub never_up: u32,
}

/// `--trace` settings (`sim::trace::TraceSpec`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSettings {
    /// `trace.csv` written.
    pub ops: bool,
    /// `messages.csv` written.
    pub messages: bool,
    /// Sampling probability.
    pub sample: crate::scenario::units::Probability,
    /// The nodes traced, as ranges (`0-19,77`); every node when absent.
    pub nodes: Option<String>,
    /// Gzip-compressed.
    pub gzip: bool,
}

/// Checked text: a newtype whose constructor says what it expects.
macro_rules! checked_text {
    ($name:ident, $doc:literal, $expect:literal, $ok:expr) => {
        #[doc = $doc]
        #[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(pub String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                let ok: fn(&str) -> bool = $ok;
                if ok(&s) { Ok($name(s)) } else { Err(format!(concat!("expected ", $expect, ", got {:?}"), clip(&s))) }
            }
        }
    };
}

fn hex_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

checked_text!(Hash16, "A 64-bit hash as 16 lower-case hex digits.", "16 lower-case hex digits", |s| hex_digits(s, 16));
checked_text!(Sha1Hex, "A SHA-1 as 40 lower-case hex digits.", "40 lower-case hex digits", |s| hex_digits(s, 40));
checked_text!(UtcTime, "A UTC time, `2026-12-07T10:32:05Z`.", "a UTC time such as 2026-12-07T10:32:05Z", utc);
checked_text!(
    FileName,
    "The name of a file in the run's directory: no path.",
    "a file name without a directory",
    |s| !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\'])
);

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
fn utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let fixed = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let tail = if fixed { s.get(19..).unwrap_or_default() } else { "" };
    fixed
        && (tail == "Z"
            || tail
                .strip_prefix('.')
                .and_then(|t| t.strip_suffix('Z'))
                .is_some_and(|f| !f.is_empty() && f.bytes().all(|d| d.is_ascii_digit())))
}

/// A manifest read back: the typed fields, the scenario as written (for a
/// run's identity and for printing), and notes on lenient readings.
#[derive(Clone, Debug)]
pub struct ReadManifest {
    /// The typed manifest.
    pub manifest: Manifest,
    /// The `scenario` object as written.
    pub scenario_json: Value,
    /// Lenient readings, one line each.
    pub notes: Vec<String>,
}

/// Reads `path` as a run's manifest.
pub fn read(path: &Path) -> Result<ReadManifest, ReadError> {
    let (manifest, text): (Manifest, String) = read_json(path, MAX_MANIFEST).map_err(|mut e| {
        if e.msg == "not found" {
            e.msg = "not found (is this a kadsim results directory?)".into();
        }
        e
    })?;
    // The text parsed as the typed manifest: it parses as JSON.
    let raw: Value =
        serde_json::from_str(&text).map_err(|e| ReadError::at(path, Some(e.line() as u64), e.to_string()))?;
    let scenario_json = raw.get("scenario").cloned().unwrap_or(Value::Null);
    let written = serde_json::to_value(&manifest.scenario)
        .map_err(|e| ReadError::at(path, None, format!("scenario: cannot write it back: {e}")))?;
    let mut older = Vec::new();
    round_trip(&scenario_json, &written, "scenario", &mut older).map_err(|msg| ReadError::at(path, None, msg))?;
    let mut notes = Vec::new();
    if !older.is_empty() {
        let names: Vec<&str> = older.iter().map(String::as_str).collect();
        notes.push(format!(
            "{}: the scenario has no {} (added to kadsim after this run): read with {} default{}",
            path.display(),
            crate::files::table::short_list(&names),
            if older.len() == 1 { "its" } else { "their" },
            if older.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(ReadManifest { manifest, scenario_json, notes })
}

/// Checks that `written` (the scenario read and written again) says what
/// `raw` (as in the file) says: every field of `raw` the same; fields only
/// in `written` are defaults an older file lacks, collected in `older`.
fn round_trip(raw: &Value, written: &Value, at: &str, older: &mut Vec<String>) -> Result<(), String> {
    match (raw, written) {
        (Value::Object(r), Value::Object(w)) => {
            for (k, wv) in w {
                let path = format!("{at}.{k}");
                match r.get(k) {
                    None | Some(Value::Null) => older.push(path),
                    Some(rv) => round_trip(rv, wv, &path, older)?,
                }
            }
            // A field of the file that reads back as nothing (an unset option written as null).
            match r.iter().find(|(k, v)| !w.contains_key(*k) && !v.is_null()) {
                Some((k, _)) => Err(format!("{at}.{k}: not read back (not a field kadsim writes)")),
                None => Ok(()),
            }
        }
        (Value::Array(r), Value::Array(w)) if r.len() == w.len() => {
            for (i, (rv, wv)) in r.iter().zip(w).enumerate() {
                round_trip(rv, wv, &format!("{at}[{i}]"), older)?;
            }
            Ok(())
        }
        (Value::Number(r), Value::Number(w)) if r.as_f64() == w.as_f64() => Ok(()),
        (r, w) if r == w => Ok(()),
        (r, w) => Err(format!(
            "{at}: written as {}, reads back as {}: not a scenario kadsim wrote",
            clip(&r.to_string()),
            clip(&w.to_string())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_and_hex_digits_are_checked() {
        assert!(utc("2026-12-07T10:32:05Z") && utc("2026-12-07T10:32:05.25Z"));
        let wide = "é".repeat(15);
        for bad in ["2026-12-07 10:32:05Z", "2026-12-07T10:32:05", "2026-12-07T10:32:05+01:00", "x", "", &wide] {
            assert!(!utc(bad), "{bad}");
        }
        assert!(Hash16::try_from("0123456789abcdef".to_string()).is_ok());
        assert!(Hash16::try_from("0123456789ABCDEF".to_string()).is_err());
        assert!(Sha1Hex::try_from("a".repeat(40)).is_ok() && Sha1Hex::try_from("a".repeat(39)).is_err());
        assert!(FileName::try_from("ops.csv".to_string()).is_ok());
        for bad in ["", "..", "../x", "a/b"] {
            assert!(FileName::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_round_trip_tells_older_fields_from_changed_ones() {
        let raw: Value = serde_json::json!({"a": 1, "b": {"c": "x"}});
        let same: Value = serde_json::json!({"a": 1.0, "b": {"c": "x"}, "d": true});
        let mut older = Vec::new();
        round_trip(&raw, &same, "scenario", &mut older).unwrap();
        assert_eq!(older, ["scenario.d"]);
        let changed: Value = serde_json::json!({"a": 1, "b": {"c": "y"}});
        let e = round_trip(&raw, &changed, "scenario", &mut Vec::new()).unwrap_err();
        assert_eq!(e, "scenario.b.c: written as \"x\", reads back as \"y\": not a scenario kadsim wrote");
    }
}

//! Reading a scenario: TOML syntax, schema, validation, `--set` overrides and
//! the refusal of scenarios too big to run ([`super::estimate`]), each failure
//! reported as one line naming the file, the field path, the line and column,
//! and what was expected.

use super::checks::{Invalid, invalid, only, validate_dist};
use super::clip::{clip, clip_message};
use super::estimate::{self, Limits};
use super::names::{check_run_name, field_path};
use super::network::*;
use super::profiles::Profile;
use super::sections::*;
use crate::files::bounded::{OpenError, SmallError, open_regular, read_small};
use std::fmt;
use std::path::Path;
use toml::de::{DeTable, DeValue};

/// A scenario that cannot be used, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or `--set ...` for an override).
    pub file: String,
    /// Line and column, 1-based, when known.
    pub position: Option<(usize, usize)>,
    /// Dotted field path, when known.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the parts hold, and no user value echoed at
        // more than `clip::MAX_ECHO` bytes.
        let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        write!(f, "{}", clip(&one_line(&self.file)))?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", clip(&one_line(&self.path)))?;
        }
        write!(f, ": {}", clip_message(&one_line(&self.message)))
    }
}

impl std::error::Error for ScenarioError {}

/// The largest scenario file read: 4 MiB. A scenario is a few kilobytes;
/// the limit keeps a wrong path (a log, a device) from filling the memory.
pub const MAX_SCENARIO_BYTES: u64 = 4 << 20;

/// Loads a scenario file and applies `--set path=value` overrides. The file
/// must be a regular file (a FIFO, a device or a directory is refused without
/// blocking) of at most [`MAX_SCENARIO_BYTES`] of UTF-8 text.
pub fn load_file(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let label = path.display().to_string();
    let text = read_small(path, MAX_SCENARIO_BYTES).map_err(|e| match e {
        SmallError::NotText { line, column } => ScenarioError {
            file: label.clone(),
            position: Some((line as usize, column as usize)),
            path: String::new(),
            message: "cannot read the scenario: not UTF-8 text".into(),
        },
        e => ScenarioError {
            file: label.clone(),
            position: None,
            path: String::new(),
            message: format!("cannot read the scenario: {e}"),
        },
    })?;
    // Nothing at all is more likely a file cut short or the wrong file than a
    // wish for every default (1000 nodes for an hour), which a name alone asks.
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(ScenarioError {
            file: label,
            position: None,
            path: String::new(),
            message: "empty file: expected a scenario (to run every default, write at least name = \"NAME\")".into(),
        });
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut sc = load_text(&text, &label, overrides, &Limits::machine(), base)?;
    if sc.name.is_empty() {
        sc.name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if let Err(e) = check_run_name(&sc.name) {
            return Err(at_path(&text, &label, "name", format!("the file name gives no usable run name: {e}")));
        }
    }
    if let Some(trace) = &sc.churn.trace {
        let resolved =
            if trace.is_absolute() { trace.clone() } else { path.parent().unwrap_or(Path::new(".")).join(trace) };
        let problem = match open_regular(&resolved) {
            Ok(_) => None,
            Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Some("not found".to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(problem) = problem {
            let message = format!("trace file {} {problem}", resolved.display());
            // Named where the path comes from: the --set giving it, or the file.
            return Err(match setting(overrides, "churn.trace") {
                Some(o) => {
                    ScenarioError { file: format!("--set {o}"), position: None, path: "churn.trace".into(), message }
                }
                None => at_path(&text, &label, "churn.trace", message),
            });
        }
        sc.churn.trace = Some(resolved);
    }
    Ok(sc)
}

/// Parses and validates scenario text; `label` names it in errors. Refuses
/// a scenario that cannot run on this machine ([`estimate::check`] with
/// [`Limits::machine`]). A latency matrix (`network.latency.file`) is read
/// here, a relative path from the working directory ([`load_file`] reads it
/// from the scenario file's directory).
pub fn load_str(text: &str, label: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    load_str_within(text, label, overrides, &Limits::machine())
}

/// [`load_str`] against the given limits.
pub fn load_str_within(
    text: &str,
    label: &str,
    overrides: &[String],
    limits: &Limits,
) -> Result<Scenario, ScenarioError> {
    load_text(text, label, overrides, limits, Path::new(""))
}

/// [`load_str_within`], a relative matrix path taken from `base`.
fn load_text(
    text: &str,
    label: &str,
    overrides: &[String],
    limits: &Limits,
    base: &Path,
) -> Result<Scenario, ScenarioError> {
    let mut sc = parse(text, label, overrides)?;
    read_matrix(&mut sc, base, text, label, overrides, limits)?;
    let too_many = (sc.nodes >= crate::sim::addr::MAX_NODES)
        .then(|| ("nodes".to_string(), format!("expected fewer than {} nodes", crate::sim::addr::MAX_NODES)));
    if let Some((path, message)) = estimate::check(&sc, limits).err().or(too_many) {
        // Named where the value comes from: the --set giving it, or the file.
        return Err(match setting(overrides, &path) {
            Some(o) => ScenarioError { file: format!("--set {o}"), position: None, path, message },
            None => at_path(text, label, &path, message),
        });
    }
    Ok(sc)
}

/// Reads the latency matrix of a scenario with model `"matrix"` (a
/// relative `file` from `base`), checks it against a `sha1` the scenario
/// gives, and puts the resolved path, the file's SHA-1 and the matrix in
/// the scenario. The memory the matrix may take is the machine's.
fn read_matrix(
    sc: &mut Scenario,
    base: &Path,
    text: &str,
    label: &str,
    overrides: &[String],
    limits: &Limits,
) -> Result<(), ScenarioError> {
    let l = &mut sc.network.latency;
    let (LatencyModel::Matrix, Some(file)) = (l.model, &l.file) else { return Ok(()) };
    let resolved = if file.is_absolute() { file.clone() } else { base.join(file) };
    let opts = crate::sim::matrix::Options {
        format: l.format.unwrap_or(MatrixFormat::Auto),
        unit: l.unit.unwrap_or(MatrixUnit::Millis),
        missing: l.missing.unwrap_or(MatrixMissing::Drop),
        max_bytes: limits.memory_bytes,
    };
    // Named where the field comes from: the --set giving it, or the file.
    let at_field = |field: &str, message: String| match setting(overrides, field) {
        Some(o) => ScenarioError { file: format!("--set {o}"), position: None, path: field.into(), message },
        None => at_path(text, label, field, message),
    };
    let shown = resolved.display().to_string();
    let m = crate::sim::matrix::read(&resolved, &opts).map_err(|e| match e.field {
        Some(field) => at_field(field, format!("matrix file {shown}: {}", e.message)),
        None => ScenarioError {
            file: shown.clone(),
            position: e.position.map(|(line, col)| (line as usize, col as usize)),
            path: String::new(),
            message: e.message,
        },
    })?;
    if let Some(pin) = &l.sha1
        && pin.as_str() != m.sha1()
    {
        return Err(at_field(
            "network.latency.sha1",
            format!(
                "matrix file {shown} has SHA-1 {}, not the {} the scenario gives: another file or a changed one (leave sha1 out to take it as it is)",
                m.sha1(),
                pin.as_str()
            ),
        ));
    }
    l.sha1 = Some(Sha1Hex::try_from(m.sha1().to_string()).map_err(|e| at_field("network.latency.sha1", e))?);
    l.file = Some(resolved);
    l.loaded = LoadedMatrix(Some(std::sync::Arc::new(m)));
    Ok(())
}

/// The last override that sets `path` or a table holding it.
fn setting<'a>(overrides: &'a [String], path: &str) -> Option<&'a String> {
    overrides.iter().rev().find(|o| {
        let p = field_path(o.split_once('=').map_or(o.as_str(), |(p, _)| p));
        path == p || path.starts_with(&format!("{p}."))
    })
}

/// The scenario of `text` with its profile under it and `overrides` applied,
/// validated.
fn parse(text: &str, label: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| syntax(text, label, &e))?;
    if let Err((path, message)) = super::shape::check(&table) {
        return Err(at_path(text, label, &path, message));
    }
    if let Some(message) = empty_name(&table) {
        return Err(at_path(text, label, "name", message));
    }
    let sc: Scenario = deserialize(text, label)?;
    if overrides.is_empty() && sc.profile == Profile::Paper {
        if let Err((path, message)) = validate(&sc) {
            return Err(at_path(text, label, &path, message));
        }
        return Ok(sc);
    }
    for o in overrides {
        apply_override(&mut table, o)?;
    }
    if let Some(message) = empty_name(&table) {
        let file = setting(overrides, "name").map_or_else(|| label.to_string(), |o| format!("--set {o}"));
        return Err(ScenarioError { file, position: None, path: "name".into(), message });
    }
    if let Err((path, message)) = super::shape::check(&table) {
        let file = setting(overrides, &path)
            .map_or_else(|| format!("--set {}", overrides.join(" --set ")), |o| format!("--set {o}"));
        return Err(ScenarioError { file, position: None, path, message });
    }
    // The profile (the file's, or one given by --set) under everything else.
    let profile = match table.get("profile") {
        None => Profile::Paper,
        Some(v) => v.clone().try_into::<Profile>().map_err(|e| ScenarioError {
            file: format!("--set {}", overrides.join(" --set ")),
            position: None,
            path: "profile".into(),
            message: e.message().to_string(),
        })?,
    };
    let table = super::profiles::merge(profile.table(), table);
    if overrides.is_empty() {
        // Positions name the file's own lines; a field the profile set has none.
        let merged = toml::to_string(&table).map_err(|e| ScenarioError {
            file: label.to_string(),
            position: None,
            path: String::new(),
            message: e.to_string(),
        })?;
        let sc: Scenario = deserialize(&merged, label).map_err(|mut e| {
            e.position = None;
            e
        })?;
        return match validate(&sc) {
            Ok(()) => Ok(sc),
            Err((path, message)) => Err(at_path(text, label, &path, message)),
        };
    }
    let label = format!("--set {}", overrides.join(" --set "));
    let merged = toml::to_string(&table).map_err(|e| ScenarioError {
        file: label.clone(),
        position: None,
        path: String::new(),
        message: e.to_string(),
    })?;
    // Named by the override that sets the field, if one does.
    let sc: Scenario = deserialize(&merged, &label).map_err(|mut e| {
        e.position = None;
        e.file = setting(overrides, &e.path).map_or(label.clone(), |o| format!("--set {o}"));
        e
    })?;
    if let Err((path, message)) = validate(&sc) {
        let file = setting(overrides, &path).map_or(label, |o| format!("--set {o}"));
        return Err(ScenarioError { file, position: None, path, message });
    }
    Ok(sc)
}

/// The refusal of a name given as `""`: a scenario without a name takes its
/// file's, but an empty one written out is a mistake, not a request for that.
fn empty_name(table: &toml::Table) -> Option<String> {
    match table.get("name") {
        Some(toml::Value::String(n)) if n.is_empty() => check_run_name(n).err(),
        _ => None,
    }
}

fn deserialize(text: &str, label: &str) -> Result<Scenario, ScenarioError> {
    let de = toml::Deserializer::parse(text).map_err(|e| syntax(text, label, &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let position = inner.span().map(|s| line_col(text, s.start));
        let mut message = inner.message().to_string();
        let mut path = if path == "." { String::new() } else { path };
        // serde_path_to_error stops at the table holding an unknown key; name the key.
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some(end) = rest.find('`')
        {
            let key = &rest[..end];
            if !(path == key || path.ends_with(&format!(".{key}"))) {
                path = if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
            }
            message = format!("unknown field{}", &rest[end + 1..]);
        }
        ScenarioError { file: label.to_string(), position, path, message }
    })
}

fn syntax(text: &str, label: &str, e: &toml::de::Error) -> ScenarioError {
    ScenarioError {
        file: label.to_string(),
        position: e.span().map(|s| line_col(text, s.start)),
        path: String::new(),
        message: format!("invalid TOML: {}", e.message()),
    }
}

/// An error at a dotted `path`, positioned at that value if the text has it
/// (a numeric part indexes an array: `classes.1.share`).
fn at_path(text: &str, label: &str, path: &str, message: String) -> ScenarioError {
    let position = DeTable::parse(text).ok().and_then(|root| {
        // A field the file does not set at all has no position.
        let first = path.split('.').next().unwrap_or_default();
        root.get_ref().get(first)?;
        let mut span = root.span();
        let mut value = DeValue::Table(root.into_inner());
        for part in path.split('.') {
            // A missing field is placed at the deepest part of its path that exists.
            let next = match &value {
                DeValue::Table(t) => t.get(part).cloned(),
                DeValue::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i).cloned()),
                _ => None,
            };
            let Some(v) = next else { break };
            span = v.span();
            value = v.into_inner();
        }
        Some(line_col(text, span.start))
    });
    ScenarioError { file: label.to_string(), position, path: path.to_string(), message }
}

pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let mut col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    // A byte-order mark is not a column an editor shows.
    if line == 1 && before.starts_with('\u{feff}') {
        col -= 1;
    }
    (line, col)
}

/// Applies `a.b.c=value`: the value is read as TOML (`8`, `0.5`, `true`,
/// `"2h"`), or else taken as a string (`2h`, `strict`). A one-word path other
/// than a top-level key is a protocol field (`k=8` is `protocol.k=8`, see
/// [`field_path`]).
fn apply_override(table: &mut toml::Table, o: &str) -> Result<(), ScenarioError> {
    let bad =
        |message: String| ScenarioError { file: format!("--set {o}"), position: None, path: String::new(), message };
    let (path, raw) = o.split_once('=').ok_or_else(|| bad("expected path.to.field=value".into()))?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(bad("expected path.to.field=value".into()));
    }
    let path = field_path(path);
    if path == "study" || path.starts_with("study.") {
        return Err(bad(
            "[study] is the file's parameter study, not a field of the scenario: give kadsim sweep --param or --replicas".into(),
        ));
    }
    let value = match format!("v = {}", raw.trim()).parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.trim().to_string()),
    };
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = table;
    let mut i = 0;
    while i + 1 < parts.len() {
        let part = parts[i];
        let entry = cur.entry(part.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            // An array of tables (`[[classes]]`, `[[network.partitions]]`):
            // the next part is the index of an entry the file has.
            toml::Value::Array(items) if i + 2 < parts.len() => {
                let len = items.len();
                let index = parts[i + 1];
                i += 1;
                match index.parse::<usize>().ok().and_then(|j| items.get_mut(j)) {
                    Some(toml::Value::Table(t)) => t,
                    _ => {
                        return Err(bad(format!(
                            "{part} has {len} entr{} in the file: expected an index below {len} after {part}., got {index:?}",
                            if len == 1 { "y" } else { "ies" }
                        )));
                    }
                }
            }
            _ => return Err(bad(format!("{part} is not a table"))),
        };
        i += 1;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// Checks what the types alone cannot: ranges that depend on other fields and
/// fields that do not apply to the chosen model.
fn validate(sc: &Scenario) -> Result<(), Invalid> {
    // Empty: the file's stem, checked by `load_file`.
    if !sc.name.is_empty()
        && let Err(e) = check_run_name(&sc.name)
    {
        return invalid("name", e);
    }
    if sc.nodes == 0 {
        return invalid("nodes", "expected at least 1 node");
    }
    if crate::kad::IdWidth::from_bits(usize::from(sc.protocol.id_bits)).is_none() {
        return invalid(
            "protocol.id_bits",
            format!(
                "expected 160 (SHA-1: the paper, BitTorrent) or 256 (SHA-256: libp2p; Keccak-256: Ethereum), got {}",
                sc.protocol.id_bits
            ),
        );
    }
    if sc.duration.0 == 0 {
        return invalid("duration", "expected a positive duration");
    }
    if sc.duration.0 > crate::sim::queue::MAX_TIME {
        return invalid("duration", "expected at most 2^48 microseconds (8.9 years)");
    }
    if sc.sample_interval.0 == 0 {
        return invalid("sample_interval", "expected a positive duration");
    }
    if sc.warmup > sc.duration {
        return invalid("warmup", "expected a warm-up no longer than the duration");
    }
    if let Err(e) = sc.protocol.config().validate() {
        return invalid(&format!("protocol.{}", e.field), e.expected);
    }
    if sc.bootstrap.mode == BootstrapMode::Join && sc.bootstrap.join_rate.0 <= 0.0 {
        return invalid("bootstrap.join_rate", "expected a positive rate of joins per second");
    }
    if sc.network.min_latency.0 == 0 {
        return invalid("network.min_latency", "expected a positive duration (at least 1us)");
    }
    let n = &sc.network;
    if n.unreachable.0 + n.clients.0 > 1.0 {
        return invalid(
            "network.clients",
            format!(
                "expected network.unreachable + network.clients at most 1 (each node is one or the other), got {} + {}",
                n.unreachable.0, n.clients.0
            ),
        );
    }
    if n.nat_timeout.is_some_and(|d| d.0 == 0) {
        return invalid("network.nat_timeout", "expected a positive duration");
    }
    validate_latency(&sc.network.latency)?;
    validate_loss(&sc.network.loss)?;
    for (i, p) in sc.network.partitions.iter().enumerate() {
        if p.end <= p.start {
            return invalid(&format!("network.partitions.{i}.end"), "expected an end after the start");
        }
    }
    validate_churn(&sc.churn)?;
    super::classes::validate(sc)?;
    super::adversary::validate(&sc.adversary, sc.nodes, sc.duration)?;
    let w = &sc.workload;
    if w.keys == 0 && (w.put_rate.0 > 0.0 || w.get_rate.0 > 0.0) {
        return invalid("workload.keys", "expected at least 1 key when puts or gets are on");
    }
    if w.records.peer_sets() && w.value_size != 6 {
        return invalid(
            "workload.value_size",
            format!(
                "expected 6 with records = \"peers\" or \"providers\" (a compact IPv4 address and port naming the announcing node), got {}",
                w.value_size
            ),
        );
    }
    // Values travel in KRPC messages, whose sizes are BEP 44's.
    if w.value_size as usize > crate::wire::krpc::MAX_VALUE {
        return invalid(
            "workload.value_size",
            format!(
                "expected at most {} bytes (BEP 44's limit on a value), got {}",
                crate::wire::krpc::MAX_VALUE,
                w.value_size
            ),
        );
    }
    Ok(())
}

fn validate_latency(l: &Latency) -> Result<(), Invalid> {
    let set = [
        ("value", l.value.is_some()),
        ("min", l.min.is_some()),
        ("max", l.max.is_some()),
        ("median", l.median.is_some()),
        ("sigma", l.sigma.is_some()),
        ("width", l.width.is_some()),
        ("height_mean", l.height_mean.is_some()),
        ("file", l.file.is_some()),
        ("format", l.format.is_some()),
        ("unit", l.unit.is_some()),
        ("missing", l.missing.is_some()),
        ("access", l.access.is_some()),
        ("sha1", l.sha1.is_some()),
    ];
    let s = "network.latency";
    match l.model {
        LatencyModel::Constant => only(s, "constant", &set, &["value"]),
        LatencyModel::Uniform => {
            only(s, "uniform", &set, &["min", "max"])?;
            let (min, max) = l.uniform_bounds();
            if max < min {
                return invalid("network.latency.max", "expected max >= min");
            }
            Ok(())
        }
        LatencyModel::Lognormal => only(s, "lognormal", &set, &["median", "sigma"]),
        LatencyModel::Coordinates => only(s, "coordinates", &set, &["width", "height_mean"]),
        LatencyModel::Matrix => {
            only(s, "matrix", &set, &["file", "format", "unit", "missing", "access", "sha1"])?;
            if l.file.is_none() {
                return invalid(
                    "network.latency.file",
                    "expected the path of a latency matrix file (dense rows of RTTs, or i j rtt triples)",
                );
            }
            match &l.access {
                Some(d) => validate_dist("network.latency.access", d),
                None => Ok(()),
            }
        }
    }
}

fn validate_loss(l: &Loss) -> Result<(), Invalid> {
    let set = [
        ("rate", l.rate.is_some()),
        ("p_good_bad", l.p_good_bad.is_some()),
        ("p_bad_good", l.p_bad_good.is_some()),
        ("loss_good", l.loss_good.is_some()),
        ("loss_bad", l.loss_bad.is_some()),
    ];
    let s = "network.loss";
    match l.model {
        LossModel::None => only(s, "none", &set, &[]),
        LossModel::Independent => only(s, "independent", &set, &["rate"]),
        LossModel::GilbertElliott => {
            only(s, "gilbert_elliott", &set, &["p_good_bad", "p_bad_good", "loss_good", "loss_bad"])
        }
    }
}

fn validate_churn(c: &Churn) -> Result<(), Invalid> {
    match c.model {
        ChurnModel::None => Ok(()),
        ChurnModel::Distributions => {
            if c.trace.is_some() {
                return invalid("churn.trace", "applies only to model \"trace\"");
            }
            for (name, d) in [("session", &c.session), ("downtime", &c.downtime)] {
                if let Some(d) = d {
                    validate_dist(&format!("churn.{name}"), d)?;
                }
            }
            Ok(())
        }
        ChurnModel::Trace => {
            if c.trace.is_none() {
                return invalid("churn.trace", "expected the path of a trace file (time_s,node,event)");
            }
            Ok(())
        }
    }
}

impl Latency {
    /// The uniform model's bounds, defaults applied.
    pub fn uniform_bounds(&self) -> (super::units::Dur, super::units::Dur) {
        use super::units::Dur;
        (self.min.unwrap_or(Dur::millis(10)), self.max.unwrap_or(Dur::millis(100)))
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;

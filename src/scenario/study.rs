//! `[study]`: a parameter study kept in the scenario file, under version
//! control with it, so that `kadsim sweep FILE` needs no flags (as an OMNeT++
//! configuration's `${k=8,20}` and `repeat = 5`):
//!
//! ```toml
//! [study]
//! replicas = 5
//! [study.params]
//! "protocol.k" = [8, 20]
//! "churn.session.scale" = ["5m", "30m", "2h"]
//! [study.labels]                     # optional: names on the charts
//! "protocol.k" = "bucket size k"
//! ```
//!
//! plus optional `metrics = [...]` (the charts drawn) and `title = "..."`.
//! The parameters keep the file's order (the first varies slowest). The study
//! is checked like every section: an unknown field, a value of the wrong
//! type, a parameter without values or with one twice is refused with the
//! file, line and column; every value is applied to the scenario as
//! `kadsim sweep --param` applies it (so a duration without a unit, a k of 0
//! or an unknown field path is refused, at the value). A run of the file
//! (`kadsim run FILE`) runs the scenario without the study.

use super::load::{MAX_SCENARIO_BYTES, ScenarioError, line_col, load_file};
use super::names::field_path;
use crate::files::bounded::read_small;
use std::path::Path;
use toml::de::{DeTable, DeValue};

/// One parameter of a study: its name as written, and its values as
/// `--param` takes them (and as the file writes them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyParam {
    /// The key, e.g. `protocol.k`.
    pub name: String,
    /// The values as `--param` text: `8`, `5m`, `tree`.
    pub values: Vec<String>,
    /// The values as the file writes them: `8`, `"5m"`, `"tree"`.
    pub written: Vec<String>,
}

/// A study read from a scenario file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Study {
    /// Runs per grid point.
    pub replicas: Option<u32>,
    /// The parameters, in the file's order.
    pub params: Vec<StudyParam>,
    /// (field, text): names of parameters and metrics on the charts.
    pub labels: Vec<(String, String)>,
    /// The metrics charted.
    pub metrics: Option<Vec<String>>,
    /// The charts' title (`{metric}` and `{param}` stand for their names).
    pub title: Option<String>,
}

/// What the study's values are checked against: what kadsim sweep accepts.
pub struct Rules<'a> {
    /// Most replicas.
    pub max_replicas: u32,
    /// Checks a list of metric names (`Err`: why not).
    pub metrics: &'a dyn Fn(&[String]) -> Result<(), String>,
    /// Whether a name is a metric (a label may name one).
    pub is_metric: &'a dyn Fn(&str) -> bool,
}

/// The fields of `[study]`.
const FIELDS: &str = "replicas, params, labels, metrics, title";

/// Reads the `[study]` of the scenario file `file` (already loaded with
/// `overrides` by [`load_file`]), checking every field and applying every
/// value; `None` when the file has none.
pub fn load_study(file: &Path, overrides: &[String], rules: &Rules) -> Result<Option<Study>, ScenarioError> {
    let label = file.display().to_string();
    let text = read_small(file, MAX_SCENARIO_BYTES).map_err(|e| ScenarioError {
        file: label.clone(),
        position: None,
        path: String::new(),
        message: format!("cannot read the scenario: {e}"),
    })?;
    let root = DeTable::parse(&text).map_err(|e| ScenarioError {
        file: label.clone(),
        position: e.span().map(|s| line_col(&text, s.start)),
        path: String::new(),
        message: format!("invalid TOML: {}", e.message()),
    })?;
    let root = root.into_inner();
    let Some((key, value)) = root.iter().find(|(k, _)| k.get_ref().as_ref() == "study") else {
        return Ok(None);
    };
    let at = |offset: usize, path: &str, message: String| ScenarioError {
        file: label.clone(),
        position: Some(line_col(&text, offset)),
        path: path.to_string(),
        message,
    };
    let DeValue::Table(table) = value.get_ref() else {
        return Err(at(
            key.span().start,
            "study",
            format!("expected a table ([study]), got {}", kind(value.get_ref())),
        ));
    };
    let mut study = Study::default();
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    // The parameters first, so that labels can be checked against them.
    entries.sort_by_key(|(k, _)| k.get_ref().as_ref() != "params");
    for (k, v) in entries {
        let name = k.get_ref().as_ref();
        let path_field = format!("study.{name}");
        let path = path_field.as_str();
        let vat = v.span().start;
        match (name, v.get_ref()) {
            ("replicas", DeValue::Integer(i)) => {
                let n = i64::from_str_radix(i.as_str(), i.radix()).unwrap_or(-1);
                if n < 1 || n > i64::from(rules.max_replicas) {
                    return Err(at(vat, path, format!("expected 1 to {} replicas, got {n}", rules.max_replicas)));
                }
                study.replicas = Some(n as u32);
            }
            ("params", DeValue::Table(params)) => {
                study.params = read_params(params, &text, &label, path)?;
                for p in &study.params {
                    apply_each(p, params, (file, &text), overrides, &path_arg(&path_field, &p.name))?;
                }
            }
            ("labels", DeValue::Table(labels)) => {
                let mut list: Vec<_> = labels.iter().collect();
                list.sort_by_key(|(k, _)| k.span().start);
                for (lk, lv) in list {
                    let field = lk.get_ref().as_ref();
                    let lpath = format!("study.labels.{}", quoted(field));
                    let DeValue::String(s) = lv.get_ref() else {
                        return Err(at(
                            lv.span().start,
                            &lpath,
                            format!("expected a string, got {}", kind(lv.get_ref())),
                        ));
                    };
                    let param = study.params.iter().any(|p| p.name == field || field_path(&p.name) == field);
                    if !param && !(rules.is_metric)(field) {
                        return Err(at(
                            lk.span().start,
                            &lpath,
                            "expected a parameter of [study.params] or a metric of runs.csv".into(),
                        ));
                    }
                    study.labels.push((field.to_string(), s.to_string()));
                }
            }
            ("metrics", DeValue::Array(items)) => {
                let mut names = Vec::new();
                for item in items.iter() {
                    let DeValue::String(s) = item.get_ref() else {
                        return Err(at(
                            item.span().start,
                            path,
                            format!("expected strings, got {}", kind(item.get_ref())),
                        ));
                    };
                    names.push(s.to_string());
                }
                (rules.metrics)(&names).map_err(|e| at(vat, path, e))?;
                study.metrics = Some(names);
            }
            ("title", DeValue::String(s)) => study.title = Some(s.to_string()),
            ("replicas" | "params" | "labels" | "metrics" | "title", other) => {
                let want = match name {
                    "replicas" => "an integer",
                    "params" => "a table ([study.params]) of arrays of values",
                    "labels" => "a table ([study.labels]) of strings",
                    "metrics" => "an array of metric names",
                    _ => "a string",
                };
                return Err(at(vat, path, format!("expected {want}, got {}", kind(other))));
            }
            _ => return Err(at(k.span().start, path, format!("unknown field, expected one of {FIELDS}"))),
        }
    }
    Ok(Some(study))
}

/// The dotted field path a study key sets.
fn path_of(name: &str) -> String {
    field_path(name)
}

/// `study.params."KEY"`, as errors name a parameter.
fn path_arg(prefix: &str, key: &str) -> String {
    format!("{prefix}.{}", quoted(key))
}

/// A key as TOML writes it: bare when it can be, else in quotes.
fn quoted(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        key.to_string()
    } else {
        format!("\"{key}\"")
    }
}

/// The parameters of `[study.params]`, in the file's order, each checked:
/// an array of one value or more, each a number, string or boolean, none
/// twice, the seed never.
fn read_params(params: &DeTable, text: &str, label: &str, prefix: &str) -> Result<Vec<StudyParam>, ScenarioError> {
    let at = |offset: usize, path: &str, message: String| ScenarioError {
        file: label.to_string(),
        position: Some(line_col(text, offset)),
        path: path.to_string(),
        message,
    };
    let mut list: Vec<_> = params.iter().collect();
    list.sort_by_key(|(k, _)| k.span().start);
    let mut out: Vec<StudyParam> = Vec::new();
    for (k, v) in list {
        let name = k.get_ref().as_ref().trim().to_string();
        let path = path_arg(prefix, &name);
        if name.is_empty() || name.split('.').any(str::is_empty) {
            return Err(at(k.span().start, &path, "expected a field path such as \"protocol.k\"".into()));
        }
        if name == "seed" {
            return Err(at(
                k.span().start,
                &path,
                "seeds are not swept; set study.replicas (replica seeds derive from the scenario's seed)".into(),
            ));
        }
        if let Some(other) = out.iter().find(|p| path_of(&p.name) == path_of(&name)) {
            return Err(at(
                k.span().start,
                &path,
                format!("the same field as {} (both set {})", other.name, path_of(&name)),
            ));
        }
        let DeValue::Array(items) = v.get_ref() else {
            return Err(at(v.span().start, &path, format!("expected an array of values, got {}", kind(v.get_ref()))));
        };
        if items.iter().next().is_none() {
            return Err(at(v.span().start, &path, "expected at least one value".into()));
        }
        let mut p = StudyParam { name: name.clone(), values: Vec::new(), written: Vec::new() };
        for item in items.iter() {
            let (value, written) = match item.get_ref() {
                DeValue::Integer(i) => {
                    let n = i64::from_str_radix(i.as_str(), i.radix())
                        .map_err(|_| at(item.span().start, &path, "expected an integer that fits 64 bits".into()))?;
                    (n.to_string(), n.to_string())
                }
                DeValue::Float(f) => {
                    let s = f.as_str().to_string();
                    if !s.parse::<f64>().is_ok_and(f64::is_finite) {
                        return Err(at(item.span().start, &path, format!("expected a finite number, got {s}")));
                    }
                    (s.clone(), s)
                }
                DeValue::Boolean(b) => (b.to_string(), b.to_string()),
                DeValue::String(s) => {
                    let s = s.trim().to_string();
                    if s.is_empty() || s.contains(',') || s.chars().any(char::is_control) {
                        return Err(at(
                            item.span().start,
                            &path,
                            "expected a value without commas or control characters, not empty".into(),
                        ));
                    }
                    (s.clone(), format!("{:?}", s))
                }
                other => {
                    return Err(at(
                        item.span().start,
                        &path,
                        format!("expected a number, a string or a boolean, got {}", kind(other)),
                    ));
                }
            };
            if p.values.iter().any(|w| same_dir(w, &value)) {
                return Err(at(item.span().start, &path, format!("the value {value} is given twice")));
            }
            p.values.push(value);
            p.written.push(written);
        }
        out.push(p);
    }
    Ok(out)
}

/// Whether two values name the same run directory (a sweep's directories
/// keep ASCII letters, digits and `=._-`, and replace every other character by `-`).
fn same_dir(a: &str, b: &str) -> bool {
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "=._-".contains(c) { c } else { '-' }).collect()
    };
    clean(a) == clean(b)
}

/// Applies each value of `p` to the scenario (with `overrides`), as `kadsim
/// sweep --param` does: a value the scenario refuses is named at its place
/// in the file.
fn apply_each(
    p: &StudyParam,
    params: &DeTable,
    (file, text): (&Path, &str),
    overrides: &[String],
    path: &str,
) -> Result<(), ScenarioError> {
    let label = file.display().to_string();
    let field = path_of(&p.name);
    let items: Vec<usize> = match params.iter().find(|(k, _)| k.get_ref().as_ref().trim() == p.name) {
        Some((_, v)) => match v.get_ref() {
            DeValue::Array(a) => a.iter().map(|i| i.span().start).collect(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    for (i, value) in p.values.iter().enumerate() {
        let mut set = overrides.to_vec();
        set.push(format!("{field}={value}"));
        if let Err(e) = load_file(file, &set) {
            let inner = if e.path.is_empty() || e.path == field { String::new() } else { format!("{}: ", e.path) };
            return Err(ScenarioError {
                file: label,
                position: items.get(i).map(|o| line_col(text, *o)),
                path: path.to_string(),
                message: format!("{value}: {inner}{}", e.message),
            });
        }
    }
    Ok(())
}

/// A TOML value's kind, in words.
fn kind(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl Study {
    /// The study as the file writes it (`kadsim validate` prints it), with
    /// its grid as comments.
    pub fn to_toml(&self, max_lines: usize) -> String {
        let mut out = String::from("\n[study]\n");
        if let Some(r) = self.replicas {
            out.push_str(&format!("replicas = {r}\n"));
        }
        if let Some(m) = &self.metrics {
            let names: Vec<String> = m.iter().map(|n| format!("{n:?}")).collect();
            out.push_str(&format!("metrics = [{}]\n", names.join(", ")));
        }
        if let Some(t) = &self.title {
            out.push_str(&format!("title = {t:?}\n"));
        }
        out.push_str("\n[study.params]\n");
        for p in &self.params {
            out.push_str(&format!("{:?} = [{}]\n", p.name, p.written.join(", ")));
        }
        if !self.labels.is_empty() {
            out.push_str("\n[study.labels]\n");
            for (f, t) in &self.labels {
                out.push_str(&format!("{f:?} = {t:?}\n"));
            }
        }
        let points: usize = self.params.iter().map(|p| p.values.len()).product();
        let r = self.replicas.unwrap_or(3);
        out.push_str(&format!(
            "# the grid: {points} point{} x {r} replica{} = {} runs (kadsim sweep FILE runs it)\n",
            if points == 1 { "" } else { "s" },
            if r == 1 { "" } else { "s" },
            points * r as usize
        ));
        let mut grid: Vec<Vec<String>> = vec![Vec::new()];
        for p in &self.params {
            grid = grid
                .into_iter()
                .flat_map(|pt| p.values.iter().map(move |v| [pt.clone(), vec![format!("{}={v}", p.name)]].concat()))
                .collect();
        }
        for (i, pt) in grid.iter().enumerate() {
            if i == max_lines && grid.len() > max_lines + 1 {
                out.push_str(&format!("#   … and {} more\n", grid.len() - max_lines));
                break;
            }
            out.push_str(&format!("#   {}\n", pt.join(" ")));
        }
        out
    }
}

#[cfg(test)]
#[path = "study_tests.rs"]
mod tests;

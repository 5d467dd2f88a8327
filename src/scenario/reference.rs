//! The scenario reference (`docs/scenario-reference.md`, printed by
//! `kadsim validate --reference`): every field of a scenario file with its
//! type, default and meaning, generated from the types that read the file
//! (their serde attributes and doc comments, through `schemars`), so that
//! the page cannot drift from the reader: a test fails when the committed
//! page differs from what the binary generates.

use serde_json::{Map, Value};

/// The reference as Markdown.
pub fn markdown() -> String {
    let schema = schemars::schema_for!(super::Scenario);
    let root = schema.as_value().clone();
    let defs = root.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut out = String::from(
        "# Scenario reference\n\n\
         Every field of a scenario file, generated from the code that reads it \
         (`kadsim validate --reference`; do not edit by hand). Every field is \
         optional; a field the file leaves out takes its default, or the \
         `profile`'s value (README \"ID width and profiles\"). Durations need a \
         unit (`\"50ms\"`, `\"2h\"`); an unknown field is an error. \
         `kadsim validate FILE` prints the values a file gives, defaults applied.\n",
    );
    section(&mut out, "", "(top level)", &root, &defs);
    out
}

/// Writes the fields of the table `def` at dotted `path`, then its
/// sub-tables, each in a section of its own.
fn section(out: &mut String, path: &str, title: &str, def: &Value, defs: &Map<String, Value>) {
    let Some(props) = def.get("properties").and_then(Value::as_object) else { return };
    out.push_str(&format!("\n## {title}\n\n"));
    if let Some(d) = def.get("description").and_then(Value::as_str).filter(|_| !path.is_empty()) {
        out.push_str(&format!("{}\n\n", one_line(d)));
    }
    out.push_str("| field | type | default | meaning |\n|---|---|---|---|\n");
    let mut tables: Vec<(String, String, Value)> = Vec::new();
    for (name, prop) in props {
        let full = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
        let target = resolve(prop, defs);
        if let Some(t) = target.as_ref().filter(|t| t.get("properties").is_some()) {
            tables.push((full.clone(), format!("[{full}]"), t.clone()));
            continue;
        }
        if let Some(item) = array_item(prop, defs).filter(|t| t.get("properties").is_some()) {
            tables.push((full.clone(), format!("[[{full}]]"), item));
            continue;
        }
        let meaning = prop.get("description").and_then(Value::as_str).map(one_line).unwrap_or_default();
        let default = prop.get("default").map(toml_value).unwrap_or_default();
        out.push_str(&format!("| `{full}` | {} | {} | {} |\n", type_of(prop, defs), default, cell(&meaning)));
    }
    for (path, title, def) in tables {
        section(out, &path, &title, &def, defs);
    }
}

/// The definition a property refers to, through `$ref` or an `anyOf` with null (an `Option`).
fn resolve(prop: &Value, defs: &Map<String, Value>) -> Option<Value> {
    if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
        return defs.get(r.trim_start_matches("#/$defs/")).cloned();
    }
    let any = prop.get("anyOf").and_then(Value::as_array)?;
    any.iter().filter(|v| v.get("type").and_then(Value::as_str) != Some("null")).find_map(|v| resolve(v, defs))
}

/// The item definition of an array property.
fn array_item(prop: &Value, defs: &Map<String, Value>) -> Option<Value> {
    let items = prop.get("items")?;
    resolve(items, defs).or_else(|| Some(items.clone()))
}

/// How a value of `prop` is written.
fn type_of(prop: &Value, defs: &Map<String, Value>) -> String {
    if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        return match name {
            "Duration" => "duration".into(),
            "Probability" => "number, 0 to 1".into(),
            "NonNegative" => "number ≥ 0".into(),
            _ => defs.get(name).map_or_else(|| name.to_string(), |d| type_of(d, defs)),
        };
    }
    if let Some(any) = prop.get("anyOf").and_then(Value::as_array) {
        let kinds: Vec<String> = any
            .iter()
            .filter(|v| v.get("type").and_then(Value::as_str) != Some("null"))
            .map(|v| type_of(v, defs))
            .collect();
        return kinds.join(" or ");
    }
    let names: Vec<String> = ["oneOf", "enum"]
        .iter()
        .filter_map(|k| prop.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|v| v.get("const").or(Some(v)).and_then(Value::as_str).map(|s| format!("`\"{s}\"`")))
        .collect();
    if !names.is_empty() {
        return names.join(", ");
    }
    let ty = |t: &str| match t {
        "integer" => {
            let min = prop.get("minimum").and_then(Value::as_f64).unwrap_or(f64::MIN);
            if min >= 0.0 { "integer ≥ 0".to_string() } else { "integer".to_string() }
        }
        "number" => "number".into(),
        "boolean" => "true or false".into(),
        "string" => "string".into(),
        "array" => match prop.get("items") {
            Some(items) => format!("array of {}", type_of(items, defs)),
            None => "array".into(),
        },
        other => other.to_string(),
    };
    match prop.get("type") {
        Some(Value::String(t)) => ty(t),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").map(ty).collect::<Vec<_>>().join(" or ")
        }
        _ => "see meaning".into(),
    }
}

/// A default as it would be written in the file.
fn toml_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => format!("`\"{s}\"`"),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Object(_) | Value::Array(_) => "see below".into(),
        other => format!("`{other}`"),
    }
}

/// A doc comment on one line, its rustdoc links (`` [`Profile`](super::Profile) ``)
/// kept as their text: they point into the code, not to a page.
fn one_line(s: &str) -> String {
    let mut text = s.split_whitespace().collect::<Vec<_>>().join(" ");
    while let Some(at) = text.find("`](") {
        let Some(len) = text[at + 3..].find(')') else { break };
        let target = &text[at + 3..at + 3 + len];
        if target.contains("://") || target.ends_with(".md") {
            break;
        }
        let open = text[..at].rfind("[`").unwrap_or(at);
        text = format!("{}{}`{}", &text[..open], &text[open + 1..at], &text[at + 3 + len + 1..]);
    }
    text
}

/// Text safe in a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_section_and_some_known_fields_are_in_the_reference() {
        let r = super::markdown();
        for s in
            ["## [protocol]", "## [network]", "## [network.latency]", "## [[classes]]", "## [churn]", "## [workload]"]
        {
            assert!(r.contains(s), "{s}");
        }
        for f in ["| `protocol.k` |", "| `network.unreachable` |", "| `classes.share` |", "| `seed` |"] {
            assert!(r.contains(f), "{f}");
        }
    }
}

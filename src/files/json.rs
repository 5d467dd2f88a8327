//! Reading a small JSON file kadsim wrote (a manifest, a sweep's record)
//! strictly: at most a given size ([`super::bounded::read_small`]), into a
//! typed value whose every field is checked, an error naming the file, the
//! line and column, and the field path (`x.json:3:11: seed: invalid type`).

use super::ReadError;
use super::bounded::{OpenError, SmallError, read_small};
use crate::scenario::clip::{clip, clip_message};
use serde::de::DeserializeOwned;
use std::path::Path;

/// `path` read whole (at most `max` bytes) and parsed as `T`; also returns the text.
pub fn read_json<T: DeserializeOwned>(path: &Path, max: u64) -> Result<(T, String), ReadError> {
    let text = read_small(path, max).map_err(|e| match e {
        SmallError::Open(OpenError::Io(io)) if io.kind() == std::io::ErrorKind::NotFound => {
            ReadError::at(path, None, "not found")
        }
        other => ReadError::small(path, other),
    })?;
    check_object(path, &text)?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { format!("{}: ", clip(&field)) };
        json_error(path, e.inner(), &field)
    })?;
    de.end().map_err(|e| json_error(path, &e, ""))?;
    Ok((value, text))
}

/// Refuses a text that is not a JSON object at its top (serde would read a
/// struct from an array too, and name its first element, not the mistake).
fn check_object(path: &Path, text: &str) -> Result<(), ReadError> {
    let Some((at, c)) = text.char_indices().find(|(_, c)| !c.is_whitespace()) else {
        return Err(ReadError::at(path, None, "empty file: expected a JSON object"));
    };
    let got = match c {
        '{' => return Ok(()),
        '[' => "an array",
        '"' => "a string",
        't' | 'f' => "a boolean",
        'n' => "null",
        '-' | '0'..='9' => "a number",
        _ => "something that is not JSON",
    };
    let line = text[..at].matches('\n').count() as u64 + 1;
    let column = (at - text[..at].rfind('\n').map_or(0, |n| n + 1)) as u64 + 1;
    let mut e = ReadError::at(path, Some(line), format!("expected a JSON object, got {got}"));
    e.column = Some(column);
    Err(e)
}

/// A JSON error of `path` at its line and column, about `field`.
pub fn json_error(path: &Path, e: &serde_json::Error, field: &str) -> ReadError {
    let msg = e.to_string();
    let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m);
    let mut err = ReadError::at(path, Some(e.line() as u64), format!("{field}{}", clip_message(msg)));
    err.column = Some(e.column() as u64);
    err
}

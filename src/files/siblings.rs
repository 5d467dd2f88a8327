//! The names of the sibling directories a replacement of a run directory
//! makes next to it (`.NAME.partial-PID` while staged, `.NAME.old-PID` while
//! replaced; `files::swap`), and whether their process still runs.

use std::path::Path;

/// Whether `name` has the form of a staging or replaced sibling.
pub fn is_sibling_name(name: &str) -> bool {
    sibling_parts(name).is_some()
}

/// Whether `name` is a staging or replaced sibling of a process still
/// running (whose directory may not hold its record of files yet).
pub fn is_live_sibling(name: &str) -> bool {
    sibling_parts(name).is_some_and(|(_, _, pid)| !gone(pid))
}

/// (NAME, kind, PID) of `.NAME.partial-PID` or `.NAME.old-PID`.
pub(super) fn sibling_parts(name: &str) -> Option<(&str, &str, &str)> {
    let rest = name.strip_prefix('.')?;
    for kind in ["partial", "old"] {
        let marker = format!(".{kind}-");
        if let Some(at) = rest.rfind(&marker) {
            let (base, pid) = (&rest[..at], &rest[at + marker.len()..]);
            if !base.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
                return Some((base, if kind == "partial" { "partial" } else { "old" }, pid));
            }
        }
    }
    None
}

/// The process `pid` is gone (Linux: no `/proc/PID`; elsewhere nothing is
/// assumed gone).
pub(super) fn gone(pid: &str) -> bool {
    let proc = Path::new("/proc");
    proc.is_dir() && pid.parse::<u32>().is_ok() && !proc.join(pid).exists()
}

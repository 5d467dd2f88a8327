//! Names a user types: short parameter names (`k` for `protocol.k`), shared by
//! `--set` and `kadsim sweep --param`, and the run name, which becomes a
//! directory under `results/`.

/// The top-level keys of a scenario file: its fields and its sections. A
/// one-word name among them is used as it is; any other one-word name is a
/// protocol field.
pub const TOP_LEVEL: [&str; 15] = [
    "profile",
    "name",
    "seed",
    "nodes",
    "duration",
    "warmup",
    "sample_interval",
    "protocol",
    "bootstrap",
    "network",
    "churn",
    "workload",
    "output",
    "adversary",
    "classes",
];

/// The dotted field path a parameter name stands for: `k` → `protocol.k`,
/// `nodes` → `nodes`, `network.loss.rate` unchanged.
pub fn field_path(name: &str) -> String {
    let name = name.trim();
    if name.contains('.') || TOP_LEVEL.contains(&name) { name.to_string() } else { format!("protocol.{name}") }
}

/// Longest run name, in bytes.
pub const MAX_NAME_BYTES: usize = 100;

/// Checks that `name` can be a directory under `results/`: one plain path
/// component (no `/` or `\`, not `.` or `..`), 1 to [`MAX_NAME_BYTES`] bytes,
/// no control characters.
pub fn check_run_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control);
    if plain {
        Ok(())
    } else {
        Err(format!(
            "expected a plain file name (1 to {MAX_NAME_BYTES} bytes, no / or \\ or control characters, not . or ..), got {name:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_map_to_protocol_fields() {
        assert_eq!(field_path("k"), "protocol.k");
        assert_eq!(field_path("alpha"), "protocol.alpha");
        assert_eq!(field_path("nodes"), "nodes");
        assert_eq!(field_path("sample_interval"), "sample_interval");
        assert_eq!(field_path("network.loss.rate"), "network.loss.rate");
        assert_eq!(field_path("churn"), "churn");
        assert_eq!(field_path("adversary.fraction"), "adversary.fraction");
        assert_eq!(field_path("disjoint_paths"), "protocol.disjoint_paths");
    }

    #[test]
    fn run_names_are_plain_file_names() {
        for good in ["churn", "run-1.k8", "a b", "é"] {
            assert_eq!(check_run_name(good), Ok(()), "{good}");
        }
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        for bad in ["", ".", "..", "/abs/path", "../..", "a/b", "a\\b", "tab\there", long.as_str()] {
            assert!(check_run_name(bad).is_err(), "{bad:?}");
        }
    }
}

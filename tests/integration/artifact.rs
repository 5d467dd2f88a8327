//! kadsim as a citable, licensed artifact (issue 25): the licence files and
//! the manifest's licence field agree, CITATION.cff is Citation File Format
//! 1.2.0 with the fields it requires and the crate's version, the changelog
//! has an entry for the version, and `kadsim --version` names the commit.

use std::path::Path;

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_licences_are_the_rust_convention_and_both_texts_are_there() {
    let cargo = read("Cargo.toml");
    assert!(cargo.contains("license = \"MIT OR Apache-2.0\""));
    assert!(read("LICENSE-MIT").contains("Permission is hereby granted, free of charge"));
    let apache = read("LICENSE-APACHE");
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.trim_end().ends_with("END OF TERMS AND CONDITIONS"));
}

/// The top-level `key: value` pairs of a CFF file (YAML block mappings, as
/// CITATION.cff writes them), values unquoted.
fn top_level(cff: &str) -> Vec<(String, String)> {
    cff.lines()
        .filter(|l| !l.starts_with([' ', '#', '-']) && !l.trim().is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

#[test]
fn citation_cff_has_what_the_format_requires_and_the_crates_version() {
    let cff = read("CITATION.cff");
    let keys = top_level(&cff);
    let get = |k: &str| keys.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    // CFF 1.2.0's required keys.
    assert_eq!(get("cff-version").as_deref(), Some("1.2.0"));
    for k in ["message", "title", "authors"] {
        assert!(get(k).is_some(), "CITATION.cff lacks {k}");
    }
    assert!(cff.contains("authors:\n  - name: "), "authors is a list of persons or entities");
    assert_eq!(get("version").as_deref(), Some(env!("CARGO_PKG_VERSION")), "the crate's version");
    let date = get("date-released").expect("date-released");
    let ok = date.len() == 10
        && date.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    assert!(ok, "date-released is YYYY-MM-DD: {date}");
    assert!(cff.contains("license:\n  - MIT\n  - Apache-2.0\n"), "SPDX identifiers, as Cargo.toml's");
    // No tab: YAML forbids them in indentation.
    assert!(!cff.contains('\t'));
}

#[test]
fn the_changelog_has_the_version_and_the_version_flag_names_the_commit() {
    let log = read("CHANGELOG.md");
    assert!(log.contains(&format!("## {} - ", env!("CARGO_PKG_VERSION"))), "a changelog entry for the version");
    assert!(log.contains("## Unreleased"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kadsim")).arg("--version").output().expect("kadsim runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let want = format!("kadsim {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&want), "{text}");
    let commit = text.trim().trim_start_matches(&want).trim_end_matches(')');
    let hex = commit.trim_end_matches("-dirty");
    assert!(commit == "unknown" || (hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit())), "{commit}");
}

#[test]
fn the_committed_scenario_reference_is_what_the_binary_generates() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kadsim"))
        .args(["validate", "--reference"])
        .output()
        .expect("kadsim runs");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).expect("UTF-8");
    let committed = read("docs/scenario-reference.md");
    if generated != committed {
        let line = generated
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| generated.lines().count().min(committed.lines().count()) + 1, |i| i + 1);
        panic!(
            "docs/scenario-reference.md differs from `kadsim validate --reference` from line {line}: a scenario field \
             was added or documented anew; regenerate it with `cargo run --release -- validate --reference > docs/scenario-reference.md`"
        );
    }
}

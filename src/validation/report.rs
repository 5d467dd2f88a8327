//! The suite's outputs: the table printed as each section finishes, and
//! `validation.md`, the report with every check, each section's derivation
//! and its charts.

use super::check::{Check, Section};
use crate::report::chart::Style;
use std::fmt::Write as _;

/// The terminal table of `checks`: check, expected, measured, tolerance, pass.
pub fn table(checks: &[Check]) -> String {
    let rows: Vec<[String; 5]> = checks
        .iter()
        .map(|c| {
            [
                c.name.clone(),
                c.expected_text(),
                c.measured_text(),
                c.tolerance_text(),
                if c.pass() { "pass".into() } else { "FAIL".into() },
            ]
        })
        .collect();
    let head = ["check", "expected", "measured", "tolerance", "result"];
    let mut width = head.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::from(" ");
        for (i, (cell, w)) in cells.iter().zip(width).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            if i == 0 {
                let _ = write!(s, " {cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(s, "  {}{cell}", " ".repeat(pad));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(&head.map(String::from)) + "\n";
    for r in &rows {
        out += &line(r);
        out.push('\n');
    }
    out
}

/// The Markdown table of `checks`.
fn markdown_table(checks: &[Check]) -> String {
    let mut s =
        String::from("| check | what | expected | measured | tolerance | result |\n|---|---|---|---|---|---|\n");
    for c in checks {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} |",
            c.name,
            c.what,
            c.expected_text(),
            c.measured_text(),
            c.tolerance_text(),
            if c.pass() { "pass" } else { "**FAIL**" }
        );
    }
    s
}

/// What produced a report.
pub struct Provenance {
    /// The command line.
    pub command: String,
    /// kadsim's version and commit.
    pub version: String,
    /// When it finished (UTC).
    pub finished_at: String,
    /// Wall time in seconds.
    pub wall_s: f64,
}

/// `validation.md`: a summary, every check, then each section with its
/// derivation, table and charts (in `charts/`, in the style's formats).
pub fn markdown(sections: &[Section], p: &Provenance, style: &Style) -> String {
    let all: Vec<&Check> = sections.iter().flat_map(|s| &s.checks).collect();
    let failed = all.iter().filter(|c| !c.pass()).count();
    let mut s = String::from("# kadsim validation report\n\n");
    let _ = writeln!(
        s,
        "Produced by `{}` (kadsim {}), finished {} after {:.0} s. **{} of {} checks passed{}.**\n",
        p.command,
        p.version,
        p.finished_at,
        p.wall_s,
        all.len() - failed,
        all.len(),
        if failed == 0 { String::new() } else { format!("; {failed} failed") }
    );
    s.push_str(
        "Each check compares a value kadsim measured with an expectation worked out independently of the \
         protocol core (`src/kad`): a reference model of its own, an analytic result, or the direction of an \
         effect tested across replicas; the tolerance says how close counts as a pass and why. The sections \
         below give each derivation. The code of each check is one module of `src/validation/`.\n\n",
    );
    s.push_str("## Contents\n\n");
    for sec in sections {
        let anchor: String = sec
            .title
            .to_lowercase()
            .chars()
            .filter_map(|c| {
                if c.is_alphanumeric() {
                    Some(c)
                } else if c == ' ' || c == '-' {
                    Some('-')
                } else {
                    None
                }
            })
            .collect();
        let passed = sec.checks.iter().filter(|c| c.pass()).count();
        let _ = writeln!(s, "- [{}](#{anchor}): {passed} of {} checks passed", sec.title, sec.checks.len());
    }
    s.push('\n');
    for sec in sections {
        let _ = writeln!(s, "## {}\n\n{}\n", sec.title, sec.text.trim_end());
        if !sec.checks.is_empty() {
            s.push_str(&markdown_table(&sec.checks));
            s.push('\n');
        }
        for (stem, chart) in &sec.charts {
            let shown = style.formats.iter().map(|f| f.extension()).find(|e| *e != "pdf");
            match shown {
                Some(ext) => {
                    let _ = writeln!(s, "![{}](charts/{stem}.{ext})\n", chart.title);
                }
                None => {
                    let _ = writeln!(s, "- [{}](charts/{stem}.pdf)\n", chart.title);
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::check::Tolerance;

    #[test]
    fn the_table_aligns_columns_and_marks_failures() {
        let c = |name: &str, m| Check {
            name: name.into(),
            what: "w".into(),
            expected: 3.0,
            measured: m,
            tolerance: Tolerance::Abs(0.03),
        };
        let t = table(&[c("hops.a", 3.01), c("hops.longer_name", 3.5)]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].ends_with("pass") && lines[2].ends_with("FAIL"), "{t}");
        assert_eq!(lines[1].chars().count(), lines[2].chars().count(), "columns padded alike:\n{t}");
        let sec = Section { title: "Hops".into(), text: "How.".into(), checks: vec![c("x", 3.5)], charts: vec![] };
        let p = Provenance {
            command: "kadsim validation".into(),
            version: "0.1.0".into(),
            finished_at: "now".into(),
            wall_s: 1.0,
        };
        let md = markdown(&[sec], &p, &Style::default());
        assert!(
            md.contains("**0 of 1 checks passed; 1 failed.**")
                && md.contains("| `x` | w | 3 | 3.5 | ± 0.03 | **FAIL** |"),
            "{md}"
        );
    }
}

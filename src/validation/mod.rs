//! The validation suite (`kadsim validation`): kadsim's measured values
//! against independent expectations, each with a stated tolerance — an
//! independent reference model of iterative lookups over ideal tables
//! (`model`, which never calls `src/kad`), analytic results (`analytic`),
//! monotone effects across replicas (`monotone`) and the gap between joined
//! and ideal networks (`gap`). Each module returns its report section.

pub mod analytic;
pub mod analytic_checks;
pub mod check;
pub mod gap;
pub mod model;
pub mod model_checks;
pub mod monotone;
pub mod report;

use check::{Lab, Section};

/// A part of the suite: its checks run in a lab, as a report section.
type Part = fn(&Lab) -> Result<Section, String>;

/// The parts of the suite by name, in report order.
pub const PARTS: [(&str, Part); 4] = [
    ("model", model_checks::checks),
    ("analytic", analytic_checks::checks),
    ("monotone", monotone::checks),
    ("gap", gap::checks),
];

/// The parts named in `only` (comma-separated names of [`PARTS`]), or all;
/// an unknown name is refused, listing the names.
pub fn chosen(only: Option<&str>) -> Result<Vec<(&'static str, Part)>, String> {
    let Some(list) = only else {
        return Ok(PARTS.to_vec());
    };
    let names: Vec<&str> = PARTS.iter().map(|p| p.0).collect();
    let mut out = Vec::new();
    for want in list.split(',').map(str::trim) {
        match PARTS.iter().find(|p| p.0 == want) {
            Some(p) if !out.iter().any(|q: &(&str, Part)| q.0 == p.0) => out.push(*p),
            Some(_) => return Err(format!("--only {list}: {want} given twice")),
            None => return Err(format!("--only {list}: no part {want:?} (parts: {})", names.join(", "))),
        }
    }
    out.sort_by_key(|p| names.iter().position(|n| *n == p.0));
    Ok(out)
}

/// Runs `parts` in order, handing each section to `done` as it finishes; an
/// error names the run or file at fault.
pub fn suite(lab: &Lab, parts: &[(&str, Part)], done: &mut dyn FnMut(&Section)) -> Result<Vec<Section>, String> {
    let mut out = Vec::new();
    for (_, part) in parts {
        let s = part(lab)?;
        done(&s);
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_chooses_parts_in_report_order_and_refuses_unknown_names() {
        let names = |v: Vec<(&'static str, Part)>| v.into_iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(names(chosen(None).unwrap()), PARTS.map(|p| p.0));
        assert_eq!(names(chosen(Some("gap, monotone")).unwrap()), ["monotone", "gap"]);
        assert!(chosen(Some("hops")).unwrap_err().contains("no part \"hops\""));
        assert!(chosen(Some("gap,gap")).is_err());
    }
}

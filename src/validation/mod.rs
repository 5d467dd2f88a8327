//! The validation suite (`kadsim validation`): kadsim's measured values
//! against independent expectations, each with a stated tolerance — an
//! independent reference model of iterative lookups over ideal tables
//! (`model`, which never calls `src/kad`), analytic results (`analytic`),
//! monotone effects across replicas (`monotone`) and the gap between joined
//! and ideal networks (`gap`). Each module returns its report section.

pub mod check;
pub mod gap;
pub mod monotone;
pub mod report;

use check::{Lab, Section};

/// A part of the suite: its checks run in a lab, as a report section.
type Part = fn(&Lab) -> Result<Section, String>;

/// Runs the suite's sections in order, handing each to `done` as it
/// finishes; an error names the run or file at fault.
pub fn suite(lab: &Lab, done: &mut dyn FnMut(&Section)) -> Result<Vec<Section>, String> {
    let parts: [Part; 2] = [monotone::checks, gap::checks];
    let mut out = Vec::new();
    for part in parts {
        let s = part(lab)?;
        done(&s);
        out.push(s);
    }
    Ok(out)
}

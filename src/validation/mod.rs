//! The validation suite (`kadsim validation`): kadsim's measured values
//! against independent expectations, each with a stated tolerance — an
//! independent reference model of iterative lookups over ideal tables
//! (`model`, which never calls `src/kad`), analytic results (`analytic`),
//! monotone effects across replicas (`monotone`) and the gap between joined
//! and ideal networks (`gap`). Each module returns its report section.

pub mod analytic;
pub mod analytic_checks;
pub mod check;

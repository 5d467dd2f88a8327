//! Reports: charts, comparisons between runs and replica sets, parameter
//! sweeps and Markdown reports, all read back from the files a run wrote
//! (DESIGN.md §1, §5).

pub mod between;
pub mod chart;
pub mod churn_charts;
pub mod compare;
pub mod format;
pub mod gate;
pub mod manifest;
pub mod markdown;
pub mod ops;
pub mod overlay_figure;
pub mod plot;
pub mod provenance;
pub mod replica_charts;
pub mod results;
pub mod row;
pub mod run_series;
pub mod runset;
pub mod settings;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod trace;
pub mod verify;
pub mod within;

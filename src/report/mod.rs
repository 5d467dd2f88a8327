//! Reports: charts, comparisons between runs, parameter sweeps and Markdown
//! reports, all read back from the files a run wrote (DESIGN.md §1, §5).

pub mod chart;
pub mod compare;
pub mod markdown;
pub mod plot;
pub mod results;
pub mod stats;
pub mod sweep;

//! Metrics: the records a run produces, their summary statistics, and the CSV
//! and JSON files they are written to (DESIGN.md §4, §5).

pub mod records;
pub mod stats;
pub mod trace;
pub mod writer;

pub use records::{BucketRow, NodeRow, OpRecord, SampleRow};

//! The discrete-event simulator: one seeded event queue driving thousands of
//! `kad::Node`s over a simulated UDP transport (DESIGN.md §1, §3).

pub mod addr;
pub mod adversary;
pub mod bootstrap;
pub mod calendar;
pub mod churn;
pub mod classes;
pub mod fault;
pub mod latency;
pub mod loss;
pub mod matrix;
pub mod nat;
pub mod oracle;
pub mod parallel;
pub mod partition;
pub mod queue;
pub mod reach;
pub mod recorder;
pub mod seeds;
pub mod shard;
pub mod trace;
pub mod windows;
pub mod workload;
pub mod world;

//! Integration tests: whole networks of `kad::Node`s driven by a small
//! deterministic event loop. One binary, one file per topic.

mod adversary;
mod artifact;
mod bin;
mod churn_metrics;
mod classes;
mod cli;
mod data_safety;
mod docs_commands;
mod docs_run;
mod engine;
mod figures;
mod hardening_core;
mod hardening_net;
mod hostile;
mod house;
mod latency_matrix;
mod net;
mod network;
mod profiles;
mod reachability;
mod realistic;
mod regression;
mod replica_sets;
mod report;
mod runs;
mod scenario_semantics;
mod strict_readers;
mod studies;
mod sweeps;
mod testnet;
mod tracing;
mod traffic;
mod validation;

//! kadsim: a deterministic discrete-event simulator of Kademlia DHT networks.
//!
//! The protocol lives in [`kad`], a sans-IO state machine. A driver owns time
//! and transport and runs this loop for each node:
//!
//! ```
//! use kadsim::kad::{Command, Config, Input, Node, NodeId, Outbox, Output, Time};
//! use std::sync::Arc;
//!
//! let cfg = Arc::new(Config::default());
//! let mut node: Node<u32> = Node::new(NodeId::hash_of(b"me"), cfg, 7, Time::ZERO).unwrap();
//! // One outbox serves every node a driver runs: outputs, and pooled buffers.
//! let mut out = Outbox::new();
//! node.start(Time::ZERO, Command::Ping(1), &mut out);
//! for o in std::mem::take(&mut *out) {
//!     match o {
//!         // `traffic`: lookup or maintenance, for drivers that count them (`kad::traffic`).
//!         Output::Send { to, msg, traffic } => { /* deliver msg to `to`, later: Input::Datagram */ }
//!         Output::SetTimer { at, timer } => { /* at `at`: node.handle(at, Input::Timer(timer), ..) */ }
//!         Output::Done(report) => out.recycle_report(report), // read it, then hand its buffers back
//!     }
//! }
//! ```
//!
//! The simulator ([`sim`]) runs many such nodes in shards over worker threads,
//! in windows of `network.min_latency` (see `sim::world`).

pub mod cli;
pub mod files;
pub mod kad;
pub mod metrics;
pub mod net;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod validation;
pub mod wire;

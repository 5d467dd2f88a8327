//! kadsim: a deterministic discrete-event simulator of Kademlia DHT networks.
//!
//! The protocol lives in [`kad`], a sans-IO state machine. A driver owns time
//! and transport and runs this loop for each node:
//!
//! ```
//! use kadsim::kad::{Command, Config, Input, Node, NodeId, Output, Time};
//! use std::sync::Arc;
//!
//! let cfg = Arc::new(Config::default());
//! let mut node: Node<u32> = Node::new(NodeId::hash_of(b"me"), cfg, 7, Time::ZERO).unwrap();
//! let mut out = Vec::new();
//! node.start(Time::ZERO, Command::Ping(1), &mut out);
//! for o in out.drain(..) {
//!     match o {
//!         Output::Send { to, msg } => { /* deliver msg to `to`, later: Input::Datagram */ }
//!         Output::SetTimer { at, timer } => { /* at `at`: node.handle(at, Input::Timer(timer), ..) */ }
//!         Output::Done(report) => { /* an operation finished */ }
//!     }
//! }
//! ```

pub mod cli;
pub mod kad;
pub mod metrics;
pub mod net;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod wire;

//! The real-network driver: the same protocol core the simulator runs
//! ([`crate::kad`]), on a UDP socket, speaking the BitTorrent Mainline DHT's
//! KRPC (BEP 5 `ping` and `find_node`, BEP 44 immutable `get` and `put` with
//! write tokens, and kadsim's string-key extension; see [`crate::wire::krpc`]).
//!
//! - [`Endpoint`]: the sans-IO KRPC endpoint (bytes and time in, bytes out).
//! - [`Node`]: a node on a socket with a blocking, thread-safe API.
//! - [`repl`]: the prompt of `kadsim node`.

pub mod endpoint;
pub mod node;
pub mod repl;

pub use endpoint::{Endpoint, NetStats, ReplyLimits};
pub use node::{NetError, Node, NodeConfig, Stored};

// A real node keeps whole contacts (full ID and socket address) in its table.
crate::full_contact_address!(std::net::SocketAddr);

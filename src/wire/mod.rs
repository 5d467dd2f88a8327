//! The wire format: BitTorrent Mainline DHT KRPC messages, bencoded over UDP
//! (BEP 5, BEP 44), with kadsim's string-key STORE as an extension.
//!
//! The simulator never encodes a message; it charges each one the number of
//! bytes its encoding takes, computed here without building it.

pub mod bencode;
mod compact;
pub mod krpc;
pub mod libp2p_size;
mod size;

pub use compact::{ADDR_V4, PEER_LEN};
pub use size::{Sizing, TOKEN_LEN, UDP_IPV4_OVERHEAD, encoded_len, encoded_len_as};

//! The lengths of BEP 5's compact encodings ("Contact information for peers
//! is encoded as a 6-byte string"; "for nodes is encoded as a 26-byte
//! string"), which both the KRPC and the libp2p message sizes count.

/// Bytes of one contact in compact node info (BEP 5): 20-byte ID, 4-byte IPv4, 2-byte port.
pub const ADDR_V4: usize = 26;
/// Bytes of a peer in compact IP/port info (BEP 5): 4-byte IPv4, 2-byte port.
pub const PEER_LEN: usize = 6;

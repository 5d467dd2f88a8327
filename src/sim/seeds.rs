//! Independent random streams derived from the one master seed (DESIGN.md §3):
//! the network, churn, workload, bootstrap, each node's RNG and each node's ID
//! draw from their own stream, so changing one part of a scenario does not
//! reshuffle the others. A latency matrix places nodes on its hosts from the
//! `latency-hosts` stream.

use super::addr::{id_from_top, top_of};
use crate::kad::{IdWidth, NodeId};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sha1::{Digest, Sha1};

/// A 64-bit seed for stream `name` number `index`, derived from `master` by SHA-1.
pub fn derive(master: u64, name: &str, index: u64) -> u64 {
    let mut h = Sha1::new();
    h.update(b"kadsim-stream\0");
    h.update(master.to_le_bytes());
    h.update(name.as_bytes());
    h.update([0]);
    h.update(index.to_le_bytes());
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("SHA-1 digests are 20 bytes"))
}

/// The ChaCha stream `name`.
pub fn stream(master: u64, name: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive(master, name, 0))
}

/// The ID of `node` in its `incarnation` (0 for its first session), at the
/// `attempt`-th draw (0 unless an earlier draw repeated the top 64 bits of
/// another ID): a 48-bit prefix from SHA-1, completed by [`id_from_top`] to
/// an ID of `width`.
pub fn node_id(master: u64, node: u32, incarnation: u32, attempt: u32, width: IdWidth) -> NodeId {
    let mut h = Sha1::new();
    h.update(b"kadsim-node-id\0");
    h.update(master.to_le_bytes());
    h.update(node.to_le_bytes());
    h.update(incarnation.to_le_bytes());
    if attempt > 0 {
        h.update(attempt.to_le_bytes());
    }
    let d = h.finalize();
    let top = u64::from_be_bytes(d[..8].try_into().expect("SHA-1 digests are 20 bytes"));
    id_from_top(top_of(top, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_name_index_and_seed() {
        assert_ne!(derive(1, "net", 0), derive(1, "churn", 0));
        assert_ne!(derive(1, "node", 0), derive(1, "node", 1));
        assert_ne!(derive(1, "net", 0), derive(2, "net", 0));
        assert_eq!(derive(7, "net", 3), derive(7, "net", 3));
        let w = IdWidth::Bits160;
        assert_ne!(node_id(1, 5, 0, 0, w), node_id(1, 5, 1, 0, w));
        assert_ne!(node_id(1, 5, 0, 0, w), node_id(1, 5, 0, 1, w));
        assert_eq!(node_id(1, 5, 0, 0, w).0[..6], node_id(1, 5, 0, 0, IdWidth::Bits256).0[..6]);
    }
}

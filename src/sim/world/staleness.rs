//! What the churn study measures of stale state (docs/outputs.md "Metric
//! definitions"): the routing-table contacts that point at nodes gone down,
//! counted at each time-series sample, and the peers a get_peers returned
//! whose node is down when the get ends. Both only read the world: no event,
//! no draw, no message changes.

use super::{Coordinator, SimAddr, Status};
use crate::kad::Address;
use crate::sim::parallel::Shared;
use crate::sim::recorder::Tables;

/// BEP 5's compact peer info of simulated node `node`: a 4-byte IPv4 address
/// (10.0.0.0/8 plus the index) and BitTorrent's port 6881.
pub(super) fn compact_peer(node: u32) -> crate::kad::Value {
    let ip = PEER_NET.wrapping_add(node);
    let mut b = [0u8; 6];
    b[..4].copy_from_slice(&ip.to_be_bytes());
    b[4..].copy_from_slice(&6881u16.to_be_bytes());
    crate::kad::Value::from(b.to_vec())
}

/// The network simulated peers' addresses are in: 10.0.0.0/8.
const PEER_NET: u32 = 0x0A00_0000;

/// The node whose compact peer info is `peer` ([`compact_peer`]), if any.
fn peer_node(peer: &[u8]) -> Option<u32> {
    let ip: [u8; 4] = peer.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(ip).wrapping_sub(PEER_NET))
}

/// A top word no simulated ID has (their bits 48 to 62 are zero,
/// `crate::sim::addr`): the entry of a node that is down in [`live_tops`].
const DOWN: u64 = u64::MAX;

/// The top word of each node's ID if it is up, else [`DOWN`]: 8 bytes a
/// node, so that the pass over every contact reads a third of what
/// [`Status`] would make it read.
fn live_tops(status: &[Status]) -> Vec<u64> {
    status.iter().map(|st| if st.alive { st.top } else { DOWN }).collect()
}

/// Whether the contact in `slot` leads to a node up under the contact's ID:
/// its node slot is up and has that ID (not gone down, nor come back under
/// a new one with `rejoin_id = "new"`).
#[inline]
fn live(tops: &[u64], slot: &<SimAddr as Address>::Slot) -> bool {
    tops.get(SimAddr::addr(slot).node() as usize) == Some(&SimAddr::top(slot))
}

impl Coordinator {
    /// The nodes up now and what the time series says of their tables: mean
    /// size, stored pairs, and the stale share — over the nodes up with at
    /// least one contact in their buckets, the mean of (contacts whose node
    /// is not up under their ID) / (contacts). Nodes are read in index
    /// order, so that the sum of shares, and the row, is the same whatever
    /// the thread count.
    pub(super) fn tables(&self, shared: &Shared) -> (u32, Tables) {
        let ctx = &shared.ctx;
        let guards: Vec<_> = shared.shards.iter().map(|s| s.lock().expect("no worker panicked")).collect();
        let (mut up, mut rt, mut stored) = (0u64, 0u64, 0u64);
        let (mut with_contacts, mut shares) = (0u64, 0.0f64);
        let tops = live_tops(&self.status);
        for i in 0..self.status.len() as u32 {
            let h = guards[(i % ctx.shards) as usize].host(ctx, i);
            if !h.alive {
                continue;
            }
            up += 1;
            let table = h.node.routing_table();
            let (mut n, mut stale) = (0u32, 0u32);
            for slot in table.slots() {
                n += 1;
                stale += u32::from(!live(&tops, slot));
            }
            rt += u64::from(n);
            stored += h.node.store().len() as u64;
            if n > 0 {
                with_contacts += 1;
                shares += f64::from(stale) / f64::from(n);
            }
        }
        let tables = Tables {
            rt_size_mean: if up == 0 { 0.0 } else { rt as f64 / up as f64 },
            stored_pairs: stored,
            stale_contacts_share: (with_contacts > 0).then(|| shares / with_contacts as f64),
        };
        (up as u32, tables)
    }

    /// Of the peers in `value` (a get_peers reply: 6-byte compact peer
    /// infos), how many are of nodes down now.
    pub(super) fn stale_peers(&self, value: &[u8]) -> u32 {
        let down = |p: &[u8]| peer_node(p).and_then(|n| self.status.get(n as usize)).is_none_or(|st| !st.alive);
        value.chunks(crate::wire::PEER_LEN).filter(|p| down(p)).count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_names_its_node_back() {
        for node in [0u32, 1, 255, 70_000, (1 << 27) - 1] {
            assert_eq!(peer_node(&compact_peer(node)), Some(node));
        }
        assert_eq!(peer_node(&[10, 0]), None, "cut short");
    }
}

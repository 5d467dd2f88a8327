//! The answered-only rule's confirmation of newcomers (BEP 5's table of
//! known good nodes, [`Config::answered_only`]): a contact that entered the
//! routing table from a request of its own is of unknown status, never
//! handed to other nodes, until it answers a request of this node. Besides
//! this node's own lookups, which may try it, a PING asks it to, once,
//! after a delay drawn uniformly from 60 to 180 s: the period of the table
//! maintenance of jech/dht (Transmission's DHT: `confirm_nodes_time = now +
//! 60 + random() % 120`), which hands out only "known-good" nodes too
//! (`buffer_closest_nodes` keeps those that replied). The delay matters: a
//! node behind a NAT answers only while the pinhole its own request opened
//! lasts (`docs/reachability.md`), and a confirmation sent at once would
//! pass through it.

use super::{Address, Body, Contact, Node, Outbox, Purpose, Time, Timer};
use rand_core::RngCore;
use std::time::Duration;

/// Newcomers to PING, each with the time it is due.
pub(super) type Due<A> = Vec<(Time, Contact<A>)>;

/// The least delay before a newcomer is PINGed.
const CONFIRM_MIN: Duration = Duration::from_secs(60);
/// The spread of the delay above [`CONFIRM_MIN`].
const CONFIRM_SPREAD_S: u64 = 120;

impl<A: Address> Node<A> {
    /// A contact entered the routing table without having answered: under
    /// the answered-only rule, PING it once its delay has passed.
    pub(super) fn schedule_confirm(&mut self, now: Time, c: Contact<A>, out: &mut Outbox<A>) {
        if !self.cfg.answered_only {
            return;
        }
        let spread = self.rng.with(|r| r.next_u64() % (CONFIRM_SPREAD_S * 1_000_000));
        let at = Time(now.plus(CONFIRM_MIN).0 + spread);
        self.confirm.get_or_insert_with(Default::default).push((at, c));
        self.arm(Timer::Rpc, at, out);
    }

    /// PINGs the newcomers whose delay has passed and that are still held
    /// without having answered.
    pub(super) fn confirm_due(&mut self, now: Time, out: &mut Outbox<A>) {
        let Some(list) = self.confirm.as_mut() else {
            return;
        };
        let mut due = Vec::new();
        list.retain(|&(at, c)| {
            if at <= now {
                due.push(c);
            }
            at > now
        });
        if list.is_empty() {
            self.confirm = None;
        }
        for c in due {
            if self.table.answered(&c.id) == Some(false) && self.table.contains_at(&c.id, c.addr) {
                self.stats.confirmation_pings += 1;
                self.send_request(now, c.addr, Some(c.id), Body::Ping, Purpose::Confirm, out);
            }
        }
    }

    /// When the next confirmation PING is due.
    pub(super) fn next_confirm(&self) -> Option<Time> {
        self.confirm.as_ref().and_then(|l| l.iter().map(|&(at, _)| at).min())
    }
}

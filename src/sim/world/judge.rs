//! Judging a finished operation and recording it (DESIGN.md §4): success and
//! found fraction against the oracle's true closest nodes, when the true
//! closest node answered (`closest_found_us`), the adversary's flags
//! (attacked, eclipsed, wrong value), the peers a get_peers returned and how
//! many of them are down; a join that failed is retried, one that succeeded
//! makes its node live.

use super::{Coordinator, Global, JOIN_RETRY_US, OpKind, OpRecord, OpReport, SimAddr};
use crate::kad::Address;

impl Coordinator {
    /// Records an operation that `origin`, in its incarnation `inc`, finished,
    /// and hands the report back.
    pub(super) fn done(&mut self, origin: u32, inc: u32, r: OpReport<SimAddr>) -> OpReport<SimAddr> {
        if r.kind == OpKind::Join {
            let st = self.status[origin as usize];
            if !r.success {
                let at = r.finished.0 + JOIN_RETRY_US;
                self.global.push(at, Global::RetryJoin { node: origin, inc });
            } else if st.alive && st.inc == inc {
                // Not when the node left in the window that saw it join.
                self.status[origin as usize].joined = true;
                self.now_live(origin);
            }
        }
        if r.kind == OpKind::Put && r.success {
            self.workload.stored(&r.target);
        }
        let user = matches!(r.kind, OpKind::FindNode | OpKind::Get | OpKind::Put);
        if r.started.0 < self.sc.warmup.0 || !(user || self.sc.output.maintenance_ops) {
            return r;
        }
        let k = self.sc.protocol.k;
        let adversary = !self.malicious.is_empty() || self.sc.adversary.enabled();
        let (mut success, found_fraction) = match r.kind {
            OpKind::FindNode | OpKind::Put | OpKind::Refresh | OpKind::Republish | OpKind::Join => {
                self.oracle.closest(&r.target, k, Some(origin), &mut self.scratch);
                let truth = &self.scratch;
                let found =
                    r.closest.iter().map(SimAddr::unpack).filter(|c| truth.iter().any(|(id, _)| *id == c.id)).count();
                let denom = truth.len();
                let fraction = if denom == 0 { 1.0 } else { found as f64 / denom as f64 };
                let success = match r.kind {
                    OpKind::Put => r.success,
                    _ => match (r.closest.first().map(SimAddr::unpack), truth.first()) {
                        (Some(c), Some((id, _))) => c.id == *id,
                        _ => false,
                    },
                };
                (success, Some(fraction))
            }
            _ => {
                // A get's `closest_found` needs the true closest node, the
                // adversary's flags below the true k closest.
                if adversary || r.nearest.is_some() {
                    self.oracle.closest(&r.target, if adversary { k } else { 1 }, Some(origin), &mut self.scratch);
                }
                (r.success, None)
            }
        };
        // When the nearest node that answered is the true closest live node
        // (as `success` judges a node lookup): when it answered, its depth.
        let closest_found =
            r.nearest.filter(|_| match (r.closest.first().map(SimAddr::unpack), self.scratch.first()) {
                (Some(c), Some((id, _))) => c.id == *id,
                _ => false,
            });
        let (mut attacked, mut eclipsed, mut wrong_value) = (None, None, None);
        if adversary {
            let bad = |node: u32| self.malicious.get(node as usize).copied().unwrap_or(false);
            attacked = Some(self.scratch.iter().any(|(_, n)| bad(*n)));
            eclipsed = Some(!r.closest.is_empty() && r.closest.iter().all(|c| bad(SimAddr::addr(c).node())));
            if r.kind == OpKind::Get {
                let forged = r.value.as_deref().is_some_and(crate::kad::behaviour::is_forged);
                wrong_value = Some(forged);
                // A forged value is no success: the get did not return the value.
                success &= !forged;
            }
        }
        let returned = r.value.as_deref().filter(|_| success);
        let peer_get = r.kind == OpKind::Get && self.sc.workload.records.peer_sets();
        let peers = peer_get.then(|| returned.map_or(0, |v| v.len().div_ceil(crate::wire::PEER_LEN) as u32));
        let stale_peers = peer_get.then(|| returned.map_or(0, |v| self.stale_peers(v)));
        self.rec.op(OpRecord {
            start_us: r.started.0,
            end_us: r.finished.0,
            kind: r.kind.as_str(),
            origin,
            target: r.target,
            hops: r.hops,
            queried: r.queried,
            responses: r.responses,
            timeouts: r.timeouts,
            latency_us: r.finished.0 - r.started.0,
            success,
            found_fraction,
            replicas: r.replicas,
            deadline_hit: r.deadline_hit,
            attacked,
            eclipsed,
            wrong_value,
            peers,
            op: self.rec.ops.len() as u64 + 1,
            closest_found_us: closest_found.map(|n| n.at.0 - r.started.0),
            closest_found_hops: closest_found.map(|n| n.depth),
            stale_peers,
        });
        if let Some(t) = &mut self.tracer {
            let op = self.rec.ops.len() as u64;
            t.op(op, origin, &r);
            if !r.rpcs.is_empty() {
                // The true k closest, as judged above; a get without an
                // adversary looked up one at most (or none).
                if r.kind == OpKind::Get && !adversary {
                    self.oracle.closest(&r.target, k, Some(origin), &mut self.scratch);
                }
                t.closest(op, &r, &self.scratch);
            }
        }
        r
    }
}

//! What the world reports from the nodes' state at the end of a run: the
//! rows of `nodes.csv` and `buckets.csv`, the adversary's share of the
//! routing tables, and the memory the nodes hold.

use super::World;

impl World {
    /// One row per node, in index order.
    pub fn node_rows(&self) -> Vec<crate::metrics::NodeRow> {
        let mut rows = Vec::with_capacity(self.co.status.len());
        self.each_host(|i, h| {
            let t = h.node.routing_table();
            let s = h.node.stats();
            rows.push(crate::metrics::NodeRow {
                node: i,
                id: h.node.id().to_hex_width(self.shared.ctx.cfg.id_width),
                alive: h.alive,
                sessions: h.sessions,
                rt_size: t.len() as u32,
                buckets: t.nonempty_buckets() as u32,
                stored_pairs: h.node.store().len() as u32,
                msgs_sent: h.sent + s.sent,
                msgs_received: h.received + s.received,
                msgs_dropped: h.dropped + s.dropped(),
                class: self.shared.ctx.class(i).as_str(),
                class_name: self.class_name(i).to_string(),
            });
        });
        rows
    }

    /// Routing-table fill by classic bucket index over the nodes up (`buckets.csv`).
    pub fn bucket_rows(&self) -> Vec<crate::metrics::BucketRow> {
        let width = self.shared.ctx.cfg.id_width;
        let bits = width.bits();
        let k = self.shared.ctx.cfg.k;
        let (mut contacts, mut full) = (vec![0u64; bits], vec![0u32; bits]);
        let mut per_node = vec![0usize; bits];
        let mut up = 0u32;
        self.each_host(|_, h| {
            if !h.alive {
                return;
            }
            up += 1;
            per_node.fill(0);
            let own = h.node.id();
            for c in h.node.routing_table().contacts() {
                if let Some(i) = own.distance(&c.id).bucket_index(width) {
                    per_node[i] += 1;
                }
            }
            for (i, n) in per_node.iter().enumerate() {
                contacts[i] += *n as u64;
                full[i] += u32::from(*n >= k);
            }
        });
        let nearest = contacts.iter().position(|c| *c > 0).unwrap_or(bits - 1);
        let denom = f64::from(up.max(1));
        (nearest..bits)
            .rev()
            .map(|i| crate::metrics::BucketRow {
                bucket: i as u8,
                nodes: up,
                contacts_mean: contacts[i] as f64 / denom,
                full_fraction: f64::from(full[i]) / denom,
            })
            .collect()
    }

    /// The adversary's rows of `summary.csv` that need the nodes' state at the
    /// end: how many nodes are malicious, and the share of malicious contacts
    /// in the routing tables (buckets, not replacement caches) of the honest
    /// nodes up, and of the Sybil attack's victims (empty for other
    /// placements). Every row is present, empty without an adversary.
    pub fn adversary_summary(&self) -> Vec<(String, String)> {
        let co = &self.co;
        let on = co.sc.adversary.enabled();
        let (mut all, mut bad, mut v_all, mut v_bad) = (0u64, 0u64, 0u64, 0u64);
        if on {
            self.each_host(|i, h| {
                if !h.alive || co.is_malicious(i) {
                    return;
                }
                let victim = co.victims.contains(&i);
                for c in h.node.routing_table().contacts() {
                    let m = u64::from(co.is_malicious(c.addr.node()));
                    all += 1;
                    bad += m;
                    if victim {
                        v_all += 1;
                        v_bad += m;
                    }
                }
            });
        }
        let share = |b: u64, a: u64| if a == 0 { String::new() } else { format!("{:.6}", b as f64 / a as f64) };
        vec![
            ("adversary.nodes".into(), if on { co.adv_nodes.len().to_string() } else { String::new() }),
            ("adversary.rt_share".into(), share(bad, all)),
            ("adversary.victim_rt_share".into(), share(v_bad, v_all)),
        ]
    }

    /// Mean bytes per node held by the nodes (struct plus heap) and the shards' queues.
    pub fn node_memory_bytes(&self) -> f64 {
        let mut total = 0usize;
        self.each_host(|_, h| total += h.node.memory_bytes() + std::mem::size_of::<crate::sim::shard::Host>());
        for s in &self.shared.shards {
            total += s.lock().expect("no worker panicked").heap_bytes();
        }
        total as f64 / self.co.status.len().max(1) as f64
    }
}

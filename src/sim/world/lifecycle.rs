//! Nodes coming up and going down: the start of a run (every node up at
//! once with an oracle-built table, joins at the join rate, or a churn
//! trace's events), each arrival joining through a random live node (the
//! join procedure of Maymounkov & Mazières 2002, §2.3), each departure, and
//! the session and downtime drawn for the next one under the churn model.

use super::*;

impl World {
    pub(super) fn schedule_start(&mut self, trace: Vec<TraceEvent>) {
        let co = &mut self.co;
        let n = co.sc.nodes;
        if co.sc.churn.model == ChurnModel::Trace {
            for e in trace {
                let ev = if e.up { Global::Up { node: e.node } } else { Global::Down { node: e.node } };
                co.global.push(e.time_us, ev);
            }
        } else {
            match co.sc.bootstrap.mode {
                BootstrapMode::Oracle => self.oracle_bootstrap(),
                BootstrapMode::Join => {
                    let gap = 1e6 / co.sc.bootstrap.join_rate.0;
                    for i in 0..n {
                        if !co.joins_late(i) {
                            co.global.push((f64::from(i) * gap).round() as u64, Global::Up { node: i });
                        }
                    }
                }
            }
            // An adversary joining later comes up from `join_at` at the join rate.
            let co = &mut self.co;
            let gap = 1e6 / co.sc.bootstrap.join_rate.0.max(1e-9);
            let late: Vec<u32> = co.adv_nodes.iter().copied().filter(|&i| co.joins_late(i)).collect();
            for (j, i) in late.into_iter().enumerate() {
                let at = co.sc.adversary.join_at.0 as f64 + j as f64 * gap;
                co.global.push(at.round() as u64, Global::Up { node: i });
            }
        }
        let co = &mut self.co;
        for kind in WorkKind::ALL {
            if let Some(gap) = co.workload.next_gap_us(kind, n as usize) {
                co.global.push(gap, Global::Work(kind));
            }
        }
        co.global.push(co.next_sample, Global::Sample);
    }

    /// Every node up and joined at time 0, each routing table filled as a
    /// settled network would hold it (`crate::sim::bootstrap`). Tables are built in
    /// parallel, each from its node's own random stream.
    pub(super) fn oracle_bootstrap(&mut self) {
        let co = &mut self.co;
        let shared = &self.shared;
        let pairs: Vec<(u64, u32)> = co
            .status
            .iter()
            .enumerate()
            .filter(|(i, _)| !co.joins_late(*i as u32))
            .map(|(i, s)| (s.top, i as u32))
            .collect();
        // The tables hold addresses, with their group tags.
        let in_tables = |&&(_, i): &&(u64, u32)| co.in_oracle_tables(i);
        let ids = SortedIds::new(pairs.iter().filter(in_tables).map(|&(t, i)| (t, shared.ctx.addr(i).0)).collect());
        co.oracle = Oracle::from_pairs(pairs.into_iter().filter(|&(_, i)| co.in_truth(i)).collect());
        let late: Vec<bool> = (0..co.status.len() as u32).map(|i| co.joins_late(i)).collect();
        let late = &late;
        let cfg = &shared.ctx.cfg;
        let shape = Shape { k: cfg.k, b: cfg.b, relaxed: cfg.buckets == crate::kad::BucketLayout::Tree };
        let seed = co.sc.seed;
        let fill = |s: usize| {
            let mut shard = shared.shards[s].lock().expect("no worker panicked");
            let mut builder = TableBuilder::default();
            for (i, h) in shard.hosts_mut(&shared.ctx) {
                if late[i as usize] {
                    continue;
                }
                let mut rng = ChaCha8Rng::seed_from_u64(seeds::derive(seed, "oracle", u64::from(i)));
                builder.build(&ids, h.node.id().top(), shape, &mut rng);
                h.node.bootstrap_table(Time::ZERO, builder.buckets());
                h.alive = true;
                h.sessions = 1;
            }
        };
        std::thread::scope(|scope| {
            for s in 1..shared.shards.len() {
                scope.spawn(move || fill(s));
            }
            fill(0);
        });
        for i in 0..co.status.len() {
            if co.joins_late(i as u32) {
                continue;
            }
            let st = &mut co.status[i];
            st.alive = true;
            st.joined = true;
            st.sessions = 1;
            co.up_count += 1;
            co.now_live(i as u32);
            co.schedule_down(i as u32);
        }
    }
}

impl Coordinator {
    /// A random live node that has joined, with its ID, to join through.
    pub(super) fn bootstrap_node(&mut self) -> Option<(u32, NodeId)> {
        let candidates = self.bootstrap_pool().len();
        if candidates == 0 {
            return None;
        }
        let pick = (self.boot_rng.next_u64() % candidates as u64) as usize;
        let via = self.bootstrap_pool()[pick];
        Some((via, crate::sim::addr::id_from_top(self.status[via as usize].top)))
    }

    /// A node with nobody to join through has joined a network of one.
    pub(super) fn joined_alone(&mut self, node: u32) {
        self.status[node as usize].joined = true;
        self.now_live(node);
    }

    pub(super) fn up(&mut self, shared: &Shared, node: u32) {
        let st = self.status[node as usize];
        if st.alive {
            return;
        }
        let top = if st.sessions > 0 && self.sc.churn.rejoin_id == RejoinId::New {
            draw_top(&mut self.tops, self.sc.seed, node, st.inc, self.sc.protocol.id_width())
        } else {
            st.top
        };
        let st = &mut self.status[node as usize];
        st.top = top;
        st.alive = true;
        st.sessions += 1;
        let id = crate::sim::addr::id_from_top(top);
        if self.in_truth(node) {
            self.oracle.insert(id, node);
        }
        self.count_uptime();
        self.up_count += 1;
        self.rec.count(|c| c.joins += 1);
        let via = self.bootstrap_node();
        if via.is_none() {
            self.joined_alone(node);
        }
        self.schedule_for(shared, node, LocalEvent::Up { id, via });
        self.schedule_down(node);
    }

    /// Whether `node` is malicious.
    pub(super) fn is_malicious(&self, node: u32) -> bool {
        self.malicious.get(node as usize).copied().unwrap_or(false)
    }

    /// Whether `node` is malicious and comes up at `adversary.join_at` > 0.
    pub(super) fn joins_late(&self, node: u32) -> bool {
        self.sc.adversary.join_at.0 > 0 && self.is_malicious(node)
    }

    pub(super) fn schedule_down(&mut self, node: u32) {
        // The adversary keeps its nodes up.
        if self.is_malicious(node) {
            return;
        }
        if let Some((session, _)) = &self.sessions {
            let session = self.groups.as_ref().map_or(session, |g| &g.churn[g.of(node)].0);
            let len = session.sample(&mut self.churn_rng);
            self.global.push(self.now.saturating_add(len), Global::Down { node });
        }
    }

    pub(super) fn down(&mut self, shared: &Shared, node: u32) {
        let st = &mut self.status[node as usize];
        if !st.alive {
            return;
        }
        st.alive = false;
        st.joined = false;
        st.inc += 1;
        let id = crate::sim::addr::id_from_top(st.top);
        self.oracle.remove(id, node);
        self.count_uptime();
        self.up_count -= 1;
        self.not_live(node);
        self.rec.count(|c| c.leaves += 1);
        self.schedule_for(shared, node, LocalEvent::Down);
        if let Some((_, downtime)) = &self.sessions {
            let downtime = self.groups.as_ref().map_or(downtime, |g| &g.churn[g.of(node)].1);
            let len = downtime.sample(&mut self.churn_rng);
            self.global.push(self.now.saturating_add(len), Global::Up { node });
        }
    }
}

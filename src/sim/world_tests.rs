//! Effects of the network and churn models on the nodes, seen from inside the world.

use super::*;
use crate::scenario::load_str;

fn world(text: &str) -> World {
    let sc = load_str(text, "test.toml", &[]).unwrap();
    World::new(&sc, Vec::new())
}

#[test]
fn no_message_crosses_a_partition() {
    // The network forms, then half of it is cut off for good: nobody learns of
    // a node across the cut any more, and lookups there time out.
    let mut w = world(
        "nodes = 120\nduration = \"4m\"\n[bootstrap]\njoin_rate = 20\n\
         [[network.partitions]]\nstart = \"1m\"\nend = \"1h\"\nfraction = 0.5\n\
         [workload]\nlookup_rate = 0.05\n",
    );
    w.run_until(60_000_000);
    let known_before: Vec<(u32, u32)> = (0..120u32)
        .flat_map(|i| {
            // Contacts in buckets and in replacement caches (which are promoted later).
            w.host(i, |h| {
                let t = h.node.routing_table();
                let cached: Vec<_> = t.buckets().iter().flat_map(|b| b.replacements().to_vec()).collect();
                t.contacts().chain(cached).map(move |c| (i, c.addr.0)).collect::<Vec<_>>()
            })
        })
        .collect();
    let timeouts_before: u64 = w.recorder().ops.iter().map(|r| u64::from(r.timeouts)).sum();
    w.finish();
    let (mut same, mut across) = (0, 0);
    for i in 0..120u32 {
        for c in w.host(i, |h| h.node.routing_table().contacts().collect::<Vec<_>>()) {
            if w.partitions().cut(120_000_000, i, c.addr.0) {
                across += 1;
                assert!(known_before.contains(&(i, c.addr.0)), "node {i} learned of {} across the cut", c.addr.0);
            } else {
                same += 1;
            }
        }
    }
    assert!(same > 1000, "tables still full on each side: {same}");
    assert!(across > 0, "contacts from before the cut linger until they fail");
    assert!(w.recorder().total.counts.msgs_cut > 0);
    let timeouts_after: u64 = w.recorder().ops.iter().map(|r| u64::from(r.timeouts)).sum();
    assert!(timeouts_after > timeouts_before, "queries into the cut time out");
}

#[test]
fn a_crashed_node_answers_nothing() {
    let mut w = world("nodes = 60\nduration = \"10m\"\n[bootstrap]\njoin_rate = 20\n[workload]\nlookup_rate = 0.05\n");
    w.run_until(120_000_000);
    let victim = 17u32;
    w.crash(victim);
    w.run_until(w.now() + 1);
    let (sent, received) = w.host(victim, |h| (h.node.stats().sent, h.node.stats().received));
    let before = w.recorder().total.counts.msgs_to_dead;
    w.run_until(600_000_000);
    let (alive, stats) = w.host(victim, |h| (h.alive, (h.node.stats().sent, h.node.stats().received)));
    assert!(!alive);
    assert_eq!(stats, (sent, received), "a crashed node neither sends nor hears");
    assert!(w.recorder().total.counts.msgs_to_dead > before, "others still tried it and timed out");
    // Its contacts notice: lookups that tried it count timeouts.
    assert!(w.recorder().ops.iter().any(|r| r.timeouts > 0));
}

#[test]
fn churned_nodes_come_back_and_rejoin() {
    let mut w = world(
        "nodes = 80\nduration = \"40m\"\n[bootstrap]\njoin_rate = 20\n\
         [churn]\nmodel = \"distributions\"\n\
         session = { dist = \"exponential\", mean = \"5m\" }\n\
         downtime = { dist = \"exponential\", mean = \"2m\" }\n",
    );
    w.finish();
    let rows = w.node_rows();
    assert!(rows.iter().any(|r| r.sessions >= 3), "nodes cycle through sessions");
    let alive = rows.iter().filter(|r| r.alive).count();
    // Steady state: up a fraction 5 / (5 + 2) of the time, about 57 of 80.
    assert!((35..=75).contains(&alive), "{alive} alive");
    assert_eq!(w.oracle_len(), alive, "the oracle tracks exactly the nodes up");
}

#[test]
fn rows_straddling_the_warm_up_are_flagged_and_count_only_workload_ops() {
    let mut w = world(
        "nodes = 50\nduration = \"4m\"\nwarmup = \"90s\"\nsample_interval = \"60s\"\n\
         [bootstrap]\njoin_rate = 20\n[output]\nmaintenance_ops = true\n\
         [workload]\nlookup_rate = 0.05\n",
    );
    w.finish();
    let flags: Vec<(f64, bool)> = w.recorder().samples.iter().map(|r| (r.time_s, r.warmup)).collect();
    assert_eq!(flags, vec![(60.0, true), (120.0, true), (180.0, false), (240.0, false)]);
    // Joins spread over the run, written to ops.csv but not counted in the rows.
    let mut w = world(
        "nodes = 50\nduration = \"4m\"\nsample_interval = \"60s\"\n\
         [bootstrap]\njoin_rate = 0.25\n[output]\nmaintenance_ops = true\n\
         [workload]\nlookup_rate = 0.05\n",
    );
    w.finish();
    assert!(w.recorder().ops.iter().any(|r| r.kind == "join"), "maintenance ops are written");
    let done: u32 = w.recorder().samples.iter().map(|r| r.ops_done).sum();
    let workload = w.recorder().ops.iter().filter(|r| matches!(r.kind, "find_node" | "get" | "put")).count();
    assert_eq!(done as usize, workload, "the time series counts workload operations only");
}

#[test]
fn the_workload_rate_follows_the_nodes_live_while_they_join() {
    // 100 nodes join over 10 s; puts at 0.01 per node per second are 1 per
    // second once all are up. Expected from 10 s to 300 s: 290 ± 17 (Poisson).
    // A gap drawn for the nodes live when it is scheduled (none, at first)
    // would average 100 s before the first put and stall the workload.
    for seed in 1..=3 {
        let mut w = world(&format!(
            "seed = {seed}\nnodes = 100\nduration = \"5m\"\n[bootstrap]\njoin_rate = 10\n\
             [workload]\nlookup_rate = 0\nput_rate = 0.01\nget_rate = 0\n"
        ));
        w.finish();
        let puts = w.recorder().ops.iter().filter(|r| r.kind == "put" && r.start_us >= 10_000_000).count();
        assert!((220..=360).contains(&puts), "seed {seed}: {puts} puts from 10 s to 300 s, expected 290 ± 70");
        let first = w.recorder().ops.iter().filter(|r| r.kind == "put").map(|r| r.start_us).min().unwrap_or(u64::MAX);
        assert!(first < 15_000_000, "seed {seed}: the first put came at {} s", first / 1_000_000);
    }
}

#[test]
fn replies_count_in_the_class_of_their_requests_on_any_shard() {
    // A settled network (oracle tables, no refresh due within the run, no
    // stored pair to hand over) running node lookups only: every message,
    // replies included, is lookup traffic, whether it crossed shards or not.
    let text = "nodes = 300\nduration = \"2m\"\nwarmup = \"0s\"\nsample_interval = \"30s\"\n\
        [bootstrap]\nmode = \"oracle\"\n[workload]\nlookup_rate = 0.05\nput_rate = 0\nget_rate = 0\n";
    let sc = load_str(text, "test.toml", &[]).unwrap();
    let mut w = World::with_threads(&sc, Vec::new(), 2);
    w.finish();
    let t = &w.recorder().total.counts;
    assert!(t.msgs_sent > 1000, "{} messages", t.msgs_sent);
    assert_eq!((t.lookup_msgs_sent, t.lookup_bytes_sent), (t.msgs_sent, t.bytes_sent));
    assert_eq!((t.maintenance_msgs_sent, t.maintenance_bytes_sent), (0, 0));
    // Joining by the protocol without a workload: maintenance only.
    let mut w = world(
        "nodes = 100\nduration = \"2m\"\n[bootstrap]\njoin_rate = 20\n\
         [workload]\nlookup_rate = 0\nput_rate = 0\nget_rate = 0\n",
    );
    w.finish();
    let t = &w.recorder().total.counts;
    assert!(t.maintenance_msgs_sent > 1000 && t.lookup_msgs_sent == 0, "{t:?}");
    for r in &w.recorder().samples {
        assert_eq!(r.lookup_msgs_sent + r.maintenance_msgs_sent, r.msgs_sent);
        assert_eq!(r.lookup_bytes_sent + r.maintenance_bytes_sent, r.bytes_sent);
    }
}

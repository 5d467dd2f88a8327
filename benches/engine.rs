//! Benchmarks of the engine: the event queue, the routing table, and whole runs
//! at 10,000 and 100,000 nodes (events per second of the event loop, and peak
//! memory per node). Run with `cargo bench --bench engine`; pass `queue`,
//! `routing` or `run N` to run one part. Each whole run executes in a child
//! process of its own, so that its peak resident memory is its own.
//!
//! Wall-clock time is read here, in the benchmark, never in the simulation.

use kadsim::kad::{NodeId, RoutingTable, Time};
use kadsim::runner::{self, Progress};
use kadsim::scenario::load_str;
use kadsim::sim::queue::EventQueue;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::time::{Duration, Instant};

/// Median of `runs` timings of `f`, in seconds.
fn median_of(runs: usize, mut f: impl FnMut() -> Duration) -> f64 {
    let mut t: Vec<f64> = (0..runs).map(|_| f().as_secs_f64()).collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn bench_queue() {
    const N: u64 = 4_000_000;
    let secs = median_of(5, || {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut q: EventQueue<u64> = EventQueue::new();
        for i in 0..10_000 {
            q.push(rng.next_u64() % 1_000_000, i);
        }
        let start = Instant::now();
        for i in 0..N {
            let (t, _) = q.pop().expect("never empty");
            q.push(t + 1 + rng.next_u64() % 200_000, i);
        }
        start.elapsed()
    });
    println!("queue     pop+push with 10k pending     {:>8.1} M ops/s", N as f64 / secs / 1e6);
}

fn bench_routing() {
    const N: usize = 1_000_000;
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let own = NodeId::random(&mut rng);
    let ids: Vec<NodeId> = (0..N).map(|_| NodeId::random(&mut rng)).collect();
    let secs = median_of(5, || {
        let mut t: RoutingTable<u32> = RoutingTable::new(own, 20, 1, 4, 5, Time::ZERO).with_eviction_ping(false);
        let start = Instant::now();
        for (i, id) in ids.iter().enumerate() {
            std::hint::black_box(t.seen(*id, i as u32));
        }
        start.elapsed()
    });
    println!("routing   seen() of random senders      {:>8.1} ns/op", secs / N as f64 * 1e9);
    let mut t: RoutingTable<u32> = RoutingTable::new(own, 20, 1, 4, 5, Time::ZERO);
    for (i, id) in ids.iter().enumerate().take(100_000) {
        t.seen(*id, i as u32);
    }
    let mut out = Vec::with_capacity(20);
    let secs = median_of(5, || {
        let start = Instant::now();
        for id in ids.iter().take(N / 4) {
            out.clear();
            t.closest(id, 20, None, &mut out);
            std::hint::black_box(&out);
        }
        start.elapsed()
    });
    println!("routing   closest(20) of {} contacts   {:>8.1} ns/op", t.len(), secs / (N / 4) as f64 * 1e9);
}

struct Timer(Instant);
impl Progress for Timer {
    fn tick(&mut self, _: u64, _: u64, _: u64) {}
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// One whole run of `nodes` nodes, in this process.
fn run_one(nodes: u32) {
    // About 100 + 20 + 50 operations per second at 10,000 nodes, 200 + 40 + 100 at 100,000.
    let rate = if nodes <= 10_000 { 0.01 } else { 0.002 };
    let (put, get) = (rate / 5.0, rate / 2.0);
    let text = format!(
        "name = \"bench\"\nnodes = {nodes}\nduration = \"5m\"\nwarmup = \"1m\"\n\
         [bootstrap]\nmode = \"oracle\"\n\
         [network.latency]\nmodel = \"coordinates\"\n\
         [workload]\nlookup_rate = {rate}\nput_rate = {put}\nget_rate = {get}\nkeys = 10000\n"
    );
    let sc = load_str(&text, "bench", &[]).expect("the bench scenario is valid");
    let dir = std::env::temp_dir().join(format!("kadsim-bench-{nodes}-{}", std::process::id()));
    let mut timer = Timer(Instant::now());
    let outcome = runner::run(&sc, &dir, &mut timer, 1).expect("the run writes its files");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("manifest")).expect("json");
    let peak_kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .unwrap_or(f64::NAN);
    println!(
        "run       {:>7} nodes: {:>9} events, {:>5.2} M events/s (loop), set-up {:>5.1} s, peak {:>6.0} MB = {:>5.2} KB/node",
        nodes,
        outcome.events,
        manifest["events_per_s"].as_f64().unwrap_or(0.0) / 1e6,
        manifest["setup_time_s"].as_f64().unwrap_or(0.0),
        peak_kb / 1024.0,
        peak_kb / f64::from(nodes),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    match args.first().map(String::as_str) {
        Some("queue") => bench_queue(),
        Some("routing") => bench_routing(),
        Some("run") => run_one(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000)),
        _ => {
            bench_queue();
            bench_routing();
            let exe = std::env::current_exe().expect("own path");
            for n in ["10000", "100000"] {
                let status = std::process::Command::new(&exe).args(["run", n]).status().expect("child runs");
                assert!(status.success(), "run {n} failed");
            }
        }
    }
}

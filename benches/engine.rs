//! Benchmarks of the engine: the event queue, the routing table, and whole
//! runs of `scenarios/bench/join.toml` (nodes joining by the protocol) and
//! `scenarios/bench/oracle.toml` (a settled network).
//!
//! ```text
//! cargo bench --bench engine                      # all of the below at their default sizes
//! cargo bench --bench engine -- queue | routing
//! cargo bench --bench engine -- join N THREADS    # e.g. join 100000 2
//! cargo bench --bench engine -- oracle N THREADS  # e.g. oracle 1000000 2
//! cargo bench --bench engine -- compare OLD_KADSIM [N]
//! cargo bench --bench engine -- trace [OLD_KADSIM]  # churn.toml without and with --trace
//! ```
//!
//! Each whole run executes in a child process of its own, so that its peak
//! resident memory is its own. `compare` times an older `kadsim` binary (for
//! instance one built from commit efdc7e4) against this one on join.toml,
//! alternating the two, three runs each with 1 and with 2 threads, and prints
//! the medians and their ratios: this machine's speed drifts by 30%, so only
//! ratios measured side by side mean anything.
//!
//! Wall-clock time is read here, in the benchmark, never in the simulation.

use kadsim::kad::{NodeId, RoutingTable, Time};
use kadsim::runner::{self, Progress};
use kadsim::scenario::load_file;
use kadsim::sim::calendar::Calendar;
use kadsim::sim::queue::EventQueue;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The allocator of the `kadsim` binary, so that memory figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Median of `runs` timings of `f`, in seconds.
fn median_of(runs: usize, mut f: impl FnMut() -> Duration) -> f64 {
    let mut t: Vec<f64> = (0..runs).map(|_| f().as_secs_f64()).collect();
    median(&mut t)
}

fn median(t: &mut [f64]) -> f64 {
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
    println!(
        "queue     pop+push with 10k pending     {:>8.1} M ops/s (binary heap: the serial phase)",
        N as f64 / secs / 1e6
    );
    let secs = median_of(5, || {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut q: Calendar<u64> = Calendar::new(1_000);
        for i in 0..10_000 {
            q.push(rng.next_u64() % 1_000_000, 0, i, i);
        }
        let start = Instant::now();
        for i in 0..N {
            let (t, _) = q.pop().expect("never empty");
            q.push(t + 1 + rng.next_u64() % 200_000, 1, i, i);
        }
        start.elapsed()
    });
    println!("calendar  pop+push with 10k pending     {:>8.1} M ops/s (the shards)", N as f64 / secs / 1e6);
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

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench")
}

/// The overrides that size a bench scenario to `nodes` (join.toml joins N/10 per second).
fn sized(which: &str, nodes: u32) -> Vec<String> {
    let mut set = vec![format!("nodes={nodes}")];
    if which == "join" {
        set.push(format!("bootstrap.join_rate={}", f64::from(nodes) / 10.0));
    }
    set
}

/// One whole run of `scenarios/bench/WHICH.toml` at `nodes` nodes on `threads`
/// threads, in this process.
fn run_one(which: &str, nodes: u32, threads: usize) {
    let file = scenarios().join(format!("{which}.toml"));
    let sc = load_file(&file, &sized(which, nodes)).expect("the bench scenario is valid");
    let dir = std::env::temp_dir().join(format!("kadsim-bench-{which}-{nodes}-{}", std::process::id()));
    let mut timer = Timer(Instant::now());
    let outcome = runner::run(&sc, &dir, &mut timer, threads).expect("the run writes its files");
    let wall = timer.elapsed().as_secs_f64();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("manifest")).expect("json");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).expect("summary");
    let hops = summary.lines().find_map(|l| l.strip_prefix("find_node.hops.mean,")).unwrap_or("").to_string();
    let peak_kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .unwrap_or(f64::NAN);
    println!(
        "{which:<6} {nodes:>8} nodes, {threads} thr: {wall:>7.1} s wall, set-up {:>5.1} s, {:>11} events, \
         {:>5.2} M events/s (loop), peak {:>6.0} MB = {:>5.2} KB/node, hops {hops}",
        manifest["setup_time_s"].as_f64().unwrap_or(0.0),
        outcome.events,
        manifest["events_per_s"].as_f64().unwrap_or(0.0) / 1e6,
        peak_kb / 1024.0,
        peak_kb / f64::from(nodes),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `engine WHICH N THREADS` in a child process.
fn child(which: &str, nodes: u32, threads: usize) {
    let exe = std::env::current_exe().expect("own path");
    let status =
        Command::new(&exe).args([which, &nodes.to_string(), &threads.to_string()]).status().expect("child runs");
    assert!(status.success(), "{which} {nodes} failed");
}

/// Wall time of one `kadsim run` of `file` by the binary `exe`.
fn time_cli(exe: &Path, file: &Path, set: &[String], threads: Option<usize>) -> f64 {
    let out = std::env::temp_dir().join(format!("kadsim-bench-cmp-{}", std::process::id()));
    let mut cmd = Command::new(exe);
    cmd.arg("run").arg(file).arg("--out").arg(&out).arg("--quiet");
    for s in set {
        cmd.arg("--set").arg(s);
    }
    if let Some(t) = threads {
        cmd.arg("--threads").arg(t.to_string());
    }
    let start = Instant::now();
    let status = cmd.status().expect("kadsim runs");
    let secs = start.elapsed().as_secs_f64();
    assert!(status.success(), "{} failed", exe.display());
    let _ = std::fs::remove_dir_all(&out);
    secs
}

/// Times an older `kadsim` against this one on join.toml, side by side.
fn compare(old: &Path, nodes: u32) {
    let new = Path::new(env!("CARGO_BIN_EXE_kadsim"));
    let file = scenarios().join("join.toml");
    // The older engine knows no `network.min_latency` (its floor was 1 µs;
    // join.toml's latency is a constant 0.6 ms, so the runs are the same).
    let text = std::fs::read_to_string(&file).expect("join.toml");
    let old_text: String =
        text.lines().filter(|l| *l != "[network]" && !l.starts_with("min_latency")).map(|l| format!("{l}\n")).collect();
    let old_file = std::env::temp_dir().join(format!("kadsim-bench-join-old-{}.toml", std::process::id()));
    std::fs::write(&old_file, old_text).expect("temp file");
    let set = sized("join", nodes);
    let (mut o, mut n1, mut n2) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=3 {
        o.push(time_cli(old, &old_file, &set, None));
        n1.push(time_cli(new, &file, &set, Some(1)));
        n2.push(time_cli(new, &file, &set, Some(2)));
        println!(
            "round {round}: old {:.2} s, new 1 thread {:.2} s, new 2 threads {:.2} s",
            o[round - 1],
            n1[round - 1],
            n2[round - 1]
        );
    }
    let (o, n1, n2) = (median(&mut o), median(&mut n1), median(&mut n2));
    println!(
        "join {nodes} nodes, medians of 3: old {o:.2} s; new {n1:.2} s with 1 thread ({:.2}x), {n2:.2} s with 2 threads ({:.2}x)",
        o / n1,
        o / n2
    );
    let _ = std::fs::remove_file(&old_file);
}

/// The cost of tracing: `kadsim run scenarios/churn.toml` without `--trace`
/// and with `--trace ops --trace-sample 0.01` (and by an older binary, if
/// given), alternated, three runs each; prints the medians, their ratios and
/// the size of `trace.csv`.
fn trace_cost(old: Option<&Path>) {
    let new = Path::new(env!("CARGO_BIN_EXE_kadsim"));
    let file = scenarios().join("../churn.toml");
    let out = std::env::temp_dir().join(format!("kadsim-bench-trace-{}", std::process::id()));
    let time = |exe: &Path, trace: bool| {
        let mut cmd = Command::new(exe);
        cmd.arg("run").arg(&file).arg("--out").arg(&out).arg("--quiet");
        if trace {
            cmd.args(["--trace", "ops", "--trace-sample", "0.01"]);
        }
        let start = Instant::now();
        let status = cmd.stdout(std::process::Stdio::null()).status().expect("kadsim runs");
        assert!(status.success(), "{} failed", exe.display());
        start.elapsed().as_secs_f64()
    };
    let (mut o, mut off, mut on) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for round in 1..=3 {
        if let Some(old) = old {
            o.push(time(old, false));
        }
        off.push(time(new, false));
        on.push(time(new, true));
        bytes = std::fs::metadata(out.join("trace.csv")).map_or(0, |m| m.len());
        println!(
            "round {round}: {}off {:.2} s, trace 0.01 {:.2} s",
            o.last().map_or(String::new(), |t| format!("old {t:.2} s, ")),
            off[round - 1],
            on[round - 1]
        );
    }
    let (off, on) = (median(&mut off), median(&mut on));
    let old = (!o.is_empty()).then(|| median(&mut o));
    println!(
        "churn.toml, medians of 3: {}off {off:.2} s, --trace ops --trace-sample 0.01 {on:.2} s ({:.3}x), trace.csv {:.1} MB",
        old.map_or(String::new(), |t| format!("old {t:.2} s, off/old {:.3}x, ", off / t)),
        on / off,
        bytes as f64 / 1e6
    );
    let _ = std::fs::remove_dir_all(&out);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let num = |i: usize, default: u32| args.get(i).and_then(|n| n.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("queue") => bench_queue(),
        Some("routing") => bench_routing(),
        Some(which @ ("join" | "oracle")) => run_one(which, num(1, 10_000), num(2, 1) as usize),
        Some("trace") => trace_cost(args.get(1).map(Path::new)),
        Some("compare") => match args.get(1) {
            Some(old) => compare(Path::new(old), num(2, 10_000)),
            None => eprintln!("usage: cargo bench --bench engine -- compare OLD_KADSIM [NODES]"),
        },
        _ => {
            bench_queue();
            bench_routing();
            for (which, nodes, threads) in [
                ("join", 10_000, 1),
                ("join", 10_000, 2),
                ("join", 100_000, 2),
                ("oracle", 100_000, 2),
                ("oracle", 1_000_000, 2),
            ] {
                child(which, nodes, threads);
            }
        }
    }
}

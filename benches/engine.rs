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
//! cargo bench --bench engine -- defaults [OLD_KADSIM] [--load]  # default threads against --threads 1
//! ```
//!
//! Each whole run executes in a child process of its own, so that its peak
//! resident memory is its own. `compare` times an older `kadsim` binary (for
//! instance one built from commit efdc7e4) against this one on join.toml,
//! alternating the two, three runs each with 1 and with 2 threads, and prints
//! the medians and their ratios: this machine's speed drifts by 30%, so only
//! ratios measured side by side mean anything.
//!
//! `defaults` runs `kadsim run` on static.toml, churn.toml, bench/oracle.toml at
//! 1,000 nodes (as it is, and with 100 times its lookups) and bench/join.toml
//! at 10,000 nodes, each with the default `--threads` and with `--threads 1`
//! (and with an older binary's default, if given), alternated, three runs
//! each, and prints the medians of wall, user and system time with the
//! thread count the default chose (from the run's manifest). With `--load`
//! (or `KADSIM_BENCH_LOAD=1`) a thread of the benchmark spins on one core
//! throughout, as another busy process would. On Linux a run during which
//! other processes used more than 5% of a core is run again (up to five
//! times; the note says so), since this machine is shared.
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

/// CPU seconds from `/proc/self/stat`: this process's own (user, system) and
/// its waited-for children's (user, system); `None` off Linux.
fn cpu_times() -> Option<[f64; 4]> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses: utime is the 14th field of the line.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<f64> = rest.split_whitespace().skip(11).take(4).map(|v| v.parse().unwrap_or(f64::NAN)).collect();
    let hz = clock_ticks();
    (f.len() == 4).then(|| [f[0] / hz, f[1] / hz, f[2] / hz, f[3] / hz])
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 if that fails).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds the whole machine has been busy (`/proc/stat`, all but idle and iowait).
fn machine_busy() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<f64> = stat.lines().next()?.split_whitespace().skip(1).take(8).filter_map(|x| x.parse().ok()).collect();
    (v.len() == 8).then(|| (v.iter().sum::<f64>() - v[3] - v[4]) / clock_ticks())
}

/// One timed `kadsim run`: wall, user and system seconds (NaN when unknown)
/// and the manifest's `threads` and `threads_chosen_by`.
struct Timed {
    wall: f64,
    user: f64,
    sys: f64,
    threads: String,
}

/// Runs `exe run FILE --set ... [--threads N]` and times it; again (up to
/// five times) when other processes used more than 5% of a core meanwhile.
fn timed_run(exe: &Path, file: &Path, set: &[String], threads: Option<usize>, notes: &mut Vec<String>) -> Timed {
    let out = std::env::temp_dir().join(format!("kadsim-bench-defaults-{}", std::process::id()));
    for attempt in 1.. {
        let mut cmd = Command::new(exe);
        cmd.arg("run").arg(file).arg("--out").arg(&out).arg("--quiet").arg("--force");
        for s in set {
            cmd.arg("--set").arg(s);
        }
        if let Some(t) = threads {
            cmd.arg("--threads").arg(t.to_string());
        }
        let (cpu0, busy0) = (cpu_times(), machine_busy());
        let start = Instant::now();
        let status = cmd.stdout(std::process::Stdio::null()).status().expect("kadsim runs");
        let wall = start.elapsed().as_secs_f64();
        let (cpu1, busy1) = (cpu_times(), machine_busy());
        assert!(status.success(), "{} failed", exe.display());
        let (mut user, mut sys, mut others) = (f64::NAN, f64::NAN, 0.0);
        if let (Some(a), Some(b)) = (cpu0, cpu1) {
            (user, sys) = (b[2] - a[2], b[3] - a[3]);
            if let (Some(x), Some(y)) = (busy0, busy1) {
                // Everything the machine did but this process (the load thread) and the run.
                others = (y - x) - (b[0] - a[0]) - (b[1] - a[1]) - user - sys;
            }
        }
        let manifest: Option<serde_json::Value> =
            std::fs::read(out.join("manifest.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let chosen = manifest.map_or_else(
            || "?".to_string(),
            |m| match m["threads_chosen_by"].as_str() {
                Some(by) => format!("{} ({by})", m["threads"]),
                None => m["threads"].to_string(),
            },
        );
        let _ = std::fs::remove_dir_all(&out);
        if others <= 0.05 * wall + 0.05 || attempt == 5 {
            return Timed { wall, user, sys, threads: chosen };
        }
        notes.push(format!(
            "{} {}: other processes used {others:.2} CPU s in {wall:.2} s; run again",
            file.file_name().map_or(String::new(), |f| f.to_string_lossy().into_owned()),
            threads.map_or("default".into(), |t| format!("--threads {t}"))
        ));
    }
    unreachable!("returns by the fifth attempt")
}

/// Keeps one core busy until dropped.
struct Load(std::sync::Arc<std::sync::atomic::AtomicBool>, Option<std::thread::JoinHandle<()>>);

impl Load {
    fn start() -> Load {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let spinner = std::thread::spawn(move || {
            let mut x = 0u64;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
            }
        });
        Load(stop, Some(spinner))
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
    }
}

/// The default `--threads` against `--threads 1` (and an older binary's
/// default), side by side on the scenarios of README "Threads by default".
fn defaults(old: Option<&Path>, load: bool) {
    let new = Path::new(env!("CARGO_BIN_EXE_kadsim"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let runs: Vec<(&str, PathBuf, Vec<String>)> = vec![
        ("static.toml", root.join("static.toml"), vec![]),
        ("churn.toml", root.join("churn.toml"), vec![]),
        ("oracle.toml, 1,000 nodes", root.join("bench/oracle.toml"), s(&["nodes=1000"])),
        (
            "oracle.toml, 1,000 nodes, lookup_rate 0.1",
            root.join("bench/oracle.toml"),
            s(&["nodes=1000", "workload.lookup_rate=0.1"]),
        ),
        ("join.toml, 10,000 nodes", root.join("bench/join.toml"), sized("join", 10_000)),
    ];
    let _load = load.then(Load::start);
    println!(
        "default --threads against --threads 1{}, alternated, medians of 3{}",
        old.map_or(String::new(), |o| format!(" and {}'s default", o.display())),
        if load { ", one core kept busy by a spinning thread" } else { "" }
    );
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    for (name, file, set) in &runs {
        let (mut one, mut def, mut older) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..3 {
            one.push(timed_run(new, file, set, Some(1), &mut notes));
            def.push(timed_run(new, file, set, None, &mut notes));
            if let Some(old) = old {
                older.push(timed_run(old, file, set, None, &mut notes));
            }
        }
        let med = |v: &[Timed], f: fn(&Timed) -> f64| median(&mut v.iter().map(f).collect::<Vec<_>>());
        let (w1, wd) = (med(&one, |t| t.wall), med(&def, |t| t.wall));
        let old_cols = if older.is_empty() {
            String::new()
        } else {
            let wo = med(&older, |t| t.wall);
            format!(" {wo:.2} s | {:.2} | {:.2} |", med(&older, |t| t.sys), wd / wo)
        };
        let row = format!(
            "| {name} | {w1:.2} s | {wd:.2} s | {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | {} |{old_cols}",
            wd / w1,
            med(&one, |t| t.user),
            med(&def, |t| t.user),
            med(&one, |t| t.sys),
            med(&def, |t| t.sys),
            def[0].threads,
        );
        println!("{row}");
        rows.push(row);
    }
    println!();
    println!(
        "| scenario | `--threads 1` wall | default wall | default / 1 | user s (1 / default) | system s (1 / default) | default's threads |{}",
        if old.is_some() { " old default wall | old system s | default / old |" } else { "" }
    );
    println!("|---|---|---|---|---|---|---|{}", if old.is_some() { "---|---|---|" } else { "" });
    for r in rows {
        println!("{r}");
    }
    for n in notes {
        println!("note: {n}");
    }
}

fn main() {
    let load = std::env::args().any(|a| a == "--load")
        || std::env::var("KADSIM_BENCH_LOAD").is_ok_and(|v| !v.is_empty() && v != "0");
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let num = |i: usize, default: u32| args.get(i).and_then(|n| n.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("queue") => bench_queue(),
        Some("routing") => bench_routing(),
        Some(which @ ("join" | "oracle")) => run_one(which, num(1, 10_000), num(2, 1) as usize),
        Some("trace") => trace_cost(args.get(1).map(Path::new)),
        Some("defaults") => defaults(args.get(1).map(Path::new), load),
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

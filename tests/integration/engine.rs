//! The engine's guarantees: the same bytes whatever the thread count, and no
//! allocation per event once a run has settled (DESIGN.md §3, §6).

use kadsim::runner::{self, Silent};
use kadsim::scenario::load_str;
use kadsim::sim::world::World;
use std::path::PathBuf;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-engine-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Every output file of a run, as bytes (the manifest less its wall-clock fields).
fn outputs(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for name in ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv"] {
        files.push((name.to_string(), std::fs::read(dir.join(name)).expect("output file")));
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest")).expect("json");
    for key in ["events", "trace_hash", "scenario"] {
        files.push((key.to_string(), manifest[key].to_string().into_bytes()));
    }
    files
}

/// Everything that draws or decides at once: protocol joins, churn with new
/// IDs and graceful leaves, bursty loss, jittered lognormal latency, a
/// partition, and every kind of operation.
const BUSY: &str = "name = \"busy\"\nseed = 5\nnodes = 300\nduration = \"12m\"\nwarmup = \"2m\"\nsample_interval = \"1m\"\n\
    [protocol]\nk = 8\nalpha = 3\n\
    [bootstrap]\nmode = \"join\"\njoin_rate = 30\n\
    [network]\nmin_latency = \"2ms\"\n\
    [network.latency]\nmodel = \"lognormal\"\nmedian = \"30ms\"\nsigma = 0.6\njitter = \"5ms\"\n\
    [network.loss]\nmodel = \"gilbert_elliott\"\n\
    [[network.partitions]]\nstart = \"5m\"\nend = \"7m\"\nfraction = 0.2\n\
    [churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"6m\" }\n\
    downtime = { dist = \"exponential\", mean = \"2m\" }\nleave = \"graceful\"\nrejoin_id = \"new\"\n\
    [workload]\nlookup_rate = 0.02\nput_rate = 0.005\nget_rate = 0.01\nkeys = 200\n\
    [output]\nmaintenance_ops = true\n";

/// A settled network with accelerated lookups (b = 3), built by the oracle.
const ORACLE: &str = "name = \"oracle\"\nseed = 9\nnodes = 3000\nduration = \"3m\"\nwarmup = \"30s\"\n\
    [protocol]\nb = 3\n[bootstrap]\nmode = \"oracle\"\n\
    [network.latency]\nmodel = \"coordinates\"\n\
    [workload]\nlookup_rate = 0.01\nput_rate = 0.001\nget_rate = 0.005\nkeys = 500\n";

/// Protocol joins and churn over the shipped latency matrix, with access
/// delays and jitter: 400 nodes on its 300 hosts, so hosts are shared.
fn matrix() -> String {
    format!(
        "name = \"matrix\"\nseed = 3\nnodes = 400\nduration = \"8m\"\nwarmup = \"1m\"\nsample_interval = \"1m\"\n\
         [protocol]\nk = 8\n[bootstrap]\nmode = \"join\"\njoin_rate = 40\n\
         [network]\nmin_latency = \"2ms\"\n\
         [network.latency]\nmodel = \"matrix\"\nfile = \"{}/assets/latency/example-300.txt\"\njitter = \"3ms\"\n\
         access = {{ dist = \"lognormal\", median = \"3ms\", sigma = 0.7 }}\n\
         [churn]\nmodel = \"distributions\"\nsession = {{ dist = \"exponential\", mean = \"5m\" }}\n\
         downtime = {{ dist = \"exponential\", mean = \"1m\" }}\n\
         [workload]\nlookup_rate = 0.02\nput_rate = 0.005\nget_rate = 0.01\nkeys = 100\n",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn outputs_are_byte_identical_for_any_thread_count() {
    let matrix = matrix();
    for (name, text) in [("busy", BUSY), ("oracle", ORACLE), ("matrix", matrix.as_str())] {
        let sc = load_str(text, "engine.toml", &[]).expect("valid scenario");
        let mut first: Option<Vec<(String, Vec<u8>)>> = None;
        for threads in [1, 2, 3, 4] {
            let dir = tmpdir(&format!("{name}-{threads}"));
            runner::run(&sc, &dir, &mut Silent, threads).expect("run");
            let got = outputs(&dir);
            match &first {
                None => first = Some(got),
                Some(want) => {
                    for ((f, a), (_, b)) in want.iter().zip(&got) {
                        assert!(a == b, "{name}: {f} differs between 1 and {threads} threads");
                    }
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        let first = first.expect("ran");
        let ops = &first[0].1;
        assert!(ops.iter().filter(|&&b| b == b'\n').count() > 500, "{name}: the runs did work");
        let ts = std::str::from_utf8(&first[1].1).expect("text");
        let header = ts.lines().next().expect("header");
        assert!(header.contains(",lookup_msgs_sent,lookup_bytes_sent,maintenance_msgs_sent,maintenance_bytes_sent"));
    }
}

#[test]
fn a_settled_run_allocates_nothing_per_event() {
    // 400 nodes from the oracle, k = 8, lookups only, busy enough that within
    // ten minutes every node has heard from nearly every other and its
    // replacement caches are full. The next ten minutes (1.7 M events) must
    // allocate nothing per event: what remains is containers growing by
    // doubling (the records, a pool at a new peak of concurrency), measured at
    // about 80, one per 20,000 events. One allocation per message, lookup or
    // request would be hundreds of thousands.
    let text = "nodes = 400\nduration = \"20m\"\nsample_interval = \"1h\"\n\
        [protocol]\nk = 8\n[bootstrap]\nmode = \"oracle\"\n[network.latency]\nmodel = \"coordinates\"\n\
        [workload]\nlookup_rate = 0.3\nput_rate = 0\nget_rate = 0\n";
    let sc = load_str(text, "alloc.toml", &[]).expect("valid scenario");
    let mut w = World::with_threads(&sc, Vec::new(), 1);
    w.run_until(600_000_000);
    let e0 = w.events();
    // `allocation_counter` counts what this thread allocates while the closure runs.
    let info = allocation_counter::measure(|| {
        w.run_until(1_200_000_000);
    });
    let events = w.events() - e0;
    assert!(events > 500_000, "{events} events measured");
    assert!(info.count_total * 10_000 < events, "{} allocations over {events} events", info.count_total);
}

/// This process's CPU seconds in the kernel so far (`/proc/self/stat`, field
/// 15, in clock ticks of `getconf CLK_TCK`, 100 if that fails).
fn system_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command name (in parentheses) start at the 3rd; stime is the 15th.
    let rest = stat.rsplit_once(')').expect("stat line").1;
    let ticks: f64 = rest.split_whitespace().nth(12).and_then(|v| v.parse().ok()).expect("stime");
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    ticks / hz
}

/// Idle workers park: a run whose windows are too small to share (1,000
/// nodes from the oracle, node lookups only, a few events per 1 ms window),
/// forced onto two threads for about a second of wall time (release build),
/// spends less than 5% of its wall time in the kernel. The spinning barrier
/// this replaced yielded between windows and spent about half of it there.
///
/// The run happens in a child process (this test binary, this test only),
/// so that the system time of other tests running alongside does not count.
#[test]
fn idle_workers_park_and_cost_no_system_time() {
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: system time is read from /proc/self/stat, on Linux only");
        return;
    }
    const NAME: &str = "engine::idle_workers_park_and_cost_no_system_time";
    if std::env::var_os("KADSIM_TEST_PARK_CHILD").is_none() {
        let exe = std::env::current_exe().expect("own path");
        let out = std::process::Command::new(exe)
            .args([NAME, "--exact", "--nocapture", "--test-threads", "1"])
            .env("KADSIM_TEST_PARK_CHILD", "1")
            .output()
            .expect("child test runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("1 passed"), "child run failed:\n{text}");
        if let Some(line) = text.lines().find(|l| l.starts_with("system time")) {
            println!("{line}");
        }
        return;
    }
    // A debug build is some 10 times slower: a shorter run there.
    let duration = if cfg!(debug_assertions) { "20s" } else { "120s" };
    let text = format!(
        "nodes = 1000\nduration = \"{duration}\"\nwarmup = \"0s\"\nsample_interval = \"10s\"\n\
         [bootstrap]\nmode = \"oracle\"\n[network.latency]\nmodel = \"coordinates\"\n\
         [workload]\nlookup_rate = 0.1\nput_rate = 0\nget_rate = 0\n"
    );
    let sc = load_str(&text, "park.toml", &[]).expect("valid scenario");
    let mut w = World::with_threads(&sc, Vec::new(), 2);
    // As `kadsim run` does: a second of simulated time at a time.
    w.run_until(1_000_000);
    let (sys0, start) = (system_seconds(), std::time::Instant::now());
    let mut t = 1_000_000;
    while w.run_until(t) && t < w.end() {
        t += 1_000_000;
    }
    let (sys, wall) = (system_seconds() - sys0, start.elapsed().as_secs_f64());
    println!("system time {sys:.3} s of {wall:.3} s wall ({:.1}%), {} events", 100.0 * sys / wall, w.events());
    assert!(w.events() > 100_000, "{} events", w.events());
    assert!(sys < 0.05 * wall, "{sys:.3} s of {wall:.3} s wall in the kernel: the workers do not park");
}

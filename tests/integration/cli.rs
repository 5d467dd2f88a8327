//! The `kadsim` binary as a user runs it: `run` and `validate`, their outputs,
//! their determinism, and their errors.

use crate::bin::{kadsim, tmpdir};
use std::path::{Path, PathBuf};

/// A small scenario with every model switched on: churn, loss, jitter, a partition.
const SMALL: &str = r#"
name = "small"
nodes = 150
duration = "6m"
warmup = "1m"
sample_interval = "30s"
[bootstrap]
join_rate = 10
[network.latency]
model = "lognormal"
median = "40ms"
sigma = 0.5
jitter = "5ms"
[network.loss]
model = "independent"
rate = 0.02
[[network.partitions]]
start = "3m"
end = "4m"
fraction = 0.2
[churn]
model = "distributions"
session = { dist = "weibull", shape = 0.6, scale = "10m" }
downtime = { dist = "exponential", mean = "2m" }
[workload]
lookup_rate = 0.02
put_rate = 0.005
get_rate = 0.01
keys = 50
"#;

const FILES: [&str; 5] = ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv"];

fn trace_hash(dir: &Path) -> String {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    m["trace_hash"].as_str().unwrap().to_string()
}

#[test]
fn same_seed_same_bytes_other_seed_other_trace() {
    let d = tmpdir("det");
    let file = d.join("small.toml");
    std::fs::write(&file, SMALL).unwrap();
    let f = file.to_str().unwrap();
    let runs = [("a", vec!["--quiet"]), ("b", vec![]), ("c", vec!["--quiet", "--seed", "2"])];
    for (name, extra) in &runs {
        let out = d.join(name);
        let mut args = vec!["run", f, "--out", out.to_str().unwrap()];
        args.extend(extra.iter().copied());
        let o = kadsim(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for file in FILES {
        let a = std::fs::read(d.join("a").join(file)).unwrap();
        let b = std::fs::read(d.join("b").join(file)).unwrap();
        assert!(a == b, "{file} differs between two runs of the same seed (one with --quiet)");
    }
    assert_eq!(trace_hash(&d.join("a")), trace_hash(&d.join("b")));
    assert_ne!(trace_hash(&d.join("a")), trace_hash(&d.join("c")), "another seed, another trace");
    assert_ne!(std::fs::read(d.join("a/ops.csv")).unwrap(), std::fs::read(d.join("c/ops.csv")).unwrap());
    // The run did something: lookups happened, churn happened, no temporary file is left.
    let summary = std::fs::read_to_string(d.join("a/summary.csv")).unwrap();
    let get =
        |k: &str| -> f64 { summary.lines().find_map(|l| l.strip_prefix(&format!("{k},"))).unwrap().parse().unwrap() };
    assert!(get("find_node.count") > 100.0);
    assert!(get("churn.leaves") > 10.0);
    assert!(get("msgs.cut") > 0.0 && get("msgs.lost") > 0.0);
    // The files compared hold the split into lookup and maintenance traffic, both flowing.
    assert!(get("msgs.lookup_per_live_node_per_s") > 0.0 && get("bytes.maintenance_per_live_node_per_s") > 0.0);
    let ts = std::fs::read_to_string(d.join("a/timeseries.csv")).unwrap();
    assert!(ts.lines().next().unwrap().contains(",maintenance_msgs_sent,maintenance_bytes_sent"));
    assert!(
        std::fs::read_dir(d.join("a")).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn static_run_lookups_succeed_with_literature_hop_counts() {
    let d = tmpdir("static");
    let file = d.join("s.toml");
    std::fs::write(&file, "nodes = 400\nduration = \"4m\"\nwarmup = \"1m\"\n[bootstrap]\njoin_rate = 20\n").unwrap();
    let o = kadsim(&["run", file.to_str().unwrap(), "--out", d.join("r").to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ops = std::fs::read_to_string(d.join("r/ops.csv")).unwrap();
    let header: Vec<&str> = ops.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (kind, hops, success) = (col("kind"), col("hops"), col("success"));
    let lookups: Vec<Vec<&str>> =
        ops.lines().skip(1).map(|l| l.split(',').collect::<Vec<_>>()).filter(|r| r[kind] == "find_node").collect();
    assert!(lookups.len() > 50);
    assert!(lookups.iter().all(|r| r[success] == "true"), "every lookup in a static network succeeds");
    let mean = lookups.iter().map(|r| r[hops].parse::<f64>().unwrap()).sum::<f64>() / lookups.len() as f64;
    // k = 20, n = 400: each reply narrows the search by about log2(k) bits, so
    // about log2(n)/log2(k) + 1 ≈ 3 hops at most; at least one.
    assert!((1.0..=3.0).contains(&mean), "mean hops {mean}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn invalid_scenarios_exit_2_with_one_clear_line() {
    let d = tmpdir("bad");
    let cases: &[(&str, &str, &str)] = &[
        ("syntax", "nodes = = 3\n", "syntax.toml:1:"),
        ("unknown", "[protocol]\nkk = 3\n", "unknown.toml:2:1: protocol.kk: unknown field"),
        ("type", "nodes = \"many\"\n", "type.toml:1:9: nodes: invalid type"),
        ("kzero", "[protocol]\nk = 0\n", "kzero.toml:2:5: protocol.k: expected an integer from 1 to 255"),
        (
            "loss",
            "[network.loss]\nmodel = \"independent\"\nrate = 1.5\n",
            "loss.toml:3:8: network.loss.rate: expected a probability from 0 to 1",
        ),
        (
            "latency",
            "[network.latency]\nvalue = \"-20ms\"\n",
            "latency.toml:2:9: network.latency.value: expected a non-negative duration",
        ),
        ("trace", "[churn]\nmodel = \"trace\"\ntrace = \"missing.csv\"\n", "trace.toml:3:9: churn.trace: trace file"),
    ];
    for (name, text, want) in cases {
        let file = d.join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        for cmd in ["run", "validate"] {
            let o = kadsim(
                &[cmd, file.to_str().unwrap(), "--out", d.join("out").to_str().unwrap()]
                    [..if cmd == "run" { 4 } else { 2 }],
            );
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} {name}: {err}");
            assert!(err.contains(want), "{cmd} {name}:\n got: {err}\nwant: {want}");
            assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    assert!(!d.join("out").exists(), "nothing is written for a bad scenario");
    // A bad --set and a bad trace file are bad input too.
    let good = d.join("good.toml");
    std::fs::write(&good, "nodes = 10\n").unwrap();
    let o = kadsim(&["run", good.to_str().unwrap(), "--set", "protocol.alpha=0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--set protocol.alpha=0: protocol.alpha:"));
    std::fs::write(d.join("bad.csv"), "time_s,node,event\n1.0,3,sideways\n").unwrap();
    let t = d.join("t.toml");
    std::fs::write(&t, "nodes = 10\n[churn]\nmodel = \"trace\"\ntrace = \"bad.csv\"\n").unwrap();
    let o = kadsim(&["run", t.to_str().unwrap(), "--out", d.join("t-out").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.csv:2: event:"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn validate_prints_the_scenario_with_defaults() {
    let d = tmpdir("validate");
    let file = d.join("v.toml");
    std::fs::write(&file, "nodes = 10\n").unwrap();
    let o = kadsim(&["validate", file.to_str().unwrap(), "--set", "protocol.k=8"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("k = 8") && text.contains("alpha = 3") && text.contains("name = \"v\""), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn shipped_scenarios_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let o = kadsim(&["validate", p.to_str().unwrap()]);
            assert!(o.status.success(), "{}: {}", p.display(), String::from_utf8_lossy(&o.stderr));
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(text.starts_with('#'), "{} starts with a comment header", p.display());
            n += 1;
        }
    }
    assert!(n >= 5);
}

#[test]
fn the_guides_scenario_tours_are_valid() {
    // Every whole scenario the guide shows in a toml block (the tour of
    // docs/scenarios.md, the tutorial's file); blocks named `# NAME.toml`
    // are a transcript's inputs, bad on purpose (docs_commands.rs runs them).
    let d = tmpdir("readme");
    let mut n = 0;
    for page in ["docs/scenarios.md", "docs/tutorial.md"] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(page)).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("```toml\n") {
            let body_start = at + "```toml\n".len();
            let end = body_start + rest[body_start..].find("```").unwrap();
            let body = &rest[body_start..end];
            rest = &rest[end + 3..];
            if body.starts_with("# ") && body.lines().next().is_some_and(|l| l.ends_with(".toml")) {
                continue;
            }
            // Fragments ([study] alone) are checked with their scenario by the study tests.
            if !body.contains("nodes =") && !body.contains("name =") {
                continue;
            }
            let file = d.join("tour.toml");
            std::fs::write(&file, body).unwrap();
            let o = kadsim(&["validate", file.to_str().unwrap()]);
            assert!(o.status.success(), "{page}: {}", String::from_utf8_lossy(&o.stderr));
            n += 1;
        }
    }
    assert!(n >= 2, "the guide shows whole scenarios: {n}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Exit code 2 and one line containing `want`, for both `validate` and `run`;
/// `run` writes nothing.
fn refused(d: &Path, name: &str, text: &str, set: &[&str], want: &str) {
    let file = d.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    let out = d.join(format!("{name}-out"));
    for cmd in ["validate", "run"] {
        let mut args = vec![cmd, file.to_str().unwrap()];
        for s in set {
            args.extend(["--set", s]);
        }
        if cmd == "run" {
            args.extend(["--out", out.to_str().unwrap(), "--quiet"]);
        }
        let o = kadsim(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd} {name}: {err}");
        assert!(err.starts_with("kadsim: ") && err.contains(want), "{cmd} {name}:\n got: {err}\nwant: {want}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!out.exists(), "{name}: nothing is written");
}

#[test]
fn scenarios_too_big_to_run_are_refused_naming_the_field() {
    let d = tmpdir("huge");
    let cases: &[(&str, &str, &str)] = &[
        (
            "rows",
            "duration = \"1h\"\nsample_interval = \"1us\"\n",
            "rows.toml:2:19: sample_interval: 1us over 1h makes 3.6e9 timeseries rows",
        ),
        ("keys", "[workload]\nkeys = 4294967295\n", "keys.toml:2:8: workload.keys: 4294967295 keys"),
        ("nodes", "nodes = 4294967295\n", "nodes.toml:1:9: nodes: 4294967295 nodes at about"),
        ("oracle", "nodes = 50000000\n[bootstrap]\nmode = \"oracle\"\n", "oracle.toml:1:9: nodes: 50000000 nodes"),
        (
            "refresh",
            "[protocol]\nrefresh_interval = \"1us\"\n",
            "refresh.toml:2:20: protocol.refresh_interval: 1us makes every node refresh its buckets more than once per simulated millisecond; use at least 1ms",
        ),
        (
            "churn",
            "[churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"1us\" }\ndowntime = { dist = \"exponential\", mean = \"1us\" }\n",
            "churn.toml:3:11: churn.session: a median session of 693ns",
        ),
        ("lookups", "[workload]\nlookup_rate = 1000\n", "lookups.toml:2:15: workload.lookup_rate: lookups at 1000"),
    ];
    for (name, text, want) in cases {
        refused(&d, name, text, &[], want);
        let err =
            String::from_utf8_lossy(&kadsim(&["validate", d.join(format!("{name}.toml")).to_str().unwrap()]).stderr)
                .to_string();
        assert!(err.contains("over the") || err.ends_with("at least 1ms\n"), "says which limit: {err}");
    }
    // Through --set too, naming the override.
    refused(
        &d,
        "set",
        "nodes = 10\n",
        &["nodes=4294967295"],
        "kadsim: --set nodes=4294967295: nodes: 4294967295 nodes",
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn out_of_range_values_and_names_leaving_results_are_refused() {
    let d = tmpdir("names");
    refused(
        &d,
        "value",
        "[workload]\nvalue_size = 1000000000\n",
        &[],
        "value.toml:2:14: workload.value_size: expected at most 1000 bytes",
    );
    refused(&d, "abs", "name = \"/abs/path\"\n", &[], "abs.toml:1:8: name: expected a plain file name");
    refused(&d, "up", "name = \"../..\"\n", &[], "up.toml:1:8: name: expected a plain file name");
    refused(&d, "setname", "nodes = 10\n", &["name=../../x"], "--set name=../../x: name: expected a plain file name");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn long_values_are_echoed_cut_with_their_length() {
    let d = tmpdir("long");
    let long = "x".repeat(20_000);
    let cases = [
        ("str", format!("nodes = \"{long}\"\n"), "…\" (20000 bytes), expected u32"),
        ("key", format!("{long} = 1\n"), "… (20000 bytes): unknown field"),
        ("variant", format!("[network.latency]\nmodel = \"{long}\"\n"), "…` (20000 bytes), expected one of"),
        ("unit", format!("[network.latency]\nvalue = \"5{long}\"\n"), "…\" (20000 bytes)"),
        ("name", format!("name = \"{long}\"\n"), "…\" (20000 bytes)"),
        ("syntax", format!("a = \"{long}\n"), "invalid TOML"),
    ];
    for (name, text, want) in &cases {
        let file = d.join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let o = kadsim(&["validate", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(err.len() < 600, "{name}: {} bytes: {}", err.len(), err.chars().take(300).collect::<String>());
        assert!(err.contains(want), "{name}: {err}");
    }
    let good = d.join("good.toml");
    std::fs::write(&good, "nodes = 10\n").unwrap();
    let o = kadsim(&["validate", good.to_str().unwrap(), "--set", &format!("seed={long}")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.len() < 600 && err.contains("(20011 bytes): seed:") && err.contains("(20000 bytes), expected u64"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn run_and_validate_take_short_parameter_names() {
    let d = tmpdir("short");
    let file = d.join("s.toml");
    std::fs::write(&file, "nodes = 40\nduration = \"1m\"\n[bootstrap]\njoin_rate = 40\n").unwrap();
    let f = file.to_str().unwrap();
    let o = kadsim(&["validate", f, "--set", "k=8", "--set", "alpha=2", "--set", "nodes=30"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("k = 8") && text.contains("alpha = 2") && text.contains("nodes = 30"), "{text}");
    let out = d.join("r");
    let o = kadsim(&["run", f, "--set", "k=8", "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["scenario"]["protocol"]["k"], 8, "the run used k = 8");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn validate_prints_every_effective_value_and_the_print_reloads() {
    let d = tmpdir("effective");
    let mut files: Vec<PathBuf> = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for dir in [root.clone(), root.join("bench"), root.join("regression")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    // Nothing but the models chosen: every parameter comes from the defaults.
    let bare = d.join("bare.toml");
    std::fs::write(
        &bare,
        "nodes = 10\n[network.loss]\nmodel = \"gilbert_elliott\"\n[churn]\nmodel = \"distributions\"\n",
    )
    .unwrap();
    files.push(bare.clone());
    for (i, file) in files.iter().enumerate() {
        let o = kadsim(&["validate", file.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&o.stderr));
        let printed = String::from_utf8_lossy(&o.stdout).to_string();
        let t: toml::Table = printed.parse().unwrap();
        let net = &t["network"];
        let latency = net["latency"].as_table().unwrap();
        let need: &[&str] = match latency["model"].as_str().unwrap() {
            "constant" => &["value"],
            "uniform" => &["min", "max"],
            "lognormal" => &["median", "sigma"],
            "matrix" => &["file", "format", "unit", "missing", "sha1"],
            _ => &["width", "height_mean"],
        };
        for f in need {
            assert!(latency.contains_key(*f), "{}: network.latency.{f} missing in\n{printed}", file.display());
        }
        let loss = net["loss"].as_table().unwrap();
        let need: &[&str] = match loss["model"].as_str().unwrap() {
            "independent" => &["rate"],
            "gilbert_elliott" => &["p_good_bad", "p_bad_good", "loss_good", "loss_bad"],
            _ => &[],
        };
        for f in need {
            assert!(loss.contains_key(*f), "{}: network.loss.{f} missing in\n{printed}", file.display());
        }
        if t["churn"]["model"].as_str() == Some("distributions") {
            for f in ["session", "downtime"] {
                assert!(t["churn"].get(f).is_some(), "{}: churn.{f} missing in\n{printed}", file.display());
            }
        }
        // The printed file loads back to the same scenario.
        let again = d.join(format!("again-{i}.toml"));
        std::fs::write(&again, &printed).unwrap();
        let o = kadsim(&["validate", again.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout), printed, "{}", file.display());
    }
    let o = kadsim(&["validate", bare.to_str().unwrap()]);
    let printed = String::from_utf8_lossy(&o.stdout);
    for want in ["value = \"50ms\"", "p_bad_good = 0.1", "loss_bad = 0.5", "shape = 0.5", "mean = \"1h\""] {
        assert!(printed.contains(want), "{want} in\n{printed}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn validate_prints_warnings_on_stderr() {
    let d = tmpdir("warn");
    let file = d.join("w.toml");
    std::fs::write(
        &file,
        "nodes = 2000\nduration = \"40m\"\nwarmup = \"5m\"\n[bootstrap]\njoin_rate = 1\n[[network.partitions]]\nstart = \"1m\"\nend = \"2m\"\nfraction = 0.3\n",
    )
    .unwrap();
    let o = kadsim(&["validate", file.to_str().unwrap()]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].starts_with(
            "warning: bootstrap.join_rate: at 1 joins per second only 301 of 2000 nodes have started joining by the end of the warm-up (5m); the last starts at 33m19s"
        ),
        "{err}"
    );
    assert!(lines[1].starts_with("warning: network.partitions.0: lies wholly inside the warm-up"), "{err}");
    assert!(lines[2].ends_with("w.toml: ok"), "{err}");
    // The shipped scenarios have none.
    let o = kadsim(&["validate", Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/churn.toml").to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
    let _ = std::fs::remove_dir_all(&d);
}

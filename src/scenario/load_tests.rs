//! Every invalid scenario gets one line naming the file, field path, position
//! and what was expected.

use super::*;

fn err(text: &str) -> String {
    load_str(text, "s.toml", &[]).unwrap_err().to_string()
}

#[test]
fn defaults_are_the_papers() {
    let sc = load_str("", "s.toml", &[]).unwrap();
    // The simulator's one departure: no per-subnet admission limit unless asked
    // for (`max_per_subnet_per_bucket`), a defence that is off by default.
    let paper = crate::kad::Config { max_per_subnet_per_bucket: crate::kad::MAX_K, ..crate::kad::Config::default() };
    assert_eq!(sc.protocol.config(), paper);
    assert_eq!(sc, Scenario::default());
}

#[test]
fn invalid_scenarios_table() {
    let cases: &[(&str, &str)] = &[
        ("nodes = \n", "s.toml:1:"),
        ("[protocol]\nk = 0\n", "s.toml:2:5: protocol.k: expected an integer from 1 to 255"),
        ("[protocol]\nkk = 3\n", "s.toml:2:1: protocol.kk: unknown field"),
        ("nodes = \"many\"\n", "s.toml:1:9: nodes: invalid type: string \"many\", expected u32"),
        (
            "[network.loss]\nmodel = \"independent\"\nrate = 1.5\n",
            "s.toml:3:8: network.loss.rate: expected a probability from 0 to 1, got 1.5",
        ),
        (
            "[network.latency]\nvalue = \"-5ms\"\n",
            "s.toml:2:9: network.latency.value: expected a non-negative duration",
        ),
        ("[network.latency]\nvalue = -0.005\n", "s.toml:2:9: network.latency.value: expected a non-negative duration"),
        (
            "[network.latency]\nmodel = \"uniform\"\nmin = \"50ms\"\nmax = \"10ms\"\n",
            "s.toml:4:7: network.latency.max: expected max >= min",
        ),
        (
            "[network.latency]\nmodel = \"uniform\"\nvalue = \"5ms\"\n",
            "s.toml:3:9: network.latency.value: does not apply to model \"uniform\"",
        ),
        ("[network.latency]\nmodel = \"warp\"\n", "s.toml:2:9: network.latency.model: unknown variant `warp`"),
        ("[churn]\nmodel = \"trace\"\n", "churn.trace: expected the path of a trace file"),
        (
            "[churn]\nmodel = \"distributions\"\nsession = { dist = \"weibull\", shape = 0.5 }\n",
            "s.toml:3:11: churn.session.scale: required by dist \"weibull\"",
        ),
        ("duration = \"10000d\"\n", "s.toml:1:12: duration: expected at most 2^48 microseconds"),
        ("duration = \"1h\"\nwarmup = \"2h\"\n", "s.toml:2:10: warmup: expected a warm-up no longer than the duration"),
        (
            "[[network.partitions]]\nstart = \"2m\"\nend = \"1m\"\nfraction = 0.5\n",
            "network.partitions.0.end: expected an end after the start",
        ),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(got.contains(want), "for {text:?}\n got: {got}\nwant: {want}");
        assert!(!got.contains('\n'), "one line: {got}");
    }
}

#[test]
fn overrides_apply_and_are_named_in_errors() {
    let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let sc =
        load_str("[protocol]\nk = 8\n", "s.toml", &o(&["protocol.k=16", "protocol.parallelism=strict", "duration=2h"]))
            .unwrap();
    assert_eq!(sc.protocol.k, 16);
    assert_eq!(sc.protocol.parallelism, ParallelismName::Strict);
    assert_eq!(sc.duration, crate::scenario::units::Dur::secs(7200));
    let e = load_str("", "s.toml", &o(&["protocol.k=0"])).unwrap_err().to_string();
    assert_eq!(e, "--set protocol.k=0: protocol.k: expected an integer from 1 to 255");
    let e = load_str("", "s.toml", &o(&["protocol.kay=3"])).unwrap_err().to_string();
    assert!(e.contains("protocol.kay: unknown field"), "{e}");
    let e = load_str("", "s.toml", &o(&["protocol"])).unwrap_err().to_string();
    assert!(e.contains("expected path.to.field=value"), "{e}");
}

#[test]
fn missing_trace_file_is_named() {
    let dir = std::env::temp_dir().join(format!("kadsim-trace-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.toml");
    std::fs::write(&file, "[churn]\nmodel = \"trace\"\ntrace = \"nope.csv\"\n").unwrap();
    let e = load_file(&file, &[]).unwrap_err().to_string();
    assert!(e.contains(":3:9: churn.trace: trace file") && e.contains("nope.csv not found"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn out_of_range_values_and_names_are_field_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "[workload]\nvalue_size = 1001\n",
            "s.toml:2:14: workload.value_size: expected at most 1000 bytes (BEP 44's limit on a value), got 1001",
        ),
        ("name = \"/abs/path\"\n", "s.toml:1:8: name: expected a plain file name"),
        ("name = \"../..\"\n", "s.toml:1:8: name: expected a plain file name"),
        ("name = \"..\"\n", "s.toml:1:8: name: expected a plain file name"),
        ("name = \"a\\\\b\"\n", "s.toml:1:8: name: expected a plain file name"),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(got.starts_with(want), "for {text:?}\n got: {got}\nwant: {want}");
    }
    let o = vec!["name=../x".to_string()];
    let e = load_str("", "s.toml", &o).unwrap_err().to_string();
    assert!(e.starts_with("--set name=../x: name: expected a plain file name"), "{e}");
}

#[test]
fn short_override_names_are_protocol_fields() {
    let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let sc = load_str("", "s.toml", &o(&["k=8", "alpha=5", "nodes=30", "refresh_interval=2h"])).unwrap();
    assert_eq!((sc.protocol.k, sc.protocol.alpha, sc.nodes), (8, 5, 30));
    assert_eq!(sc.protocol.refresh_interval, crate::scenario::units::Dur::secs(7200));
    let e = load_str("", "s.toml", &o(&["k=0"])).unwrap_err().to_string();
    assert_eq!(e, "--set k=0: protocol.k: expected an integer from 1 to 255");
}

#[test]
fn long_user_values_are_cut_in_errors() {
    let long = "x".repeat(10_000);
    let cases = [
        format!("nodes = \"{long}\"\n"),
        format!("[network.latency]\nmodel = \"{long}\"\n"),
        format!("[network.latency]\nvalue = \"5{long}\"\n"),
        format!("{long} = 3\n"),
        format!("name = \"{long}\"\n"),
        format!("a = \"{long}\n"),
    ];
    for text in &cases {
        let got = err(text);
        assert!(got.len() < 700, "{} bytes: {}", got.len(), &got[..300]);
        assert!(!got.contains('\n'));
    }
    // Each cut value says how long it was.
    assert!(err(&cases[0]).contains("…\" (10000 bytes), expected u32"), "{}", err(&cases[0]));
    assert!(err(&cases[3]).contains("… (10000 bytes): unknown field"), "{}", err(&cases[3]));
    let e = load_str("", "s.toml", &[format!("nodes={long}")]).unwrap_err().to_string();
    assert!(e.len() < 700 && e.starts_with("--set nodes=xxx") && e.contains("bytes)"), "{e}");
}

#[test]
fn sections_must_be_tables_in_files_and_overrides() {
    let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(err("protocol = [8, 3]\n"), "s.toml:1:12: protocol: expected a table ([protocol]), got an array");
    assert_eq!(
        err("nodes = 10\n[network]\nlatency = [\"50ms\"]\n"),
        "s.toml:3:11: network.latency: expected a table ([network.latency]), got an array"
    );
    assert_eq!(
        err("[churn]\nmodel = \"distributions\"\nsession = [\"exponential\", \"1h\"]\n"),
        "s.toml:3:11: churn.session: expected a table ([churn.session]), got an array"
    );
    assert_eq!(
        err("[network]\npartitions = [[\"1s\", \"2s\", 0.5]]\n"),
        "s.toml:2:15: network.partitions.0: expected a table ([[network.partitions]]), got an array"
    );
    // With a profile (the merged path) and with overrides alike.
    assert_eq!(
        err("profile = \"mainline\"\nadversary = [1]\n"),
        "s.toml:2:13: adversary: expected a table ([adversary]), got an array"
    );
    let e = load_str("[workload]\nkeys = 5\n", "s.toml", &o(&["workload=[1,2]"])).unwrap_err().to_string();
    assert_eq!(e, "--set workload=[1,2]: workload: expected a table ([workload]), got an array");
    let e = load_str("", "s.toml", &o(&["k=8", "network.latency=5"])).unwrap_err().to_string();
    assert_eq!(e, "--set network.latency=5: network.latency: expected a table ([network.latency]), got an integer");
    // The file is checked first, where it is at fault.
    let e = load_str("protocol = [8, 3]\n", "s.toml", &o(&["k=8"])).unwrap_err().to_string();
    assert_eq!(e, "s.toml:1:12: protocol: expected a table ([protocol]), got an array");
}

#[test]
fn durations_without_a_unit_are_refused_in_files_and_overrides() {
    let hint = "durations need a unit: did you mean \"50ms\" or \"50s\"? (units: us, ms, s, m or min, h, d)";
    let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        err("[network.latency]\nmodel = \"lognormal\"\nmedian = 50\n"),
        format!("s.toml:3:10: network.latency.median: {hint}")
    );
    assert_eq!(err("[network.latency]\nvalue = \"50\"\n"), format!("s.toml:2:9: network.latency.value: {hint}"));
    assert_eq!(err("duration = 50\n"), format!("s.toml:1:12: duration: {hint}"));
    let e = load_str("", "s.toml", &o(&["network.latency.value=50"])).unwrap_err().to_string();
    assert_eq!(e, format!("--set network.latency.value=50: network.latency.value: {hint}"));
    let e = load_str("", "s.toml", &o(&["duration=60"])).unwrap_err().to_string();
    assert!(
        e.starts_with("--set duration=60: duration: durations need a unit: did you mean \"60ms\" or \"60s\"?"),
        "{e}"
    );
    let e = load_str("", "s.toml", &o(&["rpc_timeout=1.5"])).unwrap_err().to_string();
    assert!(
        e.starts_with("--set rpc_timeout=1.5: protocol.rpc_timeout: durations need a unit: did you mean \"1.5ms\""),
        "{e}"
    );
    for unit in ["250us", "250µs", "50ms", "30s", "15m", "15min", "2h", "1d"] {
        let sc = load_str(&format!("duration = \"2d\"\n[protocol]\nop_timeout = \"{unit}\"\n"), "s.toml", &[]);
        assert!(sc.is_ok(), "{unit}: {sc:?}");
    }
}

#[test]
fn a_scenario_path_that_is_not_a_regular_file_is_refused() {
    let dir = std::env::temp_dir().join(format!("kadsim-not-regular-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let e = load_file(&dir, &[]).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("{}: cannot read the scenario: not a regular file (a directory); give a file", dir.display())
    );
    #[cfg(unix)]
    {
        let e = load_file(Path::new("/dev/zero"), &[]).unwrap_err().to_string();
        assert_eq!(e, "/dev/zero: cannot read the scenario: not a regular file (a device); give a file");
    }
    let big = dir.join("big.toml");
    std::fs::write(&big, format!("# {}\n", "x".repeat(MAX_SCENARIO_BYTES as usize))).unwrap();
    let e = load_file(&big, &[]).unwrap_err().to_string();
    assert!(e.ends_with("cannot read the scenario: larger than 4 MiB (the most this file may hold)"), "{e}");
    // A trace that is a directory is named as such, not as missing.
    let s = dir.join("t.toml");
    std::fs::create_dir_all(dir.join("trace.csv")).unwrap();
    std::fs::write(&s, "[churn]\nmodel = \"trace\"\ntrace = \"trace.csv\"\n").unwrap();
    let e = load_file(&s, &[]).unwrap_err().to_string();
    assert!(
        e.contains(":3:9: churn.trace: trace file") && e.ends_with("not a regular file (a directory); give a file"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn empty_files_empty_names_bad_bytes_and_a_bom_are_placed() {
    let dir = std::env::temp_dir().join(format!("kadsim-load-places-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let load = |name: &str, bytes: &[u8], set: &[&str]| {
        let f = dir.join(name);
        std::fs::write(&f, bytes).unwrap();
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        let e = load_file(&f, &set).unwrap_err().to_string();
        e.strip_prefix(&format!("{}", dir.display())).map(str::to_string).unwrap_or(e)
    };
    // Nothing at all is refused; a name alone runs the defaults.
    assert!(load("e.toml", b" \n\n", &[]).starts_with("/e.toml: empty file: expected a scenario"));
    assert!(
        load_file(
            &{
                let f = dir.join("n.toml");
                std::fs::write(&f, "name = \"n\"\n").unwrap();
                f
            },
            &[]
        )
        .is_ok()
    );
    // An empty name written out is refused, in the file and in --set.
    assert!(
        load("x.toml", b"nodes = 40\nname = \"\"\n", &[]).starts_with("/x.toml:2:8: name: expected a plain file name")
    );
    assert!(load("y.toml", b"nodes = 40\n", &["name="]).starts_with("--set name=: name: expected a plain file name"));
    // The first byte that is not UTF-8, by line and column.
    assert_eq!(
        load("b.toml", b"nodes = 40\nname = \"\xc3\xa9\xff\"\n", &[]),
        "/b.toml:2:10: cannot read the scenario: not UTF-8 text"
    );
    // A byte-order mark is no column.
    assert!(
        load("m.toml", b"\xef\xbb\xbfduration = 60\n", &[])
            .starts_with("/m.toml:1:12: duration: durations need a unit")
    );
    // A churn trace given by --set is named by it.
    let e = load("t.toml", b"[churn]\nmodel = \"trace\"\n", &["churn.trace=/dev/null/x"]);
    assert!(e.starts_with("--set churn.trace=/dev/null/x: churn.trace: trace file /dev/null/x"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

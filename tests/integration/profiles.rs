//! ID width and profiles, end to end through the `kadsim` binary: 160- and
//! 256-bit networks route alike, each shipped profile's run reflects its
//! parameters, a file's field overrides its profile, and an unknown profile is
//! refused with one line.

use super::bin::{kadsim, tmpdir};
use std::path::{Path, PathBuf};

fn scenario(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(rel)
}

/// Runs `file` with `sets` into a fresh directory; returns it.
fn run(test: &str, file: &Path, sets: &[&str]) -> PathBuf {
    let dir = tmpdir(test);
    let out = dir.join("out");
    let mut args = vec!["run", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = kadsim(&args);
    assert!(o.status.success(), "{test}: {}", String::from_utf8_lossy(&o.stderr));
    out
}

/// A `metric,value` of summary.csv.
fn summary(dir: &Path, metric: &str) -> f64 {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{metric},")))
        .unwrap_or_else(|| panic!("no {metric} in summary.csv"))
        .parse()
        .unwrap_or(f64::NAN)
}

/// (bucket index, contacts mean) rows of buckets.csv.
fn buckets(dir: &Path) -> Vec<(u32, f64)> {
    let text = std::fs::read_to_string(dir.join("buckets.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn hops_are_the_same_at_160_and_256_bits_with_10000_oracle_nodes() {
    // Issue 13: "256-bit and 160-bit networks give mean hops within 0.03 of
    // each other at 10,000 oracle nodes" (same n and k). About 9,000 lookups
    // each, so that the standard error of the difference is near 0.01.
    let file = scenario("bench/oracle.toml");
    let sets = ["nodes=10000", "workload.lookup_rate=0.01", "duration=2m"];
    let narrow = run("hops160", &file, &sets);
    let wide = run("hops256", &file, &[&sets[..], &["protocol.id_bits=256"]].concat());
    let (h160, h256) = (summary(&narrow, "find_node.hops.mean"), summary(&wide, "find_node.hops.mean"));
    assert!(summary(&wide, "find_node.count") > 8000.0);
    assert!((h160 - h256).abs() < 0.03, "mean hops {h160:.4} at 160 bits, {h256:.4} at 256");
    assert_eq!(summary(&wide, "find_node.success_rate"), 1.0, "every lookup finds the true closest node");
    // Bucket indices follow the width: the farthest half is bucket 159 or 255.
    assert_eq!(buckets(&narrow)[0].0, 159);
    assert_eq!(buckets(&wide)[0].0, 255);
    // nodes.csv holds 64-digit IDs at 256 bits.
    let nodes = std::fs::read_to_string(wide.join("nodes.csv")).unwrap();
    let id = nodes.lines().nth(1).unwrap().split(',').nth(1).unwrap();
    assert_eq!(id.len(), 64, "{id}");
}

#[test]
fn mainline_replies_carry_8_contacts_charged_at_krpc_sizes() {
    // Node lookups only, tables from the oracle, and no eviction pings: the
    // traffic is find_node queries (103 bytes) and replies of 8 compact node
    // infos (58 + 11 + 208 = 277 bytes, BEP 5), so a message averages
    // (103 + 277) / 2 = 190 bytes.
    let file = scenario("profiles/mainline.toml");
    let sets = [
        "bootstrap.mode=oracle",
        "eviction=lazy",
        "duration=4m",
        "warmup=1m",
        "workload.put_rate=0",
        "workload.get_rate=0",
        "workload.lookup_rate=0.01",
    ];
    let out = run("mainline", &file, &sets);
    let per_msg = summary(&out, "bytes.sent") / summary(&out, "msgs.sent");
    assert!((per_msg - 190.0).abs() < 3.0, "{per_msg:.1} bytes per message");
    assert!(buckets(&out).iter().all(|(_, c)| *c <= 8.0), "k = 8");
    assert_eq!(buckets(&out)[0], (159, 8.0), "160-bit IDs, full far buckets");
    // The same with k = 20 set over the profile: replies of 20 contacts.
    let k20 = run("mainline-k20", &file, &[&sets[..], &["k=20"]].concat());
    let per_msg = summary(&k20, "bytes.sent") / summary(&k20, "msgs.sent");
    assert!((per_msg - (103.0 + 58.0 + 11.0 + 520.0) / 2.0).abs() < 5.0, "{per_msg:.1} bytes per message with k = 20");
}

#[test]
fn the_shipped_mainline_scenario_runs_get_peers_and_announce_peer() {
    let out = run("mainline-full", &scenario("profiles/mainline.toml"), &["duration=8m", "warmup=2m"]);
    assert!(summary(&out, "get.count") > 100.0 && summary(&out, "put.count") > 100.0);
    assert!(summary(&out, "get.success_rate") > 0.95, "peers found under their infohashes");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let s = &m["scenario"];
    assert_eq!(s["profile"], "mainline");
    assert_eq!((s["protocol"]["k"].as_u64(), s["protocol"]["id_bits"].as_u64()), (Some(8), Some(160)));
    assert_eq!(s["protocol"]["refresh_interval"], "15m");
    assert_eq!(s["workload"]["records"], "peers");
}

#[test]
fn mainline_good_nodes_are_not_pinged_so_maintenance_traffic_falls() {
    // BEP 5: a full bucket pings only questionable contacts (silent for 15
    // minutes, or never answered); the paper's §2.2 pings the least recently
    // seen contact for every newcomer. Same network, same lookups.
    let file = scenario("profiles/mainline.toml");
    let sets = ["nodes=400", "duration=25m"];
    let bep5 = run("mainline-good", &file, &sets);
    let paper = run("mainline-ping-all", &file, &[&sets[..], &["protocol.questionable_after=0s"]].concat());
    let (m_bep5, m_paper) = (
        summary(&bep5, "msgs.maintenance_per_live_node_per_s"),
        summary(&paper, "msgs.maintenance_per_live_node_per_s"),
    );
    // Measured: 0.119 vs 0.679 messages per node-second.
    assert!(m_bep5 < 0.3 * m_paper, "maintenance {m_bep5} (BEP 5) vs {m_paper} (ping every time)");
    for dir in [&bep5, &paper] {
        assert!(summary(dir, "find_node.success_rate") > 0.99);
        assert!(summary(dir, "get.success_rate") > 0.99);
    }
    let lookups = |d: &Path| summary(d, "msgs.lookup_per_live_node_per_s");
    assert!((lookups(&bep5) / lookups(&paper) - 1.0).abs() < 0.05, "lookup traffic unchanged");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bep5.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["scenario"]["protocol"]["questionable_after"], "15m");
}

#[test]
fn get_peers_returns_every_peer_that_announced_the_infohash() {
    // BEP 5: a storer keeps each announcing peer under the infohash and
    // get_peers returns them all. Count, for every get, the distinct nodes
    // whose announce of that infohash had finished before the get started
    // (peers expire after 30 min and are re-announced every 15 min, so none
    // is lost in a 20-minute run without churn).
    let file = scenario("profiles/mainline.toml");
    let out = run("mainline-peers", &file, &["nodes=500", "duration=20m", "warmup=0s", "workload.put_rate=0.01"]);
    let text = std::fs::read_to_string(out.join("ops.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (start, end, kind, origin, target, success, peers) =
        (col("start_us"), col("end_us"), col("kind"), col("origin"), col("target"), col("success"), col("peers"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let announced = |key: &str, before: u64, started: bool| {
        let mut who: Vec<&str> = rows
            .iter()
            .filter(|r| r[kind] == "put" && r[target] == key && r[success] == "true")
            .filter(|r| r[if started { start } else { end }].parse::<u64>().unwrap() < before)
            .map(|r| r[origin])
            .collect();
        who.sort_unstable();
        who.dedup();
        who.len()
    };
    let (mut got, mut want, mut gets) = (0usize, 0usize, 0usize);
    for r in rows.iter().filter(|r| r[kind] == "get" && r[success] == "true") {
        let n: usize = r[peers].parse().unwrap();
        let (t0, t1) = (r[start].parse().unwrap(), r[end].parse().unwrap());
        // Announces that finished before the get began are all there at the
        // storers; one still under way may have stored already.
        assert!(n <= announced(r[target], t1, true), "more peers than announcers: {r:?}");
        got += n;
        want += announced(r[target], t0, false);
        gets += 1;
    }
    assert!(gets > 200, "{gets} gets");
    let ratio = got as f64 / want as f64;
    // Measured: 14,103 of 14,472 (0.975), 5.9 peers per get.
    assert!(ratio > 0.9, "gets returned {got} peers of {want} announced ({ratio:.3})");
    assert!(got as f64 / gets as f64 > 3.0, "several peers per infohash");
    // One value per key (the paper's STORE) keeps only the latest announce.
    let one = run(
        "mainline-one-peer",
        &file,
        &["nodes=500", "duration=20m", "warmup=0s", "workload.put_rate=0.01", "protocol.values_per_key=1"],
    );
    assert_eq!(summary(&one, "get.peers.mean"), 1.0);
}

#[test]
fn the_shipped_ipfs_scenario_has_alpha_10_and_256_bit_buckets() {
    let out = run("ipfs", &scenario("profiles/ipfs.toml"), &["duration=4m"]);
    let b = buckets(&out);
    assert_eq!(b[0], (255, 20.0), "256-bit bucket indices, k = 20");
    assert!(summary(&out, "get.success_rate") > 0.99);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let p = &m["scenario"]["protocol"];
    assert_eq!((p["alpha"].as_u64(), p["k"].as_u64(), p["id_bits"].as_u64()), (Some(10), Some(20), Some(256)));
    assert_eq!((p["expire_after"].as_str(), p["publisher_republish_interval"].as_str()), (Some("2d"), Some("22h")));
    // α = 10 queries in flight: a lookup asks more nodes than with α = 3.
    let a3 = run("ipfs-a3", &scenario("profiles/ipfs.toml"), &["duration=4m", "alpha=3"]);
    assert!(summary(&out, "find_node.queried.mean") > summary(&a3, "find_node.queried.mean") + 3.0);
}

#[test]
fn the_shipped_discv5_scenario_has_k_16_and_log_distance_buckets() {
    let out = run("discv5", &scenario("profiles/discv5.toml"), &["duration=5m", "warmup=2m", "nodes=800"]);
    let b = buckets(&out);
    assert_eq!(b[0].0, 255);
    assert!(b.iter().all(|(_, c)| *c <= 16.0), "k = 16: {b:?}");
    assert!(b[0].1 > 15.0, "the farthest bucket is full");
    assert_eq!(summary(&out, "get.count") + summary(&out, "put.count"), 0.0, "discovery stores nothing");
    assert!(summary(&out, "find_node.success_rate") > 0.95);
}

#[test]
fn a_field_in_the_file_overrides_the_profile_and_validate_shows_both() {
    let dir = tmpdir("override");
    let file = dir.join("s.toml");
    std::fs::write(&file, "profile = \"discv5\"\n[protocol]\nk = 12\n").unwrap();
    let o = kadsim(&["validate", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    for line in ["profile = \"discv5\"", "k = 12", "id_bits = 256", "buckets = \"log_distance\"", "put_rate = 0.0"] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    // --set beats both, and may choose the profile.
    let o = kadsim(&["validate", file.to_str().unwrap(), "--set", "k=10", "--set", "profile=ipfs"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.lines().any(|l| l == "k = 10") && text.lines().any(|l| l == "alpha = 10"), "{text}");
    // The printed scenario loads back to itself.
    let printed = dir.join("printed.toml");
    std::fs::write(&printed, text.as_bytes()).unwrap();
    let again = kadsim(&["validate", printed.to_str().unwrap()]);
    assert_eq!(String::from_utf8_lossy(&again.stdout), text);
}

#[test]
fn an_unknown_profile_or_width_is_refused_with_one_line() {
    let dir = tmpdir("unknown-profile");
    let file = dir.join("p.toml");
    std::fs::write(&file, "seed = 3\nprofile = \"kad\"\n").unwrap();
    let o = kadsim(&["validate", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("p.toml:2:11: profile: unknown variant `kad`"), "{err}");
    assert!(err.contains("mainline") && err.contains("discv5"), "{err}");
    std::fs::write(&file, "[protocol]\nid_bits = 192\n").unwrap();
    let o = kadsim(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("p.toml:2:11: protocol.id_bits: expected 160") && err.lines().count() == 1, "{err}");
    let o = kadsim(&["run", file.to_str().unwrap(), "--set", "profile=bep5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("profile"));
}

//! Warnings about a valid scenario, from the scenario alone: values the chosen
//! models ignore, partitions that fall outside the run or inside the warm-up,
//! joins that cannot be done by the end of the warm-up, and settings under
//! which most or all operations fail ([`replies`]). Each is one line
//! starting with the field path; `kadsim validate` prints them as
//! `warning: ...`, `kadsim run` prints them before it runs and the runner
//! writes them to the manifest.

use super::network::*;
use super::sections::*;
use super::units::Dur;
use crate::sim::churn::DurationDist;

/// The warnings of `sc` (a validated scenario), in field order.
pub fn warnings(sc: &Scenario) -> Vec<String> {
    let mut w = Vec::new();
    bootstrap(sc, &mut w);
    churn(&sc.churn, &mut w);
    workload(sc, &mut w);
    network(sc, &mut w);
    replies(sc, &mut w);
    times(sc, &mut w);
    w
}

fn bootstrap(sc: &Scenario, w: &mut Vec<String>) {
    let b = &sc.bootstrap;
    let d = Bootstrap::default();
    if sc.churn.model == ChurnModel::Trace {
        for (field, set) in [("mode", b.mode != d.mode), ("join_rate", b.join_rate != d.join_rate)] {
            if set {
                w.push(format!(
                    "bootstrap.{field}: ignored with churn model \"trace\": nodes come up when the trace says and join through a live node"
                ));
            }
        }
        return;
    }
    match b.mode {
        BootstrapMode::Oracle => {
            if b.join_rate != d.join_rate {
                w.push(
                    "bootstrap.join_rate: ignored with bootstrap mode \"oracle\": every node is up and joined at time 0"
                        .into(),
                );
            }
        }
        BootstrapMode::Join => joins(sc, w),
    }
}

/// Node i starts joining at i / join_rate seconds.
fn joins(sc: &Scenario, w: &mut Vec<String>) {
    let rate = sc.bootstrap.join_rate.0;
    let n = f64::from(sc.nodes);
    let last = (n - 1.0) / rate;
    let started_by = |t: Dur| ((t.as_secs_f64() * rate).floor() + 1.0).min(n);
    let at = |s: f64| hms(s.round() as u64);
    if last > sc.duration.as_secs_f64() {
        w.push(format!(
            "bootstrap.join_rate: at {rate} joins per second only {:.0} of {} nodes start joining before the end of the run ({}); the last would start at {}",
            started_by(sc.duration),
            sc.nodes,
            sc.duration,
            at(last)
        ));
    } else if sc.warmup.0 > 0 && last > sc.warmup.as_secs_f64() {
        w.push(format!(
            "bootstrap.join_rate: at {rate} joins per second only {:.0} of {} nodes have started joining by the end of the warm-up ({}); the last starts at {}, so operations measured before then run in a network still forming",
            started_by(sc.warmup),
            sc.nodes,
            sc.warmup,
            at(last)
        ));
    }
}

/// Whole seconds as `33m19s`, `2h`, `1d3h`.
fn hms(secs: u64) -> String {
    let mut out = String::new();
    let mut left = secs;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if left >= size {
            out.push_str(&format!("{}{unit}", left / size));
            left %= size;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

fn churn(c: &Churn, w: &mut Vec<String>) {
    let d = Churn::default();
    let model = match c.model {
        ChurnModel::None => "none",
        ChurnModel::Distributions => return,
        ChurnModel::Trace => "trace",
    };
    for (field, set) in [("session", c.session.is_some()), ("downtime", c.downtime.is_some())] {
        if set {
            w.push(format!(
                "churn.{field}: ignored with churn model \"{model}\" (only \"distributions\" draws sessions)"
            ));
        }
    }
    if c.model == ChurnModel::None {
        for (field, set) in [("leave", c.leave != d.leave), ("rejoin_id", c.rejoin_id != d.rejoin_id)] {
            if set {
                w.push(format!("churn.{field}: ignored with churn model \"none\": no node leaves"));
            }
        }
    }
}

fn workload(sc: &Scenario, w: &mut Vec<String>) {
    let (l, d) = (&sc.workload, Workload::default());
    if l.put_rate.0 == 0.0 && l.get_rate.0 == 0.0 {
        for (field, set) in [
            ("keys", l.keys != d.keys),
            ("key_distribution", l.key_distribution != d.key_distribution),
            ("zipf_exponent", l.zipf_exponent != d.zipf_exponent),
            ("value_size", l.value_size != d.value_size),
        ] {
            if set {
                w.push(format!("workload.{field}: ignored: no puts or gets (put_rate and get_rate are 0)"));
            }
        }
    } else if l.key_distribution == KeyDistribution::Uniform && l.zipf_exponent != d.zipf_exponent {
        w.push("workload.zipf_exponent: ignored with key_distribution \"uniform\"".into());
    }
    if l.get_rate.0 > 0.0 && l.put_rate.0 == 0.0 {
        w.push("workload.get_rate: no get starts: gets ask for keys put earlier and put_rate is 0".into());
    }
    let p = &sc.protocol;
    // A profile whose storers do not republish (BEP 5, libp2p) sets the two
    // equal on purpose.
    let base = sc.profile.base().protocol;
    let profiles_own = sc.profile != super::Profile::Paper
        && (p.expire_after, p.republish_interval) == (base.expire_after, base.republish_interval);
    if l.put_rate.0 > 0.0 && p.expire_after <= p.republish_interval && !profiles_own {
        w.push(format!(
            "protocol.republish_interval: {} is not shorter than expire_after ({}): pairs expire before they are republished",
            p.republish_interval, p.expire_after
        ));
    }
}

fn network(sc: &Scenario, w: &mut Vec<String>) {
    let floor = sc.network.min_latency;
    let l = sc.effective().network.latency;
    let below = match l.model {
        LatencyModel::Constant => l.value.filter(|v| *v < floor).map(|v| ("value", v)),
        LatencyModel::Uniform => l.max.filter(|v| *v < floor).map(|v| ("max", v)),
        _ => None,
    };
    if let Some((field, v)) = below {
        w.push(format!(
            "network.latency.{field}: {v} is below network.min_latency ({floor}): every message takes at least {floor}"
        ));
    }
    reach(sc, w);
    if let (LatencyModel::Matrix, Some(m)) = (l.model, &l.loaded.0) {
        matrix(sc, m, w);
    }
    for (i, p) in sc.network.partitions.iter().enumerate() {
        let at = format!("network.partitions.{i}");
        if p.start >= sc.duration {
            w.push(format!(
                "{at}.start: {} is not before the end of the run ({}): the cut never happens",
                p.start, sc.duration
            ));
            continue;
        }
        if p.end > sc.duration {
            w.push(format!(
                "{at}.end: {} is after the end of the run ({}): the cut does not heal within the run",
                p.end, sc.duration
            ));
        }
        if sc.warmup.0 > 0 && p.end <= sc.warmup {
            w.push(format!(
                "{at}: lies wholly inside the warm-up ({} to {}, warm-up {}): no measured operation starts during the cut",
                p.start, p.end, sc.warmup
            ));
        }
        // `sim::partition` cuts off exactly round(fraction × nodes) nodes.
        let far = (p.fraction.0 * f64::from(sc.nodes)).round().min(f64::from(sc.nodes));
        if p.fraction.0 == 0.0 {
            w.push(format!("{at}.fraction: 0 cuts off no node"));
        } else if far == 0.0 || far == f64::from(sc.nodes) {
            w.push(format!(
                "{at}.fraction: {} of {} nodes puts {far} on the far side: no message crosses the cut",
                p.fraction.0, sc.nodes
            ));
        }
    }
}

/// Unreachable and client-only nodes (`sim::reach`): a NAT timeout with no
/// unreachable node, a share that rounds to no node, and pinholes that close
/// before a reply can come back.
fn reach(sc: &Scenario, w: &mut Vec<String>) {
    let n = &sc.network;
    if n.unreachable.0 == 0.0 && n.nat_timeout.is_some() {
        w.push("network.nat_timeout: no node is unreachable (network.unreachable = 0): nothing uses it".into());
    }
    // `sim::reach` draws round(share × (nodes − 1)) of nodes 1 to n − 1.
    let pool = f64::from(sc.nodes.saturating_sub(1));
    for (field, share) in [("unreachable", n.unreachable.0), ("clients", n.clients.0)] {
        if share > 0.0 && (share * pool).round() == 0.0 {
            w.push(format!("network.{field}: {share} of the {pool} nodes after node 0 rounds to no node"));
        }
    }
    let rtt = twice(one_way(sc).least.1);
    let nat = n.nat_timeout();
    if n.unreachable.0 > 0.0 && nat <= rtt {
        w.push(format!(
            "network.nat_timeout: {nat} is not longer than the shortest round trip ({rtt}): every reply to an unreachable node arrives after its pinhole closed"
        ));
    }
}

/// A matrix whose host pairs the floor raises, or too few hosts for the nodes.
fn matrix(sc: &Scenario, m: &crate::sim::matrix::Matrix, w: &mut Vec<String>) {
    let floor = sc.network.min_latency;
    let below = m.fraction_below(floor.0);
    if below >= 0.01 {
        let access = if sc.network.latency.access.is_some() { " before access delays" } else { "" };
        w.push(format!(
            "network.min_latency: {floor} is above the one-way delay (half the RTT) of {:.1}% of the matrix's host pairs{access} (the least is {}): those messages take {floor} instead",
            below * 100.0,
            Dur(u64::from(m.min_half_us()))
        ));
    }
    if sc.nodes as usize > m.hosts() {
        w.push(format!(
            "nodes: {} nodes on the matrix's {} hosts share hosts (placed with replacement): two nodes on one host are their access delays apart, at least network.min_latency ({floor})",
            sc.nodes,
            m.hosts()
        ));
    }
}

/// The one-way latency of the network: the least a message can take and a
/// typical one (the median; the mean for the uniform and coordinates
/// models; half the jitter added; to whole milliseconds), both raised to
/// `network.min_latency`, each with the field that sets it.
struct OneWay {
    least: (&'static str, Dur),
    typical: (&'static str, Dur),
}

fn one_way(sc: &Scenario) -> OneWay {
    let floor = sc.network.min_latency;
    let l = sc.effective().network.latency;
    let get = |d: Option<Dur>| d.unwrap_or_default();
    let (field, least, typical) = match l.model {
        LatencyModel::Constant => ("network.latency.value", get(l.value), get(l.value)),
        LatencyModel::Uniform => ("network.latency", get(l.min), Dur((get(l.min).0 + get(l.max).0) / 2)),
        LatencyModel::Lognormal => ("network.latency.median", Dur(0), get(l.median)),
        LatencyModel::Coordinates => {
            let mean = get(l.width).0 as f64 * crate::sim::latency::UNIT_SQUARE_MEAN_DISTANCE
                + 2.0 * get(l.height_mean).0 as f64;
            ("network.latency", Dur(0), Dur(mean.round() as u64))
        }
        LatencyModel::Matrix => match &l.loaded.0 {
            // Nodes sharing a host are 0 apart but for their access delays.
            Some(m) => {
                let shared = sc.nodes as usize > m.hosts();
                let least = if shared { 0 } else { u64::from(m.min_half_us()) };
                let access = l.access.as_ref().map_or(0.0, |d| DurationDist::new(d).quantile_micros(0.5));
                let typical = m.mean_half_us() + 2.0 * access;
                ("network.latency.file", Dur(least), Dur(typical.round() as u64))
            }
            None => ("network.latency.file", Dur(0), Dur(0)),
        },
    };
    let raised = |d: Dur| if d > floor { (field, d) } else { ("network.min_latency", floor) };
    let (typical_field, typical) = raised(typical);
    // An estimate: to whole milliseconds, as one would write it.
    let typical = typical.0.saturating_add(l.jitter.0 / 2);
    let typical = if typical >= 1000 { (typical + 500) / 1000 * 1000 } else { typical };
    OneWay { least: raised(least), typical: (typical_field, Dur(typical)) }
}

fn twice(d: Dur) -> Dur {
    Dur(d.0.saturating_mul(2))
}

/// Settings under which no operation, or hardly any, can succeed. Every
/// operation needs replies: a request and its reply each take a one-way
/// latency of at least `network.min_latency` (`sim::latency`); a reply
/// arriving after `protocol.rpc_timeout` is dropped, and one after the
/// operation's `protocol.op_timeout` comes too late (`kad::node`; a reply at
/// the very instant of the deadline may come first or not); a lookup result
/// holds only nodes that answered; events at the end of the run still run.
/// Gets only start for keys a put stored, so they fail with the puts.
fn replies(sc: &Scenario, w: &mut Vec<String>) {
    const NONE: &str = "no operation can succeed";
    let p = &sc.protocol;
    let OneWay { least: (least_field, least), typical: (typical_field, typical) } = one_way(sc);
    let (rpc, op) = (p.rpc_timeout, p.op_timeout);
    if twice(least) > rpc {
        w.push(format!(
            "{least_field}: every round trip takes at least 2 x {least} = {}, longer than protocol.rpc_timeout ({rpc}): every RPC times out, so {NONE}",
            twice(least)
        ));
    } else if twice(typical) >= rpc {
        w.push(format!(
            "{typical_field}: a typical round trip (2 x {typical} = {}) is not shorter than protocol.rpc_timeout ({rpc}): half the RPCs or more time out and many operations fail",
            twice(typical)
        ));
    }
    if op < twice(least) {
        w.push(format!(
            "protocol.op_timeout: {op} is shorter than the shortest round trip ({}): every operation ends before a reply arrives, so {NONE}",
            twice(least)
        ));
    } else if op <= twice(typical) {
        w.push(format!(
            "protocol.op_timeout: {op} is not longer than a typical round trip ({}): many operations end before a reply arrives",
            twice(typical)
        ));
    }
    let measured = Dur(sc.duration.0 - sc.warmup.0);
    if least >= sc.duration {
        w.push(format!(
            "{least_field}: {least} is not shorter than the run ({}): no reply arrives within the run, so {NONE}",
            sc.duration
        ));
    } else if twice(least) > measured {
        let after = if sc.warmup.0 > 0 { "from the end of the warm-up " } else { "" };
        w.push(format!(
            "{least_field}: a round trip takes at least {}, longer than the {measured} {after}to the end of the run: no measured operation can get a reply",
            twice(least)
        ));
    }
    if let Some(why) = loses_everything(&sc.effective().network.loss) {
        w.push(format!("{why}: every message is lost, so {NONE}"));
    }
    if sc.nodes == 1 {
        w.push(format!("nodes: a single node has no other node to look up, store at or get from, so {NONE}"));
    }
}

/// The field path that makes `loss` (defaults filled in) lose every
/// message, if it does: independent loss at rate 1, or a Gilbert–Elliott
/// chain that loses with probability 1 in every state it can be in (a state
/// is reachable when the chain can start in it or move into it:
/// `sim::loss` starts each chain in its stationary distribution).
fn loses_everything(loss: &Loss) -> Option<&'static str> {
    let p = |x: Option<crate::scenario::units::Probability>| x.map_or(0.0, |x| x.0);
    match loss.model {
        LossModel::None => None,
        LossModel::Independent => (p(loss.rate) >= 1.0).then_some("network.loss.rate"),
        LossModel::GilbertElliott => {
            let (to_bad, to_good) = (p(loss.p_good_bad), p(loss.p_bad_good));
            let good_reachable = to_good > 0.0 || to_bad == 0.0;
            let bad_reachable = to_bad > 0.0;
            let good_loses = !good_reachable || p(loss.loss_good) >= 1.0;
            let bad_loses = !bad_reachable || p(loss.loss_bad) >= 1.0;
            match (good_loses && bad_loses, good_reachable, bad_reachable) {
                (false, ..) => None,
                (true, true, true) => Some("network.loss"),
                (true, true, false) => Some("network.loss.loss_good"),
                (true, false, _) => Some("network.loss.loss_bad"),
            }
        }
    }
}

fn times(sc: &Scenario, w: &mut Vec<String>) {
    if sc.warmup == sc.duration {
        w.push(format!("warmup: equals the duration ({}): no operation is measured", sc.duration));
    }
    if sc.sample_interval > sc.duration {
        w.push(format!(
            "sample_interval: {} is longer than the duration ({}): timeseries.csv has a single row",
            sc.sample_interval, sc.duration
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    fn warn(text: &str) -> Vec<String> {
        warnings(&load_str(text, "w.toml", &[]).unwrap())
    }

    #[test]
    fn the_default_scenario_has_no_warning() {
        assert_eq!(warn(""), Vec::<String>::new());
    }

    #[test]
    fn slow_joins_say_how_many_and_when() {
        let w = warn("nodes = 2000\nduration = \"40m\"\nwarmup = \"5m\"\n[bootstrap]\njoin_rate = 1\n");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("bootstrap.join_rate: at 1 joins per second only 301 of 2000 nodes have started joining by the end of the warm-up (5m); the last starts at 33m19s"),
            "{w:?}"
        );
        let w = warn("nodes = 2000\nduration = \"10m\"\nwarmup = \"5m\"\n[bootstrap]\njoin_rate = 1\n");
        assert!(
            w[0].starts_with("bootstrap.join_rate: at 1 joins per second only 601 of 2000 nodes start joining before the end of the run (10m); the last would start at 33m19s"),
            "{w:?}"
        );
    }

    #[test]
    fn ignored_settings_are_named() {
        let w = warn(
            "[bootstrap]\nmode = \"oracle\"\njoin_rate = 5\n[churn]\nleave = \"graceful\"\nsession = { dist = \"exponential\", mean = \"1h\" }\n[workload]\nput_rate = 0\nget_rate = 0\nkeys = 5\n",
        );
        let fields: Vec<&str> = w.iter().map(|s| s.split(':').next().unwrap()).collect();
        assert_eq!(fields, ["bootstrap.join_rate", "churn.session", "churn.leave", "workload.keys"], "{w:#?}");
        let w = warn("[workload]\nput_rate = 0\n");
        assert!(w.iter().any(|s| s.starts_with("workload.get_rate: no get starts")), "{w:?}");
    }

    #[test]
    fn nat_settings_that_do_nothing_or_drop_every_reply() {
        let fields = |text: &str| -> Vec<String> {
            warn(text).iter().map(|s| s.split(':').next().unwrap().to_string()).collect()
        };
        assert_eq!(fields("[network]\nnat_timeout = \"30s\"\n"), ["network.nat_timeout"]);
        assert_eq!(
            fields("nodes = 10\n[network]\nunreachable = 0.01\nclients = 0.02\n"),
            ["network.unreachable", "network.clients"]
        );
        let w = warn("[network]\nunreachable = 0.3\nnat_timeout = \"90ms\"\n");
        assert!(
            w.iter()
                .any(|s| s.starts_with("network.nat_timeout: 90ms is not longer than the shortest round trip (100ms)")),
            "{w:?}"
        );
        assert!(warn("[network]\nunreachable = 0.3\nclients = 0.1\n").is_empty());
    }

    #[test]
    fn partitions_outside_the_run_or_inside_the_warm_up() {
        let w = warn(
            "duration = \"1h\"\nwarmup = \"10m\"\n[[network.partitions]]\nstart = \"2h\"\nend = \"3h\"\nfraction = 0.5\n[[network.partitions]]\nstart = \"50m\"\nend = \"2h\"\nfraction = 0.5\n[[network.partitions]]\nstart = \"1m\"\nend = \"5m\"\nfraction = 0.5\n",
        );
        assert_eq!(w.len(), 3, "{w:#?}");
        assert!(w[0].starts_with("network.partitions.0.start: 2h is not before the end of the run (1h)"));
        assert!(w[1].starts_with("network.partitions.1.end: 2h is after the end of the run (1h)"));
        assert!(w[2].starts_with("network.partitions.2: lies wholly inside the warm-up"));
    }

    /// The warnings of `text` that start with `field`.
    fn about(text: &str, field: &str) -> Vec<String> {
        warn(text).into_iter().filter(|w| w.starts_with(&format!("{field}: "))).collect()
    }

    #[test]
    fn a_matrix_warns_of_pairs_below_the_floor_shared_hosts_and_slow_round_trips() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/latency/example-300.txt");
        let sc =
            |extra: &str| format!("nodes = 300\n{extra}\n[network.latency]\nmodel = \"matrix\"\nfile = \"{file}\"\n");
        assert_eq!(warn(&sc("")), Vec::<String>::new(), "the shipped matrix over 300 nodes");
        let w = about(&sc("[network]\nmin_latency = \"20ms\""), "network.min_latency");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("network.min_latency: 20ms is above the one-way delay (half the RTT) of "), "{w:?}");
        assert!(w[0].contains("% of the matrix's host pairs (the least is "), "{w:?}");
        let w = about(&sc("").replace("nodes = 300", "nodes = 400"), "nodes");
        assert_eq!(
            w,
            [
                "nodes: 400 nodes on the matrix's 300 hosts share hosts (placed with replacement): two nodes on one host are their access delays apart, at least network.min_latency (1ms)"
            ]
        );
        // The matrix's mean one-way delay is 85.9 ms: a typical round trip 172 ms.
        let w = about(&sc("[protocol]\nrpc_timeout = \"150ms\""), "network.latency.file");
        assert!(
            w[0].contains("a typical round trip (2 x 86ms = 172ms) is not shorter than protocol.rpc_timeout (150ms)"),
            "{w:?}"
        );
    }

    #[test]
    fn round_trips_at_or_past_the_rpc_timeout() {
        // An RPC's reply comes after two one-way latencies; rpc_timeout is 2s.
        let half = "half the RPCs or more time out and many operations fail";
        let w = about("[network.latency]\nvalue = \"1s\"\n", "network.latency.value");
        assert_eq!(
            w,
            [format!(
                "network.latency.value: a typical round trip (2 x 1s = 2s) is not shorter than protocol.rpc_timeout (2s): {half}"
            )]
        );
        let w = about("[network.latency]\nvalue = \"1001ms\"\n", "network.latency.value");
        assert_eq!(
            w,
            [
                "network.latency.value: every round trip takes at least 2 x 1001ms = 2002ms, longer than protocol.rpc_timeout (2s): every RPC times out, so no operation can succeed"
            ]
        );
        assert_eq!(about("[network.latency]\nvalue = \"999ms\"\n", "network.latency.value"), Vec::<String>::new());
        let w = about("[network.latency]\nmodel = \"lognormal\"\nmedian = \"50s\"\n", "network.latency.median");
        assert_eq!(
            w,
            [format!(
                "network.latency.median: a typical round trip (2 x 50s = 100s) is not shorter than protocol.rpc_timeout (2s): {half}"
            )]
        );
        let w = about("[network]\nmin_latency = \"1500ms\"\n", "network.min_latency");
        assert_eq!(
            w,
            [
                "network.min_latency: every round trip takes at least 2 x 1500ms = 3s, longer than protocol.rpc_timeout (2s): every RPC times out, so no operation can succeed"
            ]
        );
        let w = about("[network.latency]\nmodel = \"uniform\"\nmin = \"1100ms\"\nmax = \"2s\"\n", "network.latency");
        assert!(w[0].contains("every round trip takes at least 2 x 1100ms = 2200ms"), "{w:?}");
        let w = about("[network.latency]\nmodel = \"uniform\"\nmin = \"10ms\"\nmax = \"2s\"\n", "network.latency");
        assert!(w[0].contains("a typical round trip (2 x 1005ms = 2010ms)"), "{w:?}");
        // Coordinates: 3s x 0.5214 + 2 x 5ms = 1574ms.
        let w = about("[network.latency]\nmodel = \"coordinates\"\nwidth = \"3s\"\n", "network.latency");
        assert!(w[0].contains("a typical round trip (2 x 1574ms = 3148ms)"), "{w:?}");
        // Half the jitter is typical.
        let w = about("[network.latency]\nvalue = \"900ms\"\njitter = \"200ms\"\n", "network.latency.value");
        assert!(w[0].contains("a typical round trip (2 x 1s = 2s)"), "{w:?}");
        let w = about("[protocol]\nrpc_timeout = \"100ms\"\n", "network.latency.value");
        assert!(w[0].contains("(2 x 50ms = 100ms) is not shorter than protocol.rpc_timeout (100ms)"), "{w:?}");
    }

    #[test]
    fn operations_shorter_than_a_round_trip() {
        let t = "[protocol]\nop_timeout = \"1s\"\nrpc_timeout = \"5s\"\n[network.latency]\nvalue = \"600ms\"\n";
        assert_eq!(
            about(t, "protocol.op_timeout"),
            [
                "protocol.op_timeout: 1s is shorter than the shortest round trip (1200ms): every operation ends before a reply arrives, so no operation can succeed"
            ]
        );
        let t = "[protocol]\nop_timeout = \"1s\"\nrpc_timeout = \"5s\"\n[network.latency]\nvalue = \"500ms\"\n";
        assert_eq!(
            about(t, "protocol.op_timeout"),
            [
                "protocol.op_timeout: 1s is not longer than a typical round trip (1s): many operations end before a reply arrives"
            ]
        );
        let t = "[protocol]\nop_timeout = \"1001ms\"\n[network.latency]\nvalue = \"500ms\"\n";
        assert_eq!(about(t, "protocol.op_timeout"), Vec::<String>::new());
    }

    #[test]
    fn no_reply_within_the_run_or_the_measured_time() {
        let w = about("duration = \"3m\"\n[network]\nmin_latency = \"1h\"\n", "network.min_latency");
        assert!(w.contains(&"network.min_latency: 1h is not shorter than the run (3m): no reply arrives within the run, so no operation can succeed".to_string()), "{w:#?}");
        let w = about("duration = \"1m\"\n[network]\nmin_latency = \"31s\"\n", "network.min_latency");
        assert!(w.contains(&"network.min_latency: a round trip takes at least 62s, longer than the 1m to the end of the run: no measured operation can get a reply".to_string()), "{w:#?}");
        let w = about(
            "duration = \"1m\"\nwarmup = \"59s\"\n[network.latency]\nvalue = \"600ms\"\n",
            "network.latency.value",
        );
        assert_eq!(
            w,
            [
                "network.latency.value: a round trip takes at least 1200ms, longer than the 1s from the end of the warm-up to the end of the run: no measured operation can get a reply"
            ]
        );
        let w = about(
            "duration = \"1m\"\nwarmup = \"59s\"\n[network.latency]\nvalue = \"500ms\"\n",
            "network.latency.value",
        );
        assert_eq!(w, Vec::<String>::new());
    }

    #[test]
    fn networks_that_lose_every_message() {
        let lost = |text: &str| {
            about(text, "network.loss")
                .into_iter()
                .chain(about(text, "network.loss.rate"))
                .chain(about(text, "network.loss.loss_good"))
                .chain(about(text, "network.loss.loss_bad"))
                .collect::<Vec<_>>()
        };
        let ge = "[network.loss]\nmodel = \"gilbert_elliott\"\n";
        assert_eq!(
            lost("[network.loss]\nmodel = \"independent\"\nrate = 1.0\n"),
            ["network.loss.rate: every message is lost, so no operation can succeed"]
        );
        assert_eq!(lost("[network.loss]\nmodel = \"independent\"\nrate = 0.99\n"), Vec::<String>::new());
        assert_eq!(
            lost(&format!("{ge}loss_good = 1.0\nloss_bad = 1.0\n")),
            ["network.loss: every message is lost, so no operation can succeed"]
        );
        // The chain never leaves the good state, or never leaves the bad one.
        assert_eq!(
            lost(&format!("{ge}p_good_bad = 0.0\nloss_good = 1.0\n")),
            ["network.loss.loss_good: every message is lost, so no operation can succeed"]
        );
        assert_eq!(
            lost(&format!("{ge}p_bad_good = 0.0\nloss_bad = 1.0\n")),
            ["network.loss.loss_bad: every message is lost, so no operation can succeed"]
        );
        assert_eq!(lost(&format!("{ge}p_good_bad = 0.0\nloss_bad = 1.0\n")), Vec::<String>::new());
        assert_eq!(lost(&format!("{ge}loss_bad = 1.0\n")), Vec::<String>::new());
    }

    #[test]
    fn a_single_node_and_cuts_that_cut_nothing() {
        assert_eq!(
            about("nodes = 1\n", "nodes"),
            ["nodes: a single node has no other node to look up, store at or get from, so no operation can succeed"]
        );
        let w = about(
            "nodes = 10\n[[network.partitions]]\nstart = \"1m\"\nend = \"2m\"\nfraction = 0.97\n",
            "network.partitions.0.fraction",
        );
        assert_eq!(
            w,
            ["network.partitions.0.fraction: 0.97 of 10 nodes puts 10 on the far side: no message crosses the cut"]
        );
        let w = about(
            "nodes = 10\n[[network.partitions]]\nstart = \"1m\"\nend = \"2m\"\nfraction = 0.04\n",
            "network.partitions.0.fraction",
        );
        assert_eq!(w.len(), 1, "{w:?}");
    }
}

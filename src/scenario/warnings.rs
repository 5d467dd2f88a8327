//! Warnings about a valid scenario, from the scenario alone: values the chosen
//! models ignore, partitions that fall outside the run or inside the warm-up,
//! and joins that cannot be done by the end of the warm-up. Each is one line
//! starting with the field path; `kadsim validate` prints them as
//! `warning: ...` and the runner writes them to the manifest.

use super::sections::*;
use super::units::Dur;

/// The warnings of `sc` (a validated scenario), in field order.
pub fn warnings(sc: &Scenario) -> Vec<String> {
    let mut w = Vec::new();
    bootstrap(sc, &mut w);
    churn(&sc.churn, &mut w);
    workload(sc, &mut w);
    network(sc, &mut w);
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
        if p.fraction.0 == 0.0 {
            w.push(format!("{at}.fraction: 0 cuts off no node"));
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
    fn partitions_outside_the_run_or_inside_the_warm_up() {
        let w = warn(
            "duration = \"1h\"\nwarmup = \"10m\"\n[[network.partitions]]\nstart = \"2h\"\nend = \"3h\"\nfraction = 0.5\n[[network.partitions]]\nstart = \"50m\"\nend = \"2h\"\nfraction = 0.5\n[[network.partitions]]\nstart = \"1m\"\nend = \"5m\"\nfraction = 0.5\n",
        );
        assert_eq!(w.len(), 3, "{w:#?}");
        assert!(w[0].starts_with("network.partitions.0.start: 2h is not before the end of the run (1h)"));
        assert!(w[1].starts_with("network.partitions.1.end: 2h is after the end of the run (1h)"));
        assert!(w[2].starts_with("network.partitions.2: lies wholly inside the warm-up"));
    }
}

//! The churn study's charts of one run (issue 21; docs/outputs.md "Metric
//! definitions" and "Charts"), drawn by `kadsim plot` beside the others:
//!
//! | file stem | what it shows | drawn when |
//! |---|---|---|
//! | `stale_contacts` | the mean share of routing-table contacts whose node is down, per sample, and nodes up (right) | nodes went down during the run |
//! | `attack_success` | success rate per interval of the workload operations on attacked targets and on the others, the attackers' join marked | an adversary is configured |

use super::chart::{Chart, Mark, Series};
use super::results::Results;
use super::run_series::shades;

/// Whether `r` has a staleness chart: its time series has the column and
/// nodes went down (without departures every contact stays live).
pub fn has_staleness(r: &Results) -> bool {
    r.samples.iter().any(|s| s.stale_contacts_share.is_some()) && r.samples.iter().any(|s| s.leaves > 0)
}

/// The mean share of stale contacts in the routing tables of the nodes up
/// at each sample, and nodes up on the right; the warm-up and any partition
/// shaded.
pub fn stale_contacts(r: &Results) -> Chart {
    let share = r.samples.iter().filter_map(|s| s.stale_contacts_share.map(|v| (s.time_s, v))).collect();
    let alive = r.samples.iter().map(|s| (s.time_s, f64::from(s.alive))).collect();
    Chart {
        title: format!("{}: stale routing-table contacts", r.name()),
        x_label: "simulated time (s)".into(),
        y_label: "share of contacts down".into(),
        y2_label: Some("nodes up".into()),
        series: vec![
            Series::new("stale contacts", share, Mark::Line { dots: false }),
            Series::new("nodes up (right)", alive, Mark::Line { dots: false }).on_right().styled_as(6),
        ],
        shades: shades(r),
        y_label_max: Some(1.0),
        note: Some(
            "Each node up with contacts: the share of the contacts in its buckets whose node is down \
             (or back under a new ID); the mean over those nodes, at the end of each interval."
                .into(),
        ),
        ..Chart::default()
    }
}

/// Whether `r` has an adversary's chart: one is configured and the time
/// series splits success by attacked targets.
pub fn has_attack(r: &Results) -> bool {
    r.manifest.scenario.adversary.enabled() && r.samples.iter().any(|s| s.attacked_done.is_some())
}

/// Success per interval of `done`/`succeeded` where some finished.
fn rate(r: &Results, of: fn(&super::results::Sample) -> (Option<u32>, Option<u32>)) -> Vec<(f64, f64)> {
    r.samples
        .iter()
        .filter_map(|s| match of(s) {
            (Some(done), Some(ok)) if done > 0 => Some((s.time_s, f64::from(ok) / f64::from(done))),
            _ => None,
        })
        .collect()
}

/// Success rate per interval of the workload operations (all kinds pooled)
/// whose target region was attacked and of the others, with the time the
/// attackers started joining (`adversary.join_at`, when after 0) marked;
/// the warm-up and any partition shaded.
pub fn attack_success(r: &Results) -> Chart {
    let total =
        |f: fn(&super::results::Sample) -> Option<u32>| r.samples.iter().filter_map(f).map(u64::from).sum::<u64>();
    let (hit, clear) = (total(|s| s.attacked_done), total(|s| s.not_attacked_done));
    let mut series = vec![
        Series::new(
            format!("attacked targets (n = {hit})"),
            rate(r, |s| (s.attacked_done, s.attacked_succeeded)),
            Mark::Line { dots: true },
        ),
        Series::new(
            format!("targets not attacked (n = {clear})"),
            rate(r, |s| (s.not_attacked_done, s.not_attacked_succeeded)),
            Mark::Line { dots: true },
        ),
    ];
    // The join as a vertical line across the rates' whole range, 0 to 1
    // (which is then the axis's range whatever the rates).
    let adversary = &r.manifest.scenario.adversary;
    let join = adversary.join_at.as_secs_f64();
    let when = if join > 0.0 {
        let label = format!("attackers join ({})", adversary.join_at);
        series.push(Series::new(label, vec![(join, 0.0), (join, 1.0)], Mark::Line { dots: false }).styled_as(6));
        ""
    } else {
        " The attackers are up from the start."
    };
    Chart {
        title: format!("{}: success on attacked and other targets", r.name()),
        x_label: "simulated time (s)".into(),
        y_label: "success rate per interval".into(),
        series,
        shades: shades(r),
        y_label_max: Some(1.0),
        note: Some(format!(
            "Node lookups, gets and puts pooled, each judged at its end. A target is attacked when a \
             malicious node is among the true k closest live nodes to it.{when}"
        )),
        ..Chart::default()
    }
}

//! The convergence chart of one traced operation, the classic figure of
//! lookup papers: each RPC as a point at the time it was sent (since the
//! operation started) and the log2 XOR distance of the node asked to the
//! target, one colour and marker per outcome; a line follows the closest node
//! that has answered so far.

use super::story::outcome_label;
use super::{Closest, OpRow, Rpc};
use crate::report::chart::{Chart, Mark, Series, Shape};

/// The outcomes in legend order, with their marker and palette colour:
/// answered blue discs, timed out vermilion triangles, lost orange crosses,
/// cut pink diamonds, dead black squares, unreachable (dropped by the NAT of
/// an unreachable node) bluish-green squares, open sky-blue rings.
pub const OUTCOMES: [(&str, Shape, usize); 7] = [
    ("answered", Shape::Circle, 0),
    ("timed_out", Shape::Triangle, 1),
    ("lost", Shape::Cross, 4),
    ("cut", Shape::Diamond, 3),
    ("dead", Shape::Square, 6),
    ("unreachable", Shape::Square, 2),
    ("open", Shape::Ring, 5),
];

/// The chart of operation `op` from its RPCs, with a reference line at the
/// distance of the true closest live node when it ended (`closest`, closest
/// first; empty when the run has no `closest.csv`).
pub fn chart(op: &OpRow, rpcs: &[Rpc], closest: &[Closest]) -> Chart {
    // Time in ms, or in seconds when the operation took more than 5 s (so
    // the ticks read 10, 20 rather than 10k, 20k).
    let span = rpcs.iter().filter_map(|r| r.end_us).chain([op.end_us]).max().unwrap_or(op.end_us);
    let seconds = span.saturating_sub(op.start_us) > 5_000_000;
    let scale = if seconds { 1e6 } else { 1e3 };
    let ms = |t: u64| t.saturating_sub(op.start_us) as f64 / scale;
    let mut series = Vec::new();
    for (outcome, shape, look) in OUTCOMES {
        let points: Vec<(f64, f64)> = rpcs
            .iter()
            .filter(|r| r.outcome == outcome)
            .filter_map(|r| r.dist_log2.filter(|d| d.is_finite()).map(|d| (ms(r.sent_us), d)))
            .collect();
        if !points.is_empty() {
            let name = format!("{} ({})", outcome_label(outcome), points.len());
            series.push(Series::new(name, points, Mark::Points { shape }).styled_as(look));
        }
    }
    // The closest node that has answered, as replies come in.
    let mut answers: Vec<(f64, f64)> = rpcs
        .iter()
        .filter(|r| r.outcome == "answered")
        .filter_map(|r| Some((ms(r.end_us?), r.dist_log2.filter(|d| d.is_finite())?)))
        .collect();
    answers.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Vec<(f64, f64)> = Vec::new();
    for (t, d) in answers {
        match best.last().map(|p| p.1) {
            None => best.push((t, d)),
            Some(b) if d < b => {
                best.push((t, b));
                best.push((t, d));
            }
            Some(_) => {}
        }
    }
    if let (Some(&(_, d)), true) = (best.last(), op.latency_us > 0) {
        let end = ms(op.end_us);
        if best.last().is_some_and(|p| p.0 < end) {
            best.push((end, d));
        }
    }
    if !best.is_empty() {
        series.push(Series::new("closest answered so far", best, Mark::Line { dots: false }).styled_as(2));
    }
    Chart {
        title: format!("Operation {} ({} by node {}): convergence", op.op.unwrap_or(0), op.kind, op.origin),
        x_label: format!("time since the operation started ({})", if seconds { "s" } else { "ms" }),
        y_label: "distance to the target (log2)".into(),
        series,
        hline: closest
            .first()
            .and_then(|c| Some((c.dist_log2.filter(|d| d.is_finite())?, format!("true closest (node {})", c.node)))),
        y_fit: true,
        x_pad: true,
        ..Chart::default()
    }
}

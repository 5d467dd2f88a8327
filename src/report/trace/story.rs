//! One traced operation told round by round: its RPCs grouped by the
//! discovery depth of the node asked (depth 1: contacts of the origin's own
//! routing table; depth d + 1: first learned from a node of depth d), as
//! lookup papers count hops, then a put's STOREs. Within a group the RPCs
//! come in the order sent, each with its outcome, what the reply carried and
//! whether it brought a node closer to the target than any known before.

use super::{Closest, OpRow, Rpc};
use std::fmt::Write;

/// How an outcome is said in the story and named on the chart.
pub fn outcome_label(outcome: &str) -> &str {
    match outcome {
        "timed_out" => "timed out",
        other => other,
    }
}

/// For each RPC (by position), whether its reply brought a contact closer to
/// the target than every node known before the reply came: the nodes asked
/// before it arrived and the contacts of the replies that came earlier.
pub fn closer_flags(rpcs: &[Rpc]) -> Vec<bool> {
    rpcs.iter()
        .map(|r| {
            let (Some(end), Some(nearest)) = (r.end_us, r.nearest_log2) else {
                return false;
            };
            let asked = rpcs.iter().filter(|o| o.sent_us < end).filter_map(|o| o.dist_log2);
            let heard = rpcs
                .iter()
                .filter(|o| o.end_us.is_some_and(|e| e < end || (e == end && o.seq < r.seq)))
                .filter_map(|o| o.nearest_log2);
            let best = asked.chain(heard).fold(f64::INFINITY, f64::min);
            nearest < best
        })
        .collect()
}

/// A log2 distance as printed.
fn dist(v: Option<f64>) -> String {
    match v {
        Some(x) if x == f64::NEG_INFINITY => "0 (the target)".into(),
        Some(x) => format!("{x:.2}"),
        None => "?".into(),
    }
}

/// The story of operation `op` from its RPCs `rpcs` (in file order), ending
/// with the true k closest live nodes to its target when it ended
/// (`closest`, closest first; empty when the run has no `closest.csv`).
pub fn render(op: &OpRow, rpcs: &[Rpc], closest: &[Closest]) -> String {
    let mut s = String::new();
    let id = op.op.unwrap_or(0);
    let target = format!("{:016x}", op.target_top);
    let _ = writeln!(
        s,
        "op {id}: {} by node {} at {:.3} s, target {target}…",
        op.kind,
        op.origin,
        op.start_us as f64 / 1e6
    );
    let count = |o: &str| rpcs.iter().filter(|r| r.outcome == o).count();
    let hops = op.hops.map_or_else(|| "none".to_string(), |h| h.to_string());
    let verdict = if op.success { "success" } else { "failure" };
    let deadline = if op.deadline_hit { " (cut off by its deadline)" } else { "" };
    let mut why: Vec<String> = Vec::new();
    for (o, name) in
        [("timed_out", "no reply"), ("lost", "lost"), ("cut", "cut"), ("dead", "dead"), ("unreachable", "unreachable")]
    {
        let n = count(o);
        if n > 0 {
            why.push(format!("{n} {name}"));
        }
    }
    let timeouts = count("timed_out") + count("lost") + count("cut") + count("dead") + count("unreachable");
    let why = if why.is_empty() { String::new() } else { format!(" ({})", why.join(", ")) };
    let _ = writeln!(
        s,
        "  {verdict}{deadline}, hops {hops}, {:.1} ms; {} RPCs: {} answered, {timeouts} timed out{why}, {} open",
        op.latency_us as f64 / 1e3,
        rpcs.len(),
        count("answered"),
        count("open"),
    );
    let _ = writeln!(s, "  dist: log2 of the XOR distance to the target; time from the operation's start");
    let closer = closer_flags(rpcs);
    // Groups: lookup RPCs by depth, then the STOREs, then RPCs without a depth.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut depths: Vec<u32> = rpcs.iter().filter(|r| r.kind != "store").filter_map(|r| r.depth).collect();
    depths.sort_unstable();
    depths.dedup();
    for d in depths {
        let idx: Vec<usize> =
            (0..rpcs.len()).filter(|&i| rpcs[i].kind != "store" && rpcs[i].depth == Some(d)).collect();
        let from =
            if d == 1 { "from the own routing table".to_string() } else { format!("learned from depth {}", d - 1) };
        groups.push((format!("depth {d} ({from})"), idx));
    }
    let stores: Vec<usize> = (0..rpcs.len()).filter(|&i| rpcs[i].kind == "store").collect();
    if !stores.is_empty() {
        groups.push(("STOREs at the closest nodes found".into(), stores));
    }
    let loose: Vec<usize> = (0..rpcs.len()).filter(|&i| rpcs[i].kind != "store" && rpcs[i].depth.is_none()).collect();
    if !loose.is_empty() {
        groups.push(("outside the lookup".into(), loose));
    }
    for (title, idx) in groups {
        let answered = idx.iter().filter(|&&i| rpcs[i].outcome == "answered").count();
        let _ = writeln!(s, "\n  {title}: {} RPCs, {answered} answered", idx.len());
        for i in idx {
            let r = &rpcs[i];
            let at = r.sent_us.saturating_sub(op.start_us) as f64 / 1e3;
            let took = r.end_us.map(|e| format!("{:>8.1} ms", e.saturating_sub(r.sent_us) as f64 / 1e3));
            let took = took.unwrap_or_else(|| " ".repeat(11));
            let mut what = String::new();
            match (r.reply, r.contacts) {
                (Some("nodes"), Some(n)) => {
                    let _ = write!(what, "{n} contacts");
                    if r.nearest_log2.is_some() {
                        let _ = write!(what, ", nearest {}", dist(r.nearest_log2));
                    }
                    if closer[i] {
                        what.push_str("  closer");
                    }
                }
                (Some(reply), _) => what.push_str(reply),
                _ => {}
            }
            let _ = writeln!(
                s,
                "    {:>10} ms  {:<10} node {:>7}  dist {:>7}  {:<9} {took}  {what}",
                format!("+{at:.1}"),
                r.kind,
                r.to,
                dist(r.dist_log2),
                outcome_label(r.outcome),
            );
        }
    }
    truth(&mut s, op, rpcs, closest);
    s
}

/// The section of the true k closest live nodes: each with its distance,
/// whether the operation asked it and whether it answered, then one sentence
/// on the closest, the node a lookup's success is judged against.
fn truth(s: &mut String, op: &OpRow, rpcs: &[Rpc], closest: &[Closest]) {
    let Some(first) = closest.first() else {
        return;
    };
    let asked = closest.iter().filter(|c| c.asked).count();
    let answered = closest.iter().filter(|c| c.answered).count();
    let _ =
        writeln!(s, "\n  the true {} closest live nodes at the end: {asked} asked, {answered} answered", closest.len());
    for c in closest {
        let status = match (c.asked, c.answered) {
            (_, true) => "asked, answered",
            (true, false) => "asked, no answer",
            (false, false) => "never asked",
        };
        let mark = if c.rank == 1 { "  <- the closest" } else { "" };
        let _ = writeln!(s, "    {:>4}  node {:>7}  dist {:>7}  {status}{mark}", c.rank, c.node, dist(c.dist_log2));
    }
    let when = rpcs
        .iter()
        .filter(|r| r.to == first.node && r.outcome == "answered" && r.kind != "store")
        .filter_map(|r| r.end_us)
        .min();
    let verdict = match (first.answered, first.asked) {
        (true, _) => match when {
            Some(t) => format!(
                "the closest live node (node {}) answered {:.1} ms after the start",
                first.node,
                t.saturating_sub(op.start_us) as f64 / 1e3
            ),
            None => format!("the closest live node (node {}) answered", first.node),
        },
        (false, true) => format!(
            "the closest live node (node {}) was asked but never answered (down, or its reply lost, when asked: \
             the truth is taken when the operation ended)",
            first.node
        ),
        (false, false) => {
            format!("the closest live node (node {}) was never asked: the lookup did not find it", first.node)
        }
    };
    let _ = writeln!(s, "  {verdict}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpc(seq: u32, sent: u64, end: Option<u64>, d: f64, nearest: Option<f64>, outcome: &'static str) -> Rpc {
        Rpc {
            op: 1,
            seq,
            sent_us: sent,
            end_us: end,
            from: 0,
            to: seq + 10,
            kind: "find_node",
            depth: Some(1),
            dist_log2: Some(d),
            outcome,
            reply: nearest.map(|_| "nodes"),
            contacts: nearest.map(|_| 20),
            nearest_log2: nearest,
            tx: seq,
        }
    }

    #[test]
    fn a_reply_is_closer_only_when_it_beats_everything_known_before_it() {
        let rpcs = vec![
            rpc(0, 0, Some(50), 150.0, Some(148.0), "answered"),
            rpc(1, 0, Some(60), 151.0, Some(149.0), "answered"),
            rpc(2, 0, Some(2_000_000), 152.0, None, "timed_out"),
            rpc(3, 55, Some(90), 148.0, Some(140.0), "answered"),
        ];
        assert_eq!(closer_flags(&rpcs), [true, false, false, true]);
    }

    #[test]
    fn the_story_groups_by_depth_and_names_every_outcome() {
        let op = OpRow {
            op: Some(7),
            start_us: 0,
            end_us: 100,
            kind: "find_node",
            origin: 3,
            target_top: 0xabab_abab_abab_abab,
            hops: Some(2),
            queried: 3,
            responses: 1,
            timeouts: 1,
            latency_us: 100,
            success: true,
            deadline_hit: false,
            found_fraction: Some(1.0),
            replicas: 0,
        };
        let mut rpcs =
            vec![rpc(0, 0, Some(50), 150.0, Some(148.0), "answered"), rpc(1, 0, Some(2_000_000), 151.0, None, "lost")];
        let mut deep = rpc(2, 50, None, 148.0, None, "open");
        deep.depth = Some(2);
        rpcs.push(deep);
        let closest = [
            Closest { rank: 1, node: 12, dist_log2: Some(148.0), asked: true, answered: false },
            Closest { rank: 2, node: 10, dist_log2: Some(150.0), asked: true, answered: true },
            Closest { rank: 3, node: 99, dist_log2: Some(150.5), asked: false, answered: false },
        ];
        let text = render(&op, &rpcs, &closest);
        assert!(text.contains("the true 3 closest live nodes at the end: 2 asked, 1 answered"), "{text}");
        assert!(text.contains("1  node      12  dist  148.00  asked, no answer  <- the closest"), "{text}");
        assert!(text.contains("3  node      99  dist  150.50  never asked"), "{text}");
        assert!(text.contains("the closest live node (node 12) was asked but never answered"), "{text}");
        assert!(text.starts_with("op 7: find_node by node 3"), "{text}");
        assert!(text.contains("3 RPCs: 1 answered, 1 timed out (1 lost), 1 open"), "{text}");
        assert!(text.contains("depth 1 (from the own routing table): 2 RPCs, 1 answered"), "{text}");
        assert!(text.contains("depth 2 (learned from depth 1): 1 RPCs, 0 answered"), "{text}");
        assert!(text.contains("20 contacts, nearest 148.00  closer"), "{text}");
        let found = [Closest { rank: 1, node: 10, dist_log2: Some(150.0), asked: true, answered: true }];
        assert!(
            render(&op, &rpcs[..1], &found).contains("the closest live node (node 10) answered 0.1 ms after the start")
        );
        assert!(!render(&op, &rpcs, &[]).contains("true"), "no section without closest.csv");
    }
}

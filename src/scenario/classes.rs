//! `[[classes]]`: heterogeneous peers (`docs/classes.md`). A scenario may
//! split its nodes into named classes, each with a share of the nodes, its
//! own session and downtime distributions, an access delay added to every
//! datagram it sends or receives, and whether its nodes are unreachable
//! (behind a NAT) or clients (read-only), so that a run can hold, as
//! measurement studies of deployed DHTs report, a minority of long-lived
//! reachable servers among many short-lived NATed peers. `summary.csv` then
//! gives the success and latency of the operations each class started and
//! the share of the routing tables each class holds (`class.NAME.*`).

use super::distribution::Distribution;
use super::units::Probability;
use serde::{Deserialize, Serialize};

/// The most classes a scenario may have: a node's class is one byte, and a
/// summary of 27 rows per class stays readable.
pub const MAX_CLASSES: usize = 16;

/// One `[[classes]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeClass {
    /// The class's name in `summary.csv` (`class.NAME.*`) and `nodes.csv`
    /// (`class_name`): 1 to 32 lowercase letters, digits or `_`, unique.
    pub name: String,
    /// The class's share of the nodes, from 0 to 1. At most one class may
    /// leave it out: that class takes what the others leave (so that a sweep
    /// can vary one share alone). The shares must add up to 1. Each class
    /// gets exactly its share of the nodes, rounded by largest remainder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<Probability>,
    /// The class's session lengths (`churn.model = "distributions"` only).
    /// Defaults to `churn.session`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<Distribution>,
    /// The class's downtimes (`churn.model = "distributions"` only).
    /// Defaults to `churn.downtime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downtime: Option<Distribution>,
    /// A one-way delay drawn once per node of the class and added to every
    /// datagram the node sends or receives, over any latency model: its
    /// access link (a home uplink, a mobile network). None by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Distribution>,
    /// Whether the class's nodes are behind a NAT or firewall, as
    /// `network.unreachable` makes nodes (`docs/reachability.md`). Defaults to false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unreachable: bool,
    /// Whether the class's nodes are client-only (BEP 43 read-only, libp2p
    /// client mode), as `network.clients` makes nodes. Defaults to false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub client: bool,
}

/// Whether `name` can name a class: 1 to 32 lowercase letters, digits or
/// `_`, so that it reads whole between the dots of `class.NAME.STAT`.
pub fn is_class_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl NodeClass {
    /// Whether the class's nodes are reachable servers (neither unreachable
    /// nor clients): node 0, from which a network grows, must be one.
    pub fn serves(&self) -> bool {
        !self.unreachable && !self.client
    }
}

/// Each class's share with the left-out one filled in: `1 − Σ others`.
/// The classes must have passed `validate`.
pub fn shares(classes: &[NodeClass]) -> Vec<f64> {
    let given: f64 = classes.iter().filter_map(|c| c.share).map(|s| s.0).sum();
    classes.iter().map(|c| c.share.map_or((1.0 - given).max(0.0), |s| s.0)).collect()
}

/// How many of `n` nodes each class gets: `share × n` rounded by largest
/// remainder (ties to the earlier class), so the counts add up to `n`, then,
/// if the first serving class with the largest share got none (only
/// possible when `n` is tiny), one node moved to it from the largest class.
pub fn counts(classes: &[NodeClass], n: usize) -> Vec<usize> {
    let shares = shares(classes);
    let exact: Vec<f64> = shares.iter().map(|s| s * n as f64).collect();
    let mut out: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let placed: usize = out.iter().sum();
    let mut order: Vec<usize> = (0..classes.len()).collect();
    // Largest remainder first; remainders equal to 1e-9 are ties (1 − 2/3 is
    // not exactly 1/3 in floating point), to the earlier class.
    let rem = |i: usize| ((exact[i] - exact[i].floor()) * 1e9).round() as i64;
    order.sort_by_key(|&i| (std::cmp::Reverse(rem(i)), i));
    for &i in order.iter().take(n.saturating_sub(placed)) {
        out[i] += 1;
    }
    if let Some(s) = first_server(classes)
        && out[s] == 0
        && n > 0
    {
        let big = (0..out.len()).max_by(|&a, &b| out[a].cmp(&out[b]).then(b.cmp(&a))).unwrap_or(0);
        out[big] -= 1;
        out[s] += 1;
    }
    out
}

/// The class node 0 belongs to: the serving class with the largest share
/// (the first of equals).
pub fn first_server(classes: &[NodeClass]) -> Option<usize> {
    let shares = shares(classes);
    (0..classes.len()).filter(|&i| classes[i].serves()).max_by(|&a, &b| shares[a].total_cmp(&shares[b]).then(b.cmp(&a)))
}

type Invalid = (String, String);

/// Checks the classes against each other and the rest of the scenario.
pub(super) fn validate(sc: &super::Scenario) -> Result<(), Invalid> {
    let classes = &sc.classes;
    if classes.is_empty() {
        return Ok(());
    }
    let err = |path: String, m: String| Err((path, m));
    if classes.len() > MAX_CLASSES {
        return err(format!("classes.{MAX_CLASSES}"), format!("expected at most {MAX_CLASSES} classes"));
    }
    for (field, share) in [("unreachable", sc.network.unreachable), ("clients", sc.network.clients)] {
        if share.0 > 0.0 {
            return err(
                format!("network.{field}"),
                "expected no network-wide share with [[classes]]: set unreachable or client per class".into(),
            );
        }
    }
    let mut unshared = None;
    for (i, c) in classes.iter().enumerate() {
        let at = |f: &str| format!("classes.{i}.{f}");
        if !is_class_name(&c.name) {
            return err(at("name"), format!("expected 1 to 32 lowercase letters, digits or _, got {:?}", c.name));
        }
        if let Some(j) = classes[..i].iter().position(|o| o.name == c.name) {
            return err(at("name"), format!("expected a unique name: classes.{j} is also {:?}", c.name));
        }
        if c.share.is_none() {
            if let Some(j) = unshared {
                return err(
                    at("share"),
                    format!("expected a share: only one class may leave it out, and classes.{j} does"),
                );
            }
            unshared = Some(i);
        }
        if c.unreachable && c.client {
            return err(
                at("client"),
                "expected unreachable or client, not both (a client answers nothing anyway)".into(),
            );
        }
        for (f, d) in [("session", &c.session), ("downtime", &c.downtime)] {
            if let Some(d) = d {
                if sc.churn.model != super::ChurnModel::Distributions {
                    return err(at(f), "applies only with churn.model = \"distributions\"".into());
                }
                super::checks::validate_dist(&at(f), d)?;
            }
        }
        if let Some(d) = &c.access {
            super::checks::validate_dist(&at("access"), d)?;
        }
    }
    let given: f64 = classes.iter().filter_map(|c| c.share).map(|s| s.0).sum();
    const EPS: f64 = 1e-9;
    match unshared {
        Some(j) if given > 1.0 + EPS => {
            return err(format!("classes.{j}.share"), format!("the other classes' shares add up to {given}, over 1"));
        }
        None if (given - 1.0).abs() > EPS => {
            return err(
                format!("classes.{}.share", classes.len() - 1),
                format!("expected the shares to add up to 1, got {given} (or leave one class's share out)"),
            );
        }
        _ => {}
    }
    if first_server(classes).is_none() {
        return err(
            "classes".into(),
            "expected a class of reachable servers (neither unreachable nor client): node 0, through which the network forms, is one".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, share: Option<f64>, serves: bool) -> NodeClass {
        NodeClass {
            name: name.into(),
            share: share.map(Probability),
            session: None,
            downtime: None,
            access: None,
            unreachable: !serves,
            client: false,
        }
    }

    #[test]
    fn counts_are_the_shares_by_largest_remainder_and_add_up() {
        let cs = [class("a", Some(0.2), true), class("b", None, false)];
        assert_eq!(shares(&cs), vec![0.2, 0.8]);
        assert_eq!(counts(&cs, 1000), vec![200, 800]);
        // 3 × 1/3 of 10: 3.33 each, the remainder to the first.
        let thirds = [class("a", Some(1.0 / 3.0), true), class("b", Some(1.0 / 3.0), false), class("c", None, false)];
        assert_eq!(counts(&thirds, 10), vec![4, 3, 3]);
        // 1% servers of 20 nodes round to 0, but node 0 needs one.
        let tiny = [class("s", Some(0.01), true), class("n", None, false)];
        assert_eq!(counts(&tiny, 20), vec![1, 19]);
        for n in [0, 1, 2, 7, 999] {
            assert_eq!(counts(&thirds, n).iter().sum::<usize>(), n);
        }
    }
}

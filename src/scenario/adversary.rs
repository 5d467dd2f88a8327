//! `[adversary]`: malicious nodes, where their IDs lie, when they join and
//! what they do. Off unless `count` or `fraction` is given.
//!
//! ```toml
//! [adversary]
//! fraction = 0.2                      # or count = 40
//! ids = "random"                      # "eclipse" (around `target`) or "sybil" (around `victims`)
//! behaviours = ["poison", "drop_store"]
//! join_at = "0s"
//! subnets = 0                         # 1..15: all of them in that many /24s
//! ```
//!
//! The malicious nodes run the same protocol core as the honest ones, with a
//! behaviour hook ([`crate::kad::Behaviour`]); which node indices they take is
//! drawn from a stream of their own (`adversary`), so that adding an
//! adversary reshuffles neither churn nor workload. They never churn (an
//! attacker keeps its nodes up) and never start workload operations (the
//! metrics are those of honest users).

use super::units::{Dur, Probability};
use crate::kad::{Behaviour, NodeId};
use serde::{Deserialize, Serialize};

/// The most simulated /24 prefixes the adversary's nodes can share
/// ([`Adversary::subnets`]): the group tag of a simulated address has 4 bits.
pub const MAX_SUBNETS: u8 = 15;

/// `[adversary]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Adversary {
    /// How many of the `nodes` are malicious. Give this or `fraction`; with
    /// neither there is no adversary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// The share of the `nodes` that is malicious, from 0 (an adversary of no
    /// nodes, for a sweep's baseline point) to below 1: round(fraction ×
    /// nodes) nodes, at most nodes − 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction: Option<Probability>,
    /// Where their IDs lie. `"random"` (the default): uniformly, as honest
    /// IDs. `"eclipse"`: the malicious node i (from 0) takes the ID whose 48-bit
    /// prefix is the target's XOR i, so that they hold the `count` IDs
    /// closest to `target` (a simulated ID is a 48-bit prefix; no honest node
    /// is that close). `"sybil"`: around chosen victims, the j-th sybil of a
    /// victim in the victim's bucket at depth j mod B (sharing exactly that
    /// many leading bits with it, the rest random; B = ⌈log2(nodes / k)⌉ + 2,
    /// the depths the victim's table has), so that they spread over all its
    /// buckets (Douceur's Sybil attack, aimed as in S/Kademlia §3).
    pub ids: IdPlacement,
    /// The key an eclipse surrounds, as 40 hex digits. Defaults to workload
    /// key 0 (the SHA-1 of `"key-0"`, the most requested key under a Zipf key
    /// distribution). Only with `ids = "eclipse"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The victims of a Sybil attack: a number of honest nodes drawn at
    /// random, or a list of node indices. Defaults to 1. Only with
    /// `ids = "sybil"`; the sybils are dealt out over the victims in turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub victims: Option<Victims>,
    /// When they come up. At 0 (the default) they are nodes like the others:
    /// with the join bootstrap they join in turn among the honest nodes, with
    /// the oracle bootstrap their contacts are in the tables from the start.
    /// Later, they join by the protocol from that time on, at
    /// `bootstrap.join_rate` (each through a random live node), into a
    /// network that has stored its values without them.
    pub join_at: Dur,
    /// What they do, combinable: `"black_hole"` (drop every request),
    /// `"poison"` (answer FIND_NODE and FIND_VALUE with the k malicious nodes
    /// closest to the target), `"wrong_value"` (answer FIND_VALUE with a
    /// forged value), `"drop_store"` (acknowledge STORE, discard the pair),
    /// `"free_ride"` (answer PING and STORE, return no contacts). See
    /// [`crate::kad::behaviour`]. Defaults to none: malicious nodes that
    /// behave honestly, a control for the ID placement alone.
    pub behaviours: Vec<BehaviourName>,
    /// How many simulated /24 prefixes the malicious nodes share (node i of
    /// the adversary in prefix i mod `subnets`, each at an IP of its own), as
    /// sybils coming from few networks do; the routing tables' per-subnet
    /// admission limit (`protocol.max_per_subnet_per_bucket`) then applies to
    /// them. 0 (the default): each is on a /24 of its own, as honest nodes
    /// are, and no limit can tell them apart. At most 15.
    pub subnets: u8,
}

/// Where the adversary's IDs lie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdPlacement {
    /// Uniformly at random.
    #[default]
    Random,
    /// The IDs closest to a target key.
    Eclipse,
    /// Spread over the buckets of chosen victims.
    Sybil,
}

/// The victims of a Sybil attack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Victims {
    /// This many honest nodes, drawn at random.
    Count(u32),
    /// These node indices.
    List(Vec<u32>),
}

/// A behaviour as scenario files name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BehaviourName {
    /// [`Behaviour::BLACK_HOLE`].
    BlackHole,
    /// [`Behaviour::POISON`].
    Poison,
    /// [`Behaviour::WRONG_VALUE`].
    WrongValue,
    /// [`Behaviour::DROP_STORE`].
    DropStore,
    /// [`Behaviour::FREE_RIDE`].
    FreeRide,
}

impl BehaviourName {
    /// The core's flag.
    pub fn flag(self) -> Behaviour {
        match self {
            BehaviourName::BlackHole => Behaviour::BLACK_HOLE,
            BehaviourName::Poison => Behaviour::POISON,
            BehaviourName::WrongValue => Behaviour::WRONG_VALUE,
            BehaviourName::DropStore => Behaviour::DROP_STORE,
            BehaviourName::FreeRide => Behaviour::FREE_RIDE,
        }
    }
}

impl Adversary {
    /// Whether an adversary is configured (even one of no nodes).
    pub fn enabled(&self) -> bool {
        self.count.is_some() || self.fraction.is_some()
    }

    /// How many of `nodes` are malicious.
    pub fn size(&self, nodes: u32) -> u32 {
        let m = match (self.count, self.fraction) {
            (Some(c), _) => c,
            (None, Some(f)) => (f.0 * f64::from(nodes)).round() as u32,
            (None, None) => 0,
        };
        m.min(nodes.saturating_sub(1))
    }

    /// The union of the behaviours.
    pub fn behaviour(&self) -> Behaviour {
        self.behaviours.iter().fold(Behaviour::HONEST, |b, n| b.with(n.flag()))
    }

    /// The eclipse target: `target`, or workload key 0.
    pub fn target_key(&self) -> NodeId {
        self.target.as_deref().and_then(|t| NodeId::from_hex(t).ok()).unwrap_or_else(|| crate::sim::workload::key(0))
    }
}

/// Checks the section against the scenario's `nodes` and `duration`:
/// `Err((field path, what was expected))`.
pub fn validate(a: &Adversary, nodes: u32, duration: Dur) -> Result<(), (String, String)> {
    let bad = |path: &str, msg: String| Err((format!("adversary.{path}"), msg));
    if !a.enabled() {
        let set = [
            ("ids", a.ids != IdPlacement::Random),
            ("target", a.target.is_some()),
            ("victims", a.victims.is_some()),
            ("join_at", a.join_at.0 != 0),
            ("behaviours", !a.behaviours.is_empty()),
            ("subnets", a.subnets != 0),
        ];
        if let Some((name, _)) = set.iter().find(|(_, on)| *on) {
            return bad(name, "has no effect without adversary.count or adversary.fraction".into());
        }
        return Ok(());
    }
    if a.count.is_some() && a.fraction.is_some() {
        return bad("fraction", "expected count or fraction, not both".into());
    }
    if let Some(c) = a.count
        && c >= nodes
    {
        return bad("count", format!("expected fewer malicious nodes than nodes ({nodes}), got {c}"));
    }
    if let Some(f) = a.fraction
        && f.0 >= 1.0
    {
        return bad("fraction", format!("expected a fraction below 1, got {}", f.0));
    }
    if a.target.is_some() && a.ids != IdPlacement::Eclipse {
        return bad("target", "applies only to ids = \"eclipse\"".into());
    }
    if let Some(t) = &a.target
        && NodeId::from_hex(t).is_err()
    {
        return bad("target", format!("expected a key of 40 hex digits, got {t:?}"));
    }
    if a.victims.is_some() && a.ids != IdPlacement::Sybil {
        return bad("victims", "applies only to ids = \"sybil\"".into());
    }
    let honest = nodes - a.size(nodes);
    match &a.victims {
        Some(Victims::Count(v)) if *v == 0 || *v > honest => {
            return bad("victims", format!("expected from 1 to {honest} victims (the honest nodes), got {v}"));
        }
        Some(Victims::List(list)) => {
            if list.is_empty() || list.len() > honest as usize {
                return bad("victims", format!("expected a list of 1 to {honest} node indices"));
            }
            if let Some(v) = list.iter().find(|v| **v >= nodes) {
                return bad("victims", format!("expected node indices below {nodes}, got {v}"));
            }
            let mut sorted = list.clone();
            sorted.sort_unstable();
            if sorted.windows(2).any(|w| w[0] == w[1]) {
                return bad("victims", "expected distinct node indices".into());
            }
        }
        _ => {}
    }
    if a.join_at > duration {
        return bad("join_at", "expected a time within the run's duration".into());
    }
    let mut names = a.behaviours.clone();
    names.sort_by_key(|b| *b as u8);
    if names.windows(2).any(|w| w[0] == w[1]) {
        return bad("behaviours", "expected each behaviour at most once".into());
    }
    if a.subnets > MAX_SUBNETS {
        return bad("subnets", format!("expected from 0 to {MAX_SUBNETS}, got {}", a.subnets));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_rounds_the_fraction_and_keeps_an_honest_node() {
        let a = Adversary { fraction: Some(Probability(0.25)), ..Adversary::default() };
        assert_eq!(a.size(10), 3);
        let a = Adversary { count: Some(7), ..Adversary::default() };
        assert_eq!(a.size(100), 7);
        assert_eq!(Adversary::default().size(100), 0);
        assert!(!Adversary::default().enabled());
    }

    #[test]
    fn behaviours_combine() {
        let a = Adversary { behaviours: vec![BehaviourName::Poison, BehaviourName::DropStore], ..Adversary::default() };
        assert!(a.behaviour().has(Behaviour::POISON) && a.behaviour().has(Behaviour::DROP_STORE));
    }
}

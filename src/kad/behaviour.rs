//! How a node answers requests: honestly (the paper), or as one of the
//! attackers that the Kademlia security literature studies. The flags are a
//! hook in the one protocol core, consulted only where a request is answered
//! ([`Node`](super::Node)'s request handler), so a malicious node runs the
//! same lookups, routing table and maintenance as an honest one and differs
//! in what it tells others, never in a second copy of the protocol.
//!
//! The behaviours follow the attacks of Baumgart & Mies, *S/Kademlia: A
//! Practicable Approach Towards Secure Key-Based Routing* (ICPADS 2007), §3
//! (eclipse and Sybil attacks, "adversarial routing"), and Urdaneta, Pierre &
//! van Steen, *A Survey of DHT Security Techniques* (ACM CSUR 2011), §5
//! (routing and storage attacks). They combine; when two decide the same
//! reply, the one listed first below wins:
//!
//! | flag | request | reply |
//! |---|---|---|
//! | `BLACK_HOLE` | every request | none: the request is dropped |
//! | `DROP_STORE` | STORE | `Stored { accepted: true }`, the pair discarded |
//! | `WRONG_VALUE` | FIND_VALUE | `Found` with [`forged_value`] |
//! | `POISON` | FIND_NODE, FIND_VALUE | only colluders: the k known malicious contacts closest to the target |
//! | `FREE_RIDE` | FIND_NODE, FIND_VALUE | no contacts (a held value is still returned) |
//!
//! A poisoning node needs to know its colluders: the driver hands it their
//! list ([`Node::set_colluders`](super::Node::set_colluders)), as an attacker
//! running many nodes knows its own.

use super::id::Key;
use super::message::Value;

/// A set of malicious behaviours; the empty set is an honest node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Behaviour(u8);

impl Behaviour {
    /// Honest: the paper's node.
    pub const HONEST: Behaviour = Behaviour(0);
    /// Drops every request unanswered (a "black hole", or a node that joined and
    /// then stopped serving): its queriers time out.
    pub const BLACK_HOLE: Behaviour = Behaviour(1);
    /// Answers FIND_NODE and FIND_VALUE with colluders only: routing-table
    /// poisoning (S/Kademlia §3, "adversarial routing").
    pub const POISON: Behaviour = Behaviour(1 << 1);
    /// Answers FIND_VALUE with a wrong value ([`forged_value`]).
    pub const WRONG_VALUE: Behaviour = Behaviour(1 << 2);
    /// Acknowledges STORE and discards the pair (a storage attack).
    pub const DROP_STORE: Behaviour = Behaviour(1 << 3);
    /// Answers PING and STORE honestly, but never routes: FIND_NODE and
    /// FIND_VALUE get an empty contact list (free-riding).
    pub const FREE_RIDE: Behaviour = Behaviour(1 << 4);

    /// Every flag with its name as scenario files spell it, in precedence order.
    pub const NAMES: [(&'static str, Behaviour); 5] = [
        ("black_hole", Behaviour::BLACK_HOLE),
        ("drop_store", Behaviour::DROP_STORE),
        ("wrong_value", Behaviour::WRONG_VALUE),
        ("poison", Behaviour::POISON),
        ("free_ride", Behaviour::FREE_RIDE),
    ];

    /// Whether every flag of `other` is set.
    #[inline]
    pub fn has(self, other: Behaviour) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Whether no flag is set.
    #[inline]
    pub fn is_honest(self) -> bool {
        self.0 == 0
    }

    /// The union of two sets.
    #[must_use]
    pub fn with(self, other: Behaviour) -> Behaviour {
        Behaviour(self.0 | other.0)
    }

    /// The flag named `name` (`"black_hole"`, `"poison"`, ...).
    pub fn from_name(name: &str) -> Option<Behaviour> {
        Behaviour::NAMES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }
}

/// Marks the first bytes of every forged value, so that a driver can tell a
/// forged value from an honest one (no honest value the simulator's workload
/// writes starts with it).
pub const FORGED_PREFIX: &[u8] = b"kadsim-forged:";

/// The wrong value a `WRONG_VALUE` node returns for `key`: [`FORGED_PREFIX`]
/// then the key's 40 hex digits. Every such node forges the same value, as
/// colluders would, so that a quorum of them agrees (see
/// [`Config::value_quorum`](super::Config::value_quorum)).
pub fn forged_value(key: &Key) -> Value {
    let mut v = FORGED_PREFIX.to_vec();
    v.extend_from_slice(key.to_hex().as_bytes());
    Value::from(v)
}

/// Whether `value` is a forged one ([`forged_value`] of any key).
pub fn is_forged(value: &[u8]) -> bool {
    value.starts_with(FORGED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_combine_and_are_named() {
        let b = Behaviour::POISON.with(Behaviour::DROP_STORE);
        assert!(b.has(Behaviour::POISON) && b.has(Behaviour::DROP_STORE));
        assert!(!b.has(Behaviour::BLACK_HOLE) && !b.is_honest());
        assert!(Behaviour::HONEST.is_honest() && !Behaviour::HONEST.has(Behaviour::HONEST));
        for (name, flag) in Behaviour::NAMES {
            assert_eq!(Behaviour::from_name(name), Some(flag));
        }
        assert_eq!(Behaviour::from_name("evil"), None);
    }

    #[test]
    fn forged_values_are_recognisable() {
        let k = Key::hash_of(b"x");
        assert!(is_forged(&forged_value(&k)));
        assert!(!is_forged(&[0, 1, 2, 3]));
        assert_eq!(forged_value(&k), forged_value(&k), "colluders forge the same value");
    }
}

//! The node's key/value store and the schedule of its pairs: expiry, hourly
//! republishing and the original publisher's daily republishing (paper §2.5).
//!
//! A key holds one value in the paper (a STORE replaces it). With several
//! values per key a key holds a set, as BEP 5's trackers hold the peers that
//! announced an infohash: each value has its own expiry and republishing,
//! an equal value refreshes its entry, a full set gives up the entry that
//! expires first, and a read returns them all, concatenated in the order of
//! their entries (arrival order; a replacement takes its entry's place).

use super::id::Key;
use super::message::Value;
use super::time::Time;
use std::time::Duration;

/// A pair this node holds for others.
#[derive(Clone, Debug)]
pub struct StoredPair {
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Value,
    /// When the pair expires (paper §2.5: 24 h after its original publication).
    pub expires: Time,
    /// When this node next republishes it. Receiving a STORE for the pair pushes
    /// this back by a full interval: the sender is assumed to have stored it at
    /// the other k − 1 closest nodes too (paper §2.5).
    pub republish_at: Time,
}

/// A pair this node published itself and republishes until it leaves (paper §2.5).
#[derive(Clone, Debug)]
pub struct Published {
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Value,
    /// When the publisher next republishes it.
    pub republish_at: Time,
}

/// Stored and published pairs, each sorted by key (the values of one key in
/// the order of their entries).
#[derive(Clone, Debug, Default)]
pub struct Store {
    pairs: Vec<StoredPair>,
    published: Vec<Published>,
}

impl Store {
    /// Heap bytes held, counting each value's bytes in full.
    pub fn heap_bytes(&self) -> usize {
        self.pairs.capacity() * std::mem::size_of::<StoredPair>()
            + self.published.capacity() * std::mem::size_of::<Published>()
            + self.pairs.iter().map(|p| p.value.len()).sum::<usize>()
            + self.published.iter().map(|p| p.value.len()).sum::<usize>()
    }

    /// Pairs held.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether no pair is held.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs held, by key.
    pub fn pairs(&self) -> &[StoredPair] {
        &self.pairs
    }

    /// Pairs this node published itself.
    pub fn published(&self) -> &[Published] {
        &self.published
    }

    /// The entries of `key`: a run of `pairs`.
    fn range(&self, key: &Key) -> std::ops::Range<usize> {
        let lo = self.pairs.partition_point(|p| p.key < *key);
        let hi = lo + self.pairs[lo..].iter().take_while(|p| p.key == *key).count();
        lo..hi
    }

    /// The value of `key`, if held and not expired at `now`; a key holding
    /// several values gives them all, concatenated in the order of their entries.
    pub fn get(&self, key: &Key, now: Time) -> Option<Value> {
        self.get_with_lifetime(key, now).map(|(v, _)| v)
    }

    /// [`get`](Self::get) and the value's remaining lifetime (of several
    /// values, the longest).
    pub fn get_with_lifetime(&self, key: &Key, now: Time) -> Option<(Value, Duration)> {
        let pairs = &self.pairs[self.range(key)];
        let live = || pairs.iter().filter(|p| p.expires > now);
        let first = live().next()?;
        let left = live().map(|p| p.expires).max().unwrap_or(first.expires).since(now);
        if live().nth(1).is_none() {
            return Some((first.value.clone(), left));
        }
        let bytes: Vec<u8> = live().flat_map(|p| p.value.iter().copied()).collect();
        Some((Value::from(bytes), left))
    }

    /// Stores `(key, value)` until `expires`. With one value per key
    /// (`per_key` = 1, the paper) the value replaces the key's, keeping the
    /// later expiry; with more, an equal value refreshes its entry (later
    /// expiry) and another joins the key's set, replacing the entry that
    /// expires first when the set is full. Returns false when the store is
    /// full (`max` entries) and the entry would be new.
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &mut self,
        key: Key,
        value: Value,
        now: Time,
        expires: Time,
        republish: Duration,
        max: usize,
        per_key: usize,
    ) -> bool {
        let republish_at = now.plus(republish);
        let range = self.range(&key);
        let same = if per_key <= 1 {
            (!range.is_empty()).then_some(range.start)
        } else {
            range.clone().find(|&i| self.pairs[i].value == value)
        };
        let slot = same.or_else(|| {
            (range.len() >= per_key.max(1)).then(|| range.clone().min_by_key(|&i| self.pairs[i].expires)).flatten()
        });
        if let Some(i) = slot {
            let p = &mut self.pairs[i];
            p.expires = if same.is_some() { p.expires.max(expires) } else { expires };
            p.value = value;
            p.republish_at = republish_at;
            return true;
        }
        if self.pairs.len() >= max {
            return false;
        }
        self.pairs.insert(range.end, StoredPair { key, value, expires, republish_at });
        true
    }

    /// Records a pair this node published, to republish every `interval`.
    pub fn publish(&mut self, key: Key, value: Value, now: Time, interval: Duration) {
        let republish_at = now.plus(interval);
        match self.published.binary_search_by(|p| p.key.cmp(&key)) {
            Ok(i) => {
                self.published[i].value = value;
                self.published[i].republish_at = republish_at;
            }
            Err(i) => self.published.insert(i, Published { key, value, republish_at }),
        }
    }

    /// Drops the pairs expired at `now`; returns how many.
    pub fn expire(&mut self, now: Time) -> usize {
        let before = self.pairs.len();
        self.pairs.retain(|p| p.expires > now);
        before - self.pairs.len()
    }

    /// Pairs due for the hourly republish at `now`, with their remaining
    /// lifetime; each is rescheduled one `interval` on (paper §2.5).
    pub fn due_republish(&mut self, now: Time, interval: Duration) -> Vec<(Key, Value, Duration)> {
        let mut out = Vec::new();
        for p in &mut self.pairs {
            if p.republish_at <= now && p.expires > now {
                p.republish_at = now.plus(interval);
                out.push((p.key, p.value.clone(), p.expires.since(now)));
            }
        }
        out
    }

    /// Published pairs due for the publisher's republish at `now`; each is
    /// rescheduled one `interval` on (paper §2.5).
    pub fn due_publisher(&mut self, now: Time, interval: Duration) -> Vec<(Key, Value)> {
        let mut out = Vec::new();
        for p in &mut self.published {
            if p.republish_at <= now {
                p.republish_at = now.plus(interval);
                out.push((p.key, p.value.clone()));
            }
        }
        out
    }

    /// The earliest time anything in the store falls due.
    pub fn next_due(&self) -> Time {
        let pairs = self.pairs.iter().map(|p| p.republish_at.min(p.expires));
        let published = self.published.iter().map(|p| p.republish_at);
        pairs.chain(published).min().unwrap_or(Time::NEVER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kad::id::NodeId;
    use std::sync::Arc;

    const H: Duration = Duration::from_secs(3600);

    fn v(s: &str) -> Value {
        Arc::from(s.as_bytes())
    }

    #[test]
    fn pairs_expire_after_24_hours_paper_2_5() {
        let mut s = Store::default();
        let k = NodeId::hash_of(b"k");
        assert!(s.put(k, v("x"), Time::ZERO, Time::ZERO + 24 * H, H, 10, 1));
        assert!(s.get(&k, Time::ZERO + 23 * H).is_some());
        assert_eq!(s.expire(Time::ZERO + 24 * H), 1);
        assert!(s.get(&k, Time::ZERO + 24 * H).is_none());
    }

    #[test]
    fn hourly_republish_skipped_after_a_store_paper_2_5() {
        let mut s = Store::default();
        let k = NodeId::hash_of(b"k");
        s.put(k, v("x"), Time::ZERO, Time::ZERO + 24 * H, H, 10, 1);
        // A STORE received 30 minutes in postpones the republish to 1.5 h.
        s.put(k, v("x"), Time::ZERO + H / 2, Time::ZERO + 24 * H, H, 10, 1);
        assert!(s.due_republish(Time::ZERO + H, H).is_empty());
        let due = s.due_republish(Time::ZERO + H + H / 2, H);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].2, 22 * H + H / 2, "remaining lifetime travels with the pair");
        assert!(s.due_republish(Time::ZERO + 2 * H, H).is_empty());
    }

    #[test]
    fn publisher_republishes_daily_paper_2_5() {
        let mut s = Store::default();
        let k = NodeId::hash_of(b"k");
        s.publish(k, v("x"), Time::ZERO, 24 * H);
        assert_eq!(s.next_due(), Time::ZERO + 24 * H);
        assert!(s.due_publisher(Time::ZERO + 23 * H, 24 * H).is_empty());
        assert_eq!(s.due_publisher(Time::ZERO + 24 * H, 24 * H).len(), 1);
        assert_eq!(s.next_due(), Time::ZERO + 48 * H);
    }

    #[test]
    fn bounded_and_later_expiry_wins() {
        let mut s = Store::default();
        let a = NodeId::hash_of(b"a");
        let b = NodeId::hash_of(b"b");
        assert!(s.put(a, v("1"), Time::ZERO, Time::ZERO + 10 * H, H, 1, 1));
        assert!(!s.put(b, v("2"), Time::ZERO, Time::ZERO + 10 * H, H, 1, 1), "full store refuses a new key");
        assert!(s.put(a, v("3"), Time::ZERO, Time::ZERO + 2 * H, H, 1, 1), "a held key is updated");
        assert_eq!(s.pairs()[0].expires, Time::ZERO + 10 * H);
        assert_eq!(&*s.pairs()[0].value, b"3");
    }

    #[test]
    fn a_key_holds_a_set_of_values_as_bep_5_holds_peers() {
        let mut s = Store::default();
        let (a, b) = (NodeId::hash_of(b"a"), NodeId::hash_of(b"b"));
        let m = 30 * 60;
        let at = |secs: u64| Time::ZERO + Duration::from_secs(secs);
        // Three peers announce infohash a, one of them twice; b is another key.
        assert!(s.put(a, v("peer1"), at(0), at(m), H, 100, 3));
        assert!(s.put(b, v("other"), at(0), at(m), H, 100, 3));
        assert!(s.put(a, v("peer2"), at(60), at(60 + m), H, 100, 3));
        assert!(s.put(a, v("peer1"), at(120), at(120 + m), H, 100, 3), "a re-announce refreshes");
        assert!(s.put(a, v("peer3"), at(180), at(180 + m), H, 100, 3));
        assert_eq!(s.len(), 4);
        assert_eq!(&*s.get(&a, at(200)).unwrap(), b"peer1peer2peer3", "all peers, in arrival order");
        assert_eq!(s.get_with_lifetime(&a, at(200)).unwrap().1, Duration::from_secs(180 + m - 200));
        // peer2 expires first (its announce is the oldest); peer1 was refreshed.
        assert_eq!(&*s.get(&a, at(60 + m)).unwrap(), b"peer1peer3");
        // A fourth peer into a full set of 3 replaces the one expiring first.
        assert!(s.put(a, v("peer4"), at(240), at(240 + m), H, 100, 3));
        assert_eq!(&*s.get(&a, at(250)).unwrap(), b"peer1peer4peer3");
        assert_eq!(&*s.get(&b, at(250)).unwrap(), b"other");
        // One value per key (the paper): the latest STORE wins.
        let mut p = Store::default();
        p.put(a, v("x"), at(0), at(m), H, 100, 1);
        p.put(a, v("y"), at(10), at(m), H, 100, 1);
        assert_eq!(&*p.get(&a, at(20)).unwrap(), b"y");
        assert_eq!(p.len(), 1);
    }
}

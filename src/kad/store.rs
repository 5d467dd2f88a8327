//! The node's key/value store and the schedule of its pairs: expiry, hourly
//! republishing and the original publisher's daily republishing (paper §2.5).

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

/// Stored and published pairs, each sorted by key.
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

    /// The value of `key`, if held and not expired at `now`.
    pub fn get(&self, key: &Key, now: Time) -> Option<&Value> {
        let i = self.pairs.binary_search_by(|p| p.key.cmp(key)).ok()?;
        let p = &self.pairs[i];
        (p.expires > now).then_some(&p.value)
    }

    /// The value of `key` and its remaining lifetime, if held and not expired at `now`.
    pub fn get_with_lifetime(&self, key: &Key, now: Time) -> Option<(&Value, Duration)> {
        let i = self.pairs.binary_search_by(|p| p.key.cmp(key)).ok()?;
        let p = &self.pairs[i];
        (p.expires > now).then(|| (&p.value, p.expires.since(now)))
    }

    /// Stores `(key, value)` until `expires`, keeping the later expiry if the
    /// pair is already held. Returns false when the store is full (`max` pairs)
    /// and the key is new.
    pub fn put(&mut self, key: Key, value: Value, now: Time, expires: Time, republish: Duration, max: usize) -> bool {
        let republish_at = now.plus(republish);
        match self.pairs.binary_search_by(|p| p.key.cmp(&key)) {
            Ok(i) => {
                let p = &mut self.pairs[i];
                p.value = value;
                p.expires = p.expires.max(expires);
                p.republish_at = republish_at;
                true
            }
            Err(i) => {
                if self.pairs.len() >= max {
                    return false;
                }
                self.pairs.insert(i, StoredPair { key, value, expires, republish_at });
                true
            }
        }
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
        assert!(s.put(k, v("x"), Time::ZERO, Time::ZERO + 24 * H, H, 10));
        assert!(s.get(&k, Time::ZERO + 23 * H).is_some());
        assert_eq!(s.expire(Time::ZERO + 24 * H), 1);
        assert!(s.get(&k, Time::ZERO + 24 * H).is_none());
    }

    #[test]
    fn hourly_republish_skipped_after_a_store_paper_2_5() {
        let mut s = Store::default();
        let k = NodeId::hash_of(b"k");
        s.put(k, v("x"), Time::ZERO, Time::ZERO + 24 * H, H, 10);
        // A STORE received 30 minutes in postpones the republish to 1.5 h.
        s.put(k, v("x"), Time::ZERO + H / 2, Time::ZERO + 24 * H, H, 10);
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
        assert!(s.put(a, v("1"), Time::ZERO, Time::ZERO + 10 * H, H, 1));
        assert!(!s.put(b, v("2"), Time::ZERO, Time::ZERO + 10 * H, H, 1), "full store refuses a new key");
        assert!(s.put(a, v("3"), Time::ZERO, Time::ZERO + 2 * H, H, 1), "a held key is updated");
        assert_eq!(s.pairs()[0].expires, Time::ZERO + 10 * H);
        assert_eq!(&*s.pairs()[0].value, b"3");
    }
}

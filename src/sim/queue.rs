//! The event queue: events ordered by (integer time in microseconds, key), so
//! same-time events run in key order (DESIGN.md §3).
//!
//! [`push`](EventQueue::push) keys an event by its insertion sequence: same-time
//! events run first in, first out. [`push_keyed`](EventQueue::push_keyed) keys it
//! by who scheduled it and that scheduler's own sequence number, an order that
//! does not depend on when, or on which thread, the event entered the queue:
//! what lets a parallel run order its events as a sequential one does.
//!
//! The heap holds one 128-bit key per event, time (48 bits of microseconds,
//! 8.9 years) above source (32 bits) above sequence (48 bits), beside the slab
//! slot of the event, so ordering is one integer comparison; events live in a
//! slab whose slots are reused, so a steady stream of messages allocates
//! nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The latest time the queue holds: 2^48 − 1 microseconds (8.9 years).
pub const MAX_TIME: u64 = (1 << 48) - 1;
const SEQ_MASK: u64 = (1 << 48) - 1;

/// An event's ordering key: time (48 bits) above source (32) above sequence (48).
pub(crate) fn event_key(time: u64, source: u32, seq: u64) -> u128 {
    u128::from(time.min(MAX_TIME)) << 80 | u128::from(source) << 48 | u128::from(seq & SEQ_MASK)
}

/// The time part of an event key.
pub(crate) fn key_time(key: u128) -> u64 {
    (key >> 80) as u64
}

/// Events by slot number, slots reused: the queues order keys and slot
/// numbers, and the events themselves stay put.
#[derive(Debug)]
pub(crate) struct Slab<E> {
    events: Vec<Option<E>>,
    free: Vec<u32>,
}

impl<E> Default for Slab<E> {
    fn default() -> Self {
        Slab { events: Vec::new(), free: Vec::new() }
    }
}

impl<E> Slab<E> {
    /// Stores `event`; returns its slot.
    pub(crate) fn insert(&mut self, event: E) -> u32 {
        match self.free.pop() {
            Some(s) => {
                self.events[s as usize] = Some(event);
                s
            }
            None => {
                self.events.push(Some(event));
                (self.events.len() - 1) as u32
            }
        }
    }

    /// Takes the event out of `slot`, freeing it.
    pub(crate) fn take(&mut self, slot: u32) -> Option<E> {
        let event = self.events[slot as usize].take()?;
        self.free.push(slot);
        Some(event)
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.events.capacity() * std::mem::size_of::<Option<E>>() + self.free.capacity() * 4
    }
}

/// A priority queue of events of type `E`.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(u128, u32)>>,
    slab: Slab<E>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), slab: Slab::default(), seq: 0 }
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `time` (µs), after every event already scheduled for
    /// that time by `push`. Do not mix with [`push_keyed`](Self::push_keyed) in one queue.
    pub fn push(&mut self, time: u64, event: E) {
        let seq = self.seq;
        self.push_keyed(time, 0, seq, event);
    }

    /// Schedules `event` at `time` (µs) under the key (`source`, `seq`): among
    /// same-time events, lower keys run first. Keys must be unique.
    pub fn push_keyed(&mut self, time: u64, source: u32, seq: u64, event: E) {
        let slot = self.slab.insert(event);
        self.heap.push(Reverse((event_key(time, source, seq), slot)));
        self.seq += 1;
    }

    /// Removes and returns the earliest event with its time.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        let Reverse((key, slot)) = self.heap.pop()?;
        Some((key_time(key), self.slab.take(slot)?))
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((k, _))| key_time(*k))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event waits.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Heap bytes held (heap and slab), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<(u128, u32)>() + self.slab.heap_bytes()
    }

    /// Events ever scheduled.
    pub fn scheduled(&self) -> u64 {
        self.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn same_time_events_are_first_in_first_out() {
        let mut q = EventQueue::new();
        q.push(5, "b1");
        q.push(3, "a");
        q.push(5, "b2");
        q.push(5, "b3");
        q.push(4, "a2");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(3, "a"), (4, "a2"), (5, "b1"), (5, "b2"), (5, "b3")]);
    }

    #[test]
    fn keyed_events_run_in_key_order_whatever_the_insertion_order() {
        let mut a = EventQueue::new();
        let mut b = EventQueue::new();
        let evs = [(5, 2, 0, "x"), (5, 1, 7, "y"), (4, 9, 9, "z"), (5, 1, 3, "w")];
        for &(t, s, q, e) in &evs {
            a.push_keyed(t, s, q, e);
        }
        for &(t, s, q, e) in evs.iter().rev() {
            b.push_keyed(t, s, q, e);
        }
        fn order(q: &mut EventQueue<&'static str>) -> Vec<(u64, &'static str)> {
            std::iter::from_fn(|| q.pop()).collect()
        }
        let want = vec![(4, "z"), (5, "w"), (5, "y"), (5, "x")];
        assert_eq!(order(&mut a), want);
        assert_eq!(order(&mut b), want);
    }

    proptest! {
        /// Popping yields events sorted by (time, insertion order), whatever the
        /// interleaving of pushes and pops.
        #[test]
        fn pops_in_time_then_insertion_order(ops in proptest::collection::vec((any::<bool>(), 0u64..20), 1..300)) {
            let mut q = EventQueue::new();
            let mut model: Vec<(u64, usize)> = Vec::new();
            let mut now = 0;
            for (i, (pop, dt)) in ops.into_iter().enumerate() {
                if pop {
                    model.sort();
                    let want = if model.is_empty() { None } else { Some(model.remove(0)) };
                    let got = q.pop();
                    prop_assert_eq!(got, want);
                    if let Some((t, _)) = got { now = t; }
                } else {
                    q.push(now + dt, i);
                    model.push((now + dt, i));
                }
            }
        }
    }
}

//! A calendar queue for a shard's events: the same order as
//! [`EventQueue::push_keyed`](super::queue::EventQueue::push_keyed) gives
//! (time, source, sequence), at a fraction of a binary heap's cost.
//!
//! Time is cut into slots of 2^s µs (at most the lookahead). A wheel of 4096
//! slots holds the events of the next 4096 slots, each slot an unsorted list;
//! the slot being run is sorted once, when the run reaches it, and events
//! scheduled into it (or before it) are inserted in order. Events beyond the
//! wheel (maintenance timers, an hour ahead) wait in a small binary heap and
//! move to the wheel as it turns. A push is O(1), a pop amortised O(log m) for
//! m events in a slot, against O(log n) cache misses for a heap of n.

use super::queue::{Slab, event_key as key, key_time as time_of};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const SLOTS: usize = 4096;
/// Room a slot starts with, and the least it keeps once emptied.
const SLOT_START: usize = 16;

/// A calendar queue of events of type `E`.
#[derive(Debug)]
pub struct Calendar<E> {
    shift: u32,
    wheel: Vec<Vec<(u128, u32)>>,
    in_wheel: usize,
    /// The slot being run: the wheel holds slots `cur .. cur + SLOTS`.
    cur: u64,
    /// The events of slot `cur` and earlier, sorted by key, largest first.
    now: Vec<(u128, u32)>,
    far: BinaryHeap<Reverse<(u128, u32)>>,
    slab: Slab<E>,
}

impl<E> Calendar<E> {
    /// An empty queue with slots no longer than `width` µs.
    pub fn new(width: u64) -> Calendar<E> {
        let shift = 63 - width.max(1).leading_zeros();
        Calendar {
            shift,
            wheel: (0..SLOTS).map(|_| Vec::new()).collect(),
            in_wheel: 0,
            cur: 0,
            now: Vec::new(),
            far: BinaryHeap::new(),
            slab: Slab::default(),
        }
    }

    /// Schedules `event` at `time` (µs) under the key (`source`, `seq`): among
    /// same-time events, lower keys run first. Keys must be unique.
    pub fn push(&mut self, time: u64, source: u32, seq: u64, event: E) {
        let idx = self.slab.insert(event);
        self.place((key(time, source, seq), idx));
    }

    fn place(&mut self, e: (u128, u32)) {
        let slot = time_of(e.0) >> self.shift;
        if slot <= self.cur {
            let at = self.now.partition_point(|x| x.0 > e.0);
            self.now.insert(at, e);
        } else if slot < self.cur + SLOTS as u64 {
            let bucket = &mut self.wheel[(slot % SLOTS as u64) as usize];
            if bucket.capacity() == 0 {
                bucket.reserve(SLOT_START);
            }
            bucket.push(e);
            self.in_wheel += 1;
        } else {
            self.far.push(Reverse(e));
        }
    }

    /// Moves to the next slot holding events and sorts it; false when empty.
    fn advance(&mut self) -> bool {
        loop {
            if self.in_wheel == 0 {
                let Some(Reverse(first)) = self.far.peek() else {
                    return false;
                };
                // Nothing in the wheel: jump to the far events' first slot.
                self.cur = (time_of(first.0) >> self.shift).max(self.cur + 1) - 1;
            }
            self.cur += 1;
            // Far events whose slot the wheel now covers move into it.
            let horizon = self.cur + SLOTS as u64;
            while let Some(Reverse(first)) = self.far.peek()
                && time_of(first.0) >> self.shift < horizon
            {
                let Some(Reverse(e)) = self.far.pop() else { break };
                let slot = time_of(e.0) >> self.shift;
                if slot <= self.cur {
                    self.now.push(e);
                } else {
                    self.wheel[(slot % SLOTS as u64) as usize].push(e);
                    self.in_wheel += 1;
                }
            }
            let bucket = &mut self.wheel[(self.cur % SLOTS as u64) as usize];
            if !bucket.is_empty() {
                self.in_wheel -= bucket.len();
                self.now.append(bucket);
                // A burst (a join storm) grows the slots in turn: keeping each
                // one's peak would hold the burst 4096 times over. A slot keeps
                // room for twice the wheel's mean load, so that memory follows
                // the events in flight, not the run's busiest second.
                let keep = SLOT_START.max(2 * self.in_wheel / SLOTS);
                if bucket.capacity() > 2 * keep {
                    bucket.shrink_to(keep);
                }
            }
            if !self.now.is_empty() {
                self.now.sort_unstable_by_key(|e| Reverse(e.0));
                return true;
            }
        }
    }

    /// Removes and returns the earliest event with its time.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        if self.now.is_empty() && !self.advance() {
            return None;
        }
        let (k, idx) = self.now.pop()?;
        Some((time_of(k), self.slab.take(idx)?))
    }

    /// Time of the earliest event.
    pub fn peek_time(&mut self) -> Option<u64> {
        if self.now.is_empty() && !self.advance() {
            return None;
        }
        self.now.last().map(|e| time_of(e.0))
    }

    /// Heap bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(u128, u32)>();
        (self.wheel.iter().map(Vec::capacity).sum::<usize>() + self.now.capacity() + self.far.capacity()) * entry
            + self.wheel.capacity() * std::mem::size_of::<Vec<(u128, u32)>>()
            + self.slab.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::queue::EventQueue;
    use proptest::prelude::*;

    proptest! {
        /// Pops in the order of a binary heap keyed the same way, whatever
        /// mix of near, far and same-slot events and interleaved pops.
        #[test]
        fn pops_as_the_keyed_heap_does(
            width in 1u64..2000,
            ops in proptest::collection::vec((0u8..4, 0u64..3_000_000, 0u32..5), 1..400),
        ) {
            let mut cal = Calendar::new(width);
            let mut heap = EventQueue::new();
            let mut now = 0;
            let mut seq = 0u64;
            for (op, dt, src) in ops {
                if op == 0 {
                    let a = cal.pop();
                    let b = heap.pop();
                    prop_assert_eq!(a, b);
                    if let Some((t, _)) = a { now = t; }
                } else {
                    // Mostly near, sometimes far beyond the wheel, sometimes now.
                    let t = match op { 1 => now + dt % 5_000, 2 => now + dt * 1_000, _ => now };
                    seq += 1;
                    cal.push(t, src, seq, seq);
                    heap.push_keyed(t, src, seq, seq);
                }
                prop_assert_eq!(cal.peek_time(), heap.peek_time());
            }
            loop {
                let (a, b) = (cal.pop(), heap.pop());
                prop_assert_eq!(a, b);
                if a.is_none() { break; }
            }
        }
    }
}

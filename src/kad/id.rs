//! 160-bit identifiers, the XOR metric and prefix arithmetic (paper §2.1).
//!
//! Node IDs and keys live in the same 160-bit space. The distance between two
//! IDs is their bitwise XOR read as an unsigned big-endian integer. A
//! `Distance` is held as three machine words (big-endian order), so that the
//! comparisons at the heart of every lookup cost a few instructions. Bit 0 is
//! the most significant bit.

use rand_core::RngCore;
use sha1::{Digest, Sha1};
use std::fmt;

/// Bytes in an ID (160 bits, paper §2.1).
pub const ID_BYTES: usize = 20;
/// Bits in an ID (paper §2.1).
pub const ID_BITS: usize = ID_BYTES * 8;

/// A 160-bit node ID (paper §2.1).
#[derive(Clone, Copy, Default)]
pub struct NodeId(pub [u8; ID_BYTES]);

/// Keys share the ID space with nodes (paper §2.1: "keys are also 160-bit identifiers").
pub type Key = NodeId;

/// The XOR distance between two IDs, ordered as a 160-bit unsigned integer
/// (paper §2.1): the top 64 bits, the next 64, the last 32.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Distance(u64, u64, u32);

/// The 160 bits as three big-endian words, whose tuple order is the integer
/// order. Comparing words is several times faster than a byte-wise `memcmp`,
/// and comparisons are the core's hottest operation.
#[inline(always)]
fn words(b: &[u8; ID_BYTES]) -> (u64, u64, u32) {
    let mut hi = [0u8; 8];
    let mut mid = [0u8; 8];
    let mut lo = [0u8; 4];
    hi.copy_from_slice(&b[0..8]);
    mid.copy_from_slice(&b[8..16]);
    lo.copy_from_slice(&b[16..20]);
    (u64::from_be_bytes(hi), u64::from_be_bytes(mid), u32::from_be_bytes(lo))
}

macro_rules! word_order {
    ($t:ty) => {
        impl PartialEq for $t {
            #[inline(always)]
            fn eq(&self, other: &Self) -> bool {
                // Equality needs no byte swapping: compare native words.
                let (a, b) = (&self.0, &other.0);
                let w = |x: &[u8; ID_BYTES], i: usize| {
                    let mut c = [0u8; 8];
                    c.copy_from_slice(&x[i..i + 8]);
                    u64::from_ne_bytes(c)
                };
                w(a, 0) == w(b, 0) && w(a, 8) == w(b, 8) && a[16..20] == b[16..20]
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            #[inline(always)]
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $t {
            #[inline(always)]
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                words(&self.0).cmp(&words(&other.0))
            }
        }
    };
}
word_order!(NodeId);

impl std::hash::Hash for NodeId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// Error for an ID written in hex that is not exactly 40 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 40 hex digits for a 160-bit ID, got {0:?}")]
pub struct ParseIdError(pub String);

impl NodeId {
    /// The ID whose bytes are `bytes`.
    pub const fn from_bytes(bytes: [u8; ID_BYTES]) -> Self {
        NodeId(bytes)
    }

    /// The raw big-endian bytes.
    pub const fn as_bytes(&self) -> &[u8; ID_BYTES] {
        &self.0
    }

    /// The key of a string or byte key: its SHA-1 digest (paper §2.1, keys are
    /// "e.g., a SHA-1 hash of some larger data").
    pub fn hash_of(data: &[u8]) -> Self {
        let digest = Sha1::digest(data);
        let mut out = [0u8; ID_BYTES];
        out.copy_from_slice(&digest);
        NodeId(out)
    }

    /// A uniformly random ID drawn from `rng`.
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut out = [0u8; ID_BYTES];
        rng.fill_bytes(&mut out);
        NodeId(out)
    }

    /// A uniformly random ID that shares its first `depth` bits with `prefix`:
    /// a random point in the subtree (bucket range) that `prefix/depth` names.
    pub fn random_in_prefix<R: RngCore + ?Sized>(prefix: &NodeId, depth: usize, rng: &mut R) -> Self {
        let random = NodeId::random(rng);
        let mask = prefix_mask(depth);
        let mut out = [0u8; ID_BYTES];
        for i in 0..ID_BYTES {
            out[i] = (prefix.0[i] & mask[i]) | (random.0[i] & !mask[i]);
        }
        NodeId(out)
    }

    /// The top 64 bits, big-endian: the first word of [`Distance::of`].
    #[inline(always)]
    pub fn top(&self) -> u64 {
        let mut hi = [0u8; 8];
        hi.copy_from_slice(&self.0[0..8]);
        u64::from_be_bytes(hi)
    }

    /// The XOR distance to `other` (paper §2.1).
    #[inline]
    pub fn distance(&self, other: &NodeId) -> Distance {
        let (a, b, c) = words(&self.0);
        let (x, y, z) = words(&other.0);
        Distance(a ^ x, b ^ y, c ^ z)
    }

    /// The smallest and the largest XOR distance from `target` to any ID sharing
    /// the first `depth` bits with `self`: the distance range of a subtree.
    #[inline]
    pub fn subtree_distance_range(&self, depth: usize, target: &NodeId) -> (Distance, Distance) {
        let d = self.distance(target);
        let (m0, m1, m2) = prefix_words(depth);
        (Distance(d.0 & m0, d.1 & m1, d.2 & m2), Distance(d.0 | !m0, d.1 | !m1, d.2 | !m2))
    }

    /// Bit `i` of the ID, bit 0 being the most significant.
    #[inline]
    pub fn bit(&self, i: usize) -> bool {
        (self.0[i / 8] >> (7 - (i % 8))) & 1 == 1
    }

    /// This ID with bit `i` set to `value`.
    pub fn with_bit(mut self, i: usize, value: bool) -> Self {
        let mask = 1u8 << (7 - (i % 8));
        if value {
            self.0[i / 8] |= mask;
        } else {
            self.0[i / 8] &= !mask;
        }
        self
    }

    /// This ID with every bit from `depth` on cleared: the lowest ID of the subtree `self/depth`.
    pub fn truncated(&self, depth: usize) -> Self {
        let (a, b, c) = words(&self.0);
        let (m0, m1, m2) = prefix_words(depth);
        NodeId(Distance(a & m0, b & m1, c & m2).to_bytes())
    }

    /// Number of leading bits shared with `other` (160 when equal).
    #[inline]
    pub fn common_prefix_len(&self, other: &NodeId) -> usize {
        self.distance(other).leading_zeros()
    }

    /// Whether this ID lies in the subtree of IDs whose first `depth` bits equal `prefix`'s.
    #[inline]
    pub fn has_prefix(&self, prefix: &NodeId, depth: usize) -> bool {
        self.common_prefix_len(prefix) >= depth
    }

    /// Lower-case hex, 40 digits.
    pub fn to_hex(&self) -> String {
        use fmt::Write;
        let mut s = String::with_capacity(ID_BYTES * 2);
        for b in &self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Parses exactly 40 hex digits (either case).
    pub fn from_hex(s: &str) -> Result<Self, ParseIdError> {
        let bytes = s.as_bytes();
        if bytes.len() != ID_BYTES * 2 {
            return Err(ParseIdError(s.to_string()));
        }
        let mut out = [0u8; ID_BYTES];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or_else(|| ParseIdError(s.to_string()))?;
            let lo = hex_val(pair[1]).ok_or_else(|| ParseIdError(s.to_string()))?;
            out[i] = (hi << 4) | lo;
        }
        Ok(NodeId(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A byte mask with the first `depth` bits set.
fn prefix_mask(depth: usize) -> [u8; ID_BYTES] {
    let mut mask = [0u8; ID_BYTES];
    for (i, byte) in mask.iter_mut().enumerate() {
        let start = i * 8;
        *byte = if depth >= start + 8 {
            0xff
        } else if depth <= start {
            0
        } else {
            0xffu8 << (8 - (depth - start))
        };
    }
    mask
}

/// Word masks with the first `depth` bits set.
#[inline]
fn prefix_words(depth: usize) -> (u64, u64, u32) {
    let m64 = |d: usize| {
        if d >= 64 {
            u64::MAX
        } else if d == 0 {
            0
        } else {
            u64::MAX << (64 - d)
        }
    };
    let m32 = |d: usize| {
        if d >= 32 {
            u32::MAX
        } else if d == 0 {
            0
        } else {
            u32::MAX << (32 - d)
        }
    };
    (m64(depth), m64(depth.saturating_sub(64)), m32(depth.saturating_sub(128)))
}

impl Distance {
    /// The distance zero (an ID to itself).
    pub const ZERO: Distance = Distance(0, 0, 0);

    /// The distance from the zero ID to `id`, i.e. `id` read as a number.
    pub fn of(id: &NodeId) -> Distance {
        let (a, b, c) = words(&id.0);
        Distance(a, b, c)
    }

    /// The top 64 bits.
    #[inline]
    pub fn top(&self) -> u64 {
        self.0
    }

    /// The distance from `id` to the ID whose `Distance::of` is `self`: the
    /// XOR of two precomputed word forms, for loops that measure many IDs
    /// against one target.
    #[inline]
    pub fn to(&self, id: &NodeId) -> Distance {
        let o = Distance::of(id);
        Distance(self.0 ^ o.0, self.1 ^ o.1, self.2 ^ o.2)
    }

    /// The 20 big-endian bytes.
    pub fn to_bytes(&self) -> [u8; ID_BYTES] {
        let mut out = [0u8; ID_BYTES];
        out[0..8].copy_from_slice(&self.0.to_be_bytes());
        out[8..16].copy_from_slice(&self.1.to_be_bytes());
        out[16..20].copy_from_slice(&self.2.to_be_bytes());
        out
    }

    /// Number of leading zero bits (160 for the zero distance).
    #[inline]
    pub fn leading_zeros(&self) -> usize {
        let (hi, mid, lo) = (self.0, self.1, self.2);
        if hi != 0 {
            hi.leading_zeros() as usize
        } else if mid != 0 {
            64 + mid.leading_zeros() as usize
        } else {
            128 + lo.leading_zeros() as usize
        }
    }

    /// The classic bucket index of this distance: `i` such that `2^i <= d < 2^(i+1)`
    /// (paper §2.2). `None` for the zero distance, which no bucket holds.
    #[inline]
    pub fn bucket_index(&self) -> Option<usize> {
        let lz = self.leading_zeros();
        (lz < ID_BITS).then(|| ID_BITS - 1 - lz)
    }

    /// The distance as a float, for ratios in estimates (exact in its top 53 bits).
    pub fn as_f64(&self) -> f64 {
        (self.0 as f64) * 2f64.powi(96) + (self.1 as f64) * 2f64.powi(32) + f64::from(self.2)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", &self.to_hex()[..12])
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Distance(lz={})", self.leading_zeros())
    }
}

impl std::str::FromStr for NodeId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodeId::from_hex(s)
    }
}

/// A test ID: first byte `first`, last byte `last`, zeros between.
#[cfg(test)]
pub(crate) fn test_id(first: u8, last: u8) -> NodeId {
    let mut b = [0u8; ID_BYTES];
    b[0] = first;
    b[ID_BYTES - 1] = last;
    NodeId(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id() -> impl Strategy<Value = NodeId> {
        proptest::array::uniform20(any::<u8>()).prop_map(NodeId)
    }

    #[test]
    fn sha1_key_of_string_paper_2_1() {
        // SHA-1("hello") = aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d (FIPS 180 test tooling).
        assert_eq!(NodeId::hash_of(b"hello").to_hex(), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    }

    #[test]
    fn bucket_index_from_distance_paper_2_2() {
        let zero = NodeId::default();
        let mut one = [0u8; ID_BYTES];
        one[19] = 1;
        assert_eq!(zero.distance(&NodeId(one)).bucket_index(), Some(0));
        let mut top = [0u8; ID_BYTES];
        top[0] = 0x80;
        assert_eq!(zero.distance(&NodeId(top)).bucket_index(), Some(159));
        assert_eq!(zero.distance(&zero).bucket_index(), None);
        top[0] = 0x01;
        assert_eq!(zero.distance(&NodeId(top)).bucket_index(), Some(152));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let id = NodeId::hash_of(b"x");
        assert_eq!(NodeId::from_hex(&id.to_hex()), Ok(id));
        assert!(NodeId::from_hex("abc").is_err());
        assert!(NodeId::from_hex(&"g".repeat(40)).is_err());
    }

    proptest! {
        // The XOR metric's laws (paper §2.1): identity, symmetry, triangle
        // inequality, and unidirectionality.
        #[test]
        fn xor_identity(a in id(), b in id()) {
            prop_assert_eq!(a.distance(&a), Distance::ZERO);
            prop_assert_eq!(a == b, a.distance(&b) == Distance::ZERO);
        }

        #[test]
        fn xor_symmetry(a in id(), b in id()) {
            prop_assert_eq!(a.distance(&b), b.distance(&a));
        }

        #[test]
        fn xor_triangle(a in id(), b in id(), c in id()) {
            // d(a,b) + d(b,c) >= d(a,c); compare as 168-bit integers.
            let to_u = |d: Distance| d.to_bytes().to_vec();
            let add = |x: Vec<u8>, y: Vec<u8>| {
                let mut out = vec![0u8; 21];
                let mut carry = 0u16;
                for i in (0..20).rev() {
                    let s = u16::from(x[i]) + u16::from(y[i]) + carry;
                    out[i + 1] = s as u8;
                    carry = s >> 8;
                }
                out[0] = carry as u8;
                out
            };
            let mut ac = vec![0u8];
            ac.extend(to_u(a.distance(&c)));
            prop_assert!(add(to_u(a.distance(&b)), to_u(b.distance(&c))) >= ac);
        }

        #[test]
        fn xor_unidirectional(a in id(), b in id(), c in id()) {
            // For a point and a distance there is exactly one point at that distance.
            let d = a.distance(&b);
            prop_assert_eq!(a.distance(&c) == d, b == c);
        }

        #[test]
        fn random_in_prefix_stays_in_subtree(a in id(), depth in 0usize..=160, seed in any::<u64>()) {
            use rand_core::SeedableRng;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let r = NodeId::random_in_prefix(&a, depth, &mut rng);
            prop_assert!(r.has_prefix(&a, depth));
            prop_assert!(a.truncated(depth).has_prefix(&a, depth));
        }
    }
}

//! Identifiers of 160 or 256 bits, the XOR metric and prefix arithmetic (paper §2.1).
//!
//! Node IDs and keys live in the same space. The paper's IDs are 160 bits (a
//! SHA-1); deployed Kademlias use 160 (BitTorrent's Mainline DHT, BEP 5) or
//! 256 (libp2p's Kademlia over SHA-256, Ethereum's discv5 over Keccak-256).
//! The width is a protocol parameter ([`IdWidth`], carried in
//! [`Config::id_width`](super::Config::id_width)): a [`NodeId`] always holds
//! 256 bits, and a 160-bit ID is one whose last 96 bits are zero. Since those
//! bits are zero in every ID and key of a 160-bit network, distances, orders
//! and prefixes between them are exactly those of 160-bit integers, and a
//! 160-bit network behaves (and draws random numbers) as it did before the
//! width became a parameter. Only bucket indices (`i` for distances in
//! [2^i, 2^(i+1)), paper §2.2), random draws, key hashing and hex forms read
//! the width.
//!
//! The distance between two IDs is their bitwise XOR read as an unsigned
//! big-endian integer. A `Distance` is held as four machine words
//! (big-endian order), so that the comparisons at the heart of every lookup
//! cost a few instructions. Bit 0 is the most significant bit.

use rand_core::RngCore;
use sha1::{Digest, Sha1};
use std::fmt;

/// Bytes in a classic 160-bit ID (paper §2.1, BEP 5).
pub const ID_BYTES: usize = 20;
/// Bits in a classic ID (paper §2.1): the default width.
pub const ID_BITS: usize = ID_BYTES * 8;
/// Bytes a [`NodeId`] holds: the widest supported ID, 256 bits.
pub const MAX_ID_BYTES: usize = 32;
/// Bits of the widest supported ID.
pub const MAX_ID_BITS: usize = MAX_ID_BYTES * 8;

/// The width of the ID space: a protocol parameter, the same for every node
/// and key of a network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdWidth {
    /// 160 bits: SHA-1, as in the paper (§2.1) and BitTorrent's Mainline DHT (BEP 5).
    #[default]
    Bits160,
    /// 256 bits: SHA-256, as libp2p's Kademlia (libp2p kad-dht spec,
    /// "Distance": SHA-256 of the key), or Keccak-256, as Ethereum's discv5
    /// (discv5 spec, "node ID" = keccak256 of the public key).
    Bits256,
}

impl IdWidth {
    /// The width of `bits` bits, if supported (160 or 256).
    pub fn from_bits(bits: usize) -> Option<IdWidth> {
        match bits {
            160 => Some(IdWidth::Bits160),
            256 => Some(IdWidth::Bits256),
            _ => None,
        }
    }

    /// Bits in an ID.
    #[inline]
    pub const fn bits(self) -> usize {
        match self {
            IdWidth::Bits160 => 160,
            IdWidth::Bits256 => 256,
        }
    }

    /// Bytes in an ID.
    #[inline]
    pub const fn bytes(self) -> usize {
        self.bits() / 8
    }
}

/// A node ID (paper §2.1) of 160 or 256 bits: 32 bytes, the last 12 zero
/// for a 160-bit ID.
#[derive(Clone, Copy, Default)]
pub struct NodeId(pub [u8; MAX_ID_BYTES]);

/// Keys share the ID space with nodes (paper §2.1: "keys are also 160-bit identifiers").
pub type Key = NodeId;

/// The XOR distance between two IDs, ordered as a 256-bit unsigned integer
/// (paper §2.1): four words, most significant first. Between 160-bit IDs the
/// last 96 bits are zero.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Distance(u64, u64, u64, u64);

/// Word `i` (0 to 3) of an ID, big-endian.
#[inline(always)]
fn word(b: &[u8; MAX_ID_BYTES], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i * 8..i * 8 + 8]);
    u64::from_be_bytes(w)
}

/// The 256 bits as four big-endian words, whose tuple order is the integer
/// order. Comparing words is several times faster than a byte-wise `memcmp`,
/// and comparisons are the core's hottest operation.
#[inline(always)]
fn words(b: &[u8; MAX_ID_BYTES]) -> (u64, u64, u64, u64) {
    (word(b, 0), word(b, 1), word(b, 2), word(b, 3))
}

macro_rules! word_order {
    ($t:ty) => {
        impl PartialEq for $t {
            #[inline(always)]
            fn eq(&self, other: &Self) -> bool {
                // Equality needs no byte swapping: compare native words.
                let (a, b) = (&self.0, &other.0);
                let w = |x: &[u8; MAX_ID_BYTES], i: usize| {
                    let mut c = [0u8; 8];
                    c.copy_from_slice(&x[i..i + 8]);
                    u64::from_ne_bytes(c)
                };
                w(a, 0) == w(b, 0) && w(a, 8) == w(b, 8) && w(a, 16) == w(b, 16) && w(a, 24) == w(b, 24)
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
    /// The 160-bit ID whose bytes are `bytes` (BEP 5's 20-byte IDs).
    pub const fn from_bytes(bytes: [u8; ID_BYTES]) -> Self {
        let mut out = [0u8; MAX_ID_BYTES];
        let mut i = 0;
        while i < ID_BYTES {
            out[i] = bytes[i];
            i += 1;
        }
        NodeId(out)
    }

    /// The ID whose first `width.bytes()` bytes are `bytes`, or `None` when
    /// `bytes` has another length.
    pub fn from_slice(bytes: &[u8], width: IdWidth) -> Option<Self> {
        (bytes.len() == width.bytes()).then(|| {
            let mut out = [0u8; MAX_ID_BYTES];
            out[..bytes.len()].copy_from_slice(bytes);
            NodeId(out)
        })
    }

    /// The first 20 bytes, big-endian: the whole of a 160-bit ID, as BEP 5
    /// puts it on the wire.
    pub fn as_bytes(&self) -> &[u8; ID_BYTES] {
        self.0[..ID_BYTES].try_into().expect("an ID holds at least 20 bytes")
    }

    /// The first `width.bytes()` bytes: the ID at that width.
    pub fn bytes(&self, width: IdWidth) -> &[u8] {
        &self.0[..width.bytes()]
    }

    /// Whether the ID fits `width`: its bits past the width are zero.
    pub fn fits(&self, width: IdWidth) -> bool {
        self.0[width.bytes()..].iter().all(|b| *b == 0)
    }

    /// The key of a string or byte key: its SHA-1 digest (paper §2.1, keys are
    /// "e.g., a SHA-1 hash of some larger data").
    pub fn hash_of(data: &[u8]) -> Self {
        NodeId::from_bytes(Sha1::digest(data).into())
    }

    /// The key of `data` in a space of `width`: its SHA-1 at 160 bits (paper
    /// §2.1, BEP 5), its SHA-256 at 256 bits (libp2p kad-dht spec: "the
    /// SHA256 hash of the key").
    pub fn hash_of_width(data: &[u8], width: IdWidth) -> Self {
        match width {
            IdWidth::Bits160 => NodeId::hash_of(data),
            IdWidth::Bits256 => NodeId(sha2::Sha256::digest(data).into()),
        }
    }

    /// A uniformly random 160-bit ID drawn from `rng`.
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        NodeId::random_width(rng, IdWidth::Bits160)
    }

    /// A uniformly random ID of `width` drawn from `rng` (it draws exactly
    /// `width.bytes()` bytes).
    pub fn random_width<R: RngCore + ?Sized>(rng: &mut R, width: IdWidth) -> Self {
        let mut out = [0u8; MAX_ID_BYTES];
        rng.fill_bytes(&mut out[..width.bytes()]);
        NodeId(out)
    }

    /// A uniformly random ID of `width` that shares its first `depth` bits with `prefix`:
    /// a random point in the subtree (bucket range) that `prefix/depth` names.
    pub fn random_in_prefix<R: RngCore + ?Sized>(prefix: &NodeId, depth: usize, width: IdWidth, rng: &mut R) -> Self {
        let random = NodeId::random_width(rng, width);
        let mask = prefix_mask(depth);
        let mut out = [0u8; MAX_ID_BYTES];
        for i in 0..width.bytes() {
            out[i] = (prefix.0[i] & mask[i]) | (random.0[i] & !mask[i]);
        }
        NodeId(out)
    }

    /// The top 64 bits, big-endian: the first word of [`Distance::of`].
    #[inline(always)]
    pub fn top(&self) -> u64 {
        word(&self.0, 0)
    }

    /// The XOR distance to `other` (paper §2.1).
    #[inline]
    pub fn distance(&self, other: &NodeId) -> Distance {
        let (a, b, c, d) = words(&self.0);
        let (w, x, y, z) = words(&other.0);
        Distance(a ^ w, b ^ x, c ^ y, d ^ z)
    }

    /// The smallest and the largest XOR distance from `target` to any ID sharing
    /// the first `depth` bits with `self`: the distance range of a subtree.
    /// The largest sets every bit past `depth`, also those past a 160-bit
    /// ID's width: a bound, compared only with distances of IDs.
    #[inline]
    pub fn subtree_distance_range(&self, depth: usize, target: &NodeId) -> (Distance, Distance) {
        let d = self.distance(target);
        let (m0, m1, m2, m3) = prefix_words(depth);
        (Distance(d.0 & m0, d.1 & m1, d.2 & m2, d.3 & m3), Distance(d.0 | !m0, d.1 | !m1, d.2 | !m2, d.3 | !m3))
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
        let (a, b, c, d) = words(&self.0);
        let (m0, m1, m2, m3) = prefix_words(depth);
        NodeId(Distance(a & m0, b & m1, c & m2, d & m3).to_bytes())
    }

    /// Number of leading bits shared with `other` (256 when equal, whatever the width).
    #[inline]
    pub fn common_prefix_len(&self, other: &NodeId) -> usize {
        self.distance(other).leading_zeros()
    }

    /// Whether this ID lies in the subtree of IDs whose first `depth` bits equal `prefix`'s.
    #[inline]
    pub fn has_prefix(&self, prefix: &NodeId, depth: usize) -> bool {
        self.common_prefix_len(prefix) >= depth
    }

    /// Lower-case hex: 40 digits for an ID that fits 160 bits, else 64.
    pub fn to_hex(&self) -> String {
        let width = if self.fits(IdWidth::Bits160) { IdWidth::Bits160 } else { IdWidth::Bits256 };
        self.to_hex_width(width)
    }

    /// Lower-case hex of the first `width.bytes()` bytes.
    pub fn to_hex_width(&self, width: IdWidth) -> String {
        use fmt::Write;
        let mut s = String::with_capacity(width.bytes() * 2);
        for b in self.bytes(width) {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Parses exactly 40 hex digits (either case): a 160-bit ID.
    pub fn from_hex(s: &str) -> Result<Self, ParseIdError> {
        let bytes = s.as_bytes();
        if bytes.len() != ID_BYTES * 2 {
            return Err(ParseIdError(s.to_string()));
        }
        let mut out = [0u8; MAX_ID_BYTES];
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
fn prefix_mask(depth: usize) -> [u8; MAX_ID_BYTES] {
    let mut mask = [0u8; MAX_ID_BYTES];
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
fn prefix_words(depth: usize) -> (u64, u64, u64, u64) {
    let m64 = |d: usize| {
        if d >= 64 {
            u64::MAX
        } else if d == 0 {
            0
        } else {
            u64::MAX << (64 - d)
        }
    };
    (m64(depth), m64(depth.saturating_sub(64)), m64(depth.saturating_sub(128)), m64(depth.saturating_sub(192)))
}

impl Distance {
    /// The distance zero (an ID to itself).
    pub const ZERO: Distance = Distance(0, 0, 0, 0);

    /// The distance from the zero ID to `id`, i.e. `id` read as a number.
    pub fn of(id: &NodeId) -> Distance {
        let (a, b, c, d) = words(&id.0);
        Distance(a, b, c, d)
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
        Distance(self.0 ^ o.0, self.1 ^ o.1, self.2 ^ o.2, self.3 ^ o.3)
    }

    /// The 32 big-endian bytes.
    pub fn to_bytes(&self) -> [u8; MAX_ID_BYTES] {
        let mut out = [0u8; MAX_ID_BYTES];
        for (i, w) in [self.0, self.1, self.2, self.3].into_iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// Number of leading zero bits of the 256-bit word (256 for the zero distance).
    #[inline]
    pub fn leading_zeros(&self) -> usize {
        if self.0 != 0 {
            self.0.leading_zeros() as usize
        } else if self.1 != 0 {
            64 + self.1.leading_zeros() as usize
        } else if self.2 != 0 {
            128 + self.2.leading_zeros() as usize
        } else {
            192 + self.3.leading_zeros() as usize
        }
    }

    /// The classic bucket index of this distance between two IDs of `width`:
    /// `i` such that `2^i <= d < 2^(i+1)` (paper §2.2), from 0 to
    /// `width.bits() - 1` (discv5 calls it the log-distance). `None` for the
    /// zero distance, which no bucket holds.
    #[inline]
    pub fn bucket_index(&self, width: IdWidth) -> Option<usize> {
        let lz = self.leading_zeros();
        (lz < width.bits()).then(|| width.bits() - 1 - lz)
    }

    /// The distance as a float, for ratios in estimates (exact in its top 53
    /// bits). Scaled as a 160-bit integer: a 160-bit distance reads as before
    /// the width was a parameter; the ratio of two distances is the same at
    /// either width.
    pub fn as_f64(&self) -> f64 {
        (self.0 as f64) * 2f64.powi(96)
            + (self.1 as f64) * 2f64.powi(32)
            + (self.2 as f64) * 2f64.powi(-32)
            + (self.3 as f64) * 2f64.powi(-96)
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

/// A test ID: first byte `first`, last byte `last`, zeros between (160 bits).
#[cfg(test)]
pub(crate) fn test_id(first: u8, last: u8) -> NodeId {
    let mut b = [0u8; ID_BYTES];
    b[0] = first;
    b[ID_BYTES - 1] = last;
    NodeId::from_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id() -> impl Strategy<Value = NodeId> {
        proptest::array::uniform20(any::<u8>()).prop_map(NodeId::from_bytes)
    }

    fn id256() -> impl Strategy<Value = NodeId> {
        proptest::array::uniform32(any::<u8>()).prop_map(NodeId)
    }

    #[test]
    fn sha1_key_of_string_paper_2_1() {
        // SHA-1("hello") = aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d (FIPS 180 test tooling).
        assert_eq!(NodeId::hash_of(b"hello").to_hex(), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
        assert_eq!(NodeId::hash_of_width(b"hello", IdWidth::Bits160), NodeId::hash_of(b"hello"));
    }

    #[test]
    fn sha256_key_of_string_at_256_bits() {
        // SHA-256("hello"), FIPS 180-4 (as `sha256sum` prints it).
        assert_eq!(
            NodeId::hash_of_width(b"hello", IdWidth::Bits256).to_hex_width(IdWidth::Bits256),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn bucket_index_from_distance_paper_2_2() {
        let w = IdWidth::Bits160;
        let zero = NodeId::default();
        let mut one = [0u8; ID_BYTES];
        one[19] = 1;
        assert_eq!(zero.distance(&NodeId::from_bytes(one)).bucket_index(w), Some(0));
        let mut top = [0u8; ID_BYTES];
        top[0] = 0x80;
        assert_eq!(zero.distance(&NodeId::from_bytes(top)).bucket_index(w), Some(159));
        assert_eq!(zero.distance(&zero).bucket_index(w), None);
        top[0] = 0x01;
        assert_eq!(zero.distance(&NodeId::from_bytes(top)).bucket_index(w), Some(152));
    }

    #[test]
    fn bucket_index_at_256_bits() {
        // Distances in [2^i, 2^(i+1)) have index i, from 0 to 255 (discv5's
        // log-distance, minus one: discv5 numbers its buckets 1 to 256).
        let w = IdWidth::Bits256;
        let zero = NodeId::default();
        let at = |bit: usize| NodeId::default().with_bit(bit, true);
        assert_eq!(zero.distance(&at(255)).bucket_index(w), Some(0));
        assert_eq!(zero.distance(&at(0)).bucket_index(w), Some(255));
        assert_eq!(zero.distance(&at(100)).bucket_index(w), Some(155));
        assert_eq!(zero.distance(&at(200)).bucket_index(w), Some(55));
        assert_eq!(zero.distance(&zero).bucket_index(w), None);
        // A distance with bits in the last word orders below one in the first.
        assert!(zero.distance(&at(255)) < zero.distance(&at(191)));
        assert!(zero.distance(&at(191)) < zero.distance(&at(0)));
        assert_eq!(zero.distance(&at(200).with_bit(255, true)).leading_zeros(), 200);
        // The same 160-bit distance has the same index at either width's
        // reading of its own space: bit 0 set is index width - 1.
        assert_eq!(zero.distance(&at(0)).bucket_index(IdWidth::Bits160), Some(159));
    }

    #[test]
    fn widths_draw_their_own_bytes() {
        use rand_core::SeedableRng;
        let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut b = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let narrow = NodeId::random_width(&mut a, IdWidth::Bits160);
        assert!(narrow.fits(IdWidth::Bits160));
        // The 160-bit draw consumes 20 bytes: the next draw is what 20 bytes later gives.
        let mut skip = [0u8; 20];
        rand_core::RngCore::fill_bytes(&mut b, &mut skip);
        assert_eq!(&narrow.0[..20], &skip);
        let wide = NodeId::random_width(&mut a, IdWidth::Bits256);
        assert!(!wide.fits(IdWidth::Bits160), "a 256-bit draw fills the last 12 bytes (2^-96 to fail)");
        assert_eq!(wide.to_hex().len(), 64);
        assert_eq!(narrow.to_hex().len(), 40);
        let r = NodeId::random_in_prefix(&wide, 200, IdWidth::Bits256, &mut a);
        assert!(r.has_prefix(&wide, 200) && r != wide);
        let r = NodeId::random_in_prefix(&narrow, 10, IdWidth::Bits160, &mut a);
        assert!(r.has_prefix(&narrow, 10) && r.fits(IdWidth::Bits160));
        assert_eq!(NodeId::from_slice(&[7u8; 32], IdWidth::Bits256), Some(NodeId([7u8; 32])));
        assert_eq!(NodeId::from_slice(&[7u8; 32], IdWidth::Bits160), None);
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let id = NodeId::hash_of(b"x");
        assert_eq!(NodeId::from_hex(&id.to_hex()), Ok(id));
        assert!(NodeId::from_hex("abc").is_err());
        assert!(NodeId::from_hex(&"g".repeat(40)).is_err());
    }

    /// `a + b >= c` for distances as 257-bit integers.
    fn sum_at_least(a: Distance, b: Distance, c: Distance) -> bool {
        let (x, y) = (a.to_bytes(), b.to_bytes());
        let mut out = [0u8; 33];
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let s = u16::from(x[i]) + u16::from(y[i]) + carry;
            out[i + 1] = s as u8;
            carry = s >> 8;
        }
        out[0] = carry as u8;
        let mut cc = [0u8; 33];
        cc[1..].copy_from_slice(&c.to_bytes());
        out >= cc
    }

    proptest! {
        // The XOR metric's laws (paper §2.1): identity, symmetry, triangle
        // inequality, and unidirectionality, at both widths.
        #[test]
        fn xor_identity(a in id(), b in id(), c in id256(), d in id256()) {
            prop_assert_eq!(a.distance(&a), Distance::ZERO);
            prop_assert_eq!(a == b, a.distance(&b) == Distance::ZERO);
            prop_assert_eq!(c == d, c.distance(&d) == Distance::ZERO);
        }

        #[test]
        fn xor_symmetry(a in id(), b in id(), c in id256(), d in id256()) {
            prop_assert_eq!(a.distance(&b), b.distance(&a));
            prop_assert_eq!(c.distance(&d), d.distance(&c));
        }

        #[test]
        fn xor_triangle(a in id(), b in id(), c in id(), x in id256(), y in id256(), z in id256()) {
            prop_assert!(sum_at_least(a.distance(&b), b.distance(&c), a.distance(&c)));
            prop_assert!(sum_at_least(x.distance(&y), y.distance(&z), x.distance(&z)));
        }

        #[test]
        fn xor_unidirectional(a in id(), b in id(), c in id(), x in id256(), y in id256(), z in id256()) {
            // For a point and a distance there is exactly one point at that distance.
            let d = a.distance(&b);
            prop_assert_eq!(a.distance(&c) == d, b == c);
            let d = x.distance(&y);
            prop_assert_eq!(x.distance(&z) == d, y == z);
        }

        #[test]
        fn distance_order_is_byte_order(x in id256(), y in id256(), t in id256()) {
            // Word comparison equals big-endian byte comparison of the XOR.
            prop_assert_eq!(t.distance(&x).cmp(&t.distance(&y)), t.distance(&x).to_bytes().cmp(&t.distance(&y).to_bytes()));
            prop_assert_eq!(x.cmp(&y), x.0.cmp(&y.0));
        }

        #[test]
        fn bucket_index_is_the_log_distance(x in id256(), y in id256()) {
            // 2^i <= d < 2^(i+1): the highest set bit of the XOR, counted from the right.
            let d = x.distance(&y);
            let bytes = d.to_bytes();
            let highest = bytes.iter().enumerate().find(|(_, b)| **b != 0).map(|(i, b)| 255 - (i * 8 + b.leading_zeros() as usize));
            prop_assert_eq!(d.bucket_index(IdWidth::Bits256), highest);
        }

        #[test]
        fn random_in_prefix_stays_in_subtree(a in id(), depth in 0usize..=160, seed in any::<u64>()) {
            use rand_core::SeedableRng;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let r = NodeId::random_in_prefix(&a, depth, IdWidth::Bits160, &mut rng);
            prop_assert!(r.has_prefix(&a, depth));
            prop_assert!(r.fits(IdWidth::Bits160));
            prop_assert!(a.truncated(depth).has_prefix(&a, depth));
        }

        #[test]
        fn random_in_prefix_stays_in_subtree_256(a in id256(), depth in 0usize..=256, seed in any::<u64>()) {
            use rand_core::SeedableRng;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let r = NodeId::random_in_prefix(&a, depth, IdWidth::Bits256, &mut rng);
            prop_assert!(r.has_prefix(&a, depth));
            prop_assert!(a.truncated(depth).has_prefix(&a, depth));
        }
    }
}

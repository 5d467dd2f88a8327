//! A small, strict bencode codec (BEP 3, "The BitTorrent Protocol Specification", section "bencoding").
//!
//! Decoding borrows byte strings from the input and accepts exactly one
//! canonical encoding of each value: integers without leading zeros or `-0`,
//! string lengths without leading zeros, dictionary keys that are byte strings
//! in strictly ascending raw-byte order. Canonical input is what makes a
//! decode/encode round trip byte-exact, which BEP 44 relies on when it hashes
//! a bencoded value. The decoder never panics, never allocates from a claimed
//! length, and bounds nesting at [`MAX_DEPTH`].

/// Deepest nesting of lists and dictionaries accepted by [`decode`]: a value
/// inside 16 containers is fine, one inside 17 is [`BencodeError::TooDeep`].
/// KRPC (BEP 5) needs 3 levels; the bound keeps recursion shallow on hostile input.
pub const MAX_DEPTH: usize = 16;

/// A bencoded value (BEP 3) whose byte strings borrow from the decoded buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bencode<'a> {
    /// `i<decimal>e` (BEP 3: integers).
    Int(i64),
    /// `<length>:<bytes>` (BEP 3: strings are length-prefixed base ten).
    Bytes(&'a [u8]),
    /// `l<values>e` (BEP 3: lists).
    List(Vec<Bencode<'a>>),
    /// `d<key><value>...e`, keys in strictly ascending raw-byte order (BEP 3: dictionaries).
    Dict(Vec<(&'a [u8], Bencode<'a>)>),
}

/// Why [`decode`] rejected its input. Positions are byte offsets into it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BencodeError {
    /// The input ended inside a value (or a string claims more bytes than remain).
    #[error("truncated at byte {0}")]
    Truncated(usize),
    /// The input is not canonical bencode at `at`.
    #[error("invalid bencode at byte {at}: {what}")]
    Invalid {
        /// Offset of the offending byte.
        at: usize,
        /// What is wrong there.
        what: &'static str,
    },
    /// Lists and dictionaries nest deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// One value was decoded but bytes follow it from this offset.
    #[error("trailing bytes from byte {0}")]
    TrailingBytes(usize),
}

impl<'a> Bencode<'a> {
    /// The value of `key` if `self` is a dictionary that has it.
    pub fn get(&self, key: &[u8]) -> Option<&Bencode<'a>> {
        match self {
            Bencode::Dict(entries) => entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The bytes if `self` is a byte string.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Bencode::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The integer if `self` is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Bencode::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// Decodes exactly one value spanning all of `buf`.
pub fn decode(buf: &[u8]) -> Result<Bencode<'_>, BencodeError> {
    let mut p = Parser { buf, pos: 0 };
    let v = p.value(0)?;
    if p.pos == buf.len() { Ok(v) } else { Err(BencodeError::TrailingBytes(p.pos)) }
}

/// Appends the encoding of `v` to `out`. Dictionary entries are written in the
/// order given; callers pass them sorted by key (BEP 3), which is checked in
/// debug builds.
pub fn encode(v: &Bencode<'_>, out: &mut Vec<u8>) {
    match v {
        Bencode::Int(n) => {
            out.push(b'i');
            if *n < 0 {
                out.push(b'-');
            }
            push_decimal(out, n.unsigned_abs());
            out.push(b'e');
        }
        Bencode::Bytes(b) => push_bytes(out, b),
        Bencode::List(items) => {
            out.push(b'l');
            for item in items {
                encode(item, out);
            }
            out.push(b'e');
        }
        Bencode::Dict(entries) => {
            debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0), "dictionary keys must be sorted and unique");
            out.push(b'd');
            for (k, item) in entries {
                push_bytes(out, k);
                encode(item, out);
            }
            out.push(b'e');
        }
    }
}

/// `<len>:<bytes>` (BEP 3).
fn push_bytes(out: &mut Vec<u8>, b: &[u8]) {
    push_decimal(out, b.len() as u64);
    out.push(b':');
    out.extend_from_slice(b);
}

/// `n` in base ten, without leading zeros.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A cursor over the input. Every read goes through `peek`/`get`, so no index
/// ever passes the end.
struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn invalid<T>(&self, what: &'static str) -> Result<T, BencodeError> {
        Err(BencodeError::Invalid { at: self.pos, what })
    }

    /// Consumes `byte` or fails.
    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), BencodeError> {
        match self.peek() {
            None => Err(BencodeError::Truncated(self.pos)),
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => self.invalid(what),
        }
    }

    /// One value inside `depth` enclosing containers.
    fn value(&mut self, depth: usize) -> Result<Bencode<'a>, BencodeError> {
        match self.peek() {
            None => Err(BencodeError::Truncated(self.pos)),
            Some(b'i') => self.int().map(Bencode::Int),
            Some(b'0'..=b'9') => self.bytes().map(Bencode::Bytes),
            Some(b'l') => {
                if depth >= MAX_DEPTH {
                    return Err(BencodeError::TooDeep);
                }
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    match self.peek() {
                        None => return Err(BencodeError::Truncated(self.pos)),
                        Some(b'e') => break,
                        Some(_) => items.push(self.value(depth + 1)?),
                    }
                }
                self.pos += 1;
                Ok(Bencode::List(items))
            }
            Some(b'd') => {
                if depth >= MAX_DEPTH {
                    return Err(BencodeError::TooDeep);
                }
                self.pos += 1;
                let mut entries: Vec<(&'a [u8], Bencode<'a>)> = Vec::new();
                loop {
                    match self.peek() {
                        None => return Err(BencodeError::Truncated(self.pos)),
                        Some(b'e') => break,
                        Some(b'0'..=b'9') => {
                            let at = self.pos;
                            let key = self.bytes()?;
                            // BEP 3: "Keys must be strings and appear in sorted
                            // order (sorted as raw strings, not alphanumerics)."
                            if let Some((prev, _)) = entries.last() {
                                if *prev == key {
                                    return Err(BencodeError::Invalid { at, what: "duplicate dictionary key" });
                                }
                                if *prev > key {
                                    return Err(BencodeError::Invalid { at, what: "dictionary keys not sorted" });
                                }
                            }
                            let v = self.value(depth + 1)?;
                            entries.push((key, v));
                        }
                        Some(_) => return self.invalid("dictionary key is not a byte string"),
                    }
                }
                self.pos += 1;
                Ok(Bencode::Dict(entries))
            }
            Some(_) => self.invalid("not the start of a value"),
        }
    }

    /// `i<digits>e` with an optional `-`; no leading zeros, no `-0` (BEP 3).
    fn int(&mut self) -> Result<i64, BencodeError> {
        self.pos += 1; // 'i'
        let neg = self.peek() == Some(b'-');
        if neg {
            self.pos += 1;
        }
        let start = self.pos;
        match self.peek() {
            None => return Err(BencodeError::Truncated(self.pos)),
            Some(b'0') if neg => return self.invalid("negative zero or leading zero"),
            Some(b'0') => {
                self.pos += 1;
                return match self.peek() {
                    Some(b'0'..=b'9') => self.invalid("integer with a leading zero"),
                    _ => self.expect(b'e', "integer not terminated by 'e'").map(|()| 0),
                };
            }
            Some(b'1'..=b'9') => {}
            Some(_) => return self.invalid("integer without digits"),
        }
        let mut n: i64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            let d = i64::from(d - b'0');
            // Accumulate towards the sign so that i64::MIN fits.
            n = match n.checked_mul(10).and_then(|n| if neg { n.checked_sub(d) } else { n.checked_add(d) }) {
                Some(n) => n,
                None => return Err(BencodeError::Invalid { at: start, what: "integer does not fit i64" }),
            };
            self.pos += 1;
        }
        self.expect(b'e', "integer not terminated by 'e'")?;
        Ok(n)
    }

    /// `<len>:<bytes>`; the length has no leading zeros and never exceeds the
    /// remaining input (BEP 3).
    fn bytes(&mut self) -> Result<&'a [u8], BencodeError> {
        let start = self.pos;
        if self.peek() == Some(b'0') && matches!(self.buf.get(self.pos + 1), Some(b'0'..=b'9')) {
            return self.invalid("string length with a leading zero");
        }
        let mut len: usize = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            len = match len.checked_mul(10).and_then(|n| n.checked_add(usize::from(d - b'0'))) {
                Some(n) => n,
                None => return Err(BencodeError::Truncated(start)),
            };
            self.pos += 1;
        }
        self.expect(b':', "string length not followed by ':'")?;
        let rest = &self.buf[self.pos..];
        match rest.get(..len) {
            Some(b) => {
                self.pos += len;
                Ok(b)
            }
            None => Err(BencodeError::Truncated(start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &Bencode<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out);
        out
    }

    #[test]
    fn bep3_examples() {
        // BEP 3, "bencoding": each example decodes and re-encodes byte-exact.
        let cases: [(&[u8], Bencode<'_>); 7] = [
            (b"4:spam", Bencode::Bytes(b"spam")),
            (b"0:", Bencode::Bytes(b"")),
            (b"i3e", Bencode::Int(3)),
            (b"i-3e", Bencode::Int(-3)),
            (b"i0e", Bencode::Int(0)),
            (b"l4:spam4:eggse", Bencode::List(vec![Bencode::Bytes(b"spam"), Bencode::Bytes(b"eggs")])),
            (
                b"d3:cow3:moo4:spam4:eggse",
                Bencode::Dict(vec![(b"cow", Bencode::Bytes(b"moo")), (b"spam", Bencode::Bytes(b"eggs"))]),
            ),
        ];
        for (bytes, value) in cases {
            assert_eq!(decode(bytes), Ok(value.clone()), "{}", String::from_utf8_lossy(bytes));
            assert_eq!(enc(&value), bytes);
        }
        let d = decode(b"d4:spaml1:a1:bee").unwrap();
        assert_eq!(d.get(b"spam"), Some(&Bencode::List(vec![Bencode::Bytes(b"a"), Bencode::Bytes(b"b")])));
        assert_eq!(d.get(b"nope"), None);
        assert_eq!(Bencode::Int(7).get(b"spam"), None);
        assert_eq!(Bencode::Bytes(b"x").as_bytes(), Some(&b"x"[..]));
        assert_eq!(Bencode::Int(7).as_bytes(), None);
        assert_eq!(Bencode::Int(7).as_int(), Some(7));
        assert_eq!(Bencode::Bytes(b"7").as_int(), None);
    }

    #[test]
    fn integer_extremes() {
        assert_eq!(decode(b"i9223372036854775807e"), Ok(Bencode::Int(i64::MAX)));
        assert_eq!(decode(b"i-9223372036854775808e"), Ok(Bencode::Int(i64::MIN)));
        assert_eq!(enc(&Bencode::Int(i64::MIN)), b"i-9223372036854775808e");
        assert!(decode(b"i9223372036854775808e").is_err());
        assert!(decode(b"i-9223372036854775809e").is_err());
    }

    #[test]
    fn strictness() {
        let deep_ok = [vec![b'l'; MAX_DEPTH], vec![b'e'; MAX_DEPTH]].concat();
        assert!(decode(&deep_ok).is_ok());
        let too_deep = [vec![b'l'; MAX_DEPTH + 1], vec![b'e'; MAX_DEPTH + 1]].concat();
        assert_eq!(decode(&too_deep), Err(BencodeError::TooDeep));
        let dict_too_deep = [b"d1:a".repeat(MAX_DEPTH + 1), b"i0e".to_vec(), vec![b'e'; MAX_DEPTH + 1]].concat();
        assert_eq!(decode(&dict_too_deep), Err(BencodeError::TooDeep));
        let huge_len = b"99999999999999999999999999:x";
        let bad: &[&[u8]] = &[
            b"",
            b"i01e",
            b"i-0e",
            b"i-01e",
            b"ie",
            b"i-e",
            b"i1",
            b"i1x",
            b"i+1e",
            b"03:abc",
            b"5:abc",
            b"3abc",
            b"-1:a",
            huge_len,
            b"d1:bi1e1:ai2ee",
            b"d1:ai1e1:ai2ee",
            b"di1ei2ee",
            b"d1:ai1e",
            b"d1:a",
            b"l",
            b"li1e",
            b"x",
            b"i1ei2e",
            b"4:spamx",
            b"le ",
        ];
        for input in bad {
            assert!(decode(input).is_err(), "accepted {:?}", String::from_utf8_lossy(input));
        }
        assert_eq!(decode(b"5:abc"), Err(BencodeError::Truncated(0)));
        assert_eq!(decode(b"i1ei2e"), Err(BencodeError::TrailingBytes(3)));
        assert!(matches!(decode(b"d1:bi1e1:ai2ee"), Err(BencodeError::Invalid { at: 7, .. })));
    }

    /// An owned model of a value, since `Bencode` borrows; dictionaries are
    /// generated sorted and unique by the `BTreeMap`.
    #[derive(Clone, Debug)]
    enum Owned {
        Int(i64),
        Bytes(Vec<u8>),
        List(Vec<Owned>),
        Dict(std::collections::BTreeMap<Vec<u8>, Owned>),
    }

    impl Owned {
        fn borrow(&self) -> Bencode<'_> {
            match self {
                Owned::Int(n) => Bencode::Int(*n),
                Owned::Bytes(b) => Bencode::Bytes(b),
                Owned::List(l) => Bencode::List(l.iter().map(Owned::borrow).collect()),
                Owned::Dict(d) => Bencode::Dict(d.iter().map(|(k, v)| (&k[..], v.borrow())).collect()),
            }
        }
    }

    fn owned() -> impl Strategy<Value = Owned> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Owned::Int),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Owned::Bytes),
        ];
        leaf.prop_recursive(6, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Owned::List),
                proptest::collection::btree_map(proptest::collection::vec(any::<u8>(), 0..4), inner, 0..6)
                    .prop_map(Owned::Dict),
            ]
        })
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = decode(&buf);
        }

        #[test]
        fn bencode_alphabet_never_panics(buf in proptest::collection::vec(
            prop_oneof![Just(b'i'), Just(b'l'), Just(b'd'), Just(b'e'), Just(b':'), Just(b'-'), b'0'..=b'9'], 0..200)
        ) {
            if let Ok(v) = decode(&buf) {
                prop_assert_eq!(enc(&v), buf, "accepted input is canonical");
            }
        }

        #[test]
        fn encode_decode_round_trip(v in owned()) {
            let b = v.borrow();
            let bytes = enc(&b);
            prop_assert_eq!(decode(&bytes), Ok(b));
        }
    }
}

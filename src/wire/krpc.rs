//! KRPC messages of the BitTorrent Mainline DHT (BEP 5, "DHT Protocol") with
//! BEP 44 ("Storing arbitrary data in the DHT") immutable `get`/`put`, and
//! kadsim's extension. A `put` carries `target`, the key it stores under: for
//! a BEP 44 immutable item that is SHA-1(bencode(v)) (BEP 44 lets it be
//! omitted, and it is then computed, but implementations such as the `mainline`
//! crate require it); kadsim's string keys put any other target, the SHA-1 of
//! the string, which only kadsim nodes accept. A `put` may also carry `ttl`
//! (remaining lifetime in seconds), and a `get` reply may carry `ttl`.
//!
//! A BEP 44 value `v` may be any bencoded value (byte string, integer, list,
//! dictionary), as libtorrent stores them: [`Query::Put`] and [`Response`]
//! carry it as its raw bencoding (e.g. `5:hello`, `i42e`, `d1:ai1ee`), which
//! is what an immutable item's target hashes ([`bencoded_target`]). A byte
//! string may hold up to [`MAX_VALUE`] bytes; any other value's bencoding may
//! be up to [`MAX_VALUE`] bytes long.
//!
//! A query may carry BEP 43's top-level `ro` = 1 ("Read-only DHT Nodes": the
//! sender does not answer queries and asks not to be put in routing
//! tables), [`Packet::read_only`].
//!
//! [`encode`] writes dictionary keys in sorted order, so its output is the one
//! canonical bencoding (BEP 3) and has exactly the size that
//! [`super::encoded_len`] charges in the simulator. [`decode`] is strict about
//! the fields it uses and ignores every key it does not know (`nodes6`,
//! `values`, `ip`, `seq`, ...), as implementations add fields freely.

use super::bencode::{self, Bencode, BencodeError};
use crate::kad::NodeId;
use sha1::{Digest, Sha1};
use std::net::{Ipv4Addr, SocketAddrV4};

/// Largest datagram [`decode`] parses; longer ones are rejected unread. BEP 44
/// sizes its 1000-byte value limit to fit a typical 1500-byte MTU.
pub const MAX_DATAGRAM: usize = 1500;
/// Largest value `v`. BEP 44 ("Mutable Items": "Storing nodes MAY reject put requests where
/// the bencoded form of v is longer than 1000 bytes") bounds the bencoded form; kadsim bounds
/// a byte string's content, so a 1000-byte string (1005 bytes bencoded) passes, and any other
/// value's bencoding.
pub const MAX_VALUE: usize = 1000;
/// The client version `v` kadsim sends (BEP 5: "two character client identifier
/// registered in BEP 20 followed by a two character version identifier").
pub const CLIENT_VERSION: [u8; 4] = *b"KS01";

/// BEP 5, "Errors": Generic Error.
pub const ERR_GENERIC: i64 = 201;
/// BEP 5, "Errors": Server Error.
pub const ERR_SERVER: i64 = 202;
/// BEP 5, "Errors": Protocol Error, such as a malformed packet, invalid arguments, or bad token.
pub const ERR_PROTOCOL: i64 = 203;
/// BEP 5, "Errors": Method Unknown.
pub const ERR_METHOD_UNKNOWN: i64 = 204;

/// Longest transaction ID `t` accepted (BEP 5 suggests 2 bytes; kadsim sends 4).
const MAX_TX: usize = 32;
/// Longest write token accepted (BEP 5 leaves its length to the issuer).
const MAX_TOKEN: usize = 64;
/// Longest error message accepted.
const MAX_ERROR_MESSAGE: usize = 256;
/// Longest client version kept; a longer or non-string `v` is dropped.
const MAX_VERSION: usize = 32;
/// Method names of unknown queries are cut to this many bytes.
const MAX_METHOD: usize = 64;
/// Bytes of one compact IPv4 node info (BEP 5, "Contact Encoding").
const COMPACT_NODE: usize = 26;

/// One KRPC message (BEP 5, "KRPC Protocol").
///
/// A packet [`encode`] can round-trip through [`decode`] is well-formed: `t`
/// 1 to 32 bytes, `version` at most 32 bytes, tokens at most 64 bytes, values
/// at most [`MAX_VALUE`], an `Other` method at most 64 bytes and not one of
/// `ping`, `find_node`, `get`, `put`, and at most [`MAX_DATAGRAM`] bytes in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Transaction ID `t`, echoed by the reply (BEP 5).
    pub t: Vec<u8>,
    /// Client version `v` (BEP 5: optional); kadsim sends [`CLIENT_VERSION`].
    pub version: Option<Vec<u8>>,
    /// BEP 43's top-level `ro`: "In each outgoing query message the read-only
    /// DHT node places a 'ro' key in the top-level message dictionary and
    /// sets its value to 1". Encoded as `ro` = 1 when set (on a query; a
    /// reply's is meaningless), left out otherwise; decoded from an integer
    /// `ro` (any value but 0 is set, as the `mainline` crate reads it).
    pub read_only: bool,
    /// The query, response or error.
    pub body: PacketBody,
}

/// The three message types `y` of BEP 5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketBody {
    /// `y` = `q`: method `q` with arguments `a`; `id` (in `a`) is the querying node's (BEP 5).
    Query { id: NodeId, query: Query },
    /// `y` = `r`: return values `r`; `id` (in `r`) is the responding node's (BEP 5).
    Response { id: NodeId, response: Response },
    /// `y` = `e`: `e` is the list [`code`, `message`] (BEP 5, "Errors"). `code` is one of `ERR_*`
    /// or whatever a peer sent; `message` is at most 256 bytes, invalid UTF-8 replaced.
    Error { code: i64, message: String },
}

/// The methods kadsim serves; the querying node's `id` is in [`PacketBody::Query`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// BEP 5 `ping`: a = {id}.
    Ping,
    /// BEP 5 `find_node`: a = {id, target}.
    FindNode { target: NodeId },
    /// BEP 44 get (also used for kadsim's string keys): `target`.
    Get { target: NodeId },
    /// BEP 44 put. `v` is the raw bencoding of the value (any bencoded value; see the module docs);
    /// a `v` that is not one valid bencoded value is sent as a byte string holding it.
    /// `target` is the key to store under: SHA-1(bencode(v)) for an immutable item (when absent, that is
    /// what it means), a string key's SHA-1 in kadsim's extension. `ttl` (kadsim's extension) is the
    /// remaining lifetime in seconds. `token` is the write token of an earlier `get` reply (BEP 44, "put message").
    Put { token: Vec<u8>, v: Vec<u8>, target: Option<NodeId>, ttl: Option<u32> },
    /// BEP 5 `get_peers`: a = {id, info_hash}. kadsim tracks no peers: it answers
    /// with its closest nodes and a token, as a node that knows no peers for the
    /// torrent does, so that BitTorrent clients can route through it.
    GetPeers { info_hash: NodeId },
    /// Any other method (announce_peer, sample_infohashes, ...): answered with error 204.
    /// A BEP 44 mutable put (one with `k` or `sig`) decodes as `Other { method: "put(mutable)" }`.
    /// `method` is `q` with invalid UTF-8 replaced, cut to 64 bytes.
    Other { method: String },
}

/// Return values of a response (BEP 5, BEP 44); absent fields are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// Compact IPv4 node info (BEP 5: 26 bytes each: 20-byte ID, 4-byte IP, 2-byte port, network order).
    pub nodes: Option<Vec<(NodeId, SocketAddrV4)>>,
    /// Write token (BEP 5 `get_peers`, BEP 44 `get`).
    pub token: Option<Vec<u8>>,
    /// BEP 44 get reply value: the raw bencoding of `v` (as in [`Query::Put`]).
    pub v: Option<Vec<u8>>,
    /// kadsim extension: remaining lifetime in seconds of `v`.
    pub ttl: Option<u32>,
}

/// Why [`decode`] rejected a datagram. Field names are dotted paths (`a.id`, `r.nodes`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The datagram is longer than [`MAX_DATAGRAM`]; it was not parsed.
    #[error("datagram of {0} bytes exceeds {MAX_DATAGRAM}")]
    Oversized(usize),
    /// The datagram is not one strict bencoded value.
    #[error("bencode: {0}")]
    Bencode(#[from] BencodeError),
    /// The datagram is valid bencode but not a dictionary (BEP 5: "A KRPC message is a single dictionary").
    #[error("message is not a dictionary")]
    NotDict,
    /// A required field is absent.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// The field `field` has the wrong type or size, as `why` says.
    #[error("bad field {field}: {why}")]
    BadField { field: &'static str, why: &'static str },
}

/// BEP 44's error code for a `v` over 1000 bytes ("message (v field) too big").
pub const ERR_VALUE_TOO_BIG: i64 = 205;

/// The transaction ID of a datagram that is a bencoded KRPC query (`y` = `q`)
/// with a usable `t`, even when [`decode`] refuses the rest: so that a node
/// can answer a malformed query with an error (BEP 5: 203, BEP 44: 205)
/// instead of leaving the sender to time out.
pub fn query_tx(buf: &[u8]) -> Option<Vec<u8>> {
    if buf.len() > MAX_DATAGRAM {
        return None;
    }
    let msg = bencode::decode(buf).ok()?;
    if msg.get(b"y")?.as_bytes()? != b"q" {
        return None;
    }
    let t = msg.get(b"t")?.as_bytes()?;
    (!t.is_empty() && t.len() <= 32).then(|| t.to_vec())
}

/// BEP 44 immutable target of a value given as its raw bencoding: SHA-1 of it.
pub fn bencoded_target(raw: &[u8]) -> NodeId {
    let mut id = [0u8; 20];
    id.copy_from_slice(&Sha1::digest(raw));
    NodeId::from_bytes(id)
}

/// The raw bencoding of the byte string `content` (`<len>:<bytes>`).
pub fn bencode_bytes(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    bencode::encode(&Bencode::Bytes(content), &mut out);
    out
}

/// The content of `raw` if it is the bencoding of a byte string.
pub fn bytes_content(raw: &[u8]) -> Option<&[u8]> {
    bencode::decode(raw).ok()?.as_bytes()
}

/// Whether `raw` is one canonical bencoded value that fits in a `v` (within
/// [`MAX_VALUE`] and nested shallowly enough to decode inside a message).
pub fn valid_value(raw: &[u8]) -> bool {
    match bencode::decode(raw) {
        Ok(Bencode::Bytes(b)) => b.len() <= MAX_VALUE,
        Ok(v) => raw.len() <= MAX_VALUE && depth(&v) <= MAX_VALUE_DEPTH,
        Err(_) => false,
    }
}

/// Deepest nesting inside a `v`: a KRPC message puts `v` two containers deep,
/// and the whole message may nest at most [`bencode::MAX_DEPTH`] levels.
pub const MAX_VALUE_DEPTH: usize = bencode::MAX_DEPTH - 2;

/// Nesting depth of lists and dictionaries in `v` (0 for a string or integer).
fn depth(v: &Bencode<'_>) -> usize {
    match v {
        Bencode::List(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Bencode::Dict(entries) => 1 + entries.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

/// The value to splice into a message for the raw bencoding `raw`: itself
/// when valid, else a byte string holding it.
fn spliced(raw: &[u8]) -> Bencode<'_> {
    match bencode::decode(raw) {
        Ok(v) if depth(&v) <= MAX_VALUE_DEPTH => v,
        _ => Bencode::Bytes(raw),
    }
}

/// BEP 44 immutable target: SHA-1 of the bencoded byte string of `v` (`<len>:<bytes>`).
pub fn immutable_target(v: &[u8]) -> NodeId {
    let mut prefix = Vec::with_capacity(8);
    bencode::push_decimal(&mut prefix, v.len() as u64);
    prefix.push(b':');
    let digest = Sha1::new().chain_update(&prefix).chain_update(v).finalize();
    let mut id = [0u8; 20];
    id.copy_from_slice(&digest);
    NodeId::from_bytes(id)
}

/// The datagram of `p`, dictionary keys sorted (BEP 3), so byte-for-byte what
/// [`super::encoded_len`] counts. An error message longer than 256 bytes is cut
/// at a character boundary; other limits are the caller's (see [`Packet`]).
pub fn encode(p: &Packet) -> Vec<u8> {
    use Bencode::{Bytes, Dict, Int, List};
    let mut compact = Vec::new();
    // Top-level keys in sorted order: a, e, q, r, ro, t, v, y.
    let mut top: Vec<(&[u8], Bencode<'_>)> = Vec::with_capacity(5);
    let y: &[u8] = match &p.body {
        PacketBody::Query { id, query } => {
            // Argument keys in sorted order: id, target, token, ttl, v.
            let mut a: Vec<(&[u8], Bencode<'_>)> = vec![(b"id", Bytes(id.as_bytes()))];
            let method: &[u8] = match query {
                Query::Ping => b"ping",
                Query::FindNode { target } => {
                    a.push((b"target", Bytes(target.as_bytes())));
                    b"find_node"
                }
                Query::Get { target } => {
                    a.push((b"target", Bytes(target.as_bytes())));
                    b"get"
                }
                Query::GetPeers { info_hash } => {
                    a.push((b"info_hash", Bytes(info_hash.as_bytes())));
                    b"get_peers"
                }
                Query::Put { token, v, target, ttl } => {
                    if let Some(target) = target {
                        a.push((b"target", Bytes(target.as_bytes())));
                    }
                    a.push((b"token", Bytes(token)));
                    if let Some(ttl) = ttl {
                        a.push((b"ttl", Int(i64::from(*ttl))));
                    }
                    a.push((b"v", spliced(v)));
                    b"put"
                }
                Query::Other { method } => method.as_bytes(),
            };
            top.push((b"a", Dict(a)));
            top.push((b"q", Bytes(method)));
            b"q"
        }
        PacketBody::Response { id, response } => {
            // Return-value keys in sorted order: id, nodes, token, ttl, v.
            let mut r: Vec<(&[u8], Bencode<'_>)> = vec![(b"id", Bytes(id.as_bytes()))];
            if let Some(nodes) = &response.nodes {
                compact.reserve(nodes.len() * COMPACT_NODE);
                for (id, addr) in nodes {
                    compact.extend_from_slice(id.as_bytes());
                    compact.extend_from_slice(&addr.ip().octets());
                    compact.extend_from_slice(&addr.port().to_be_bytes());
                }
                r.push((b"nodes", Bytes(&compact)));
            }
            if let Some(token) = &response.token {
                r.push((b"token", Bytes(token)));
            }
            if let Some(ttl) = response.ttl {
                r.push((b"ttl", Int(i64::from(ttl))));
            }
            if let Some(v) = &response.v {
                r.push((b"v", spliced(v)));
            }
            top.push((b"r", Dict(r)));
            b"r"
        }
        PacketBody::Error { code, message } => {
            let message = truncate(message, MAX_ERROR_MESSAGE);
            top.push((b"e", List(vec![Int(*code), Bytes(message.as_bytes())])));
            b"e"
        }
    };
    if p.read_only {
        top.push((b"ro", Int(1)));
    }
    top.push((b"t", Bytes(&p.t)));
    if let Some(version) = &p.version {
        top.push((b"v", Bytes(version)));
    }
    top.push((b"y", Bytes(y)));
    let mut out = Vec::with_capacity(128);
    bencode::encode(&Dict(top), &mut out);
    out
}

/// Parses one datagram (BEP 5, "KRPC Protocol"; BEP 44 for `get`/`put`).
pub fn decode(buf: &[u8]) -> Result<Packet, DecodeError> {
    if buf.len() > MAX_DATAGRAM {
        return Err(DecodeError::Oversized(buf.len()));
    }
    let msg = bencode::decode(buf)?;
    if !matches!(msg, Bencode::Dict(_)) {
        return Err(DecodeError::NotDict);
    }
    let t = required(bytes(&msg, "t")?, "t")?;
    if t.is_empty() || t.len() > MAX_TX {
        return Err(DecodeError::BadField { field: "t", why: "not 1 to 32 bytes" });
    }
    // BEP 5: `v` is informational; a malformed one is dropped, not an error.
    let version = msg.get(b"v").and_then(Bencode::as_bytes).filter(|v| v.len() <= MAX_VERSION).map(<[u8]>::to_vec);
    let body = match required(bytes(&msg, "y")?, "y")? {
        b"q" => {
            let q = required(bytes(&msg, "q")?, "q")?;
            let a = dict(&msg, "a")?;
            let id = required(id20(a, "a.id")?, "a.id")?;
            let query = match q {
                b"ping" => Query::Ping,
                b"find_node" => Query::FindNode { target: required(id20(a, "a.target")?, "a.target")? },
                b"get" => Query::Get { target: required(id20(a, "a.target")?, "a.target")? },
                b"get_peers" => Query::GetPeers { info_hash: required(id20(a, "a.info_hash")?, "a.info_hash")? },
                // BEP 44: a put with a public key `k` and signature `sig` is mutable.
                b"put" if a.get(b"k").is_some() || a.get(b"sig").is_some() => {
                    Query::Other { method: "put(mutable)".to_owned() }
                }
                b"put" => Query::Put {
                    token: required(limited(a, "a.token", MAX_TOKEN)?, "a.token")?,
                    v: required(value(a, "a.v")?, "a.v")?,
                    target: id20(a, "a.target")?,
                    ttl: ttl(a, "a.ttl")?,
                },
                other => Query::Other { method: truncate(&String::from_utf8_lossy(other), MAX_METHOD).to_owned() },
            };
            PacketBody::Query { id, query }
        }
        b"r" => {
            let r = dict(&msg, "r")?;
            let id = required(id20(r, "r.id")?, "r.id")?;
            let response = Response {
                nodes: nodes(r)?,
                token: limited(r, "r.token", MAX_TOKEN)?,
                v: value(r, "r.v")?,
                ttl: ttl(r, "r.ttl")?,
            };
            PacketBody::Response { id, response }
        }
        b"e" => {
            let bad = |why| DecodeError::BadField { field: "e", why };
            let Bencode::List(e) = msg.get(b"e").ok_or(DecodeError::Missing("e"))? else {
                return Err(bad("not a list"));
            };
            // BEP 5: first an integer code, then a string message; further elements are ignored.
            let code = e.first().and_then(Bencode::as_int).ok_or(bad("first element is not an integer"))?;
            let message = e.get(1).and_then(Bencode::as_bytes).ok_or(bad("second element is not a byte string"))?;
            if message.len() > MAX_ERROR_MESSAGE {
                return Err(bad("message longer than 256 bytes"));
            }
            // Replacing invalid UTF-8 can lengthen it; cut so it re-encodes unchanged.
            let message = truncate(&String::from_utf8_lossy(message), MAX_ERROR_MESSAGE).to_owned();
            PacketBody::Error { code, message }
        }
        _ => return Err(DecodeError::BadField { field: "y", why: "not q, r or e" }),
    };
    // BEP 43: an integer; a malformed `ro` is refused, as the flag changes
    // what the receiver does.
    let read_only = match msg.get(b"ro") {
        None => false,
        Some(v) => v.as_int().ok_or(DecodeError::BadField { field: "ro", why: "not an integer" })? != 0,
    };
    Ok(Packet { t: t.to_vec(), version, read_only, body })
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn required<T>(v: Option<T>, field: &'static str) -> Result<T, DecodeError> {
    v.ok_or(DecodeError::Missing(field))
}

/// The dictionary key of a dotted field name: `a.id` -> `id`.
fn key_of(field: &'static str) -> &'static [u8] {
    field.rsplit('.').next().unwrap_or(field).as_bytes()
}

/// The dictionary `field` of `d`, required.
fn dict<'d, 'a>(d: &'d Bencode<'a>, field: &'static str) -> Result<&'d Bencode<'a>, DecodeError> {
    match d.get(key_of(field)) {
        None => Err(DecodeError::Missing(field)),
        Some(v @ Bencode::Dict(_)) => Ok(v),
        Some(_) => Err(DecodeError::BadField { field, why: "not a dictionary" }),
    }
}

/// The byte string `field` of `d`, if present.
fn bytes<'a>(d: &Bencode<'a>, field: &'static str) -> Result<Option<&'a [u8]>, DecodeError> {
    match d.get(key_of(field)) {
        None => Ok(None),
        Some(v) => v.as_bytes().map(Some).ok_or(DecodeError::BadField { field, why: "not a byte string" }),
    }
}

/// A 20-byte ID (BEP 5: "Each node has a globally unique identifier known as
/// the node ID"; 160 bits, like infohashes).
fn id20(d: &Bencode<'_>, field: &'static str) -> Result<Option<NodeId>, DecodeError> {
    match bytes(d, field)? {
        None => Ok(None),
        Some(b) => match <[u8; 20]>::try_from(b) {
            Ok(id) => Ok(Some(NodeId::from_bytes(id))),
            Err(_) => Err(DecodeError::BadField { field, why: "not 20 bytes" }),
        },
    }
}

/// A byte string of at most `max` bytes: a token, or a BEP 44 `v` (kadsim stores only byte strings).
fn limited(d: &Bencode<'_>, field: &'static str, max: usize) -> Result<Option<Vec<u8>>, DecodeError> {
    match bytes(d, field)? {
        Some(b) if b.len() > max => Err(DecodeError::BadField { field, why: "too long" }),
        b => Ok(b.map(<[u8]>::to_vec)),
    }
}

/// A BEP 44 `v`, any bencoded value, as its raw bencoding: a byte string of
/// at most [`MAX_VALUE`] bytes, or another value of at most [`MAX_VALUE`]
/// bytes bencoded. (The decoder is canonical, so re-encoding gives back the
/// very bytes received.)
fn value(d: &Bencode<'_>, field: &'static str) -> Result<Option<Vec<u8>>, DecodeError> {
    let Some(v) = d.get(key_of(field)) else { return Ok(None) };
    let mut raw = Vec::new();
    bencode::encode(v, &mut raw);
    let too_long = match v {
        Bencode::Bytes(b) => b.len() > MAX_VALUE,
        _ => raw.len() > MAX_VALUE,
    };
    if too_long { Err(DecodeError::BadField { field, why: "too long" }) } else { Ok(Some(raw)) }
}

/// kadsim's `ttl`: seconds, a non-negative integer fitting u32.
fn ttl(d: &Bencode<'_>, field: &'static str) -> Result<Option<u32>, DecodeError> {
    match d.get(key_of(field)) {
        None => Ok(None),
        Some(v) => match v.as_int().map(u32::try_from) {
            Some(Ok(n)) => Ok(Some(n)),
            _ => Err(DecodeError::BadField { field, why: "not an integer in 0..=4294967295" }),
        },
    }
}

/// BEP 5, "Contact Encoding": `nodes` is a string of 26-byte compact node infos.
fn nodes(r: &Bencode<'_>) -> Result<Option<Vec<(NodeId, SocketAddrV4)>>, DecodeError> {
    let Some(b) = bytes(r, "r.nodes")? else { return Ok(None) };
    if b.len() % COMPACT_NODE != 0 {
        return Err(DecodeError::BadField { field: "r.nodes", why: "length not a multiple of 26" });
    }
    let parse = |c: &[u8]| {
        let mut id = [0u8; 20];
        id.copy_from_slice(&c[..20]);
        let ip = Ipv4Addr::new(c[20], c[21], c[22], c[23]);
        (NodeId::from_bytes(id), SocketAddrV4::new(ip, u16::from_be_bytes([c[24], c[25]])))
    };
    Ok(Some(b.chunks_exact(COMPACT_NODE).map(parse).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kad::{Body, Contact, Message};
    use crate::wire::encoded_len;
    use crate::wire::size::{STORE_REFUSED, STORE_REFUSED_CODE};
    use proptest::prelude::*;
    use std::sync::Arc;

    const ID_A: &str = "abcdefghij0123456789";
    const ID_M: &str = "mnopqrstuvwxyz123456";

    fn id(s: &str) -> NodeId {
        NodeId::from_bytes(s.as_bytes().try_into().unwrap())
    }

    /// A packet as in BEP 5's examples: `t` = "aa", no version; queries from ID_A, responses from ID_M.
    fn bep5(body: PacketBody) -> Packet {
        Packet { t: b"aa".to_vec(), version: None, read_only: false, body }
    }

    fn q(query: Query) -> PacketBody {
        PacketBody::Query { id: id(ID_A), query }
    }

    fn r(response: Response) -> PacketBody {
        PacketBody::Response { id: id(ID_M), response }
    }

    #[test]
    fn bep5_examples_round_trip_byte_exact() {
        // BEP 5, "ping", "find_node" and "Errors" examples.
        let error = PacketBody::Error { code: ERR_GENERIC, message: "A Generic Error Ocurred".into() };
        let cases = [
            ("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", q(Query::Ping)),
            ("d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re", r(Response::default())),
            (
                "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
                q(Query::FindNode { target: id(ID_M) }),
            ),
            ("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee", error),
        ];
        for (wire, body) in cases {
            assert_eq!(decode(wire.as_bytes()), Ok(bep5(body.clone())), "{wire}");
            assert_eq!(String::from_utf8(encode(&bep5(body))).unwrap(), wire);
        }
    }

    #[test]
    fn bep44_immutable_target_test_vector() {
        // BEP 44, "Test vectors": immutable, value "Hello World!":
        // target = SHA-1("12:Hello World!") = e5f96f6f38320f0f33959cb4d3d656452117aadb.
        assert_eq!(immutable_target(b"Hello World!").to_hex(), "e5f96f6f38320f0f33959cb4d3d656452117aadb");
        assert_eq!(immutable_target(b"Hello World!"), NodeId::hash_of(b"12:Hello World!"));
        assert_eq!(immutable_target(b""), NodeId::hash_of(b"0:"));
    }

    #[test]
    fn unknown_keys_mutable_put_and_unknown_methods() {
        // Unknown keys are ignored at every level (BEP 5 lets implementations add fields).
        let wire = format!("d2:ip6:abcdef1:rd2:id20:{ID_M}6:nodes60:6:valuesl6:abcdefee1:t2:aa1:v4:UT011:y1:re");
        let p = decode(wire.as_bytes()).unwrap();
        assert_eq!(p.version.as_deref(), Some(&b"UT01"[..]));
        assert_eq!(p.body, r(Response::default()));
        // BEP 44 get with `seq`.
        let get = format!("d1:ad2:id20:{ID_A}3:seqi4e6:target20:{ID_M}e1:q3:get1:t2:aa1:y1:qe");
        assert_eq!(decode(get.as_bytes()).unwrap().body, q(Query::Get { target: id(ID_M) }));
        // BEP 44 mutable put: not stored, answered as an unknown method.
        let mutable = format!(
            "d1:ad2:id20:{ID_A}1:k32:{}3:seqi1e3:sig64:{}5:token2:tk1:v2:hie1:q3:put1:t2:aa1:y1:qe",
            "k".repeat(32),
            "s".repeat(64)
        );
        assert_eq!(decode(mutable.as_bytes()).unwrap().body, q(Query::Other { method: "put(mutable)".into() }));
        let gp = format!("d1:ad2:id20:{ID_A}9:info_hash20:{ID_M}e1:q9:get_peers1:t2:aa1:y1:qe");
        assert_eq!(decode(gp.as_bytes()).unwrap().body, q(Query::GetPeers { info_hash: id(ID_M) }));
        assert_eq!(encode(&decode(gp.as_bytes()).unwrap()), gp.as_bytes(), "get_peers re-encodes byte-exact");
        let ap =
            format!("d1:ad2:id20:{ID_A}9:info_hash20:{ID_M}4:porti6881e5:token2:tke1:q13:announce_peer1:t2:aa1:y1:qe");
        assert_eq!(decode(ap.as_bytes()).unwrap().body, q(Query::Other { method: "announce_peer".into() }));
        // A malformed optional version is dropped; invalid UTF-8 in an error message is replaced.
        let e = b"d1:eli202e2:\xff!e1:t2:aa1:vi1e1:y1:ee";
        let p = decode(e).unwrap();
        assert_eq!(p.version, None);
        assert_eq!(p.body, PacketBody::Error { code: ERR_SERVER, message: "\u{fffd}!".into() });
        // Compact node info (BEP 5): ID, IPv4, port in network order.
        let mut wire = format!("d1:rd2:id20:{ID_M}5:nodes26:{ID_A}").into_bytes();
        wire.extend_from_slice(b"\x0a\x00\x00\x01\x1a\xe15:token2:tk3:ttli60e1:v2:hie1:t2:aa1:y1:re");
        let p = decode(&wire).unwrap();
        let response = Response {
            nodes: Some(vec![(id(ID_A), SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 6881))]),
            token: Some(b"tk".to_vec()),
            v: Some(b"2:hi".to_vec()),
            ttl: Some(60),
        };
        assert_eq!(p.body, r(response));
        assert_eq!(encode(&p), wire);
    }

    #[test]
    fn any_bencoded_value_is_carried_raw_and_hashed_as_bencoded() {
        // BEP 44: v may be any bencoded type; libtorrent stores dictionaries, lists and integers.
        for raw in [&b"i42e"[..], b"i-7e", b"le", b"li1e3:abce", b"d1:ai1e1:bl1:xee", b"12:Hello World!"] {
            let wire =
                format!("d1:ad2:id20:{ID_A}5:token2:tk1:v{}e1:q3:put1:t2:aa1:y1:qe", String::from_utf8_lossy(raw));
            let p = decode(wire.as_bytes()).unwrap();
            let PacketBody::Query { query: Query::Put { v, .. }, .. } = &p.body else { panic!("{p:?}") };
            assert_eq!(v, raw);
            assert_eq!(encode(&p), wire.as_bytes(), "re-encodes byte-exact");
            assert!(valid_value(raw));
        }
        assert_eq!(bencoded_target(b"12:Hello World!"), immutable_target(b"Hello World!"));
        assert_eq!(bencoded_target(b"i42e"), NodeId::hash_of(b"i42e"));
        assert_eq!(bytes_content(b"5:hello"), Some(&b"hello"[..]));
        assert_eq!(bytes_content(b"i5e"), None);
        // A non-string v whose bencoding exceeds 1000 bytes is refused; so is an invalid one.
        let long_list = format!("l{}e", "i1e".repeat(333)); // 1001 bytes
        let wire = format!("d1:ad2:id20:{ID_A}5:token2:tk1:v{long_list}e1:q3:put1:t2:aa1:y1:qe");
        assert_eq!(decode(wire.as_bytes()), Err(DecodeError::BadField { field: "a.v", why: "too long" }));
        assert!(!valid_value(long_list.as_bytes()) && !valid_value(b"i01e") && !valid_value(b"hello"));
    }

    fn put_with_v(len: usize) -> Vec<u8> {
        format!("d1:ad2:id20:{ID_A}5:token2:tk1:v{len}:{}e1:q3:put1:t2:aa1:y1:qe", "x".repeat(len)).into_bytes()
    }

    #[test]
    fn strictness() {
        assert!(decode(&put_with_v(MAX_VALUE)).is_ok());
        let ping = |a: &str| format!("d1:ad{a}e1:q4:ping1:t2:aa1:y1:qe");
        let resp = |r: &str| format!("d1:rd2:id20:{ID_M}{r}e1:t2:aa1:y1:re");
        // Not strict bencode (BEP 3): leading zero, -0, empty integer, leading zero in a length,
        // truncated string, unsorted keys, duplicate key.
        for b in [&b"i01e"[..], b"i-0e", b"ie", b"03:abc", b"5:abc", b"d1:bi1e1:ai2ee", b"d1:ai1e1:ai2ee"] {
            assert!(matches!(decode(b), Err(DecodeError::Bencode(_))), "{}", String::from_utf8_lossy(b));
        }
        let bad: Vec<(Vec<u8>, &str)> = vec![
            (format!("{}x", ping(&format!("2:id20:{ID_A}"))).into_bytes(), "trailing bytes"),
            (format!("{}{}", "l".repeat(17), "e".repeat(17)).into_bytes(), "nesting deeper than 16"),
            (ping("2:id19:abcdefghij012345678").into_bytes(), "19-byte id"),
            (put_with_v(MAX_VALUE + 1), "1001-byte v"),
            (b"le".to_vec(), "not a dict"),
            (format!("d1:ad2:id20:{ID_A}e1:q4:ping1:y1:qe").into_bytes(), "missing t"),
            (format!("d1:ad2:id20:{ID_A}e1:q4:ping1:t0:1:y1:qe").into_bytes(), "empty t"),
            (format!("d1:ad2:id20:{ID_A}e1:q4:ping1:t33:{}1:y1:qe", "t".repeat(33)).into_bytes(), "33-byte t"),
            (format!("d1:ad2:id20:{ID_A}e1:q4:ping1:t2:aa1:y1:xe").into_bytes(), "y not q/r/e"),
            (b"d1:q4:ping1:t2:aa1:y1:qe".to_vec(), "missing a"),
            (b"d1:ai1e1:q4:ping1:t2:aa1:y1:qe".to_vec(), "a not a dict"),
            (format!("d1:ad2:id20:{ID_A}e1:q9:find_node1:t2:aa1:y1:qe").into_bytes(), "missing target"),
            (resp(&format!("5:token65:{}", "k".repeat(65))).into_bytes(), "65-byte token"),
            (resp("3:ttli-1e").into_bytes(), "negative ttl"),
            (resp("3:ttli4294967296e").into_bytes(), "ttl over u32"),
            (format!("d1:eli201e257:{}e1:t2:aa1:y1:ee", "m".repeat(257)).into_bytes(), "257-byte message"),
            (b"d1:eli201ee1:t2:aa1:y1:ee".to_vec(), "error without message"),
            (b"d1:el3:abc3:abce1:t2:aa1:y1:ee".to_vec(), "error code not an integer"),
        ];
        for (input, what) in bad {
            let r = decode(&input);
            assert!(r.is_err(), "{what}: accepted {r:?}");
        }
        // A 2000-byte datagram, a 27-byte `nodes`, a query without `a.id`.
        assert_eq!(decode(&[b'0'; 2000]), Err(DecodeError::Oversized(2000)));
        assert_eq!(
            decode(resp(&format!("5:nodes27:{}", "n".repeat(27))).as_bytes()),
            Err(DecodeError::BadField { field: "r.nodes", why: "length not a multiple of 26" })
        );
        assert_eq!(decode(ping("").as_bytes()), Err(DecodeError::Missing("a.id")));
    }

    #[test]
    fn sizes_agree_with_the_simulator() {
        // kadsim sends a 4-byte `t` and its 4-byte version, as size.rs counts.
        let ks = |body| {
            encode(&Packet { t: b"abcd".to_vec(), version: Some(CLIENT_VERSION.to_vec()), read_only: false, body })
                .len()
        };
        let sim = |body: Body<u32>| encoded_len(&Message { read_only: false, tx: 1, sender: NodeId::default(), body });
        let me = NodeId::hash_of(b"me");
        let query = |query| PacketBody::Query { id: me, query };
        let reply = |response| PacketBody::Response { id: me, response };
        assert_eq!((ks(query(Query::Ping)), sim(Body::Ping)), (67, 67));
        assert_eq!((ks(reply(Response::default())), sim(Body::Pong)), (58, 58));
        assert_eq!(ks(reply(Response::default())), sim(Body::Stored { accepted: true }));
        assert_eq!((ks(query(Query::FindNode { target: me })), sim(Body::FindNode { target: me })), (103, 103));
        assert_eq!(ks(query(Query::Get { target: me })), sim(Body::FindValue { key: me }));
        let addr = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 6881);
        for n in 0..=20u32 {
            let nodes = (0..n).map(|_| (me, addr)).collect();
            let contacts = (0..n).map(|i| Contact { id: me, addr: i }).collect();
            let response = Response { nodes: Some(nodes), ..Response::default() };
            assert_eq!(ks(reply(response)), sim(Body::Nodes { contacts }), "{n} nodes");
        }
        for len in [0, 1, 9, 10, 99, 100, 999, 1000] {
            for ttl in [0, 5, 9, 10, 86_400, u32::MAX] {
                let value: Arc<[u8]> = Arc::from(vec![0u8; len]);
                let v = bencode_bytes(&vec![0; len]);
                let put = Query::Put { token: vec![7; 4], v: v.clone(), target: Some(me), ttl: Some(ttl) };
                assert_eq!(ks(query(put)), sim(Body::Store { key: me, value: value.clone(), ttl_secs: ttl }));
                let found = Response { token: Some(vec![7; 4]), v: Some(v), ttl: Some(ttl), nodes: None };
                assert_eq!(ks(reply(found)), sim(Body::Found { value, ttl_secs: ttl }), "len {len} ttl {ttl}");
            }
        }
        let refused = PacketBody::Error { code: ERR_GENERIC, message: "store full".into() };
        assert_eq!((ERR_GENERIC, "store full"), (STORE_REFUSED_CODE, STORE_REFUSED));
        assert_eq!(ks(refused), sim(Body::Stored { accepted: false }));
    }

    #[test]
    fn read_only_queries_carry_ro_1_at_the_top_level_bep_43() {
        // BEP 43: "places a 'ro' key in the top-level message dictionary and
        // sets its value to 1"; keys stay sorted (r < ro < t).
        let ping = format!("d1:ad2:id20:{ID_A}e1:q4:ping2:roi1e1:t2:aa1:y1:qe");
        let p = decode(ping.as_bytes()).unwrap();
        assert!(p.read_only);
        assert_eq!(p.body, PacketBody::Query { id: id(ID_A), query: Query::Ping });
        assert_eq!(encode(&p), ping.as_bytes(), "re-encodes byte-exact");
        // Not read-only: no `ro` key at all, and `ro` = 0 (as the `mainline`
        // crate sends on every message) reads as not set.
        let plain = Packet { read_only: false, ..p.clone() };
        assert!(!String::from_utf8_lossy(&encode(&plain)).contains("2:ro"));
        let zero = format!("d1:ad2:id20:{ID_A}e1:q4:ping2:roi0e1:t2:aa1:y1:qe");
        assert!(!decode(zero.as_bytes()).unwrap().read_only);
        let other = format!("d1:ad2:id20:{ID_A}e1:q4:ping2:roi7e1:t2:aa1:y1:qe");
        assert!(decode(other.as_bytes()).unwrap().read_only);
        // A reply with `ro` decodes too (the mainline crate sets `ro` = 0 on replies).
        let resp = format!("d1:rd2:id20:{ID_M}e2:roi0e1:t2:aa1:y1:re");
        assert!(decode(resp.as_bytes()).is_ok());
        // A malformed flag is refused by name.
        let bad = format!("d1:ad2:id20:{ID_A}e1:q4:ping2:ro1:11:t2:aa1:y1:qe");
        assert_eq!(decode(bad.as_bytes()), Err(DecodeError::BadField { field: "ro", why: "not an integer" }));
        // And the simulator charges the 7 bytes of `2:roi1e`.
        let me = NodeId::hash_of(b"me");
        let ks = |read_only| {
            let body = PacketBody::Query { id: me, query: Query::FindNode { target: me } };
            encode(&Packet { t: b"abcd".to_vec(), version: Some(CLIENT_VERSION.to_vec()), read_only, body }).len()
        };
        let msg =
            Message { read_only: true, tx: 1, sender: NodeId::default(), body: Body::<u32>::FindNode { target: me } };
        assert_eq!((ks(true), encoded_len(&msg)), (ks(false) + 7, ks(false) + 7));
    }

    #[test]
    fn long_error_messages_are_cut_on_a_char_boundary() {
        let message = "é".repeat(200); // 400 bytes
        let p = Packet {
            t: b"aa".to_vec(),
            version: None,
            read_only: false,
            body: PacketBody::Error { code: 201, message },
        };
        let PacketBody::Error { message, .. } = decode(&encode(&p)).unwrap().body else { panic!() };
        assert_eq!(message, "é".repeat(128));
    }

    fn node_id() -> impl Strategy<Value = NodeId> {
        any::<[u8; 20]>().prop_map(NodeId::from_bytes)
    }

    fn bytes(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), len)
    }

    /// A BEP 44 `v` as its raw bencoding: a byte string, an integer, or a
    /// small list or dictionary of them.
    fn value() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop_oneof![
            bytes(0..=MAX_VALUE).prop_map(|b| bencode_bytes(&b)),
            any::<i64>().prop_map(|n| format!("i{n}e").into_bytes()),
        ];
        let small = prop_oneof![
            bytes(0..=20).prop_map(|b| bencode_bytes(&b)),
            any::<i64>().prop_map(|n| format!("i{n}e").into_bytes())
        ];
        let list = proptest::collection::vec(small.clone(), 0..8).prop_map(|items| {
            let mut out = b"l".to_vec();
            items.iter().for_each(|i| out.extend_from_slice(i));
            out.push(b'e');
            out
        });
        let dict = proptest::collection::btree_map(bytes(0..=8), small, 0..8).prop_map(|entries| {
            let mut out = b"d".to_vec();
            for (k, v) in entries {
                out.extend_from_slice(&bencode_bytes(&k));
                out.extend_from_slice(&v);
            }
            out.push(b'e');
            out
        });
        prop_oneof![leaf, list, dict]
    }

    fn query() -> impl Strategy<Value = Query> {
        prop_oneof![
            Just(Query::Ping),
            node_id().prop_map(|target| Query::FindNode { target }),
            node_id().prop_map(|target| Query::Get { target }),
            node_id().prop_map(|info_hash| Query::GetPeers { info_hash }),
            (bytes(0..=MAX_TOKEN), value(), proptest::option::of(node_id()), any::<Option<u32>>())
                .prop_map(|(token, v, target, ttl)| Query::Put { token, v, target, ttl }),
            "put\\(mutable\\)|[a-z_]{1,20}|\\PC{1,16}"
                .prop_filter("a known method", |m| !["ping", "find_node", "get", "put", "get_peers"]
                    .contains(&m.as_str()))
                .prop_map(|method| Query::Other { method }),
        ]
    }

    fn packet() -> impl Strategy<Value = Packet> {
        let addr = any::<(u32, u16)>().prop_map(|(ip, port)| SocketAddrV4::new(Ipv4Addr::from(ip), port));
        let nodes = proptest::option::of(proptest::collection::vec((node_id(), addr), 0..=8));
        let (token, v) = (proptest::option::of(bytes(0..=MAX_TOKEN)), proptest::option::of(value()));
        let response = (nodes, token, v, any::<Option<u32>>()).prop_map(|(nodes, token, v, ttl)| Response {
            nodes,
            token,
            v,
            ttl,
        });
        let body = prop_oneof![
            (node_id(), query()).prop_map(|(id, query)| PacketBody::Query { id, query }),
            (node_id(), response).prop_map(|(id, response)| PacketBody::Response { id, response }),
            (any::<i64>(), "\\PC{0,64}").prop_map(|(code, message)| PacketBody::Error { code, message }),
        ];
        (bytes(1..=MAX_TX), proptest::option::of(bytes(0..=MAX_VERSION)), any::<bool>(), body)
            .prop_map(|(t, version, read_only, body)| Packet { t, version, read_only, body })
    }

    /// Whatever the decoder accepts re-encodes to a datagram it accepts again, unchanged.
    fn reencodes(p: Packet) -> Result<(), TestCaseError> {
        let bytes = encode(&p);
        prop_assert!(bytes.len() <= MAX_DATAGRAM);
        prop_assert_eq!(decode(&bytes), Ok(p));
        Ok(())
    }

    proptest! {
        #[test]
        fn round_trip(p in packet()) {
            reencodes(p)?;
        }

        #[test]
        fn random_bytes_never_panic(buf in bytes(0..=2000)) {
            if let Ok(p) = decode(&buf) {
                reencodes(p)?;
            }
        }

        #[test]
        fn mutated_packets_never_panic(
            p in packet(), op in 0..4u8, at in any::<proptest::sample::Index>(), byte in any::<u8>()
        ) {
            let mut buf = encode(&p);
            match op {
                0 => { let i = at.index(buf.len()); buf[i] ^= 1 << (byte % 8); }
                1 => buf.insert(at.index(buf.len() + 1), byte),
                2 => { buf.remove(at.index(buf.len())); }
                _ => buf.truncate(at.index(buf.len())),
            }
            if let Ok(p) = decode(&buf) {
                reencodes(p)?;
            }
        }
    }
}

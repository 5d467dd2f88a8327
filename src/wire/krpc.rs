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
#[path = "krpc_tests.rs"]
mod tests;

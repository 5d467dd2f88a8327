//! The line-based prompt of `kadsim node`: one command per line on standard
//! input (a terminal or a pipe), one answer per line on standard output. A bad
//! command gets a one-line usage hint; nothing a user types stops the prompt
//! except `quit` or the end of input.
//!
//! Values fetched from the network are printed escaped ([`escape`]): control
//! characters, terminal escape sequences and invisible direction overrides
//! show as `\x1b`, `\u{202e}` and the like, never raw, so that a value
//! cannot rewrite the terminal. A line longer than [`MAX_LINE`] bytes is
//! discarded, unread beyond that bound, with a one-line error.

use super::node::{NetError, Node};
use crate::kad::{Body, Contact, NodeId};
use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

/// Longest input line read, in bytes (without its newline).
pub const MAX_LINE: usize = 64 * 1024;

/// The commands, as `help` prints them.
pub const HELP: &str = "\
commands (a <key> is 40 hex digits; a <string key> is hashed with SHA-1):
  put <string key> <string value>   store a value at the k closest nodes
  get <string key>                  look a value up
  iput <value>                      store a BEP 44 immutable item; prints its target
  iget <target>                     look a BEP 44 immutable item up by its target
  p <ip:port> [<key>]               ping a node (and check its ID, if given)
  s <ip:port> <key> [<value>]       store a pair at one node
  fn <ip:port> <key>                ask one node for its closest contacts to a key
  fv <ip:port> <key>                ask one node for a value, or its closest contacts
  ln <key>                          iterative node lookup
  lv <string key>                   iterative value lookup
  id                                this node's ID and address
  table                             the routing table
  help                              this text
  quit                              stop the node";

/// What a line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Nothing (blank line).
    Empty,
    /// `put`.
    Put(String, String),
    /// `get`.
    Get(String),
    /// `iput`.
    ImmutablePut(String),
    /// `iget`.
    ImmutableGet(NodeId),
    /// `p`.
    Ping(SocketAddr, Option<NodeId>),
    /// `s`.
    Store(SocketAddr, NodeId, String),
    /// `fn`.
    FindNode(SocketAddr, NodeId),
    /// `fv`.
    FindValue(SocketAddr, NodeId),
    /// `ln`.
    LookupNode(NodeId),
    /// `lv`.
    LookupValue(String),
    /// `id`.
    Id,
    /// `table`.
    Table,
    /// `help`.
    Help,
    /// `quit`.
    Quit,
}

fn key(s: &str) -> Result<NodeId, String> {
    NodeId::from_hex(s).map_err(|_| format!("bad key '{s}': expected 40 hex digits"))
}

fn addr(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.find(SocketAddr::is_ipv4))
        .ok_or_else(|| format!("bad address '{s}': expected ip:port, e.g. 127.0.0.1:6881"))
}

/// Parses one line; `Err` holds a one-line usage hint.
pub fn parse(line: &str) -> Result<Line, String> {
    let line = line.trim();
    let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let args: Vec<&str> = rest.split_whitespace().collect();
    let usage = |u: &str| format!("usage: {u}");
    Ok(match cmd {
        "" => Line::Empty,
        "put" => {
            let (k, v) =
                rest.split_once(char::is_whitespace).ok_or_else(|| usage("put <string key> <string value>"))?;
            Line::Put(k.to_string(), v.trim().to_string())
        }
        "get" | "lv" if args.len() == 1 => {
            if cmd == "get" {
                Line::Get(args[0].to_string())
            } else {
                Line::LookupValue(args[0].to_string())
            }
        }
        "get" => return Err(usage("get <string key>")),
        "iput" if !rest.is_empty() => Line::ImmutablePut(rest.to_string()),
        "iput" => return Err(usage("iput <value>")),
        "iget" if args.len() == 1 => Line::ImmutableGet(key(args[0])?),
        "iget" => return Err(usage("iget <target>")),
        "lv" => return Err(usage("lv <string key>")),
        "p" if (1..=2).contains(&args.len()) => Line::Ping(addr(args[0])?, args.get(1).map(|k| key(k)).transpose()?),
        "p" => return Err(usage("p <ip:port> [<key>]")),
        "s" if args.len() >= 2 => {
            // The value is whatever follows the key, however many spaces come between.
            let after_addr = rest[args[0].len()..].trim_start();
            let value = after_addr[args[1].len()..].trim().to_string();
            Line::Store(addr(args[0])?, key(args[1])?, value)
        }
        "s" => return Err(usage("s <ip:port> <key> [<value>]")),
        "fn" if args.len() == 2 => Line::FindNode(addr(args[0])?, key(args[1])?),
        "fn" => return Err(usage("fn <ip:port> <key>")),
        "fv" if args.len() == 2 => Line::FindValue(addr(args[0])?, key(args[1])?),
        "fv" => return Err(usage("fv <ip:port> <key>")),
        "ln" if args.len() == 1 => Line::LookupNode(key(args[0])?),
        "ln" => return Err(usage("ln <key>")),
        "id" => Line::Id,
        "table" => Line::Table,
        "help" | "?" => Line::Help,
        "quit" | "exit" | "q" => Line::Quit,
        other => return Err(format!("unknown command '{other}'; type help for the list")),
    })
}

fn contacts_line(cs: &[Contact<SocketAddr>]) -> String {
    let mut s = format!("{} contacts:", cs.len());
    for c in cs {
        s.push_str(&format!("\n  {} {}", c.id, c.addr));
    }
    s
}

fn text(v: &[u8]) -> String {
    escape(v)
}

/// `v` as text safe to print on a terminal: UTF-8 as it is, except control
/// characters (C0, DEL, C1: `\n`, `\x1b`, `\u{9b}`...), invisible format
/// characters that reorder or hide text (`\u{202e}`...) and backslashes,
/// which are escaped; bytes that are not UTF-8 show as `\xNN`.
pub fn escape(v: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(v.len());
    for chunk in v.utf8_chunks() {
        for c in chunk.valid().chars() {
            let invisible =
                matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}');
            match c {
                '\\' => out.push_str("\\\\"),
                c if c < '\u{80}' && c.is_control() => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if c.is_control() || invisible => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Executes one parsed line on `node`; the answer to print.
pub fn execute(node: &Node, line: Line) -> String {
    let r: Result<String, NetError> = (|| {
        Ok(match line {
            Line::Empty => String::new(),
            Line::Put(k, v) => {
                let s = node.put(&k, v.as_bytes())?;
                format!("stored '{k}' under {} at {} nodes", s.key, s.replicas)
            }
            Line::ImmutablePut(v) => {
                let s = node.put_immutable(v.as_bytes())?;
                format!("stored immutable item {} at {} nodes", s.key, s.replicas)
            }
            Line::ImmutableGet(target) => match node.get_immutable(target)? {
                Some(v) => format!("found {target}: {}", text(&v)),
                None => format!("not found: {target}"),
            },
            Line::Get(k) | Line::LookupValue(k) => match node.get(&k)? {
                Some(v) => format!("found '{k}': {}", text(&v)),
                None => format!("not found: '{k}'"),
            },
            Line::Ping(a, want) => {
                let id = node.ping(a)?;
                match want {
                    Some(w) if w != id => format!("pong from {a}: ID {id}, not the expected {w}"),
                    _ => format!("pong from {a}: ID {id}"),
                }
            }
            Line::Store(a, key, v) => {
                let ttl_secs = 86_400; // 24 h, the paper's expiry (§2.5)
                match node.request(a, Body::Store { key, value: Arc::from(v.as_bytes()), ttl_secs })? {
                    Body::Stored { accepted: true } => format!("stored {key} at {a}"),
                    _ => format!("{a} refused to store {key}"),
                }
            }
            Line::FindNode(a, key) => match node.request(a, Body::FindNode { target: key })? {
                Body::Nodes { contacts } => format!("{a} returned {}", contacts_line(&contacts)),
                other => format!("unexpected reply {other:?}"),
            },
            Line::FindValue(a, key) => match node.request(a, Body::FindValue { key })? {
                Body::Found { value, .. } => format!("{a} returned the value: {}", text(&value)),
                Body::Nodes { contacts } => format!("{a} has no value; it returned {}", contacts_line(&contacts)),
                other => format!("unexpected reply {other:?}"),
            },
            Line::LookupNode(key) => format!("closest to {key}: {}", contacts_line(&node.find_node(key)?)),
            Line::Id => format!("{} {}", node.id(), node.local_addr()),
            Line::Table => format!("routing table: {}", contacts_line(&node.table()?)),
            Line::Help => HELP.to_string(),
            Line::Quit => String::new(),
        })
    })();
    r.unwrap_or_else(|e| format!("error: {e}"))
}

/// One line of `input` without its line ending, at most [`MAX_LINE`] bytes:
/// `Ok(None)` at the end of input, `Err(())` for a longer line, whose rest
/// is skipped without being kept.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<Result<(), ()>>> {
    buf.clear();
    let n = (&mut *input).take(MAX_LINE as u64 + 1).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if buf.len() > MAX_LINE {
        buf.clear();
        input.skip_until(b'\n')?;
        return Ok(Some(Err(())));
    }
    Ok(Some(Ok(())))
}

/// Reads commands from `input` until `quit` or its end, answering on `out`.
/// `prompt`: write `> ` before each line (for terminals).
pub fn run(node: &Node, mut input: impl BufRead, mut out: impl Write, prompt: bool) -> std::io::Result<()> {
    if prompt {
        write!(out, "> ")?;
        out.flush()?;
    }
    let mut buf = Vec::new();
    while let Some(read) = read_line(&mut input, &mut buf)? {
        let line = match (read, std::str::from_utf8(&buf)) {
            (Ok(()), Ok(l)) => l,
            (Err(()), _) => {
                writeln!(out, "error: line longer than {MAX_LINE} bytes, ignored")?;
                if prompt {
                    write!(out, "> ")?;
                }
                out.flush()?;
                continue;
            }
            // Bytes that are not UTF-8: one hint, and the prompt goes on.
            (Ok(()), Err(_)) => {
                writeln!(out, "error: the line is not UTF-8")?;
                if prompt {
                    write!(out, "> ")?;
                }
                out.flush()?;
                continue;
            }
        };
        match parse(line) {
            Ok(Line::Quit) => break,
            Ok(Line::Empty) => {}
            Ok(cmd) => writeln!(out, "{}", execute(node, cmd))?,
            Err(hint) => writeln!(out, "{hint}")?,
        }
        if prompt {
            write!(out, "> ")?;
        }
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "00112233445566778899aabbccddeeff00112233";

    #[test]
    fn every_command_parses() {
        let a: SocketAddr = "127.0.0.1:6881".parse().unwrap();
        let k = NodeId::from_hex(K).unwrap();
        assert_eq!(parse("put colour dark blue").unwrap(), Line::Put("colour".into(), "dark blue".into()));
        assert_eq!(parse("get colour").unwrap(), Line::Get("colour".into()));
        assert_eq!(parse(&format!("p 127.0.0.1:6881 {K}")).unwrap(), Line::Ping(a, Some(k)));
        assert_eq!(parse("p 127.0.0.1:6881").unwrap(), Line::Ping(a, None));
        assert_eq!(parse(&format!("s 127.0.0.1:6881 {K} some value")).unwrap(), Line::Store(a, k, "some value".into()));
        assert_eq!(parse(&format!("s 127.0.0.1:6881 {K}")).unwrap(), Line::Store(a, k, String::new()));
        assert_eq!(
            parse(&format!("s  127.0.0.1:6881   {K}   two  words ")).unwrap(),
            Line::Store(a, k, "two  words".into())
        );
        assert_eq!(parse(&format!("fn 127.0.0.1:6881 {K}")).unwrap(), Line::FindNode(a, k));
        assert_eq!(parse(&format!("fv 127.0.0.1:6881 {K}")).unwrap(), Line::FindValue(a, k));
        assert_eq!(parse(&format!("ln {K}")).unwrap(), Line::LookupNode(k));
        assert_eq!(parse("lv colour").unwrap(), Line::LookupValue("colour".into()));
        assert_eq!(parse("iput some  value ").unwrap(), Line::ImmutablePut("some  value".into()));
        assert_eq!(parse(&format!("iget {K}")).unwrap(), Line::ImmutableGet(k));
        assert_eq!(parse("  id ").unwrap(), Line::Id);
        assert_eq!(parse("table").unwrap(), Line::Table);
        assert_eq!(parse("help").unwrap(), Line::Help);
        assert_eq!(parse("quit").unwrap(), Line::Quit);
        assert_eq!(parse("").unwrap(), Line::Empty);
    }

    #[test]
    fn bad_lines_get_a_one_line_hint() {
        for (line, hint) in [
            ("put onlykey", "usage: put"),
            ("get", "usage: get"),
            ("get a b", "usage: get"),
            ("p", "usage: p"),
            ("p 127.0.0.1", "bad address"),
            ("fn 127.0.0.1:1 abc", "bad key"),
            ("ln 00112233445566778899aabbccddeeff0011223", "bad key"),
            ("s 127.0.0.1:1", "usage: s"),
            ("fv", "usage: fv"),
            ("lv", "usage: lv"),
            ("frobnicate", "unknown command"),
            ("iput", "usage: iput"),
            ("iget", "usage: iget"),
            ("iget abc", "bad key"),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(hint) && !e.contains('\n'), "{line:?} -> {e:?}");
        }
    }

    #[test]
    fn values_are_printed_escaped_never_raw() {
        // A terminal escape (clear screen, set title), newlines, a C1 CSI, a
        // right-to-left override, invalid UTF-8 and a backslash.
        let v = b"ok\x1b[2J\x1b]0;pwned\x07\r\nnext\xc2\x9b31m \xe2\x80\xaeevil \xff\\ caf\xc3\xa9";
        let e = escape(v);
        assert_eq!(e, "ok\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x0anext\\u{9b}31m \\u{202e}evil \\xff\\\\ caf\u{e9}");
        assert!(!e.chars().any(|c| c.is_control()), "{e:?}");
        assert_eq!(escape(b"plain text"), "plain text");
    }

    #[test]
    fn a_line_longer_than_64_kib_is_discarded_in_bounded_memory() {
        let node = Node::start(crate::net::NodeConfig::default()).unwrap();
        // 50 MB on one line, then a command: the line is refused, the command answered.
        let huge = std::io::repeat(b'x').take(50_000_000);
        let input = std::io::BufReader::new(huge.chain(&b"\nid\nget \n"[..]));
        let mut out = Vec::new();
        let info = allocation_counter::measure(|| run(&node, input, &mut out, false).unwrap());
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("error: line longer than {MAX_LINE} bytes, ignored"));
        assert!(lines[1].starts_with(&node.id().to_string()), "{lines:?}");
        assert_eq!(lines[2], "usage: get <string key>");
        // (At least the 64 KiB line buffer: the allocations are counted.)
        assert!(info.bytes_max > MAX_LINE as u64 && info.bytes_max < 1 << 20, "{} bytes held at most", info.bytes_max);
        // A line of exactly MAX_LINE bytes is read (and is an unknown command).
        let long = format!("{}\n", "y".repeat(MAX_LINE));
        let mut out = Vec::new();
        run(&node, long.as_bytes(), &mut out, false).unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with("unknown command"));
        node.shutdown();
    }

    #[test]
    fn iput_prints_the_target_and_iget_fetches_the_item_escaped() {
        let a = Node::start(crate::net::NodeConfig::default()).unwrap();
        let b = Node::start(crate::net::NodeConfig {
            bootstrap: vec![(a.local_addr(), Some(*a.id()))],
            ..crate::net::NodeConfig::default()
        })
        .unwrap();
        let target = crate::wire::krpc::immutable_target(b"hello \x1b[31mred");
        let put = execute(&b, parse("iput hello \x1b[31mred").unwrap());
        assert_eq!(put, format!("stored immutable item {target} at 1 nodes"));
        let got = execute(&a, parse(&format!("iget {target}")).unwrap());
        assert_eq!(got, format!("found {target}: hello \\x1b[31mred"));
        let missing = crate::wire::krpc::immutable_target(b"never");
        assert_eq!(execute(&a, parse(&format!("iget {missing}")).unwrap()), format!("not found: {missing}"));
        b.shutdown();
        a.shutdown();
    }
}

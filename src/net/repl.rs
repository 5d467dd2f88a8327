//! The line-based prompt of `kadsim node`: one command per line on standard
//! input (a terminal or a pipe), one answer per line on standard output. A bad
//! command gets a one-line usage hint; nothing a user types stops the prompt
//! except `quit` or the end of input.

use super::node::{NetError, Node};
use crate::kad::{Body, Contact, NodeId};
use std::io::{BufRead, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

/// The commands, as `help` prints them.
pub const HELP: &str = "\
commands (a <key> is 40 hex digits; a <string key> is hashed with SHA-1):
  put <string key> <string value>   store a value at the k closest nodes
  get <string key>                  look a value up
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
    String::from_utf8_lossy(v).into_owned()
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

/// Reads commands from `input` until `quit` or its end, answering on `out`.
/// `prompt`: write `> ` before each line (for terminals).
pub fn run(node: &Node, input: impl BufRead, mut out: impl Write, prompt: bool) -> std::io::Result<()> {
    if prompt {
        write!(out, "> ")?;
        out.flush()?;
    }
    for line in input.lines() {
        let line = match line {
            Ok(l) => l,
            // Bytes that are not UTF-8: one hint, and the prompt goes on.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                writeln!(out, "error: the line is not UTF-8")?;
                continue;
            }
            Err(e) => return Err(e),
        };
        match parse(&line) {
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
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(hint) && !e.contains('\n'), "{line:?} -> {e:?}");
        }
    }
}

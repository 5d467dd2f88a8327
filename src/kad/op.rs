//! The names of a node's operations: the ID a node gives each operation it
//! starts and the kind of operation (the RPCs and procedures of Maymounkov &
//! Mazières 2002, §2.3 and §2.5).
//!
//! These sit below the node, the trace and the traffic classes, which all name
//! operations, so that none of those has to import them back from the node
//! (`kadsim::kad::node::{OpId, OpKind}` re-exports them).

/// Identifies an operation started on one node.
pub type OpId = u64;

/// The kind of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// A node lookup started by the user (paper §2.3).
    FindNode,
    /// A value lookup (paper §2.3).
    Get,
    /// A node lookup followed by STOREs at the k closest (paper §2.3).
    Put,
    /// A single PING (paper §2.3).
    Ping,
    /// A single request to an address, reporting its reply.
    Request,
    /// The join procedure's lookup of the own ID (paper §2.3).
    Join,
    /// A bucket refresh: a lookup of a random ID in the bucket (paper §2.3).
    Refresh,
    /// A republish of a stored or published pair (paper §2.5).
    Republish,
}

impl OpKind {
    /// Lower-case name, as written in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::FindNode => "find_node",
            OpKind::Get => "get",
            OpKind::Put => "put",
            OpKind::Ping => "ping",
            OpKind::Request => "request",
            OpKind::Join => "join",
            OpKind::Refresh => "refresh",
            OpKind::Republish => "republish",
        }
    }
}

//! `[network]`: the simulated transport of a scenario: latency models and
//! measured matrices, loss, partitions, and the unreachable and client-only
//! shares (`docs/latency.md`, `docs/reachability.md`).

use super::distribution::Distribution;
use super::units::{Dur, NonNegative, Probability};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// NAT pinhole lifetime when unset (`network.nat_timeout` documents its sources).
pub const NAT_TIMEOUT: Dur = Dur::secs(60);

/// `[network]`: the simulated UDP transport.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    /// The least one-way latency: every latency sample is raised to at least
    /// this. It is the lookahead of the parallel engine (no message sent in a
    /// window of this length can arrive within it), so a larger value lets
    /// more events run in parallel. Defaults to 1 ms; at least 1 µs.
    pub min_latency: Dur,
    /// One-way latency.
    pub latency: Latency,
    /// Message loss.
    pub loss: Loss,
    /// Scheduled partitions, `[[network.partitions]]`.
    pub partitions: Vec<Partition>,
    /// The share of nodes behind a NAT or firewall (`docs/reachability.md`):
    /// they send requests and receive the replies, but their NAT drops every
    /// datagram from an address they have not sent to within `nat_timeout`
    /// (`msgs.to_unreachable` counts them). Drawn once per node index from
    /// the seed (exactly this share of the nodes other than node 0, rounded;
    /// a node keeps its class across sessions; the adversary's nodes are
    /// always reachable). From 0 to 1; `unreachable + clients` at most 1.
    /// Defaults to 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub unreachable: Probability,
    /// How long an unreachable node's NAT keeps the pinhole to an address
    /// open after the last datagram the node sent there. Defaults to 60 s:
    /// RFC 4787 (REQ-5) asks that a UDP mapping not expire in less than 2
    /// minutes, but of the 34 home gateways Hätönen et al. measured ("An
    /// Experimental Study of Home Gateway Characteristics", IMC 2010) the
    /// shortest expired UDP bindings after 30 s and almost all before the
    /// RFC's value; 60 s lies within that range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_timeout: Option<Dur>,
    /// The share of client-only nodes (BEP 43 read-only nodes; libp2p's DHT
    /// client mode): they look up, get and put, flag their requests
    /// read-only and answer no request; nodes that honour the flag
    /// (`protocol.honour_read_only`) never add them to their tables. Drawn
    /// as `unreachable` is, from the same per-node draw. From 0 to 1.
    /// Defaults to 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub clients: Probability,
}

/// Whether a share is 0 (a field left out of a printed scenario).
fn is_zero(p: &Probability) -> bool {
    p.0 == 0.0
}

impl Network {
    /// The NAT pinhole lifetime the engine uses: `nat_timeout`, or its default.
    pub fn nat_timeout(&self) -> Dur {
        self.nat_timeout.unwrap_or(NAT_TIMEOUT)
    }
}

impl Default for Network {
    fn default() -> Self {
        Network {
            min_latency: Dur::millis(1),
            latency: Latency::default(),
            loss: Loss::default(),
            partitions: Vec::new(),
            unreachable: Probability(0.0),
            nat_timeout: None,
            clients: Probability(0.0),
        }
    }
}

/// `[network.latency]`. Fields that do not apply to the chosen model are errors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// `"constant"` (uses `value`), `"uniform"` (`min`, `max`), `"lognormal"`
    /// (`median`, `sigma`), `"coordinates"` (`width`, `height_mean`): each node
    /// sits at a uniform point of a square plane `width` wide (in milliseconds of
    /// latency) plus an access-link height drawn from an exponential with mean
    /// `height_mean`; the latency between two nodes is their distance in the
    /// plane plus both heights, as in Vivaldi's height-vector model; or
    /// `"matrix"` (`file`, `format`, `unit`, `missing`, `access`, `sha1`):
    /// measured round-trip times between hosts, each node placed on a host
    /// (docs/latency.md). Defaults to constant.
    pub model: LatencyModel,
    /// Constant latency. Defaults to 50 ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Dur>,
    /// Uniform lower bound. Defaults to 10 ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<Dur>,
    /// Uniform upper bound. Defaults to 100 ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<Dur>,
    /// Lognormal median. Defaults to 50 ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<Dur>,
    /// Lognormal σ of the underlying normal. Defaults to 0.5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<NonNegative>,
    /// Side of the coordinate plane. Defaults to 150 ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<Dur>,
    /// Mean access-link height. Defaults to 5 ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height_mean: Option<Dur>,
    /// The matrix file: dense rows of RTTs or `i j rtt` triples. A relative
    /// path is relative to the scenario file's directory. Required by model
    /// `"matrix"`; the effective scenario holds the path as resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// `"auto"`, `"dense"` or `"triples"`. Defaults to auto: a file whose first
    /// line of data holds three values, the first two whole numbers, is read
    /// as triples, any other as dense.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<MatrixFormat>,
    /// The unit of the file's RTTs: `"ms"` or `"us"`. Defaults to ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<MatrixUnit>,
    /// What missing entries (a negative number, `nan`, a pair no triple
    /// gives) become: `"drop"` (the fewest hosts are dropped so that the rest
    /// is complete) or `"estimate"` (the shortest detour through a third
    /// host). Defaults to drop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<MatrixMissing>,
    /// A per-node access delay, drawn once per node and added at both ends of
    /// every message, e.g. `{ dist = "lognormal", median = "5ms", sigma = 0.5 }`
    /// (the distributions of `[churn]`). None by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Distribution>,
    /// The SHA-1 of the matrix file's bytes, 40 lower-case hex digits. Loading
    /// the scenario fills it in (the effective scenario and the manifest
    /// record it, so runs of different matrices are different runs); a value
    /// written in the file pins the matrix: another file's bytes are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<Sha1Hex>,
    /// Extra delay drawn uniformly from [0, jitter) for every message, with any
    /// model. Defaults to 0.
    pub jitter: Dur,
    /// The matrix, read when the scenario was loaded (`scenario::load_file`,
    /// `load_str`): never written, and no part of the scenario's equality
    /// (`sha1` is).
    #[serde(skip)]
    #[schemars(skip)]
    pub loaded: LoadedMatrix,
}

/// The matrix of a loaded scenario with model `"matrix"`, shared by every
/// clone of the scenario and every thread of its runs.
#[derive(Clone, Default)]
pub struct LoadedMatrix(pub Option<std::sync::Arc<crate::sim::matrix::Matrix>>);

impl PartialEq for LoadedMatrix {
    /// Always equal: what a matrix is, is its file's SHA-1 ([`Latency::sha1`]).
    fn eq(&self, _: &LoadedMatrix) -> bool {
        true
    }
}

impl std::fmt::Debug for LoadedMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(m) => write!(f, "LoadedMatrix({} hosts)", m.hosts()),
            None => f.write_str("LoadedMatrix(none)"),
        }
    }
}

/// A SHA-1 digest as 40 lower-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Sha1Hex(String);

impl Sha1Hex {
    /// The digest's hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sha1Hex {
    type Error = String;
    fn try_from(s: String) -> Result<Sha1Hex, String> {
        if s.len() == 40 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Sha1Hex(s))
        } else {
            Err(format!("expected a SHA-1 as 40 lower-case hex digits, got {:?}", super::clip::clip(&s)))
        }
    }
}

impl From<Sha1Hex> for String {
    fn from(s: Sha1Hex) -> String {
        s.0
    }
}

/// How a matrix file lays out its RTTs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatrixFormat {
    /// Told apart by the first line of data.
    Auto,
    /// A square matrix, one row per line.
    Dense,
    /// `i j rtt` lines.
    Triples,
}

/// The unit of a matrix file's RTTs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum MatrixUnit {
    /// Milliseconds.
    #[serde(rename = "ms")]
    Millis,
    /// Microseconds.
    #[serde(rename = "us")]
    Micros,
}

/// What missing entries of a matrix become.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatrixMissing {
    /// Drop the fewest hosts that leave a complete matrix.
    Drop,
    /// Estimate each from the shortest detour through a third host.
    Estimate,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            model: LatencyModel::Constant,
            value: None,
            min: None,
            max: None,
            median: None,
            sigma: None,
            width: None,
            height_mean: None,
            file: None,
            format: None,
            unit: None,
            missing: None,
            access: None,
            sha1: None,
            jitter: Dur(0),
            loaded: LoadedMatrix(None),
        }
    }
}

/// Latency models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LatencyModel {
    /// The same latency for every message.
    Constant,
    /// Uniform between `min` and `max`.
    Uniform,
    /// Lognormal with a median and σ.
    Lognormal,
    /// Distance between node coordinates plus heights.
    Coordinates,
    /// Half the measured RTT between the nodes' hosts, plus access delays.
    Matrix,
}

/// `[network.loss]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Loss {
    /// `"none"`, `"independent"` (each message lost with probability `rate`) or
    /// `"gilbert_elliott"`: a two-state Markov chain per sending node, stepped
    /// once per message, moving good→bad with `p_good_bad` and bad→good with
    /// `p_bad_good`, losing with `loss_good` or `loss_bad`. Defaults to none.
    pub model: LossModel,
    /// Independent loss probability. Defaults to 0.01.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<Probability>,
    /// Gilbert–Elliott good→bad transition probability. Defaults to 0.01.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_good_bad: Option<Probability>,
    /// Gilbert–Elliott bad→good transition probability. Defaults to 0.1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_bad_good: Option<Probability>,
    /// Loss probability in the good state. Defaults to 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_good: Option<Probability>,
    /// Loss probability in the bad state. Defaults to 0.5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_bad: Option<Probability>,
}

impl Default for Loss {
    fn default() -> Self {
        Loss { model: LossModel::None, rate: None, p_good_bad: None, p_bad_good: None, loss_good: None, loss_bad: None }
    }
}

/// Loss models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LossModel {
    /// Nothing is lost.
    None,
    /// Independent per message.
    Independent,
    /// Bursty two-state loss.
    GilbertElliott,
}

/// `[[network.partitions]]`: from `start` to `end`, a random `fraction` of the
/// nodes is cut off from the rest; no message crosses the cut.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// When the cut appears.
    pub start: Dur,
    /// When it heals.
    pub end: Dur,
    /// Share of the nodes on the far side.
    pub fraction: Probability,
}

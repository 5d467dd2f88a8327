//! Distributions of durations in a scenario (session lengths, downtimes,
//! access delays): the families and their parameters as a file writes them.

use super::units::{Dur, NonNegative};
use serde::{Deserialize, Serialize};

/// A distribution of durations: `{ dist = "exponential", mean = "1h" }`,
/// `{ dist = "weibull", shape = 0.5, scale = "1h" }`, `{ dist = "pareto", shape
/// = 2.0, scale = "30m" }` (shifted Pareto, i.e. Lomax: P(X > x) = (1 +
/// x/scale)^-shape), or `{ dist = "lognormal", median = "1h", sigma = 1.0 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    /// Which family.
    pub dist: DistKind,
    /// Exponential mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<Dur>,
    /// Weibull or Pareto shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<NonNegative>,
    /// Weibull or Pareto scale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<Dur>,
    /// Lognormal median.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<Dur>,
    /// Lognormal σ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<NonNegative>,
}

/// Distribution families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistKind {
    /// Exponential.
    Exponential,
    /// Weibull.
    Weibull,
    /// Shifted Pareto (Lomax).
    Pareto,
    /// Lognormal.
    Lognormal,
}

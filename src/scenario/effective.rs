//! The scenario as the engine runs it: every optional parameter of the chosen
//! models filled in with the default the engine applies (`sim::latency`,
//! `sim::loss`, `sim::churn`), so that `kadsim validate` and the manifest show
//! every value a run used and the printed file loads back to the same run.

use super::distribution::*;
use super::network::*;
use super::sections::*;
use super::units::{Dur, NonNegative, Probability};

/// Constant latency when `value` is unset.
pub const LATENCY_VALUE: Dur = Dur::millis(50);
/// Uniform latency bounds when unset.
pub const LATENCY_MIN: Dur = Dur::millis(10);
/// See [`LATENCY_MIN`].
pub const LATENCY_MAX: Dur = Dur::millis(100);
/// Lognormal latency median when unset.
pub const LATENCY_MEDIAN: Dur = Dur::millis(50);
/// Lognormal latency σ when unset.
pub const LATENCY_SIGMA: f64 = 0.5;
/// Coordinate plane width when unset.
pub const LATENCY_WIDTH: Dur = Dur::millis(150);
/// Mean access-link height when unset.
pub const LATENCY_HEIGHT_MEAN: Dur = Dur::millis(5);
/// Independent loss rate when unset.
pub const LOSS_RATE: f64 = 0.01;
/// Gilbert–Elliott parameters when unset: p_good_bad, p_bad_good, loss_good, loss_bad.
pub const GILBERT_ELLIOTT: [f64; 4] = [0.01, 0.1, 0.0, 0.5];
/// NAT pinhole lifetime when unset (`network.nat_timeout` documents its sources).
pub use super::network::NAT_TIMEOUT;

impl Scenario {
    /// This scenario with every parameter the engine uses written out: the
    /// latency and loss parameters of the chosen models and the churn session
    /// and downtime distributions (model `"distributions"`) take the engine's
    /// defaults where unset. Parameters of models not chosen stay unset, and
    /// unset parameters are left out when serialized, so the result, as TOML
    /// or JSON, holds no null and loads back (`load_str`) to itself. The
    /// runner writes it to `manifest.json`; `kadsim validate` prints it.
    pub fn effective(&self) -> Scenario {
        let mut sc = self.clone();
        fill_latency(&mut sc.network.latency);
        fill_loss(&mut sc.network.loss);
        if sc.network.unreachable.0 > 0.0 {
            sc.network.nat_timeout.get_or_insert(NAT_TIMEOUT);
        }
        if sc.churn.model == ChurnModel::Distributions {
            sc.churn.session.get_or_insert_with(default_session);
            sc.churn.downtime.get_or_insert_with(default_downtime);
        }
        sc
    }
}

fn fill_latency(l: &mut Latency) {
    match l.model {
        LatencyModel::Constant => {
            l.value.get_or_insert(LATENCY_VALUE);
        }
        LatencyModel::Uniform => {
            l.min.get_or_insert(LATENCY_MIN);
            l.max.get_or_insert(LATENCY_MAX);
        }
        LatencyModel::Lognormal => {
            l.median.get_or_insert(LATENCY_MEDIAN);
            l.sigma.get_or_insert(NonNegative(LATENCY_SIGMA));
        }
        LatencyModel::Coordinates => {
            l.width.get_or_insert(LATENCY_WIDTH);
            l.height_mean.get_or_insert(LATENCY_HEIGHT_MEAN);
        }
        // The file and its SHA-1 come from loading the scenario.
        LatencyModel::Matrix => {
            l.format.get_or_insert(MatrixFormat::Auto);
            l.unit.get_or_insert(MatrixUnit::Millis);
            l.missing.get_or_insert(MatrixMissing::Drop);
        }
    }
}

fn fill_loss(l: &mut Loss) {
    match l.model {
        LossModel::None => {}
        LossModel::Independent => {
            l.rate.get_or_insert(Probability(LOSS_RATE));
        }
        LossModel::GilbertElliott => {
            let [gb, bg, good, bad] = GILBERT_ELLIOTT;
            l.p_good_bad.get_or_insert(Probability(gb));
            l.p_bad_good.get_or_insert(Probability(bg));
            l.loss_good.get_or_insert(Probability(good));
            l.loss_bad.get_or_insert(Probability(bad));
        }
    }
}

/// The session length when unset: Weibull, shape 0.5, scale 1 h.
pub fn default_session() -> Distribution {
    Distribution {
        dist: DistKind::Weibull,
        mean: None,
        shape: Some(NonNegative(0.5)),
        scale: Some(Dur::secs(3600)),
        median: None,
        sigma: None,
    }
}

/// The downtime when unset: exponential, mean 1 h.
pub fn default_downtime() -> Distribution {
    Distribution {
        dist: DistKind::Exponential,
        mean: Some(Dur::secs(3600)),
        shape: None,
        scale: None,
        median: None,
        sigma: None,
    }
}

#[cfg(test)]
#[path = "effective_tests.rs"]
mod tests;

//! Field checks that scenario validation shares (`load`, `classes`): the
//! error of a field path, fields that do not apply to a model, and the
//! parameters a duration distribution needs.

use super::distribution::{DistKind, Distribution};

/// A field path and what was expected there.
pub(super) type Invalid = (String, String);

pub(super) fn invalid(path: &str, message: impl Into<String>) -> Result<(), Invalid> {
    Err((path.to_string(), message.into()))
}

/// Fails on fields set that `allowed` does not list.
pub(super) fn only(section: &str, model: &str, set: &[(&str, bool)], allowed: &[&str]) -> Result<(), Invalid> {
    for (name, present) in set {
        if *present && !allowed.contains(name) {
            return invalid(&format!("{section}.{name}"), format!("does not apply to model \"{model}\""));
        }
    }
    Ok(())
}

pub(super) fn validate_dist(section: &str, d: &Distribution) -> Result<(), Invalid> {
    let set = [
        ("mean", d.mean.is_some()),
        ("shape", d.shape.is_some()),
        ("scale", d.scale.is_some()),
        ("median", d.median.is_some()),
        ("sigma", d.sigma.is_some()),
    ];
    let (name, needed): (&str, &[&str]) = match d.dist {
        DistKind::Exponential => ("exponential", &["mean"]),
        DistKind::Weibull => ("weibull", &["shape", "scale"]),
        DistKind::Pareto => ("pareto", &["shape", "scale"]),
        DistKind::Lognormal => ("lognormal", &["median", "sigma"]),
    };
    only(section, name, &set, needed)?;
    for (field, present) in set {
        if needed.contains(&field) && !present {
            return invalid(&format!("{section}.{field}"), format!("required by dist \"{name}\""));
        }
    }
    let positive = |x: Option<f64>| x.is_none_or(|v| v > 0.0);
    if !positive(d.shape.map(|s| s.0)) {
        return invalid(&format!("{section}.shape"), "expected a positive shape");
    }
    for (field, v) in [("mean", d.mean), ("scale", d.scale), ("median", d.median)] {
        if v.is_some_and(|v| v.0 == 0) {
            return invalid(&format!("{section}.{field}"), "expected a positive duration");
        }
    }
    Ok(())
}

//! The effective scenario fills every parameter the engine uses, with the
//! engine's own defaults, and loads back to itself.

use super::*;
use crate::scenario::{load_file, load_str};
use crate::sim::churn::DurationDist;
use crate::sim::latency::LatencyModel as Engine;
use crate::sim::loss::LossModel as EngineLoss;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::path::Path;

fn nulls(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Null => out.push(at.to_string()),
        serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| nulls(v, &format!("{at}.{k}"), out)),
        serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| nulls(v, &format!("{at}.{i}"), out)),
        _ => {}
    }
}

fn shipped() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("bench"), root.join("regression")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 9);
    files
}

#[test]
fn shipped_scenarios_have_no_null_and_reload_to_themselves() {
    for file in shipped() {
        let sc = load_file(&file, &[]).unwrap().effective();
        let mut found = Vec::new();
        nulls(&serde_json::to_value(&sc).unwrap(), "", &mut found);
        assert!(found.is_empty(), "{}: null at {found:?}", file.display());
        let l = &sc.network.latency;
        let filled = match l.model {
            LatencyModel::Constant => l.value.is_some(),
            LatencyModel::Uniform => l.min.is_some() && l.max.is_some(),
            LatencyModel::Lognormal => l.median.is_some() && l.sigma.is_some(),
            LatencyModel::Coordinates => l.width.is_some() && l.height_mean.is_some(),
            LatencyModel::Matrix => {
                let named = l.file.is_some() && l.sha1.is_some() && l.loaded.0.is_some();
                named && l.format.is_some() && l.unit.is_some() && l.missing.is_some()
            }
        };
        assert!(filled, "{}: {l:?}", file.display());
        let text = toml::to_string(&sc).unwrap();
        let again = load_str(&text, "printed", &[]).unwrap();
        assert_eq!(again, sc, "{}", file.display());
        assert_eq!(again.effective(), sc);
    }
}

#[test]
fn unset_parameters_take_the_engines_defaults() {
    let rng = || ChaCha8Rng::seed_from_u64(1);
    for model in [LatencyModel::Constant, LatencyModel::Uniform, LatencyModel::Lognormal, LatencyModel::Coordinates] {
        let bare = Latency { model, ..Latency::default() };
        let mut sc = Scenario::default();
        sc.network.latency = bare.clone();
        let full = sc.effective().network.latency;
        assert_ne!(full, bare, "{model:?} fills something");
        let (a, b) = (Engine::new(&bare, 10, &mut rng()), Engine::new(&full, 10, &mut rng()));
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{model:?}");
    }
    for model in [LossModel::Independent, LossModel::GilbertElliott] {
        let mut sc = Scenario::default();
        sc.network.loss.model = model;
        let full = sc.effective().network.loss;
        assert_ne!(full, sc.network.loss);
        assert_eq!(format!("{:?}", EngineLoss::new(&sc.network.loss)), format!("{:?}", EngineLoss::new(&full)));
    }
    let mut sc = Scenario::default();
    sc.churn.model = ChurnModel::Distributions;
    let c = sc.effective().churn;
    let (session, downtime) = (c.session.unwrap(), c.downtime.unwrap());
    assert_eq!(format!("{:?}", DurationDist::new(&session)), format!("{:?}", DurationDist::default_session()));
    assert_eq!(format!("{:?}", DurationDist::new(&downtime)), format!("{:?}", DurationDist::default_downtime()));
}

#[test]
fn the_printed_defaults_include_model_parameters() {
    let sc =
        load_str("[network.loss]\nmodel = \"gilbert_elliott\"\n[churn]\nmodel = \"distributions\"\n", "s.toml", &[])
            .unwrap();
    let text = toml::to_string(&sc.effective()).unwrap();
    for want in ["value = \"50ms\"", "p_good_bad = 0.01", "loss_bad = 0.5", "[churn.session]", "scale = \"1h\""] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
}

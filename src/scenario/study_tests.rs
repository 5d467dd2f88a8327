use super::*;

const BASE: &str = r#"name = "st"
nodes = 50
duration = "2m"

[churn]
model = "distributions"
session = { dist = "weibull", shape = 0.5, scale = "30m" }
downtime = { dist = "exponential", mean = "15m" }
"#;

fn metrics_ok(names: &[String]) -> Result<(), String> {
    match names.iter().find(|n| n.as_str() != "find_node.success_rate") {
        Some(n) => Err(format!("unknown metric {n:?}")),
        None => Ok(()),
    }
}

fn is_metric(name: &str) -> bool {
    name == "find_node.success_rate"
}

/// The study of BASE followed by `study`, or the error line.
fn study(name: &str, study: &str) -> Result<Option<Study>, String> {
    let dir = std::env::temp_dir().join(format!("kadsim-study-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("s.toml");
    // A study starting with `!` goes first, as top-level keys must.
    let text = match study.strip_prefix('!') {
        Some(top) => format!("{top}{BASE}"),
        None => format!("{BASE}{study}"),
    };
    std::fs::write(&file, text).unwrap();
    let rules = Rules { max_replicas: 10_000, metrics: &metrics_ok, is_metric: &is_metric };
    let out = load_file(&file, &[]).and_then(|_| load_study(&file, &[], &rules)).map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    // Errors name the file by its path: keep the part after it.
    out.map_err(|e| e.split_once("s.toml").map_or(e.clone(), |(_, rest)| rest.to_string()))
}

#[test]
fn a_study_keeps_the_files_order_and_values() {
    let s = study(
        "ok",
        r#"
[study]
replicas = 5
title = "{metric}"
metrics = ["find_node.success_rate"]
[study.params]
"protocol.k" = [8, 20]
"churn.session.scale" = ["5m", "30m", "2h"]
alpha = [1, 3]
[study.labels]
"protocol.k" = "bucket size k"
"#,
    )
    .unwrap()
    .unwrap();
    assert_eq!(s.replicas, Some(5));
    let names: Vec<&str> = s.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["protocol.k", "churn.session.scale", "alpha"], "the file's order, not sorted");
    assert_eq!(s.params[1].values, ["5m", "30m", "2h"]);
    assert_eq!(s.params[1].written, ["\"5m\"", "\"30m\"", "\"2h\""]);
    assert_eq!(s.params[0].values, ["8", "20"]);
    assert_eq!(s.labels, [("protocol.k".to_string(), "bucket size k".to_string())]);
    assert_eq!(s.title.as_deref(), Some("{metric}"));
    let printed = s.to_toml(50);
    assert!(printed.contains("\"protocol.k\" = [8, 20]") && printed.contains("12 points x 5 replicas = 60 runs"));
    assert!(printed.contains("#   protocol.k=20 churn.session.scale=2h alpha=3"), "{printed}");
    // The printed study is a study again.
    let again = study("again", &printed).unwrap().unwrap();
    assert_eq!(again, s);
    assert_eq!(study("none", "").unwrap(), None);
}

#[test]
fn a_bad_study_is_refused_at_its_place() {
    let bad = |name: &str, text: &str| study(name, text).unwrap_err();
    // BASE has 8 lines; the study starts on line 9.
    let e = bad("unknown", "[study]\nrepeat = 5\n");
    assert_eq!(e, ":10:1: study.repeat: unknown field, expected one of replicas, params, labels, metrics, title");
    let e = bad("unit", "[study.params]\n\"churn.session.scale\" = [\"5m\", 30]\n");
    assert!(e.starts_with(":10:32: study.params.\"churn.session.scale\": 30: durations need a unit"), "{e}");
    let e = bad("k0", "[study.params]\n\"protocol.k\" = [8, 0]\n");
    assert!(e.starts_with(":10:20: study.params.\"protocol.k\": 0: "), "{e}");
    let e = bad("field", "[study.params]\n\"protocol.kk\" = [8]\n");
    assert!(e.contains("study.params.\"protocol.kk\": 8: ") && e.contains("unknown field"), "{e}");
    let e = bad("table", "!study = 5\n");
    assert_eq!(e, ":1:1: study: expected a table ([study]), got an integer");
    let e = bad("replicas", "[study]\nreplicas = 0\n");
    assert_eq!(e, ":10:12: study.replicas: expected 1 to 10000 replicas, got 0");
    let e = bad("float", "[study]\nreplicas = 2.5\n");
    assert_eq!(e, ":10:12: study.replicas: expected an integer, got a float");
    let e = bad("seed", "[study.params]\nseed = [1, 2]\n");
    assert!(e.starts_with(":10:1: study.params.seed: seeds are not swept"), "{e}");
    let e = bad("twice", "[study.params]\nk = [8, 8]\n");
    assert_eq!(e, ":10:9: study.params.k: the value 8 is given twice");
    let e = bad("same", "[study.params]\nk = [8]\n\"protocol.k\" = [20]\n");
    assert!(e.starts_with(":11:1: study.params.\"protocol.k\": the same field as k"), "{e}");
    let e = bad("empty", "[study.params]\nk = []\n");
    assert_eq!(e, ":10:5: study.params.k: expected at least one value");
    let e = bad("nested", "[study.params]\nk = [[8]]\n");
    assert!(e.contains("expected a number, a string or a boolean, got an array"), "{e}");
    let e = bad("label", "[study.params]\nk = [8]\n[study.labels]\nalpha = \"a\"\n");
    assert!(e.starts_with(":12:1: study.labels.alpha: expected a parameter"), "{e}");
    let e = bad("metric", "[study]\nmetrics = [\"nope\"]\n");
    assert_eq!(e, ":10:11: study.metrics: unknown metric \"nope\"");
}

#[test]
fn the_scenario_of_a_file_with_a_study_is_the_file_without_it() {
    let dir = std::env::temp_dir().join(format!("kadsim-study-same-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.toml"), dir.join("b.toml"));
    std::fs::write(&a, BASE).unwrap();
    std::fs::write(&b, format!("{BASE}\n[study]\nreplicas = 2\n[study.params]\nk = [4, 8]\n")).unwrap();
    let (sa, sb) = (load_file(&a, &[]).unwrap(), load_file(&b, &[]).unwrap());
    assert_eq!(sa, sb);
    assert_eq!(serde_json::to_value(&sa).unwrap(), serde_json::to_value(&sb).unwrap());
    // A study is the file's, not a field to set.
    let e = load_file(&a, &["study.replicas=3".into()]).unwrap_err().to_string();
    assert!(e.contains("--set study.replicas=3") && e.contains("kadsim sweep --param"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

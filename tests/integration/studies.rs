//! From runs to studies (issue 21): a comparison says which settings its two
//! sides differ in, warns once, and refuses a gate across different
//! scenarios unless asked.

use crate::bin::{kadsim_at, tmpdir};
use std::path::Path;
use std::process::Output;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(d: &Path, args: &[&str]) -> Output {
    let o = kadsim_at(d, args, &[]);
    assert!(o.status.success(), "kadsim {args:?}: {}{}", text(&o.stdout), text(&o.stderr));
    o
}

#[test]
fn compare_lists_the_settings_churn_and_eclipse_differ_in() {
    let d = tmpdir("studies-settings");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let small =
        ["-q", "--set", "nodes=300", "--set", "duration=8m", "--set", "warmup=6m", "--set", "sample_interval=1m"];
    let run = |file: &str, out: &str, extra: &[&str]| {
        let f = root.join(file);
        let args = [&["run", f.to_str().unwrap(), "--out", out][..], &small[..], extra].concat();
        ok(&d, &args);
    };
    run("scenarios/churn.toml", "churn", &[]);
    run("scenarios/churn.toml", "churn2", &["--seed", "2"]);
    run("scenarios/attack/eclipse.toml", "eclipse", &["--set", "adversary.join_at=2m"]);

    let o = ok(&d, &["compare", "churn", "eclipse", "--no-charts"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    let table = out.split("Settings that differ:").nth(1).unwrap_or_else(|| panic!("no settings table:\n{out}"));
    let row = |field: &str| {
        table.lines().find(|l| l.split_whitespace().next() == Some(field)).unwrap_or_else(|| panic!("{field}: {table}"))
    };
    // Each differing field with the base's value, then the candidate's.
    let cells = |field: &str| row(field).split_whitespace().skip(1).map(String::from).collect::<Vec<_>>();
    assert_eq!(cells("churn.session.dist"), ["weibull", "exponential"]);
    assert_eq!(cells("network.latency.model"), ["lognormal", "constant"]);
    assert_eq!(cells("adversary.count"), ["unset", "20"]);
    assert_eq!(cells("protocol.cache_on_get"), ["true", "false"]);
    assert!(!table.lines().any(|l| l.trim_start().starts_with("nodes ") || l.trim_start().starts_with("seed ")));
    // Warned once, on stderr: the within-run warning and the different settings.
    assert_eq!(err.matches("kadsim: warning: within-run only").count(), 1, "{err}");
    assert_eq!(err.matches("different settings (").count(), 1, "{err}");
    assert!(!out.contains("warning:"), "the text output does not repeat them: {out}");

    // A gate across them is refused unless asked for.
    let gate = ["compare", "churn", "eclipse", "--no-charts", "--fail-if", "get.success_rate < -1%"];
    let o = kadsim_at(&d, &gate, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--allow-different"), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr).lines().count(), 1);
    let o = kadsim_at(&d, &[&gate[..], &["--allow-different"]].concat(), &[]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o.stderr));

    // Two seeds of one scenario: the same settings, and a gate is judged.
    let o = ok(&d, &["compare", "churn", "churn2", "--no-charts", "--fail-if", "hops.mean > +50%"]);
    assert!(text(&o.stdout).contains("Settings: the same on both sides (seeds aside)."), "{}", text(&o.stdout));
    let _ = std::fs::remove_dir_all(&d);
}

//! The validation suite catches a broken protocol: with the test fault that
//! runs the nodes with k − 1 where the scenario says k, the quick model checks
//! fail (exit 1, the failing checks named, the report marking them); a bad
//! `--only` is one line and exit 2. (CI runs the whole quick suite, which must
//! pass: `.ci/run`.)

use crate::bin::{kadsim, kadsim_at, tmpdir};

#[test]
fn a_protocol_broken_on_purpose_fails_the_quick_model_checks() {
    let d = tmpdir("validation-broken");
    let out = d.join("v");
    let o = kadsim_at(
        &d,
        &["validation", "--quick", "--only", "model", "--out", out.to_str().unwrap(), "--format", "svg"],
        &[("KADSIM_TEST_FAULT", "protocol-k-minus-1")],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("test fault protocol-k-minus-1"), "the fault is said: {err}");
    let failed = err.lines().find(|l| l.starts_with("kadsim: validation: ")).expect("the failures are named");
    assert!(failed.contains("model.hops.") && failed.contains(".k8."), "{failed}");
    let report = std::fs::read_to_string(out.join("validation.md")).unwrap();
    assert!(report.contains("**FAIL**") && report.contains("checks passed; "), "the report marks them");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_unknown_part_is_one_line_and_exit_2() {
    let o = kadsim(&["validation", "--only", "hops"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no part \"hops\"") && err.contains("model"), "{err}");
}

//! Running the `kadsim` binary from the tests, and scratch directories for it.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `kadsim` with `args`; returns its exit status and output.
pub fn kadsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kadsim")).args(args).output().expect("the kadsim binary runs")
}

/// A fresh, empty directory for one test; `name` must be unique across tests.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

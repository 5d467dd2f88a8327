//! Running the `kadsim` binary from the tests, and scratch directories for it.
//!
//! `KADSIM_BIN=/path/to/kadsim cargo test ...` runs the tests that go through
//! [`kadsim`] and [`kadsim_at`] against another build, e.g. an older commit's,
//! to show what a test guards against.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test: `KADSIM_BIN`, else this build's.
pub fn binary() -> PathBuf {
    std::env::var_os("KADSIM_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kadsim")), PathBuf::from)
}

/// Runs `kadsim` with `args`; returns its exit status and output.
pub fn kadsim(args: &[&str]) -> Output {
    Command::new(binary()).args(args).output().expect("the kadsim binary runs")
}

/// Runs `kadsim` with `args` in the directory `cwd`, with the environment
/// variables `env` set.
pub fn kadsim_at(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(binary());
    c.args(args).current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the kadsim binary runs")
}

/// A fresh, empty directory for one test; `name` must be unique across tests.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every file under `dir` (paths relative to it, at any depth) with its bytes:
/// a picture of a tree to compare before and after a command.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if meta.is_dir() {
                out.push((format!("{rel}/"), Vec::new()));
                walk(root, &p, out);
            } else if meta.is_file() {
                out.push((rel, std::fs::read(&p).unwrap()));
            } else {
                out.push((format!("{rel}@"), Vec::new()));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// What a bounded run of `kadsim` gave: its output, or `None` when it was
/// still running at the time limit and was killed.
pub struct Bounded {
    /// Exit status and output; when killed, what it had written by then.
    pub output: Output,
    /// Whether it was killed at the time limit.
    pub killed: bool,
}

/// Runs `kadsim` with `args` (any bytes) in `cwd`, its standard input empty,
/// and kills it if it is still running after `limit`: a command waiting on a
/// FIFO or reading `/dev/zero` for ever is reported, not waited on.
pub fn kadsim_bounded(cwd: &Path, args: &[std::ffi::OsString], limit: std::time::Duration) -> Bounded {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kadsim binary runs");
    // Both pipes drained on threads, so that a child writing much never blocks.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            v
        })
    };
    let out = drain(child.stdout.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
    let start = std::time::Instant::now();
    let mut killed = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting on kadsim") {
            break s;
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            killed = true;
            break child.wait().expect("waiting on kadsim");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let output = Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    Bounded { output, killed }
}

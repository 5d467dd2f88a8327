//! Records what kadsim is built from, for the manifest of every run:
//! `KADSIM_GIT_COMMIT`, the commit hash (`-dirty` when the work tree has
//! changes, `unknown` outside a git checkout, e.g. a crates.io install), and
//! `KADSIM_SOURCE_SHA1`, a SHA-1 of the sources themselves (Cargo.toml,
//! Cargo.lock, build.rs and every file under src/), which tells two builds
//! apart where the commit cannot: two dirty trees, or no git at all. A run
//! directory is replaced without `--force` only by a run of the same
//! scenario from the same sources (README "Your results are safe").

use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// SHA-1 over the sources, in path order: each file's path, length and bytes.
fn source_sha1() -> String {
    let mut files: Vec<PathBuf> =
        ["Cargo.toml", "Cargo.lock", "build.rs"].iter().map(PathBuf::from).filter(|p| p.is_file()).collect();
    files_under(Path::new("src"), &mut files);
    files.sort();
    let mut h = Sha1::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        // Paths with '/' whatever the platform, so that the hash is the same everywhere.
        let name = f.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        h.update(name.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    println!("cargo:rustc-env=KADSIM_SOURCE_SHA1={}", source_sha1());
    let commit = match git(&["rev-parse", "HEAD"]) {
        Some(hash) if !hash.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            if dirty { format!("{hash}-dirty") } else { hash }
        }
        _ => "unknown".to_string(),
    };
    println!("cargo:rustc-env=KADSIM_GIT_COMMIT={commit}");
    // Rebuild the string when HEAD moves or the index changes.
    for path in ["HEAD", "index"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(&["rev-parse", "--git-path", &head])
    {
        println!("cargo:rerun-if-changed={p}");
    }
    // And when the sources change, so that `-dirty` stays true to them.
    for path in ["build.rs", "Cargo.toml", "Cargo.lock", "src"] {
        println!("cargo:rerun-if-changed={path}");
    }
}

//! Issue 20's hostile-input corpus: every case in `tests/hostile/` (scenario
//! files, `--set` values, damaged result directories, damaged shards) must be
//! refused with exit code 2 and exactly one stderr line `kadsim: ...` holding
//! each expected substring (the place: file, line and column, the field or
//! column), within 20 seconds, leaving every file under the case's scratch
//! directory as it was: nothing created, changed or deleted. The corpus is
//! plain text, described in `tests/hostile/README.md`; this file only reads
//! and runs it. All failing cases are reported together, each with its place
//! in the corpus. A case marked `# known: WHY` is skipped and listed.
//!
//! `KADSIM_BIN=/path/to/kadsim` runs the corpus against another build (the
//! fixture runs too); `KADSIM_HOSTILE_SHOW=1` prints every error line.

use super::bin::{Bounded, binary, kadsim_bounded, tmpdir, tree};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The corpus directory.
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile");

/// The longest a command may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(20);

/// One hostile input.
struct Case {
    /// Where it is written: `scenarios/x.toml` or `sets.txt:12`.
    at: String,
    /// Why it is skipped, when kadsim is known to fall short on it.
    known: Option<String>,
    /// Substrings the error line must hold.
    expect: Vec<String>,
    /// How to build and run it.
    kind: Kind,
}

enum Kind {
    /// A scenario file given to `cmd` (`run`, `validate` or `sweep` and flags).
    Scenario { name: String, body: Vec<u8>, cmd: Vec<String>, generate: Vec<String> },
    /// A `--set` value given to `kadsim run base.toml`.
    Set { value: Vec<u8> },
    /// A command run on a copy of real results, one file damaged first.
    Damage { command: String, file: String, mutation: String },
}

// ---------------------------------------------------------------------------
// The corpus's text: escapes and generated text
// ---------------------------------------------------------------------------

/// Expands `<<REPEAT:N:TEXT>>` (TEXT, unescaped, N times) in `s`; with
/// `escapes`, also `\n`, `\t`, `\\` and `\xNN` (a raw byte) outside them.
fn expand(s: &[u8], escapes: bool) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(b"<<REPEAT:") {
            let rest = &s[i + 9..];
            let end = find(rest, b">>").ok_or("<<REPEAT: without >>")?;
            let inner = String::from_utf8_lossy(&rest[..end]).into_owned();
            let (n, text) = inner.split_once(':').ok_or("<<REPEAT:N:TEXT>> needs N and TEXT")?;
            let n: usize = n.parse().map_err(|_| format!("<<REPEAT: bad count {n:?}"))?;
            let text = unescape(text.as_bytes())?;
            for _ in 0..n {
                out.extend_from_slice(&text);
            }
            i += 9 + end + 2;
        } else if escapes && s[i] == b'\\' {
            let (bytes, used) = escape_at(&s[i..])?;
            out.extend_from_slice(&bytes);
            i += used;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn unescape(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            let (bytes, used) = escape_at(&s[i..])?;
            out.extend_from_slice(&bytes);
            i += used;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// The escape at the start of `s` (which starts with a backslash): its bytes
/// and its length.
fn escape_at(s: &[u8]) -> Result<(Vec<u8>, usize), String> {
    match s.get(1) {
        Some(b'n') => Ok((vec![b'\n'], 2)),
        Some(b't') => Ok((vec![b'\t'], 2)),
        Some(b'r') => Ok((vec![b'\r'], 2)),
        Some(b'\\') => Ok((vec![b'\\'], 2)),
        Some(b'x') => {
            let hex = s.get(2..4).ok_or("\\x needs two hex digits")?;
            let b = u8::from_str_radix(std::str::from_utf8(hex).map_err(|_| "bad \\x")?, 16)
                .map_err(|_| "\\x needs two hex digits")?;
            Ok((vec![b], 4))
        }
        _ => Err("unknown escape (\\n, \\t, \\r, \\\\, \\xNN)".into()),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn text(s: &[u8]) -> Result<String, String> {
    String::from_utf8(unescape(s)?).map_err(|_| "expected UTF-8 text".to_string())
}

// ---------------------------------------------------------------------------
// Reading the corpus
// ---------------------------------------------------------------------------

/// The scenario cases: every `scenarios/*.toml`.
fn scenario_cases() -> Vec<Case> {
    let dir = Path::new(CORPUS).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let raw = std::fs::read(p).unwrap();
            let (mut expect, mut known, mut cmd, mut generate) = (Vec::new(), None, Vec::new(), Vec::new());
            for line in String::from_utf8_lossy(&raw).lines() {
                let line = line.trim_start_matches('\u{feff}');
                let Some(d) = line.strip_prefix("# ") else { continue };
                if let Some(v) = d.strip_prefix("expect: ") {
                    expect.push(v.trim().to_string());
                } else if let Some(v) = d.strip_prefix("known: ") {
                    known = Some(v.trim().to_string());
                } else if let Some(v) = d.strip_prefix("cmd: ") {
                    cmd = v.split_whitespace().map(str::to_string).collect();
                } else if let Some(v) = d.strip_prefix("generate: ") {
                    generate.push(v.trim().to_string());
                }
            }
            Case {
                at: format!("scenarios/{name}"),
                known,
                expect,
                kind: Kind::Scenario { name, body: raw, cmd, generate },
            }
        })
        .collect()
}

/// The lines of a `.txt` corpus file that are cases, with their line numbers
/// and the `# known:` note just above each; comments and blank lines skipped.
fn case_lines(file: &str) -> Vec<(usize, Option<String>, Vec<u8>)> {
    let raw = std::fs::read(Path::new(CORPUS).join(file)).unwrap();
    let mut known = None;
    let mut out = Vec::new();
    for (i, line) in raw.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(why) = line.strip_prefix(b"# known: ") {
            known = Some(String::from_utf8_lossy(why).trim().to_string());
        } else if line.is_empty() || line.starts_with(b"#") {
            continue;
        } else {
            out.push((i + 1, known.take(), line.to_vec()));
        }
    }
    out
}

/// `sets.txt`: `VALUE => EXPECT | EXPECT ...`.
fn set_cases() -> Vec<Case> {
    case_lines("sets.txt")
        .into_iter()
        .map(|(n, known, line)| {
            let at = format!("sets.txt:{n}");
            let Some(split) = find(&line, b" => ") else {
                return Case {
                    at,
                    known,
                    expect: vec!["<no ` => ` in the case>".into()],
                    kind: Kind::Set { value: line },
                };
            };
            let expect = String::from_utf8_lossy(&line[split + 4..])
                .split(" | ")
                .map(|s| text(s.trim().as_bytes()).unwrap_or_else(|e| format!("<{e}>")))
                .filter(|s| !s.is_empty())
                .collect();
            let value = expand(&line[..split], true).unwrap_or_else(|e| format!("<{e}>").into_bytes());
            Case { at, known, expect, kind: Kind::Set { value } }
        })
        .collect()
}

/// `results.txt` and `shards.txt`: `COMMAND | FILE | MUTATION | EXPECT ...`.
fn damage_cases(file: &str) -> Vec<Case> {
    case_lines(file)
        .into_iter()
        .map(|(n, known, line)| {
            let line = String::from_utf8_lossy(&line).into_owned();
            let mut parts = line.split(" | ").map(str::trim);
            let command = parts.next().unwrap_or_default().to_string();
            let file_ = parts.next().unwrap_or_default().to_string();
            let mutation = parts.next().unwrap_or_default().to_string();
            let expect = parts
                .map(|s| text(s.as_bytes()).unwrap_or_else(|e| format!("<{e}>")))
                .filter(|s| !s.is_empty())
                .collect();
            Case { at: format!("{file}:{n}"), known, expect, kind: Kind::Damage { command, file: file_, mutation } }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Fixtures: real runs to damage
// ---------------------------------------------------------------------------

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Runs `kadsim args` in `cwd`; it must succeed.
fn make(cwd: &Path, args: &[&str]) {
    let b = kadsim_bounded(cwd, &os(args), LIMIT);
    assert!(
        b.output.status.success() && !b.killed,
        "making a fixture: kadsim {args:?} (binary {}): {}",
        binary().display(),
        String::from_utf8_lossy(&b.output.stderr)
    );
}

/// The fixtures every damage case copies from, made once in `dir`: `run`
/// and `base` (base.toml, seeds 1 and 2), `traced` (`--trace ops`), `sweep`
/// and `base-sweep` (2 replicas, seeds 1 and 7), `shards` (base.toml, `--param
/// k=8,20 --replicas 2`, shards 1/2 and 2/2 in one directory) and `other`
/// (the same of other.toml).
fn fixtures(dir: &Path, which: &[&str]) {
    for f in ["base.toml", "other.toml"] {
        std::fs::copy(Path::new(CORPUS).join(f), dir.join(f)).unwrap();
    }
    for w in which {
        match *w {
            "run" => make(dir, &["run", "base.toml", "--out", "run", "-q"]),
            "base" => make(dir, &["run", "base.toml", "--seed", "2", "--out", "base", "-q"]),
            "traced" => make(dir, &["run", "base.toml", "--trace", "ops", "--out", "traced", "-q"]),
            "sweep" => make(dir, &["sweep", "base.toml", "--replicas", "2", "--out", "sweep", "-q"]),
            "base-sweep" => {
                make(dir, &["sweep", "base.toml", "--replicas", "2", "--seed", "7", "--out", "base-sweep", "-q"])
            }
            "shards" | "other" => {
                let toml = if *w == "shards" { "base.toml" } else { "other.toml" };
                for shard in ["1/2", "2/2"] {
                    let a = ["sweep", toml, "--param", "k=8,20", "--replicas", "2", "--shard", shard, "--out", w, "-q"];
                    make(dir, &a);
                }
            }
            other => panic!("no fixture {other}"),
        }
    }
}

/// The fixtures a command reads, and its arguments.
fn command_args(command: &str) -> Result<(Vec<&'static str>, Vec<String>), String> {
    let mut words = command.split_whitespace();
    let verb = words.next().unwrap_or_default();
    let extra = words.map(str::to_string);
    let (needs, args): (Vec<&str>, Vec<&str>) = match verb {
        "plot" => (vec!["run"], vec!["plot", "run"]),
        "report" => (vec!["run"], vec!["report", "run"]),
        "compare" => (vec!["base", "run"], vec!["compare", "base", "run"]),
        "compare-sets" => (vec!["base-sweep", "sweep"], vec!["compare", "base-sweep", "sweep"]),
        "trace" => (vec!["traced"], vec!["trace", "traced"]),
        "merge" => (vec!["shards", "other"], vec!["merge", "shards", "--out", "merged"]),
        _ => return Err(format!("unknown command {verb:?} (plot, report, compare, compare-sets, trace, merge)")),
    };
    Ok((needs, args.into_iter().map(str::to_string).chain(extra).collect()))
}

/// Copies `from` to `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Fills the case directory `root` with copies of the fixtures `needs` and
/// of the scenarios they were run from.
fn prepare(root: &Path, fixtures_dir: &Path, needs: &[&str]) {
    for n in needs {
        copy_tree(&fixtures_dir.join(n), &root.join(n));
    }
    for f in ["base.toml", "other.toml"] {
        std::fs::copy(fixtures_dir.join(f), root.join(f)).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Damage
// ---------------------------------------------------------------------------

fn split_lines(b: &[u8]) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
    if b.ends_with(b"\n") {
        v.pop();
    }
    v
}

fn join_lines(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

fn fields(line: &[u8]) -> Vec<Vec<u8>> {
    line.split(|&c| c == b',').map(<[u8]>::to_vec).collect()
}

fn join_fields(f: &[Vec<u8>]) -> Vec<u8> {
    f.join(&b","[..])
}

fn num(s: &str) -> Result<usize, String> {
    s.parse().map_err(|_| format!("expected a number, got {s:?}"))
}

/// The 0-based index of the column `name` in the header of `lines`.
fn column(lines: &[Vec<u8>], name: &str) -> Result<usize, String> {
    let header = lines.first().ok_or("no header line")?;
    fields(header).iter().position(|h| h == name.as_bytes()).ok_or_else(|| format!("no column {name:?}"))
}

/// Line `n` (1-based) of `lines`, for editing.
fn line_mut(lines: &mut [Vec<u8>], n: usize) -> Result<&mut Vec<u8>, String> {
    let len = lines.len();
    n.checked_sub(1).and_then(|i| lines.get_mut(i)).ok_or_else(|| format!("no line {n} (the file has {len})"))
}

/// An edit of a file's lines.
type LineEdit<'a> = dyn Fn(&mut Vec<Vec<u8>>) -> Result<(), String> + 'a;

/// Applies `mutation` (see tests/hostile/README.md) to the file `path`.
fn damage(root: &Path, path: &Path, mutation: &str) -> Result<(), String> {
    let (verb, rest) = mutation.split_once(' ').unwrap_or((mutation, ""));
    let read = || std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let write = |b: &[u8]| std::fs::write(path, b).map_err(|e| format!("cannot write {}: {e}", path.display()));
    let remove = || std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()));
    let args = |n: usize| -> Vec<&str> { rest.splitn(n, ' ').collect() };
    let edit_lines = |f: &LineEdit<'_>| -> Result<(), String> {
        let mut lines = split_lines(&read()?);
        f(&mut lines)?;
        write(&join_lines(&lines))
    };
    match verb {
        "write" => write(&expand(rest.as_bytes(), true)?),
        "append" => {
            let mut b = read()?;
            b.extend(expand(rest.as_bytes(), true)?);
            write(&b)
        }
        "none" => Ok(()),
        "empty" => write(b""),
        "delete" => remove(),
        "truncate" => {
            let b = read()?;
            write(&b[..num(rest)?.min(b.len())])
        }
        "cut" => {
            // Lines before LINE, then the first COL bytes of LINE, no newline.
            let a = args(2);
            let (n, c) = (num(a[0])?, num(a.get(1).ok_or("cut LINE BYTES")?)?);
            let lines = split_lines(&read()?);
            let l = lines.get(n - 1).ok_or(format!("no line {n}"))?;
            let mut out = join_lines(&lines[..n - 1]);
            out.extend_from_slice(&l[..c.min(l.len())]);
            write(&out)
        }
        "symlink" => {
            remove()?;
            std::os::unix::fs::symlink(rest, path).map_err(|e| e.to_string())
        }
        "fifo" => {
            remove()?;
            mkfifo(path)
        }
        "mkdir" => {
            remove()?;
            std::fs::create_dir(path).map_err(|e| e.to_string())?;
            std::fs::write(path.join("inside.csv"), "a,b\n1,2\n").map_err(|e| e.to_string())
        }
        "copy" => write(&std::fs::read(root.join(rest)).map_err(|e| format!("cannot read {rest}: {e}"))?),
        "replace" => {
            let (old, new) = rest.split_once(" => ").ok_or("replace OLD => NEW")?;
            let (old, new) = (unescape(old.as_bytes())?, expand(new.as_bytes(), true)?);
            let b = read()?;
            let at = find(&b, &old).ok_or_else(|| format!("{:?} not in the file", String::from_utf8_lossy(&old)))?;
            write(&[&b[..at], &new[..], &b[at + old.len()..]].concat())
        }
        "json-value" => {
            // The value of the first `"KEY": ` replaced by JSON text.
            let (key, new) = rest.split_once(' ').ok_or("json-value KEY JSON")?;
            let b = read()?;
            let pat = format!("\"{key}\": ");
            let start = find(&b, pat.as_bytes()).ok_or_else(|| format!("no key {key:?}"))? + pat.len();
            let end = start + json_value_len(&b[start..]);
            write(&[&b[..start], &expand(new.as_bytes(), true)?[..], &b[end..]].concat())
        }
        "drop-column" | "dup-column" => edit_lines(&|lines| {
            let c = column(lines, rest)?;
            for l in lines.iter_mut() {
                let mut f = fields(l);
                if c < f.len() {
                    if verb == "drop-column" {
                        f.remove(c);
                    } else {
                        let v = f[c].clone();
                        f.insert(c + 1, v);
                    }
                }
                *l = join_fields(&f);
            }
            Ok(())
        }),
        "add-column" => edit_lines(&|lines| {
            let a = args(2);
            let value = expand(a.get(1).unwrap_or(&"").as_bytes(), true)?;
            for (i, l) in lines.iter_mut().enumerate() {
                l.push(b',');
                l.extend_from_slice(if i == 0 { a[0].as_bytes() } else { &value });
            }
            Ok(())
        }),
        "rename-column" => edit_lines(&|lines| {
            let a = args(2);
            let c = column(lines, a[0])?;
            let mut f = fields(&lines[0]);
            f[c] = a.get(1).ok_or("rename-column OLD NEW")?.as_bytes().to_vec();
            lines[0] = join_fields(&f);
            Ok(())
        }),
        "set-cell" => edit_lines(&|lines| {
            let a = args(3);
            let (n, name) = (num(a[0])?, *a.get(1).ok_or("set-cell LINE COLUMN VALUE")?);
            let c = column(lines, name)?;
            let value = expand(a.get(2).unwrap_or(&"").as_bytes(), true)?;
            let l = line_mut(lines, n)?;
            let mut f = fields(l);
            *f.get_mut(c).ok_or(format!("line {n} has no column {name}"))? = value;
            *l = join_fields(&f);
            Ok(())
        }),
        "drop-field" => edit_lines(&|lines| {
            let l = line_mut(lines, num(rest)?)?;
            let mut f = fields(l);
            f.pop();
            *l = join_fields(&f);
            Ok(())
        }),
        "drop-line" => edit_lines(&|lines| {
            line_mut(lines, num(rest)?)?;
            lines.remove(num(rest)? - 1);
            Ok(())
        }),
        "dup-line" => edit_lines(&|lines| {
            let l = line_mut(lines, num(rest)?)?.clone();
            lines.insert(num(rest)?, l);
            Ok(())
        }),
        "set-line" | "insert-line" => edit_lines(&|lines| {
            let a = args(2);
            let n = num(a[0])?;
            let new = expand(a.get(1).unwrap_or(&"").as_bytes(), true)?;
            if verb == "set-line" {
                *line_mut(lines, n)? = new;
            } else if (1..=lines.len() + 1).contains(&n) {
                lines.insert(n - 1, new);
            } else {
                return Err(format!("no line {n}"));
            }
            Ok(())
        }),
        "set-metric" | "drop-metric" => edit_lines(&|lines| {
            let a = args(2);
            let prefix = format!("{},", a[0]);
            let i = lines.iter().position(|l| l.starts_with(prefix.as_bytes())).ok_or(format!("no metric {}", a[0]))?;
            if verb == "drop-metric" {
                lines.remove(i);
            } else {
                lines[i] = [prefix.as_bytes(), &expand(a.get(1).unwrap_or(&"").as_bytes(), true)?].concat();
            }
            Ok(())
        }),
        _ => Err(format!("unknown mutation {verb:?}")),
    }
}

/// The length of the JSON value at the start of `b`: a scalar up to the
/// next `,` or line end, or a bracketed value to its matching bracket.
fn json_value_len(b: &[u8]) -> usize {
    if matches!(b.first(), Some(b'{' | b'[')) {
        let mut depth = 0i32;
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        }
        b.len()
    } else {
        b.iter().position(|&c| c == b',' || c == b'\n').unwrap_or(b.len())
    }
}

fn mkfifo(path: &Path) -> Result<(), String> {
    let ok = Command::new("mkfifo").arg(path).status().map_err(|e| format!("mkfifo: {e}"))?.success();
    if ok { Ok(()) } else { Err(format!("mkfifo {} failed", path.display())) }
}

// ---------------------------------------------------------------------------
// Running and judging
// ---------------------------------------------------------------------------

/// Runs `kadsim args` in `root` and checks the outcome: exit code 2, one
/// stderr line `kadsim: ...` holding every one of `expect`, within the time
/// limit, and no file under `root` created, changed or deleted.
fn judge(root: &Path, args: &[OsString], expect: &[String]) -> Result<(), String> {
    let before = tree(root);
    let Bounded { output, killed } = kadsim_bounded(root, args, LIMIT);
    let after = tree(root);
    let err = String::from_utf8_lossy(&output.stderr);
    if std::env::var_os("KADSIM_HOSTILE_SHOW").is_some() {
        eprintln!("{}", err.trim_end());
    }
    let mut problems = Vec::new();
    if killed {
        problems.push(format!("still running after {} s (killed)", LIMIT.as_secs()));
    }
    match (output.status.code(), std::os::unix::process::ExitStatusExt::signal(&output.status)) {
        (Some(2), _) => {}
        (Some(c), _) => problems.push(format!("exit code {c}, not 2")),
        (None, s) if !killed => problems.push(format!("killed by signal {s:?}")),
        _ => {}
    }
    let lines: Vec<&str> = err.lines().collect();
    if lines.len() != 1 {
        problems.push(format!("{} lines on stderr, not 1", lines.len()));
    }
    if !err.starts_with("kadsim: ") {
        problems.push("stderr does not start with `kadsim: `".into());
    }
    for e in expect {
        if !err.contains(e.as_str()) {
            problems.push(format!("no {e:?} in the message"));
        }
    }
    if expect.is_empty() {
        problems.push("the case expects nothing (give `expect` substrings naming the place)".into());
    }
    problems.extend(changes(&before, &after));
    if problems.is_empty() {
        return Ok(());
    }
    let shown: String = err.trim_end().chars().take(600).collect();
    Err(format!("{}\n      stderr: {}", problems.join("; "), shown.replace('\n', "\n              ")))
}

/// What differs between two pictures of a tree.
fn changes(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) -> Vec<String> {
    let b: BTreeMap<&String, &Vec<u8>> = before.iter().map(|(p, c)| (p, c)).collect();
    let a: BTreeMap<&String, &Vec<u8>> = after.iter().map(|(p, c)| (p, c)).collect();
    let mut out = Vec::new();
    for (p, c) in &a {
        match b.get(p) {
            None => out.push(format!("created {p}")),
            Some(old) if old != c => out.push(format!("changed {p}")),
            _ => {}
        }
    }
    out.extend(b.keys().filter(|p| !a.contains_key(*p)).map(|p| format!("deleted {p}")));
    if out.len() > 6 {
        let n = out.len();
        out.truncate(5);
        out.push(format!("... {} more changes", n - 5));
    }
    out
}

/// Builds the case's scratch directory under `root` and runs it.
fn run_case(case: &Case, fixtures_dir: Option<&Path>, root: &Path) -> Result<(), String> {
    std::fs::create_dir_all(root).unwrap();
    let args: Vec<OsString> = match &case.kind {
        Kind::Scenario { name, body, cmd, generate } => {
            let files = Path::new(CORPUS).join("scenarios/files");
            if files.is_dir() {
                copy_tree(&files, &root.join("files"));
            }
            let input = root.join(name);
            std::fs::write(&input, expand(body, false)?).unwrap();
            for g in generate {
                let (what, rest) = g.split_once(' ').unwrap_or((g, ""));
                let (at, content) = rest.split_once(' ').unwrap_or((rest, ""));
                let target = if at.is_empty() { input.clone() } else { root.join(at) };
                let _ = std::fs::remove_file(&target);
                match what {
                    "empty" => std::fs::write(&target, b"").unwrap(),
                    "fifo" => mkfifo(&target)?,
                    "directory" => {
                        std::fs::create_dir_all(&target).unwrap();
                        std::fs::write(target.join("inside.toml"), "nodes = 40\n").unwrap();
                    }
                    "file" => std::fs::write(&target, expand(content.as_bytes(), true)?).unwrap(),
                    _ => return Err(format!("unknown `generate: {what}` (empty, fifo, directory, file)")),
                }
            }
            let mut cmd = if cmd.is_empty() { vec!["run".to_string()] } else { cmd.clone() };
            cmd.insert(1, name.clone());
            if cmd[0] != "validate" {
                cmd.push("-q".into());
            }
            cmd.into_iter().map(OsString::from).collect()
        }
        Kind::Set { value } => {
            std::fs::copy(Path::new(CORPUS).join("base.toml"), root.join("base.toml")).unwrap();
            let mut a = os(&["run", "base.toml", "-q", "--set"]);
            a.push(OsString::from_vec(value.clone()));
            a
        }
        Kind::Damage { command, file, mutation } => {
            let (needs, args) = command_args(command)?;
            prepare(root, fixtures_dir.expect("fixtures"), &needs);
            if file.is_empty() || mutation.is_empty() {
                return Err("a case is COMMAND | FILE | MUTATION | EXPECT...".into());
            }
            damage(root, &root.join(file), mutation).map_err(|e| format!("corpus error: {e}"))?;
            args.into_iter().map(OsString::from).collect()
        }
    };
    judge(root, &args, &case.expect)
}

/// Runs every case; panics listing every failure (and prints the skipped).
fn run_all(label: &str, cases: &[Case], fixtures_dir: Option<&Path>, scratch: &Path) {
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Some(why) = &case.known {
            skipped.push(format!("  {}: {why}", case.at));
            continue;
        }
        let root = scratch.join(format!("case-{i:03}"));
        match run_case(case, fixtures_dir, &root) {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(&root);
            }
            Err(e) => failures.push(format!("  {} ({}):\n      {e}", case.at, root.display())),
        }
    }
    if !skipped.is_empty() {
        eprintln!("{label}: {} known cases skipped:\n{}", skipped.len(), skipped.join("\n"));
    }
    let ran = cases.len() - skipped.len();
    assert!(
        failures.is_empty(),
        "{label}: {} of {ran} cases failed (binary {}):\n{}",
        failures.len(),
        binary().display(),
        failures.join("\n")
    );
}

/// Each command of `cases` on undamaged fixtures must succeed: the damage,
/// not the setting, is what a case's refusal answers.
fn controls(cases: &[Case], fixtures_dir: &Path, scratch: &Path) -> Vec<String> {
    let mut commands: Vec<&str> = cases
        .iter()
        .filter_map(|c| match &c.kind {
            // A command line hostile itself (no damage) has no control.
            Kind::Damage { command, mutation, .. } if mutation != "none" => Some(command.as_str()),
            _ => None,
        })
        .collect();
    commands.sort();
    commands.dedup();
    let mut failures = Vec::new();
    for (i, command) in commands.iter().enumerate() {
        let Ok((needs, args)) = command_args(command) else { continue };
        let root = scratch.join(format!("control-{i}"));
        prepare(&root, fixtures_dir, &needs);
        let b = kadsim_bounded(&root, &args.iter().map(OsString::from).collect::<Vec<_>>(), LIMIT);
        if !b.output.status.success() {
            failures.push(format!(
                "  control `{command}` on undamaged copies failed: {}",
                String::from_utf8_lossy(&b.output.stderr).trim_end()
            ));
        }
        let _ = std::fs::remove_dir_all(&root);
    }
    failures
}

fn damage_test(file: &str, which: &[&str]) {
    let scratch = tmpdir(&format!("hostile-{file}"));
    let fx = scratch.join("fixtures");
    std::fs::create_dir_all(&fx).unwrap();
    fixtures(&fx, which);
    let cases = damage_cases(file);
    let bad = controls(&cases, &fx, &scratch);
    assert!(bad.is_empty(), "{file}:\n{}", bad.join("\n"));
    run_all(file, &cases, Some(&fx), &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn hostile_scenario_files_are_refused_naming_the_place() {
    let scratch = tmpdir("hostile-scenarios");
    run_all("scenarios/", &scenario_cases(), None, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
fn hostile_set_values_are_refused_naming_the_place() {
    let scratch = tmpdir("hostile-sets");
    run_all("sets.txt", &set_cases(), None, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
fn hostile_result_directories_are_refused_naming_the_place() {
    damage_test("results.txt", &["run", "base", "traced", "sweep", "base-sweep"]);
}

#[test]
fn hostile_shards_are_refused_naming_the_place() {
    damage_test("shards.txt", &["shards", "other"]);
}

#[test]
fn hostile_corpus_holds_at_least_100_cases() {
    let counts = [
        ("scenarios/", scenario_cases().len(), 35),
        ("sets.txt", set_cases().len(), 20),
        ("results.txt", damage_cases("results.txt").len(), 30),
        ("shards.txt", damage_cases("shards.txt").len(), 10),
    ];
    let total: usize = counts.iter().map(|c| c.1).sum();
    for (what, n, least) in counts {
        assert!(n >= least, "{what}: {n} cases, expected at least {least}");
    }
    assert!(total >= 100, "{total} cases in all, expected at least 100");
}

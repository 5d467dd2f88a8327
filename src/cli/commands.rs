//! The report commands (`compare`, `report` of a run, `node`; the sweep
//! commands are in `sweep_cmd`): arguments
//! checked, work done through `crate::report`, outcomes mapped to exit codes
//! (DESIGN.md §7: 1 a regression, 2 bad input, 3 an internal error).

use super::{EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_REGRESSION};
use crate::files::owned::Out;
use crate::report::chart::Style;
use crate::report::compare::{self, Comparison};
use crate::report::gate::Rule;
use crate::report::results::Results;
use crate::report::runset::{self, RunSet};
use crate::report::{markdown, provenance};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kadsim: {msg}");
    ExitCode::from(code)
}

/// Most bootstrap resamples `compare` draws.
const MAX_RESAMPLES: usize = 1_000_000;

/// The run in `dir`, checked whole (every file its manifest lists), its
/// notes printed, after settling what interrupted runs left beside it.
fn read_whole(dir: &Path) -> Result<Results, ExitCode> {
    match crate::files::swap::settle(dir) {
        Ok(n) => super::notes(&n),
        Err(e) => return Err(fail(e.exit_code(), e)),
    }
    let r = Results::read(dir).map_err(|e| fail(EXIT_BAD_INPUT, e))?;
    let notes = crate::report::verify::listed_files(&r).map_err(|e| fail(EXIT_BAD_INPUT, e))?;
    super::notes(&r.notes);
    super::notes(&notes);
    Ok(r)
}

/// The directories of each side of `kadsim compare`: `BASE CAND`, or
/// `--base DIR... --cand DIR...`.
pub fn compare_sides(
    dirs: Vec<PathBuf>,
    base: Vec<PathBuf>,
    cand: Vec<PathBuf>,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), ExitCode> {
    match (dirs.len(), base.is_empty(), cand.is_empty()) {
        (0, false, false) => Ok((base, cand)),
        (2, true, true) => {
            let mut it = dirs.into_iter();
            Ok((it.next().into_iter().collect(), it.collect()))
        }
        (0, _, _) if !base.is_empty() || !cand.is_empty() => Err(fail(
            EXIT_BAD_INPUT,
            format!(
                "compare: give both --base DIR and --cand DIR (missing {})",
                if base.is_empty() { "--base" } else { "--cand" }
            ),
        )),
        (n, true, true) => Err(fail(
            EXIT_BAD_INPUT,
            format!("compare: expected two directories BASE CAND, got {n} (or use --base DIR... --cand DIR...)"),
        )),
        _ => Err(fail(EXIT_BAD_INPUT, "compare: give BASE CAND or --base DIR... --cand DIR..., not both")),
    }
}

/// The `--fail-if` rules of `kadsim compare`, and whether they may judge
/// sides of different settings.
pub struct Gate<'a> {
    /// The rules as given.
    pub rules: &'a [String],
    /// `--allow-different`.
    pub allow_different: bool,
}

/// `kadsim compare`.
pub fn compare(
    base: &[PathBuf],
    cand: &[PathBuf],
    markdown: bool,
    gate: Gate,
    resamples: usize,
    seed: u64,
    charts: Option<(&Path, bool, &Style)>,
) -> ExitCode {
    if !(1..=MAX_RESAMPLES).contains(&resamples) {
        return fail(EXIT_BAD_INPUT, format!("--resamples {resamples}: expected 1 to {MAX_RESAMPLES}"));
    }
    let rules: Vec<Rule> = match gate.rules.iter().map(|r| r.parse()).collect::<Result<_, String>>() {
        Ok(r) => r,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    for dir in base.iter().chain(cand) {
        match crate::files::swap::settle(dir) {
            Ok(n) => super::notes(&n),
            Err(e) => return fail(e.exit_code(), e),
        }
    }
    let (b, c): (RunSet, RunSet) = match (runset::read_set(base, "base"), runset::read_set(cand, "candidate")) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => return fail(EXIT_BAD_INPUT, e),
    };
    for r in b.runs.iter().chain(&c.runs) {
        super::notes(&r.notes);
    }
    let cmp = compare::compare(&b, &c, resamples, seed);
    if !rules.is_empty() && !cmp.settings.is_empty() && !gate.allow_different {
        return fail(
            EXIT_BAD_INPUT,
            format!(
                "--fail-if: base and candidate are runs of different settings ({}); a gate judges a change of kadsim on one scenario: give --allow-different to judge it across them",
                crate::report::settings::summary(&cmp.settings)
            ),
        );
    }
    // Every rule is checked before anything is printed, so a typo fails fast.
    let verdicts = match rules.iter().map(|r| r.check(&cmp)).collect::<Result<Vec<_>, String>>() {
        Ok(v) => v,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    // The place for the charts is checked (and claimed) before anything is printed too.
    let out = match charts {
        Some((out, force, style)) => {
            let sides = b.runs.iter().map(|r| (r, "base")).chain(c.runs.iter().map(|r| (r, "candidate")));
            let mut source = provenance::of_runs(sides, "comparison charts");
            source.label = format!("comparison charts of {} vs {}", cmp.labels.0, cmp.labels.1);
            let names: Vec<String> = compare::CHART_STEMS
                .iter()
                .flat_map(|stem| style.formats.iter().map(move |f| format!("{stem}.{}", f.extension())))
                .collect();
            match Out::open(out, source, force).and_then(|o| o.claim_all(names.iter().map(String::as_str)).map(|_| o)) {
                Ok(o) => Some((o, style)),
                Err(e) => return fail(e.exit_code(), e),
            }
        }
        None => None,
    };
    // Once each: in a Markdown document, or else on stderr.
    if !markdown {
        for w in &cmp.warnings {
            eprintln!("kadsim: warning: {w}");
        }
    }
    put!("{}", cmp.render(markdown));
    if !verdicts.is_empty() {
        say!("");
        for (v, r) in verdicts.iter().zip(&rules) {
            say!("{}{}", if markdown { "- " } else { "" }, v.line(r));
        }
    }
    // The charts come last, so that a failure to draw them never hides a verdict.
    let mut chart_error = None;
    if let Some((out, style)) = out {
        super::notes(&out.notes);
        match Comparison::charts(&b, &c, &cmp.labels, &out, style).map_err(|e| (e.exit_code(), e.to_string())) {
            Ok(files) => {
                say!("");
                let first = style.formats[0].extension();
                for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == first)) {
                    say!("chart: {}", f.display());
                }
            }
            Err(e) => chart_error = Some(e),
        }
    }
    let failed = verdicts.iter().filter(|v| v.failed).count();
    if let Some((_, e)) = &chart_error {
        eprintln!("kadsim: {e}");
    }
    if failed > 0 {
        eprintln!("kadsim: {failed} of {} thresholds crossed: regression", verdicts.len());
        return ExitCode::from(EXIT_REGRESSION);
    }
    if let Some((code, _)) = chart_error {
        return ExitCode::from(code);
    }
    ExitCode::SUCCESS
}

/// `kadsim report`.
pub fn report(dir: &Path, force: bool, style: &Style) -> ExitCode {
    let r = match read_whole(dir) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let out = match Out::open(dir, provenance::of_run(&r, "the report and charts"), force) {
        Ok(o) => o,
        Err(e) => return fail(e.exit_code(), e),
    };
    super::notes(&out.notes);
    match markdown::write_report(&r, &out, style) {
        Ok(path) => {
            say!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.exit_code(), e),
    }
}

fn socket_addr(s: &str, what: &str) -> Result<std::net::SocketAddr, ExitCode> {
    use std::net::ToSocketAddrs;
    s.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.find(std::net::SocketAddr::is_ipv4))
        .ok_or_else(|| fail(EXIT_BAD_INPUT, format!("{what} '{s}': expected an IPv4 ip:port, e.g. 127.0.0.1:6881")))
}

fn node_id(s: &str, what: &str) -> Result<crate::kad::NodeId, ExitCode> {
    crate::kad::NodeId::from_hex(s).map_err(|_| fail(EXIT_BAD_INPUT, format!("{what} '{s}': expected 40 hex digits")))
}

/// `kadsim node`; `limits` are the admission limits per bucket: (per IP, per subnet).
pub fn node(
    listen: &str,
    bootstrap: &[String],
    id: Option<&str>,
    seed: Option<u64>,
    limits: (u32, u32),
    profile: &str,
    read_only: bool,
) -> ExitCode {
    use crate::net::{Node, NodeConfig, repl};
    use std::io::IsTerminal;
    let parsed = (|| {
        let listen = socket_addr(listen, "--listen")?;
        // --bootstrap ADDR [ID], repeatable: an ID (40 hex digits) belongs to the address before it.
        let mut boot: Vec<(std::net::SocketAddr, Option<crate::kad::NodeId>)> = Vec::new();
        for tok in bootstrap {
            let is_id = tok.len() == 40 && tok.bytes().all(|b| b.is_ascii_hexdigit());
            match boot.last_mut() {
                Some((_, id @ None)) if is_id => *id = Some(node_id(tok, "--bootstrap ID")?),
                _ => boot.push((socket_addr(tok, "--bootstrap")?, None)),
            }
        }
        let id = id.map(|i| node_id(i, "--id")).transpose()?;
        let mut cfg = NodeConfig { listen, bootstrap: boot, id, seed, ..NodeConfig::default() };
        cfg.kad.max_per_ip_per_bucket = limits.0 as usize;
        cfg.kad.max_per_subnet_per_bucket = limits.1 as usize;
        let named: crate::scenario::Profile =
            serde::Deserialize::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(profile))
                .map_err(|_| {
                    fail(
                        EXIT_BAD_INPUT,
                        format!("--profile '{profile}': expected paper or mainline (a real node speaks BEP 5)"),
                    )
                })?;
        cfg.kad = named.node_config(&cfg.kad).ok_or_else(|| {
            fail(
                EXIT_BAD_INPUT,
                format!("--profile '{profile}': 256-bit IDs; a real node speaks BEP 5, whose IDs are 160 bits"),
            )
        })?;
        // BEP 43: answer nothing, flag every query read-only.
        cfg.kad.read_only = read_only;
        Ok(cfg)
    })();
    let cfg = match parsed {
        Ok(c) => c,
        Err(code) => return code,
    };
    let joining: Vec<String> = cfg.bootstrap.iter().map(|b| b.0.to_string()).collect();
    let node = match Node::start(cfg) {
        Ok(n) => n,
        Err(e) => return fail(EXIT_BAD_INPUT, format!("cannot start the node: {e}")),
    };
    let mode = if read_only { " (read-only, BEP 43)" } else { "" };
    say!("kadsim node {} listening on {}{mode}", node.id(), node.local_addr());
    if !joining.is_empty() {
        let through = joining.join(" or ");
        if node.bootstrapped() {
            say!("joined through {through}: {} contacts", node.table().map_or(0, |t| t.len()));
        } else {
            say!("could not join through {through}; running alone");
        }
    }
    say!("type help for the commands");
    let stdin = std::io::stdin();
    let prompt = stdin.is_terminal();
    let result = repl::run(&node, stdin.lock(), std::io::stdout(), prompt);
    node.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of the answers went away: nothing more to say.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_INTERNAL, format!("the prompt's input or output: {e}")),
    }
}

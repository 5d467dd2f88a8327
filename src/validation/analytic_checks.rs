//! The analytic section of the validation report (issue 22, item 3): each
//! expectation of [`super::analytic`] against a kadsim run in the setting
//! that makes it exact (or whose approximation the text states), with its
//! derivation in the report.
//!
//! 1. Routing-table size on oracle-filled tables (§2.2, §2.4, §4.2).
//! 2. RPC timeouts, lookup success and found fraction under independent loss
//!    without resends (§2.3).
//! 3. Stale contacts under exponential sessions with no evidence for the
//!    eviction rules of §2.2 and §4.1 (no messages).
//! 4. A pair's survival on its k replicas without republishing (§2.3, §2.5).
//! 5. Lookup messages as the sum of queries and replies (§2.3).
//!
//! Tolerances come from the sampling error: four standard errors where the
//! model gives it (binomial counts, the survival model's covariances), the
//! 99.9% Student-t interval over `REPLICAS` seeds where it must be
//! measured (table sizes, stale shares), zero for identities.

use super::analytic::{self, Layout};
use super::check::{Check, Depth, Lab, Section, Tolerance, number};
use crate::report::chart::{Chart, Mark, Series, Shape, log10_x};
use crate::report::ops::Op;
use crate::report::results::Results;
use crate::report::stats::student_t_quantile;
use std::path::Path;

/// Runs every analytic check and returns the section. Every run here is
/// small and most are sparse in events, so each runs on one thread whatever
/// `lab.threads` says: two threads took 2–5 times longer on this section's
/// runs (measured on 2 cores: the parallel engine pays per window, and these
/// runs have few events per window). Results do not depend on the thread
/// count.
pub fn checks(lab: &Lab) -> Result<Section, String> {
    let lab = &Lab { threads: 1, ..*lab };
    let mut s =
        Section { title: "Analytic expectations".into(), text: intro(), checks: Vec::new(), charts: Vec::new() };
    table_sizes(lab, &mut s)?;
    loss(lab, &mut s)?;
    stale(lab, &mut s)?;
    survival(lab, &mut s)?;
    messages(lab, &mut s)?;
    Ok(s)
}

/// The section's opening paragraph.
fn intro() -> String {
    format!(
        "Five results that follow from the paper's rules by a short argument, each \
computed by `src/validation/analytic.rs` (which never calls the protocol core) and compared with \
a kadsim run in a setting where the argument holds. Tolerances come from the sampling error of what \
the runs measure, as each subsection says: four standard errors where the model gives the error \
(binomial counts), the 99.9% Student-t interval over {REPLICAS} seeds where the error must be \
measured, zero for identities.\n\n"
    )
}

fn check(
    name: impl Into<String>,
    what: impl Into<String>,
    expected: f64,
    measured: f64,
    tolerance: Tolerance,
) -> Check {
    Check { name: name.into(), what: what.into(), expected, measured, tolerance }
}

/// A CSV file of a run, read by column name (for columns `Results` does not keep).
struct Csv {
    header: Vec<String>,
    rows: Vec<csv::StringRecord>,
}

impl Csv {
    fn read(path: &Path) -> Result<Csv, String> {
        let mut r = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let header = r.headers().map_err(|e| format!("{}: {e}", path.display()))?.iter().map(String::from).collect();
        let rows = r.records().collect::<Result<Vec<_>, _>>().map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Csv { header, rows })
    }

    /// The column `name`, each cell parsed as a number (empty: NaN).
    fn numbers(&self, name: &str) -> Result<Vec<f64>, String> {
        let i = self.header.iter().position(|h| h == name).ok_or_else(|| format!("no column {name}"))?;
        Ok(self.rows.iter().map(|r| r.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN)).collect())
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn sd(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0)).sqrt()
}

/// The scenario lines every run here shares: an oracle-filled network, a
/// constant 50 ms one-way latency and no workload unless `workload` says.
fn scenario(name: &str, nodes: u64, duration: &str, sample: &str, protocol: &str, rest: &str) -> String {
    format!(
        "name = \"{name}\"\nseed = 1\nnodes = {nodes}\nduration = \"{duration}\"\nwarmup = \"0s\"\n\
         sample_interval = \"{sample}\"\n[protocol]\n{protocol}\n[bootstrap]\nmode = \"oracle\"\n\
         [network.latency]\nmodel = \"constant\"\nvalue = \"50ms\"\n{rest}"
    )
}

const NO_WORK: &str = "[workload]\nlookup_rate = 0\nput_rate = 0\nget_rate = 0\n";

/// Seeds of each replicated setting.
const REPLICAS: u64 = 8;

/// The half-width of the two-sided 99.9% Student-t interval of the mean of
/// `xs`, in units of the data: t(0.9995, R − 1)·sd/√R.
fn t_halfwidth(xs: &[f64]) -> f64 {
    let r = xs.len() as f64;
    student_t_quantile(0.9995, r - 1.0) * sd(xs) / r.sqrt()
}

/// Runs `toml` once per seed 1..=[`REPLICAS`], as `name-sSEED`.
fn replicas(lab: &Lab, name: &str, toml: &str) -> Result<Vec<Results>, String> {
    let jobs: Vec<(String, &str, Vec<String>)> =
        (1..=REPLICAS).map(|seed| (format!("{name}-s{seed}"), toml, vec![format!("seed={seed}")])).collect();
    lab.simulate_all(&jobs)
}

/// 1. The mean routing-table size on oracle tables.
fn table_sizes(lab: &Lab, s: &mut Section) -> Result<(), String> {
    let mut runs: Vec<(u64, u64, u32, Layout, u32)> = vec![
        (1_000, 20, 1, Layout::Tree, 160),
        (10_000, 20, 1, Layout::Tree, 160),
        (2_000, 8, 1, Layout::Tree, 160),
        (5_000, 20, 3, Layout::Tree, 160),
        (3_000, 16, 1, Layout::LogDistance, 256),
    ];
    if lab.depth == Depth::Full {
        runs.extend([(100_000, 20, 1, Layout::Tree, 160), (100_000, 20, 3, Layout::Tree, 160)]);
    }
    let mut rows = String::new();
    let mut measured_points: Vec<TablePoint> = Vec::new();
    let mut residuals: Vec<(String, f64, f64, f64)> = Vec::new();
    for &(n, k, b, layout, bits) in &runs {
        let lay = match layout {
            Layout::Tree => "tree",
            Layout::LogDistance => "log_distance",
        };
        let name = format!("analytic-table-n{n}-k{k}-b{b}-{lay}");
        let protocol = format!("k = {k}\nb = {b}\nid_bits = {bits}\nbuckets = \"{lay}\"");
        let means: Vec<f64> = replicas(lab, &name, &scenario(&name, n, "1s", "1s", &protocol, NO_WORK))?
            .iter()
            .map(|r| r.metric("end.rt_size.mean").unwrap_or(f64::NAN))
            .collect();
        let measured = mean(&means);
        let tol = t_halfwidth(&means);
        let expected = analytic::expected_table_size(n, k, b, layout, bits);
        s.checks.push(check(
            format!("analytic.table.n{n}.k{k}.b{b}.{lay}"),
            format!("mean routing-table size, oracle tables, n = {n}, k = {k}, b = {b}, {lay}, {bits} bits"),
            expected,
            measured,
            Tolerance::Abs(tol),
        ));
        rows.push_str(&format!(
            "| {n} | {k} | {b} | {lay} | {:.3} | {:.3} | {:.3} ({}%) | {:.3} |\n",
            expected,
            measured,
            tol,
            number(100.0 * tol / expected),
            sd(&means),
        ));
        measured_points.push(((k, b, layout), (n as f64, measured, tol)));
        residuals.push((
            match layout {
                Layout::Tree => format!("k = {k}, b = {b}"),
                Layout::LogDistance => format!("k = {k}, log-distance"),
            },
            n as f64,
            100.0 * (measured - expected) / expected,
            100.0 * tol / expected,
        ));
    }
    s.text.push_str(&format!(
        "### Routing-table size on ideal tables\n\n\
Setting: `bootstrap.mode = \"oracle\"` fills every table as the core's own splitting would hold it \
once every node has been seen (`src/sim/bootstrap.rs`); no workload, a one-second run, so the \
tables are read as built. Measured: `summary.csv` `end.rt_size.mean`, the mean over the n nodes, \
averaged over {REPLICAS} seeds.\n\n\
Derivation. For a node x let m = n − 1, C_l the number of other nodes sharing exactly l leading \
bits with x (the paper's bucket i = 159 − l) and N_l = C_l + C_(l+1) + … those sharing at least l. \
IDs are uniform, so (C_0, C_1, …) is multinomial with P(share exactly l) = 2^−(l+1): C_l ~ \
Binomial(m, 2^−(l+1)), and given C_l = c, N_(l+1) ~ Binomial(m − c, 2^−(l+1)/(1 − 2^−(l+1))). kadsim's \
tree (`protocol.buckets = \"tree\"`, §2.4) keeps whole the smallest subtree around x that holds at \
least k others (depth r = max{{d : N_d ≥ k}}); a level l lies outside it exactly when N_(l+1) ≥ k, and \
there its C_l nodes are cut into 2^s buckets of k at most, s = b·⌈(l+1)/b⌉ − (l+1) (§4.2: a bucket whose \
depth is not a multiple of b splits). So\n\n\
E[size] = m − Σ_l Σ_(c>k) P(C_l = c) · h_l(c) · P(N_(l+1) ≥ k | C_l = c),  \
h_l(c) = 2^s·E[(Binomial(c, 2^−s) − k)⁺],\n\n\
the contacts lost to full buckets outside the kept subtree. With one bucket per log-distance \
(`\"log_distance\"`, only the own bucket splits) it is Σ_l E[min(C_l, k)], the textbook formula; the \
tree's relaxed rule keeps about 0.4–0.8 contacts more. The sums are exact up to a window of ±12 \
standard deviations (10⁻⁹ relative). The formula agrees with a brute-force Monte Carlo of the rules \
(unit tests) and, over 20–40 seeds per setting (n from 1000 to 100,000), with kadsim's mean to \
within 1.5 standard errors.\n\n\
Tolerance. The n sizes of one network are not independent (neighbours share subtrees, so a dense \
region raises several sizes at once), and how much that widens the spread of the network mean \
depends on n, k and b: over 20–40 seeds it was 1.2–2.6 times sd/√n for n = 1000 to 100,000 with \
b = 1, and 6.5 times at n = 100,000 with b = 3 (probably because there the depth-12 subtrees at \
which b = 3 stops splitting hold about k nodes each, where min(count, k) varies most). So the spread is measured, not assumed: each setting runs {REPLICAS} seeds, kadsim's value \
is the mean of their network means and the tolerance the half-width of its 99.9% Student-t \
interval, t(0.9995, {}) = {} standard errors of that mean, the standard error from the seeds' \
standard deviation (last column). Tables of buckets of k − 1 would hold 3.9–11% fewer contacts \
and fail every one of these checks.\n\n\
| n | k | b | layout | expected | kadsim | tolerance | sd over seeds |\n|---|---|---|---|---|---|---|---|\n{rows}\n",
        REPLICAS - 1,
        number(student_t_quantile(0.9995, (REPLICAS - 1) as f64)),
    ));
    s.charts.push(("analytic_table_size".into(), table_chart(&measured_points)));
    s.charts.push(("analytic_table_residual".into(), residual_chart(&residuals)));
    Ok(())
}

/// A table-size run for the chart: (k, b, layout) and (n, kadsim's mean, tolerance).
type TablePoint = ((u64, u32, Layout), (f64, f64, f64));

/// Table size against n: the formula's curves and kadsim's points.
fn table_chart(points: &[TablePoint]) -> Chart {
    let curves: [(u64, u32, Layout, u32, &str); 4] = [
        (20, 1, Layout::Tree, 160, "k = 20, b = 1"),
        (20, 3, Layout::Tree, 160, "k = 20, b = 3"),
        (8, 1, Layout::Tree, 160, "k = 8, b = 1"),
        (16, 1, Layout::LogDistance, 256, "k = 16, log-distance"),
    ];
    let grid: Vec<u64> = (8..=24).map(|i| 10f64.powf(f64::from(i) / 4.0).round() as u64).collect();
    let mut series = Vec::new();
    for (i, &(k, b, layout, bits, label)) in curves.iter().enumerate() {
        let line: Vec<(f64, f64)> =
            grid.iter().map(|&n| (n as f64, analytic::expected_table_size(n, k, b, layout, bits))).collect();
        series.push(Series::new(format!("formula, {label}"), log10_x(&line), Mark::Line { dots: false }).styled_as(i));
        let (xs, errs): (Vec<_>, Vec<_>) = points
            .iter()
            .filter(|((pk, pb, pl), _)| (*pk, *pb, *pl) == (k, b, layout))
            .map(|(_, (n, m, tol))| ((*n, *m), (m - tol, m + tol)))
            .unzip();
        if !xs.is_empty() {
            series.push(
                Series::new(format!("kadsim, {label}"), log10_x(&xs), Mark::Points { shape: Shape::Circle })
                    .with_errors(errs)
                    .styled_as(i),
            );
        }
    }
    Chart {
        title: "Routing-table size on ideal tables".into(),
        x_label: "nodes".into(),
        y_label: "contacts per node (mean)".into(),
        series,
        log_x: true,
        x_pad: true,
        note: Some("lines: binomial-occupancy formula; points: kadsim with ±tolerance".into()),
        ..Chart::default()
    }
}

/// kadsim's mean table size minus the formula's, in % of the formula,
/// against n: one series per (k, b, layout), with ± the tolerance.
fn residual_chart(runs: &[(String, f64, f64, f64)]) -> Chart {
    let mut labels: Vec<&str> = Vec::new();
    for r in runs {
        if !labels.contains(&r.0.as_str()) {
            labels.push(&r.0);
        }
    }
    let lo = runs.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let hi = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    let reach = 1.15 * runs.iter().map(|r| r.2.abs() + r.3).fold(0.1, f64::max);
    let shapes = [Shape::Circle, Shape::Triangle, Shape::Square, Shape::Diamond, Shape::Cross];
    let series = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let mine: Vec<&(String, f64, f64, f64)> = runs.iter().filter(|r| r.0 == *label).collect();
            let points: Vec<(f64, f64)> = mine.iter().map(|r| (r.1, r.2)).collect();
            let errors = mine.iter().map(|r| (r.2 - r.3, r.2 + r.3)).collect();
            Series::new(*label, log10_x(&points), Mark::Points { shape: shapes[i % shapes.len()] })
                .with_errors(errors)
                .styled_as(i)
        })
        .collect();
    Chart {
        title: "Routing-table size: kadsim against the formula".into(),
        x_label: "nodes".into(),
        y_label: "(kadsim − formula) / formula (%)".into(),
        series,
        hline: Some((0.0, "formula".into())),
        log_x: true,
        x_range: Some((lo.log10() - 0.2, hi.log10() + 0.2)),
        y_range: Some((-reach, reach)),
        note: Some("error bars: ± the check's tolerance".into()),
        ..Chart::default()
    }
}

/// 2. Timeouts and success under independent loss.
fn loss(lab: &Lab, s: &mut Section) -> Result<(), String> {
    let p = 0.1;
    let (n, rate) = match lab.depth {
        Depth::Quick => (2_000, 0.01),
        Depth::Full => (2_000, 0.05),
    };
    let name = "analytic-loss";
    let protocol = "alpha = 1\nrpc_timeout = \"500ms\"\nop_timeout = \"10m\"\nrefresh_interval = \"1000h\"";
    let rest = format!(
        "[network.loss]\nmodel = \"independent\"\nrate = {p}\n[workload]\nlookup_rate = {rate}\nput_rate = 0\nget_rate = 0\n"
    );
    let r = lab.simulate(name, &scenario(name, n, "30m", "5m", protocol, &rest), &[])?;
    let ops: Vec<&Op> = r.ops_of("find_node").collect();
    let lookups = ops.len() as f64;
    let sum = |f: fn(&Op) -> u32| ops.iter().map(|o| f64::from(f(o))).sum::<f64>();
    let (queried, responses, timeouts) = (sum(|o| o.queried), sum(|o| o.responses), sum(|o| o.timeouts));
    let open = queried - responses - timeouts;
    let sent = r.metric("msgs.sent").unwrap_or(f64::NAN);
    let lost = r.metric("msgs.lost").unwrap_or(f64::NAN);
    let q = analytic::rpc_failure(p);
    let bound = analytic::lookup_success_bound(p);
    let bound_t = number(bound);
    let success = ops.iter().filter(|o| o.success && !o.deadline_hit).count() as f64 / lookups;
    let found: Vec<f64> = ops.iter().filter_map(|o| o.found_fraction).collect();
    s.checks.push(check(
        "analytic.loss.datagrams",
        format!("share of datagrams lost, independent loss p = {p}"),
        p,
        lost / sent,
        Tolerance::Abs(4.0 * (p * (1.0 - p) / sent).sqrt()),
    ));
    s.checks.push(check(
        "analytic.loss.open_queries",
        "queries unresolved when a lookup ends, α = 1",
        0.0,
        open,
        Tolerance::Abs(0.0),
    ));
    s.checks.push(check(
        "analytic.loss.rpc_timeouts",
        format!("timeouts per query, p = {p}: 1 − (1 − p)²"),
        q,
        timeouts / queried,
        Tolerance::Abs(4.0 * (q * (1.0 - q) / queried).sqrt()),
    ));
    s.checks.push(check(
        "analytic.loss.success",
        format!("node-lookup success, p = {p}: (1 − p)² (closest node answers)"),
        bound,
        success,
        Tolerance::Abs(4.0 * (bound * (1.0 - bound) / lookups).sqrt()),
    ));
    s.checks.push(check(
        "analytic.loss.found_fraction",
        format!("mean found fraction, p = {p}: (1 − p)²"),
        bound,
        mean(&found),
        Tolerance::Abs(4.0 * sd(&found) / (found.len() as f64).sqrt()),
    ));
    s.text.push_str(&format!(
        "### Timeouts and success under independent loss\n\n\
Setting: {n} oracle nodes, no churn, `network.loss.model = \"independent\"` with rate p = {p}, \
constant 50 ms latency (round trip 100 ms) against `rpc_timeout` = 500 ms, so that a reply that \
is not lost always arrives in time; α = 1; {lookups} node lookups (`lookup_rate` = {rate} per node \
per second for 30 minutes); no refresh, put or get, so every datagram is a lookup's.\n\n\
Derivation. The loss model drops each datagram independently with probability p \
(`src/sim/loss.rs`): the share of datagrams lost is p, with standard error √(p(1 − p)/sent). kadsim \
sends each request once and never resends it; an RPC times out when its request is lost or, the \
request delivered, its reply is: q = p + (1 − p)p = 1 − (1 − p)² = {}. Whether a query is lost is \
independent of everything before it was sent, so E[Σ timeouts] = q·E[Σ queries] (optional stopping) \
and timeouts per query estimate q with standard error √(q(1 − q)/Σ queries) — provided every query \
is resolved before its lookup ends: with α = 1 the one query in flight is among the k closest \
candidates when sent and nothing can push it out before it resolves (answers come only from it), so \
the lookup cannot end with a query open (checked: `queried` = `responses` + `timeouts` in every \
row). With α = 3 a lookup can end with queries open, and those are more often lost ones (an \
answer comes after 100 ms, a timeout after 500), so timeouts per resolved query would run low.\n\n\
A node lookup succeeds when the closest node that answered it is the true closest node c (§2.3's \
result is the closest nodes that answered). A timed-out candidate is never queried again \
(`src/kad/lookup.rs`), so P(success) = (1 − q)·P(c is queried) ≤ (1 − p)² = {bound_t}; the \
termination rule (each of the k closest candidates not failed has answered) queries c as soon as c \
is known, and with oracle tables c is in the table of every node near the target, so the bound is \
tight unless the lookup never learns c. Each of the true k closest is in the same position, so the \
mean found fraction has the same bound. These two are upper bounds checked two-sided: a lookup \
that missed c often would show as a shortfall. In development, one run of 179,073 lookups gave \
success 0.8101 against 0.81 and found fraction 0.8103, and ten more seeds of 36,000 lookups pooled \
0.8088, 1.8 standard errors below 0.81: the lookup may miss c in one or two lookups in a thousand, \
below what one run resolves. Tolerances: 4 standard errors, binomial for the \
success rate, the sample standard deviation of the found fraction for its mean.\n\n\
Measured: {} of {} datagrams lost; {} timeouts of {} queries ({} open); success {}; mean found \
fraction {}.\n\n",
        number(q),
        number(lost),
        number(sent),
        number(timeouts),
        number(queried),
        number(open),
        number(success),
        number(mean(&found)),
    ));
    Ok(())
}

/// 3. The share of stale contacts when nodes crash after exponential sessions.
fn stale(lab: &Lab, s: &mut Section) -> Result<(), String> {
    let n: u64 = match lab.depth {
        Depth::Quick => 5_000,
        Depth::Full => 50_000,
    };
    let mean_s = 3600.0;
    let name = "analytic-stale";
    let rest = format!(
        "[churn]\nmodel = \"distributions\"\nsession = {{ dist = \"exponential\", mean = \"1h\" }}\n\
         downtime = {{ dist = \"exponential\", mean = \"{NEVER_H}h\" }}\nleave = \"crash\"\n{NO_WORK}"
    );
    let runs = replicas(lab, name, &scenario(name, n, "2h", "10m", "refresh_interval = \"1000h\"", &rest))?;
    let mut times = Vec::new();
    // By sample time: each seed's share.
    let mut by_time: Vec<Vec<f64>> = Vec::new();
    for r in &runs {
        let ts = Csv::read(&r.dir.join("timeseries.csv"))?;
        times = ts.numbers("time_s")?;
        for (i, x) in ts.numbers("stale_contacts_share")?.into_iter().enumerate() {
            if by_time.len() <= i {
                by_time.push(Vec::new());
            }
            by_time[i].push(x);
        }
    }
    let total = |metric: &str| runs.iter().map(|r| r.metric(metric).unwrap_or(f64::NAN)).sum::<f64>();
    let (sent, joins) = (total("msgs.sent"), total("churn.joins"));
    s.checks.push(check(
        "analytic.stale.no_messages",
        "messages sent (no workload, refresh after the run): no evidence for eviction",
        0.0,
        sent,
        Tolerance::Abs(0.0),
    ));
    let mut table = String::new();
    let mut pts = Vec::new();
    let mut errs = Vec::new();
    for (&t, shares) in times.iter().zip(&by_time) {
        let (e, m, tol) = (analytic::stale_share(t, mean_s, n), mean(shares), t_halfwidth(shares));
        let q = 1.0 - (-t / mean_s).exp();
        let ratio = sd(shares) / (q * (1.0 - q) / n as f64).sqrt();
        table.push_str(&format!(
            "| {} | {:.4} | {:.4} | ± {:.4} | {} |\n",
            number(t / 3600.0),
            e,
            m,
            tol,
            number(ratio)
        ));
        pts.push((t / 3600.0, m));
        errs.push((m - tol, m + tol));
        if [1800.0, 3600.0, 7200.0].contains(&t) {
            s.checks.push(check(
                format!("analytic.stale.t{}m", t / 60.0),
                format!("stale contact share at {} min, exponential sessions of 1 h, no rejoin", t / 60.0),
                e,
                m,
                Tolerance::Abs(tol),
            ));
        }
    }
    s.text.push_str(&format!(
        "### Stale contacts under exponential sessions\n\n\
Setting: {n} oracle nodes, all up at time 0; each crashes (`leave = \"crash\"`) after an \
exponential session of mean μ = 1 h and stays down (downtime of mean {NEVER_H} h: the chance that \
any node comes back within the 2-hour run is below n·2 h/{NEVER_H} h = {}, and a return would send \
join messages; the runs saw {} joins); no workload and `refresh_interval` beyond the run, so no \
message is sent ({} were: the first check). {REPLICAS} seeds. Measured: `timeseries.csv` \
`stale_contacts_share` every 10 minutes, the mean over the nodes up of the share of their contacts \
whose node is down, averaged over the seeds.\n\n\
Derivation. kadsim removes a contact only on evidence: with lazy eviction (§4.1, the default) after \
`stale_limit` failed RPCs in a row and a replacement waiting, with ping eviction (§2.2) when a \
newcomer for its full bucket arrives and the contact fails a PING (`src/kad/routing.rs`). Without \
messages neither happens and no contact is added, so every table keeps its time-0 contacts and a \
contact is stale exactly when its node is down. Each node is down at t independently with \
probability q = 1 − e^(−t/μ), independent of the tables (drawn at time 0) and of whether the \
observer is up. Averaging over the nodes up (each weighing the same, as the column does) and \
leaving out the networks with nobody up gives exactly (`analytic::stale_share`)\n\n\
E[share(t)] = q · n/(n − 1) · (1 − q^(n−1))/(1 − q^n),\n\n\
q up to a relative 1/(n − 1). With rejoins a renewal argument would give the two-state chain's \
μ_down/(μ_up + μ_down)·(1 − e^(−(1/μ_up + 1/μ_down)t)) if tables never changed, but kadsim gives a \
returning node a fresh table filled by its join (mostly live contacts) and its join traffic \
reaches other tables, so that setting is not exact for kadsim and is not checked.\n\n\
Tolerance: the half-width of the 99.9% Student-t interval of the mean over the seeds (their \
standard deviation over √(q(1 − q)/n), the binomial error of n independent contacts, is in the \
last column).\n\n\
| hours | expected | kadsim | tolerance | sd / √(q(1−q)/n) |\n|---|---|---|---|---|\n{table}\n",
        number(n as f64 * 2.0 / NEVER_H as f64),
        number(joins),
        number(sent),
    ));
    let curve: Vec<(f64, f64)> = (0..=48)
        .map(|i| {
            let t = f64::from(i) * 150.0;
            (t / 3600.0, analytic::stale_share(t, mean_s, n))
        })
        .collect();
    s.charts.push((
        "analytic_stale_share".into(),
        Chart {
            title: "Stale contacts under exponential sessions (μ = 1 h, no rejoin)".into(),
            x_label: "time (h)".into(),
            y_label: "share of contacts whose node is down".into(),
            series: vec![
                Series::new("formula: q·n/(n−1)…, q = 1 − e^(−t/μ)", curve, Mark::Line { dots: false }),
                Series::new(
                    format!("kadsim, {n} nodes, mean of {REPLICAS} seeds"),
                    pts,
                    Mark::Points { shape: Shape::Circle },
                )
                .with_errors(errs),
            ],
            y_range: Some((0.0, 1.0)),
            legend_low: true,
            note: Some("points: timeseries.csv stale_contacts_share with ±tolerance".into()),
            ..Chart::default()
        },
    ));
    Ok(())
}

/// A downtime mean (hours) so long that no node comes back within a run.
const NEVER_H: u64 = 100_000_000;

/// 4. A pair's survival without republishing.
fn survival(lab: &Lab, s: &mut Section) -> Result<(), String> {
    let n: u64 = match lab.depth {
        Depth::Quick => 1_000,
        Depth::Full => 5_000,
    };
    let (k, mean_s) = (8u32, 1800.0);
    let name = "analytic-survival";
    let protocol = format!(
        "k = {k}\nrefresh_interval = \"5m\"\nstale_limit = 1\nrepublish_interval = \"1000h\"\n\
         expire_after = \"2000h\"\npublisher_republish_interval = \"2000h\"\ncache_on_get = false\n\
         replicate_to_new_nodes = false\nrpc_timeout = \"500ms\"\nop_timeout = \"10m\""
    );
    let rest = format!(
        "[churn]\nmodel = \"distributions\"\nsession = {{ dist = \"exponential\", mean = \"30m\" }}\n\
         downtime = {{ dist = \"exponential\", mean = \"{NEVER_H}h\" }}\nleave = \"crash\"\n\
         [workload]\nlookup_rate = 0.0002\nput_rate = 0.0005\nget_rate = 0.005\nkeys = 1000000\n"
    );
    let r = lab.simulate(name, &scenario(name, n, "1h", "10m", &protocol, &rest), &[])?;
    let gets = survival_gets(&r, mean_s);
    let all = rate_and_expectation(&gets);
    let (lo, hi) = (0.75, 1.25);
    let around: Vec<SurvivalGet> = gets.iter().copied().filter(|(x, ..)| (lo..hi).contains(x)).collect();
    let at_t = rate_and_expectation(&around);
    let lookups: Vec<&Op> = r.ops_of("find_node").collect();
    let lookup_success = lookups.iter().filter(|o| o.success).count() as f64 / lookups.len() as f64;
    let puts: Vec<&Op> = r.ops_of("put").collect();
    let replicas = puts.iter().map(|o| f64::from(o.replicas)).sum::<f64>() / puts.len() as f64;
    s.checks.push(check(
        "analytic.survival.all",
        format!(
            "get success, pair on k = {k} replicas, no republish, sessions of 30 min: mean of 1 − (1 − e^(−Δ/μ))^r"
        ),
        all.1,
        all.0,
        Tolerance::Abs(4.0 * all.2),
    ));
    s.checks.push(check(
        "analytic.survival.t",
        format!("get success {lo}–{hi} μ after the put (T = μ = 30 min), k = {k}"),
        at_t.1,
        at_t.0,
        Tolerance::Abs(4.0 * at_t.2),
    ));
    s.text.push_str(&format!(
        "### A pair's survival without republishing\n\n\
Setting: {n} oracle nodes, k = {k}, all up at time 0, each crashing after an exponential session of \
mean μ = 30 min and never coming back (as above), for one hour. Puts (0.0005 per node per second, \
keys from a population of a million, so that a key is almost always put once) store each pair at the k closest nodes \
their lookup found (§2.3); nothing re-replicates: `republish_interval` and \
`publisher_republish_interval` beyond the run, `cache_on_get = false`, \
`replicate_to_new_nodes = false`. Gets (0.005 per node per second) ask for keys already stored. \
Bucket refreshes every 5 minutes with `stale_limit = 1` keep the shrinking network's tables live, \
so that lookups find what is there (they move no pair). Measured: each get whose key was put \
exactly once before the get started (the others are left out), with r ≥ 1 STOREs acknowledged (`ops.csv` `replicas`), Δ \
from the put's end to the get's start; {} such gets, r = {} on average.\n\n\
Derivation. A replica holds the pair from its STORE until it crashes (a node that returns starts \
with an empty store, and none returns here). Sessions are exponential, so a replica up at the \
STORE is still up Δ later with probability e^(−Δ/μ) whatever its age, independently of the others: \
P(some replica up) = 1 − (1 − e^(−Δ/μ))^r (`analytic::survival`); for r = k and Δ = T, the \
probability that a pair survives a republish interval T. A get finds the pair when its lookup \
queries a replica that is up. With no arrivals the replicas up are the closest nodes up to the key \
(the put stored at the k closest, and nodes only leave), so the lookup's termination rule queries \
one of them whenever it learns it; the get's success then equals survival. Approximations: a put \
that missed one of the true k closest placed a replica one rank further out; the replica's clock \
starts at its STORE, up to half a second before the put's end; a replica can crash during the get \
(lookups take under a second against μ = 30 min). Node lookups in the same run succeeded at rate {} \
(1 means every lookup found the closest node up). Tolerance: 4 standard errors under the model: \
with N gets of expectations S_i, Var(Σ Y_i) = Σ S_i(1 − S_i) + 2 Σ S_j(1 − S_i) over the pairs of \
gets of one key with Δ_i < Δ_j (a pair up at Δ_j was up at Δ_i, so Cov = S_j(1 − S_i); a key is \
asked for about ten times).\n\n\
All gets: success {} against {} expected. Gets {lo}–{hi} μ after their put: {} of them, success {} \
against {}.\n\n",
        gets.len(),
        number(replicas),
        number(lookup_success),
        number(all.0),
        number(all.1),
        around.len(),
        number(at_t.0),
        number(at_t.1),
    ));
    s.charts.push(("analytic_survival".into(), survival_chart(&gets, k)));
    Ok(())
}

/// A get measured for survival: Δ/μ since its key's put, whether it
/// succeeded, its expected survival, and its key's first 64 bits.
type SurvivalGet = (f64, bool, f64, u64);

/// For each get whose key was put exactly once before it, by a put that
/// stored at least one replica: its [`SurvivalGet`].
fn survival_gets(r: &Results, mean_s: f64) -> Vec<SurvivalGet> {
    let mut puts: std::collections::HashMap<u64, Vec<&Op>> = std::collections::HashMap::new();
    for o in r.ops_of("put") {
        puts.entry(o.target_top).or_default().push(o);
    }
    r.ops_of("get")
        .filter_map(|g| {
            let before: Vec<&&Op> = puts.get(&g.target_top)?.iter().filter(|p| p.start_us < g.start_us).collect();
            match before.as_slice() {
                [p] if p.end_us <= g.start_us && p.replicas > 0 => {
                    let x = (g.start_us - p.end_us) as f64 / 1e6 / mean_s;
                    Some((x, g.success && !g.deadline_hit, analytic::survival(x, 1.0, p.replicas), g.target_top))
                }
                _ => None,
            }
        })
        .collect()
}

/// (success rate, mean expectation, standard error of the rate under the
/// model) of `gets`. Gets of one key are not independent: with no
/// arrivals a pair up at Δ_j was up at every Δ_i ≤ Δ_j, so for two gets of
/// one key Cov(Y_i, Y_j) = S_j − S_i·S_j = S_j(1 − S_i), and
/// Var(Σ Y) = Σ_i S_i(1 − S_i) + 2 Σ_(same key, Δ_i < Δ_j) S_j(1 − S_i).
fn rate_and_expectation(gets: &[SurvivalGet]) -> (f64, f64, f64) {
    let n = gets.len() as f64;
    let rate = gets.iter().filter(|g| g.1).count() as f64 / n;
    let expected = gets.iter().map(|g| g.2).sum::<f64>() / n;
    let mut by_key: std::collections::BTreeMap<u64, Vec<(f64, f64)>> = std::collections::BTreeMap::new();
    for g in gets {
        by_key.entry(g.3).or_default().push((g.0, g.2));
    }
    let mut var = 0.0;
    for mut key in by_key.into_values() {
        key.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (i, &(_, si)) in key.iter().enumerate() {
            var += si * (1.0 - si);
            var += 2.0 * key[i + 1..].iter().map(|&(_, sj)| sj * (1.0 - si)).sum::<f64>();
        }
    }
    (rate, expected, var.sqrt() / n)
}

fn survival_chart(gets: &[SurvivalGet], k: u32) -> Chart {
    let width = 0.125;
    let mut pts = Vec::new();
    let mut errs = Vec::new();
    let mut expected = Vec::new();
    for i in 0..16 {
        let (lo, hi) = (f64::from(i) * width, f64::from(i + 1) * width);
        let bin: Vec<SurvivalGet> = gets.iter().copied().filter(|(x, ..)| (lo..hi).contains(x)).collect();
        if bin.len() < 20 {
            continue;
        }
        let (rate, e, se) = rate_and_expectation(&bin);
        let x = mean(&bin.iter().map(|g| g.0).collect::<Vec<_>>());
        pts.push((x, rate));
        errs.push((rate - 2.0 * se, (rate + 2.0 * se).min(1.0)));
        expected.push((x, e));
    }
    let curve: Vec<(f64, f64)> =
        (0..=40).map(|i| f64::from(i) * 0.05).map(|x| (x, analytic::survival(x, 1.0, k))).collect();
    Chart {
        title: format!("Pair survival without republishing (k = {k}, exponential sessions)"),
        x_label: "time since the put / mean session".into(),
        y_label: "get success".into(),
        series: vec![
            Series::new(format!("1 − (1 − e^(−Δ/μ))^{k}"), curve, Mark::Line { dots: false }),
            Series::new("expected, the bin's gets", expected, Mark::Points { shape: Shape::Ring }),
            Series::new("kadsim (±2 s.e.)", pts, Mark::Points { shape: Shape::Circle }).with_errors(errs),
        ],
        y_fit: true,
        legend_low: true,
        ..Chart::default()
    }
}

/// 5. Lookup messages as the sum of queries and replies.
fn messages(lab: &Lab, s: &mut Section) -> Result<(), String> {
    let (n, minutes) = match lab.depth {
        Depth::Quick => (2_000u64, 10u64),
        Depth::Full => (10_000, 20),
    };
    let name = "analytic-messages";
    let op_timeout_s = 20.0;
    let rest = "[workload]\nlookup_rate = 0.0003\nput_rate = 0.0002\nget_rate = 0.0003\nkeys = 200\n";
    let protocol = format!("op_timeout = \"{op_timeout_s}s\"");
    let sc = scenario(name, n, &format!("{minutes}m"), "5s", &protocol, rest);
    let r = lab.simulate(name, &sc, &[])?;
    let ts = Csv::read(&r.dir.join("timeseries.csv"))?;
    let times = ts.numbers("time_s")?;
    let sent = ts.numbers("lookup_msgs_sent")?;
    let maintenance: f64 = ts.numbers("maintenance_msgs_sent")?.iter().sum();
    let ops: Vec<&Op> = r.ops.iter().filter(|o| matches!(o.kind, "find_node" | "get" | "put")).collect();
    // Every message of an operation is sent between its start and one
    // latency after its end (a reply to its last request); a boundary no
    // operation spans splits the traffic exactly. Operations still running
    // at the end of the run are not in ops.csv: they started less than
    // op_timeout before it, so boundaries before that see them all.
    let latency_us = 50_000u64;
    let margin_us = 1_000u64;
    let last_ok = (minutes as f64 * 60.0 - op_timeout_s - 1.0) * 1e6;
    let idle = |tau: u64| ops.iter().all(|o| o.start_us > tau + margin_us || o.end_us + latency_us + margin_us < tau);
    let boundary =
        times.iter().map(|&t| (t * 1e6).round() as u64).filter(|&tau| (tau as f64) <= last_ok && idle(tau)).max();
    let (expected, measured, counted) = match boundary {
        Some(tau) => {
            let mut expected = 0u64;
            let mut counted = 0usize;
            for o in ops.iter().filter(|o| o.end_us + latency_us < tau) {
                // A get's caching STORE (§2.3) goes to the closest node that
                // answered besides the one that returned the value.
                let cache = o.kind == "get" && o.success && o.responses >= 2;
                expected += analytic::lookup_messages(u64::from(o.queried), cache);
                counted += 1;
            }
            let measured: f64 =
                times.iter().zip(&sent).filter(|(t, _)| (*t * 1e6).round() as u64 <= tau).map(|(_, m)| m).sum();
            (expected as f64, measured, counted)
        }
        None => (f64::NAN, f64::NAN, 0),
    };
    s.checks.push(check(
        "analytic.messages.lookup",
        "lookup messages sent = Σ 2·queried (+2 per get's caching STORE), lossless static network",
        expected,
        measured,
        Tolerance::Abs(0.0),
    ));
    let tau_s = boundary.map_or(f64::NAN, |t| t as f64 / 1e6);
    s.text.push_str(&format!(
        "### Messages per operation\n\n\
Setting: {n} oracle nodes, no loss, no churn, constant 50 ms latency, node lookups, puts and gets \
(0.0003, 0.0002 and 0.0003 per node per second, 200 keys, caching on) for {minutes} minutes, rows \
every 5 seconds. Measured: `timeseries.csv` `lookup_msgs_sent` summed over the rows up to a \
boundary τ; expected from `ops.csv`.\n\n\
Derivation. Lookup traffic (`src/kad/traffic.rs`) is the requests of the workload's operations \
and the replies to them. An operation's `queried` counts its requests: the FIND_NODE or FIND_VALUE \
queries of its lookup and a put's STOREs at the k closest. With no loss and nobody down every \
request is delivered and answered once, queries still in flight when the lookup ends included \
(their replies are sent all the same), so an operation sends 2·queried messages, plus 2 for a \
successful get that caches the pair at the closest node that answered without it (§2.3), which \
exists exactly when another node answered (`responses` ≥ 2). A get answered from the origin's own \
store sends nothing (`queried` = 0). These messages are sent between the operation's start and one \
latency after its end; the sum over rows up to τ equals the sum over operations ended before τ \
exactly when no operation spans τ. τ is the last row boundary that no operation in `ops.csv` spans \
(1 ms margins) and that lies more than `op_timeout` = {op_timeout_s} s before the end, so that no \
operation unfinished at the end (absent from `ops.csv`) started before it. An identity: tolerance \
0. Maintenance messages in the run: {} (no refresh is due within it).\n\n\
Measured up to τ = {} s: {} lookup messages for {counted} operations, against {}.\n\n",
        number(maintenance),
        number(tau_s),
        number(measured),
        number(expected),
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_section_passes_every_check() {
        let dir = std::env::temp_dir().join(format!("kadsim-analytic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lab = Lab { runs: &dir, threads: 1, jobs: 2, depth: Depth::Quick };
        let s = checks(&lab).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let failed: Vec<&str> = s.checks.iter().filter(|c| !c.pass()).map(|c| c.name.as_str()).collect();
        assert!(failed.is_empty(), "failed: {failed:?}");
        assert!(s.checks.len() >= 15 && s.charts.len() == 4, "{} checks, {} charts", s.checks.len(), s.charts.len());
    }
}

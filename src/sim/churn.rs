//! Churn inputs: session and downtime length distributions (`[churn]`) and
//! the reader of churn trace files.
//!
//! [`DurationDist`] samples durations in whole microseconds from an
//! exponential, Weibull, shifted Pareto (Lomax) or lognormal distribution and
//! gives each family's analytic mean and quantiles. Samples are a
//! deterministic function of the RNG state, at least 1 µs and at most
//! [`MAX_DURATION_US`]. [`read_trace`] reads a `time_s,node,event` CSV file
//! into time-sorted [`TraceEvent`]s, reporting the first bad line as one
//! [`TraceError`] line instead of panicking.

use crate::files::bounded;
use crate::scenario::{DistKind, Distribution};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, Exp, LogNormal, OpenClosed01, Weibull};
use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;

/// The longest duration a sample can have: 10¹² s (about 31 700 years), the
/// longest duration a scenario can hold, so `now + sample` never overflows.
pub const MAX_DURATION_US: u64 = 1_000_000_000_000_000_000;

const HOUR_US: f64 = 3_600_000_000.0;

/// A distribution of durations (session or downtime lengths).
#[derive(Clone, Debug)]
pub struct DurationDist {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    /// Exponential, with its mean.
    Exponential(Exp<f64>, f64),
    /// Weibull, with its shape and scale.
    Weibull(Weibull<f64>, f64, f64),
    /// Lomax shape and scale, sampled by inversion: scale·(U^(−1/shape) − 1), U in (0, 1].
    Pareto(f64, f64),
    /// Lognormal, with its median and σ.
    LogNormal(LogNormal<f64>, f64, f64),
    /// A degenerate parameter set (e.g. a zero scale): always this value.
    Fixed(f64),
}

impl DurationDist {
    /// Builds the distribution `d` describes. Scenario validation requires the
    /// family's fields; any still missing take 1 h (mean, scale, median) or 1
    /// (shape, sigma), and degenerate ones (zero scale, zero shape) give a
    /// fixed duration instead of a panic.
    pub fn new(d: &Distribution) -> DurationDist {
        let us = |x: Option<crate::scenario::units::Dur>| x.map_or(HOUR_US, |x| x.0 as f64);
        let num = |x: Option<crate::scenario::units::NonNegative>| x.map_or(1.0, |x| x.0);
        let kind = match d.dist {
            DistKind::Exponential => exponential(us(d.mean)),
            DistKind::Weibull => weibull(num(d.shape), us(d.scale)),
            DistKind::Pareto => match (num(d.shape), us(d.scale)) {
                (shape, scale) if shape > 0.0 && scale > 0.0 => Kind::Pareto(shape, scale),
                (_, scale) => Kind::Fixed(scale),
            },
            DistKind::Lognormal => {
                let (median, sigma) = (us(d.median), num(d.sigma));
                match LogNormal::new(median.ln(), sigma) {
                    Ok(dist) if median > 0.0 => Kind::LogNormal(dist, median, sigma),
                    _ => Kind::Fixed(median),
                }
            }
        };
        DurationDist { kind }
    }

    /// The default session length: Weibull, shape 0.5, scale 1 h (mean 2 h).
    pub fn default_session() -> DurationDist {
        DurationDist { kind: weibull(0.5, HOUR_US) }
    }

    /// The default downtime: exponential, mean 1 h.
    pub fn default_downtime() -> DurationDist {
        DurationDist { kind: exponential(HOUR_US) }
    }

    /// One duration in microseconds, rounded, in `[1, MAX_DURATION_US]`.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        let x = match &self.kind {
            Kind::Exponential(dist, _) => dist.sample(rng),
            Kind::Weibull(dist, ..) => dist.sample(rng),
            Kind::Pareto(shape, scale) => {
                let u: f64 = OpenClosed01.sample(rng);
                scale * (u.powf(-1.0 / shape) - 1.0)
            }
            Kind::LogNormal(dist, ..) => dist.sample(rng),
            Kind::Fixed(v) => *v,
        };
        let x = x.round();
        // NaN and anything below 1 µs become 1 µs.
        if x >= MAX_DURATION_US as f64 {
            MAX_DURATION_US
        } else if x >= 1.0 {
            x as u64
        } else {
            1
        }
    }

    /// The analytic mean in microseconds: the mean (exponential);
    /// scale·Γ(1 + 1/shape) (Weibull); scale/(shape − 1) for shape > 1, else
    /// infinity (Lomax); median·e^(σ²/2) (lognormal). Rounding and clamping of
    /// samples are ignored.
    pub fn mean_micros(&self) -> f64 {
        match &self.kind {
            Kind::Exponential(_, mean) => *mean,
            Kind::Weibull(_, shape, scale) => scale * gamma(1.0 + 1.0 / shape),
            Kind::Pareto(shape, scale) if *shape > 1.0 => scale / (shape - 1.0),
            Kind::Pareto(..) => f64::INFINITY,
            Kind::LogNormal(_, median, sigma) => median * (sigma * sigma / 2.0).exp(),
            Kind::Fixed(v) => *v,
        }
    }

    /// The analytic `p`-quantile in microseconds (NaN unless 0 ≤ p ≤ 1):
    /// −mean·ln(1 − p); scale·(−ln(1 − p))^(1/shape); scale·((1 − p)^(−1/shape)
    /// − 1); median·e^(σ·Φ⁻¹(p)).
    pub fn quantile_micros(&self, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            return f64::NAN;
        }
        let tail = -(-p).ln_1p(); // −ln(1 − p)
        match &self.kind {
            Kind::Exponential(_, mean) => mean * tail,
            Kind::Weibull(_, shape, scale) => scale * tail.powf(1.0 / shape),
            Kind::Pareto(shape, scale) => scale * (tail / shape).exp_m1(),
            Kind::LogNormal(_, median, sigma) => median * (sigma * normal_quantile(p)).exp(),
            Kind::Fixed(v) => *v,
        }
    }
}

fn exponential(mean: f64) -> Kind {
    Exp::new(1.0 / mean).map_or(Kind::Fixed(mean), |dist| Kind::Exponential(dist, mean))
}

fn weibull(shape: f64, scale: f64) -> Kind {
    Weibull::new(scale, shape).map_or(Kind::Fixed(scale), |d| Kind::Weibull(d, shape, scale))
}

/// Γ(x) by the Lanczos approximation (g = 7, 9 terms; relative error about
/// 1e-15), with the reflection formula below 1/2.
pub(crate) fn gamma(x: f64) -> f64 {
    use std::f64::consts::PI;
    #[rustfmt::skip]
    const C: [f64; 9] = [
        0.999_999_999_999_809_9, 676.520_368_121_885_1, -1_259.139_216_722_402_8,
        771.323_428_777_653_1, -176.615_029_162_140_6, 12.507_343_278_686_905,
        -0.138_571_095_265_720_12, 9.984_369_578_019_572e-6, 1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return PI / ((PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + 7.5; // x + g + 1/2
    let a = C[0] + (1..9).map(|i| C[i] / (x + i as f64)).sum::<f64>();
    // √(2π)·t^(x+½)·e^(−t)·a, the power taken in logs so large x does not overflow early.
    (2.0 * PI).sqrt() * ((x + 0.5) * t.ln() - t).exp() * a
}

/// Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation
/// (relative error below 1.2e-9). ±infinity at p = 0 and 1.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    #[rustfmt::skip]
    const A: [f64; 6] = [-39.696_830_286_653_76, 220.946_098_424_520_5, -275.928_510_446_968_7,
        138.357_751_867_269, -30.664_798_066_147_16, 2.506_628_277_459_239];
    #[rustfmt::skip]
    const B: [f64; 5] = [-54.476_098_798_224_06, 161.585_836_858_040_9, -155.698_979_859_886_6,
        66.801_311_887_719_72, -13.280_681_552_885_72];
    #[rustfmt::skip]
    const C: [f64; 6] = [-0.007_784_894_002_430_293, -0.322_396_458_041_136_5,
        -2.400_758_277_161_838, -2.549_732_539_343_734, 4.374_664_141_464_968, 2.938_163_982_698_783];
    #[rustfmt::skip]
    const D: [f64; 4] = [0.007_784_695_709_041_462, 0.322_467_129_070_039_8,
        2.445_134_137_142_996, 3.754_408_661_907_416];
    const LOW: f64 = 0.024_25;
    let poly = |c: &[f64], x: f64| c.iter().fold(0.0, |acc, &k| acc * x + k);
    let tail = |q: f64| poly(&C, q) / (poly(&D, q) * q + 1.0);
    if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (-p).ln_1p()).sqrt())
    } else {
        let (q, r) = (p - 0.5, (p - 0.5) * (p - 0.5));
        poly(&A, r) * q / (poly(&B, r) * r + 1.0)
    }
}

/// One line of a churn trace: node `node` comes up or goes down at `time_us`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// When, in microseconds of simulated time.
    pub time_us: u64,
    /// Which node index.
    pub node: u32,
    /// True: the node comes up; false: it goes down.
    pub up: bool,
}

/// A trace file that cannot be read or holds a bad line; displays as one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read the trace: {message}")]
    Io {
        /// The file, as given.
        file: String,
        /// The I/O error.
        message: String,
    },
    /// A line of the file is not what a trace holds.
    #[error("{file}:{line}: {column}: {expected}")]
    Bad {
        /// The file, as given.
        file: String,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// The column at fault (`header` or `row` when not one column).
        column: String,
        /// What was expected, and what was found.
        expected: String,
    },
}

/// The header a trace file must start with.
const TRACE_HEADER: &str = "time_s,node,event";

/// The longest time a trace may hold, in seconds (that of a scenario).
const MAX_TRACE_S: f64 = 1e12;

/// The longest span of bytes one record of a trace may take: a record is a
/// line, and [`bounded::MAX_LINE`] bounds lines; a quoted field can carry a
/// record over many, so records are bounded too.
const MAX_RECORD: u64 = 2 * bounded::MAX_LINE as u64;

/// Reads the churn trace at `path`: a CSV file with the header
/// `time_s,node,event` and one event per line (time in non-negative, possibly
/// fractional seconds, rounded to whole microseconds; node index below
/// `nodes`; event `up` or `down`). Spaces around fields and blank lines are
/// allowed. The events come back sorted by time, ties in file order.
///
/// The file is streamed ([`bounded::open_lines`]: a regular file, lines of at
/// most 1 MiB, gunzipped if its name ends in `.gz`); only the events are kept.
pub fn read_trace(path: &Path, nodes: u32) -> Result<Vec<TraceEvent>, TraceError> {
    let file = path.display().to_string();
    let one_line = |s: String| s.replace(['\n', '\r'], " ");
    let io = |message: String| TraceError::Io { file: file.clone(), message: one_line(message) };
    let input = bounded::open_lines(path).map_err(|e| match e {
        bounded::OpenError::Io(e) => io(e.to_string()),
        e => io(e.to_string()),
    })?;
    let bad = |line: u64, column: &str, expected: String| TraceError::Bad {
        file: file.clone(),
        line,
        column: column.to_string(),
        // A value from the file is echoed cut to a couple of hundred bytes.
        expected: one_line(crate::scenario::clip::clip_message(&expected).into_owned()),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(LineBreaks { inner: input, read: 0, breaks: VecDeque::new(), newlines: 0, passed: 0 });
    let byte = |pos: Option<&csv::Position>| pos.map_or(0, csv::Position::byte);
    let mut events = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut header_seen = false;
    // Where the record being read starts: after the last one read.
    let mut pending = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let what = match e.kind() {
                    // A line too long is placed at the record it was to hold.
                    csv::ErrorKind::Io(e) if matches!(bounded::exceeded(e), Some(bounded::Exceeded::Line(_))) => {
                        return Err(bad(reader.get_mut().line_at(pending), "row", e.to_string()));
                    }
                    csv::ErrorKind::Io(e) => return Err(io(e.to_string())),
                    csv::ErrorKind::Utf8 { .. } => "expected UTF-8 text".to_string(),
                    _ => format!("expected CSV ({e})"),
                };
                let line = reader.get_mut().line_at(byte(e.position()));
                return Err(bad(line, "row", what));
            }
        }
        let at = byte(record.position());
        if header_seen {
            let event = parse_event(&record, nodes);
            events.push(event.map_err(|(col, what)| bad(reader.get_mut().line_at(at), col, what))?);
        } else {
            let got = record.iter().collect::<Vec<_>>().join(",");
            if got.trim_start_matches('\u{feff}') != TRACE_HEADER {
                let what = format!("expected \"{TRACE_HEADER}\", got {got:?}");
                return Err(bad(reader.get_mut().line_at(at), "header", what));
            }
            header_seen = true;
        }
        reader.get_mut().pass(at);
        pending = reader.position().byte();
    }
    if !header_seen {
        let what = format!("expected \"{TRACE_HEADER}\", got an empty file");
        return Err(bad(reader.get_mut().line_at(0), "header", what));
    }
    events.sort_by_key(|e| e.time_us); // stable: ties keep file order
    Ok(events)
}

/// A reader that keeps the offsets of the line breaks it has read and the
/// caller has not yet passed, so that a CSV record's byte offset gives its
/// line number in bounded memory (csv's own line count skips blank lines).
struct LineBreaks<R> {
    inner: R,
    /// Bytes read so far.
    read: u64,
    /// Offset and byte of every `\r` and `\n` at or after `passed`, in order.
    breaks: VecDeque<(u64, u8)>,
    /// `\n` bytes before `passed`.
    newlines: u64,
    /// The offset of the record being read: everything before it is counted.
    passed: u64,
}

impl<R> LineBreaks<R> {
    /// Counts the line breaks before offset `to` and forgets them.
    fn pass(&mut self, to: u64) {
        while let Some(&(at, b)) = self.breaks.front() {
            if at >= to {
                break;
            }
            self.newlines += u64::from(b == b'\n');
            self.breaks.pop_front();
        }
        self.passed = self.passed.max(to);
    }

    /// The 1-based line of the record at offset `at`: an offset may point at
    /// the blank lines before the record, which are skipped.
    fn line_at(&mut self, at: u64) -> u64 {
        self.pass(at);
        // The run of line breaks that starts right at `at`.
        let run = self.breaks.iter().zip(at..).take_while(|(brk, next)| brk.0 == *next);
        1 + self.newlines + run.filter(|(brk, _)| brk.1 == b'\n').count() as u64
    }
}

impl<R: Read> Read for LineBreaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' || *b == b'\r' {
                self.breaks.push_back((self.read + i as u64, *b));
            }
        }
        self.read += n as u64;
        if self.read - self.passed > MAX_RECORD {
            return Err(bounded::Exceeded::Line(bounded::MAX_LINE as u64).into());
        }
        Ok(n)
    }
}

/// The column at fault and what it should hold.
type Fault = (&'static str, String);

/// One data row of a trace.
fn parse_event(record: &csv::StringRecord, nodes: u32) -> Result<TraceEvent, Fault> {
    const SECONDS: &str = "expected a number of seconds from 0 to 1e12";
    let n = record.len();
    if n != 3 {
        let what = format!("expected 3 columns ({TRACE_HEADER}), got {n}");
        return Err(("row", what));
    }
    let (time, node, event) = (&record[0], &record[1], &record[2]);
    let time_us = match time.parse::<f64>() {
        Ok(t) if (0.0..=MAX_TRACE_S).contains(&t) => (t * 1e6).round() as u64,
        _ => return Err(("time_s", format!("{SECONDS}, got {time:?}"))),
    };
    let below = format!("expected a node index below {nodes}");
    let node = match node.parse::<u64>() {
        Ok(n) if n < u64::from(nodes) => n as u32,
        Ok(n) => return Err(("node", format!("{below}, got {n}"))),
        Err(_) => return Err(("node", format!("{below}, got {node:?}"))),
    };
    let up = match event {
        "up" => true,
        "down" => false,
        _ => {
            return Err(("event", format!("expected \"up\" or \"down\", got {event:?}")));
        }
    };
    Ok(TraceEvent { time_us, node, up })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    const N: usize = 200_000;

    /// The distribution a scenario writes as `{ <fields> }`.
    fn dist(fields: &str) -> DurationDist {
        DurationDist::new(&toml::from_str(&fields.replace(", ", "\n")).unwrap())
    }

    fn close(what: &str, got: f64, want: f64, rel: f64) {
        let ok = (got - want).abs() <= rel * want;
        assert!(ok, "{what}: got {got}, expected {want} ± {}%", rel * 100.0);
    }

    /// Checks the analytic and the sample mean and `p`-quantile (µs) against
    /// hand-worked values, the samples within `tol` (relative).
    fn check(d: &DurationDist, seed: u64, mean: f64, p: f64, q: f64, tol: f64) {
        close("analytic mean", d.mean_micros(), mean, 1e-6);
        close("analytic quantile", d.quantile_micros(p), q, 1e-6);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut v: Vec<f64> = (0..N).map(|_| d.sample(&mut rng) as f64).collect();
        v.sort_by(f64::total_cmp);
        close("sample mean", v.iter().sum::<f64>() / N as f64, mean, tol);
        close("sample quantile", v[(N as f64 * p) as usize], q, tol);
    }

    #[test]
    fn weibull_default_session() {
        // Weibull(0.5, 1 h): mean = 1 h·Γ(3) = 2 h = 7.2e9 µs (sd 4.47 h: the standard
        // error of 200 000 samples is 0.5 %); median = 3600·ln(2)² s = 1729.63 s.
        let d = DurationDist::default_session();
        check(&d, 1, 7.2e9, 0.5, 1_729.630_85e6, 0.03);
        // p90 = 3600·ln(10)² s = 19 086.83 s.
        let d = dist("dist = 'weibull', shape = 0.5, scale = '1h'");
        check(&d, 2, 7.2e9, 0.9, 19_086.833e6, 0.03);
    }

    #[test]
    fn exponential_default_downtime() {
        // mean 1 h; median = 3600·ln 2 = 2495.33 s; p90 = 3600·ln 10 = 8289.31 s.
        let d = DurationDist::default_downtime();
        check(&d, 3, 3.6e9, 0.5, 2_495.329_85e6, 0.02);
        let d = dist("dist = 'exponential', mean = '60m'");
        check(&d, 4, 3.6e9, 0.9, 8_289.306_33e6, 0.02);
    }

    #[test]
    fn pareto_lomax() {
        // Lomax(shape 3, scale 30 min): mean = 30/(3 − 1) = 15 min = 9e8 µs;
        // median = 30·(2^(1/3) − 1) = 7.797631 min; p90 = 30·(10^(1/3) − 1) = 34.63304 min.
        let d = dist("dist = 'pareto', shape = 3.0, scale = '30m'");
        check(&d, 5, 9e8, 0.5, 7.797_631_5 * 60e6, 0.03);
        close("p90", d.quantile_micros(0.9), 34.633_040_7 * 60e6, 1e-6);
        let heavy = dist("dist = 'pareto', shape = 0.8, scale = '1m'");
        assert_eq!(heavy.mean_micros(), f64::INFINITY);
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        assert!((0..N).all(|_| (1..=MAX_DURATION_US).contains(&heavy.sample(&mut rng))));
    }

    #[test]
    fn lognormal() {
        // median 1 h, σ 1: mean = 3600·e^0.5 = 5935.397 s; p90 = 3600·e^1.2815516 = 12 968.008 s.
        let d = dist("dist = 'lognormal', median = '1h', sigma = 1.0");
        check(&d, 7, 5_935.396_57e6, 0.9, 12_968.008_1e6, 0.03);
        close("median", d.quantile_micros(0.5), 3.6e9, 1e-9);
    }

    #[test]
    fn special_functions() {
        // Γ(1/2) = √π = 1.7724538509; Γ(3/2) = 0.8862269255; Γ(5) = 24;
        // Γ(0.1) = 9.5135076987; Γ(1 + 1/1.5) = 0.9027452930; Γ(150.3) = 1.7112970e261.
        #[rustfmt::skip]
        let table = [(0.5, 1.772_453_850_9), (1.5, 0.886_226_925_5), (5.0, 24.0),
            (0.1, 9.513_507_698_7), (1.0 + 1.0 / 1.5, 0.902_745_293), (150.3, 1.711_297e261)];
        for (x, g) in table {
            close(&format!("Γ({x})"), gamma(x), g, 1e-6);
        }
        // Φ⁻¹: 0.5 → 0; 0.9 → 1.2815515655; 0.975 → 1.9599639845; 0.01 → −2.3263478740;
        // 0.999 → 3.0902323062.
        assert!(normal_quantile(0.5).abs() < 1e-12);
        #[rustfmt::skip]
        let table = [(0.9, 1.281_551_565_5), (0.975, 1.959_963_984_5), (0.01, -2.326_347_874),
            (0.999, 3.090_232_306_2)];
        for (p, z) in table {
            assert!((normal_quantile(p) - z).abs() < 1e-8, "Φ⁻¹({p})");
        }
        let d = DurationDist::default_downtime();
        assert!(d.quantile_micros(-0.1).is_nan() && d.quantile_micros(1.1).is_nan());
        assert_eq!(d.quantile_micros(0.0), 0.0);
        assert_eq!(d.quantile_micros(1.0), f64::INFINITY);
    }

    #[test]
    fn degenerate_parameters_do_not_panic() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for fields in [
            "dist = 'exponential', mean = '0s'",
            "dist = 'weibull', shape = 0.0, scale = '0s'",
            "dist = 'weibull', shape = 1e-3, scale = '1s'",
            "dist = 'pareto', shape = 0.0, scale = '1s'",
            "dist = 'lognormal', median = '0s', sigma = 2.0",
            "dist = 'lognormal', median = '1s', sigma = 1e6",
        ] {
            let d = dist(fields);
            let ok = (0..100).all(|_| (1..=MAX_DURATION_US).contains(&d.sample(&mut rng)));
            assert!(ok, "{d:?}");
        }
    }

    #[test]
    fn deterministic() {
        let pareto = dist("dist = 'pareto', shape = 2.0, scale = '1m'");
        for d in [DurationDist::default_session(), pareto] {
            let draw = |seed| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                (0..1000).map(|_| d.sample(&mut rng)).collect::<Vec<_>>()
            };
            assert_eq!(draw(1), draw(1));
            assert_ne!(draw(1), draw(2));
        }
    }

    /// Writes `text` to a fresh file named after `name` and reads it as a trace of 1000 nodes.
    fn read(name: &str, text: &[u8]) -> (String, Result<Vec<TraceEvent>, TraceError>) {
        let dir = std::env::temp_dir().join(format!("kadsim-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, text).unwrap();
        (path.display().to_string(), read_trace(&path, 1000))
    }

    #[test]
    fn good_trace_sorted_stably() {
        let text = "time_s,node,event\n10,1,down\n 2.5 , 7 , up\n\n10,2,up\n0,999,down\n\
                    10.0000001,3,down\n10,1,up\n";
        let ev = |time_us, node, up| TraceEvent { time_us, node, up };
        let want = vec![
            ev(0, 999, false),
            ev(2_500_000, 7, true),
            ev(10_000_000, 1, false),
            ev(10_000_000, 2, true),
            ev(10_000_000, 3, false), // 10.0000001 s rounds to 10 s: a tie, file order kept
            ev(10_000_000, 1, true),
        ];
        assert_eq!(read("good", text.as_bytes()).1, Ok(want));
        assert_eq!(read("only-header", b"time_s,node,event\r\n").1, Ok(vec![]));
    }

    #[test]
    fn bad_traces_one_line_each() {
        let seconds = "expected a number of seconds from 0 to 1e12, got";
        let header = "expected \"time_s,node,event\", got";
        let columns = "expected 3 columns (time_s,node,event), got";
        let node = "expected a node index below 1000, got";
        let h = "time_s,node,event\n";
        #[rustfmt::skip]
        let cases: &[(&str, String, String)] = &[
            ("empty", "".into(), format!("1: header: {header} an empty file")),
            ("bad-header", "time,node,event\n1,2,up\n".into(), format!("1: header: {header} \"time,node,event\"")),
            ("no-header", "1,2,up\n".into(), format!("1: header: {header} \"1,2,up\"")),
            ("negative-time", format!("{h}1,2,up\n-3,2,down\n"), format!("3: time_s: {seconds} \"-3\"")),
            ("nan-time", format!("{h}NaN,2,up\n"), format!("2: time_s: {seconds} \"NaN\"")),
            ("not-a-number", format!("{h}1,2,up\n\nsoon,2,up\n"), format!("4: time_s: {seconds} \"soon\"")),
            ("node-range", format!("{h}1,2,up\n1,3,up\n1,4,up\n1,5,up\n1,6,up\n1,1200,down\n"), format!("7: node: {node} 1200")),
            ("node-text", format!("{h}1,x,up\n"), format!("2: node: {node} \"x\"")),
            ("node-negative", format!("{h}1,-1,up\n"), format!("2: node: {node} \"-1\"")),
            ("event", format!("{h}1,2,sideways\n"), "2: event: expected \"up\" or \"down\", got \"sideways\"".into()),
            ("crlf-blank", format!("\r\n{h}1,2,up\r\n\r\n1,2,bad\r\n"), "5: event: expected \"up\" or \"down\", got \"bad\"".into()),
            ("too-few", format!("{h}1,2,up\n1,2\n"), format!("3: row: {columns} 2")),
            ("too-many", format!("{h}1,2,up,extra\n"), format!("2: row: {columns} 4")),
        ];
        for (name, text, want) in cases {
            let (path, got) = read(name, text.as_bytes());
            let msg = got.expect_err(name).to_string();
            assert_eq!(msg, format!("{path}:{want}"), "{name}");
            assert!(!msg.contains('\n'));
        }
        let (path, got) = read("utf8", b"time_s,node,event\n1,2,\xffup\n");
        assert_eq!(got.unwrap_err().to_string(), format!("{path}:2: row: expected UTF-8 text"));
        let missing = read_trace(Path::new("/nonexistent/kadsim/trace.csv"), 10).unwrap_err();
        let missing = missing.to_string();
        assert!(missing.starts_with("/nonexistent/kadsim/trace.csv: cannot read the trace: "));
        assert!(!missing.contains('\n'), "{missing}");
    }

    #[test]
    fn a_huge_value_in_a_trace_is_echoed_cut() {
        let text = format!("time_s,node,event\n1,{},up\n", "7x".repeat(5000));
        let (path, got) = read("huge", text.as_bytes());
        let msg = got.unwrap_err().to_string();
        assert!(msg.starts_with(&format!("{path}:2: node: expected a node index below 1000, got \"7x7x")), "{msg}");
        assert!(msg.contains("(10000 bytes)"), "{msg}");
        assert!(msg.len() < path.len() + 400, "{} bytes: {msg}", msg.len());
    }

    #[test]
    fn a_trace_is_streamed_from_a_regular_file_only() {
        let dir = std::env::temp_dir().join(format!("kadsim-trace-kinds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = read_trace(&dir, 10).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("{}: cannot read the trace: not a regular file (a directory); give a file", dir.display())
        );
        // A line past the limit stops the reading, whatever follows.
        let (path, got) = read("long-line", format!("time_s,node,event\n1,2,up\n{}\n", "9".repeat(2 << 20)).as_bytes());
        let e = got.unwrap_err().to_string();
        assert!(e.starts_with(&format!("{path}:3: row: a line longer than 1 MiB")), "{e}");
        // So does a quoted field carried over many short lines.
        let (path, got) =
            read("long-record", format!("time_s,node,event\n1,\"{}\",up\n", "7\n".repeat(2 << 20)).as_bytes());
        let e = got.unwrap_err().to_string();
        assert!(e.starts_with(&format!("{path}:2: row: a line longer than 1 MiB")), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn line_numbers_stay_right_across_the_read_buffers() {
        // Far more than csv's buffer of blank and CRLF lines before a bad row.
        let mut text = String::from("time_s,node,event\r\n");
        for i in 0..50_000 {
            text.push_str(if i % 3 == 0 { "\r\n" } else { "1,2,up\n" });
        }
        text.push_str("\n\n1,2,sideways\n");
        let (path, got) = read("many-lines", text.as_bytes());
        let e = got.unwrap_err().to_string();
        assert_eq!(e, format!("{path}:50004: event: expected \"up\" or \"down\", got \"sideways\""));
    }
}

//! Tick labels written the same way along an axis: one unit suffix and one
//! number of decimals for every label, chosen from the ticks the axis shows,
//! so that an axis never reads "5000, 10k" or "0.5, 0.75, 1". Log axes
//! label whole decades (0.1, 1, 10, 100, 1k, 10k).

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;

/// How the ticks of one linear axis are written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TickFormat {
    scale: f64,
    suffix: &'static str,
    decimals: usize,
}

/// Where plotters puts the labelled ticks of a linear axis from `lo` to `hi`
/// asked for at most `n` labels: the ticks [`TickFormat`] is chosen from.
pub fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    RangedCoordf64::from(lo..hi).key_points(n)
}

impl TickFormat {
    /// The format for an axis labelled at `ticks`: thousands as k when the
    /// largest tick reaches 10,000, millions as M from 1,000,000, and as many
    /// decimals as the finest tick needs (at most 6).
    pub fn for_ticks(ticks: &[f64]) -> TickFormat {
        let max = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
        let (scale, suffix) = if max >= 1e6 {
            (1e6, "M")
        } else if max >= 1e4 {
            (1e3, "k")
        } else {
            (1.0, "")
        };
        let exact = |d: i32| {
            ticks.iter().all(|t| {
                let v = t / scale;
                let r = (v * 10f64.powi(d)).round() / 10f64.powi(d);
                (v - r).abs() <= 1e-9 * v.abs().max(1.0)
            })
        };
        let decimals = (0..=6).find(|&d| exact(d)).unwrap_or(6) as usize;
        TickFormat { scale, suffix, decimals }
    }

    /// The label of the tick at `v`.
    pub fn label(&self, v: f64) -> String {
        let x = v / self.scale;
        let half_unit = 0.5 * 10f64.powi(-(self.decimals as i32));
        if x.abs() < half_unit {
            return format!("{:.*}", self.decimals, 0.0);
        }
        format!("{:.*}{}", self.decimals, x, self.suffix)
    }
}

/// The label of a tick at `x` on a log axis (x is log10 of the quantity):
/// the quantity at whole decades, nothing between them.
pub fn log_label(x: f64) -> String {
    if (x - x.round()).abs() > 1e-6 {
        return String::new();
    }
    let e = x.round() as i32;
    match e {
        i32::MIN..=-1 => format!("{}", 10f64.powi(e)),
        0..=2 => format!("{}", 10i64.pow(e as u32)),
        3..=5 => format!("{}k", 10i64.pow(e as u32 - 3)),
        _ => format!("{}M", 10f64.powi(e - 6)),
    }
}

/// A short label for a value outside an axis (a legend, a note): no trailing
/// zeros, thousands as k from 10,000 and millions as M.
pub fn short(v: f64) -> String {
    let a = v.abs();
    let trim = |v: f64| {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        if s == "-0" { "0".to_string() } else { s }
    };
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[f64]) -> Vec<String> {
        let f = TickFormat::for_ticks(ticks);
        ticks.iter().map(|t| f.label(*t)).collect()
    }

    #[test]
    fn one_suffix_per_axis() {
        // The old labels read "0, 2000, 4000, 6000, 8000, 10k, 12k".
        assert_eq!(labels(&[0.0, 2000.0, 4000.0, 10_000.0, 12_000.0]), ["0", "2k", "4k", "10k", "12k"]);
        assert_eq!(labels(&[0.0, 2500.0, 5000.0]), ["0", "2500", "5000"]);
        assert_eq!(labels(&[0.0, 500_000.0, 1_000_000.0]), ["0.0", "0.5M", "1.0M"]);
    }

    #[test]
    fn one_number_of_decimals_per_axis() {
        assert_eq!(labels(&[0.0, 0.25, 0.5, 0.75, 1.0]), ["0.00", "0.25", "0.50", "0.75", "1.00"]);
        assert_eq!(labels(&[0.96, 0.97, 0.98, 0.99, 1.0]), ["0.96", "0.97", "0.98", "0.99", "1.00"]);
        assert_eq!(labels(&[-1e-17, 1.0, 2.0]), ["0", "1", "2"]);
    }

    #[test]
    fn plotters_ticks_are_what_the_format_sees() {
        let t = linear_ticks(0.0, 12_500.0, 8);
        assert!(t.len() >= 3 && t.len() <= 8, "{t:?}");
        assert!(t.iter().all(|x| (x / 1000.0).fract().abs() < 1e-9), "{t:?}");
    }

    #[test]
    fn log_axes_label_whole_decades_only() {
        assert_eq!(log_label(0.0), "1");
        assert_eq!(log_label(2.0), "100");
        assert_eq!(log_label(3.0), "1k");
        assert_eq!(log_label(4.0), "10k");
        assert_eq!(log_label(6.0), "1M");
        assert_eq!(log_label(-1.0), "0.1");
        assert_eq!(log_label(2.5), "");
    }

    #[test]
    fn short_values() {
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(2.0), "2");
        assert_eq!(short(15_000.0), "15k");
        assert_eq!(short(2_500_000.0), "2.5M");
        assert_eq!(short(-0.0001), "0");
    }
}

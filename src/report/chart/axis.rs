//! The x axis of a chart: plotters' linear axis, or one whose ticks stand at
//! given positions only ([`super::Chart::x_ticks`]: a sweep's values as run,
//! on a linear or log scale; a log axis's decades), with the labels that
//! would overlap their left neighbour left out; light grid lines at given
//! positions (a log axis's 2, 3, … 9 of each decade); and stretches left out
//! of the axis ([`super::Chart::x_cuts`]).

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use std::ops::Range;

/// A linear f64 axis whose key points are `ticks` when given (and its light
/// grid lines `minor`), else plotters' own, with `cuts` left out.
pub struct XCoord {
    /// The axis over the range with the cuts taken out.
    inner: RangedCoordf64,
    range: Range<f64>,
    ticks: Option<Vec<f64>>,
    minor: Vec<f64>,
    cuts: Vec<(f64, f64)>,
}

impl XCoord {
    /// The axis over `range`, ticked at `ticks` when given, light grid lines
    /// at `minor` (with `ticks` only), the stretches `cuts` left out.
    pub fn new(range: Range<f64>, ticks: Option<Vec<f64>>, minor: Vec<f64>, cuts: Vec<(f64, f64)>) -> XCoord {
        let mut cuts: Vec<(f64, f64)> =
            cuts.into_iter().filter(|(a, b)| a.is_finite() && b.is_finite() && a < b).collect();
        cuts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let drawn = |v: f64| squeeze(&cuts, v);
        let inner = (drawn(range.start)..drawn(range.end)).into();
        XCoord { inner, range, ticks, minor, cuts }
    }
}

/// Where `v` lies on an axis with `cuts` (sorted) taken out: each cut before
/// it shortens the way to it; a value inside a cut lies at the cut.
fn squeeze(cuts: &[(f64, f64)], v: f64) -> f64 {
    let mut out = v;
    for &(a, b) in cuts {
        if v >= b {
            out -= b - a;
        } else if v > a {
            out -= v - a;
        }
    }
    out
}

impl Ranged for XCoord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(&squeeze(&self.cuts, *value), limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let r = &self.range;
        let within =
            |t: &Vec<f64>| -> Vec<f64> { t.iter().copied().filter(|x| *x >= r.start && *x <= r.end).collect() };
        match &self.ticks {
            // The light grid lines between bold ones: the minor ones only.
            Some(_) if hint.weight().allow_light_points() && hint.bold_points() < hint.max_num_points() => {
                within(&self.minor)
            }
            Some(t) => within(t),
            None => self.inner.key_points(hint),
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// Of `ticks` (position in pixels, label, label width in pixels), the ones
/// whose labels are kept: from the left, each label that starts at least
/// `gap` pixels after the last kept one ends and lies within `from..=to`.
pub fn thin(ticks: &[(i32, String, i32)], gap: i32, from: i32, to: i32) -> Vec<usize> {
    let mut kept = Vec::new();
    let mut right = i32::MIN;
    let mut order: Vec<usize> = (0..ticks.len()).collect();
    order.sort_by_key(|&i| ticks[i].0);
    for i in order {
        let (x, _, w) = &ticks[i];
        let (l, r) = (x - w / 2, x + w - w / 2);
        if l >= right.saturating_add(gap) && l >= from && r <= to {
            kept.push(i);
            right = r;
        }
    }
    kept.sort_unstable();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::ranged1d::{BoldPoints, LightPoints};

    #[test]
    fn given_ticks_are_the_key_points() {
        let a = XCoord::new(0.0..10.0, Some(vec![1.0, 2.5, 9.0, 12.0]), Vec::new(), Vec::new());
        assert_eq!(a.key_points(BoldPoints(4)), vec![1.0, 2.5, 9.0]);
        assert!(a.key_points(LightPoints::new(4, 40)).is_empty());
        let b = XCoord::new(0.0..10.0, None, Vec::new(), Vec::new());
        assert!(b.key_points(BoldPoints(6)).len() >= 3);
        let c = XCoord::new(0.0..2.0, Some(vec![0.0, 1.0, 2.0]), vec![0.3, 1.3, 2.3], Vec::new());
        assert_eq!(c.key_points(LightPoints::new(3, 30)), vec![0.3, 1.3]);
    }

    #[test]
    fn a_cut_stretch_takes_no_room() {
        // 0..100 with 10..90 left out: 0..10 and 90..100 share the width.
        let a = XCoord::new(0.0..100.0, None, Vec::new(), vec![(10.0, 90.0)]);
        assert_eq!(a.map(&0.0, (0, 200)), 0);
        assert_eq!(a.map(&10.0, (0, 200)), 100);
        assert_eq!(a.map(&50.0, (0, 200)), 100, "inside the cut: at it");
        assert_eq!(a.map(&90.0, (0, 200)), 100);
        assert_eq!(a.map(&95.0, (0, 200)), 150);
        assert_eq!(a.map(&100.0, (0, 200)), 200);
        assert_eq!(a.range(), 0.0..100.0);
    }

    #[test]
    fn overlapping_labels_are_left_out_from_the_left() {
        let t = |x: i32| (x, String::new(), 40);
        // 100 and 130 overlap (40 wide, 10 apart at least): 130 goes; 200 stays.
        assert_eq!(thin(&[t(100), t(130), t(200)], 10, 0, 1000), vec![0, 2]);
        // A label past the right end is left out.
        assert_eq!(thin(&[t(100), t(990)], 10, 0, 1000), vec![0]);
    }
}

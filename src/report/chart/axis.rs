//! The x axis of a chart: plotters' linear axis, or one whose ticks stand at
//! given positions only ([`super::Chart::x_ticks`]: a sweep's values as run,
//! on a linear or log scale), with the labels that would overlap their left
//! neighbour left out.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use std::ops::Range;

/// A linear f64 axis whose key points are `ticks` when given (and no light
/// grid lines between them), else plotters' own.
pub struct XCoord {
    inner: RangedCoordf64,
    ticks: Option<Vec<f64>>,
}

impl XCoord {
    /// The axis over `range`, ticked at `ticks` when given.
    pub fn new(range: Range<f64>, ticks: Option<Vec<f64>>) -> XCoord {
        XCoord { inner: range.into(), ticks }
    }
}

impl Ranged for XCoord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match &self.ticks {
            // The light grid lines between bold ones: none.
            Some(_) if hint.weight().allow_light_points() && hint.bold_points() < hint.max_num_points() => Vec::new(),
            Some(t) => {
                let r = self.inner.range();
                t.iter().copied().filter(|x| *x >= r.start && *x <= r.end).collect()
            }
            None => self.inner.key_points(hint),
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
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
        let a = XCoord::new(0.0..10.0, Some(vec![1.0, 2.5, 9.0, 12.0]));
        assert_eq!(a.key_points(BoldPoints(4)), vec![1.0, 2.5, 9.0]);
        assert!(a.key_points(LightPoints::new(4, 40)).is_empty());
        let b = XCoord::new(0.0..10.0, None);
        assert!(b.key_points(BoldPoints(6)).len() >= 3);
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

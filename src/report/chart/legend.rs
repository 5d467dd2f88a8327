//! Where a chart's legend goes: of the corners and edges of the plot, the
//! first (in an order of preference) where the legend box covers the least
//! data. The data is "ink": pixels sampled along every line, step, error bar
//! and reference line, and over every bar, in the plot's own pixel frame.

/// A box in pixels: left, top, right, bottom (right and bottom inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x0: i32,
    /// Top edge.
    pub y0: i32,
    /// Right edge.
    pub x1: i32,
    /// Bottom edge.
    pub y1: i32,
}

impl Rect {
    fn contains(&self, (x, y): (i32, i32), pad: i32) -> bool {
        x >= self.x0 - pad && x <= self.x1 + pad && y >= self.y0 - pad && y <= self.y1 + pad
    }
}

/// Gap between the legend and the plot's edge, as plotters leaves it.
const INSET: i32 = 5;

/// Places a legend of `size` (w, h) inside a plot of `plot` (w, h) pixels,
/// where `ink` lies. Candidates run from the preferred corner (lower right
/// when `prefer_low`, else upper right) round the other corners, then the
/// middles of the edges. Returns the box and how many ink samples it covers
/// (0 when it covers no data).
pub fn place(plot: (i32, i32), size: (i32, i32), ink: &[(i32, i32)], prefer_low: bool) -> (Rect, usize) {
    let (w, h) = size;
    let left = INSET;
    let right = plot.0 - w - INSET;
    let centre = (plot.0 - w) / 2;
    let top = INSET;
    let bottom = plot.1 - h - INSET;
    let middle = (plot.1 - h) / 2;
    let corners_low = [(right, bottom), (left, bottom), (right, top), (left, top)];
    let corners_high = [(right, top), (left, top), (right, bottom), (left, bottom)];
    let corners = if prefer_low { corners_low } else { corners_high };
    let edges = [(right, middle), (left, middle), (centre, top), (centre, bottom)];
    let mut best: Option<(Rect, usize)> = None;
    for (x, y) in corners.into_iter().chain(edges) {
        let r = Rect { x0: x, y0: y, x1: x + w, y1: y + h };
        let covered = ink.iter().filter(|p| r.contains(**p, 3)).count();
        if best.is_none_or(|(_, b)| covered < b) {
            best = Some((r, covered));
        }
        if covered == 0 {
            break;
        }
    }
    best.unwrap_or((Rect { x0: right, y0: top, x1: right + w, y1: top + h }, 0))
}

/// Samples along the polyline through `points` (pixels) at most 2 pixels
/// apart, into `out`.
pub fn trace(points: &[(i32, i32)], out: &mut Vec<(i32, i32)>) {
    if let [only] = points {
        out.push(*only);
    }
    for w in points.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        let steps = ((bx - ax).abs().max((by - ay).abs()) / 2).max(1);
        for s in 0..=steps {
            out.push((ax + (bx - ax) * s / steps, ay + (by - ay) * s / steps));
        }
    }
}

/// Samples over the box with corners `a` and `b` (pixels), 3 pixels apart.
pub fn fill(a: (i32, i32), b: (i32, i32), out: &mut Vec<(i32, i32)>) {
    let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
    let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
    for x in (x0..=x1).step_by(3) {
        for y in (y0..=y1).step_by(3) {
            out.push((x, y));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_corner_when_it_is_free() {
        let (r, n) = place((600, 400), (100, 50), &[], true);
        assert_eq!((r.x1, r.y1, n), (595, 395, 0));
        let (r, _) = place((600, 400), (100, 50), &[], false);
        assert_eq!((r.x1, r.y0), (595, 5));
    }

    #[test]
    fn a_corner_with_data_is_passed_over() {
        // A CDF's tail runs along the bottom right: the legend goes elsewhere.
        let mut ink = Vec::new();
        trace(&[(300, 300), (599, 399)], &mut ink);
        let (r, n) = place((600, 400), (100, 50), &ink, true);
        assert_eq!(n, 0);
        assert_eq!((r.x0, r.y1), (5, 395), "lower left: {r:?}");
    }

    #[test]
    fn least_covered_when_nothing_is_free() {
        let mut ink = Vec::new();
        fill((0, 0), (599, 399), &mut ink);
        // Thin the upper left: it is covered least.
        ink.retain(|p| p.0 > 120 || p.1 > 70 || p.0 % 2 == 0);
        let (r, n) = place((600, 400), (100, 50), &ink, false);
        assert!(n > 0);
        assert_eq!((r.x0, r.y0), (5, 5), "upper left: {r:?}");
    }

    #[test]
    fn traces_are_dense() {
        let mut out = Vec::new();
        trace(&[(0, 0), (10, 0)], &mut out);
        assert_eq!(out.len(), 6);
        assert_eq!(out.last(), Some(&(10, 0)));
    }
}

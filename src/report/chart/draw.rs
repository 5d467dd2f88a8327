//! Laying a [`Chart`] out with plotters: axes and their ticks, shaded
//! intervals, bands, series, the reference line, the axis break, the legend
//! placed where it covers no data, and the note under the plot.

use super::axis::{XCoord, thin};
use super::legend::{self, Rect};
use super::render::{FAMILY, FONT};
use super::ticks::{TickFormat, linear_ticks, log_label};
use super::{Chart, Layout, Mark, Shape, Tone};
use plotters::coord::Shift;
use plotters::element::MultiLineText;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::sync::Once;

/// Text sizes in pixels at font scale 1, for a chart [`super::SIZE`] wide:
/// scaled to a 3.5-inch column, the smallest is about 6 points.
pub(crate) const TITLE_PX: f64 = 25.0;
const AXIS_PX: f64 = 21.0;
const TICK_PX: f64 = 20.0;
const LEGEND_PX: f64 = 19.0;
const NOTE_PX: f64 = 18.0;
/// Labelled ticks asked of plotters on a linear axis.
const TICKS: usize = 7;

/// Okabe & Ito (2008) colour-blind safe palette.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// The colour of series `i`.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Dash patterns (on, off in pixels) of line series 0, 1, 2, … in turn.
const DASHES: [Option<(u32, u32)>; 4] = [None, Some((12, 6)), Some((4, 4)), Some((14, 4))];

/// Registers the embedded font with plotters (for its text measurements).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font, checked by a test.
        let _ = register_font(FAMILY, FontStyle::Normal, FONT);
        let _ = register_font(FAMILY, FontStyle::Bold, FONT);
    });
}

/// The (min, max) of `vals`, widened when empty or degenerate.
fn span(vals: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero && lo >= 0.0 {
        lo = 0.0;
    }
    if hi - lo < 1e-12 {
        let pad = if hi.abs() > 1e-12 { hi.abs() * 0.1 } else { 1.0 };
        return (lo - pad, hi + pad);
    }
    (lo, hi)
}

/// A round step for about five ticks over `range`: 1, 2 or 5 times a power of ten.
fn nice_step(range: f64) -> f64 {
    let raw = (range / 5.0).max(1e-12);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(10.0 * p)
}

impl Chart {
    pub(super) fn x_span(&self) -> (f64, f64) {
        if let Some(r) = self.x_range {
            return r;
        }
        let mut xs = Vec::new();
        for s in &self.series {
            for (x, _) in &s.points {
                match s.mark {
                    Mark::Bars { width, offset } => {
                        xs.push(x + offset - width / 2.0);
                        xs.push(x + offset + width / 2.0);
                    }
                    _ => xs.push(*x),
                }
            }
        }
        for s in &self.shades {
            xs.push(s.from);
            xs.push(s.to);
        }
        xs.extend(self.x_ticks.iter().map(|t| t.0));
        let (lo, hi) = span(xs.into_iter(), false);
        if self.log_x && self.x_ticks.is_empty() {
            // Whole decades around the data, so that the ticks fall on them.
            return (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
        }
        if self.x_pad {
            let pad = (hi - lo) * 0.06;
            return (lo - pad, hi + pad);
        }
        (lo, hi)
    }

    /// The y range of one axis with `headroom` (a fraction of the data's
    /// range) above the data for the legend; for a fixed range, the room
    /// beyond the first try. Returns the range and whether the left axis was
    /// fitted above 0.
    pub(super) fn y_span(&self, secondary: bool, headroom: f64) -> ((f64, f64), bool) {
        let fixed = if secondary { self.y2_range } else { self.y_range };
        let extra = headroom - super::HEADROOM[0];
        if let Some((lo, hi)) = fixed {
            return ((lo, hi + (hi - lo) * extra), false);
        }
        let mut ys = Vec::new();
        for s in self.series.iter().filter(|s| s.secondary == secondary) {
            ys.extend(s.points.iter().map(|p| p.1));
            ys.extend(s.errors.iter().flat_map(|e| [e.0, e.1]));
            ys.extend(s.band.iter().flat_map(|e| [e.0, e.1]));
        }
        if !secondary && let Some((y, _)) = self.hline {
            ys.push(y);
        }
        let fit = self.y_fit && !secondary;
        let log = self.log_y && !secondary;
        let (mut lo, hi) = span(ys.into_iter(), !fit && !log);
        let mut cut = false;
        if log {
            // Whole decades, like a log x axis.
            return ((lo.floor(), hi.ceil().max(lo.floor() + 1.0) + (hi.ceil() - lo.floor()) * extra), false);
        }
        if fit && lo > 0.0 {
            let step = nice_step(hi - lo);
            let fitted = ((lo - (hi - lo) * 0.05) / step).floor() * step;
            if fitted > 0.0 {
                lo = fitted;
                cut = true;
            } else {
                lo = 0.0;
            }
        }
        ((lo, hi + (hi - lo) * headroom), cut)
    }
}

/// The corners of an empirical CDF's staircase through `points` (x ascending,
/// y the CDF at x), held flat to `x_end`.
pub(super) fn step_points(points: &[(f64, f64)], x_end: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2 + 2);
    let mut last_y = 0.0;
    for &(x, y) in points {
        out.push((x, last_y));
        out.push((x, y));
        last_y = y;
    }
    if let Some(&(x, _)) = points.last()
        && x_end > x
    {
        out.push((x_end, last_y));
    }
    out
}

/// The title and its font size so that it fits `width` pixels: the size
/// shrinks down to 60% of `size`; below that, the title is cut short with an
/// ellipsis (the full title stays in the SVG's `<title>`).
pub(super) fn fit_title(title: &str, size: f64, width: i32) -> (String, f64) {
    let wide = |s: &str, px: f64| -> i32 {
        let font: TextStyle = (FAMILY, px).into_font().into();
        font.font.box_size(s).map(|(w, _)| w as i32).unwrap_or(0)
    };
    let full = wide(title, size);
    if full <= width {
        return (title.to_string(), size);
    }
    let least = (size * 0.6).round();
    let fitted = (size * f64::from(width) / f64::from(full.max(1))).floor().max(least);
    let chars: Vec<char> = title.chars().collect();
    let mut n = chars.len();
    loop {
        let cut: String = chars[..n].iter().collect();
        let t = if n == chars.len() { cut } else { format!("{}…", cut.trim_end()) };
        if wide(&t, fitted) <= width || n <= 1 {
            return (t, fitted);
        }
        n -= 1;
    }
}

/// The label of the x key point `x`: a position's name on a categorical
/// axis, a whole number on an integer one (nothing between two positions),
/// a decade on a log axis, else the axis's number format.
pub(super) fn x_label(chart: &Chart, format: &TickFormat, x: f64) -> String {
    let whole = (x - x.round()).abs() < 1e-6;
    if !chart.x_names.is_empty() {
        let i = x.round();
        if whole && i >= 0.0 { chart.x_names.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
    } else if chart.log_x {
        log_label(x)
    } else if chart.integer_x {
        if whole { format!("{}", x.round() as i64) } else { String::new() }
    } else {
        format.label(x)
    }
}

/// The whole decades of a log x axis from `x0` to `x1`, each with its label
/// (1, 10, 100, 1k), when the chart does not place its own ticks.
fn log_x_decades(chart: &Chart, x0: f64, x1: f64) -> Vec<(f64, String)> {
    if !(chart.log_x && chart.x_ticks.is_empty() && x0.is_finite() && x1.is_finite()) {
        return Vec::new();
    }
    (x0.ceil() as i64..=x1.floor() as i64).map(|e| (e as f64, log_label(e as f64))).collect()
}

/// Splits `text` into lines no wider than `width` pixels in `font`.
fn wrap(text: &str, font: &TextStyle, width: i32) -> Vec<String> {
    let wide = |s: &str| font.font.box_size(s).map(|(w, _)| w as i32).unwrap_or(0);
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if wide(&format!("{line} {word}")) <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Draws `chart` on `area` with `headroom` above the data; returns its layout.
pub fn draw<DB: DrawingBackend>(
    chart: &Chart,
    root: &DrawingArea<DB, Shift>,
    style: &super::Style,
    headroom: f64,
) -> Result<Layout, String> {
    register();
    let z = style.font_scale;
    let px = |size: f64| (size * z).round().max(1.0);
    let room = |size: u32| (f64::from(size) * z).round() as u32;
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    // The note under the plot, wrapped to the width.
    let note_font: TextStyle = (FAMILY, px(NOTE_PX)).into_font().into();
    let (w, h) = root.dim_in_pixel();
    let margin = room(14) as i32;
    // Without the title the note goes too: a paper's caption says both.
    let note = chart.note.as_deref().filter(|_| style.title);
    let note_lines = note.map(|n| wrap(n, &note_font, w as i32 - 2 * margin)).unwrap_or_default();
    let line_h = (px(NOTE_PX) * 1.3).round() as i32;
    let note_h = if note_lines.is_empty() { 0 } else { line_h * note_lines.len() as i32 + margin / 2 };
    let (area, below) = root.split_vertically(h as i32 - note_h);
    for (i, line) in note_lines.iter().enumerate() {
        below
            .draw(&Text::new(line.as_str(), (margin, i as i32 * line_h), note_font.color(&BLACK.mix(0.8))))
            .map_err(e)?;
    }

    let (x0, x1) = chart.x_span();
    let ((y0, y1), y_cut) = chart.y_span(false, headroom);
    let ((z0, z1), _) = chart.y_span(true, headroom);
    let has_right = chart.series.iter().any(|s| s.secondary);
    // A log axis without given ticks is ticked at every whole decade, with
    // light lines at 2, 3, … 9 times each.
    let auto_log = log_x_decades(chart, x0, x1);
    let given: &[(f64, String)] = if chart.x_ticks.is_empty() { &auto_log } else { &chart.x_ticks };
    let explicit = !given.is_empty();
    let tick_at: Vec<f64> = given.iter().map(|t| t.0).collect();
    let minor: Vec<f64> = if auto_log.is_empty() {
        Vec::new()
    } else {
        (x0.floor() as i64..x1.ceil() as i64)
            .flat_map(|e| (2..10).map(move |m| e as f64 + f64::from(m).log10()))
            .filter(|x| *x > x0 && *x < x1)
            .collect()
    };
    let mut builder = ChartBuilder::on(&area);
    if style.title && !chart.title.is_empty() {
        let (title, size) = fit_title(&chart.title, px(TITLE_PX), w as i32 - 2 * margin);
        builder.caption(title, (FAMILY, size).into_font());
    }
    // Room on the right for the last x tick label when no axis is there.
    let right = if has_right { margin as u32 } else { room(30) };
    let mut ctx = builder
        .margin(margin as u32)
        .margin_right(right)
        .x_label_area_size(room(60))
        .y_label_area_size(room(92))
        .right_y_label_area_size(if has_right { room(96) } else { 0 })
        .build_cartesian_2d(XCoord::new(x0..x1, explicit.then(|| tick_at.clone()), minor, chart.x_cuts.clone()), y0..y1)
        .map_err(e)?
        .set_secondary_coord(XCoord::new(x0..x1, None, Vec::new(), chart.x_cuts.clone()), z0..z1);
    let (integer_x, log_x, log_y) = (chart.integer_x, chart.log_x, chart.log_y);
    // As many x labels as fit side by side: the widest label and a gap of
    // one em each (digits are about 0.64 em wide in DejaVu Sans).
    let plot_w = f64::from(w) - f64::from(room(92)) - f64::from(if has_right { room(96) } else { 0 }) - 60.0 * z;
    let widest = if !chart.x_names.is_empty() {
        let names = &chart.x_names;
        names.iter().map(|n| n.chars().count()).max().unwrap_or(1) + 1
    } else if integer_x {
        format!("{}", x0.abs().max(x1.abs()).round() as i64).len() + 1
    } else {
        5
    };
    let fits = (plot_w / ((widest as f64 * 0.64 + 1.0) * px(TICK_PX))).floor().max(2.0) as usize;
    let x_ticks = if explicit {
        given.len()
    } else if integer_x || log_x {
        ((x1 - x0).ceil() as usize + 1).clamp(2, 24).min(fits)
    } else {
        TICKS.min(fits)
    };
    // Given ticks: every label that does not overlap the one kept before it.
    // A log axis's decades: every one when all fit side by side, else every
    // second, third, … (1 always among them), so that they stay evenly spaced.
    let kept: Vec<(f64, String)> = if explicit {
        let font: TextStyle = (FAMILY, px(TICK_PX)).into_font().into();
        let (left, _) = ctx.backend_coord(&(x0, y0));
        let (right, _) = ctx.backend_coord(&(x1, y0));
        let slack = room(30) as i32;
        let keep = |ticks: &[(f64, String)]| -> Vec<(f64, String)> {
            let placed: Vec<(i32, String, i32)> = ticks
                .iter()
                .map(|(x, l)| {
                    let wide = font.font.box_size(l).map(|(w, _)| w as i32).unwrap_or(0);
                    (ctx.backend_coord(&(*x, y0)).0, l.clone(), wide)
                })
                .collect();
            let keep = thin(&placed, (px(TICK_PX) * 0.5) as i32, left - slack, right + slack);
            keep.into_iter().map(|i| ticks[i].clone()).collect()
        };
        if chart.x_ticks.is_empty() {
            (1..=given.len() as i64)
                .map(|every| -> Vec<(f64, String)> {
                    given.iter().filter(|t| (t.0.round() as i64).rem_euclid(every) == 0).cloned().collect()
                })
                .find(|some| !some.is_empty() && keep(some).len() == some.len())
                .unwrap_or_default()
        } else {
            keep(given)
        }
    } else {
        Vec::new()
    };
    let y_ticks = if log_y { ((y1 - y0).ceil() as usize + 1).clamp(2, 24) } else { TICKS };
    let x_format = TickFormat::for_ticks(&linear_ticks(x0, x1, x_ticks));
    let y_format = TickFormat::for_ticks(&linear_ticks(y0, y1, y_ticks));
    let z_format = TickFormat::for_ticks(&linear_ticks(z0, z1, TICKS));
    let kept_ref = &kept;
    let x_fmt = move |x: &f64| {
        if explicit {
            kept_ref.iter().find(|t| (t.0 - *x).abs() < 1e-9).map(|t| t.1.clone()).unwrap_or_default()
        } else {
            x_label(chart, &x_format, *x)
        }
    };
    let y_max = chart.y_label_max.unwrap_or(f64::INFINITY);
    let y_fmt = move |y: &f64| {
        if *y > y_max + 1e-9 {
            String::new()
        } else if log_y {
            log_label(*y)
        } else {
            y_format.label(*y)
        }
    };
    ctx.configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .x_labels(x_ticks)
        .y_labels(y_ticks)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FAMILY, px(TICK_PX)))
        .axis_desc_style((FAMILY, px(AXIS_PX)))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(e)?;
    if has_right {
        ctx.configure_secondary_axes()
            .y_desc(chart.y2_label.as_deref().unwrap_or(""))
            .y_labels(TICKS)
            .y_label_formatter(&|y: &f64| z_format.label(*y))
            .label_style((FAMILY, px(TICK_PX)))
            .axis_desc_style((FAMILY, px(AXIS_PX)))
            .draw()
            .map_err(e)?;
    }

    // Shaded intervals, one legend entry per label.
    let mut labelled: Vec<&str> = Vec::new();
    for s in &chart.shades {
        let fill = match s.tone {
            Tone::Grey => RGBColor(120, 120, 120).mix(0.15),
            Tone::Warm => RGBColor(230, 159, 0).mix(0.22),
        };
        let anno = ctx
            .draw_series(std::iter::once(Rectangle::new([(s.from.max(x0), y0), (s.to.min(x1), y1)], fill.filled())))
            .map_err(e)?;
        if !labelled.contains(&s.label.as_str()) {
            labelled.push(&s.label);
            anno.label(s.label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], fill.filled()));
        }
    }

    let base = ctx.plotting_area().get_base_pixel();
    let plot_dim = ctx.plotting_area().dim_in_pixel();
    let mut ink: Vec<(i32, i32)> = Vec::new();
    let mut lines: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut bars: Vec<(f64, f64, f64)> = Vec::new();
    let rel = |p: (i32, i32)| (p.0 - base.0, p.1 - base.1);

    if let Some((y, label)) = &chart.hline {
        let line = BLACK.mix(0.6).stroke_width(2);
        ctx.draw_series(DashedLineSeries::new(vec![(x0, *y), (x1, *y)], 8, 5, line))
            .map_err(e)?
            .label(label.as_str())
            // The key dashed as the line is: two dashes with a gap.
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (8, 0)], line)
                    + PathElement::new(vec![(13, 0), (21, 0)], line)
            });
        legend::trace(&[rel(ctx.backend_coord(&(x0, *y))), rel(ctx.backend_coord(&(x1, *y)))], &mut ink);
    }

    for (i, s) in chart.series.iter().enumerate() {
        let look = s.style_index.unwrap_or(i);
        let c = colour(look);
        let line = c.stroke_width(2);
        // Lines after the first are dashed, so that series lying on top of
        // each other stay visible (and tell apart in greyscale).
        let dash = DASHES[look % DASHES.len()];
        // The legend's line: three segments, joined for a solid line,
        // apart like the line's own dashes otherwise.
        let (d, gap) = match dash {
            None => (8, 8),
            Some((on, _)) if on > 6 => (6, 8),
            Some(_) => (3, 8),
        };
        if let Mark::Points { shape } = s.mark {
            let r = room(5).max(2) as i32;
            // Interval bars, capped, under the markers.
            let cap = room(10).max(4);
            let drawn: Vec<(f64, f64, f64, f64)> = s
                .points
                .iter()
                .zip(&s.errors)
                .filter(|((x, y), (lo, hi))| x.is_finite() && y.is_finite() && lo.is_finite() && hi.is_finite())
                .map(|(&(x, y), &(lo, hi))| (x, y, lo, hi))
                .collect();
            // plotters' ErrorBar also rings the point: a bar and two caps only.
            let half = (cap / 2) as i32;
            let capped =
                move |at: (f64, f64)| EmptyElement::at(at) + PathElement::new(vec![(-half, 0), (half, 0)], line);
            ctx.draw_series(drawn.iter().map(|&(x, _, lo, hi)| PathElement::new(vec![(x, lo), (x, hi)], line)))
                .map_err(e)?;
            ctx.draw_series(drawn.iter().flat_map(|&(x, _, lo, hi)| [capped((x, lo)), capped((x, hi))])).map_err(e)?;
            for &(x, _, lo, hi) in &drawn {
                legend::trace(&[rel(ctx.backend_coord(&(x, lo))), rel(ctx.backend_coord(&(x, hi)))], &mut ink);
                bars.push((x, lo, hi));
            }
            let pts = s.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite());
            match shape {
                Shape::Circle => {
                    let a = ctx.draw_series(pts.map(|p| Circle::new(p, r, c.filled()))).map_err(e)?;
                    a.label(s.name.as_str()).legend(move |(x, y)| Circle::new((x + 11, y), r, c.filled()));
                }
                Shape::Ring => {
                    let a = ctx.draw_series(pts.map(|p| Circle::new(p, r, c.stroke_width(2)))).map_err(e)?;
                    a.label(s.name.as_str()).legend(move |(x, y)| Circle::new((x + 11, y), r, c.stroke_width(2)));
                }
                Shape::Triangle => {
                    let a = ctx.draw_series(pts.map(|p| TriangleMarker::new(p, r + 1, c.filled()))).map_err(e)?;
                    a.label(s.name.as_str()).legend(move |(x, y)| TriangleMarker::new((x + 11, y), r + 1, c.filled()));
                }
                Shape::Square => {
                    let sq = move || Rectangle::new([(1 - r, 1 - r), (r - 1, r - 1)], c.filled());
                    let a = ctx.draw_series(pts.map(|p| EmptyElement::at(p) + sq())).map_err(e)?;
                    a.label(s.name.as_str()).legend(move |(x, y)| EmptyElement::at((x + 11, y)) + sq());
                }
                Shape::Cross => {
                    let a = ctx.draw_series(pts.map(|p| Cross::new(p, r, c.stroke_width(2)))).map_err(e)?;
                    a.label(s.name.as_str()).legend(move |(x, y)| Cross::new((x + 11, y), r, c.stroke_width(2)));
                }
                Shape::Diamond => {
                    let k = r + 1;
                    let dia = move || Polygon::new(vec![(0, -k), (k, 0), (0, k), (-k, 0)], c.filled());
                    let a = ctx.draw_series(pts.map(|p| EmptyElement::at(p) + dia())).map_err(e)?;
                    a.label(s.name.as_str()).legend(move |(x, y)| EmptyElement::at((x + 11, y)) + dia());
                }
            }
            for p in s.points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
                let (x, y) = rel(ctx.backend_coord(p));
                legend::fill((x - r, y - r), (x + r, y + r), &mut ink);
            }
            // Lines between the points that are linked, in the series' dash.
            let mut run: Vec<(f64, f64)> = Vec::new();
            for (i, p) in s.points.iter().enumerate() {
                run.push(*p);
                if !s.links.get(i).copied().unwrap_or(false) || i + 1 == s.points.len() {
                    if run.len() > 1 {
                        match dash {
                            None => ctx.draw_series(LineSeries::new(run.clone(), line)).map_err(e)?,
                            Some((on, off)) => {
                                ctx.draw_series(DashedLineSeries::new(run.clone(), on, off, line)).map_err(e)?
                            }
                        };
                        let px: Vec<(i32, i32)> = run.iter().map(|p| rel(ctx.backend_coord(p))).collect();
                        legend::trace(&px, &mut ink);
                        lines.push(std::mem::take(&mut run));
                    }
                    run.clear();
                }
            }
            continue;
        }
        let seg = move |k: i32| PathElement::new(vec![(k * gap, 0), (k * gap + d, 0)], c.stroke_width(3));
        let line_key = move |(x, y): (i32, i32)| EmptyElement::at((x, y)) + seg(0) + seg(1) + seg(2);
        let bar_key = move |(x, y): (i32, i32)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], c.filled());
        let points: Vec<(f64, f64)> = match s.mark {
            Mark::Step => step_points(&s.points, x1),
            _ => s.points.clone(),
        };
        let band: Vec<(f64, f64)> = if s.band.len() == s.points.len() && !s.band.is_empty() {
            let low = s.points.iter().zip(&s.band).map(|(p, b)| (p.0, b.0));
            let high = s.points.iter().zip(&s.band).rev().map(|(p, b)| (p.0, b.1));
            low.chain(high).filter(|p| p.1.is_finite()).collect()
        } else {
            Vec::new()
        };
        macro_rules! draw_on {
            ($draw:ident, $coord:expr) => {{
                if !band.is_empty() {
                    ctx.$draw(std::iter::once(Polygon::new(band.clone(), c.mix(0.2).filled()))).map_err(e)?;
                }
                let anno = match s.mark {
                    Mark::Bars { width, offset } => ctx
                        .$draw(s.points.iter().map(|&(x, y)| {
                            let l = x + offset - width / 2.0;
                            Rectangle::new([(l, 0.0_f64.max(y0)), (l + width, y)], c.mix(0.85).filled())
                        }))
                        .map_err(e)?,
                    _ => match dash {
                        None => ctx.$draw(LineSeries::new(points.clone(), line)).map_err(e)?,
                        Some((on, off)) => {
                            ctx.$draw(DashedLineSeries::new(points.clone(), on, off, line)).map_err(e)?
                        }
                    },
                };
                let anno = anno.label(s.name.as_str());
                if matches!(s.mark, Mark::Bars { .. }) {
                    anno.legend(bar_key);
                } else {
                    anno.legend(line_key);
                }
                if let Mark::Line { dots: true } = s.mark {
                    ctx.$draw(s.points.iter().map(|p| Circle::new(*p, 4, c.filled()))).map_err(e)?;
                }
                if !s.errors.is_empty() {
                    ctx.$draw(
                        s.points
                            .iter()
                            .zip(&s.errors)
                            .filter(|(_, (lo, hi))| lo.is_finite() && hi.is_finite())
                            .map(|(&(x, y), &(lo, hi))| ErrorBar::new_vertical(x, lo, y, hi, line, 10)),
                    )
                    .map_err(e)?;
                }
                // The ink the legend must not cover.
                let to_px = $coord;
                match s.mark {
                    Mark::Bars { width, offset } => {
                        for &(x, y) in &s.points {
                            let l = x + offset - width / 2.0;
                            legend::fill(rel(to_px(&(l, 0.0_f64.max(y0)))), rel(to_px(&(l + width, y))), &mut ink);
                        }
                    }
                    _ => {
                        let px: Vec<(i32, i32)> = points.iter().map(|p| rel(to_px(p))).collect();
                        legend::trace(&px, &mut ink);
                        lines.push(points.clone());
                    }
                }
                for (&(x, _), &(lo, hi)) in s.points.iter().zip(&s.errors) {
                    if lo.is_finite() && hi.is_finite() {
                        legend::trace(&[rel(to_px(&(x, lo))), rel(to_px(&(x, hi)))], &mut ink);
                        bars.push((x, lo, hi));
                    }
                }
            }};
        }
        if s.secondary {
            draw_on!(draw_secondary_series, |p: &(f64, f64)| ctx.borrow_secondary().backend_coord(p));
        } else {
            draw_on!(draw_series, |p: &(f64, f64)| ctx.backend_coord(p));
        }
    }

    // A break on the x axis at each stretch left out.
    for &(from, _) in &chart.x_cuts {
        if from <= x0 || from >= x1 {
            continue;
        }
        let (bx, by) = ctx.backend_coord(&(from, y0));
        let d = room(6) as i32;
        let ink_line = BLACK.mix(0.75).stroke_width(2);
        area.draw(&Rectangle::new([(bx - d / 2, by - d), (bx + d / 2, by + d)], WHITE.filled())).map_err(e)?;
        for dx in [-d / 2, d / 2] {
            area.draw(&PathElement::new(vec![(bx + dx - d / 2, by + d), (bx + dx + d / 2, by - d)], ink_line))
                .map_err(e)?;
        }
    }

    // A break on the left axis when it does not start at 0.
    if y_cut {
        let (bx, by) = (base.0, base.1 + plot_dim.1 as i32 - room(16) as i32);
        let d = room(6) as i32;
        let ink_line = BLACK.mix(0.75).stroke_width(2);
        area.draw(&Rectangle::new([(bx - d, by - d / 2), (bx + d, by + d / 2)], WHITE.filled())).map_err(e)?;
        for dy in [-d / 2, d / 2] {
            area.draw(&PathElement::new(vec![(bx - d, by + dy + d / 2), (bx + d, by + dy - d / 2)], ink_line))
                .map_err(e)?;
        }
    }

    // The legend where it covers the least data.
    let entries: Vec<String> = labelled
        .iter()
        .map(|l| l.to_string())
        .chain(chart.hline.iter().map(|h| h.1.clone()))
        .chain(chart.series.iter().map(|s| s.name.clone()))
        .collect();
    let mut placed = None;
    if !entries.is_empty() {
        let font: TextStyle = (FAMILY, px(LEGEND_PX)).into_font().into();
        let mut text = MultiLineText::<_, &str>::new((0, 0), &font);
        for l in &entries {
            text.push_line(l.as_str());
        }
        let (tw, th) = text.estimate_dimension().map_err(|e| e.to_string())?;
        let (key, pad) = (room(32) as i32, room(8) as i32);
        let size = (tw + key + 2 * pad, th + 2 * pad);
        let (rect, covered): (Rect, usize) =
            legend::place((plot_dim.0 as i32, plot_dim.1 as i32), size, &ink, chart.legend_low);
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::Coordinate(rect.x0, rect.y0))
            .legend_area_size(key as u32)
            .margin(pad as u32)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(font)
            .draw()
            .map_err(e)?;
        placed = Some((rect, covered));
    }
    let x_cuts = chart.x_cuts.iter().copied().filter(|c| c.0 > x0 && c.0 < x1).collect();
    let note_lines = note_lines.len();
    Ok(Layout { legend: placed, y: (y0, y1), y_cut, x: (x0, x1), x_labels: kept, x_cuts, lines, bars, note_lines })
}

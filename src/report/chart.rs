//! One chart description, drawn to PNG, SVG and PDF.
//!
//! Charts are data first: a [`Chart`] holds a title, axis labels with units and
//! its series. [`Chart::save_as`] lays it out once with plotters as SVG, then
//! renders that drawing with resvg: PNG rasterised by tiny-skia, SVG with text
//! as outlines (plus the words in `<title>`/`<desc>`), PDF by svg2pdf with the
//! font embedded. Text is shaped by rustybuzz from the embedded DejaVu Sans in
//! every format, so glyphs sit at the font's own advances and kerning (plotters'
//! bitmap text rounded each advance: "node lookup s", "gets(n = 507)") and
//! nothing depends on the fonts of the machine that draws or views a chart.
//! Colours are the Okabe–Ito palette, readable by colour-blind readers and in
//! greyscale print.

use crate::metrics::writer::AtomicFile;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The font, embedded so that charts never depend on the machine's fonts.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family name charts ask for: the embedded font's own name, so that the
/// SVG renderer (usvg) finds it in the font database built from [`FONT`].
const FAMILY: &str = "DejaVu Sans";
/// Chart size in pixels (PNG) and user units (SVG).
pub const SIZE: (u32, u32) = (960, 600);

/// Okabe & Ito (2008) colour-blind safe palette, black first.
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

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark {
    /// Straight segments between points, with a dot at each when `dots`.
    Line {
        /// Whether to mark each point.
        dots: bool,
    },
    /// An empirical CDF: horizontal steps, rising at each point.
    Step,
    /// Bars of `width` (x units), shifted by `offset` from each x (grouped bars).
    Bars {
        /// Bar width in x units.
        width: f64,
        /// Shift from the x value, for side-by-side groups.
        offset: f64,
    },
}

/// One series of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// (x, y) points in ascending x.
    pub points: Vec<(f64, f64)>,
    /// Error bars: (low, high) for each point, or empty.
    pub errors: Vec<(f64, f64)>,
    /// How it is drawn.
    pub mark: Mark,
    /// Plotted against the right-hand axis.
    pub secondary: bool,
}

impl Series {
    /// A series drawn as `mark` against the left axis.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, mark: Mark) -> Series {
        Series { name: name.into(), points, errors: Vec::new(), mark, secondary: false }
    }

    /// The same series against the right-hand axis.
    pub fn on_right(mut self) -> Series {
        self.secondary = true;
        self
    }

    /// With error bars.
    pub fn with_errors(mut self, errors: Vec<(f64, f64)>) -> Series {
        self.errors = errors;
        self
    }
}

/// A chart: title, axes, series and optional guides.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label, with unit.
    pub x_label: String,
    /// Left y-axis label, with unit.
    pub y_label: String,
    /// Right y-axis label, when any series is secondary.
    pub y2_label: Option<String>,
    /// The data.
    pub series: Vec<Series>,
    /// A shaded x interval with its legend text (e.g. the warm-up).
    pub shade: Option<(f64, f64, String)>,
    /// A horizontal reference line on the left axis, with its legend text.
    pub hline: Option<(f64, String)>,
    /// Fixed left y range (else from the data, starting at 0 when all y ≥ 0).
    pub y_range: Option<(f64, f64)>,
    /// Fixed right y range.
    pub y2_range: Option<(f64, f64)>,
    /// Legend in the lower right instead of the upper right.
    pub legend_low: bool,
    /// x ticks at integers only (hop counts, bucket indices).
    pub integer_x: bool,
    /// Room on both sides of the x range, so that end points and their error
    /// bars are not clipped.
    pub x_pad: bool,
    /// The x values are log10 of the quantity (see [`log10_x`]): ticks at
    /// whole decades, labelled with the quantity (1, 10, 100, 1k, 10k).
    pub log_x: bool,
}

/// Smallest value a log axis shows; anything at or below it (a get answered
/// from the origin's own store takes 0 ms) is drawn at it.
pub const LOG_FLOOR: f64 = 0.1;

/// Points with x replaced by log10(x), x floored at [`LOG_FLOOR`], for a chart with `log_x`.
pub fn log10_x(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points.iter().map(|&(x, y)| (x.max(LOG_FLOOR).log10(), y)).collect()
}

/// The label of a tick at `x` on a log axis: the quantity at whole decades,
/// nothing between them.
fn log_tick(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 { tick(10f64.powi(x.round() as i32)) } else { String::new() }
}

/// Why a chart could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {msg}")]
pub struct ChartError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub msg: String,
}

/// How charts are drawn: formats, size, text scale, title. The default is
/// PNG and SVG at 960×600 with titles, as `kadsim plot` draws without flags.
#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// Files to write, one per format.
    pub formats: Vec<Format>,
    /// Width in pixels (PNG) or user units (SVG, PDF points).
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Every text size and the room for axis labels multiplied by this.
    pub font_scale: f64,
    /// Whether to draw the title (a paper's figure has a caption instead).
    pub title: bool,
}

impl Default for Style {
    fn default() -> Style {
        Style { formats: vec![Format::Png, Format::Svg], width: SIZE.0, height: SIZE.1, font_scale: 1.0, title: true }
    }
}

impl Style {
    /// Checks sizes and scale: one line naming the option at fault.
    pub fn check(&self) -> Result<(), String> {
        if !(200..=10_000).contains(&self.width) || !(150..=10_000).contains(&self.height) {
            return Err(format!(
                "--width {} --height {}: expected a width of 200 to 10000 and a height of 150 to 10000",
                self.width, self.height
            ));
        }
        if !(self.font_scale.is_finite() && (0.25..=5.0).contains(&self.font_scale)) {
            return Err(format!("--font-scale {}: expected 0.25 to 5", self.font_scale));
        }
        if self.formats.is_empty() {
            return Err("--format: expected at least one of png, svg, pdf".into());
        }
        Ok(())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            "pdf" => Ok(Format::Pdf),
            other => Err(format!("--format: '{other}' is not one of png, svg, pdf")),
        }
    }
}

/// Parses `png,svg,pdf` into formats, without repeats, in the order given.
pub fn parse_formats(list: &str) -> Result<Vec<Format>, String> {
    let mut out: Vec<Format> = Vec::new();
    for f in list.split(',') {
        let f: Format = f.parse()?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

/// A chart file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Raster, for slides and quick looks.
    Png,
    /// Vector, text as outlines.
    Svg,
    /// Vector, for LaTeX papers, font embedded.
    Pdf,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
            Format::Pdf => "pdf",
        }
    }
}

/// usvg's options: the embedded font as the only one, and the default family.
fn usvg_options() -> resvg::usvg::Options<'static> {
    let mut opt = resvg::usvg::Options { font_family: FAMILY.to_string(), ..Default::default() };
    opt.fontdb_mut().load_font_data(FONT.to_vec());
    opt
}

/// The drawing rasterised at its own size, as PNG bytes.
fn png_of(tree: &resvg::usvg::Tree) -> Result<Vec<u8>, String> {
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| "empty drawing".to_string())?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

fn register() {
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

impl Chart {
    fn x_span(&self) -> (f64, f64) {
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
        if let Some((a, b, _)) = &self.shade {
            xs.push(*a);
            xs.push(*b);
        }
        let (lo, hi) = span(xs.into_iter(), false);
        if self.log_x {
            // Whole decades around the data, so that the ticks fall on them.
            return (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
        }
        if self.x_pad {
            let pad = (hi - lo) * 0.06;
            return (lo - pad, hi + pad);
        }
        (lo, hi)
    }

    fn y_span(&self, secondary: bool) -> (f64, f64) {
        let fixed = if secondary { self.y2_range } else { self.y_range };
        if let Some(r) = fixed {
            return r;
        }
        let mut ys = Vec::new();
        for s in self.series.iter().filter(|s| s.secondary == secondary) {
            ys.extend(s.points.iter().map(|p| p.1));
            ys.extend(s.errors.iter().flat_map(|e| [e.0, e.1]));
        }
        if !secondary && let Some((y, _)) = self.hline {
            ys.push(y);
        }
        let (lo, hi) = span(ys.into_iter(), true);
        // Headroom above the data for the legend.
        (lo, hi + (hi - lo) * 0.15)
    }

    /// Draws to `<stem>.png` and `<stem>.svg`; returns both paths.
    pub fn save(&self, stem: &Path) -> Result<Vec<PathBuf>, ChartError> {
        self.save_styled(stem, &Style::default())
    }

    /// Draws in `formats` at the default size.
    pub fn save_as(&self, stem: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, ChartError> {
        self.save_styled(stem, &Style { formats: formats.to_vec(), ..Style::default() })
    }

    /// Draws the chart once as SVG with plotters, then renders that drawing
    /// with resvg into each of the style's formats: PNG rasterised from it, SVG with its
    /// text turned into outlines (it needs no font on the reader's machine),
    /// PDF by svg2pdf with the font embedded. Text is laid out by one shaper
    /// (rustybuzz, in usvg) from the embedded DejaVu Sans in every format, so
    /// glyphs are spaced by the font's own advances and kerning. Each file is
    /// written under a temporary name and renamed when whole.
    pub fn save_styled(&self, stem: &Path, style: &Style) -> Result<Vec<PathBuf>, ChartError> {
        register();
        let fail = |path: &Path, msg: String| ChartError { path: path.to_path_buf(), msg };
        let svg_path = stem.with_extension("svg");
        let mut text = String::new();
        {
            let area = SVGBackend::with_string(&mut text, (style.width, style.height)).into_drawing_area();
            self.draw(&area, style).map_err(|m| fail(&svg_path, m))?;
            area.present().map_err(|e| fail(&svg_path, e.to_string()))?;
        }
        let tree = resvg::usvg::Tree::from_str(&text, &usvg_options()).map_err(|e| fail(&svg_path, e.to_string()))?;
        let mut files = Vec::new();
        for f in &style.formats {
            let path = stem.with_extension(f.extension());
            let bytes = match f {
                Format::Png => png_of(&tree).map_err(|m| fail(&path, m))?,
                Format::Svg => self.with_text(&tree.to_string(&resvg::usvg::WriteOptions::default())).into_bytes(),
                Format::Pdf => {
                    svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
                        .map_err(|e| fail(&path, e.to_string()))?
                }
            };
            let mut out = AtomicFile::create(&path).map_err(|e| fail(&path, e.to_string()))?;
            out.write_all(&bytes).map_err(|e| fail(&path, e.to_string()))?;
            out.finish().map_err(|e| fail(&path, e.to_string()))?;
            files.push(path);
        }
        Ok(files)
    }

    /// The SVG with its words kept as words: its text is drawn as outlines,
    /// so the title and every label and legend entry also go into `<title>`
    /// and `<desc>`, for search, screen readers and tests.
    fn with_text(&self, svg: &str) -> String {
        let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mut words = vec![self.x_label.clone(), self.y_label.clone()];
        words.extend(self.y2_label.iter().cloned());
        words.extend(self.series.iter().map(|s| s.name.clone()));
        words.extend(self.shade.iter().map(|s| s.2.clone()));
        words.extend(self.hline.iter().map(|h| h.1.clone()));
        let meta = format!(
            "<title>{}</title><desc>{}</desc>",
            esc(&self.title),
            words.iter().filter(|w| !w.is_empty()).map(|w| esc(w)).collect::<Vec<_>>().join("\n")
        );
        match svg.find("<svg").and_then(|i| svg[i..].find('>').map(|j| i + j + 1)) {
            Some(at) => format!("{}{meta}{}", &svg[..at], &svg[at..]),
            None => svg.to_string(),
        }
    }

    /// Draws the chart on `area`.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, style: &Style) -> Result<(), String> {
        let z = style.font_scale;
        let px = |size: f64| (size * z).round().max(1.0);
        let room = |size: u32| (f64::from(size) * z).round() as u32;
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        area.fill(&WHITE).map_err(e)?;
        let (x0, x1) = self.x_span();
        let (y0, y1) = self.y_span(false);
        let (z0, z1) = self.y_span(true);
        let has_right = self.series.iter().any(|s| s.secondary);
        let mut builder = ChartBuilder::on(area);
        if style.title && !self.title.is_empty() {
            builder.caption(&self.title, (FAMILY, px(24.0)).into_font());
        }
        let mut chart = builder
            .margin(18)
            .x_label_area_size(room(52))
            .y_label_area_size(room(78))
            .right_y_label_area_size(if has_right { room(86) } else { 0 })
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(e)?
            .set_secondary_coord(x0..x1, z0..z1);
        let (integer_x, log_x) = (self.integer_x, self.log_x);
        let x_fmt = move |x: &f64| {
            if log_x {
                log_tick(*x)
            } else if integer_x {
                format!("{}", x.round() as i64)
            } else {
                tick(*x)
            }
        };
        let x_ticks = if integer_x || log_x { ((x1 - x0).ceil() as usize + 1).clamp(2, 24) } else { 10 };
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_labels(x_ticks)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|y: &f64| tick(*y))
            .label_style((FAMILY, px(15.0)))
            .axis_desc_style((FAMILY, px(17.0)))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .map_err(e)?;
        if has_right {
            chart
                .configure_secondary_axes()
                .y_desc(self.y2_label.as_deref().unwrap_or(""))
                .y_label_formatter(&|y: &f64| tick(*y))
                .label_style((FAMILY, px(15.0)))
                .axis_desc_style((FAMILY, px(17.0)))
                .draw()
                .map_err(e)?;
        }
        if let Some((a, b, label)) = &self.shade {
            let grey = RGBColor(120, 120, 120).mix(0.15);
            chart
                .draw_series(std::iter::once(Rectangle::new([(*a, y0), (*b, y1)], grey.filled())))
                .map_err(e)?
                .label(label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], grey.filled()));
        }
        if let Some((y, label)) = &self.hline {
            let style = BLACK.mix(0.6).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(vec![(x0, *y), (x1, *y)], 8, 5, style))
                .map_err(e)?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        for (i, s) in self.series.iter().enumerate() {
            let c = colour(i);
            let line = c.stroke_width(2);
            // Lines after the first are dashed, so that series lying on top of
            // each other stay visible (and tell apart in greyscale).
            let dash = DASHES[i % DASHES.len()];
            // The legend's line: three segments, joined for a solid line,
            // apart like the line's own dashes otherwise.
            let (d, gap) = match dash {
                None => (8, 8),
                Some((on, _)) if on > 6 => (6, 8),
                Some(_) => (3, 8),
            };
            let seg = move |k: i32| PathElement::new(vec![(k * gap, 0), (k * gap + d, 0)], c.stroke_width(3));
            let line_key = move |(x, y): (i32, i32)| EmptyElement::at((x, y)) + seg(0) + seg(1) + seg(2);
            let bar_key = move |(x, y): (i32, i32)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], c.filled());
            let points: Vec<(f64, f64)> = match s.mark {
                Mark::Step => step_points(&s.points, x1),
                _ => s.points.clone(),
            };
            macro_rules! draw_on {
                ($draw:ident) => {{
                    let anno = match s.mark {
                        Mark::Bars { width, offset } => chart
                            .$draw(s.points.iter().map(|&(x, y)| {
                                let l = x + offset - width / 2.0;
                                Rectangle::new([(l, 0.0_f64.max(y0)), (l + width, y)], c.mix(0.85).filled())
                            }))
                            .map_err(e)?,
                        _ => match dash {
                            None => chart.$draw(LineSeries::new(points.clone(), line)).map_err(e)?,
                            Some((on, off)) => {
                                chart.$draw(DashedLineSeries::new(points.clone(), on, off, line)).map_err(e)?
                            }
                        },
                    };
                    let anno = anno.label(s.name.as_str());
                    if s_mark_is_bar(s.mark) {
                        anno.legend(bar_key);
                    } else {
                        anno.legend(line_key);
                    }
                    if let Mark::Line { dots: true } = s.mark {
                        chart.$draw(s.points.iter().map(|p| Circle::new(*p, 4, c.filled()))).map_err(e)?;
                    }
                    if !s.errors.is_empty() {
                        chart
                            .$draw(
                                s.points
                                    .iter()
                                    .zip(&s.errors)
                                    .filter(|(_, (lo, hi))| lo.is_finite() && hi.is_finite())
                                    .map(|(&(x, y), &(lo, hi))| ErrorBar::new_vertical(x, lo, y, hi, line, 10)),
                            )
                            .map_err(e)?;
                    }
                }};
            }
            if s.secondary {
                draw_on!(draw_secondary_series);
            } else {
                draw_on!(draw_series);
            }
        }
        let named = self.series.len() + usize::from(self.shade.is_some()) + usize::from(self.hline.is_some());
        if named > 0 {
            chart
                .configure_series_labels()
                .position(if self.legend_low {
                    SeriesLabelPosition::LowerRight
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .label_font((FAMILY, px(15.0)))
                .draw()
                .map_err(e)?;
        }
        Ok(())
    }
}

/// Dash patterns (on, off in pixels) of line series 0, 1, 2, … in turn.
const DASHES: [Option<(u32, u32)>; 3] = [None, Some((12, 6)), Some((4, 4))];

fn s_mark_is_bar(m: Mark) -> bool {
    matches!(m, Mark::Bars { .. })
}

/// The corners of an empirical CDF's staircase through `points` (x ascending,
/// y the CDF at x), held flat to `x_end`.
fn step_points(points: &[(f64, f64)], x_end: f64) -> Vec<(f64, f64)> {
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

/// Tick label: no trailing zeros, thousands as k/M.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Empirical CDF points of `values`: one (x, F(x)) per distinct value.
pub fn ecdf(values: &[f64]) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (i, x) in v.iter().enumerate() {
        let f = (i + 1) as f64 / n;
        match out.last_mut() {
            Some(last) if last.0 == *x => last.1 = f,
            _ => out.push((*x, f)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_parses() {
        assert!(register_font("kadsim-test", FontStyle::Normal, FONT).is_ok());
    }

    #[test]
    fn ecdf_steps_at_distinct_values() {
        assert_eq!(ecdf(&[2.0, 1.0, 2.0, 3.0]), vec![(1.0, 0.25), (2.0, 0.75), (3.0, 1.0)]);
        assert!(ecdf(&[]).is_empty());
        assert_eq!(
            step_points(&[(1.0, 0.5), (2.0, 1.0)], 3.0),
            vec![(1.0, 0.0), (1.0, 0.5), (2.0, 0.5), (2.0, 1.0), (3.0, 1.0)]
        );
    }

    /// The runs of ink columns (first, last) in rows `rows` of a rendered PNG.
    fn ink_runs(png_path: &Path, rows: std::ops::Range<usize>) -> Vec<(usize, usize)> {
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, ch) = (info.width as usize, info.color_type.samples());
        let dark = |x: usize| rows.clone().any(|y| buf[(y * w + x) * ch] < 140);
        let mut runs = Vec::new();
        let mut start = None;
        for x in 0..w {
            match (dark(x), start) {
                (true, None) => start = Some(x),
                (false, Some(s)) => {
                    runs.push((s, x - 1));
                    start = None;
                }
                _ => {}
            }
        }
        runs
    }

    /// A chart whose x-axis label is `label`, drawn as PNG, SVG and PDF.
    fn label_chart(label: &str, dir: &Path) -> Vec<PathBuf> {
        let chart = Chart {
            title: String::new(),
            x_label: label.into(),
            y_label: "y".into(),
            y2_label: None,
            series: vec![Series::new("a", vec![(0.0, 0.0), (1.0, 1.0)], Mark::Line { dots: false })],
            shade: None,
            hline: None,
            y_range: None,
            y2_range: None,
            legend_low: false,
            integer_x: false,
            x_pad: false,
            log_x: false,
        };
        chart.save_as(&dir.join("label"), &[Format::Png, Format::Svg, Format::Pdf]).unwrap()
    }

    #[test]
    fn words_of_a_label_are_spaced_as_the_font_says() {
        // "lookups lookups lookups" is 21 glyphs in three words. Drawn right,
        // the two widest gaps between glyph columns are the two spaces, well
        // apart from the gaps inside words. plotters' own bitmap text rounded
        // each glyph's advance, so spaces shrank and gaps opened inside words:
        // legends read "node lookup s (n = 1037)" and "gets(n = 507)".
        let dir = std::env::temp_dir().join(format!("kadsim-glyphs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = label_chart("lookups lookups lookups", &dir);
        // The x-axis label's band: below the tick labels, above the bottom edge.
        let runs = ink_runs(&files[0], (SIZE.1 as usize - 38)..(SIZE.1 as usize - 12));
        assert_eq!(runs.len(), 21, "one run of ink per glyph: {runs:?}");
        let gaps: Vec<usize> = runs.windows(2).map(|w| w[1].0 - w[0].1).collect();
        let mut order: Vec<usize> = (0..gaps.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(gaps[i]));
        let mut widest = [order[0], order[1]];
        widest.sort_unstable();
        assert_eq!(widest, [6, 13], "the widest gaps are the spaces: {gaps:?}");
        let inside = gaps.iter().enumerate().filter(|(i, _)| *i != 6 && *i != 13).map(|(_, g)| *g);
        let inside_max = inside.max().unwrap();
        assert!(gaps[6].min(gaps[13]) >= inside_max + 3, "a space stands out from the gaps in a word: {gaps:?}");
        // The SVG needs no font (its text is outlines); the PDF embeds DejaVu Sans.
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(!svg.contains("<text"), "text as paths in the SVG");
        let pdf = std::fs::read(&files[2]).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.windows(10).any(|w| w == b"DejaVuSans"), "the PDF embeds its font");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn log_axes_label_whole_decades_only() {
        assert_eq!(log_tick(0.0), "1");
        assert_eq!(log_tick(2.0), "100");
        assert_eq!(log_tick(4.0), "10k");
        assert_eq!(log_tick(-1.0), "0.1");
        assert_eq!(log_tick(2.5), "");
        assert_eq!(log10_x(&[(0.0, 0.1), (1000.0, 1.0)]), vec![(-1.0, 0.1), (3.0, 1.0)]);
        let chart = Chart {
            series: vec![Series::new("a", log10_x(&[(150.0, 0.5), (12_000.0, 1.0)]), Mark::Step)],
            log_x: true,
            ..Chart::default()
        };
        assert_eq!(chart.x_span(), (2.0, 5.0), "from 100 to 100k ms");
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(2.0), "2");
        assert_eq!(tick(15_000.0), "15k");
        assert_eq!(tick(2_500_000.0), "2.5M");
        assert_eq!(tick(-0.0001), "0");
    }
}

//! One chart description, drawn to PNG, SVG and PDF.
//!
//! Charts are data first: a [`Chart`] holds a title, axis labels with units,
//! its series and its guides (shaded intervals, a reference line, a note).
//! [`Chart::save_styled`] lays it out once with plotters as SVG ([`draw`]),
//! then renders that drawing with resvg ([`render`]): PNG rasterised by
//! tiny-skia, SVG with text as outlines (plus the words in `<title>`/`<desc>`;
//! with `--svg-text`, plotters' `<text>` elements kept instead), PDF by
//! svg2pdf with the font embedded. A size in inches or points lays the chart
//! out as in a 3.5-inch column and scales it to the page ([`render`]). Text
//! is shaped by rustybuzz from the embedded DejaVu Sans in every format, so
//! glyphs sit at the font's own advances and kerning (plotters' bitmap text rounded each advance: "node
//! lookup s", "gets(n = 507)") and nothing depends on the fonts of the machine
//! that draws or views a chart. Tick labels share one format per axis
//! ([`ticks`]); the legend goes where it covers no data ([`legend`]). Colours
//! are the Okabe–Ito palette, readable by colour-blind readers, and lines
//! after the first are dashed, so that they also part in greyscale print.

mod axis;
pub mod draw;
pub mod legend;
pub mod panels;
pub mod pdf_order;
pub mod render;
pub mod ticks;

use crate::metrics::writer::AtomicFile;
use plotters::prelude::*;
pub use render::{FAMILY, Format, SIZE, Style, parse_formats};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// A marker at each point and no line (a scatter plot), in `shape`, so
    /// that groups part in greyscale too. Left axis only.
    Points {
        /// The marker.
        shape: Shape,
    },
}

/// A scatter plot's marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A filled disc.
    Circle,
    /// A ring.
    Ring,
    /// A filled triangle.
    Triangle,
    /// A filled square.
    Square,
    /// A diagonal cross.
    Cross,
    /// A filled diamond.
    Diamond,
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
    /// A shaded band: (low, high) for each point, or empty (an interval
    /// across replicas drawn as an area, not as bars).
    pub band: Vec<(f64, f64)>,
    /// How it is drawn.
    pub mark: Mark,
    /// Plotted against the right-hand axis.
    pub secondary: bool,
    /// Its colour and dash: the series' own index when `None`. Overlays give
    /// one run the same style on every chart.
    pub style_index: Option<usize>,
    /// For a [`Mark::Points`] series: whether each point is joined to the
    /// next by a line (a sweep joins neighbouring values only where no value
    /// lies between them that was not run); empty: no line.
    pub links: Vec<bool>,
}

impl Series {
    /// A series drawn as `mark` against the left axis.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, mark: Mark) -> Series {
        Series {
            name: name.into(),
            points,
            errors: Vec::new(),
            band: Vec::new(),
            mark,
            secondary: false,
            style_index: None,
            links: Vec::new(),
        }
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

    /// With a shaded band.
    pub fn with_band(mut self, band: Vec<(f64, f64)>) -> Series {
        self.band = band;
        self
    }

    /// Drawn in the colour and dash of series `i`.
    pub fn styled_as(mut self, i: usize) -> Series {
        self.style_index = Some(i);
        self
    }

    /// A points series with point `i` joined to point `i + 1` by a line
    /// where `links[i]` holds.
    pub fn linked(mut self, links: Vec<bool>) -> Series {
        self.links = links;
        self
    }
}

/// The colour of a shaded interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Grey: the warm-up.
    Grey,
    /// Orange: a network partition.
    Warm,
}

/// A shaded x interval with its legend text (the warm-up, a partition).
/// Intervals of one label share one legend entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Shade {
    /// Start (x units).
    pub from: f64,
    /// End.
    pub to: f64,
    /// Legend text.
    pub label: String,
    /// Colour.
    pub tone: Tone,
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
    /// Shaded x intervals (the warm-up, partitions).
    pub shades: Vec<Shade>,
    /// A horizontal reference line on the left axis, with its legend text.
    pub hline: Option<(f64, String)>,
    /// Fixed left y range (else from the data, starting at 0 when all y ≥ 0
    /// unless `y_fit`).
    pub y_range: Option<(f64, f64)>,
    /// Fixed right y range.
    pub y2_range: Option<(f64, f64)>,
    /// The left y axis starts just below the data instead of at 0, so that a
    /// band of 97–99% is not a flat line; the axis is marked with a break
    /// when it does not start at 0.
    pub y_fit: bool,
    /// Prefer the legend low (lower right) rather than high (upper right);
    /// either way it goes where it covers no data.
    pub legend_low: bool,
    /// x ticks at integers only (hop counts, bucket indices).
    pub integer_x: bool,
    /// Names of the x positions 0, 1, 2, … (a categorical axis, such as a
    /// sweep over `0s, 15m` or `tree, log_distance`): each position is
    /// labelled with its name instead of its number.
    pub x_names: Vec<String>,
    /// Room on both sides of the x range, so that end points and their error
    /// bars are not clipped.
    pub x_pad: bool,
    /// Fixed x range (else from the data, padded with `x_pad`): a sweep's
    /// categories each get the middle of a slot of width 1.
    pub x_range: Option<(f64, f64)>,
    /// Ticks at these x positions only, each with its label (a sweep's
    /// values as run: `5m, 30m, 2h` on a log axis, `8, 20`, or the names of
    /// categories); labels that would overlap their left neighbour are left
    /// out. Empty: ticks chosen by the axis, labelled by the other fields.
    pub x_ticks: Vec<(f64, String)>,
    /// The x values are log10 of the quantity (see [`log10_x`]): ticks at
    /// whole decades, labelled with the quantity (1, 10, 100, 1k, 10k) at
    /// every decade whose label fits, else at every second, third, … decade,
    /// unless `x_ticks` places them.
    pub log_x: bool,
    /// Stretches of the x axis left out (from, to): `from` is drawn where
    /// `to` is, and the axis is marked with a break there (the long runs of
    /// empty buckets between the farthest buckets and a few near ones).
    pub x_cuts: Vec<(f64, f64)>,
    /// The left y values are log10 of the quantity (see [`log10_y`]).
    pub log_y: bool,
    /// A note printed under the plot (what a reader needs to read it right);
    /// left out with the title (`--no-title`: the caption says it).
    pub note: Option<String>,
    /// No left-axis tick label above this value (a rate's axis stops
    /// labelling at 1 even when room is made above the data for the legend).
    pub y_label_max: Option<f64>,
}

/// Smallest value a log axis shows; anything at or below it (a get answered
/// from the origin's own store takes 0 ms) is drawn at it.
pub const LOG_FLOOR: f64 = 0.1;

/// Points with x replaced by log10(x), x floored at [`LOG_FLOOR`], for a chart with `log_x`.
pub fn log10_x(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points.iter().map(|&(x, y)| (x.max(LOG_FLOOR).log10(), y)).collect()
}

/// Points with y replaced by log10(y), for a chart with `log_y`; points
/// with y ≤ 0 (nothing sent) have no place on a log axis and are left out.
pub fn log10_y(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points.iter().filter(|p| p.1 > 0.0).map(|&(x, y)| (x, y.log10())).collect()
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

/// Why charts could not be written where they were asked for.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The place holds a file kadsim may not replace (exit code 2).
    #[error(transparent)]
    Own(#[from] crate::files::owned::OwnError),
    /// Drawing or writing failed (exit code 3).
    #[error(transparent)]
    Chart(#[from] ChartError),
}

impl SaveError {
    /// The exit code: 2 for a refused place, 3 for a failed write.
    pub fn exit_code(&self) -> u8 {
        match self {
            SaveError::Own(e) => e.exit_code(),
            SaveError::Chart(_) => 3,
        }
    }
}

/// Writes `charts` (file stem, chart) into `out` in each of `style`'s
/// formats. Every file is claimed in `out`'s record of kadsim's files before
/// the first is drawn, so a refusal (a file of the user's in the way, or
/// charts of something else without `--force`) leaves nothing half done.
pub fn save_all<S: AsRef<str>>(
    charts: &[(S, Chart)],
    out: &crate::files::owned::Out,
    style: &Style,
) -> Result<Vec<PathBuf>, SaveError> {
    let names: Vec<String> = charts
        .iter()
        .flat_map(|(stem, _)| style.formats.iter().map(move |f| format!("{}.{}", stem.as_ref(), f.extension())))
        .collect();
    out.claim_all(names.iter().map(String::as_str))?;
    let mut files = Vec::new();
    for (stem, chart) in charts {
        files.extend(chart.save_styled(&out.path().join(stem.as_ref()), style)?);
    }
    Ok(files)
}

/// What a drawing came out as: where the legend went, the axes' ranges, and
/// the lines and interval bars drawn, in data units (for tests that read a
/// chart as a reviewer does).
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The legend's box in the plot's pixels and the data samples it covers.
    pub legend: Option<(legend::Rect, usize)>,
    /// The left y axis's range as drawn.
    pub y: (f64, f64),
    /// Whether the left y axis is drawn with a break (it does not start at 0).
    pub y_cut: bool,
    /// The x axis's range as drawn.
    pub x: (f64, f64),
    /// The labelled ticks of [`Chart::x_ticks`], or of a log axis's decades,
    /// as drawn (those kept after overlapping ones were left out); empty for
    /// an axis that places its own.
    pub x_labels: Vec<(f64, String)>,
    /// The stretches left out of the x axis, each marked with a break.
    pub x_cuts: Vec<(f64, f64)>,
    /// The lines the note under the chart takes (0: no note).
    pub note_lines: usize,
    /// Every line drawn through a series' points (lines, steps and the links
    /// of points), each as the points it joins.
    pub lines: Vec<Vec<(f64, f64)>>,
    /// Every interval bar drawn: (x, low, high).
    pub bars: Vec<(f64, f64, f64)>,
}

/// Room above the data tried in turn (fractions of the data's range), until
/// the legend finds a place that covers no data.
pub const HEADROOM: [f64; 4] = [0.12, 0.3, 0.5, 0.8];

impl Chart {
    /// Draws to `<stem>.png` and `<stem>.svg`; returns both paths.
    pub fn save(&self, stem: &Path) -> Result<Vec<PathBuf>, ChartError> {
        self.save_styled(stem, &Style::default())
    }

    /// Draws in `formats` at the default size.
    pub fn save_as(&self, stem: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, ChartError> {
        self.save_styled(stem, &Style { formats: formats.to_vec(), ..Style::default() })
    }

    /// The chart as plotters' SVG and its layout: drawn with more room above
    /// the data in turn ([`HEADROOM`]) until the legend covers no data, else
    /// the drawing where it covers least.
    pub fn svg(&self, style: &Style) -> Result<(String, Layout), String> {
        self.svg_with_headroom(style).map(|(text, layout, _)| (text, layout))
    }

    /// As [`svg`](Self::svg), with the headroom chosen.
    pub fn svg_with_headroom(&self, style: &Style) -> Result<(String, Layout, f64), String> {
        let mut best: Option<(String, Layout, f64)> = None;
        for headroom in HEADROOM {
            let mut text = String::new();
            let layout = {
                let area = SVGBackend::with_string(&mut text, (style.width, style.height)).into_drawing_area();
                let layout = draw::draw(self, &area, style, headroom)?;
                area.present().map_err(|e| e.to_string())?;
                layout
            };
            let covered = |l: &Layout| l.legend.map_or(0, |(_, n)| n);
            let done = covered(&layout) == 0;
            if best.as_ref().is_none_or(|(_, b, _)| covered(&layout) < covered(b)) {
                best = Some((text, layout, headroom));
            }
            if done {
                break;
            }
        }
        best.ok_or_else(|| "nothing drawn".to_string())
    }

    /// The layout the chart gets in `style`.
    pub fn layout(&self, style: &Style) -> Result<Layout, String> {
        self.svg(style).map(|(_, l)| l)
    }

    /// Draws the chart once as SVG with plotters, then renders that drawing
    /// with resvg into each of the style's formats: PNG rasterised from it, SVG with its
    /// text turned into outlines (it needs no font on the reader's machine;
    /// with `svg_text`, plotters' drawing with its `<text>` kept instead),
    /// PDF by svg2pdf with the font embedded. Text is laid out by one shaper
    /// (rustybuzz, in usvg) from the embedded DejaVu Sans in every format, so
    /// glyphs are spaced by the font's own advances and kerning. A style with
    /// a page scales the drawing to it: SVG and PDF that many points, PNG at
    /// [`render::PNG_DPI`]. Each file is written under a temporary name and
    /// renamed when whole.
    pub fn save_styled(&self, stem: &Path, style: &Style) -> Result<Vec<PathBuf>, ChartError> {
        draw::register();
        let svg_path = stem.with_extension("svg");
        let (text, layout) =
            self.svg(style).map_err(|msg| ChartError { path: svg_path.to_path_buf(), msg: msg.clone() })?;
        write_formats(&text, stem, style, &|svg| self.with_text(svg, &layout))
    }

    /// The SVG with its words kept as words: its text is drawn as outlines
    /// (unless `--svg-text`), so the title and every label, legend entry and
    /// note also go into `<title>` and `<desc>`, for search, screen readers
    /// and tests.
    fn with_text(&self, svg: &str, layout: &Layout) -> String {
        let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mut words = vec![self.x_label.clone(), self.y_label.clone()];
        words.extend(layout.x_labels.iter().map(|t| t.1.clone()));
        words.extend(self.y2_label.iter().cloned());
        words.extend(self.series.iter().map(|s| s.name.clone()));
        for s in &self.shades {
            if !words.contains(&s.label) {
                words.push(s.label.clone());
            }
        }
        words.extend(self.hline.iter().map(|h| h.1.clone()));
        if layout.y_cut {
            words.push(format!("y axis starts at {}", ticks::short(layout.y.0)));
        }
        words.extend(self.note.iter().cloned());
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
}

/// Renders plotters' SVG `text` into each of `style`'s formats at `stem`
/// (see [`Chart::save_styled`]); `meta` adds the words to an SVG drawn with
/// outlines. Each file is written under a temporary name and renamed when whole.
pub(crate) fn write_formats(
    text: &str,
    stem: &Path,
    style: &Style,
    meta: &dyn Fn(&str) -> String,
) -> Result<Vec<PathBuf>, ChartError> {
    let fail = |path: &Path, msg: String| ChartError { path: path.to_path_buf(), msg };
    let svg_path = stem.with_extension("svg");
    let text = render::on_page(text, style);
    let tree =
        resvg::usvg::Tree::from_str(&text, &render::usvg_options()).map_err(|e| fail(&svg_path, e.to_string()))?;
    let mut files = Vec::new();
    for f in &style.formats {
        let path = stem.with_extension(f.extension());
        let bytes = match f {
            Format::Png => render::png_of(&tree, style.png_scale()).map_err(|m| fail(&path, m))?,
            Format::Svg if style.svg_text => meta(&render::text_svg(&text, style)).into_bytes(),
            Format::Svg => meta(&render::sized_for_file(&render::svg_of(&tree), style)).into_bytes(),
            Format::Pdf => render::pdf_of(&tree).map_err(|m| fail(&path, m))?,
        };
        let mut out = AtomicFile::create(&path).map_err(|e| fail(&path, e.to_string()))?;
        out.write_all(&bytes).map_err(|e| fail(&path, e.to_string()))?;
        out.finish().map_err(|e| fail(&path, e.to_string()))?;
        files.push(path);
    }
    Ok(files)
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
mod tests;

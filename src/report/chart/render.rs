//! Turning a chart's SVG drawing into files: the formats, the size and text
//! scale a user asks for ([`Style`]), and the renderers. PNG is rasterised by
//! resvg (tiny-skia), SVG is written by usvg with its text as outlines (or,
//! with `--svg-text`, as plotters drew it, text as `<text>`), PDF by svg2pdf
//! with the font embedded; all three shape text with rustybuzz from the
//! embedded DejaVu Sans, the only font they see. A size in inches or points
//! (`--width 3.5in`, `252pt`) is a page: the chart is laid out as the default
//! 720 units would be in a 3.5-inch column ([`UNITS_PER_INCH`]) and scaled to
//! it, SVG and PDF in points, PNG at [`PNG_DPI`], so that its text is the same
//! size in points at any page size and the PNG looks like the PDF.

/// The font, embedded so that charts never depend on the machine's fonts.
pub const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// The family name charts ask for: the embedded font's own name, so that the
/// SVG renderer (usvg) finds it in the font database built from [`FONT`].
pub const FAMILY: &str = "DejaVu Sans";
/// Default chart size in pixels (PNG), user units (SVG) and points (PDF). With
/// the default text sizes, a chart scaled to a paper's column (3.5 inches)
/// keeps its smallest text at about 6 points.
pub const SIZE: (u32, u32) = (720, 450);

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

/// Layout units per inch of a chart whose size is given in inches or points:
/// a chart is laid out as at the default size set in a 3.5-inch column (720
/// units in 3.5 inches), then scaled to the page, so that its text keeps the
/// point sizes it has there (about 6 to 9 points) at any physical size.
pub const UNITS_PER_INCH: f64 = SIZE.0 as f64 / 3.5;
/// Pixels per inch of a PNG whose size is given in inches or points: a
/// journal's resolution for figures, so that `--width 3.5in` gives a PNG
/// 1050 pixels wide that looks like the 3.5-inch PDF.
pub const PNG_DPI: f64 = 300.0;
/// The sizes a page may take, in points: 1 to 30 inches wide, 0.75 to 30
/// inches tall.
const PAGE_WIDTH: (f64, f64) = (72.0, 2160.0);
const PAGE_HEIGHT: (f64, f64) = (54.0, 2160.0);

/// A chart side as given on the command line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Length {
    /// A plain number: pixels (PNG) or points (SVG, PDF), the layout's own units.
    Plain(u32),
    /// Inches or points, in points (1 in = 72 pt).
    Points(f64),
}

/// Parses a size option's value: `720` (pixels for PNG, points for SVG and
/// PDF), `3.5in` or `252pt`. `option` names the option in the error.
pub fn parse_length(option: &str, text: &str) -> Result<Length, String> {
    let bad = || format!("{option} {text}: expected a plain number of pixels (720), inches (3.5in) or points (252pt)");
    let t = text.trim().to_ascii_lowercase();
    let (num, per) = if let Some(n) = t.strip_suffix("in") {
        (n.trim_end(), Some(72.0))
    } else if let Some(n) = t.strip_suffix("pt") {
        (n.trim_end(), Some(1.0))
    } else {
        (t.as_str(), None)
    };
    // Digits and at most one decimal point: no sign, exponent, inf or NaN.
    let digits = num.chars().filter(char::is_ascii_digit).count();
    if digits == 0 || num.chars().any(|c| !c.is_ascii_digit() && c != '.') || num.matches('.').count() > 1 {
        return Err(bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    match per {
        Some(per) => Ok(Length::Points(v * per)),
        None if num.contains('.') => Err(format!("{option} {text}: a plain size is a whole number of pixels")),
        None => Ok(Length::Plain(if v <= f64::from(u32::MAX) { v as u32 } else { u32::MAX })),
    }
}

/// How charts are drawn: formats, size, text scale, title. The default is
/// PNG and SVG at [`SIZE`] with titles, as every command draws without flags.
#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// Files to write, one per format.
    pub formats: Vec<Format>,
    /// Width of the layout in its own units: pixels of the PNG and user
    /// units (points) of the SVG and PDF, unless `page` scales it.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Every text size and the room for axis labels multiplied by this.
    pub font_scale: f64,
    /// Whether to draw the title (a paper's figure has a caption instead).
    pub title: bool,
    /// The page in points when the size was given in inches or points: the
    /// layout (at [`UNITS_PER_INCH`]) is scaled to it, the SVG and PDF are
    /// that many points and the PNG is rasterised at [`PNG_DPI`]. `None`:
    /// the layout's own size.
    pub page: Option<(f64, f64)>,
    /// Whether the SVG keeps its text as `<text>` elements (a paper can set
    /// its own font) instead of outlines.
    pub svg_text: bool,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            formats: vec![Format::Png, Format::Svg],
            width: SIZE.0,
            height: SIZE.1,
            font_scale: 1.0,
            title: true,
            page: None,
            svg_text: false,
        }
    }
}

impl Style {
    /// The style of the command-line options `--format`, `--width`,
    /// `--height` (`None`: not given), `--font-scale`, `--no-title` and
    /// `--svg-text`, checked: an error is one line naming the option at fault.
    /// A size in inches or points sets a page; a side left out keeps the
    /// default's proportions (8:5) to the other.
    pub fn from_options(
        format: &str,
        width: Option<&str>,
        height: Option<&str>,
        font_scale: f64,
        no_title: bool,
        svg_text: bool,
    ) -> Result<Style, String> {
        let w = width.map(|t| parse_length("--width", t)).transpose()?;
        let h = height.map(|t| parse_length("--height", t)).transpose()?;
        let aspect = f64::from(SIZE.1) / f64::from(SIZE.0);
        let page = match (w, h) {
            (Some(Length::Points(w)), Some(Length::Points(h))) => Some((w, h)),
            (Some(Length::Points(w)), None) => Some((w, w * aspect)),
            (None, Some(Length::Points(h))) => Some((h / aspect, h)),
            (Some(Length::Points(_)), Some(Length::Plain(_))) | (Some(Length::Plain(_)), Some(Length::Points(_))) => {
                return Err(format!(
                    "--width {} --height {}: give both in inches or points, or both as plain numbers",
                    width.unwrap_or_default(),
                    height.unwrap_or_default()
                ));
            }
            _ => None,
        };
        let plain = |l: Option<Length>, default: u32| match l {
            Some(Length::Plain(v)) => v,
            _ => default,
        };
        let (mut width_units, mut height_units) = (plain(w, SIZE.0), plain(h, SIZE.1));
        for (option, given, v, lo) in [("--width", width, width_units, 200), ("--height", height, height_units, 150)] {
            if !(lo..=10_000).contains(&v) {
                return Err(format!(
                    "{option} {}: expected {lo} to 10000 (pixels for PNG, points for SVG and PDF), \
                     or inches (3.5in) or points (252pt)",
                    given.unwrap_or_default()
                ));
            }
        }
        if let Some((pw, ph)) = page {
            for (option, v, (lo, hi)) in [("--width", pw, PAGE_WIDTH), ("--height", ph, PAGE_HEIGHT)] {
                if v.is_finite() && (lo..=hi).contains(&v) {
                    continue;
                }
                let range = format!("{}in to {}in ({lo}pt to {hi}pt)", lo / 72.0, hi / 72.0);
                return Err(match (option, width, height) {
                    ("--width", Some(given), _) | ("--height", _, Some(given)) => {
                        format!("{option} {given}: expected {range}")
                    }
                    // The side left out, from the other at the default proportions.
                    _ => {
                        let (other, given) =
                            if option == "--width" { ("--height", height) } else { ("--width", width) };
                        format!(
                            "{other} {}: the {} it implies at 8:5, {}pt, is outside {range}; give {option} too",
                            given.unwrap_or_default(),
                            &option[2..],
                            number(v)
                        )
                    }
                });
            }
            width_units = (pw / 72.0 * UNITS_PER_INCH).round() as u32;
            height_units = (ph / 72.0 * UNITS_PER_INCH).round() as u32;
        }
        let style = Style {
            formats: parse_formats(format)?,
            width: width_units,
            height: height_units,
            font_scale,
            title: !no_title,
            page,
            svg_text,
        };
        style.check()?;
        Ok(style)
    }

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

    /// The PNG's pixels per unit of the drawing's size: 1 for a size in
    /// pixels, [`PNG_DPI`] / 72 for a page (its size is in points).
    pub fn png_scale(&self) -> f64 {
        if self.page.is_some() { PNG_DPI / 72.0 } else { 1.0 }
    }
}

/// A number as an SVG attribute: no trailing zeros.
fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `svg` with the root element's `width` and `height` set to `w` and `h`
/// (its `viewBox`, the drawing's own frame, kept).
pub fn with_size(svg: &str, w: &str, h: &str) -> String {
    let Some(start) = svg.find("<svg") else { return svg.to_string() };
    let Some(end) = svg[start..].find('>').map(|e| start + e) else { return svg.to_string() };
    let mut tag = svg[start..end].to_string();
    for (name, value) in [("width", w), ("height", h)] {
        let key = format!(" {name}=\"");
        if let Some(at) = tag.find(&key) {
            let from = at + key.len();
            if let Some(len) = tag[from..].find('"') {
                tag.replace_range(from..from + len, value);
            }
        }
    }
    format!("{}{tag}{}", &svg[..start], &svg[end..])
}

/// The drawing as renderers read it: for a page, the root element sized to
/// the page in points (unitless, so that usvg and svg2pdf take 1 unit as 1
/// point), the layout scaled into it by the viewBox.
pub fn on_page(svg: &str, style: &Style) -> String {
    match style.page {
        Some((w, h)) => with_size(svg, &number(w), &number(h)),
        None => svg.to_string(),
    }
}

/// An SVG file's root sized for its reader: for a page, in points (`252pt`),
/// so that it is as many inches wide in any viewer; else as drawn.
pub fn sized_for_file(svg: &str, style: &Style) -> String {
    match style.page {
        Some((w, h)) => with_size(svg, &format!("{}pt", number(w)), &format!("{}pt", number(h))),
        None => svg.to_string(),
    }
}

/// The drawing with its text as `<text>` elements (`--svg-text`): plotters'
/// own SVG, whose words were placed with the embedded font's measures, with
/// a generic fallback after the family so that a reader without DejaVu Sans
/// still sees a sans-serif face.
pub fn text_svg(drawing: &str, style: &Style) -> String {
    let family = format!("font-family=\"{FAMILY}\"");
    sized_for_file(&drawing.replace(&family, &format!("font-family=\"{FAMILY}, sans-serif\"")), style)
}

/// usvg's options: the embedded font as the only one, and the default family.
pub fn usvg_options() -> resvg::usvg::Options<'static> {
    let mut opt = resvg::usvg::Options { font_family: FAMILY.to_string(), ..Default::default() };
    opt.fontdb_mut().load_font_data(FONT.to_vec());
    opt
}

/// The drawing rasterised at `scale` pixels per unit of its size, as PNG bytes.
pub fn png_of(tree: &resvg::usvg::Tree, scale: f64) -> Result<Vec<u8>, String> {
    let size = tree.size();
    let px = |v: f32| (f64::from(v) * scale).round() as u32;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(px(size.width()), px(size.height()))
        .ok_or_else(|| "empty drawing".to_string())?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    let s = scale as f32;
    resvg::render(tree, resvg::tiny_skia::Transform::from_scale(s, s), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

/// The drawing as a PDF page of its own size in points, the font embedded.
pub fn pdf_of(tree: &resvg::usvg::Tree) -> Result<Vec<u8>, String> {
    let mut pdf = svg2pdf::to_pdf(tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
        .map_err(|e| e.to_string())?;
    super::pdf_order::sort_resources(&mut pdf);
    Ok(pdf)
}

/// The drawing as SVG with every glyph an outline.
pub fn svg_of(tree: &resvg::usvg::Tree) -> String {
    tree.to_string(&resvg::usvg::WriteOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        let opts = |w: Option<&str>, h: Option<&str>| Style::from_options("png", w, h, 1.0, false, false);
        assert!(Style::from_options("png,svg,pdf", Some("720"), Some("450"), 1.0, false, false).is_ok());
        assert_eq!(
            Style::from_options("png", None, None, 1.0, false, false).unwrap(),
            Style { formats: vec![Format::Png], ..Style::default() }
        );
        assert_eq!(parse_formats("PDF, png,pdf").unwrap(), vec![Format::Pdf, Format::Png]);
        assert!(Style::from_options("png,jpg", None, None, 1.0, false, false).unwrap_err().contains("'jpg'"));
        assert!(opts(Some("50"), None).unwrap_err().starts_with("--width 50:"));
        assert!(opts(None, Some("20000")).unwrap_err().starts_with("--height 20000:"));
        assert!(opts(Some("99999999999"), None).unwrap_err().starts_with("--width 99999999999:"));
        assert!(Style::from_options("png", None, None, 9.0, false, false).unwrap_err().starts_with("--font-scale 9"));
        assert!(!Style::from_options("png", None, None, 1.0, true, false).unwrap().title);
        assert!(Style::from_options("svg", None, None, 1.0, false, true).unwrap().svg_text);
    }

    #[test]
    fn sizes_in_inches_and_points() {
        assert_eq!(parse_length("--width", "720"), Ok(Length::Plain(720)));
        assert_eq!(parse_length("--width", "3.5in"), Ok(Length::Points(252.0)));
        assert_eq!(parse_length("--width", " 3.5 IN "), Ok(Length::Points(252.0)));
        assert_eq!(parse_length("--width", "252pt"), Ok(Length::Points(252.0)));
        for bad in ["3.5cm", "abc", "", "in", "-3in", "1e3in", "inf", "NaNpt", "3.5.1in", "720px"] {
            let e = parse_length("--width", bad).unwrap_err();
            assert!(e.starts_with(&format!("--width {bad}:")) && e.contains("3.5in"), "{bad}: {e}");
        }
        assert!(parse_length("--height", "450.5").unwrap_err().contains("whole number"));

        // A page: laid out as in a 3.5-inch column, scaled to the page.
        let opts = |w: Option<&str>, h: Option<&str>| Style::from_options("png,pdf", w, h, 1.0, false, false);
        let s = opts(Some("3.5in"), Some("2.5in")).unwrap();
        assert_eq!((s.page, s.width, s.height), (Some((252.0, 180.0)), 720, 514));
        assert_eq!(s.png_scale(), 300.0 / 72.0);
        assert_eq!(opts(Some("252pt"), Some("180pt")).unwrap(), s);
        assert_eq!(opts(Some("7in"), Some("2.5in")).unwrap().width, 1440, "wider, not larger text");
        // A side left out keeps the default's proportions.
        assert_eq!(opts(Some("3.5in"), None).unwrap().page, Some((252.0, 157.5)));
        assert_eq!(opts(None, Some("180pt")).unwrap().page, Some((288.0, 180.0)));
        // Plain numbers keep their meaning.
        let plain = opts(Some("504"), Some("360")).unwrap();
        assert_eq!((plain.page, plain.width, plain.height, plain.png_scale()), (None, 504, 360, 1.0));
        // Out of range, mixed, or implied out of range: one line naming the option.
        for (w, h, start) in [
            (Some("0in"), None, "--width 0in: expected 1in to 30in"),
            (Some("3.5in"), Some("0.5in"), "--height 0.5in: expected 0.75in to 30in"),
            (Some("100in"), Some("2in"), "--width 100in:"),
            (Some("3.5in"), Some("450"), "--width 3.5in --height 450: give both"),
            (None, Some("25in"), "--height 25in: the width it implies"),
        ] {
            let e = opts(w, h).unwrap_err();
            assert!(e.starts_with(start) && !e.contains('\n'), "{w:?} {h:?}: {e}");
        }
    }

    #[test]
    fn a_page_sizes_the_svg_root_and_keeps_the_drawing_frame() {
        let svg = r#"<svg width="720" height="514" viewBox="0 0 720 514" xmlns="http://www.w3.org/2000/svg"><rect width="3"/></svg>"#;
        let page = Style { page: Some((252.0, 180.0)), ..Style::default() };
        assert!(on_page(svg, &page).starts_with(r#"<svg width="252" height="180" viewBox="0 0 720 514""#));
        assert!(sized_for_file(svg, &page).starts_with(r#"<svg width="252pt" height="180pt" viewBox="0 0 720 514""#));
        assert!(sized_for_file(svg, &page).ends_with(r#"<rect width="3"/></svg>"#), "only the root is resized");
        assert_eq!(on_page(svg, &Style::default()), svg);
    }
}

//! Turning a chart's SVG drawing into files: the formats, the size and text
//! scale a user asks for ([`Style`]), and the renderers. PNG is rasterised by
//! resvg (tiny-skia), SVG is written by usvg with its text as outlines, PDF by
//! svg2pdf with the font embedded; all three shape text with rustybuzz from
//! the embedded DejaVu Sans, the only font they see.

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

/// How charts are drawn: formats, size, text scale, title. The default is
/// PNG and SVG at [`SIZE`] with titles, as every command draws without flags.
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
    /// The style of the command-line options `--format`, `--width`,
    /// `--height`, `--font-scale`, `--no-title`, checked: an error is one
    /// line naming the option at fault.
    pub fn from_options(
        format: &str,
        width: u32,
        height: u32,
        font_scale: f64,
        no_title: bool,
    ) -> Result<Style, String> {
        let style = Style { formats: parse_formats(format)?, width, height, font_scale, title: !no_title };
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
}

/// usvg's options: the embedded font as the only one, and the default family.
pub fn usvg_options() -> resvg::usvg::Options<'static> {
    let mut opt = resvg::usvg::Options { font_family: FAMILY.to_string(), ..Default::default() };
    opt.fontdb_mut().load_font_data(FONT.to_vec());
    opt
}

/// The drawing rasterised at its own size, as PNG bytes.
pub fn png_of(tree: &resvg::usvg::Tree) -> Result<Vec<u8>, String> {
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| "empty drawing".to_string())?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

/// The drawing as a PDF page of its own size in points, the font embedded.
pub fn pdf_of(tree: &resvg::usvg::Tree) -> Result<Vec<u8>, String> {
    svg2pdf::to_pdf(tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
        .map_err(|e| e.to_string())
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
        assert!(Style::from_options("png,svg,pdf", 720, 450, 1.0, false).is_ok());
        assert_eq!(parse_formats("PDF, png,pdf").unwrap(), vec![Format::Pdf, Format::Png]);
        assert!(Style::from_options("png,jpg", 720, 450, 1.0, false).unwrap_err().contains("'jpg'"));
        assert!(Style::from_options("png", 50, 450, 1.0, false).unwrap_err().starts_with("--width 50"));
        assert!(Style::from_options("png", 720, 450, 9.0, false).unwrap_err().starts_with("--font-scale 9"));
        assert!(!Style::from_options("png", 720, 450, 1.0, true).unwrap().title);
    }
}

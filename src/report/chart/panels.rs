//! Several charts in one figure, as a paper sets its panels (a)–(d) side by
//! side: each panel is drawn exactly as [`Chart`] draws it alone, at the
//! style's size and with the headroom its own legend needs, on its cell of a
//! grid, under the figure's title; then rendered to PNG, SVG and PDF as one
//! chart is (`chart::write_formats`).

use super::{Chart, ChartError, Style, draw};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// A multi-panel figure.
#[derive(Clone, Debug, Default)]
pub struct Figure {
    /// Above every panel (left out with `--no-title`, as the panels' own).
    pub title: String,
    /// The panels, row by row; each title gets its letter, `(a) …`.
    pub panels: Vec<Chart>,
    /// Panels per row.
    pub cols: usize,
}

/// The title band's height at font scale 1, in layout units.
const TITLE_BAND: u32 = 34;

impl Figure {
    fn grid(&self) -> (u32, u32) {
        let cols = self.cols.clamp(1, self.panels.len().max(1));
        (cols as u32, self.panels.len().div_ceil(cols).max(1) as u32)
    }

    fn band(&self, style: &Style) -> u32 {
        if style.title && !self.title.is_empty() {
            (f64::from(TITLE_BAND) * style.font_scale).round() as u32
        } else {
            0
        }
    }

    /// The panels with their letters.
    fn lettered(&self) -> Vec<Chart> {
        let letters = "abcdefghijklmnopqrstuvwxyz";
        self.panels
            .iter()
            .zip(letters.chars().cycle())
            .map(|(c, l)| Chart { title: format!("({l}) {}", c.title), ..c.clone() })
            .collect()
    }

    /// The style of the whole figure: `style` is one panel's.
    pub fn figure_style(&self, style: &Style) -> Style {
        let (cols, rows) = self.grid();
        let (w, h) = (style.width * cols, style.height * rows + self.band(style));
        let page = style.page.map(|(pw, ph)| (pw * f64::from(cols), ph * f64::from(h) / f64::from(style.height)));
        Style { width: w, height: h, page, ..style.clone() }
    }

    /// The figure as plotters' SVG, each panel at `style`'s size.
    pub fn svg(&self, style: &Style) -> Result<String, String> {
        draw::register();
        let panels = self.lettered();
        let headroom: Vec<f64> =
            panels.iter().map(|c| c.svg_with_headroom(style).map(|r| r.2)).collect::<Result<_, _>>()?;
        let (cols, rows) = self.grid();
        let band = self.band(style);
        let whole = self.figure_style(style);
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, (whole.width, whole.height)).into_drawing_area();
            let e = |e: DrawingAreaErrorKind<std::io::Error>| e.to_string();
            root.fill(&WHITE).map_err(e)?;
            let (top, body) = root.split_vertically(band);
            if band > 0 {
                use plotters::style::text_anchor::{HPos, Pos, VPos};
                let size = (draw::TITLE_PX * style.font_scale).round();
                let font = (super::FAMILY, size).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
                top.draw(&Text::new(self.title.as_str(), (whole.width as i32 / 2, band as i32 / 2), font))
                    .map_err(e)?;
            }
            let cells = body.split_evenly((rows as usize, cols as usize));
            for ((chart, cell), h) in panels.iter().zip(&cells).zip(&headroom) {
                draw::draw(chart, cell, style, *h)?;
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(text)
    }

    /// Draws to `<stem>.<format>` for each of `style`'s formats, each panel
    /// at `style`'s size; returns the paths.
    pub fn save_styled(&self, stem: &Path, style: &Style) -> Result<Vec<PathBuf>, ChartError> {
        let svg_path = stem.with_extension("svg");
        let text = self.svg(style).map_err(|msg| ChartError { path: svg_path, msg })?;
        let panels = self.lettered();
        let meta = |svg: &str| {
            let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let mut words: Vec<String> = Vec::new();
            for c in &panels {
                words.extend([c.title.clone(), c.x_label.clone(), c.y_label.clone()]);
                words.extend(c.series.iter().map(|s| s.name.clone()));
            }
            let meta = format!("<title>{}</title><desc>{}</desc>", esc(&self.title), esc(&words.join("\n")));
            match svg.find("<svg").and_then(|i| svg[i..].find('>').map(|j| i + j + 1)) {
                Some(at) => format!("{}{meta}{}", &svg[..at], &svg[at..]),
                None => svg.to_string(),
            }
        };
        super::write_formats(&text, stem, &self.figure_style(style), &meta)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Mark, Series};
    use super::*;

    #[test]
    fn a_figure_is_its_panels_side_by_side_under_its_title() {
        let panel = |t: &str| Chart {
            title: t.into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![Series::new("s", vec![(0.0, 0.0), (1.0, 1.0)], Mark::Line { dots: false })],
            ..Chart::default()
        };
        let fig =
            Figure { title: "Four".into(), panels: vec![panel("A"), panel("B"), panel("C"), panel("D")], cols: 2 };
        let style = Style { width: 400, height: 300, ..Style::default() };
        let s = fig.figure_style(&style);
        assert_eq!((s.width, s.height), (800, 600 + TITLE_BAND));
        let no_title = Style { title: false, ..style.clone() };
        assert_eq!(fig.figure_style(&no_title).height, 600);
        let svg = fig.svg(&style).unwrap();
        assert!(svg.contains("width=\"800\""), "{}", &svg[..200]);
        let dir = std::env::temp_dir().join(format!("kadsim-panels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = fig.save_styled(&dir.join("fig"), &style).unwrap();
        let svg = std::fs::read_to_string(files.iter().find(|p| p.extension().unwrap() == "svg").unwrap()).unwrap();
        for t in ["(a) A", "(b) B", "(c) C", "(d) D", "<title>Four</title>"] {
            assert!(svg.contains(t), "{t}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}

//! Tests of charts as a reader sees them: rendered pixels, the words of the
//! SVG, where the legend goes, how the axes are fitted.

use super::draw::{fit_title, step_points, x_label};
use super::render::FONT;
use super::*;
use plotters::style::{FontStyle, register_font};

#[test]
fn the_embedded_font_parses() {
    assert!(register_font("kadsim-test", FontStyle::Normal, FONT).is_ok());
}

#[test]
fn a_long_title_shrinks_to_the_width_then_is_cut_short() {
    super::draw::register();
    let width = |t: &str, px: f64| -> i32 {
        let font: plotters::style::TextStyle = (super::render::FAMILY, px).into_font().into();
        font.font.box_size(t).map(|(w, _)| w as i32).unwrap()
    };
    // A sweep chart's title, 720 pixels wide less the margins.
    let long = "maintenance messages per node per second vs protocol.questionable_after";
    let (t, px) = fit_title(long, 25.0, 692);
    assert_eq!(t, long, "shrunk, not cut");
    assert!((15.0..25.0).contains(&px) && width(&t, px) <= 692, "{px}");
    let short = "Lookup hops";
    assert_eq!(fit_title(short, 25.0, 692), (short.to_string(), 25.0));
    let (t, px) = fit_title(&long.repeat(3), 25.0, 692);
    assert_eq!(px, 15.0, "no smaller than 60%");
    assert!(t.ends_with('…') && width(&t, px) <= 692, "{t}");
}

#[test]
fn a_categorical_x_axis_names_its_positions() {
    let names = Chart { x_names: vec!["0s".into(), "15m".into()], integer_x: true, ..Chart::default() };
    let f = super::ticks::TickFormat::for_ticks(&[0.0, 0.5, 1.0]);
    let labels: Vec<String> = [-0.5, 0.0, 0.5, 1.0, 2.0].iter().map(|x| x_label(&names, &f, *x)).collect();
    assert_eq!(labels, ["", "0s", "", "15m", ""]);
    // An integer axis labels whole numbers only: 0.5 is not "1".
    let ints = Chart { integer_x: true, ..Chart::default() };
    let labels: Vec<String> = [0.0, 0.5, 1.0].iter().map(|x| x_label(&ints, &f, *x)).collect();
    assert_eq!(labels, ["0", "", "1"]);
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

/// A rendered PNG as grey levels: (width, height, pixels row by row).
pub fn grey(png_path: &Path) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h, ch) = (info.width as usize, info.height as usize, info.color_type.samples());
    let px = (0..w * h).map(|i| buf[i * ch]).collect();
    (w, h, px)
}

/// The rows of the lowest line of text (the x-axis label) of a chart with no note.
fn bottom_text_rows(img: &(usize, usize, Vec<u8>)) -> std::ops::Range<usize> {
    let (w, h, px) = img;
    let dark_row = |y: usize| (0..*w).any(|x| px[y * w + x] < 140);
    let last = (0..*h).rev().find(|&y| dark_row(y)).unwrap();
    let first = (0..=last).rev().find(|&y| !dark_row(y)).unwrap() + 1;
    first..last + 1
}

/// The runs of ink columns (first, last) in rows `rows`.
fn ink_runs(img: &(usize, usize, Vec<u8>), rows: std::ops::Range<usize>) -> Vec<(usize, usize)> {
    let (w, _, px) = img;
    let dark = |x: usize| rows.clone().any(|y| px[y * w + x] < 140);
    let mut runs = Vec::new();
    let mut start = None;
    for x in 0..*w {
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

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kadsim-chart-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A chart whose x-axis label is `label`, drawn as PNG, SVG and PDF.
fn label_chart(label: &str, dir: &Path) -> Vec<PathBuf> {
    let chart = Chart {
        x_label: label.into(),
        y_label: "y".into(),
        series: vec![Series::new("a", vec![(0.0, 0.0), (1.0, 1.0)], Mark::Line { dots: false })],
        ..Chart::default()
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
    let dir = scratch("glyphs");
    let files = label_chart("lookups lookups lookups", &dir);
    let img = grey(&files[0]);
    let runs = ink_runs(&img, bottom_text_rows(&img));
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
fn text_stays_readable_at_a_papers_column_width() {
    // A figure set at 3.5 inches (252 points) wide: the digits of the tick
    // labels, the smallest text but the legend's, must be at least 4.3
    // points tall, the digit height of a 6-point DejaVu Sans (0.73 em).
    let dir = scratch("column");
    let files = label_chart("x", &dir);
    let img = grey(&files[0]);
    // The x-axis tick labels: the line of text just above the axis label.
    let label = bottom_text_rows(&img);
    let (w, _, px) = &img;
    let dark_row = |y: usize| (0..*w).any(|x| px[y * w + x] < 140);
    let last = (0..label.start).rev().find(|&y| dark_row(y)).unwrap();
    let first = (0..=last).rev().find(|&y| !dark_row(y)).unwrap() + 1;
    let digit_px = (last + 1 - first) as f64;
    let points = digit_px * 252.0 / *w as f64;
    assert!(points >= 4.3, "tick digits are {points:.2} pt tall at 3.5 inches ({digit_px} px of {w})");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn log_x_spans_whole_decades() {
    assert_eq!(log10_x(&[(0.0, 0.1), (1000.0, 1.0)]), vec![(-1.0, 0.1), (3.0, 1.0)]);
    let chart = Chart {
        series: vec![Series::new("a", log10_x(&[(150.0, 0.5), (12_000.0, 1.0)]), Mark::Step)],
        log_x: true,
        ..Chart::default()
    };
    assert_eq!(chart.x_span(), (2.0, 5.0), "from 100 to 100k ms");
    assert_eq!(log10_y(&[(1.0, 0.0), (2.0, 100.0)]), vec![(2.0, 2.0)]);
}

fn rate_chart(rates: &[f64]) -> Chart {
    let points = rates.iter().enumerate().map(|(i, r)| (i as f64, *r)).collect();
    Chart {
        series: vec![Series::new("success rate", points, Mark::Line { dots: true })],
        y_fit: true,
        ..Chart::default()
    }
}

#[test]
fn a_fitted_axis_shows_a_narrow_band_and_is_marked_when_cut() {
    let layout = rate_chart(&[0.97, 0.985, 0.99, 0.975]).layout(&Style::default()).unwrap();
    assert!(layout.y_cut, "the axis does not start at 0: {layout:?}");
    assert!(layout.y.0 > 0.9 && layout.y.0 <= 0.97, "fitted below 0.97: {:?}", layout.y);
    assert!(layout.y.1 - layout.y.0 < 0.1, "the band fills the plot: {:?}", layout.y);
    // Data near 0 keeps the axis from 0, unmarked.
    let layout = rate_chart(&[0.02, 0.9]).layout(&Style::default()).unwrap();
    assert_eq!((layout.y.0, layout.y_cut), (0.0, false));
    // The SVG says where the axis starts.
    let dir = scratch("fit");
    let files = rate_chart(&[0.97, 0.99]).save_as(&dir.join("fit"), &[Format::Svg]).unwrap();
    let svg = std::fs::read_to_string(&files[0]).unwrap();
    assert!(svg.contains("y axis starts at 0.96"), "{}", &svg[..400]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_legend_covers_no_data() {
    // A latency CDF whose slow kind's tail runs into the lower right, where
    // a CDF legend went before: the legend moves to a free place.
    let fast = log10_x(&ecdf(&(1..=200).map(|i| 100.0 + i as f64).collect::<Vec<_>>()));
    let slow = log10_x(&ecdf(&(1..=200).map(|i| 1000.0 * 1.02f64.powi(i)).collect::<Vec<_>>()));
    let chart = Chart {
        series: vec![
            Series::new("gets (n = 200)", fast, Mark::Step),
            Series::new("node lookups (n = 200)", slow, Mark::Step),
        ],
        y_range: Some((0.0, 1.02)),
        legend_low: true,
        log_x: true,
        ..Chart::default()
    };
    let layout = chart.layout(&Style::default()).unwrap();
    let (rect, covered) = layout.legend.unwrap();
    assert_eq!(covered, 0, "legend at {rect:?} covers data");
    // A chart full of bars to the top on the right: the legend goes left or up.
    let bars = (0..10).map(|i| (i as f64, if i >= 5 { 10.0 } else { 1.0 })).collect();
    let chart =
        Chart { series: vec![Series::new("bars", bars, Mark::Bars { width: 0.8, offset: 0.0 })], ..Chart::default() };
    let (_, covered) = chart.layout(&Style::default()).unwrap().legend.unwrap();
    assert_eq!(covered, 0);
}

#[test]
fn bands_notes_and_shades_reach_every_format() {
    let dir = scratch("parts");
    let chart =
        Chart {
            title: "t".into(),
            x_label: "k".into(),
            y_label: "hops".into(),
            series: vec![
                Series::new("mean", vec![(1.0, 2.0), (2.0, 3.0), (3.0, 3.5)], Mark::Line { dots: true })
                    .with_band(vec![(1.8, 2.2), (2.7, 3.3), (3.1, 3.9)]),
            ],
            shades: vec![
                Shade { from: 1.0, to: 1.5, label: "partition".into(), tone: Tone::Warm },
                Shade { from: 2.0, to: 2.5, label: "partition".into(), tone: Tone::Warm },
            ],
            note: Some("band: 95% interval of the mean over 3 replicas".into()),
            ..Chart::default()
        };
    let files = chart.save_as(&dir.join("parts"), &[Format::Png, Format::Svg, Format::Pdf]).unwrap();
    assert_eq!(files.len(), 3);
    let svg = std::fs::read_to_string(&files[1]).unwrap();
    assert!(svg.contains("band: 95% interval of the mean over 3 replicas"));
    assert_eq!(svg.matches("partition").count(), 1, "one legend word per label");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A latency CDF from 0.1 ms to 100 s on a log axis.
fn wide_log_chart() -> Chart {
    let v: Vec<f64> = (0..=60).map(|i| 0.1 * 10f64.powf(f64::from(i) / 10.0)).collect();
    Chart {
        series: vec![Series::new("lookups", log10_x(&ecdf(&v)), Mark::Step)],
        y_range: Some((0.0, 1.02)),
        log_x: true,
        ..Chart::default()
    }
}

#[test]
fn a_log_axis_labels_every_decade_that_fits() {
    // 0.1 ms to 100 s, seven decades: plotters' own ticks labelled only
    // 1, 100 and 10k; every decade fits at the default size.
    let l = wide_log_chart().layout(&Style::default()).unwrap();
    let labels: Vec<&str> = l.x_labels.iter().map(|t| t.1.as_str()).collect();
    assert_eq!(labels, ["0.1", "1", "10", "100", "1k", "10k", "100k"], "{l:?}");
    // Too narrow for all: every second decade, 1 among them, evenly spaced.
    let narrow = Style { width: 300, font_scale: 1.4, ..Style::default() };
    let l = wide_log_chart().layout(&narrow).unwrap();
    let at: Vec<f64> = l.x_labels.iter().map(|t| t.0).collect();
    assert!(at.len() >= 2 && at.len() < 7 && at.contains(&0.0), "{l:?}");
    let steps: Vec<f64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(steps.iter().all(|s| *s == steps[0] && *s > 1.0), "evenly thinned: {at:?}");
}

/// A titled chart drawn in `style` into `dir`; returns the files.
fn titled(dir: &Path, style: &Style) -> Vec<PathBuf> {
    let chart = Chart {
        title: "Lookup latency & hops".into(),
        x_label: "hops".into(),
        y_label: "y".into(),
        series: vec![Series::new("a", vec![(0.0, 0.0), (1.0, 1.0)], Mark::Line { dots: false })],
        ..Chart::default()
    };
    chart.save_styled(&dir.join("t"), style).unwrap()
}

/// The words of the `<text>` elements of an SVG.
fn text_elements(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string()))
        .collect()
}

#[test]
fn svg_text_keeps_words_as_text_elements() {
    let dir = scratch("svgtext");
    // Default: outlines, the title in <title> only.
    let files = titled(&dir, &Style { formats: vec![Format::Svg], ..Style::default() });
    let outlines = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!outlines.contains("<text") && outlines.contains("<title>Lookup latency &amp; hops</title>"));
    // --svg-text: the title, labels and legend as <text>, in a sans-serif font.
    let style = Style { formats: vec![Format::Svg, Format::Png], svg_text: true, ..Style::default() };
    let files = titled(&dir, &style);
    let svg = std::fs::read_to_string(&files[0]).unwrap();
    let words = text_elements(&svg);
    for w in ["Lookup latency &amp; hops", "hops", "a"] {
        assert!(words.iter().any(|t| t == w), "{w} in {words:?}");
    }
    assert!(svg.contains(r#"font-family="DejaVu Sans, sans-serif""#));
    // The same drawing: the PNG of --svg-text is the PNG without it.
    let other = scratch("svgtext-plain");
    let plain = titled(&other, &Style { formats: vec![Format::Png], ..Style::default() });
    assert_eq!(std::fs::read(&files[1]).unwrap(), std::fs::read(&plain[0]).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}

#[test]
fn a_page_in_inches_sizes_every_format() {
    let dir = scratch("page");
    let style = Style::from_options("png,svg,pdf", Some("3.5in"), Some("2.5in"), 1.0, false, false).unwrap();
    let files = titled(&dir, &style);
    let (w, h, _) = grey(&files[0]);
    assert_eq!((w, h), (1050, 750), "3.5 × 2.5 inches at 300 dpi");
    let svg = std::fs::read_to_string(&files[1]).unwrap();
    assert!(svg.contains(r#"width="252pt" height="180pt""#), "{}", &svg[..200]);
    let pdf = std::fs::read(&files[2]).unwrap();
    assert!(pdf.windows(23).any(|w| w == b"/MediaBox [0 0 252 180]"));
    // The PNG is the 720-unit drawing scaled: its title is as tall, relative
    // to the figure, as in the default chart at 720 × 514.
    let other = scratch("page-720");
    let at_720 = titled(&other, &Style { height: 514, formats: vec![Format::Png], ..Style::default() });
    let ink_rows = |img: &(usize, usize, Vec<u8>)| {
        let (w, h, px) = img;
        (0..*h / 8).filter(|y| (0..*w).any(|x| px[y * w + x] < 140)).count() as f64 / *h as f64
    };
    let (big, small) = (ink_rows(&grey(&files[0])), ink_rows(&grey(&at_720[0])));
    assert!((big - small).abs() < 0.01, "title height share {big} vs {small}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}

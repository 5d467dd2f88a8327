//! Charts as figures for a paper: `kadsim plot` in PNG, SVG and PDF, at a
//! chosen size and text scale, with or without the title; the same options on
//! compare, sweep and report; several runs overlaid on one chart; and the
//! charts of churn.toml with their legends clear of the data.

use crate::bin::{kadsim, tmpdir};
use kadsim::report::chart::Style;
use kadsim::report::plot;
use kadsim::report::results::{Bucket, Results};
use std::path::{Path, PathBuf};

/// Width, height and the count of dark pixels in the top `band` rows, in the
/// middle third of the columns (where a title is centred; legends sit right).
fn png_facts(path: &Path, band: usize) -> (u32, u32, usize) {
    let mut reader =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap())).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let w = info.width as usize;
    let dark = (0..band).flat_map(|y| (w / 3..2 * w / 3).map(move |x| y * w + x)).filter(|i| buf[i * ch] < 128).count();
    (info.width, info.height, dark)
}

#[test]
fn plot_writes_every_format_at_the_asked_size_with_or_without_title() {
    let d = tmpdir("fig-formats");
    let f = d.join("s.toml");
    std::fs::write(
        &f,
        "name = \"fig\"\nnodes = 60\nduration = \"3m\"\nwarmup = \"30s\"\n[workload]\nlookup_rate = 0.05\n",
    )
    .unwrap();
    let run = d.join("run");
    let o = kadsim(&["run", f.to_str().unwrap(), "--out", run.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (a, b) = (d.join("a"), d.join("b"));
    for (out, extra) in [(&a, &[][..]), (&b, &["--no-title"][..])] {
        let mut args = vec!["plot", run.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend(["--format", "png,svg,pdf", "--width", "504", "--height", "360", "--font-scale", "1.3"]);
        args.extend(extra);
        let o = kadsim(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for stem in ["hops_hist", "hops_cdf", "latency_cdf", "success_alive", "traffic", "bandwidth", "buckets"] {
        let (w, h, _) = png_facts(&a.join(format!("{stem}.png")), 1);
        assert_eq!((w, h), (504, 360), "{stem}");
        let svg = std::fs::read_to_string(a.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains(r#"width="504" height="360""#), "{stem}.svg size");
        assert!(!svg.contains("<text"), "{stem}.svg: text as outlines, no font needed");
        let pdf = std::fs::read(a.join(format!("{stem}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF-") && pdf.windows(10).any(|w| w == b"DejaVuSans"), "{stem}.pdf embeds its font");
    }
    // Without the title the top of the figure is empty.
    let (_, _, titled) = png_facts(&a.join("hops_hist.png"), 30);
    let (_, _, bare) = png_facts(&b.join("hops_hist.png"), 30);
    assert!(titled > 100 && bare < titled / 4, "title ink {titled}, without title {bare}");
    // Bad options: one line, exit 2.
    for bad in [&["--format", "gif"][..], &["--font-scale", "0"][..], &["--width", "5"][..]] {
        let mut args = vec!["plot", run.to_str().unwrap(), "--out", a.to_str().unwrap()];
        args.extend(bad);
        let o = kadsim(&args);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1, "{bad:?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

const SMALL: &str = "name = \"fig\"\nnodes = 80\nduration = \"4m\"\nwarmup = \"40s\"\n\
[workload]\nlookup_rate = 0.05\nget_rate = 0.02\nput_rate = 0.01\n";

/// Runs the small scenario with `set` overrides into `d/name`.
fn small_run(d: &Path, name: &str, set: &[&str]) -> PathBuf {
    let f = d.join("small.toml");
    std::fs::write(&f, SMALL).unwrap();
    let out = d.join(name);
    let mut args = vec!["run", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"];
    for kv in set {
        args.extend(["--set", kv]);
    }
    let o = kadsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // kadsim's record of the files it wrote there.
        .filter(|n| n != ".kadsim-owned")
        .collect();
    v.sort();
    v
}

#[test]
fn three_runs_overlay_on_one_chart_each() {
    let d = tmpdir("fig-overlay");
    let runs: Vec<PathBuf> = [("k4", "protocol.k=4"), ("k8", "protocol.k=8"), ("k20", "protocol.k=20")]
        .iter()
        .map(|(n, kv)| small_run(&d, n, &[kv]))
        .collect();
    let out = d.join("ov");
    let r: Vec<&str> = runs.iter().map(|p| p.to_str().unwrap()).collect();
    let o = kadsim(&[
        "plot",
        r[0],
        r[1],
        r[2],
        "--label",
        "k = 4,k = 8,k = 20",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "png,svg,pdf",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stems = [
        "overlay_hops_cdf",
        "overlay_latency_cdf",
        "overlay_get_latency_cdf",
        "overlay_success",
        "overlay_traffic",
        "overlay_panels",
    ];
    let mut expected: Vec<String> =
        stems.iter().flat_map(|s| ["png", "svg", "pdf"].map(|e| format!("{s}.{e}"))).collect();
    expected.sort();
    assert_eq!(files_in(&out), expected);
    // Each run is named in each legend, with its own count of node lookups.
    let lookups = |run: &Path| {
        let text = std::fs::read_to_string(run.join("ops.csv")).unwrap();
        text.lines().filter(|l| l.split(',').nth(2) == Some("find_node")).count()
    };
    let svg = std::fs::read_to_string(out.join("overlay_hops_cdf.svg")).unwrap();
    for (run, label) in runs.iter().zip(["k = 4", "k = 8", "k = 20"]) {
        let entry = format!("{label} (n = {})", lookups(run));
        assert!(svg.contains(&entry), "{entry} in the hop CDF overlay");
    }
    assert!(svg.contains("Node lookup hops: k = 4 vs k = 8 vs k = 20"));
    // The three runs are told apart: the three first palette colours are drawn.
    let png = std::fs::read(out.join("overlay_hops_cdf.png")).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    for rgb in [[0u8, 114, 178], [213, 94, 0], [0, 158, 115]] {
        let n = buf.chunks_exact(ch).filter(|p| p[..3] == rgb).count();
        assert!(n > 50, "colour {rgb:?} drawn ({n} pixels)");
    }
    // k = 4 needs more hops than k = 20 (§2.3: log base 2^b of n with
    // k-sized replies): the overlay shows two different curves.
    let hops = |run: &Path| {
        let r = Results::read(run).unwrap();
        let h = plot::hops_of(&r, "find_node");
        h.iter().sum::<f64>() / h.len() as f64
    };
    assert!(hops(&runs[0]) > hops(&runs[2]), "k = 4 {} vs k = 20 {}", hops(&runs[0]), hops(&runs[2]));
    // Default labels are the directory names; a wrong count of labels is refused.
    let out2 = d.join("ov2");
    let o = kadsim(&["plot", r[0], r[1], r[2], "--out", out2.to_str().unwrap(), "--format", "svg"]);
    assert!(o.status.success());
    let svg = std::fs::read_to_string(out2.join("overlay_latency_cdf.svg")).unwrap();
    assert!(svg.contains("k4 (n = ") && svg.contains("k20 (n = "));
    let o = kadsim(&["plot", r[0], r[1], "--label", "a,b,c", "--out", out2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1);
    assert!(err.contains("--label: 3 labels for 2 runs"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn compare_sweep_and_report_take_the_chart_options() {
    let d = tmpdir("fig-options");
    let a = small_run(&d, "a", &[]);
    let b = small_run(&d, "b", &["seed=9"]);
    let (sa, sb) = (a.to_str().unwrap(), b.to_str().unwrap());
    // compare: PDF only, no title.
    let cmp = d.join("cmp");
    let o = kadsim(&["compare", sa, sb, "--out", cmp.to_str().unwrap(), "--format", "pdf", "--no-title"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(files_in(&cmp), ["compare_hops_cdf.pdf", "compare_latency_cdf.pdf"]);
    // report: every format; the Markdown shows the PNG and links the others.
    let o = kadsim(&["report", sa, "--format", "png,svg,pdf", "--width", "600", "--height", "400"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(md.contains("![Hop count CDF](hops_cdf.png)") && md.contains("[PDF](hops_cdf.pdf)"), "{md}");
    let (w, h, _) = png_facts(&a.join("hops_cdf.png"), 1);
    assert_eq!((w, h), (600, 400));
    // sweep: SVG charts in charts/, nothing loose beside the CSVs.
    let f = d.join("small.toml");
    let sw = d.join("sw");
    let o = kadsim(&[
        "sweep",
        f.to_str().unwrap(),
        "--param",
        "k=4,8",
        "--replicas",
        "2",
        "--out",
        sw.to_str().unwrap(),
        "-q",
        "--format",
        "svg",
        "--font-scale",
        "1.2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(files_in(&sw).iter().all(|f| !f.ends_with(".svg") && !f.ends_with(".png")), "{:?}", files_in(&sw));
    let charts = files_in(&sw.join("charts"));
    assert!(charts.contains(&"find_node_hops_mean_vs_k.svg".to_string()), "{charts:?}");
    assert!(charts.iter().all(|c| c.ends_with(".svg")));
    // Bad chart options are refused by each command, before any work.
    for args in [
        vec!["compare", sa, sb, "--format", "tiff"],
        vec!["report", sa, "--width", "10"],
        vec!["sweep", f.to_str().unwrap(), "--param", "k=4", "--font-scale", "9", "--out", "/nonexistent/x"],
        vec!["merge", sw.to_str().unwrap(), "--format", ""],
    ] {
        let o = kadsim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1, "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn churn_charts_keep_legends_off_the_data_and_fit_a_paper_column() {
    // The shipped churn scenario, whole, as the README draws it.
    let d = tmpdir("fig-churn");
    let run = d.join("churn");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/churn.toml");
    let o = kadsim(&["run", scenario, "--out", run.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = Results::read(&run).unwrap();
    // At a 3.5-inch column (252 points) the default text must stay at 6 points
    // or more: the chart is drawn 720 wide, so every size is ≥ 6 × 720 / 252 px.
    let column = Style::default();
    assert!(f64::from(column.width) <= 720.0);
    for (stem, chart) in plot::run_charts(&r) {
        let layout = chart.layout(&column).unwrap();
        let (rect, covered) = layout.legend.unwrap();
        assert_eq!(covered, 0, "{stem}: the legend at {rect:?} covers data");
        if stem == "success_alive" {
            assert!(layout.y_cut && layout.y.0 > 0.5, "{stem}: the rates' axis is fitted: {layout:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// `r` with bucket `i`'s mean contacts `fill(i)`, a row for every bucket 0 to 159.
fn with_buckets(r: &Results, fill: impl Fn(u32) -> f64) -> Results {
    let mut r = r.clone();
    r.buckets = (0..160u32)
        .rev()
        .map(|i| Bucket { bucket: i, contacts_mean: fill(i), full_fraction: if fill(i) >= 20.0 { 1.0 } else { 0.0 } })
        .collect();
    r
}

#[test]
fn the_buckets_axis_covers_the_buckets_that_hold_contacts() {
    let d = tmpdir("fig-buckets");
    let r = Results::read(&small_run(&d, "run", &[])).unwrap();
    // Only the farthest 20 buckets hold contacts (rows 0 to 139 empty).
    let far = with_buckets(&r, |i| if i >= 140 { f64::from(i - 139) } else { 0.0 });
    let chart = plot::buckets(&far);
    let l = chart.layout(&Style::default()).unwrap();
    assert!(l.x.0 > 137.0 && l.x.0 < 140.0 && l.x.1 > 159.0 && l.x.1 < 161.0, "x from 140 to 159, not 0: {l:?}");
    assert!(l.x_cuts.is_empty());
    let labels: Vec<&str> = l.x_labels.iter().map(|t| t.1.as_str()).collect();
    assert_eq!(labels, ["140", "145", "150", "155"]);
    // Eclipse-like: a few contacts at 112 to 116 as well, nothing between.
    let eclipse = with_buckets(&r, |i| match i {
        112..=116 => 0.1,
        140..=159 => f64::from(i - 139),
        _ => 0.0,
    });
    let l = plot::buckets(&eclipse).layout(&Style::default()).unwrap();
    assert!(l.x.0 > 109.0 && l.x.0 < 112.0 && l.x.1 < 161.0, "{l:?}");
    assert_eq!(l.x_cuts.len(), 1, "the empty buckets 117 to 139 are left out: {l:?}");
    let (from, to) = l.x_cuts[0];
    assert!(from > 116.5 && from < 118.5 && to > 137.5 && to < 139.5, "{l:?}");
    let labels: Vec<&str> = l.x_labels.iter().map(|t| t.1.as_str()).collect();
    assert!(labels.starts_with(&["116", "140"]), "both sides of the break labelled: {labels:?}");
    // The note (a mean above k) takes two lines at most at the default size.
    let over = with_buckets(&r, |i| if i >= 150 { 25.0 } else { 0.0 });
    let c = plot::buckets(&over);
    assert!(c.note.is_some() && c.x_label.contains("2ⁱ to 2ⁱ⁺¹"), "{}", c.x_label);
    let n = c.layout(&Style::default()).unwrap().note_lines;
    assert!((1..=2).contains(&n), "{n} lines of note");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn sizes_in_inches_set_the_page_and_svg_text_keeps_the_words() {
    let d = tmpdir("fig-inches");
    let run = small_run(&d, "run", &[]);
    let out = d.join("paper");
    let o = kadsim(&[
        "plot",
        run.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--width",
        "3.5in",
        "--height",
        "2.5in",
        "--format",
        "pdf,png,svg",
        "--svg-text",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for stem in ["hops_cdf", "latency_cdf", "buckets"] {
        let pdf = std::fs::read(out.join(format!("{stem}.pdf"))).unwrap();
        assert!(pdf.windows(23).any(|w| w == b"/MediaBox [0 0 252 180]"), "{stem}.pdf is 3.5 × 2.5 inches");
        let (w, h, _) = png_facts(&out.join(format!("{stem}.png")), 1);
        assert_eq!((w, h), (1050, 750), "{stem}.png: 3.5 × 2.5 inches at 300 dpi");
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains(r#"width="252pt" height="180pt""#), "{stem}.svg");
        let title = format!(">\n{}: ", Results::read(&run).unwrap().name());
        assert!(svg.split("<text").skip(1).any(|t| t.contains(&title)), "{stem}.svg: the title is a <text>");
    }
    // Bad sizes: one line naming the option, exit 2.
    for bad in [&["--width", "3.5cm"][..], &["--width", "0in"], &["--height", "abc"], &["--width", "1000in"]] {
        let mut args = vec!["plot", run.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend(bad);
        let o = kadsim(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        assert!(err.starts_with(&format!("kadsim: {} {}", bad[0], bad[1])), "{err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bucket_axes_cut_only_long_empty_runs() {
    assert_eq!(plot::bucket_axis(&[]), None, "no contacts: the axis of the data");
    let one = plot::bucket_axis(&[159]).unwrap();
    assert_eq!((one.range, one.cuts.len()), ((158.0, 160.0), 0));
    // A gap of 4 empty buckets is drawn; one of 5 or more is cut, each apart.
    let a = plot::bucket_axis(&[100, 105, 111, 112, 130, 131]).unwrap();
    assert_eq!(a.cuts, [(106.5, 109.5), (113.5, 128.5)]);
    let at: Vec<f64> = a.ticks.iter().map(|t| t.0).collect();
    for side in [105.0, 111.0, 112.0, 130.0] {
        assert!(at.contains(&side), "{side} labelled: {at:?}");
    }
}

//! Charts as figures for a paper: `kadsim plot` in PNG, SVG and PDF, at a
//! chosen size and text scale, with or without the title.

use crate::bin::{kadsim, tmpdir};
use std::path::Path;

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
    for stem in ["hops_hist", "hops_cdf", "latency_cdf", "success_alive", "traffic", "buckets"] {
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

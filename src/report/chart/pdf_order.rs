//! The same chart gives the same PDF, byte for byte. svg2pdf (0.13) keeps a
//! page's and each form's resources in a `HashMap` and writes each resource
//! dictionary's entries (`/xo12 32 0 R`, one per line) in its iteration
//! order, which changes from process to process. The names and objects are
//! allocated in drawing order and are the same every time; only the order of
//! the lines differs. Here the lines of each run of such entries are sorted,
//! in place: a run keeps its length, so every byte offset of the file (the
//! cross-reference table's) stays valid.

/// Whether `line` is one resource entry: `/Name N 0 R` (indented).
fn is_entry(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    let parts: Vec<&[u8]> = t.split(|b| *b == b' ').collect();
    parts.len() == 4
        && parts[0].len() > 1
        && parts[0][0] == b'/'
        && parts[0][1..].iter().all(u8::is_ascii_alphanumeric)
        && !parts[1].is_empty()
        && parts[1].iter().all(u8::is_ascii_digit)
        && parts[2] == b"0"
        && parts[3] == b"R"
}

/// Sorts the entries of every resource dictionary of `pdf` by their bytes.
pub fn sort_resources(pdf: &mut [u8]) {
    const KEY: &[u8] = b"/Resources <<\n";
    let mut at = 0;
    while let Some(found) = pdf[at..].windows(KEY.len()).position(|w| w == KEY) {
        let start = at + found + KEY.len();
        let mut depth = 1i32;
        let mut pos = start;
        // Runs of entry lines: (first byte, one past the last line's newline).
        let mut run: Option<usize> = None;
        while pos < pdf.len() && depth > 0 {
            let end = pdf[pos..].iter().position(|b| *b == b'\n').map_or(pdf.len(), |i| pos + i + 1);
            let line = &pdf[pos..end];
            if is_entry(line) && line.ends_with(b"\n") {
                run.get_or_insert(pos);
            } else {
                let t = line.trim_ascii();
                depth += t.windows(2).filter(|w| *w == b"<<").count() as i32;
                depth -= t.windows(2).filter(|w| *w == b">>").count() as i32;
                if let Some(first) = run.take() {
                    sort_lines(&mut pdf[first..pos]);
                }
            }
            pos = end;
        }
        if let Some(first) = run.take() {
            sort_lines(&mut pdf[first..pos]);
        }
        at = pos.max(start);
    }
}

/// Sorts the newline-ended lines of `region` in place.
fn sort_lines(region: &mut [u8]) {
    let mut lines: Vec<Vec<u8>> = region.split_inclusive(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    lines.sort();
    let sorted = lines.concat();
    region.copy_from_slice(&sorted);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_sorted_in_place_and_nothing_else_moves() {
        let a = b"4 0 obj\n<<\n  /Type /Page\n  /Resources <<\n    /XObject <<\n      /xo5 18 0 R\n      /xo19 46 0 R\n      /xo14 36 0 R\n    >>\n    /ExtGState <<\n      /gs2 9 0 R\n      /gs1 8 0 R\n    >>\n    /ProcSet [/PDF /Text]\n  >>\n  /Contents 5 0 R\n>>\nendobj\n";
        let b = b"4 0 obj\n<<\n  /Type /Page\n  /Resources <<\n    /XObject <<\n      /xo14 36 0 R\n      /xo5 18 0 R\n      /xo19 46 0 R\n    >>\n    /ExtGState <<\n      /gs1 8 0 R\n      /gs2 9 0 R\n    >>\n    /ProcSet [/PDF /Text]\n  >>\n  /Contents 5 0 R\n>>\nendobj\n";
        let (mut x, mut y) = (a.to_vec(), b.to_vec());
        sort_resources(&mut x);
        sort_resources(&mut y);
        assert_eq!(x, y, "either order comes out the same");
        assert_eq!(x.len(), a.len());
        let text = String::from_utf8(x).unwrap();
        assert!(text.contains("      /xo14 36 0 R\n      /xo19 46 0 R\n      /xo5 18 0 R\n"), "{text}");
        assert!(text.ends_with("    /ProcSet [/PDF /Text]\n  >>\n  /Contents 5 0 R\n>>\nendobj\n"), "{text}");
        assert!(!is_entry(b"  /Contents 5 0 R x\n") && is_entry(b"  /F0 12 0 R\n") && !is_entry(b"  /Type /Page\n"));
    }
}

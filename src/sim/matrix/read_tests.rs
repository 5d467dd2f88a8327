//! The matrix reader: both layouts, comments, units, missing entries, the
//! SHA-1 of the bytes, and a refusal with line and column for every fault.

use super::*;
use std::path::PathBuf;

fn scratch(tag: &str) -> PathBuf {
    crate::files::scratch(&format!("matrix-{tag}"))
}

fn opts() -> Options {
    Options { format: MatrixFormat::Auto, unit: MatrixUnit::Millis, missing: MatrixMissing::Drop, max_bytes: 1e9 }
}

/// Reads `text` as a matrix file named `name` with `o`.
fn read_as(tag: &str, name: &str, text: &[u8], o: &Options) -> Result<Matrix, MatrixError> {
    let d = scratch(tag);
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    let r = read(&p, o);
    let _ = std::fs::remove_dir_all(&d);
    r
}

fn ok(tag: &str, text: &str) -> Matrix {
    read_as(tag, "m.txt", text.as_bytes(), &opts()).unwrap_or_else(|e| panic!("{tag}: {e}"))
}

fn err(tag: &str, text: &str) -> MatrixError {
    match read_as(tag, "m.txt", text.as_bytes(), &opts()) {
        Ok(m) => panic!("{tag}: read as {m:?}"),
        Err(e) => e,
    }
}

fn halves(m: &Matrix) -> Vec<u32> {
    let n = m.hosts() as u16;
    (0..n).flat_map(|a| (0..n).map(move |b| (a, b))).map(|(a, b)| m.half_us(a, b)).collect()
}

#[test]
fn dense_rows_with_spaces_tabs_or_commas_and_comments() {
    let text = "\u{feff}# three hosts, RTTs in ms\n\n0 10 20\r\n 10,0,  30\n# a comment between rows\n20\t30 ,0\n";
    let m = ok("dense", text);
    assert_eq!(m.hosts(), 3);
    assert_eq!(halves(&m), [0, 5_000, 10_000, 5_000, 0, 15_000, 10_000, 15_000, 0]);
    assert!(m.notes().is_empty());
}

#[test]
fn the_diagonal_is_ignored_and_an_asymmetric_matrix_kept_as_given() {
    let m = ok("diag", "7 1.5 2\n2.5 nan 3\n4 5 -1\n");
    assert_eq!(halves(&m), [0, 750, 1_000, 1_250, 0, 1_500, 2_000, 2_500, 0]);
}

#[test]
fn triples_fill_both_ways_and_read_microseconds() {
    let o = Options { unit: MatrixUnit::Micros, ..opts() };
    let m = read_as("triples", "m.txt", b"# i j rtt_us\n0 1 1000\n0 2 2000\n1 2 3001\n2 1 5000\n", &o).unwrap();
    // 3001 µs / 2 rounds to 1501 (half away from zero); 2 -> 1 is given as 5000.
    assert_eq!(halves(&m), [0, 500, 1_000, 500, 0, 1_501, 1_000, 2_500, 0]);
}

#[test]
fn missing_entries_drop_the_fewest_hosts_with_a_note() {
    // Host 3 has no RTT to 0 or 1 (-1, and a pair no row gives as a number).
    let m = ok("drop", "0 10 20 -1\n10 0 30 nan\n20 30 0 40\n-1 NaN 40 0\n");
    assert_eq!(m.hosts(), 3);
    assert_eq!(halves(&m), [0, 5_000, 10_000, 5_000, 0, 15_000, 10_000, 15_000, 0]);
    assert_eq!(m.notes().len(), 1);
    assert!(
        m.notes()[0]
            .ends_with("1 of 4 hosts dropped with missing RTTs (network.latency.missing = \"drop\"): 3 hosts left")
    );
}

#[test]
fn missing_entries_estimated_with_a_note() {
    let o = Options { missing: MatrixMissing::Estimate, format: MatrixFormat::Dense, ..opts() };
    let m = read_as("estimate", "m.txt", b"0 10 -1\n10 0 30\n-1 30 0\n", &o).unwrap();
    assert_eq!(halves(&m), [0, 5_000, 20_000, 5_000, 0, 15_000, 20_000, 15_000, 0]);
    assert!(m.notes()[0].contains("1 missing host pair estimated"), "{:?}", m.notes());
}

#[test]
fn triples_give_hosts_without_any_pair_to_drop() {
    // Host 1 appears in no triple.
    let m = ok("gap", "0 2 10\n0 3 20\n2 3 30\n3 0 20\n");
    assert_eq!(m.hosts(), 3);
    assert!(m.notes()[0].contains("1 of 4 hosts dropped"), "{:?}", m.notes());
}

#[test]
fn the_sha1_is_of_the_files_bytes() {
    let text = "0 1\n1 0\n";
    let m = ok("sha", text);
    // printf '0 1\n1 0\n' | sha1sum
    let mut h = sha1::Sha1::new();
    h.update(text.as_bytes());
    let want: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(m.sha1(), want);
    assert_ne!(ok("sha2", "0 1\n1 0\n\n").sha1(), want, "another byte, another SHA-1");
}

#[test]
fn gzip_is_read_and_hashed_as_stored() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"0 10\n10 0\n").unwrap();
    let bytes = gz.finish().unwrap();
    let m = read_as("gz", "m.txt.gz", &bytes, &opts()).unwrap();
    assert_eq!(halves(&m), [0, 5_000, 5_000, 0]);
    let mut h = sha1::Sha1::new();
    h.update(&bytes);
    let want: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(m.sha1(), want);
}

/// A malformed file: its tag, its text, where the fault is, what the
/// message holds.
type Fault = (&'static str, &'static str, Option<(u64, u64)>, &'static str);

#[test]
fn every_fault_is_placed_and_says_what_was_expected() {
    let cases: &[Fault] = &[
        ("empty", "", Some((1, 1)), "no line of data"),
        ("comments-only", "# nothing\n\n", Some((3, 1)), "no line of data"),
        (
            "word",
            "0 10\n10 abc\n",
            Some((2, 4)),
            "expected an RTT in milliseconds (a number; -1 or nan for a missing one), got \"abc\"",
        ),
        (
            "ragged-short",
            "0 1 2 3\n1 0 4\n2 4 0 5\n3 5 5 0\n",
            Some((2, 6)),
            "expected 4 values, as many as the first row has (a square matrix), got 3",
        ),
        (
            "ragged-long",
            "0 1\n1 0 5\n",
            Some((2, 5)),
            "expected 2 values, as many as the first row has (a square matrix), got 3",
        ),
        (
            "too-few-rows",
            "0 1 2 3\n1 0 3 4\n",
            Some((3, 1)),
            "expected 4 rows, as many as the first row has values (a square matrix), got 2",
        ),
        ("too-many-rows", "0 1\n1 0\n1 1\n", Some((3, 1)), "this is row 3"),
        ("not-square", "0 1 2 3\n", Some((2, 1)), "expected 4 rows"),
        ("infinite", "0 inf\n1 0\n", Some((1, 3)), "expected an RTT of at most"),
        ("huge", "0 1e300\n1 0\n", Some((1, 3)), "expected an RTT of at most"),
        ("double-comma", "0,,1\n1,0\n", Some((1, 3)), "expected a value before ','"),
        ("trailing-comma", "0,1,\n1,0\n", Some((1, 4)), "expected a value after ','"),
        (
            "triple-index-word",
            "0 1 10\n0 x 10\n1 2 5\n0 2 3\n",
            Some((2, 3)),
            "expected a host index (a whole number from 0), got \"x\"",
        ),
        (
            "triple-index-float",
            "0 1 10\n0 2 10\n1.0 2 5\n1 0 3\n",
            Some((3, 1)),
            "expected a host index (a whole number from 0), got \"1.0\"",
        ),
        ("triple-index-range", "0 1 10\n0 70000 10\n1 2 5\n2 0 3\n", Some((2, 3)), "expected a host index below 65535"),
        ("triple-short", "0 1 10\n0 2\n1 2 5\n0 1 3\n", Some((2, 4)), "expected 3 values, i j rtt"),
        ("triple-twice", "0 1 10\n0 2 10\n1 2 5\n0 1 3\n", Some((4, 1)), "the host pair 0 1 is given a second time"),
        ("one-host", "0\n", None, "1 usable host of 1: expected a matrix of at least 2 hosts"),
        ("no-usable", "0 -1\n-1 0\n", None, "1 usable host of 2"),
    ];
    for &(tag, text, at, want) in cases {
        let e = err(tag, text);
        assert_eq!(e.position, at, "{tag}: {e}");
        assert!(e.message.contains(want), "{tag}: {e}");
        assert!(!e.message.contains('\n'), "{tag}: one line");
    }
    // A byte that is not UTF-8: placed where it is.
    let e = read_as("not-utf8", "m.txt", b"0 1\n1 \xff0\n", &opts()).unwrap_err();
    assert_eq!((e.position, e.message.as_str()), (Some((2, 3)), "expected UTF-8 text"));
}

#[test]
fn three_lines_of_three_values_are_dense_when_their_diagonal_is_zero() {
    let dense = b"0 25 40\n25 0 31\n40 31 -1\n";
    let m = read_as("three", "m.txt", dense, &opts()).unwrap();
    assert_eq!(halves(&m), [0, 12_500, 20_000, 12_500, 0, 15_500, 20_000, 15_500, 0]);
    // The same lines read as triples: pairs 0-25, 25-0 and 40-31.
    let o = Options { format: MatrixFormat::Triples, ..opts() };
    assert_eq!(read_as("three-triples", "m.txt", dense, &o).unwrap().hosts(), 2);
    // Triples, told apart by their "diagonal" (0, 2, 30).
    let triples = b"0 1 10\n0 2 20\n1 2 30\n";
    let m = read_as("three-auto", "m.txt", triples, &opts()).unwrap();
    assert_eq!(halves(&m), [0, 5_000, 10_000, 5_000, 0, 15_000, 10_000, 15_000, 0]);
}

#[test]
fn a_matrix_over_the_memory_allowed_is_refused_before_it_is_built() {
    let o = Options { max_bytes: 1000.0, ..opts() };
    let row = vec!["1"; 20].join(" ");
    let e = read_as("memory", "m.txt", format!("{row}\n").as_bytes(), &o).unwrap_err();
    assert_eq!(e.position, Some((1, 1)));
    assert!(e.message.starts_with("a matrix of 20 hosts takes"), "{e}");
}

#[test]
fn files_that_cannot_be_opened_name_the_field() {
    let d = scratch("open");
    let e = read(&d.join("absent.txt"), &opts()).unwrap_err();
    assert_eq!((e.field, e.message.as_str()), (Some("network.latency.file"), "not found"));
    let e = read(&d, &opts()).unwrap_err();
    assert!(e.message.contains("a directory"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

//! How `kadsim compare` and `kadsim report` print numbers and tables: values
//! with about five significant digits, signed changes, percentages, p-values,
//! and tables aligned for the terminal or as Markdown.

use std::fmt::Write as _;

/// Formats a value with about five significant digits.
pub fn num(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(x) if !x.is_finite() => format!("{x}"),
        Some(x) if x == x.trunc() && x.abs() < 1e15 => format!("{x:.0}"),
        Some(x) if x.abs() >= 1000.0 => format!("{x:.1}"),
        Some(x) if x.abs() >= 1.0 => format!("{x:.4}"),
        Some(x) => format!("{x:.5}"),
    }
}

/// A value with its sign: `+1.5`, `-0.25000`, `0`.
pub fn signed(v: Option<f64>) -> String {
    match v {
        Some(x) if x > 0.0 => format!("+{}", num(Some(x))),
        Some(0.0) => "0".into(),
        other => num(other),
    }
}

/// A relative change as a signed percentage: `+3.38%`, `+inf`.
pub fn pct(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(x) if x.is_infinite() => if x > 0.0 { "+inf" } else { "-inf" }.into(),
        Some(x) => format!("{:+.2}%", x * 100.0),
    }
}

/// A p-value: four decimals, scientific notation below 1e-4.
pub fn pval(p: f64) -> String {
    if p < 1e-300 {
        "< 1e-300".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// A table, aligned for the terminal or as a Markdown pipe table.
pub fn table<const N: usize>(head: &[&str; N], body: &[[String; N]], markdown: bool) -> String {
    let mut out = String::new();
    if markdown {
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let _ = writeln!(out, "|{}", (0..N).map(|i| if i == 0 { "---|" } else { "---:|" }).collect::<String>());
        for row in body {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        return out;
    }
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in body {
        for (i, c) in row.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            if i == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    out.push_str(&line(head.to_vec()));
    for row in body {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

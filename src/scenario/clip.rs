//! Keeps error lines short: a value the user wrote is echoed up to
//! [`MAX_ECHO`] bytes, then cut with an ellipsis and its full length.

use std::borrow::Cow;

/// The most bytes of one user value an error line repeats.
pub const MAX_ECHO: usize = 200;

/// `s` if it is at most [`MAX_ECHO`] bytes; else its first bytes (cut at a
/// character boundary), `…`, and how long it was.
pub fn clip(s: &str) -> Cow<'_, str> {
    if s.len() <= MAX_ECHO {
        return Cow::Borrowed(s);
    }
    Cow::Owned(format!("{}… ({} bytes)", head(s), s.len()))
}

/// The first [`MAX_ECHO`] bytes of `s` or fewer, ending at a character boundary.
fn head(s: &str) -> &str {
    let mut end = MAX_ECHO.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `message` with every quoted span (`"..."`, with backslash escapes, or
/// `` `...` ``) longer than [`MAX_ECHO`] bytes cut, and the whole cut to
/// 4 × [`MAX_ECHO`] bytes if it is still longer.
pub fn clip_message(message: &str) -> Cow<'_, str> {
    if message.len() <= MAX_ECHO {
        return Cow::Borrowed(message);
    }
    let mut out = String::with_capacity(message.len().min(8 * MAX_ECHO));
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open];
        out.push_str(&rest[..=open]);
        let body = &rest[open + 1..];
        let close = span_end(body, quote);
        let inner = &body[..close];
        if inner.len() > MAX_ECHO {
            out.push_str(head(inner));
            out.push('…');
            out.push(quote as char);
            out.push_str(&format!(" ({} bytes)", inner.len()));
        } else {
            out.push_str(inner);
            if close < body.len() {
                out.push(quote as char);
            }
        }
        rest = body.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    if out.len() > 4 * MAX_ECHO {
        let mut end = 4 * MAX_ECHO;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        let total = out.len();
        out.truncate(end);
        out.push_str(&format!("… ({total} bytes)"));
    }
    Cow::Owned(out)
}

/// Where the span opened by `quote` ends in `body` (the index of the closing
/// quote, or `body.len()` if it is not closed).
fn span_end(body: &str, quote: u8) -> usize {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept() {
        assert_eq!(clip("abc"), "abc");
        assert_eq!(
            clip_message("invalid type: string \"x\", expected u32"),
            "invalid type: string \"x\", expected u32"
        );
    }

    #[test]
    fn long_values_are_cut_and_measured() {
        let v = "é".repeat(300);
        let c = clip(&v);
        assert!(c.len() < MAX_ECHO + 20 && c.ends_with("… (600 bytes)"), "{c}");
        let m = format!("invalid type: string \"{}\\\"{}\", expected u32", "x".repeat(500), "y".repeat(10));
        let c = clip_message(&m);
        assert!(c.starts_with("invalid type: string \"xxx"), "{c}");
        assert!(c.ends_with("…\" (512 bytes), expected u32"), "{c}");
        assert!(c.len() < 300, "{c}");
        let m = format!("unknown variant `{}`, expected one of `a`, `b`", "w".repeat(1000));
        let c = clip_message(&m);
        assert!(c.ends_with("…` (1000 bytes), expected one of `a`, `b`"), "{c}");
    }
}

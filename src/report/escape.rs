//! The one place untrusted text is made safe for a terminal (STYLE rule 15, ARCHITECTURE invariant 9).
//!
//! A hostile server chooses its certificate names, NTLM names and banners; a client chooses its cookie
//! and SNI; a user pastes anything. Printed raw, an ESC could clear or rewrite the analyst's screen, a
//! bidi override could make `moc.evil` read `live.com`, a NUL could hide the rest of a line. Every text
//! renderer passes such values through [`escape_control`] where it prints them; JSON stays exact.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as it is: C0 controls (newline and tab included: inside a wire
/// value they are not layout), DEL, C1 controls, and the format characters that reorder or hide text —
/// bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069), directional marks, zero-width
/// characters, line and paragraph separators, the byte order mark, interlinear annotations and tag
/// characters.
pub fn is_unsafe_char(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{ad}'               // soft hyphen: invisible
            | '\u{61c}'              // Arabic letter mark
            | '\u{180e}'             // Mongolian vowel separator
            | '\u{200b}'..='\u{200f}' // zero-width space/joiners, LRM, RLM
            | '\u{2028}'..='\u{202e}' // line/paragraph separators, bidi embeddings and overrides
            | '\u{2060}'..='\u{206f}' // word joiner, invisible operators, bidi isolates, deprecated format
            | '\u{feff}'             // zero-width no-break space / byte order mark
            | '\u{fff9}'..='\u{fffb}' // interlinear annotation
            | '\u{e0000}'..='\u{e007f}' // tag characters
    )
}

/// `text` with every [unsafe character](is_unsafe_char) written as a visible escape: `\x1b` for ASCII
/// controls, `\u{202e}` for the rest. Borrows when there is nothing to escape.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find(is_unsafe_char) else {
        return Cow::Borrowed(text);
    };
    let (clean, rest) = text.split_at(first);
    let mut out = String::with_capacity(text.len().saturating_add(8));
    out.push_str(clean);
    for c in rest.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Bytes read as text (invalid UTF-8 becomes U+FFFD), then escaped: for wire fields that are meant to be
/// ASCII but are not checked (cookies, routing tokens).
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => escape_control(s),
        Cow::Owned(s) => Cow::Owned(escape_control(&s).into_owned()),
    }
}

/// One character, escaped if it must be.
pub fn escape_char(c: char) -> String {
    let mut out = String::new();
    push_escaped(&mut out, c);
    out
}

fn push_escaped(out: &mut String, c: char) {
    if !is_unsafe_char(c) {
        out.push(c);
    } else if c.is_ascii() {
        let _ = write!(out, "\\x{:02x}", u32::from(c));
    } else {
        let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(
            escape_control("CN=rdp.example.com, O=Ex\u{e4}mple"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(escape_control(""), Cow::Borrowed(_)));
    }

    #[test]
    fn every_kind_of_control_is_visible() {
        assert_eq!(escape_control("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape_control("nul\0here"), "nul\\x00here");
        assert_eq!(
            escape_control("line\r\nnext\tcol"),
            "line\\x0d\\x0anext\\x09col"
        );
        assert_eq!(escape_control("del\x7f"), "del\\x7f");
        assert_eq!(escape_control("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(escape_control("evil\u{202e}moc.x"), "evil\\u{202e}moc.x");
        assert_eq!(escape_control("\u{2066}i\u{2069}"), "\\u{2066}i\\u{2069}");
        assert_eq!(escape_control("zw\u{200b}j"), "zw\\u{200b}j");
        assert_eq!(escape_control("\u{feff}bom"), "\\u{feff}bom");
        assert_eq!(escape_control("tag\u{e0041}"), "tag\\u{e0041}");
    }

    #[test]
    fn bytes_and_chars() {
        assert_eq!(escape_bytes(b"user\x00\x0f\xff"), "user\\x00\\x0f\u{fffd}");
        assert_eq!(escape_bytes(b"plain"), "plain");
        assert_eq!(escape_char('\x1b'), "\\x1b");
        assert_eq!(escape_char('z'), "z");
    }

    /// Whatever goes in, nothing unsafe comes out, and clean text is unchanged.
    #[test]
    fn output_is_always_safe() {
        for cp in (0u32..0x3000)
            .chain(0xe0000..0xe0100)
            .chain(0xfff0..0x10000)
        {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let s = format!("<{c}>");
            let escaped = escape_control(&s);
            assert!(
                !escaped.chars().any(is_unsafe_char),
                "U+{cp:04X} left unsafe: {escaped:?}"
            );
            if !is_unsafe_char(c) {
                assert_eq!(escaped, s);
            }
        }
    }
}

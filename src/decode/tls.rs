//! `rdpdiag decode` for TLS records and the handshake messages in them.
//!
//! Handshake messages are read from the handshake byte stream (RFC 8446 §5.1: a message may span
//! records, a record may hold several), so a Certificate split over records pasted together is decoded
//! once it is whole. After a ChangeCipherSpec (TLS ≤ 1.2) the handshake records that follow are
//! encrypted (Finished), and said to be.

use std::io;

use super::fields::{preview, report_error, Printer};
use crate::report::escape::{escape_bytes, escape_control as esc};
use crate::wire::tls::{
    parse_alert, parse_handshake, parse_handshake_header, parse_tls_record, Alert, ContentType,
    Extension, Handshake, HandshakeType, ServerHello, HANDSHAKE_HEADER_LEN,
};

/// What one run of TLS records carries from record to record.
#[derive(Debug, Default)]
pub(super) struct TlsState {
    /// Bytes of a handshake message that started in an earlier record.
    pending: Vec<u8>,
    /// How many records `pending` came from.
    pending_records: usize,
    /// Where the pending message started.
    pending_offset: usize,
    /// A ChangeCipherSpec was seen: later handshake records are encrypted.
    protected: bool,
    /// A TLS 1.3 (or draft) ServerHello was seen: its ChangeCipherSpec changes nothing.
    tls13: bool,
}

impl TlsState {
    /// At the end of the input: a message still waiting for its rest is cut short.
    pub(super) fn finish(&mut self, p: &mut Printer<'_>) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.cut_short(p, "the input ends")?;
        }
        Ok(())
    }

    fn cut_short(&mut self, p: &mut Printer<'_>, why: &str) -> io::Result<()> {
        let have = self.pending.len();
        let what = match parse_handshake_header(&self.pending) {
            Ok((_, h)) => format!(
                "{} message of {} bytes",
                h.msg_type,
                u64::from(h.length) + HANDSHAKE_HEADER_LEN as u64
            ),
            Err(_) => "handshake message".to_string(),
        };
        p.problem(format_args!(
            "@{}: {what} is cut short: {why} after {have} bytes of it",
            self.pending_offset
        ))?;
        self.pending.clear();
        self.pending_records = 0;
        Ok(())
    }
}

/// One TLS record and what it holds. Returns the bytes used, or `None` when the record cannot be read.
pub(super) fn decode_tls(
    i: &[u8],
    offset: usize,
    state: &mut TlsState,
    p: &mut Printer<'_>,
) -> io::Result<Option<usize>> {
    let (rest, record) = match parse_tls_record(i) {
        Ok(v) => v,
        Err(e) => return report_error(p, offset, "TLS record", &e),
    };
    let h = record.header;
    p.line(format_args!(
        "@{offset} TLS record {} {}, length {}",
        h.content_type, h.version, h.length
    ))?;
    if h.over_length {
        p.problem(format_args!(
            "  malformed: longer than any record may be (2^14 + 2048 bytes)"
        ))?;
    }
    let fragment = record.fragment;
    match h.content_type {
        ContentType::HANDSHAKE if state.protected => {
            if !state.pending.is_empty() {
                state.cut_short(p, "the keys changed")?;
            }
            p.line(format_args!(
                "  encrypted handshake message ({} bytes): Finished, under the keys ChangeCipherSpec switched to",
                fragment.len()
            ))?;
        }
        ContentType::HANDSHAKE => handshake_record(fragment, offset, state, p)?,
        ContentType::CHANGE_CIPHER_SPEC => {
            if fragment == [1] {
                p.line(format_args!("  ChangeCipherSpec"))?;
            } else {
                p.problem(format_args!(
                    "  malformed ChangeCipherSpec (must be the one byte 01): {}",
                    preview(fragment)
                ))?;
            }
            if !state.pending.is_empty() {
                state.cut_short(p, "ChangeCipherSpec came")?;
            }
            // TLS 1.3 sends it only for middleboxes (RFC 8446 §D.4); its records are encrypted anyway.
            state.protected = !state.tls13;
        }
        ContentType::ALERT if state.protected => {
            p.line(format_args!("  encrypted alert ({} bytes)", fragment.len()))?
        }
        ContentType::ALERT => match parse_alert(fragment) {
            Ok((_, Alert::Plain { level, description })) => p.line(format_args!(
                "  alert {description} (level {})",
                level.0
            ))?,
            Ok((_, Alert::Encrypted(len))) => {
                p.line(format_args!("  encrypted alert ({len} bytes)"))?
            }
            Err(_) => p.problem(format_args!(
                "  malformed alert (2 bytes expected): {}",
                preview(fragment)
            ))?,
        },
        ContentType::APPLICATION_DATA => p.line(format_args!(
            "  encrypted, {} bytes: {}",
            fragment.len(),
            preview(fragment)
        ))?,
        ContentType::HEARTBEAT => p.line(format_args!(
            "  {} bytes: {}",
            fragment.len(),
            preview(fragment)
        ))?,
        other => p.problem(format_args!(
            "  content type {other} is not one TLS defines; {} bytes: {}",
            fragment.len(),
            preview(fragment)
        ))?,
    }
    Ok(Some(i.len() - rest.len()))
}

/// A plaintext handshake record: its bytes join the handshake stream, and every message that is whole
/// is decoded.
fn handshake_record(
    fragment: &[u8],
    offset: usize,
    state: &mut TlsState,
    p: &mut Printer<'_>,
) -> io::Result<()> {
    if fragment.is_empty() {
        // RFC 5246 §6.2.1: implementations must not send zero-length handshake fragments.
        return p.problem(format_args!(
            "  malformed: an empty handshake record"
        ));
    }
    if state.pending.is_empty() && looks_encrypted(fragment) {
        // A Finished whose ChangeCipherSpec was not pasted: no message header reads.
        return p.line(format_args!(
            "  encrypted handshake message ({} bytes): its bytes do not read as handshake messages (a Finished after ChangeCipherSpec?)",
            fragment.len()
        ));
    }
    let continued = !state.pending.is_empty();
    if !continued {
        state.pending_offset = offset;
    }
    state.pending.extend_from_slice(fragment);
    state.pending_records += 1;
    let mut stream = std::mem::take(&mut state.pending);
    let mut used = 0usize;
    let mut first = true;
    while let Some(rest) = stream.get(used..).filter(|r| !r.is_empty()) {
        match parse_handshake(rest) {
            Ok((left, msg)) => {
                if first && continued {
                    p.line(format_args!(
                        "  (a message begun @{}, whole after {} records)",
                        state.pending_offset, state.pending_records
                    ))?;
                }
                write_message(&msg, p)?;
                used += rest.len() - left.len();
                first = false;
            }
            Err(nom::Err::Incomplete(_)) => break,
            // `parse_handshake` only asks for more; a failure is reported all the same.
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                p.problem(format_args!("  malformed handshake message: {e}"))?;
                used = stream.len();
            }
        }
    }
    stream.drain(..used.min(stream.len()));
    if stream.is_empty() {
        state.pending_records = 0;
    } else {
        if used > 0 || !continued {
            state.pending_records = 1;
            state.pending_offset = offset;
        }
        let need = match parse_handshake_header(&stream) {
            Ok((_, h)) => format!(
                "{} of {} bytes",
                h.msg_type,
                u64::from(h.length) + HANDSHAKE_HEADER_LEN as u64
            ),
            Err(_) => "a handshake message header".to_string(),
        };
        p.line(format_args!(
            "  {need} continues in the next record ({} bytes so far)",
            stream.len()
        ))?;
    }
    state.pending = stream;
    Ok(())
}

/// Whether a handshake record that starts no message of the stream reads as ciphertext rather than as
/// messages: a type no specification names, or a zero-length hello_request followed by more bytes (an
/// AEAD record's explicit nonce, which starts with zeros, reads as hello_requests).
fn looks_encrypted(fragment: &[u8]) -> bool {
    match parse_handshake_header(fragment) {
        Ok((rest, h)) => {
            h.msg_type.name().is_none()
                || (h.msg_type == HandshakeType::HELLO_REQUEST && (h.length != 0 || !rest.is_empty()))
        }
        Err(_) => false,
    }
}

fn write_message(msg: &Handshake<'_>, p: &mut Printer<'_>) -> io::Result<()> {
    match msg {
        Handshake::ClientHello(ch) => {
            p.line(format_args!(
                "  ClientHello: up to {}, {} cipher suites",
                ch.max_version(),
                ch.cipher_suites.len()
            ))?;
            if let Some(versions) = ch.supported_versions() {
                let names: Vec<String> = versions.iter().map(ToString::to_string).collect();
                p.line(format_args!("    supported_versions {}", names.join(", ")))?;
            }
            if let Some(sni) = ch.server_name() {
                p.line(format_args!("    server_name {}", esc(sni)))?;
            }
            let suites: Vec<String> = ch.cipher_suites.iter().map(ToString::to_string).collect();
            p.line(format_args!("    suites {}", suites.join(", ")))?;
            write_bad_extensions(&ch.extensions, p)?;
        }
        Handshake::ServerHello(sh) => write_server_hello(sh, p)?,
        Handshake::Certificate(c) => {
            p.line(format_args!(
                "  Certificate: {} in the chain",
                c.certificate_list.len()
            ))?;
            for der in &c.certificate_list {
                match crate::wire::cert::summarize_certificate(der) {
                    Ok(s) => p.line(format_args!(
                        "    {} issued by {}, {} to {}",
                        esc(&s.subject),
                        esc(&s.issuer),
                        s.not_before_display,
                        s.not_after_display
                    ))?,
                    Err(e) => p.problem(format_args!(
                        "    unreadable certificate: {}",
                        esc(&e.to_string())
                    ))?,
                }
            }
        }
        Handshake::Malformed {
            msg_type,
            body,
            error,
        } => p.problem(format_args!(
            "  malformed {msg_type} ({} bytes): {error}",
            body.len()
        ))?,
        Handshake::Other { msg_type, body } if msg_type.name().is_none() => p.problem(format_args!(
            "  handshake type {msg_type} is not one TLS defines ({} bytes): {}",
            body.len(),
            preview(body)
        ))?,
        other => p.line(format_args!("  {}", other.msg_type()))?,
    }
    Ok(())
}

fn write_server_hello(sh: &ServerHello<'_>, p: &mut Printer<'_>) -> io::Result<()> {
    let kind = if sh.is_hello_retry_request() {
        "HelloRetryRequest"
    } else {
        "ServerHello"
    };
    let version = sh.negotiated_version();
    let legacy = if version == sh.legacy_version {
        String::new()
    } else {
        format!(" (legacy_version {})", sh.legacy_version)
    };
    p.line(format_args!(
        "  {kind}: {version}{legacy} {}",
        sh.cipher_suite
    ))?;
    if let Some(sentinel) = sh.downgrade_sentinel() {
        p.line(format_args!(
            "    random ends with the TLS 1.3 downgrade sentinel for {sentinel}"
        ))?;
    }
    write_bad_extensions(&sh.extensions, p)
}

fn write_bad_extensions(extensions: &[Extension<'_>], p: &mut Printer<'_>) -> io::Result<()> {
    for e in extensions {
        match e {
            Extension::Malformed {
                ext_type, error, ..
            } => p.problem(format_args!("    malformed extension {ext_type}: {error}"))?,
            Extension::Overrun { bytes, error } => p.problem(format_args!(
                "    extension block overrun ({} bytes): {error}",
                bytes.len()
            ))?,
            Extension::Alpn(names) => {
                let names: Vec<String> = names.iter().map(|n| escape_bytes(n).into_owned()).collect();
                p.line(format_args!("    ALPN {}", names.join(", ")))?
            }
            _ => {}
        }
    }
    Ok(())
}

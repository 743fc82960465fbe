//! TLS as RDP uses it to set up its secure channel (RFC 5246 TLS 1.2, RFC 8446 TLS 1.3, RFC 5246 Appendix E.2
//! for SSLv2-compatible hellos): the record layer, alerts, and the plaintext handshake messages a diagnosis
//! reads (hellos, certificates, certificate requests), plus the one encoder the prober needs, a ClientHello.
//!
//! Layers and where `Incomplete` comes from:
//! - [`parse_tls_record`] is streaming over the TCP byte stream of one direction.
//! - [`parse_handshake`] is streaming over the *handshake byte stream*: the concatenated fragments of
//!   consecutive handshake records of one direction (a message may span records, a record may hold several).
//! - The message parsers ([`parse_client_hello`], [`parse_server_hello`], ...) take one complete message body
//!   and never return `Incomplete`: running out of bytes inside a body is [`WireError::Truncated`].
//!
//! Every protocol value is an open newtype (`CipherSuite(u16)`, ...): unknown values survive and print in hex,
//! GREASE values (RFC 8701) print as `GREASE(0x..)`.

use nom::number::streaming::{be_u16, be_u24, u8 as byte};
use nom::Parser;

use super::{bounded, fail, take_n, WireError, WireResult};

/// Declares an open protocol value: a newtype over the wire integer, one constant per spec value, and
/// `name()` giving the spec name (the constant's name unless a text is given).
macro_rules! open_value {
    (@text $konst:ident) => { stringify!($konst) };
    (@text $konst:ident, $text:literal) => { $text };
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty);
        $( $(#[$cmeta:meta])* $konst:ident = $value:expr $(, $text:literal)?; )*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $repr);

        impl $name {
            $(
                #[doc = concat!("`", open_value!(@text $konst $(, $text)?), "` (", stringify!($value), ")")]
                $(#[$cmeta])*
                pub const $konst: Self = Self($value);
            )*

            /// The spec name of this value, if it has one.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( Self::$konst => Some(open_value!(@text $konst $(, $text)?)), )*
                    _ => None,
                }
            }
        }
    };
}

/// `Display` as the spec name, else hex.
macro_rules! display_named {
    ($name:ident) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $crate::wire::write_named(f, self.name(), u64::from(self.0))
            }
        }
    };
}

/// `Display` as the spec name, else `GREASE(0x..)` for a GREASE value, else hex; and `is_grease()`.
macro_rules! display_named_or_grease {
    ($name:ident) => {
        impl $name {
            /// Whether this is a GREASE value (RFC 8701 §2), which carries no meaning.
            pub fn is_grease(self) -> bool {
                $crate::wire::tls::is_grease(self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    None if self.is_grease() => write!(f, "GREASE({:#06x})", self.0),
                    name => $crate::wire::write_named(f, name, u64::from(self.0)),
                }
            }
        }
    };
}

mod alert;
mod certificate;
mod cipher_suite;
mod client_hello;
mod encode;
mod extension;
mod handshake;
mod named_group;
mod record;
mod server_hello;
mod signature_scheme;
mod sslv2;

pub use alert::{parse_alert, Alert, AlertDescription, AlertLevel};
pub use certificate::{
    parse_certificate, parse_certificate_request, parse_certificate_tls13, Certificate,
    Certificate13, CertificateEntry, CertificateRequest, ClientCertificateType,
};
pub use cipher_suite::CipherSuite;
pub use client_hello::{parse_client_hello, ClientHello};
pub use encode::{
    encode_client_hello, ClientHelloSpec, LEGACY_CIPHER_SUITES, TLS12_CIPHER_SUITES,
    TLS13_CIPHER_SUITES,
};
pub use extension::{
    parse_extension_block, Extension, ExtensionContext, ExtensionType, KeyShareEntry, ServerName,
};
pub use handshake::{
    parse_handshake, parse_handshake_header, parse_server_hello_done, Handshake, HandshakeHeader,
    HandshakeType, HANDSHAKE_HEADER_LEN,
};
pub use named_group::NamedGroup;
pub use record::{
    encode_tls_record, looks_like_tls_record, parse_change_cipher_spec, parse_tls_record,
    parse_tls_record_header, tls_frame, ContentType, ProtocolVersion, TlsRecord, TlsRecordHeader,
    MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN, TLS_RECORD_HEADER_LEN,
};
pub use server_hello::{parse_server_hello, ServerHello, HELLO_RETRY_REQUEST_RANDOM};
pub use signature_scheme::SignatureScheme;
pub use sslv2::{
    looks_like_sslv2_hello, parse_sslv2, Sslv2CipherSpec, Sslv2ClientHello, Sslv2Message,
    Sslv2ServerHello,
};

/// Whether a 16-bit value is one of the sixteen GREASE values `0x?A?A` with equal bytes (RFC 8701 §2).
pub fn is_grease(value: u16) -> bool {
    let [hi, lo] = value.to_be_bytes();
    hi == lo && lo & 0x0f == 0x0a
}

/// `opaque x<0..2^8-1>`: a one-byte length and that many bytes (streaming).
fn u8_prefixed(i: &[u8]) -> WireResult<'_, &[u8]> {
    let (i, n) = byte(i)?;
    take_n(i, usize::from(n))
}

/// `opaque x<0..2^16-1>`: a two-byte length and that many bytes (streaming).
fn u16_prefixed(i: &[u8]) -> WireResult<'_, &[u8]> {
    let (i, n) = be_u16(i)?;
    take_n(i, usize::from(n))
}

/// `opaque x<0..2^24-1>`: a three-byte length and that many bytes (streaming).
fn u24_prefixed(i: &[u8]) -> WireResult<'_, &[u8]> {
    let (i, n) = be_u24(i)?;
    take_n(i, u24_len(n))
}

/// A 24-bit length as `usize` (always fits on the platforms we build for; saturates otherwise).
fn u24_len(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Parses `body`, the complete bytes of a vector, as a list of `item`s; an item that overruns is
/// [`WireError::Truncated`] in `pdu`.
fn list<'a, T>(
    pdu: &'static str,
    body: &'a [u8],
    mut item: impl Parser<&'a [u8], Output = T, Error = WireError>,
) -> WireResult<'a, Vec<T>> {
    bounded(pdu, body, |mut i| {
        let mut items = Vec::new();
        while !i.is_empty() {
            let (rest, x) = item.parse(i)?;
            i = rest;
            items.push(x);
        }
        Ok((i, items))
    })
}

/// Fails when bytes are left over at the end of a PDU whose length is known.
fn finished<'a>(pdu: &'static str, rest: &'a [u8]) -> WireResult<'a, ()> {
    if rest.is_empty() {
        Ok((rest, ()))
    } else {
        fail(WireError::BadLength {
            pdu,
            field: "trailing bytes",
            got: u64::try_from(rest.len()).unwrap_or(u64::MAX),
            expected: "none: the message ends here",
        })
    }
}

/// Runs `parser` over the complete `body` of `pdu` and requires it to use every byte.
fn whole<'a, T>(
    pdu: &'static str,
    body: &'a [u8],
    mut parser: impl Parser<&'a [u8], Output = T, Error = WireError>,
) -> WireResult<'a, T> {
    let (rest, value) = bounded(pdu, body, |i| parser.parse(i))?;
    finished(pdu, rest)?;
    Ok((rest, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        let grease: Vec<u16> = (0..=0xffff).filter(|v| is_grease(*v)).collect();
        assert_eq!(grease.len(), 16);
        assert_eq!(grease.first(), Some(&0x0a0a));
        assert_eq!(grease.last(), Some(&0xfafa));
        assert!(!is_grease(0x0a1a));
    }
}

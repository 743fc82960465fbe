//! SSL 2.0 hellos, enough to say "this peer speaks SSLv2": the SSLv2-compatible CLIENT-HELLO that old
//! TLS clients send (RFC 5246 Appendix E.2, RFC 6101 Appendix E.1) and the SSLv2 SERVER-HELLO
//! (draft-hickman-netscape-ssl-00 §2.6). Only records with the 2-byte header (high bit set, no padding)
//! are read; every hello uses it.

use nom::number::streaming::{be_u16, be_u24, u8 as byte};
use nom::Parser;

use super::super::{fail, take_n, WireError, WireResult};
use super::{list, whole, CipherSuite, ProtocolVersion};

/// SSLv2 message type CLIENT-HELLO.
pub const SSLV2_CLIENT_HELLO: u8 = 1;
/// SSLv2 message type SERVER-HELLO.
pub const SSLV2_SERVER_HELLO: u8 = 4;

open_value! {
    /// SSLv2 cipher kind, 3 bytes. In an SSLv2-compatible hello a kind `0x00XXXX` is the TLS suite `XXXX`.
    Sslv2CipherSpec(u32);
    SSL_CK_RC4_128_WITH_MD5 = 0x010080;
    SSL_CK_RC4_128_EXPORT40_WITH_MD5 = 0x020080;
    SSL_CK_RC2_128_CBC_WITH_MD5 = 0x030080;
    SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5 = 0x040080;
    SSL_CK_IDEA_128_CBC_WITH_MD5 = 0x050080;
    SSL_CK_DES_64_CBC_WITH_MD5 = 0x060040;
    SSL_CK_DES_192_EDE3_CBC_WITH_MD5 = 0x0700c0;
}

impl Sslv2CipherSpec {
    /// The TLS suite a `0x00XXXX` kind stands for.
    pub fn as_tls(self) -> Option<CipherSuite> {
        u16::try_from(self.0).ok().map(CipherSuite)
    }
}

impl std::fmt::Display for Sslv2CipherSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.name(), self.as_tls()) {
            (None, Some(suite)) => suite.fmt(f),
            (name, _) => super::super::write_named(f, name, u64::from(self.0)),
        }
    }
}

/// SSLv2 CLIENT-HELLO (RFC 5246 Appendix E.2 ClientHello in the SSLv2-compatible form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sslv2ClientHello<'a> {
    /// 0x0002 for a true SSLv2 client; the highest TLS version for an SSLv2-compatible TLS hello.
    pub version: ProtocolVersion,
    pub cipher_specs: Vec<Sslv2CipherSpec>,
    pub session_id: &'a [u8],
    pub challenge: &'a [u8],
}

/// SSLv2 SERVER-HELLO: a server that answers in SSLv2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sslv2ServerHello<'a> {
    pub session_id_hit: u8,
    pub certificate_type: u8,
    pub version: ProtocolVersion,
    /// The server certificate (DER, for certificate_type 1).
    pub certificate: &'a [u8],
    pub cipher_specs: Vec<Sslv2CipherSpec>,
    pub connection_id: &'a [u8],
}

/// One SSLv2 record holding a hello, or another SSLv2 message kept raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sslv2Message<'a> {
    ClientHello(Sslv2ClientHello<'a>),
    ServerHello(Sslv2ServerHello<'a>),
    /// Another message type (CLIENT-MASTER-KEY, ...; after the hellos they are encrypted): type and body.
    Other {
        msg_type: u8,
        body: &'a [u8],
    },
}

/// Content sniffing: a 2-byte SSLv2 header (high bit set, length at least 3) then CLIENT-HELLO or
/// SERVER-HELLO whose version byte pair starts with 0 (SSLv2 `00 02`) or 3 (`03 0x`). Needs 5 bytes
/// for a client hello, 6 for a server hello.
pub fn looks_like_sslv2_hello(i: &[u8]) -> bool {
    match i {
        [hi, lo, SSLV2_CLIENT_HELLO, 0 | 3, _, ..] => {
            hi & 0x80 != 0 && ((u16::from(hi & 0x7f) << 8) | u16::from(*lo)) >= 9
        }
        [hi, _, SSLV2_SERVER_HELLO, _, _, 0 | 3, ..] => hi & 0x80 != 0,
        _ => false,
    }
}

/// Parses one SSLv2 record with a 2-byte header (streaming: `Incomplete` until the whole record is there).
/// A hello whose body does not parse is an error.
pub fn parse_sslv2(i: &[u8]) -> WireResult<'_, Sslv2Message<'_>> {
    let (i, header) = be_u16(i)?;
    if header & 0x8000 == 0 {
        return fail(WireError::BadValue {
            pdu: "SSLv2 record",
            field: "header",
            got: header.into(),
            expected: "the high bit set (a 2-byte header)",
        });
    }
    let (rest, record) = take_n(i, usize::from(header & 0x7fff))?;
    let message = match record.split_first() {
        Some((&SSLV2_CLIENT_HELLO, body)) => Sslv2Message::ClientHello(client_hello(body)?.1),
        Some((&SSLV2_SERVER_HELLO, body)) => Sslv2Message::ServerHello(server_hello(body)?.1),
        Some((&msg_type, body)) => Sslv2Message::Other { msg_type, body },
        None => {
            return fail(WireError::BadLength {
                pdu: "SSLv2 record",
                field: "length",
                got: 0,
                expected: "at least 1, the message type",
            })
        }
    };
    Ok((rest, message))
}

fn cipher_specs<'a>(pdu: &'static str, specs: &'a [u8]) -> WireResult<'a, Vec<Sslv2CipherSpec>> {
    list(pdu, specs, be_u24.map(Sslv2CipherSpec))
}

fn client_hello(body: &[u8]) -> WireResult<'_, Sslv2ClientHello<'_>> {
    whole("SSLv2 CLIENT-HELLO", body, |i| {
        let (i, (version, specs_len, session_id_len, challenge_len)) =
            (be_u16, be_u16, be_u16, be_u16).parse(i)?;
        let (i, specs) = take_n(i, usize::from(specs_len))?;
        let (i, session_id) = take_n(i, usize::from(session_id_len))?;
        let (i, challenge) = take_n(i, usize::from(challenge_len))?;
        let (_, cipher_specs) = cipher_specs("SSLv2 CLIENT-HELLO", specs)?;
        Ok((
            i,
            Sslv2ClientHello {
                version: ProtocolVersion(version),
                cipher_specs,
                session_id,
                challenge,
            },
        ))
    })
}

fn server_hello(body: &[u8]) -> WireResult<'_, Sslv2ServerHello<'_>> {
    whole("SSLv2 SERVER-HELLO", body, |i| {
        let (i, (session_id_hit, certificate_type, version)) = (byte, byte, be_u16).parse(i)?;
        let (i, (cert_len, specs_len, connection_id_len)) = (be_u16, be_u16, be_u16).parse(i)?;
        let (i, certificate) = take_n(i, usize::from(cert_len))?;
        let (i, specs) = take_n(i, usize::from(specs_len))?;
        let (i, connection_id) = take_n(i, usize::from(connection_id_len))?;
        let (_, cipher_specs) = cipher_specs("SSLv2 SERVER-HELLO", specs)?;
        Ok((
            i,
            Sslv2ServerHello {
                session_id_hit,
                certificate_type,
                version: ProtocolVersion(version),
                certificate,
                cipher_specs,
                connection_id,
            },
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn cipher_specs_print() {
        assert_eq!(
            Sslv2CipherSpec(0x0700c0).to_string(),
            "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
        );
        assert_eq!(
            Sslv2CipherSpec(0x00002f).to_string(),
            "TLS_RSA_WITH_AES_128_CBC_SHA"
        );
        assert_eq!(Sslv2CipherSpec(0x080080).to_string(), "0x80080");
    }

    #[test]
    fn sslv2_compatible_tls_hello() {
        let bytes = [
            0x80, 0x1c, // 2-byte header, length 28
            0x01, // CLIENT-HELLO
            0x03, 0x01, // version TLS 1.0
            0x00, 0x03, // cipher_spec_length 3
            0x00, 0x00, // session_id_length 0
            0x00, 0x10, // challenge_length 16
            0x00, 0x00, 0x2f, // TLS_RSA_WITH_AES_128_CBC_SHA
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // challenge
        ];
        assert!(looks_like_sslv2_hello(&bytes));
        let (rest, m) = parse_sslv2(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            m,
            Sslv2Message::ClientHello(Sslv2ClientHello {
                version: ProtocolVersion::TLS1_0,
                cipher_specs: vec![Sslv2CipherSpec(0x2f)],
                session_id: &[],
                challenge: &bytes[14..],
            })
        );
        for cut in 0..bytes.len() {
            assert!(matches!(
                parse_sslv2(&bytes[..cut]),
                Err(nom::Err::Incomplete(_))
            ));
        }
        assert!(!looks_like_sslv2_hello(&[0x16, 0x03, 0x01, 0x00, 0x2e]));
    }
}

//! The handshake protocol (RFC 8446 §4, RFC 5246 §7.4): `msg_type u8 | length u24 | body`, read from the
//! handshake byte stream of one direction (the concatenated fragments of its handshake records).

use nom::number::streaming::{be_u24, u8 as byte};
use nom::Parser;

use super::super::{take_n, WireError, WireResult};
use super::{
    parse_certificate, parse_certificate_request, parse_client_hello, parse_server_hello, u24_len,
    whole, Certificate, CertificateRequest, ClientHello, ServerHello,
};

/// Length of the handshake header.
pub const HANDSHAKE_HEADER_LEN: usize = 4;

open_value! {
    /// RFC 8446 §4 / RFC 5246 §7.4 HandshakeType.
    HandshakeType(u8);
    HELLO_REQUEST = 0, "hello_request";
    CLIENT_HELLO = 1, "client_hello";
    SERVER_HELLO = 2, "server_hello";
    NEW_SESSION_TICKET = 4, "new_session_ticket";
    END_OF_EARLY_DATA = 5, "end_of_early_data";
    /// A message of TLS 1.3 drafts up to 21 only; RFC 8446 marks the type as reserved.
    HELLO_RETRY_REQUEST_DRAFT = 6, "hello_retry_request (TLS 1.3 draft)";
    ENCRYPTED_EXTENSIONS = 8, "encrypted_extensions";
    CERTIFICATE = 11, "certificate";
    SERVER_KEY_EXCHANGE = 12, "server_key_exchange";
    CERTIFICATE_REQUEST = 13, "certificate_request";
    SERVER_HELLO_DONE = 14, "server_hello_done";
    CERTIFICATE_VERIFY = 15, "certificate_verify";
    CLIENT_KEY_EXCHANGE = 16, "client_key_exchange";
    FINISHED = 20, "finished";
    CERTIFICATE_STATUS = 22, "certificate_status";
    KEY_UPDATE = 24, "key_update";
    MESSAGE_HASH = 254, "message_hash";
}
display_named!(HandshakeType);

/// RFC 8446 §4 Handshake header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeHeader {
    pub msg_type: HandshakeType,
    /// Length of the body (24 bits).
    pub length: u32,
}

/// One handshake message. The header is never lost: a body that does not parse is [`Handshake::Malformed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake<'a> {
    ClientHello(ClientHello<'a>),
    /// A ServerHello, or a HelloRetryRequest ([`ServerHello::is_hello_retry_request`]).
    ServerHello(ServerHello<'a>),
    /// The TLS ≤ 1.2 Certificate (in TLS 1.3 it is encrypted and never seen here).
    Certificate(Certificate<'a>),
    CertificateRequest(CertificateRequest<'a>),
    ServerHelloDone,
    /// A message this module does not parse (ServerKeyExchange, Finished, ...), raw.
    Other {
        msg_type: HandshakeType,
        body: &'a [u8],
    },
    /// A message whose body does not parse as its type says.
    Malformed {
        msg_type: HandshakeType,
        body: &'a [u8],
        error: WireError,
    },
}

impl Handshake<'_> {
    /// The message's type.
    pub fn msg_type(&self) -> HandshakeType {
        match self {
            Handshake::ClientHello(_) => HandshakeType::CLIENT_HELLO,
            Handshake::ServerHello(_) => HandshakeType::SERVER_HELLO,
            Handshake::Certificate(_) => HandshakeType::CERTIFICATE,
            Handshake::CertificateRequest(_) => HandshakeType::CERTIFICATE_REQUEST,
            Handshake::ServerHelloDone => HandshakeType::SERVER_HELLO_DONE,
            Handshake::Other { msg_type, .. } | Handshake::Malformed { msg_type, .. } => *msg_type,
        }
    }
}

/// Parses a handshake header (streaming).
pub fn parse_handshake_header(i: &[u8]) -> WireResult<'_, HandshakeHeader> {
    let (i, (msg_type, length)) = (byte.map(HandshakeType), be_u24).parse(i)?;
    Ok((i, HandshakeHeader { msg_type, length }))
}

/// Parses one handshake message from the handshake byte stream: `Incomplete` until the whole message is
/// there, then never an error (a bad body is [`Handshake::Malformed`]).
pub fn parse_handshake(i: &[u8]) -> WireResult<'_, Handshake<'_>> {
    let (i, header) = parse_handshake_header(i)?;
    let (rest, body) = take_n(i, u24_len(header.length))?;
    let msg_type = header.msg_type;
    let parsed = match msg_type {
        HandshakeType::CLIENT_HELLO => {
            parse_client_hello(body).map(|(r, m)| (r, Handshake::ClientHello(m)))
        }
        HandshakeType::SERVER_HELLO => {
            parse_server_hello(body).map(|(r, m)| (r, Handshake::ServerHello(m)))
        }
        HandshakeType::CERTIFICATE => {
            parse_certificate(body).map(|(r, m)| (r, Handshake::Certificate(m)))
        }
        HandshakeType::CERTIFICATE_REQUEST => {
            parse_certificate_request(body).map(|(r, m)| (r, Handshake::CertificateRequest(m)))
        }
        HandshakeType::SERVER_HELLO_DONE => {
            parse_server_hello_done(body).map(|(r, ())| (r, Handshake::ServerHelloDone))
        }
        _ => Ok((body, Handshake::Other { msg_type, body })),
    };
    let message = match parsed {
        Ok((_, message)) => message,
        Err(nom::Err::Error(error) | nom::Err::Failure(error)) => Handshake::Malformed {
            msg_type,
            body,
            error,
        },
        Err(nom::Err::Incomplete(_)) => Handshake::Malformed {
            msg_type,
            body,
            error: WireError::Truncated {
                pdu: "handshake",
                kind: nom::error::ErrorKind::Eof,
            },
        },
    };
    Ok((rest, message))
}

/// Parses the body of a ServerHelloDone (RFC 5246 §7.4.5): it must be empty.
pub fn parse_server_hello_done(body: &[u8]) -> WireResult<'_, ()> {
    whole("ServerHelloDone", body, |i| Ok((i, ())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_header_of_a_bad_body() {
        let bytes = [
            0x0e, // msg_type server_hello_done
            0x00, 0x00, 0x01, // length 1
            0x00, // a byte a ServerHelloDone must not have
        ];
        let (rest, m) = parse_handshake(&bytes).unwrap();
        assert!(rest.is_empty());
        assert!(matches!(
            m,
            Handshake::Malformed {
                msg_type: HandshakeType::SERVER_HELLO_DONE,
                body: [0x00],
                error: WireError::BadLength {
                    pdu: "ServerHelloDone",
                    ..
                }
            }
        ));
        assert_eq!(m.msg_type(), HandshakeType::SERVER_HELLO_DONE);
    }

    #[test]
    fn unknown_types_stay_raw_and_cuts_are_incomplete() {
        let bytes = [0x63, 0x00, 0x00, 0x02, 0xaa, 0xbb, 0x0e, 0x00, 0x00, 0x00];
        let (rest, m) = parse_handshake(&bytes).unwrap();
        assert_eq!(
            m,
            Handshake::Other {
                msg_type: HandshakeType(0x63),
                body: &[0xaa, 0xbb]
            }
        );
        assert_eq!(
            parse_handshake(rest),
            Ok((&[][..], Handshake::ServerHelloDone))
        );
        for cut in 0..6 {
            assert!(matches!(
                parse_handshake(&bytes[..cut]),
                Err(nom::Err::Incomplete(_))
            ));
        }
        assert_eq!(HandshakeType(0x63).to_string(), "0x63");
    }
}

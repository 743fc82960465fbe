//! The alert protocol (RFC 8446 §6, RFC 5246 §7.2): `level u8 | description u8`.

use nom::number::complete::u8 as byte;
use nom::Parser;

use super::super::{fail, WireError, WireResult};

open_value! {
    /// RFC 5246 §7.2 AlertLevel (RFC 8446 §6 keeps it as a legacy field).
    AlertLevel(u8);
    WARNING = 1, "warning";
    FATAL = 2, "fatal";
}
display_named!(AlertLevel);

open_value! {
    /// RFC 8446 §6 / RFC 5246 §7.2 AlertDescription, with the values only TLS 1.0/1.2 define.
    AlertDescription(u8);
    CLOSE_NOTIFY = 0, "close_notify";
    UNEXPECTED_MESSAGE = 10, "unexpected_message";
    BAD_RECORD_MAC = 20, "bad_record_mac";
    DECRYPTION_FAILED = 21, "decryption_failed";
    RECORD_OVERFLOW = 22, "record_overflow";
    DECOMPRESSION_FAILURE = 30, "decompression_failure";
    HANDSHAKE_FAILURE = 40, "handshake_failure";
    NO_CERTIFICATE = 41, "no_certificate";
    BAD_CERTIFICATE = 42, "bad_certificate";
    UNSUPPORTED_CERTIFICATE = 43, "unsupported_certificate";
    CERTIFICATE_REVOKED = 44, "certificate_revoked";
    CERTIFICATE_EXPIRED = 45, "certificate_expired";
    CERTIFICATE_UNKNOWN = 46, "certificate_unknown";
    ILLEGAL_PARAMETER = 47, "illegal_parameter";
    UNKNOWN_CA = 48, "unknown_ca";
    ACCESS_DENIED = 49, "access_denied";
    DECODE_ERROR = 50, "decode_error";
    DECRYPT_ERROR = 51, "decrypt_error";
    EXPORT_RESTRICTION = 60, "export_restriction";
    PROTOCOL_VERSION = 70, "protocol_version";
    INSUFFICIENT_SECURITY = 71, "insufficient_security";
    INTERNAL_ERROR = 80, "internal_error";
    INAPPROPRIATE_FALLBACK = 86, "inappropriate_fallback";
    USER_CANCELED = 90, "user_canceled";
    NO_RENEGOTIATION = 100, "no_renegotiation";
    MISSING_EXTENSION = 109, "missing_extension";
    UNSUPPORTED_EXTENSION = 110, "unsupported_extension";
    CERTIFICATE_UNOBTAINABLE = 111, "certificate_unobtainable";
    UNRECOGNIZED_NAME = 112, "unrecognized_name";
    BAD_CERTIFICATE_STATUS_RESPONSE = 113, "bad_certificate_status_response";
    BAD_CERTIFICATE_HASH_VALUE = 114, "bad_certificate_hash_value";
    UNKNOWN_PSK_IDENTITY = 115, "unknown_psk_identity";
    CERTIFICATE_REQUIRED = 116, "certificate_required";
    NO_APPLICATION_PROTOCOL = 120, "no_application_protocol";
}
display_named!(AlertDescription);

/// What an alert record's fragment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    /// RFC 5246 §7.2 Alert in the clear: the fragment is exactly two bytes.
    Plain {
        level: AlertLevel,
        description: AlertDescription,
    },
    /// A fragment longer than two bytes: an alert protected by the record layer (after ChangeCipherSpec,
    /// or any TLS 1.3 alert after ServerHello, which travels as application_data anyway). Its length.
    Encrypted(usize),
}

impl Alert {
    /// Whether this is a plain alert of level fatal.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Alert::Plain {
                level: AlertLevel::FATAL,
                ..
            }
        )
    }
}

/// Reads the complete fragment of an alert record (not streaming: the record layer has framed it).
/// Two bytes are a plain alert; more are [`Alert::Encrypted`]; zero or one byte is a length error.
/// Consumes the whole fragment.
pub fn parse_alert(fragment: &[u8]) -> WireResult<'_, Alert> {
    match fragment.len() {
        2 => {
            let (rest, (level, description)) = (byte, byte).parse(fragment)?;
            Ok((
                rest,
                Alert::Plain {
                    level: AlertLevel(level),
                    description: AlertDescription(description),
                },
            ))
        }
        len @ 3.. => Ok((
            fragment.get(len..).unwrap_or_default(),
            Alert::Encrypted(len),
        )),
        len => fail(WireError::BadLength {
            pdu: "Alert",
            field: "fragment length",
            got: u64::try_from(len).unwrap_or(u64::MAX),
            expected: "2, or more when encrypted",
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_every_description() {
        let named = (0..=255u8)
            .filter(|d| AlertDescription(*d).name().is_some())
            .count();
        assert_eq!(named, 34);
        assert_eq!(AlertDescription::UNKNOWN_CA.to_string(), "unknown_ca");
        assert_eq!(AlertDescription(200).to_string(), "0xc8");
        assert_eq!(AlertLevel::FATAL.to_string(), "fatal");
    }

    #[test]
    fn plain_encrypted_and_short() {
        assert_eq!(
            parse_alert(&[1, 0]),
            Ok((
                &[][..],
                Alert::Plain {
                    level: AlertLevel::WARNING,
                    description: AlertDescription::CLOSE_NOTIFY
                }
            ))
        );
        assert_eq!(
            parse_alert(&[0xab; 26]),
            Ok((&[][..], Alert::Encrypted(26)))
        );
        assert!(parse_alert(&[2]).is_err());
        assert!(parse_alert(&[]).is_err());
        assert!(!Alert::Encrypted(26).is_fatal());
    }
}

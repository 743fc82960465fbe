//! TLS alert descriptions (RFC 8446 §6.2, RFC 5246 §7.2.2, and the registry values of RFC 6066 and
//! RFC 7301): names from [`AlertDescription`], a one-line meaning each (our words), and the causes.
//! Schannel logs an alert it sends as event 36888 and one it receives as event 36887
//! ("The TLS protocol defined fatal alert code is 40").

use crate::diagnose::causes::checks as c;
use crate::diagnose::CauseId;
use crate::wire::tls::AlertDescription;

/// What an alert says, in one line, or `None` for a value no specification names.
pub fn meaning(alert: AlertDescription) -> Option<&'static str> {
    Some(match alert.0 {
        0 => "the sender is closing the connection in an orderly way",
        10 => "a message arrived that was not expected at that point of the protocol",
        20 => "a record failed its integrity check (wrong MAC or failed AEAD decryption)",
        21 => "a record could not be decrypted (TLS 1.0 only; later versions send bad_record_mac)",
        22 => "a record was longer than the protocol allows",
        30 => "decompression failed (TLS 1.2 and earlier)",
        40 => "the sender could not agree on security parameters with the offer it received (no acceptable cipher suite, group or signature algorithm)",
        41 => "the client has no certificate to send (SSL 3.0 only)",
        42 => "a certificate was corrupt, or its signature did not verify",
        43 => "a certificate was of a type the sender does not support",
        44 => "a certificate was revoked by its issuer",
        45 => "a certificate has expired or is not yet valid",
        46 => "a certificate could not be accepted, for a reason no other alert covers",
        47 => "a handshake field was out of range or inconsistent with the others",
        48 => "the certificate chain does not lead to a trusted CA",
        49 => "the certificate was valid, but access control refused to go on",
        50 => "a message could not be decoded (a field out of range or a wrong length)",
        51 => "a handshake cryptographic operation failed (signature or Finished did not verify)",
        60 => "an export-restricted negotiation was refused (TLS 1.0 only)",
        70 => "the peer's protocol version is recognised but not supported",
        71 => "the offered parameters are weaker than the sender requires (cipher suites, key sizes)",
        80 => "an error unrelated to the peer or the protocol made it impossible to go on (the sender's own failure)",
        86 => "the client retried with a lower version than both support (a downgrade the server refuses)",
        90 => "the user or application cancelled the handshake",
        100 => "the sender refuses to renegotiate",
        109 => "a mandatory extension was missing from the handshake",
        110 => "an extension the sender did not offer, or that does not belong in that message, was received",
        111 => "the client could not obtain a certificate from the URL the server gave (RFC 6066)",
        112 => "the server has no service for the name the client sent (server_name)",
        113 => "the server's certificate status (OCSP) response was invalid or unacceptable",
        114 => "a certificate did not match the hash the client supplied (RFC 6066)",
        115 => "no pre-shared key matches the identity the client offered",
        116 => "the server requires a client certificate and got none",
        120 => "the client offered no application protocol (ALPN) the server supports",
        _ => return None,
    })
}

/// Cause ids (most likely first) and host checks for an alert.
pub fn causes_and_checks(
    alert: AlertDescription,
) -> (&'static [CauseId], &'static [&'static str]) {
    const CERT_CHECKS: &[&str] = &[c::CLIENT_CERT_TRUST, c::RDP_CERT_STORE];
    match alert.0 {
        40 => (
            &[CauseId::TlsNoSharedCipher, CauseId::TlsVersionMismatch],
            &[c::TLS_PROTOCOLS, c::FIPS_POLICY, c::SCHANNEL_EVENTS],
        ),
        71 | 60 => (
            &[CauseId::TlsNoSharedCipher],
            &[c::TLS_PROTOCOLS, c::FIPS_POLICY, c::SCHANNEL_EVENTS],
        ),
        70 | 86 => (
            &[CauseId::TlsVersionMismatch],
            &[c::TLS_PROTOCOLS, c::SCHANNEL_EVENTS],
        ),
        45 => (
            &[CauseId::CertExpired, CauseId::CertNotYetValid],
            &[c::RDP_CERT_STORE, c::CLOCKS, c::TERMSERVICE_CERT_EVENTS],
        ),
        48 => (&[CauseId::CertUntrusted, CauseId::CertSelfSigned], CERT_CHECKS),
        42 => (
            &[
                CauseId::CertUntrusted,
                CauseId::CertSelfSigned,
                CauseId::CertWeakSignature,
                CauseId::CertWrongUsage,
            ],
            CERT_CHECKS,
        ),
        43 => (&[CauseId::CertWrongUsage, CauseId::CertWeakKey], CERT_CHECKS),
        44 | 111 | 113 | 114 => (&[CauseId::CertUntrusted], CERT_CHECKS),
        46 => (
            &[CauseId::CertUntrusted, CauseId::CertSelfSigned, CauseId::CertNameMismatch],
            CERT_CHECKS,
        ),
        112 => (&[CauseId::CertNameMismatch], &[c::CLIENT_CERT_TRUST]),
        41 | 116 => (&[CauseId::NegSslWithUserAuthRequired], &[c::SECURITY_LAYER]),
        80 | 51 => (
            &[CauseId::TlsServerAbort],
            &[c::SCHANNEL_EVENTS, c::MACHINE_KEYS, c::RDP_CERT_STORE],
        ),
        90 => (&[CauseId::ClientAbortedAfterHandshake], &[c::CLIENT_CERT_TRUST]),
        10 | 20 | 21 | 22 | 30 | 47 | 50 | 109 | 110 => {
            (&[CauseId::MalformedReply], &[c::CAPTURE_OR_PROBE])
        }
        _ => (&[], &[]),
    }
}

/// The alert named `name` (ASCII case-insensitive), e.g. `protocol_version`.
pub fn lookup_name(name: &str) -> Option<AlertDescription> {
    (0..=u8::MAX)
        .map(AlertDescription)
        .find(|alert| alert.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_named_alert_has_a_meaning() {
        for alert in (0..=u8::MAX).map(AlertDescription) {
            assert_eq!(alert.name().is_some(), meaning(alert).is_some(), "{alert}");
        }
        assert_eq!(
            lookup_name("PROTOCOL_VERSION"),
            Some(AlertDescription::PROTOCOL_VERSION)
        );
        assert_eq!(
            causes_and_checks(AlertDescription::CERTIFICATE_EXPIRED).0[0],
            CauseId::CertExpired
        );
    }
}

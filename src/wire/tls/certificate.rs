//! Certificate (RFC 5246 §7.4.2, RFC 8446 §4.4.2) and CertificateRequest (RFC 5246 §7.4.4, RFC 4346 §7.4.4).
//! Certificates stay DER blobs borrowed from the input; `wire::cert` reads them.

use nom::number::streaming::{be_u16, u8 as byte};
use nom::Parser;

use super::super::WireResult;
use super::{list, u16_prefixed, u24_prefixed, u8_prefixed, whole, SignatureScheme};

open_value! {
    /// RFC 5246 §7.4.4 ClientCertificateType (RFC 8422 §5.5 adds the ECDSA ones).
    ClientCertificateType(u8);
    RSA_SIGN = 1, "rsa_sign";
    DSS_SIGN = 2, "dss_sign";
    RSA_FIXED_DH = 3, "rsa_fixed_dh";
    DSS_FIXED_DH = 4, "dss_fixed_dh";
    RSA_EPHEMERAL_DH = 5, "rsa_ephemeral_dh_RESERVED";
    DSS_EPHEMERAL_DH = 6, "dss_ephemeral_dh_RESERVED";
    FORTEZZA_DMS = 20, "fortezza_dms_RESERVED";
    ECDSA_SIGN = 64, "ecdsa_sign";
    RSA_FIXED_ECDH = 65, "rsa_fixed_ecdh";
    ECDSA_FIXED_ECDH = 66, "ecdsa_fixed_ecdh";
}
display_named!(ClientCertificateType);

/// RFC 5246 §7.4.2 Certificate (TLS ≤ 1.2): `certificate_list<0..2^24-1>` of `ASN.1Cert<1..2^24-1>`,
/// the sender's certificate first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate<'a> {
    pub certificate_list: Vec<&'a [u8]>,
}

/// RFC 8446 §4.4.2 CertificateEntry (X.509 form): `cert_data<1..2^24-1> | extensions<0..2^16-1>` (raw).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateEntry<'a> {
    pub cert_data: &'a [u8],
    pub extensions: &'a [u8],
}

/// RFC 8446 §4.4.2 Certificate (TLS 1.3). It travels encrypted; this parser is for completeness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate13<'a> {
    pub certificate_request_context: &'a [u8],
    pub certificate_list: Vec<CertificateEntry<'a>>,
}

/// RFC 5246 §7.4.4 CertificateRequest (TLS 1.2), or the RFC 4346 §7.4.4 one (TLS 1.0/1.1) that has no
/// signature algorithms. The TLS 1.3 CertificateRequest (encrypted, different shape) is not parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest<'a> {
    pub certificate_types: Vec<ClientCertificateType>,
    /// `supported_signature_algorithms`: `None` in the TLS 1.0/1.1 shape.
    pub supported_signature_algorithms: Option<Vec<SignatureScheme>>,
    /// `certificate_authorities`: DER DistinguishedNames, raw.
    pub certificate_authorities: Vec<&'a [u8]>,
}

/// Parses the complete body of a TLS ≤ 1.2 Certificate message.
pub fn parse_certificate(body: &[u8]) -> WireResult<'_, Certificate<'_>> {
    whole("Certificate", body, |i| {
        let (i, certs) = u24_prefixed(i)?;
        let (_, certificate_list) = list("Certificate", certs, u24_prefixed)?;
        Ok((i, Certificate { certificate_list }))
    })
}

/// Parses the complete body of a TLS 1.3 Certificate message.
pub fn parse_certificate_tls13(body: &[u8]) -> WireResult<'_, Certificate13<'_>> {
    whole("Certificate", body, |i| {
        let (i, certificate_request_context) = u8_prefixed(i)?;
        let (i, entries) = u24_prefixed(i)?;
        let (_, certificate_list) = list("Certificate", entries, |i| {
            let (i, (cert_data, extensions)) = (u24_prefixed, u16_prefixed).parse(i)?;
            Ok((
                i,
                CertificateEntry {
                    cert_data,
                    extensions,
                },
            ))
        })?;
        Ok((
            i,
            Certificate13 {
                certificate_request_context,
                certificate_list,
            },
        ))
    })
}

/// Parses the complete body of a CertificateRequest: the TLS 1.2 shape, else the TLS 1.0/1.1 shape; when
/// neither fits, the error is the TLS 1.2 one.
pub fn parse_certificate_request(body: &[u8]) -> WireResult<'_, CertificateRequest<'_>> {
    whole("CertificateRequest", body, |i| request(i, true))
        .or_else(|e| whole("CertificateRequest", body, |i| request(i, false)).map_err(|_| e))
}

fn request(i: &[u8], with_signature_algorithms: bool) -> WireResult<'_, CertificateRequest<'_>> {
    let (i, types) = u8_prefixed(i)?;
    let (_, certificate_types) =
        list("CertificateRequest", types, byte.map(ClientCertificateType))?;
    let (i, supported_signature_algorithms) = if with_signature_algorithms {
        let (i, schemes) = u16_prefixed(i)?;
        let (_, schemes) = list("CertificateRequest", schemes, be_u16.map(SignatureScheme))?;
        (i, Some(schemes))
    } else {
        (i, None)
    };
    let (i, authorities) = u16_prefixed(i)?;
    let (_, certificate_authorities) = list("CertificateRequest", authorities, u16_prefixed)?;
    Ok((
        i,
        CertificateRequest {
            certificate_types,
            supported_signature_algorithms,
            certificate_authorities,
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn certificate_request_both_shapes() {
        let tls12 = [
            0x01, 0x40, // certificate_types: [ecdsa_sign]
            0x00, 0x02, 0x04,
            0x03, // supported_signature_algorithms: [ecdsa_secp256r1_sha256]
            0x00, 0x04, 0x00, 0x02, 0x30, 0x00, // certificate_authorities: [30 00]
        ];
        let (_, r) = parse_certificate_request(&tls12).unwrap();
        assert_eq!(
            r,
            CertificateRequest {
                certificate_types: vec![ClientCertificateType::ECDSA_SIGN],
                supported_signature_algorithms: Some(vec![SignatureScheme::ECDSA_SECP256R1_SHA256]),
                certificate_authorities: vec![&[0x30, 0x00]],
            }
        );
        let tls10 = [
            0x02, 0x01, 0x02, // certificate_types: [rsa_sign, dss_sign]
            0x00, 0x00, // certificate_authorities: none
        ];
        let (_, r) = parse_certificate_request(&tls10).unwrap();
        assert_eq!(r.supported_signature_algorithms, None);
        assert_eq!(r.certificate_types.len(), 2);
        assert!(parse_certificate_request(&[0x01]).is_err());
    }

    #[test]
    fn tls13_certificate_shape() {
        let body = [
            0x00, // certificate_request_context: empty
            0x00, 0x00, 0x07, // certificate_list length 7
            0x00, 0x00, 0x02, 0x30, 0x00, // cert_data: 30 00
            0x00, 0x00, // extensions: none
        ];
        let (_, c) = parse_certificate_tls13(&body).unwrap();
        assert_eq!(
            c,
            Certificate13 {
                certificate_request_context: &[],
                certificate_list: vec![CertificateEntry {
                    cert_data: &[0x30, 0x00],
                    extensions: &[]
                }],
            }
        );
    }
}

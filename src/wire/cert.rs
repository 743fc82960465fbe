//! The server certificate, summarized for diagnosis (RFC 5280 §4.1 Certificate, §4.2.1 extensions).
//!
//! Unlike the other wire modules this one owns its result: a certificate is decoded once per connection
//! into the facts the diagnosis needs (names, validity, key, signature, usages), and the judgements
//! (`validity_at`, `matches_name`, `weak_key`, ...) take everything they depend on, the time included,
//! as arguments. Parsing is done by `x509-parser`; nothing here reads the clock or a trust store.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use x509_parser::asn1_rs::{Any, Tag, ToDer};
use x509_parser::error::X509Error;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;

/// Why bytes are not a certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// No bytes at all.
    #[error("certificate is empty")]
    Empty,
    /// The DER ends before the certificate does.
    #[error("certificate is truncated")]
    Truncated,
    /// The DER is not an X.509 certificate; `reason` is x509-parser's.
    #[error("certificate does not parse: {reason}")]
    Malformed { reason: String },
    /// Bytes follow the certificate's outer SEQUENCE.
    #[error("certificate is followed by {extra} trailing bytes")]
    TrailingBytes { extra: usize },
}

/// The subject public key (RFC 5280 §4.1.2.7).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum PublicKeySummary {
    /// RSA (RFC 3279 §2.3.1); `bits` is the modulus length.
    Rsa { bits: u32 },
    /// EC (RFC 5480); `curve` is the curve's name, or its OID when unnamed.
    Ec { curve: String, bits: Option<u32> },
    /// Any other algorithm, by name or OID, with its size when x509-parser knows it.
    Other {
        algorithm: String,
        bits: Option<u32>,
    },
}

/// RFC 5280 §4.2.1.3 KeyUsage bits, bit `n` of the ASN.1 BIT STRING as `1 << n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct KeyUsageBits(pub u16);

impl KeyUsageBits {
    pub const DIGITAL_SIGNATURE: Self = Self(1 << 0);
    pub const NON_REPUDIATION: Self = Self(1 << 1);
    pub const KEY_ENCIPHERMENT: Self = Self(1 << 2);
    pub const DATA_ENCIPHERMENT: Self = Self(1 << 3);
    pub const KEY_AGREEMENT: Self = Self(1 << 4);
    pub const KEY_CERT_SIGN: Self = Self(1 << 5);
    pub const CRL_SIGN: Self = Self(1 << 6);
    pub const ENCIPHER_ONLY: Self = Self(1 << 7);
    pub const DECIPHER_ONLY: Self = Self(1 << 8);
    const NAMES: [&'static str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The names of the set bits, in bit order.
    pub fn names(self) -> Vec<&'static str> {
        (0u16..)
            .zip(Self::NAMES)
            .filter(|(bit, _)| self.0 & (1 << bit) != 0)
            .map(|(_, name)| name)
            .collect()
    }
}

/// What a validity period (RFC 5280 §4.1.2.5) says about one instant. Days are whole days, rounded down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Validity {
    NotYetValid { days_until: i64 },
    Valid { days_left: i64 },
    Expired { days_ago: i64 },
}

/// The facts of one certificate that the diagnosis uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertSummary {
    /// Subject and issuer as RFC 4514 strings (last RDN first, `,` between RDNs, `+` inside one).
    pub subject: String,
    pub issuer: String,
    /// Every commonName attribute of the subject.
    pub common_names: Vec<String>,
    /// subjectAltName dNSName and iPAddress entries (RFC 5280 §4.2.1.6).
    pub san_dns: Vec<String>,
    pub san_ip: Vec<IpAddr>,
    /// The serial number in lowercase hex, without the sign octet DER may prefix.
    pub serial_hex: String,
    /// notBefore / notAfter in unix seconds, and as `YYYY-MM-DDThh:mm:ssZ`.
    pub not_before: i64,
    pub not_after: i64,
    pub not_before_display: String,
    pub not_after_display: String,
    /// Subject and issuer are the same name (RFC 5280 §3.2 "self-issued").
    pub self_issued: bool,
    /// For a self-issued certificate, whether its own key verifies its signature; `None` when not
    /// self-issued or when the algorithm or key size is beyond what the verifier (ring) checks.
    pub self_signature_valid: Option<bool>,
    pub public_key: PublicKeySummary,
    /// The signature algorithm's name (e.g. `sha256WithRSAEncryption`), or its OID when unnamed.
    pub signature_algorithm: String,
    pub signature_algorithm_oid: String,
    /// extKeyUsage purposes by name (`serverAuth`, ...) or OID; `None` when the extension is absent.
    pub extended_key_usage: Option<Vec<String>>,
    /// keyUsage; `None` when the extension is absent.
    pub key_usage: Option<KeyUsageBits>,
    /// basicConstraints cA; `None` when the extension is absent.
    pub basic_constraints_ca: Option<bool>,
    /// SHA-256 of the DER, lowercase hex.
    pub sha256_fingerprint: String,
}

/// Signature algorithms whose hash is MD2, MD4, MD5 or SHA-1.
const WEAK_SIGNATURE_OIDS: [&str; 8] = [
    "1.2.840.113549.1.1.2", // md2WithRSAEncryption
    "1.2.840.113549.1.1.3", // md4WithRSAEncryption
    "1.2.840.113549.1.1.4", // md5WithRSAEncryption
    "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
    "1.3.14.3.2.25",        // md5WithRSASignature (OIW)
    "1.3.14.3.2.29",        // sha1WithRSASignature (OIW), seen in RDP proprietary-era certificates
    "1.2.840.10040.4.3",    // dsa-with-sha1
    "1.2.840.10045.4.1",    // ecdsa-with-SHA1
];

/// Decodes one DER certificate into a [`CertSummary`].
pub fn summarize_certificate(der: &[u8]) -> Result<CertSummary, CertError> {
    if der.is_empty() {
        return Err(CertError::Empty);
    }
    // x509-parser reports a short input as a generic parse error; the outer length tells them apart.
    if declared_len(der).is_some_and(|total| total > der.len()) {
        return Err(CertError::Truncated);
    }
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| match e {
        x509_parser::nom::Err::Incomplete(_) => CertError::Truncated,
        x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => {
            CertError::Malformed {
                reason: e.to_string(),
            }
        }
    })?;
    if !rest.is_empty() {
        return Err(CertError::TrailingBytes { extra: rest.len() });
    }
    let registry = x509_parser::objects::oid_registry();
    let name_of = |oid: &Oid| {
        registry
            .get(oid)
            .map_or_else(|| oid.to_id_string(), |e| e.sn().to_owned())
    };

    let mut san_dns = Vec::new();
    let mut san_ip = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => san_dns.push((*dns).to_owned()),
                GeneralName::IPAddress(ip) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*ip) {
                        san_ip.push(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*ip) {
                        san_ip.push(IpAddr::from(v6));
                    }
                }
                _ => {}
            }
        }
    }

    let spki = cert.public_key();
    let public_key = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => PublicKeySummary::Rsa {
            bits: unsigned_bits(rsa.modulus),
        },
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            let curve_bits = match curve.as_ref().map(Oid::to_id_string).as_deref() {
                Some("1.2.840.10045.3.1.7") => Some(256),
                Some("1.3.132.0.34") => Some(384),
                Some("1.3.132.0.35") => Some(521),
                _ => u32::try_from(point.key_size()).ok().filter(|b| *b > 0),
            };
            PublicKeySummary::Ec {
                curve: curve.map_or_else(|| "unnamed".to_owned(), |c| name_of(&c)),
                bits: curve_bits,
            }
        }
        parsed => PublicKeySummary::Other {
            algorithm: name_of(&spki.algorithm.algorithm),
            bits: parsed
                .ok()
                .and_then(|k| u32::try_from(k.key_size()).ok())
                .filter(|b| *b > 0),
        },
    };

    let subject = rfc4514(cert.subject());
    let issuer = rfc4514(cert.issuer());
    let self_issued = cert.subject().as_raw() == cert.issuer().as_raw();
    let self_signature_valid = if self_issued {
        match cert.verify_signature(None) {
            Ok(()) => Some(true),
            Err(X509Error::SignatureVerificationError) => {
                // ring refuses RSA keys outside 1024..=8192 bits (2048 for SHA-2): that is no verdict.
                let oid = cert.signature_algorithm.algorithm.to_id_string();
                let sha1 = oid == "1.2.840.113549.1.1.5" || oid == "1.3.14.3.2.29";
                match public_key {
                    PublicKeySummary::Rsa { bits } if bits > 8192 => None,
                    PublicKeySummary::Rsa { bits } if bits < if sha1 { 1024 } else { 2048 } => None,
                    _ => Some(false),
                }
            }
            Err(_) => None,
        }
    } else {
        None
    };

    let extended_key_usage = cert.extended_key_usage().ok().flatten().map(|eku| {
        let eku = eku.value;
        let known = [
            (eku.any, "anyExtendedKeyUsage"),
            (eku.server_auth, "serverAuth"),
            (eku.client_auth, "clientAuth"),
            (eku.code_signing, "codeSigning"),
            (eku.email_protection, "emailProtection"),
            (eku.time_stamping, "timeStamping"),
            (eku.ocsp_signing, "OCSPSigning"),
        ];
        let named = known
            .into_iter()
            .filter(|(set, _)| *set)
            .map(|(_, n)| n.to_owned());
        named
            .chain(eku.other.iter().map(Oid::to_id_string))
            .collect()
    });

    let validity = cert.validity();
    let serial = cert.raw_serial();
    let serial = serial
        .iter()
        .position(|b| *b != 0)
        .and_then(|start| serial.get(start..))
        .filter(|s| !s.is_empty())
        .unwrap_or(serial);

    Ok(CertSummary {
        common_names: cert
            .subject()
            .iter_common_name()
            .map(|a| attr_value(a.attr_value()))
            .collect(),
        subject,
        issuer,
        san_dns,
        san_ip,
        serial_hex: hex::encode(serial),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        not_before_display: display_time(validity.not_before.timestamp()),
        not_after_display: display_time(validity.not_after.timestamp()),
        self_issued,
        self_signature_valid,
        public_key,
        signature_algorithm: name_of(&cert.signature_algorithm.algorithm),
        signature_algorithm_oid: cert.signature_algorithm.algorithm.to_id_string(),
        extended_key_usage,
        key_usage: cert
            .key_usage()
            .ok()
            .flatten()
            .map(|ku| KeyUsageBits(ku.value.flags)),
        basic_constraints_ca: cert
            .basic_constraints()
            .ok()
            .flatten()
            .map(|bc| bc.value.ca),
        sha256_fingerprint: hex::encode(Sha256::digest(der)),
    })
}

impl CertSummary {
    /// Where `unix_secs` falls in the validity period (both ends inclusive, RFC 5280 §4.1.2.5).
    pub fn validity_at(&self, unix_secs: i64) -> Validity {
        let days = |secs: i64| secs.div_euclid(86_400);
        if unix_secs < self.not_before {
            Validity::NotYetValid {
                days_until: days(self.not_before.saturating_sub(unix_secs)),
            }
        } else if unix_secs > self.not_after {
            Validity::Expired {
                days_ago: days(unix_secs.saturating_sub(self.not_after)),
            }
        } else {
            Validity::Valid {
                days_left: days(self.not_after.saturating_sub(unix_secs)),
            }
        }
    }

    /// Whether the certificate names `name` (RFC 6125 §6.4): an IP literal against iPAddress SANs only;
    /// a DNS name, case-insensitively, against dNSName SANs, or against the CNs when there are none.
    /// A wildcard is honoured only as the whole leftmost label (`*.example.com`) and spans one label.
    pub fn matches_name(&self, name: &str) -> bool {
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return self.san_ip.contains(&ip);
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let patterns = if self.san_dns.is_empty() {
            &self.common_names
        } else {
            &self.san_dns
        };
        patterns.iter().any(|pattern| {
            let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
            match (pattern.strip_prefix("*."), name.split_once('.')) {
                (Some(parent), Some((label, rest))) => {
                    parent.contains('.') && !label.is_empty() && rest == parent
                }
                _ => pattern == name,
            }
        })
    }

    /// An RSA key shorter than 2048 bits.
    pub fn weak_key(&self) -> bool {
        matches!(self.public_key, PublicKeySummary::Rsa { bits } if bits < 2048)
    }

    /// A signature made with MD2, MD4, MD5 or SHA-1.
    pub fn weak_signature(&self) -> bool {
        WEAK_SIGNATURE_OIDS.contains(&self.signature_algorithm_oid.as_str())
    }

    /// Whether the usages allow a TLS server (RFC 5280 §4.2.1.12, §4.2.1.3): extKeyUsage absent or
    /// holding serverAuth or anyExtendedKeyUsage, and keyUsage absent or allowing digitalSignature
    /// or keyEncipherment.
    pub fn server_auth_allowed(&self) -> bool {
        let eku_ok = self.extended_key_usage.as_ref().is_none_or(|ekus| {
            ekus.iter()
                .any(|e| e == "serverAuth" || e == "anyExtendedKeyUsage")
        });
        let ku_ok = self.key_usage.is_none_or(|ku| {
            ku.contains(KeyUsageBits::DIGITAL_SIGNATURE)
                || ku.contains(KeyUsageBits::KEY_ENCIPHERMENT)
        });
        eku_ok && ku_ok
    }
}

/// The whole length (header included) that the outer DER SEQUENCE header of `der` declares.
fn declared_len(der: &[u8]) -> Option<usize> {
    let (header, content) = match der {
        [0x30, short, ..] if *short < 0x80 => (2, usize::from(*short)),
        [0x30, long, rest @ ..] if (0x81..=0x84).contains(long) => {
            let n = usize::from(long & 0x7f);
            let octets = rest.get(..n)?;
            let len = octets.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
            (1 + 1 + n, usize::try_from(len).ok()?)
        }
        _ => return None,
    };
    content.checked_add(header)
}

/// The length in bits of a big-endian unsigned integer.
fn unsigned_bits(be: &[u8]) -> u32 {
    let start = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    let significant = be.get(start..).unwrap_or_default();
    let lead = significant.first().map_or(8, |b| b.leading_zeros());
    u32::try_from(significant.len())
        .unwrap_or(u32::MAX / 8)
        .saturating_mul(8)
        .saturating_sub(lead)
}

/// RFC 4514 §2: RDNs last to first, joined by `,`; attributes of one RDN joined by `+`.
fn rfc4514(name: &X509Name) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            let attrs: Vec<String> = rdn
                .iter()
                .map(|a| {
                    let oid = a.attr_type().to_id_string();
                    let short = match oid.as_str() {
                        "2.5.4.3" => "CN",
                        "2.5.4.7" => "L",
                        "2.5.4.8" => "ST",
                        "2.5.4.10" => "O",
                        "2.5.4.11" => "OU",
                        "2.5.4.6" => "C",
                        "2.5.4.9" => "STREET",
                        "0.9.2342.19200300.100.1.25" => "DC",
                        "0.9.2342.19200300.100.1.1" => "UID",
                        _ => oid.as_str(),
                    };
                    let value = match text_of(a.attr_value()) {
                        Some(text) => escape_rfc4514(&text),
                        None => format!(
                            "#{}",
                            hex::encode(a.attr_value().to_der_vec().unwrap_or_default())
                        ),
                    };
                    format!("{short}={value}")
                })
                .collect();
            attrs.join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// The text of a DirectoryString-like value, or `None` when it is not a string type.
fn text_of(value: &Any) -> Option<String> {
    let data = value.data;
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => Some(String::from_utf8_lossy(data).into_owned()),
        Tag::TeletexString => Some(data.iter().map(|b| char::from(*b)).collect()),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| match c {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => 0xfffd,
                })
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    }
}

/// A value's text, or the RFC 4514 hex form when it is not a string.
fn attr_value(value: &Any) -> String {
    text_of(value).unwrap_or_else(|| format!("#{}", hex::encode(value.data)))
}

/// RFC 4514 §2.4 escaping; control characters are written as `\XX`.
fn escape_rfc4514(text: &str) -> String {
    let last = text.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(text.len());
    for (n, c) in text.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if n == 0 => out.push_str("\\#"),
            ' ' if n == 0 || n == last => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Unix seconds as `YYYY-MM-DDThh:mm:ssZ` (proleptic Gregorian, H. Hinnant's civil_from_days).
fn display_time(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A DER fixture from `fixtures/wire/certs/` (see its README for the capture and frame).
    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/wire/certs/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn summary(name: &str) -> CertSummary {
        summarize_certificate(&fixture(name)).unwrap()
    }

    #[test]
    fn rdp_self_signed_win2k8r2() {
        // zeek__rdp-to-ssl.pcap frame 9: the self-signed RDP certificate of a Windows 2008 R2 host.
        let der = fixture("rdp-to-ssl-win2k8r2.der");
        assert_eq!(
            summarize_certificate(&der).unwrap(),
            CertSummary {
                subject: "CN=WIN2K8R2.awakecoding.ath.cx".into(),
                issuer: "CN=WIN2K8R2.awakecoding.ath.cx".into(),
                common_names: vec!["WIN2K8R2.awakecoding.ath.cx".into()],
                san_dns: vec![],
                san_ip: vec![],
                serial_hex: "16ed2aa0495f259d4f5d99edada570d1".into(),
                not_before: 1_297_546_655,
                not_after: 1_613_088_000,
                not_before_display: "2011-02-12T21:37:35Z".into(),
                not_after_display: "2021-02-12T00:00:00Z".into(),
                self_issued: true,
                self_signature_valid: Some(true),
                public_key: PublicKeySummary::Rsa { bits: 2048 },
                signature_algorithm: "sha1WithRSAEncryption".into(),
                signature_algorithm_oid: "1.2.840.113549.1.1.5".into(),
                extended_key_usage: Some(vec!["serverAuth".into()]),
                key_usage: Some(KeyUsageBits(
                    KeyUsageBits::KEY_ENCIPHERMENT.0 | KeyUsageBits::DATA_ENCIPHERMENT.0
                )),
                basic_constraints_ca: None,
                // openssl x509 -inform der -noout -fingerprint -sha256
                sha256_fingerprint:
                    "a5b05d2ae076130aa41060f53ecd72bdf864ea0179250e927549c94d5ab2499a".into(),
            }
        );
        let s = summarize_certificate(&der).unwrap();
        assert!(s.weak_signature() && !s.weak_key() && s.server_auth_allowed());
        assert!(s.matches_name("win2k8r2.AWAKECODING.ath.cx."));
        assert!(!s.matches_name("192.168.1.150")); // the client connected by IP: a name mismatch
                                                   // Capture time 2011-02-12T22:50:44Z, about an hour after notBefore.
        assert_eq!(
            s.validity_at(1_297_551_044),
            Validity::Valid { days_left: 3652 }
        );
        assert_eq!(s.validity_at(s.not_after), Validity::Valid { days_left: 0 });
        assert_eq!(
            s.validity_at(s.not_after + 1),
            Validity::Expired { days_ago: 0 }
        );
        assert_eq!(
            s.validity_at(s.not_before - 86_400),
            Validity::NotYetValid { days_until: 1 }
        );
    }

    #[test]
    fn rdp_self_signed_win10_sha256() {
        // ndpi__rdp.pcap frame 8 (HYBRID_EX): six-month self-signed certificate, sha256WithRSAEncryption.
        let s = summary("ndpi-office-win10-vm.der");
        assert_eq!(
            (s.subject.as_str(), s.issuer.as_str()),
            ("CN=OFFICE-WIN10-VM", "CN=OFFICE-WIN10-VM")
        );
        assert_eq!(s.serial_hex, "3dde271223f54fa148cca5d217d88b33");
        assert_eq!(
            (s.not_before_display.as_str(), s.not_after_display.as_str()),
            ("2019-03-19T10:47:11Z", "2019-09-18T10:47:11Z")
        );
        assert_eq!(s.self_signature_valid, Some(true));
        assert_eq!(s.signature_algorithm, "sha256WithRSAEncryption");
        assert!(!s.weak_signature() && !s.weak_key() && s.server_auth_allowed());
        assert!(s.matches_name("office-win10-vm") && !s.matches_name("192.168.2.142"));
        // Capture time 2019-05-30T09:11:05Z.
        assert_eq!(
            s.validity_at(1_559_207_465),
            Validity::Valid { days_left: 111 }
        );
    }

    #[test]
    fn expired_ca_issued_leaf_and_its_ca() {
        // zeek-tls__tls-expired-cert.pcap frame 7, certificates [0] and [1].
        let leaf = summary("tls-expired-spidh.der");
        assert_eq!(
            leaf.subject,
            "CN=www.spidh.org,OU=COMODO SSL,OU=Domain Control Validated"
        );
        assert_eq!(
            leaf.issuer,
            "CN=COMODO SSL CA,O=COMODO CA Limited,L=Salford,ST=Greater Manchester,C=GB"
        );
        assert_eq!(leaf.serial_hex, "f28ea84bc03a07066940ceeaf61efefb"); // DER has a 00 sign octet
        assert_eq!(leaf.san_dns, ["www.spidh.org", "spidh.org"]);
        assert_eq!((leaf.self_issued, leaf.self_signature_valid), (false, None));
        assert_eq!(
            leaf.extended_key_usage,
            Some(vec!["serverAuth".into(), "clientAuth".into()])
        );
        assert_eq!(
            leaf.key_usage.unwrap().names(),
            ["digitalSignature", "keyEncipherment"]
        );
        assert_eq!(leaf.basic_constraints_ca, Some(false));
        // Capture time 2014-03-13T21:20:03Z; notAfter 2014-03-04T23:59:59Z.
        assert_eq!(
            leaf.validity_at(1_394_745_603),
            Validity::Expired { days_ago: 8 }
        );
        assert!(leaf.matches_name("SPIDH.org") && !leaf.matches_name("www.comodo.com"));

        let ca = summary("tls-expired-comodo-ca.der");
        assert_eq!(ca.basic_constraints_ca, Some(true));
        assert_eq!(ca.key_usage.unwrap().names(), ["keyCertSign", "cRLSign"]);
        assert!(!ca.server_auth_allowed()); // no digitalSignature / keyEncipherment
    }

    #[test]
    fn certificate_without_cn() {
        // zeek-tls__cert-no-cn.pcap frame 6: subject O=TestCorp only, no SAN.
        let s = summary("cert-no-cn-testcorp.der");
        assert_eq!(
            (s.subject.as_str(), s.issuer.as_str()),
            ("O=TestCorp", "O=TestCorp")
        );
        assert!(s.common_names.is_empty() && s.san_dns.is_empty());
        assert!(!s.matches_name("testcorp"));
        assert!(s.server_auth_allowed()); // neither EKU nor keyUsage present
    }

    #[test]
    fn standard_security_512_bit_certificates() {
        // zeek__rdp-x509.pcap frame 12 (tshark shows the PDU at frame 13): the X.509 chain of the
        // MCS Connect-Response server security data, a 512-bit key signed with OIW sha1WithRSA.
        let s = summary("rdp-x509-servr.der");
        assert_eq!(s.subject, "CN=SERVR+L=TURNBKL");
        assert_eq!(s.public_key, PublicKeySummary::Rsa { bits: 512 });
        assert_eq!(s.signature_algorithm_oid, "1.3.14.3.2.29");
        assert!(s.weak_key() && s.weak_signature());
        assert_eq!(s.self_signature_valid, None); // ring checks no RSA key under 1024 bits

        // The second certificate of that chain claims md5WithRSAEncryption as its key algorithm.
        let s = summary("rdp-x509-ncalrpc.der");
        assert_eq!(
            s.subject,
            "CN=ncalrpc:SERVR+L=ncalrpc:SERVR+2.5.4.5=1BcKefYSF97EvkaiCqahPY8uPd0=\\0D\\0A"
        );
        assert_eq!(s.issuer, "CN=SERVR+L=TURNBKL");
        assert_eq!(s.serial_hex, "0100000001");
        assert_eq!(
            s.public_key,
            PublicKeySummary::Other {
                algorithm: "md5WithRSAEncryption".into(),
                bits: None
            }
        );
    }

    #[test]
    fn ec_key_sans_and_wildcards() {
        // Generated with openssl (see the README): P-256, SAN *.example.test, rdp.example.test,
        // 192.0.2.7 and 2001:db8::7, EKU clientAuth only, keyUsage keyCertSign only.
        let s = summary("generated-ec-p256-san.der");
        assert_eq!(
            s.public_key,
            PublicKeySummary::Ec {
                curve: "prime256v1".into(),
                bits: Some(256)
            }
        );
        assert_eq!(s.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(s.self_signature_valid, Some(true));
        assert_eq!(
            s.san_ip,
            [
                "192.0.2.7".parse::<IpAddr>().unwrap(),
                "2001:db8::7".parse().unwrap()
            ]
        );
        assert!(!s.server_auth_allowed() && !s.weak_key() && !s.weak_signature());
        for yes in [
            "host.example.test",
            "HOST.Example.Test",
            "rdp.example.test",
            "192.0.2.7",
            "[2001:db8::7]",
        ] {
            assert!(s.matches_name(yes), "{yes}");
        }
        for no in [
            "example.test",
            "a.b.example.test",
            ".example.test",
            "192.0.2.8",
            "rdp.example.test.evil",
        ] {
            assert!(!s.matches_name(no), "{no}");
        }
    }

    #[test]
    fn cn_is_ignored_when_dns_sans_exist() {
        let mut s = summary("ndpi-office-win10-vm.der");
        s.san_dns = vec!["other.example".into()];
        assert!(!s.matches_name("OFFICE-WIN10-VM") && s.matches_name("other.example"));
        s.san_dns = vec!["*.com".into()]; // a wildcard over a single label names nothing
        assert!(!s.matches_name("example.com"));
    }

    #[test]
    fn bad_signature_is_reported() {
        let mut der = fixture("rdp-to-ssl-win2k8r2.der");
        *der.last_mut().unwrap() ^= 1;
        assert_eq!(
            summarize_certificate(&der).unwrap().self_signature_valid,
            Some(false)
        );
    }

    #[test]
    fn non_certificates_say_why() {
        let der = fixture("ndpi-office-win10-vm.der");
        assert_eq!(summarize_certificate(&[]), Err(CertError::Empty));
        assert_eq!(
            summarize_certificate(&der[..100]),
            Err(CertError::Truncated)
        );
        let mut long = der.clone();
        long.extend_from_slice(&[0, 0]);
        assert_eq!(
            summarize_certificate(&long),
            Err(CertError::TrailingBytes { extra: 2 })
        );
        let err = summarize_certificate(&[0x02, 0x01, 0x00]).unwrap_err();
        assert!(matches!(err, CertError::Malformed { .. }), "{err:?}");
        assert!(err.to_string().starts_with("certificate does not parse"));
        for cut in 0..der.len() {
            assert!(summarize_certificate(&der[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(unsigned_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(unsigned_bits(&[0x01, 0xff]), 9);
        assert_eq!(unsigned_bits(&[]), 0);
        assert_eq!(display_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(display_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(display_time(-1), "1969-12-31T23:59:59Z");
        assert_eq!(escape_rfc4514(" a,b+#\"; "), "\\ a\\,b\\+#\\\"\\;\\ ");
        assert_eq!(escape_rfc4514("#x"), "\\#x");
        assert_eq!(
            KeyUsageBits(0x101).names(),
            ["digitalSignature", "decipherOnly"]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = summarize_certificate(&bytes);
        }

        #[test]
        fn mutated_certificates_never_panic(at in 0usize..742, byte in any::<u8>()) {
            let mut der = fixture("ndpi-office-win10-vm.der");
            der[at] = byte;
            if let Ok(s) = summarize_certificate(&der) {
                let _ = (s.validity_at(0), s.matches_name("x.y"), s.server_auth_allowed());
            }
        }
    }
}

//! MS-RDPBCGR 2.2.1.4.3.1 Server Certificate (SERVER_CERTIFICATE) of standard RDP security: a
//! proprietary certificate (2.2.1.4.3.1.1) or an X.509 chain (MS-RDPELE 2.2.1.4.2). The X.509
//! certificates are borrowed as DER; decoding them is the `cert` module's job.

use nom::number::streaming::{le_u16, le_u32};

use crate::wire::{bounded, fail, take_n, WireError, WireResult};

/// dwVersion: low 31 bits are the chain version, the top bit says the certificate is temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCertificate<'a> {
    pub dw_version: u32,
    pub chain: CertificateChain<'a>,
}

impl ServerCertificate<'_> {
    pub const CERT_CHAIN_VERSION_1: u32 = 0x0000_0001;
    pub const CERT_CHAIN_VERSION_2: u32 = 0x0000_0002;
    const TEMPORARY: u32 = 0x8000_0000;

    /// The chain version (dwVersion without the `t` bit).
    pub fn chain_version(&self) -> u32 {
        self.dw_version & !Self::TEMPORARY
    }

    /// The `t` bit: the certificate was issued temporarily (2.2.1.4.3.1).
    pub fn temporary(&self) -> bool {
        self.dw_version & Self::TEMPORARY != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateChain<'a> {
    /// CERT_CHAIN_VERSION_1.
    Proprietary(ProprietaryCertificate<'a>),
    /// CERT_CHAIN_VERSION_2.
    X509(X509CertificateChain<'a>),
    /// Another chain version: the bytes after dwVersion.
    Unknown(&'a [u8]),
}

/// MS-RDPBCGR 2.2.1.4.3.1.1 Proprietary Certificate (PROPRIETARYSERVERCERTIFICATE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProprietaryCertificate<'a> {
    /// dwSigAlgId: SIGNATURE_ALG_RSA (1).
    pub sig_alg_id: u32,
    /// dwKeyAlgId: KEY_EXCHANGE_ALG_RSA (1).
    pub key_alg_id: u32,
    /// wPublicKeyBlobType: BB_RSA_KEY_BLOB (6).
    pub public_key_blob_type: u16,
    pub public_key_blob: &'a [u8],
    /// The key, when the blob is a BB_RSA_KEY_BLOB holding an RSA1 key.
    pub public_key: Option<RsaPublicKey<'a>>,
    /// wSignatureBlobType: BB_RSA_SIGNATURE_BLOB (8).
    pub signature_blob_type: u16,
    pub signature_blob: &'a [u8],
    /// Bytes after the signature blob.
    pub rest: &'a [u8],
}

impl ProprietaryCertificate<'_> {
    pub const BB_RSA_KEY_BLOB: u16 = 0x0006;
    pub const BB_RSA_SIGNATURE_BLOB: u16 = 0x0008;
}

/// MS-RDPBCGR 2.2.1.4.3.1.1.1 RSA Public Key (RSA_PUBLIC_KEY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsaPublicKey<'a> {
    /// magic: 0x31415352 ("RSA1").
    pub magic: u32,
    /// keylen: modulus bytes including 8 bytes of zero padding.
    pub keylen: u32,
    /// bitlen: the key size in bits.
    pub bitlen: u32,
    /// datalen: the most bytes that can be encrypted (bitlen / 8 - 1).
    pub datalen: u32,
    pub pub_exp: u32,
    /// modulus, little-endian, keylen bytes.
    pub modulus: &'a [u8],
}

impl RsaPublicKey<'_> {
    pub const RSA1_MAGIC: u32 = 0x3141_5352;
}

/// MS-RDPELE 2.2.1.4.2 Server X.509 Certificate Chain: NumCertBlobs, then `cbCert | abCert` each, then
/// padding (8 + 4 * NumCertBlobs bytes per the spec; kept as is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X509CertificateChain<'a> {
    /// DER certificates in wire order (the server's own certificate is the last one).
    pub certificates: Vec<&'a [u8]>,
    pub padding: &'a [u8],
}

/// Parses a complete serverCertificate. Run it with [`bounded`].
pub fn parse_server_certificate(i: &[u8]) -> WireResult<'_, ServerCertificate<'_>> {
    let (i, dw_version) = le_u32(i)?;
    let chain = match dw_version & 0x7FFF_FFFF {
        ServerCertificate::CERT_CHAIN_VERSION_1 => {
            CertificateChain::Proprietary(bounded("proprietary certificate", i, proprietary)?.1)
        }
        ServerCertificate::CERT_CHAIN_VERSION_2 => {
            CertificateChain::X509(bounded("X.509 certificate chain", i, x509_chain)?.1)
        }
        _ => CertificateChain::Unknown(i),
    };
    Ok((&[], ServerCertificate { dw_version, chain }))
}

fn proprietary(i: &[u8]) -> WireResult<'_, ProprietaryCertificate<'_>> {
    let (i, sig_alg_id) = le_u32(i)?;
    let (i, key_alg_id) = le_u32(i)?;
    let (i, public_key_blob_type) = le_u16(i)?;
    let (i, key_len) = le_u16(i)?;
    let (i, public_key_blob) = take_n(i, usize::from(key_len))?;
    let (i, signature_blob_type) = le_u16(i)?;
    let (i, sig_len) = le_u16(i)?;
    let (rest, signature_blob) = take_n(i, usize::from(sig_len))?;
    let public_key = if public_key_blob_type == ProprietaryCertificate::BB_RSA_KEY_BLOB
        && public_key_blob.starts_with(b"RSA1")
    {
        Some(bounded("RSA_PUBLIC_KEY", public_key_blob, rsa_public_key)?.1)
    } else {
        None
    };
    Ok((
        &[],
        ProprietaryCertificate {
            sig_alg_id,
            key_alg_id,
            public_key_blob_type,
            public_key_blob,
            public_key,
            signature_blob_type,
            signature_blob,
            rest,
        },
    ))
}

fn rsa_public_key(i: &[u8]) -> WireResult<'_, RsaPublicKey<'_>> {
    let (i, magic) = le_u32(i)?;
    let (i, keylen) = le_u32(i)?;
    let (i, bitlen) = le_u32(i)?;
    let (i, datalen) = le_u32(i)?;
    let (i, pub_exp) = le_u32(i)?;
    let Ok(n) = usize::try_from(keylen) else {
        return fail(WireError::BadLength {
            pdu: "RSA_PUBLIC_KEY",
            field: "keylen",
            got: keylen.into(),
            expected: "addressable",
        });
    };
    let (i, modulus) = take_n(i, n)?;
    Ok((
        i,
        RsaPublicKey {
            magic,
            keylen,
            bitlen,
            datalen,
            pub_exp,
            modulus,
        },
    ))
}

fn x509_chain(i: &[u8]) -> WireResult<'_, X509CertificateChain<'_>> {
    let (mut i, count) = le_u32(i)?;
    // every blob takes at least its 4-byte length: refuse a count the bytes cannot hold before allocating
    if usize::try_from(count).map_or(true, |c| c > i.len() / 4) {
        return fail(WireError::BadLength {
            pdu: "X.509 certificate chain",
            field: "NumCertBlobs",
            got: count.into(),
            expected: "no more blobs than the chain holds",
        });
    }
    let mut certificates = Vec::with_capacity(i.len() / 4);
    for _ in 0..count {
        let (rest, len) = le_u32(i)?;
        let Ok(len) = usize::try_from(len) else {
            return fail(WireError::BadLength {
                pdu: "X.509 certificate chain",
                field: "cbCert",
                got: len.into(),
                expected: "addressable",
            });
        };
        let (rest, der) = take_n(rest, len)?;
        certificates.push(der);
        i = rest;
    }
    Ok((
        &[],
        X509CertificateChain {
            certificates,
            padding: i,
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn x509_chain_borrows_each_blob() {
        let bytes = [
            0x02, 0x00, 0x00, 0x80, // dwVersion: CERT_CHAIN_VERSION_2, temporary
            0x02, 0x00, 0x00, 0x00, // NumCertBlobs 2
            0x02, 0x00, 0x00, 0x00, // cbCert 2
            0x30, 0x00, // abCert
            0x03, 0x00, 0x00, 0x00, // cbCert 3
            0x30, 0x01, 0x05, // abCert
            0x00, 0x00, 0x00, 0x00, // padding
        ];
        let (_, c) = parse_server_certificate(&bytes).unwrap();
        assert!(c.temporary());
        assert_eq!(c.chain_version(), ServerCertificate::CERT_CHAIN_VERSION_2);
        assert_eq!(
            c.chain,
            CertificateChain::X509(X509CertificateChain {
                certificates: vec![&[0x30, 0x00][..], &[0x30, 0x01, 0x05][..]],
                padding: &[0, 0, 0, 0],
            })
        );
    }

    #[test]
    fn impossible_blob_count_is_refused_before_allocating() {
        let bytes = [
            0x02, 0x00, 0x00, 0x00, // dwVersion 2
            0xff, 0xff, 0xff, 0x7f, // NumCertBlobs: absurd
        ];
        assert!(matches!(
            parse_server_certificate(&bytes),
            Err(nom::Err::Error(WireError::BadLength {
                field: "NumCertBlobs",
                ..
            }))
        ));
    }

    #[test]
    fn unknown_chain_version_is_kept() {
        let (_, c) = parse_server_certificate(&[3, 0, 0, 0, 0xaa]).unwrap();
        assert_eq!(c.chain, CertificateChain::Unknown(&[0xaa]));
        assert!(!c.temporary());
    }
}

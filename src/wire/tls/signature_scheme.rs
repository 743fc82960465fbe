//! SignatureScheme (RFC 8446 §4.2.3, IANA "TLS SignatureScheme"). TLS 1.2 sends the same two bytes as a
//! `(HashAlgorithm, SignatureAlgorithm)` pair (RFC 5246 §7.4.1.4.1); the pairs TLS 1.3 did not adopt are
//! named `<hash>_<signature>` here.

open_value! {
    /// A signature algorithm, as in signature_algorithms and CertificateRequest.
    SignatureScheme(u16);
    MD5_RSA = 0x0101, "md5_rsa";
    RSA_PKCS1_SHA1 = 0x0201, "rsa_pkcs1_sha1";
    SHA1_DSA = 0x0202, "sha1_dsa";
    ECDSA_SHA1 = 0x0203, "ecdsa_sha1";
    SHA224_RSA = 0x0301, "sha224_rsa";
    SHA224_DSA = 0x0302, "sha224_dsa";
    SHA224_ECDSA = 0x0303, "sha224_ecdsa";
    RSA_PKCS1_SHA256 = 0x0401, "rsa_pkcs1_sha256";
    SHA256_DSA = 0x0402, "sha256_dsa";
    ECDSA_SECP256R1_SHA256 = 0x0403, "ecdsa_secp256r1_sha256";
    RSA_PKCS1_SHA384 = 0x0501, "rsa_pkcs1_sha384";
    SHA384_DSA = 0x0502, "sha384_dsa";
    ECDSA_SECP384R1_SHA384 = 0x0503, "ecdsa_secp384r1_sha384";
    RSA_PKCS1_SHA512 = 0x0601, "rsa_pkcs1_sha512";
    SHA512_DSA = 0x0602, "sha512_dsa";
    ECDSA_SECP521R1_SHA512 = 0x0603, "ecdsa_secp521r1_sha512";
    RSA_PSS_RSAE_SHA256 = 0x0804, "rsa_pss_rsae_sha256";
    RSA_PSS_RSAE_SHA384 = 0x0805, "rsa_pss_rsae_sha384";
    RSA_PSS_RSAE_SHA512 = 0x0806, "rsa_pss_rsae_sha512";
    ED25519 = 0x0807, "ed25519";
    ED448 = 0x0808, "ed448";
    RSA_PSS_PSS_SHA256 = 0x0809, "rsa_pss_pss_sha256";
    RSA_PSS_PSS_SHA384 = 0x080a, "rsa_pss_pss_sha384";
    RSA_PSS_PSS_SHA512 = 0x080b, "rsa_pss_pss_sha512";
    ECDSA_BRAINPOOLP256R1TLS13_SHA256 = 0x081a, "ecdsa_brainpoolP256r1tls13_sha256";
    ECDSA_BRAINPOOLP384R1TLS13_SHA384 = 0x081b, "ecdsa_brainpoolP384r1tls13_sha384";
    ECDSA_BRAINPOOLP512R1TLS13_SHA512 = 0x081c, "ecdsa_brainpoolP512r1tls13_sha512";
    MLDSA44 = 0x0904, "mldsa44";
    MLDSA65 = 0x0905, "mldsa65";
    MLDSA87 = 0x0906, "mldsa87";
}
display_named_or_grease!(SignatureScheme);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_names_and_hex() {
        assert_eq!(SignatureScheme(0x0804).to_string(), "rsa_pss_rsae_sha256");
        assert_eq!(SignatureScheme(0x0201).to_string(), "rsa_pkcs1_sha1");
        assert_eq!(SignatureScheme(0x0702).to_string(), "0x702");
    }
}

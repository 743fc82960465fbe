//! NamedGroup (RFC 8446 §4.2.7, RFC 8422 §5.1.1 NamedCurve, RFC 7919 FFDHE groups, IANA "TLS Supported Groups").

open_value! {
    /// A key-exchange group, as in supported_groups and key_share.
    NamedGroup(u16);
    SECT163K1 = 1, "sect163k1";
    SECT163R2 = 3, "sect163r2";
    SECT233K1 = 6, "sect233k1";
    SECT233R1 = 7, "sect233r1";
    SECT283K1 = 9, "sect283k1";
    SECT283R1 = 10, "sect283r1";
    SECT409K1 = 11, "sect409k1";
    SECT409R1 = 12, "sect409r1";
    SECT571K1 = 13, "sect571k1";
    SECT571R1 = 14, "sect571r1";
    SECP160K1 = 15, "secp160k1";
    SECP160R1 = 16, "secp160r1";
    SECP160R2 = 17, "secp160r2";
    SECP192K1 = 18, "secp192k1";
    SECP192R1 = 19, "secp192r1";
    SECP224K1 = 20, "secp224k1";
    SECP224R1 = 21, "secp224r1";
    SECP256K1 = 22, "secp256k1";
    SECP256R1 = 23, "secp256r1";
    SECP384R1 = 24, "secp384r1";
    SECP521R1 = 25, "secp521r1";
    BRAINPOOLP256R1 = 26, "brainpoolP256r1";
    BRAINPOOLP384R1 = 27, "brainpoolP384r1";
    BRAINPOOLP512R1 = 28, "brainpoolP512r1";
    X25519 = 29, "x25519";
    X448 = 30, "x448";
    BRAINPOOLP256R1TLS13 = 31, "brainpoolP256r1tls13";
    BRAINPOOLP384R1TLS13 = 32, "brainpoolP384r1tls13";
    BRAINPOOLP512R1TLS13 = 33, "brainpoolP512r1tls13";
    FFDHE2048 = 256, "ffdhe2048";
    FFDHE3072 = 257, "ffdhe3072";
    FFDHE4096 = 258, "ffdhe4096";
    FFDHE6144 = 259, "ffdhe6144";
    FFDHE8192 = 260, "ffdhe8192";
    MLKEM512 = 0x0200, "MLKEM512";
    MLKEM768 = 0x0201, "MLKEM768";
    MLKEM1024 = 0x0202, "MLKEM1024";
    SECP256R1_MLKEM768 = 0x11eb, "SecP256r1MLKEM768";
    X25519_MLKEM768 = 0x11ec, "X25519MLKEM768";
    SECP384R1_MLKEM1024 = 0x11ed, "SecP384r1MLKEM1024";
    X25519_KYBER768_DRAFT00 = 0x6399, "X25519Kyber768Draft00";
    ARBITRARY_EXPLICIT_PRIME_CURVES = 0xff01, "arbitrary_explicit_prime_curves";
    ARBITRARY_EXPLICIT_CHAR2_CURVES = 0xff02, "arbitrary_explicit_char2_curves";
}
display_named_or_grease!(NamedGroup);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_names_grease_and_hex() {
        assert_eq!(NamedGroup(0x11ec).to_string(), "X25519MLKEM768");
        assert_eq!(NamedGroup::X25519.to_string(), "x25519");
        assert_eq!(NamedGroup(0x3a3a).to_string(), "GREASE(0x3a3a)");
        assert_eq!(NamedGroup(0x0105).to_string(), "0x105");
    }
}

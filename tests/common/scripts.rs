//! Every scripted conversation of `tests/diagnose_rules.rs`, by name, so other tests (the replay of the
//! same conversations from a pcap, `tests/replay_oneness.rs`) run the very same ones.

use super::*;
use rdpdiag::session::TransportFact;

/// SSL|HYBRID requested, HYBRID selected, TLS 1.2 done.
pub fn nla() -> Script {
    Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .select(2)
        .tls12()
}

/// A Set Error Info PDU under standard RDP security without encryption, in an MCS Send Data Indication.
pub fn set_error_info(code: u32) -> Vec<u8> {
    let mut share = vec![0x00, 0x00, 0x00, 0x00]; // basic security header: flags 0, flagsHi 0
    let mut ctl = Vec::new();
    ctl.extend_from_slice(&[0x17, 0x00]); // pduType: PDUTYPE_DATAPDU | version 1
    ctl.extend_from_slice(&[0xea, 0x03]); // pduSource 1002
    ctl.extend_from_slice(&[0x01, 0x00, 0x01, 0x00]); // shareId
    ctl.extend_from_slice(&[0x00, 0x01, 0x08, 0x00]); // pad1, streamId, uncompressedLength 8
    ctl.extend_from_slice(&[0x2f, 0x00, 0x00, 0x00]); // pduType2 SET_ERROR_INFO, compressedType, compressedLength
    ctl.extend_from_slice(&code.to_le_bytes());
    let total = u16::try_from(ctl.len() + 2).unwrap();
    share.extend_from_slice(&total.to_le_bytes());
    share.extend_from_slice(&ctl);
    let mut mcs = vec![
        0x68,
        0x00,
        0x01,
        0x03,
        0xeb,
        0x70,
        u8::try_from(share.len()).unwrap(),
    ];
    mcs.extend_from_slice(&share);
    mcs
}

/// Standard RDP security up to the MCS connect (128-bit RC4, level client compatible): the channel is
/// not up yet.
pub fn standard_security_connect() -> Script {
    Script::new(JUNE_2019)
        .connect()
        .request(Some(0))
        .select(0)
        .bytes(C, fixture_hex("mcs/proprietary_connect_initial.hex"))
        .bytes(S, fixture_hex("mcs/proprietary_connect_response.hex"))
}

/// Standard RDP security followed through: the MCS connect, the client's Security Exchange and Client
/// Info PDUs, then the server's licensing PDU (License Error, STATUS_VALID_CLIENT): the channel is up.
pub fn standard_security() -> Script {
    standard_security_to_client_info()
        .wait(9.0)
        .mcs(S, &send_data(S, &LICENSE_VALID_CLIENT))
}

/// Standard RDP security as far as the client's Client Info PDU (the server's answer is next).
pub fn standard_security_to_client_info() -> Script {
    standard_security_connect()
        .wait(1.0)
        .mcs(C, &send_data(C, &security_exchange()))
        .wait(1.0)
        .mcs(C, &send_data(C, &secured(0x0048, 320)))
}

/// MS-RDPBCGR 2.2.1.12.1.3 (example in 4.1.12): the Server License Error PDU, Valid Client, in the clear.
pub const LICENSE_VALID_CLIENT: [u8; 20] = [
    0x80, 0x00, // flags SEC_LICENSE_PKT
    0x00, 0x00, // flagsHi
    0xff, // bMsgType ERROR_ALERT
    0x03, // flags: PREAMBLE_VERSION_3_0
    0x10, 0x00, // wMsgSize 16
    0x07, 0x00, 0x00, 0x00, // dwErrorCode STATUS_VALID_CLIENT
    0x02, 0x00, 0x00, 0x00, // dwStateTransition ST_NO_TRANSITION
    0x04, 0x00, // wBlobType BB_ERROR_BLOB
    0x00, 0x00, // wBlobLen 0
];

/// MS-RDPBCGR 2.2.1.10.1 Security Exchange PDU data: SEC_EXCHANGE_PKT, then a 64-byte encrypted client
/// random and its 8 bytes of padding.
pub fn security_exchange() -> Vec<u8> {
    let mut pdu = vec![0x01, 0x00, 0x00, 0x00]; // flags SEC_EXCHANGE_PKT, flagsHi
    pdu.extend_from_slice(&72u32.to_le_bytes()); // length
    pdu.extend_from_slice(&[0x5a; 72]); // encryptedClientRandom (stand-in bytes)
    pdu
}

/// A PDU under a Basic Security Header with `flags`; with SEC_ENCRYPT an 8-byte MAC and `len` bytes of
/// ciphertext (stand-in bytes: their content is never read), else `len` zero bytes.
pub fn secured(flags: u16, len: usize) -> Vec<u8> {
    let mut pdu = flags.to_le_bytes().to_vec();
    pdu.extend_from_slice(&[0x00, 0x00]); // flagsHi
    if flags & 0x0008 != 0 {
        pdu.extend_from_slice(&[0xa5; 8]); // dataSignature
        pdu.extend(std::iter::repeat_n(0xc3, len));
    } else {
        pdu.extend(std::iter::repeat_n(0x00, len));
    }
    pdu
}

/// An MCS Send Data Request (client, user 1007) or Indication (server) on the I/O channel 1003
/// (T.125 §11.32/11.33, PER-encoded) carrying `user_data`.
pub fn send_data(dir: Direction, user_data: &[u8]) -> Vec<u8> {
    let choice = match dir {
        Direction::ClientToServer => 25u8 << 2,
        Direction::ServerToClient => 26u8 << 2,
    };
    let mut mcs = vec![choice, 0x00, 0x06, 0x03, 0xeb, 0x70]; // initiator 1007, channel 1003, priority
    let len = u16::try_from(user_data.len()).unwrap();
    if len < 0x80 {
        mcs.push(u8::try_from(len).unwrap());
    } else {
        mcs.extend_from_slice(&(0x8000 | len).to_be_bytes());
    }
    mcs.extend_from_slice(user_data);
    mcs
}

/// The negotiation failure codes the rules name, and one they do not.
pub const NEG_FAILURE_CODES: [u32; 8] = [1, 2, 3, 4, 5, 6, 7, 0x1234];

/// A TLS client and a server that sends the certificates `ders` (then the client's bad_certificate).
pub fn certificate_script(ders: &[&[u8]], at: i64) -> Script {
    Script::new(at)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .bytes(S, server_flight_with(ders, 0x0303))
        .wait(1.0)
        .alert(C, 42)
        .fin(C)
}

/// A ClientHello without SNI.
pub fn client_hello_without_sni() -> Vec<u8> {
    use rdpdiag::wire::tls::{
        encode_client_hello, ClientHelloSpec, ProtocolVersion, TLS12_CIPHER_SUITES,
    };
    let spec = ClientHelloSpec {
        version: ProtocolVersion::TLS1_2,
        random: [1; 32],
        session_id: &[],
        cipher_suites: TLS12_CIPHER_SUITES,
        sni: None,
        x25519_key_share: [9; 32],
    };
    encode_client_hello(&spec).unwrap()
}

/// The script named `name` in [`all_scripts`].
pub fn named(name: &str) -> Script {
    all_scripts()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no script named {name}"))
}

/// Every conversation of `tests/diagnose_rules.rs`, by name.
pub fn all_scripts() -> Vec<(&'static str, Script)> {
    let j = || Script::new(JUNE_2019);
    let mut all = vec![
        (
            "tcp-refused",
            j().fact(TransportFact::Syn)
                .wait(0.4)
                .fact(TransportFact::Refused),
        ),
        (
            "tcp-unreachable",
            j().fact(TransportFact::Syn)
                .fact(TransportFact::IcmpUnreachable {
                    icmp_type: 3,
                    code: 13,
                    reporter: "192.0.2.1".into(),
                }),
        ),
        (
            "tcp-filtered",
            j().fact(TransportFact::Syn)
                .wait(21_000.0)
                .fact(TransportFact::NoAnswer {
                    syns: 4,
                    waited_us: 21_000_000,
                }),
        ),
        (
            "not-rdp",
            j().connect()
                .request(Some(3))
                .bytes(S, b"SSH-2.0-OpenSSH_9.2\r\n".to_vec())
                .fin(S),
        ),
        (
            "malformed-reply",
            // zeek__rdp-invalid-length.pcap frame 5: RDP_NEG_RSP with length 0.
            j().connect().request(Some(3)).bytes(
                S,
                hex::decode("030000130ed000001234000203000001000002").unwrap(),
            ),
        ),
        (
            "server-silent-after-request",
            j().connect().request(Some(3)).wait(10_000.0).timeout(),
        ),
        (
            "server-silent-after-client-hello",
            j().connect()
                .request(Some(3))
                .select(1)
                .client_hello()
                .wait(10_000.0)
                .timeout(),
        ),
        (
            "server-reset-after-request",
            j().connect().request(Some(3)).wait(2.0).rst(S),
        ),
        (
            "server-closed-after-request",
            j().connect().request(Some(3)).wait(2.0).fin(S),
        ),
        (
            "neg-failure-7-open",
            j().connect().request(Some(1)).refuse(7),
        ),
        (
            "security-layer-mismatch-rdp",
            j().connect().request(Some(3)).select(0).wait(1.0).fin(C),
        ),
        (
            "security-layer-mismatch-xrdp-ssl",
            j().connect().request(Some(2)).select(1).wait(1.0).rst(C),
        ),
        (
            "security-layer-mismatch-xrdp-legacy",
            j().connect()
                .request(None)
                .legacy_confirm()
                .mcs(S, &[0x21, 0x80])
                .fin(S),
        ),
        (
            "legacy-no-negotiation",
            j().connect().request(Some(1)).legacy_confirm().fin(C),
        ),
        (
            "tls-version-mismatch",
            j().connect()
                .request(Some(1))
                .select(1)
                .client_hello()
                .alert(S, 70)
                .fin(S),
        ),
        (
            "tls-no-shared-cipher",
            j().connect()
                .request(Some(1))
                .select(1)
                .client_hello()
                .alert(S, 40)
                .fin(S),
        ),
        (
            "tls-server-abort-fin",
            // The classic: TLS selected, ClientHello sent, the server hangs up without a word.
            j().connect()
                .request(Some(3))
                .select(1)
                .client_hello()
                .wait(2.0)
                .fin(S),
        ),
        (
            "tls-server-abort-rst",
            j().connect()
                .request(Some(3))
                .select(1)
                .client_hello()
                .rst(S),
        ),
        (
            "client-aborted-self-signed",
            // zeek__rdp-no-cookie-mstshash.pcap: the handshake completes, the client resets at once.
            nla().wait(0.3).rst(C),
        ),
        (
            "client-stops-mid-credssp",
            // zeek__rdp-to-ssl.pcap stream 0: C S C S then the client's FIN, without credentials.
            nla().app(C, 80).app(S, 200).app(C, 600).app(S, 60).fin(C),
        ),
        (
            "cert-expired",
            // The same server seen on 2020-01-01.
            Script::new(1_577_836_800)
                .connect()
                .request(Some(3))
                .select(2)
                .tls12()
                .rst(C),
        ),
        (
            "cert-not-yet-valid",
            // Seen on 2019-01-01.
            Script::new(1_546_300_800)
                .connect()
                .request(Some(3))
                .select(2)
                .tls12()
                .rst(C),
        ),
        (
            "cert-expiring-soon",
            // Valid, but 17 days left on 2019-09-01.
            Script::new(1_567_296_000)
                .connect()
                .request(Some(1))
                .select(1)
                .tls12()
                .app(C, 400)
                .app(S, 300),
        ),
        ("cert-name-mismatch", nla().rst(C)),
        (
            "cert-weak",
            certificate_script(&[&fixture_bin("certs/rdp-x509-servr.der")], 1_425_000_000),
        ),
        (
            "cert-untrusted",
            certificate_script(
                &[&fixture_bin("certs/tls-expired-spidh.der")],
                1_300_000_000,
            ),
        ),
        (
            "cert-wrong-usage",
            certificate_script(
                &[&fixture_bin("certs/tls-expired-comodo-ca.der")],
                1_300_000_000,
            ),
        ),
        (
            "nla-auth-failed",
            // ndpi__rdp_over_tls.pcap: NEGOTIATE, CHALLENGE, AUTHENTICATE, then an encrypted alert.
            nla()
                .app(C, 81)
                .app(S, 215)
                .app(C, 633)
                .encrypted_alert(S)
                .app(C, 61)
                .rst(C),
        ),
        ("nla-server-hangs-up", nla().app(C, 81).fin(S)),
        (
            "early-user-auth-denied",
            j().connect()
                .request(Some(0xb))
                .select(8)
                .tls12()
                .app(C, 81)
                .app(S, 215)
                .app(C, 633)
                .app(S, 60)
                .app(C, 400)
                .app(S, 33)
                .fin(S),
        ),
        ("standard-security-established", standard_security()),
        (
            "server-denied-connection",
            j().connect()
                .request(Some(0))
                .select(0)
                .mcs(S, &set_error_info(7))
                .fin(S),
        ),
        (
            "server-disconnected-set-error-info",
            j().connect()
                .request(Some(0))
                .select(0)
                .mcs(S, &set_error_info(9))
                .fin(S),
        ),
        (
            "server-disconnected-in-secure-channel",
            j().connect()
                .request(Some(1))
                .select(1)
                .tls12()
                .app(C, 400)
                .fin(S),
        ),
        (
            "tls-legacy-version-and-path-degraded",
            j().connect()
                .request(Some(1))
                .wait(1500.0)
                .select(1)
                .client_hello()
                .bytes(
                    S,
                    server_flight_with(&[&fixture_bin("certs/ndpi-office-win10-vm.der")], 0x0301),
                )
                .client_finish()
                .server_finish()
                .app(C, 400)
                .app(S, 300),
        ),
        (
            "healthy-tls",
            j().connect()
                .request(Some(0xb))
                .select(1)
                .tls12()
                .app(C, 400)
                .app(S, 300),
        ),
        (
            "capture-end-mid-setup",
            // ndpi__rdp.pcap: HYBRID_EX, CredSSP under way when the capture ends.
            j().connect()
                .request(Some(0xb))
                .select(8)
                .tls12()
                .app(C, 81)
                .app(S, 215)
                .fact(TransportFact::CaptureEnd),
        ),
        (
            "name-from-context",
            j().connect()
                .request(Some(1))
                .select(1)
                .bytes(C, client_hello_without_sni())
                .server_flight()
                .rst(C),
        ),
    ];
    for code in NEG_FAILURE_CODES {
        let name: &'static str = Box::leak(format!("neg-failure-{code:#x}").into_boxed_str());
        all.push((name, j().connect().request(Some(1)).refuse(code).fin(S)));
    }
    all
}

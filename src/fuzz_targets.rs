//! One function per parser entry point, shared by the cargo-fuzz targets (`fuzz/`), the no-panic
//! property tests and the replay of fuzz artifacts and seeds (`tests/fuzz_replay.rs`). Each feeds the
//! bytes to its parser and checks what must hold for any input: no panic, and what is left over is a
//! suffix of the input.

use crate::wire;

/// A fuzz entry point: takes any bytes, panics only when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target, by the name its cargo-fuzz binary, seed folder and artifact folder carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("tpkt", tpkt),
    ("x224", x224),
    ("rdp_neg", rdp_neg),
    ("decode", decode),
    ("hexinput", hexinput),
    ("tls_record", tls_record),
    ("tls_handshake", tls_handshake),
    ("sslv2", sslv2),
    ("cert", cert),
    ("credssp", credssp),
    ("ntlm", ntlm),
    ("early_auth", early_auth),
    ("mcs", mcs),
];

/// Asserts that a parser's leftover is the tail of its input (fuzzing wants a panic when it is not).
#[allow(clippy::panic)]
fn check_rest<T>(input: &[u8], r: &wire::WireResult<'_, T>) {
    if let Ok((rest, _)) = r {
        if !input.ends_with(rest) || rest.len() > input.len() {
            panic!("parser returned a rest that is not a suffix of its input");
        }
    }
}

pub fn tpkt(data: &[u8]) {
    check_rest(data, &wire::tpkt::parse_tpkt(data));
    let _ = wire::tpkt::tpkt_frame(data);
}

pub fn x224(data: &[u8]) {
    check_rest(data, &wire::x224::parse_x224_packet(data));
    let _ = wire::x224::parse_tpdu(data);
}

pub fn rdp_neg(data: &[u8]) {
    check_rest(data, &wire::rdp_neg::parse_neg_request(data));
    check_rest(data, &wire::rdp_neg::parse_neg_data(data));
    check_rest(data, &wire::rdp_neg::parse_correlation_info(data));
}

/// The whole `decode` command on raw bytes, output thrown away.
pub fn decode(data: &[u8]) {
    let _ = crate::decode::decode(data, crate::decode::Layer::Auto, &mut std::io::sink());
}

pub fn hexinput(data: &[u8]) {
    let _ = crate::hexinput::parse_hex_input(&String::from_utf8_lossy(data));
}

/// A TLS record, and its fragment as an alert and as a ChangeCipherSpec.
pub fn tls_record(data: &[u8]) {
    let r = wire::tls::parse_tls_record(data);
    check_rest(data, &r);
    let _ = wire::tls::tls_frame(data);
    let fragment = match r {
        Ok((_, record)) => record.fragment,
        Err(_) => data,
    };
    check_rest(fragment, &wire::tls::parse_alert(fragment));
    check_rest(fragment, &wire::tls::parse_change_cipher_spec(fragment));
}

/// The bytes as a handshake stream (message after message while the parser makes progress), then as
/// the body of each handshake message with a parser of its own.
pub fn tls_handshake(data: &[u8]) {
    let mut stream = data;
    loop {
        let r = wire::tls::parse_handshake(stream);
        check_rest(stream, &r);
        match r {
            Ok((rest, _)) if rest.len() < stream.len() => stream = rest,
            _ => break,
        }
    }
    check_rest(data, &wire::tls::parse_client_hello(data));
    check_rest(data, &wire::tls::parse_server_hello(data));
    check_rest(data, &wire::tls::parse_certificate(data));
    check_rest(data, &wire::tls::parse_certificate_request(data));
}

pub fn sslv2(data: &[u8]) {
    check_rest(data, &wire::tls::parse_sslv2(data));
}

/// A DER certificate summarized, and every question asked of the summary.
pub fn cert(data: &[u8]) {
    if let Ok(summary) = wire::cert::summarize_certificate(data) {
        let _ = summary.validity_at(0);
        let _ = summary.matches_name("a.example");
        let _ = summary.weak_key();
        let _ = summary.weak_signature();
        let _ = summary.server_auth_allowed();
    }
}

/// A TSRequest; one that parses must survive encoding and parsing again unchanged.
#[allow(clippy::panic)]
pub fn credssp(data: &[u8]) {
    let r = wire::credssp::parse_ts_request(data);
    check_rest(data, &r);
    if let Ok((_, request)) = r {
        let encoded = wire::credssp::encode_ts_request(&request);
        match wire::credssp::parse_ts_request(&encoded) {
            Ok((rest, again)) if rest.is_empty() && again == request => {}
            Ok((rest, again)) => panic!(
                "TSRequest changed in an encode/parse round trip: {request:?} became {again:?} \
                 ({} bytes left over)",
                rest.len()
            ),
            Err(e) => panic!("an encoded TSRequest does not parse: {e:?} ({request:?})"),
        }
    }
}

pub fn ntlm(data: &[u8]) {
    check_rest(data, &wire::ntlm::parse_ntlm_message_type(data));
    check_rest(data, &wire::ntlm::parse_challenge(data));
    check_rest(data, &wire::ntlm::parse_negotiate(data));
}

pub fn early_auth(data: &[u8]) {
    check_rest(data, &wire::early_auth::parse_early_auth_result(data));
}

/// An MCS PDU, and the bytes as slow-path user data with and without a security header.
pub fn mcs(data: &[u8]) {
    check_rest(data, &wire::mcs::parse_mcs(data));
    for security_header_present in [false, true] {
        check_rest(
            data,
            &wire::mcs::parse_slow_path(data, security_header_present),
        );
        check_rest(
            data,
            &wire::mcs::parse_set_error_info(data, security_header_present),
        );
    }
}

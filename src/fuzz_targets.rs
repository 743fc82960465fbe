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

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
    ("packet", packet),
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

/// Packet decoding. The first byte picks the link type, the rest is one frame, decoded three times by
/// one decoder (the same fragment again, then after the fragment timeout). The rest is also read as a
/// sequence of frames, each prefixed by a one-byte length, fed to a second decoder with timestamps a
/// quarter of the timeout apart, so fragments meet, complete and expire.
pub fn packet(data: &[u8]) {
    use crate::replay::packet::{Decoder, LinkType, FRAGMENT_TIMEOUT_US};
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link = LinkType::ALL[usize::from(pick) % LinkType::ALL.len()];
    let mut d = Decoder::new();
    for ts in [0, 1, FRAGMENT_TIMEOUT_US + 2] {
        decode_packet(&mut d, link, frame, ts);
    }
    let mut d = Decoder::new();
    let mut rest = frame;
    let mut ts = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let (one, tail) = tail.split_at(usize::from(len).min(tail.len()));
        decode_packet(&mut d, link, one, ts);
        rest = tail;
        ts += FRAGMENT_TIMEOUT_US / 4;
    }
}

/// Decodes one frame and checks what must hold for any input: a TCP payload is no longer than its frame
/// or a reassembled datagram, and reassembly stays within its limits.
#[allow(clippy::panic)]
fn decode_packet(
    d: &mut crate::replay::packet::Decoder,
    link: crate::replay::packet::LinkType,
    frame: &[u8],
    ts: i64,
) {
    use crate::replay::packet::{Decoded, MAX_FRAGMENT_BYTES, MAX_FRAGMENT_SETS};
    if let Ok(Decoded::Tcp(t)) = d.decode(link, frame, ts) {
        if t.payload.len() > frame.len().max(MAX_FRAGMENT_BYTES) {
            panic!("a TCP payload longer than its frame and than any datagram");
        }
    }
    let s = d.stats();
    if s.sets_pending > MAX_FRAGMENT_SETS
        || s.bytes_pending > MAX_FRAGMENT_SETS * MAX_FRAGMENT_BYTES
    {
        panic!("fragment reassembly past its limits");
    }
}

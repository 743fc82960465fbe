//! The floors for `benches/compare.sh`: a bare read loop that only counts packets and captured bytes,
//! with libpcap (the `pcap` crate; what `tcpdump -r` does) or, with `--parser`, with `pcap-parser` (as
//! `rdpdiag replay` reads files: the same 1 MiB buffer).
//!
//! `cargo run --release --example pcap_count -- [--parser] FILE`

use pcap_parser::{PcapBlockOwned, PcapError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (parser, path) = match args.as_slice() {
        [flag, path] if flag == "--parser" => (true, path.clone()),
        [path] => (false, path.clone()),
        _ => return Err("usage: pcap_count [--parser] FILE (pcap or pcapng)".into()),
    };
    let (packets, bytes) = if parser {
        count_parser(&path)?
    } else {
        count_libpcap(&path)?
    };
    println!("{packets} packets, {bytes} bytes");
    Ok(())
}

fn count_libpcap(path: &str) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let mut cap = pcap::Capture::from_file(path)?;
    let (mut packets, mut bytes) = (0u64, 0u64);
    loop {
        match cap.next_packet() {
            Ok(p) => {
                packets += 1;
                bytes += u64::from(p.header.caplen);
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => return Err(format!("{path}: packet {}: {e}", packets + 1).into()),
        }
    }
    Ok((packets, bytes))
}

fn count_parser(path: &str) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let file = std::fs::File::open(path)?;
    let mut reader = pcap_parser::create_reader(1 << 20, file).map_err(|e| format!("{e:?}"))?;
    let (mut packets, mut bytes) = (0u64, 0u64);
    loop {
        match reader.next() {
            Ok((size, block)) => {
                let len = match block {
                    PcapBlockOwned::Legacy(b) => Some(b.caplen),
                    PcapBlockOwned::NG(pcap_parser::Block::EnhancedPacket(b)) => Some(b.caplen),
                    PcapBlockOwned::NG(pcap_parser::Block::SimplePacket(b)) => Some(b.origlen),
                    _ => None,
                };
                if let Some(len) = len {
                    packets += 1;
                    bytes += u64::from(len);
                }
                reader.consume(size);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().map_err(|e| format!("{e:?}"))?,
            Err(e) => return Err(format!("{path}: packet {}: {e:?}", packets + 1).into()),
        }
    }
    Ok((packets, bytes))
}

//! The floor for `benches/compare.sh`: a bare libpcap read loop (the `pcap` crate, as `rdpdiag replay`
//! reads files) that only counts packets and captured bytes.
//!
//! `cargo run --release --example pcap_count -- FILE`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: pcap_count FILE (pcap or pcapng)")?;
    let mut cap = pcap::Capture::from_file(&path)?;
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
    println!("{packets} packets, {bytes} bytes");
    Ok(())
}

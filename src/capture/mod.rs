//! Writing our own traffic as a capture: classic pcap files (`pcap_writer`) of TCP conversations built
//! from the bytes each side sent (`conversation`). The prober uses it for `--capture FILE.pcap` (no
//! capture rights needed: the frames are made, not sniffed), and tests use it to replay scripted
//! conversations through the same driver as real captures.
//!
//! The frame builder is pure: no I/O, no clock (every frame takes its time). [`PcapWriter`] writes to any
//! `io::Write`.
//!
//! ```
//! use rdpdiag::capture::{PcapWriter, TcpConversation};
//! use rdpdiag::session::Direction;
//!
//! let mut tcp = TcpConversation::new(
//!     "127.0.0.1:50000".parse().unwrap(),
//!     "127.0.0.1:3389".parse().unwrap(),
//!     1000,
//!     9000,
//! );
//! let mut frames = tcp.handshake(0, 150);
//! frames.extend(tcp.data(400, Direction::ClientToServer, b"\x03\x00\x00\x0b\x06\xe0\x00\x00\x00\x00\x00"));
//! frames.push(tcp.fin(600, Direction::ServerToClient));
//! let mut pcap = PcapWriter::new(Vec::new()).unwrap();
//! pcap.frames(&frames).unwrap();
//! let file: Vec<u8> = pcap.into_inner().unwrap();
//! assert_eq!(file.len(), 24 + frames.iter().map(|f| 16 + f.bytes.len()).sum::<usize>());
//! ```

mod conversation;
mod pcap_writer;

pub use conversation::{
    Frame, TcpConversation, CLIENT_MAC, DEFAULT_MSS, MAX_MSS, SERVER_MAC, WINDOW,
};
pub use pcap_writer::{PcapWriter, LINKTYPE_ETHERNET, SNAPLEN};

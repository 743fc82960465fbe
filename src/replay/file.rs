//! Capture files and standard input, read with rusticata's `pcap-parser`: classic pcap (micro- and
//! nanosecond timestamps, either byte order) and pcapng with any number of sections and interfaces, each
//! interface with its own link type, timestamp resolution and offset (what `dumpcap -i eth0 -i lo`
//! writes, which libpcap refuses). A `--filter` is compiled by libpcap once per link type and matched
//! here, packet by packet (`pcap_offline_filter`); packets it rejects are skipped but keep their number,
//! so packet numbers are the file's, as Wireshark shows them.

use std::io::Read;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};

use super::packet::LinkType;

/// The read buffer; grown for a block larger than it, up to [`MAX_BLOCK`].
pub const READ_BUFFER: usize = 1 << 20;
/// The largest block (one packet with its headers) read: larger is an error, not an allocation.
pub const MAX_BLOCK: usize = 16 << 20;

/// Why a packet is not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Its interface has a link type rdpdiag does not decode (or was never described).
    Unsupported,
    /// The `--filter` rejected it.
    Filtered,
}

/// One packet of a file: when it was captured, its bytes, its length on the wire and how to decode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilePacket<'a> {
    pub ts_us: i64,
    pub data: &'a [u8],
    pub wire_len: u32,
    pub link: Result<LinkType, Skip>,
}

/// Why a file cannot be read (further).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// Unreadable or malformed, one line without the file's name.
    Read(String),
    /// The filter does not compile for a link type of the file.
    Filter(String),
    /// No packet of the file has a link type rdpdiag decodes: the first such type and its name.
    LinkType(i32, String),
}

/// What reading gave.
#[derive(Debug)]
pub enum Next<'a> {
    Packet(FilePacket<'a>),
    End,
    Failed(FileError),
}

/// An interface of the current section (or the one link of a classic pcap file).
struct Interface {
    link: Result<LinkType, i32>,
    /// Timestamp units per second, and the offset in seconds added to every timestamp.
    units_per_sec: u64,
    offset_s: i64,
    /// The filter compiled for this interface's link type.
    bpf: Option<pcap::BpfProgram>,
}

/// A packet found in the read buffer, before its bytes are borrowed.
struct Found {
    ts_us: Option<i64>,
    wire_len: u32,
    /// Where its bytes sit in the reader's data, and how many it has.
    start: usize,
    len: usize,
    interface: usize,
}

/// A capture file (or standard input) being read.
pub struct FileReader {
    inner: Box<dyn PcapReaderIterator + Send>,
    interfaces: Vec<Interface>,
    /// Bytes of the last block handed out, consumed at the next read.
    pending: usize,
    /// The BPF filter, compiled for each interface as it is described.
    filter: Option<String>,
    /// The time of the last packet (a simple packet block carries none).
    last_ts: i64,
    /// A classic pcap file (one link type, in its header).
    classic: bool,
    /// The first link type seen that is not decoded, packets of such interfaces and the others.
    pub unsupported: Option<i32>,
    pub unsupported_packets: u64,
    pub supported_packets: u64,
    pub filtered_out: u64,
    /// Link types of the interfaces described, in order, without repeats.
    pub link_types: Vec<i32>,
    pub interfaces_seen: u64,
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("interfaces", &self.interfaces.len())
            .field("link_types", &self.link_types)
            .finish_non_exhaustive()
    }
}

/// libpcap's name for a link type.
pub fn link_name(dlt: i32) -> String {
    pcap::Linktype(dlt)
        .get_name()
        .unwrap_or_else(|_| "unknown".to_string())
}

fn describe(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::HeaderNotRecognized => {
            "not a pcap or pcapng capture (its header is neither)".to_string()
        }
        PcapError::ReadError => "read error".to_string(),
        PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
            "truncated: the file ends inside a packet".to_string()
        }
        PcapError::BufferTooSmall => format!("a block larger than {MAX_BLOCK} bytes"),
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("malformed block ({})", kind.description())
        }
        PcapError::Eof => "empty file".to_string(),
    }
}

/// Microseconds from a timestamp of `units` at `units_per_sec`, plus `offset_s` seconds.
fn micros(units: u64, units_per_sec: u64, offset_s: i64) -> i64 {
    // Microseconds and nanoseconds (nearly every file) without a 128-bit division per packet.
    let us = match units_per_sec {
        1_000_000 => u128::from(units),
        1_000_000_000 => u128::from(units / 1_000),
        per_sec => u128::from(units) * 1_000_000 / u128::from(per_sec.max(1)),
    };
    i64::try_from(us)
        .unwrap_or(i64::MAX)
        .saturating_add(offset_s.saturating_mul(1_000_000))
}

impl FileReader {
    /// Starts reading `input`, with `filter` (BPF syntax) applied to every packet.
    pub fn new(input: Box<dyn Read + Send>, filter: Option<String>) -> Result<Self, String> {
        let input = Primed::new(input).map_err(|e| format!("read error: {e}"))?;
        let inner = pcap_parser::create_reader(READ_BUFFER, input).map_err(|e| match e {
            PcapError::Eof => "empty file".to_string(),
            e => describe(&e),
        })?;
        Ok(Self {
            inner,
            interfaces: Vec::new(),
            pending: 0,
            filter,
            last_ts: 0,
            classic: false,
            unsupported: None,
            unsupported_packets: 0,
            supported_packets: 0,
            filtered_out: 0,
            link_types: Vec::new(),
            interfaces_seen: 0,
        })
    }

    /// The `--filter` applied.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// Notes for the summary: interfaces of several link types, packets not decoded for their link
    /// type, packets the filter rejected.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.link_types.len() > 1 {
            let names: Vec<String> = self
                .link_types
                .iter()
                .map(|&dlt| match LinkType::from_dlt(dlt) {
                    Some(link) => link.name().to_string(),
                    None => format!("{dlt} ({})", link_name(dlt)),
                })
                .collect();
            notes.push(format!(
                "{} interfaces of {} link types: {}",
                self.interfaces_seen,
                self.link_types.len(),
                names.join(", ")
            ));
        }
        if let (Some(dlt), true) = (self.unsupported, self.unsupported_packets > 0) {
            notes.push(format!(
                "{} packets on interfaces of a link type not decoded (first: {dlt}, {}) were skipped",
                self.unsupported_packets,
                link_name(dlt)
            ));
        }
        notes
    }

    /// A new interface of link type `dlt`; for a classic file (or a filter that does not compile for
    /// it) what cannot be read.
    fn describe_interface(
        &mut self,
        dlt: i32,
        units_per_sec: u64,
        offset_s: i64,
    ) -> Result<(), FileError> {
        self.interfaces_seen += 1;
        if !self.link_types.contains(&dlt) {
            self.link_types.push(dlt);
        }
        let link = LinkType::from_dlt(dlt).ok_or(dlt);
        if link.is_err() {
            self.unsupported.get_or_insert(dlt);
            if self.classic {
                return Err(FileError::LinkType(dlt, link_name(dlt)));
            }
        }
        let bpf = match (&self.filter, link) {
            (Some(filter), Ok(_)) => Some(
                pcap::Capture::dead(pcap::Linktype(dlt))
                    .and_then(|c| c.compile(filter, true))
                    .map_err(|e| FileError::Filter(e.to_string()))?,
            ),
            _ => None,
        };
        self.interfaces.push(Interface {
            link,
            units_per_sec,
            offset_s,
            bpf,
        });
        Ok(())
    }

    /// The next packet. Blocks other than packets (section and interface descriptions, statistics,
    /// names, custom blocks) are read on the way.
    pub fn next(&mut self) -> Next<'_> {
        let found = match self.find() {
            Ok(Some(found)) => found,
            Ok(None) => {
                return match self.unsupported {
                    Some(dlt) if self.supported_packets == 0 && self.unsupported_packets > 0 => {
                        Next::Failed(FileError::LinkType(dlt, link_name(dlt)))
                    }
                    _ => Next::End,
                }
            }
            Err(e) => return Next::Failed(e),
        };
        let ts_us = found.ts_us.unwrap_or(self.last_ts);
        self.last_ts = ts_us;
        let data = self
            .inner
            .data()
            .get(found.start..found.start.saturating_add(found.len))
            .unwrap_or_default();
        let link = match self.interfaces.get(found.interface) {
            Some(Interface { link: Ok(link), bpf, .. }) => {
                self.supported_packets += 1;
                match bpf {
                    Some(bpf) if !bpf.filter(data) => {
                        self.filtered_out += 1;
                        Err(Skip::Filtered)
                    }
                    _ => Ok(*link),
                }
            }
            _ => {
                self.unsupported_packets += 1;
                Err(Skip::Unsupported)
            }
        };
        Next::Packet(FilePacket {
            ts_us,
            data,
            wire_len: found.wire_len,
            link,
        })
    }

    /// Reads blocks up to the next packet: where it sits in the buffer, or `None` at the end. Blocks
    /// are consumed without moving the buffer's data; only a refill moves the few bytes left to its start.
    fn find(&mut self) -> Result<Option<Found>, FileError> {
        self.inner.consume_noshift(std::mem::take(&mut self.pending));
        loop {
            let base = self.inner.data().as_ptr() as usize;
            let (size, what) = match self.inner.next() {
                Ok((size, block)) => (size, kind(block, base, &self.interfaces)),
                Err(PcapError::Eof) => return Ok(None),
                Err(PcapError::Incomplete(_)) => {
                    if self.inner.reader_exhausted() {
                        return Err(FileError::Read(describe(&PcapError::UnexpectedEof)));
                    }
                    self.refill()?;
                    continue;
                }
                Err(PcapError::BufferTooSmall) => {
                    self.grow()?;
                    continue;
                }
                Err(e) => return Err(FileError::Read(describe(&e))),
            };
            match what {
                Kind::Packet(found) => {
                    self.pending = size;
                    return Ok(Some(found));
                }
                Kind::Interface {
                    dlt,
                    units_per_sec,
                    offset_s,
                    classic,
                } => {
                    self.inner.consume_noshift(size);
                    if classic {
                        self.classic = true;
                        self.interfaces.clear();
                    }
                    self.describe_interface(dlt, units_per_sec, offset_s)?;
                }
                Kind::Section => {
                    self.inner.consume_noshift(size);
                    self.interfaces.clear();
                }
                Kind::Other => self.inner.consume_noshift(size),
            }
        }
    }

    fn refill(&mut self) -> Result<(), FileError> {
        self.inner
            .refill()
            .map_err(|e| FileError::Read(describe(&e)))
    }

    fn grow(&mut self) -> Result<(), FileError> {
        let now = self.inner.data().len().max(READ_BUFFER);
        if now >= MAX_BLOCK || !self.inner.grow(now.saturating_mul(2).min(MAX_BLOCK)) {
            return Err(FileError::Read(describe(&PcapError::BufferTooSmall)));
        }
        self.refill()
    }
}

/// What a block is, with the owned facts the reader keeps; a packet's bytes as a range of the
/// buffer starting at address `base`.
fn kind(block: PcapBlockOwned<'_>, base: usize, interfaces: &[Interface]) -> Kind {
        let offset = |data: &[u8]| (data.as_ptr() as usize).wrapping_sub(base);
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                let units = if h.is_nanosecond_precision() {
                    1_000_000_000
                } else {
                    1_000_000
                };
                // libpcap ignores `thiszone` (always 0 in practice); so does this reader.
                Kind::Interface {
                    dlt: h.network.0,
                    units_per_sec: units,
                    offset_s: 0,
                    classic: true,
                }
            }
            PcapBlockOwned::Legacy(b) => {
                let (units_per_sec, offset_s) = interfaces
                    .first()
                    .map_or((1_000_000, 0), |i| (i.units_per_sec, i.offset_s));
                let units = u64::from(b.ts_sec) * units_per_sec + u64::from(b.ts_usec);
                let len = usize::try_from(b.caplen).unwrap_or(usize::MAX).min(b.data.len());
                Kind::Packet(Found {
                    ts_us: Some(micros(units, units_per_sec, offset_s)),
                    wire_len: b.origlen,
                    start: offset(b.data),
                    len,
                    interface: 0,
                })
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => Kind::Section,
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => Kind::Interface {
                dlt: idb.linktype.0,
                // An invalid resolution is read as the default, microseconds.
                units_per_sec: idb.ts_resolution().unwrap_or(1_000_000),
                offset_s: idb.ts_offset(),
                classic: false,
            },
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let interface = usize::try_from(epb.if_id).unwrap_or(usize::MAX);
                let (units_per_sec, offset_s) = interfaces
                    .get(interface)
                    .map_or((1_000_000, 0), |i| (i.units_per_sec, i.offset_s));
                let units = u64::from(epb.ts_high) << 32 | u64::from(epb.ts_low);
                let len = usize::try_from(epb.caplen)
                    .unwrap_or(usize::MAX)
                    .min(epb.data.len());
                Kind::Packet(Found {
                    ts_us: Some(micros(units, units_per_sec, offset_s)),
                    wire_len: epb.origlen,
                    start: offset(epb.data),
                    len,
                    interface,
                })
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => Kind::Packet(Found {
                ts_us: None,
                wire_len: spb.origlen,
                start: offset(spb.data),
                len: usize::try_from(spb.origlen)
                    .unwrap_or(usize::MAX)
                    .min(spb.data.len()),
                interface: 0,
            }),
            PcapBlockOwned::NG(_) => Kind::Other,
        }
}


/// The input with its file header read ahead. `pcap_parser::create_reader` reads once to recognise the
/// format, and its readers read once more when they are made: on a pipe that second read would wait
/// for the next packets (or the end), so no packet already there would be analysed before them. Here
/// the first read gets the whole header (and whatever else came with it), the second nothing, and the
/// next ones go to the input.
struct Primed {
    head: Vec<u8>,
    reads: u8,
    input: Box<dyn Read + Send>,
}

/// The most bytes read ahead for a pcapng section header (with its options).
const MAX_HEAD: usize = 64 * 1024;

impl Primed {
    fn new(mut input: Box<dyn Read + Send>) -> std::io::Result<Self> {
        let mut head = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if head.len() >= header_len(&head).min(MAX_HEAD) {
                break;
            }
            let n = match input.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            head.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
        Ok(Self {
            head,
            reads: 0,
            input,
        })
    }
}

/// How many bytes the file header needs, as far as `head` tells: a classic pcap header is 24 bytes, a
/// pcapng section header block says its length.
fn header_len(head: &[u8]) -> usize {
    match head {
        [0x0a, 0x0d, 0x0d, 0x0a, l0, l1, l2, l3, m0, ..] => {
            let len = if *m0 == 0x4d {
                u32::from_le_bytes([*l0, *l1, *l2, *l3])
            } else {
                u32::from_be_bytes([*l0, *l1, *l2, *l3])
            };
            usize::try_from(len).unwrap_or(MAX_HEAD).max(28)
        }
        [0x0a, 0x0d, 0x0d, 0x0a, ..] => 12,
        _ => 24,
    }
}

impl Read for Primed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads = self.reads.saturating_add(1);
        match self.reads {
            1 => {
                let n = self.head.len().min(buf.len());
                let rest = self.head.split_off(n);
                if let Some(dst) = buf.get_mut(..n) {
                    dst.copy_from_slice(&self.head);
                }
                self.head = rest;
                if !self.head.is_empty() {
                    // Not all of it fitted: serve the rest before reading more.
                    self.reads = 0;
                }
                Ok(n)
            }
            2 => Ok(0),
            _ => self.input.read(buf),
        }
    }
}

/// A block, as far as the reader cares.
enum Kind {
    Packet(Found),
    Interface {
        dlt: i32,
        units_per_sec: u64,
        offset_s: i64,
        /// The header of a classic pcap file.
        classic: bool,
    },
    Section,
    Other,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    /// A classic pcap file (microseconds, Ethernet) holding one packet per length in `lens`.
    fn pcap(lens: &[usize]) -> Vec<u8> {
        let mut f = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        f.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        f.extend_from_slice(&u32::MAX.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        for (i, &len) in lens.iter().enumerate() {
            let len32 = u32::try_from(len).unwrap();
            f.extend_from_slice(&u32::try_from(i).unwrap().to_le_bytes());
            f.extend_from_slice(&7u32.to_le_bytes());
            f.extend_from_slice(&len32.to_le_bytes());
            f.extend_from_slice(&len32.to_le_bytes());
            f.extend(std::iter::repeat_n(0xabu8, len));
        }
        f
    }

    fn read_all(bytes: Vec<u8>) -> Result<Vec<(i64, usize)>, FileError> {
        let mut r = FileReader::new(Box::new(std::io::Cursor::new(bytes)), None).unwrap();
        let mut got = Vec::new();
        loop {
            match r.next() {
                Next::Packet(p) => got.push((p.ts_us, p.data.len())),
                Next::End => return Ok(got),
                Next::Failed(e) => return Err(e),
            }
        }
    }

    #[test]
    fn blocks_larger_than_the_buffer_are_read_up_to_the_limit() {
        let lens = [60, 3 * READ_BUFFER / 2, 60, READ_BUFFER - 100, 60];
        let got = read_all(pcap(&lens)).unwrap();
        let want: Vec<(i64, usize)> = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| (i64::try_from(i).unwrap() * 1_000_000 + 7, l))
            .collect();
        assert_eq!(got, want);
        match read_all(pcap(&[60, MAX_BLOCK + 1])) {
            Err(FileError::Read(e)) => assert!(e.contains("larger than"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_file_cut_inside_a_packet_says_so() {
        let mut bytes = pcap(&[100, 100]);
        bytes.truncate(bytes.len() - 10);
        match read_all(bytes) {
            Err(FileError::Read(e)) => assert!(e.contains("truncated"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}

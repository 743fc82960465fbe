//! Classic pcap files (<https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html>): a 24-byte file
//! header (magic `a1b2c3d4` little-endian, version 2.4, microsecond timestamps, snaplen, link type) and
//! one 16-byte record header per frame (seconds, microseconds, captured length, original length).

use std::io::{self, Write};

use super::Frame;

/// LINKTYPE_ETHERNET: every frame starts with a 14-byte Ethernet II header.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// The most bytes of one frame written; longer frames are cut and keep their original length.
pub const SNAPLEN: u32 = 65_535;

const MAGIC_MICROSECONDS: u32 = 0xa1b2_c3d4;

/// A pcap file being written: the file header on [`PcapWriter::new`], then one record per frame.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    frames: u64,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header (Ethernet, microseconds, snaplen [`SNAPLEN`]).
    pub fn new(out: W) -> io::Result<Self> {
        Self::with_snaplen(out, SNAPLEN)
    }

    /// Writes the file header with snapshot length `snaplen` (at least 1): each frame keeps at most
    /// that many bytes and its original length, as `tcpdump -s SNAPLEN` writes them.
    pub fn with_snaplen(mut out: W, snaplen: u32) -> io::Result<Self> {
        let snaplen = snaplen.clamp(1, SNAPLEN);
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&MAGIC_MICROSECONDS.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes()); // version_major
        header.extend_from_slice(&4u16.to_le_bytes()); // version_minor
        header.extend_from_slice(&0i32.to_le_bytes()); // thiszone (always 0)
        header.extend_from_slice(&0u32.to_le_bytes()); // sigfigs (always 0)
        header.extend_from_slice(&snaplen.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self {
            out,
            frames: 0,
            snaplen,
        })
    }

    /// One frame captured at `ts_us` (microseconds since the Unix epoch, 1970 to 2106).
    pub fn frame(&mut self, ts_us: i64, frame: &[u8]) -> io::Result<()> {
        let secs = u32::try_from(ts_us.div_euclid(1_000_000)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("pcap: timestamp {ts_us} us is outside 1970..2106"),
            )
        })?;
        let micros = u32::try_from(ts_us.rem_euclid(1_000_000)).unwrap_or(0);
        let orig_len = u32::try_from(frame.len()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("pcap: a frame of {} bytes", frame.len()),
            )
        })?;
        let incl_len = orig_len.min(self.snaplen);
        let kept = frame
            .get(..usize::try_from(incl_len).unwrap_or(usize::MAX))
            .unwrap_or(frame);
        let mut record = Vec::with_capacity(16);
        record.extend_from_slice(&secs.to_le_bytes());
        record.extend_from_slice(&micros.to_le_bytes());
        record.extend_from_slice(&incl_len.to_le_bytes());
        record.extend_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(kept)?;
        self.frames += 1;
        Ok(())
    }

    /// Frames in the order given (a capture's order is the order written, whatever the timestamps).
    pub fn frames(&mut self, frames: &[Frame]) -> io::Result<()> {
        frames
            .iter()
            .try_for_each(|f| self.frame(f.ts_us, &f.bytes))
    }

    /// How many frames were written.
    pub fn written(&self) -> u64 {
        self.frames
    }

    /// Flushes and hands back the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn file_header_then_records() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.frame(1_559_347_200_000_042, &[1, 2, 3]).unwrap();
        let b = w.into_inner().unwrap();
        assert_eq!(
            b,
            [
                &[0xd4, 0xc3, 0xb2, 0xa1][..], // magic, little-endian
                &[2, 0, 4, 0],                 // version 2.4
                &[0; 8],                       // thiszone, sigfigs
                &[0xff, 0xff, 0, 0],           // snaplen 65535
                &[1, 0, 0, 0],                 // LINKTYPE_ETHERNET
                &1_559_347_200u32.to_le_bytes(),
                &[42, 0, 0, 0], // microseconds
                &[3, 0, 0, 0],  // incl_len
                &[3, 0, 0, 0],  // orig_len
                &[1, 2, 3],
            ]
            .concat()
        );
    }

    #[test]
    fn frames_beyond_the_snaplen_are_cut_and_timestamps_checked() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.frame(0, &vec![7; 70_000]).unwrap();
        assert!(w.frame(-1, &[]).is_err());
        assert_eq!(w.written(), 1);
        let b = w.into_inner().unwrap();
        assert_eq!(b[32..36], 65_535u32.to_le_bytes());
        assert_eq!(b[36..40], 70_000u32.to_le_bytes());
        assert_eq!(b.len(), 24 + 16 + 65_535);
    }
}

//! The passive driver: captures (pcap and pcapng files, standard input, live interfaces) read through
//! libpcap, link layers and IP decoded (`packet`), TCP reassembled per direction (`reasm`), every RDP
//! connection found by content or port (`flows`) and fed into its own session, then diagnosed.

mod control;
pub mod cut;
mod file;
pub mod flows;
pub mod ip;
pub mod packet;
mod pipeline;
pub mod reasm;
pub mod udp;

use std::net::SocketAddr;
use std::time::Duration;

pub use control::{Control, LiveStart};
use flows::{FinishedFlow, FlowOptions, FlowStats, FlowTable};
use packet::LinkType;
use file::FileReader;
use pipeline::{Analysis, Packets, Reader};

use crate::diagnose::Context;
use crate::report::build::Provenance;
use crate::report::ConnectionReport;

/// How long a live capture sleeps when no packet is waiting.
pub const LIVE_POLL: Duration = Duration::from_millis(20);

/// Where packets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A pcap or pcapng file; `-` is standard input.
    File(String),
    /// A live interface (`watch`).
    Live(String),
}

impl Source {
    pub fn name(&self) -> &str {
        match self {
            Source::File(p) if p == "-" => "standard input",
            Source::File(p) | Source::Live(p) => p,
        }
    }
}

/// What a replay may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOptions {
    /// A BPF filter applied by libpcap before anything else.
    pub filter: Option<String>,
    pub flows: FlowOptions,
    /// Certificates expiring within this many days get an advisory.
    pub warn_days: i64,
    /// Live capture: stop after this long.
    pub duration: Option<Duration>,
    /// Live capture: stop after this many reported connections.
    pub max_connections: Option<u64>,
    /// A stop flag (Ctrl-C) and a hook for the start of a live capture.
    pub control: Control,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            filter: None,
            flows: FlowOptions::default(),
            warn_days: 30,
            duration: None,
            max_connections: None,
            control: Control::default(),
        }
    }
}

/// Why a source could not be read (wholly or from some packet on). One line, naming the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("{source_name}: {message}")]
    Open {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: link type {dlt} ({name}) is not supported (supported: Ethernet, Linux cooked SLL and SLL2, raw IPv4/IPv6, BSD loopback)")]
    LinkType {
        source_name: String,
        dlt: i32,
        name: String,
    },
    #[error("{source_name}: filter \"{filter}\": {message}")]
    Filter {
        source_name: String,
        filter: String,
        message: String,
    },
    #[error("{source_name}: packet {packet}: {message}")]
    Read {
        source_name: String,
        packet: u64,
        message: String,
    },
}

/// What one source gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayStats {
    pub packets: u64,
    pub bytes: u64,
    /// Packets whose headers could not be decoded (malformed or truncated frames), and the first of them.
    pub undecodable: u64,
    pub first_undecodable: Option<String>,
    /// Frames the capture's snapshot length cut short, the longest of them (the snapshot length), and
    /// those of them cut too short to place in a TCP connection.
    pub cut_packets: u64,
    pub snaplen: Option<u32>,
    pub cut_undecodable: u64,
    /// Packets of interfaces whose link type is not decoded (a pcapng file with several).
    pub unsupported_link: u64,
    pub flows: FlowStats,
    /// The server ports most TCP flows went to, busiest first, with their flow counts.
    pub busiest_ports: Vec<(u16, u32)>,
    pub notes: Vec<String>,
}

/// What the summary says about one source beyond its connections, and whether its verdicts stand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceVerdict {
    pub notes: Vec<String>,
    /// Nothing in the source could be judged (no connection reached a verdict) because the capture cut
    /// the payloads off: never a success (exit 1).
    pub nothing_judged: bool,
}

impl ReplayStats {
    /// What the source held, in one phrase: packets, TCP flows, the busiest server ports.
    pub fn held(&self) -> String {
        let mut s = format!(
            "{} packets, {} TCP flows",
            self.packets, self.flows.tcp_flows
        );
        if !self.busiest_ports.is_empty() {
            let ports: Vec<String> = self
                .busiest_ports
                .iter()
                .map(|(port, n)| format!("{port} ({n})"))
                .collect();
            s.push_str(&format!(" (busiest server ports: {})", ports.join(", ")));
        }
        s
    }

    /// The notes a source's summary needs given how many of its connections were reported and how
    /// many of them reached a verdict (established or failed): what it held when nothing was found,
    /// and what the snapshot length cut.
    pub fn verdict(&self, connections: u64, judged: u64) -> SourceVerdict {
        let mut v = SourceVerdict::default();
        if connections == 0 {
            v.notes.push(format!(
                "no RDP connection found; the input held {}",
                self.held()
            ));
        }
        if self.cut_packets > 0 {
            let snaplen = self
                .snaplen
                .map_or_else(|| "unknown".to_string(), |s| s.to_string());
            let mut note = format!(
                "payloads were cut by the capture's snapshot length (snaplen {snaplen}, {} packets cut)",
                self.cut_packets
            );
            if judged == 0 {
                v.nothing_judged = true;
                note.push_str(": nothing could be judged; capture again with the full packet (tcpdump -s 0)");
            } else {
                note.push_str(": the cut bytes are capture gaps in their connections");
            }
            v.notes.push(note);
        }
        v
    }
}

/// Turns a finished flow into a report (through the one core path, [`crate::report::build`]).
pub fn report_flow(source: &str, flow: FinishedFlow, warn_days: i64) -> ConnectionReport {
    let ctx = Context {
        server_name: Some(flow.server.ip().to_string()),
        warn_days,
    };
    let from = Provenance {
        source: source.to_string(),
        client: Some(endpoint(flow.client)),
        server: Some(endpoint(flow.server)),
        label: flow.unknown_port.then(|| {
            let port = flow.server.port();
            format!("port {port} not known as RDP; `--port {port}` to treat it as RDP")
        }),
        tunnel: flow.tunnel,
    };
    crate::report::build::connection(from, flow.observation, &ctx)
}

fn endpoint(a: SocketAddr) -> String {
    a.to_string()
}

fn ts_us(h: &pcap::PacketHeader) -> i64 {
    // timeval fields are i64 on the 64-bit targets this builds for.
    let (sec, usec): (i64, i64) = (h.ts.tv_sec, h.ts.tv_usec);
    sec.saturating_mul(1_000_000).saturating_add(usec)
}

/// Progress on standard error for large files, when it is a terminal.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(source: &Source) -> Self {
        use std::io::IsTerminal;
        let Source::File(path) = source else {
            return Self(None);
        };
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if path == "-" || size < 64 * 1024 * 1024 || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(path.clone());
        Self(Some(bar))
    }

    fn set(&self, pos: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(pos);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A capture (pcap or pcapng) read from any byte stream — a file, standard input, bytes in memory — and
/// analysed as `source` (its name in notes and errors; `-` analyses packet by packet, as a pipe).
pub fn replay_reader(
    source: &Source,
    input: Box<dyn std::io::Read + Send>,
    opts: &ReplayOptions,
    sink: &mut dyn FnMut(ConnectionReport) -> bool,
) -> (ReplayStats, Option<ReplayError>) {
    let name = source.name().to_string();
    let mut file = match FileReader::new(input, opts.filter.clone()) {
        Ok(file) => file,
        Err(message) => {
            let error = ReplayError::Open {
                source_name: name,
                message,
            };
            return (ReplayStats::default(), Some(error));
        }
    };
    let (mut stats, error) = run(&name, &mut file, None, opts, source, sink);
    stats.notes.extend(file.notes());
    (stats, error)
}

/// Reads one source to its end, handing each finished connection to `sink` as it completes.
/// A read error part-way still reports every connection seen so far, then returns the error.
pub fn replay_source(
    source: &Source,
    opts: &ReplayOptions,
    sink: &mut dyn FnMut(ConnectionReport) -> bool,
) -> (ReplayStats, Option<ReplayError>) {
    let name = source.name().to_string();
    let open_err = |message: String| {
        (
            ReplayStats::default(),
            Some(ReplayError::Open {
                source_name: name.clone(),
                message,
            }),
        )
    };
    match source {
        Source::File(path) => {
            let input: Box<dyn std::io::Read + Send> = if path == "-" {
                Box::new(std::io::stdin())
            } else {
                match std::fs::File::open(path) {
                    Ok(f) => Box::new(f),
                    Err(e) => return open_err(e.to_string()),
                }
            };
            replay_reader(source, input, opts, sink)
        }
        Source::Live(iface) => {
            // Non-blocking: in immediate mode Linux libpcap ignores the read timeout, and a quiet
            // interface would block past `--for` for ever.
            let cap = pcap::Capture::from_device(iface.as_str()).and_then(|c| {
                c.immediate_mode(true)
                    .timeout(200)
                    .snaplen(65535)
                    .open()?
                    .setnonblock()
            });
            let mut cap = match cap {
                Ok(cap) => cap,
                Err(e) => return open_err(e.to_string()),
            };
            let dlt = cap.get_datalink();
            let Some(link) = LinkType::from_dlt(dlt.0) else {
                let error = ReplayError::LinkType {
                    source_name: name.clone(),
                    dlt: dlt.0,
                    name: file::link_name(dlt.0),
                };
                return (ReplayStats::default(), Some(error));
            };
            if let Some(filter) = &opts.filter {
                if let Err(e) = cap.filter(filter, true) {
                    let error = ReplayError::Filter {
                        source_name: name.clone(),
                        filter: filter.clone(),
                        message: e.to_string(),
                    };
                    return (ReplayStats::default(), Some(error));
                }
            }
            opts.control.live_started(&LiveStart {
                interface: iface,
                link_name: &dlt.get_name().unwrap_or_else(|_| format!("DLT {}", dlt.0)),
                link_description: &dlt.get_description().unwrap_or_default(),
            });
            run(&name, &mut cap, Some(link), opts, source, sink)
        }
    }
}

fn run<P: Packets + ?Sized>(
    name: &str,
    packets: &mut P,
    link: Option<LinkType>,
    opts: &ReplayOptions,
    source: &Source,
    sink: &mut dyn FnMut(ConnectionReport) -> bool,
) -> (ReplayStats, Option<ReplayError>) {
    let mut reader = Reader::new(name, link, Progress::new(source), opts.flows.ports.clone());
    let mut analysis = Analysis {
        name,
        opts,
        table: FlowTable::new(opts.flows.clone()),
        reported: 0,
        stop: false,
        sink,
    };
    let live = matches!(source, Source::Live(_));
    let error = match source {
        // A pipe (`tcpdump -w - | rdpdiag replay -`) may be slow: each packet is analysed as it comes,
        // so connections are reported as they complete, not when a batch fills.
        Source::Live(_) => analysis.packet_by_packet(&mut reader, packets),
        Source::File(path) if path == "-" => analysis.packet_by_packet(&mut reader, packets),
        Source::File(_) => analysis.file(&mut reader, packets),
    };
    analysis.end(if live { now_us() } else { reader.last_ts });
    (reader.summarise(&analysis.table), error)
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

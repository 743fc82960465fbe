//! One probe connection: TCP connect with a timeout, and a stream that tees every byte read and written
//! into the connection's [`Session`] (and its recorded packets, for `--capture`), so the probe's own
//! traffic is diagnosed by the same code as a capture. Reads are bounded in bytes and in time.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};

use crate::session::{
    ConnectError, Direction, Event, Observation, Session, Timestamp, TransportFact,
};

/// The most bytes the probe reads from one connection; a server that sends more is cut off.
pub const MAX_READ_BYTES: usize = 1024 * 1024;

/// The wall clock as the session's timestamp (drivers own the clock).
pub fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_micros(micros)
}

/// What one connection saw, shared between the stream and its driver.
#[derive(Debug, Default)]
pub struct Record {
    pub session: Session,
    /// Every byte each side sent, in order, with its time: the raw material of `--capture`.
    pub segments: Vec<(Timestamp, Direction, Vec<u8>)>,
    pub facts: Vec<(Timestamp, TransportFact)>,
    pub bytes_read: usize,
    /// Our own address on this connection, once connected.
    pub local: Option<SocketAddr>,
    /// Recorded bytes stay bounded: past this, segments are not kept for the capture.
    pub capture_budget: usize,
}

impl Record {
    fn bytes(&mut self, dir: Direction, bytes: &[u8]) {
        let at = now();
        self.session.on_bytes(at, dir, None, bytes);
        if self.capture_budget >= bytes.len() {
            self.capture_budget -= bytes.len();
            self.segments.push((at, dir, bytes.to_vec()));
        }
    }

    pub fn fact(&mut self, fact: TransportFact) {
        self.fact_at(now(), fact);
    }

    /// A fact known only later, dated when it happened (not before the last recorded one).
    pub fn fact_at(&mut self, at: Timestamp, fact: TransportFact) {
        self.facts.push((at, fact.clone()));
        self.session.on_transport(at, None, fact);
    }
}

pub type Shared = Arc<Mutex<Record>>;

pub fn lock(r: &Shared) -> std::sync::MutexGuard<'_, Record> {
    r.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A TCP stream that tees into its [`Record`].
#[derive(Debug)]
pub struct Tee {
    inner: TcpStream,
    record: Shared,
}

impl AsyncRead for Tee {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let new = buf.filled().get(before..).unwrap_or_default();
            let mut rec = lock(&this.record);
            if new.is_empty() {
                rec.fact(TransportFact::Fin(Direction::ServerToClient));
            } else {
                rec.bytes_read = rec.bytes_read.saturating_add(new.len());
                rec.bytes(Direction::ServerToClient, new);
                if rec.bytes_read > MAX_READ_BYTES {
                    rec.session.on_limit(
                        now(),
                        format!("the probe reads at most {MAX_READ_BYTES} bytes of one connection"),
                    );
                    return Poll::Ready(Err(io::Error::other(
                        "the server sent more than the probe reads",
                    )));
                }
            }
        }
        if let Poll::Ready(Err(e)) = &poll {
            if e.kind() == io::ErrorKind::ConnectionReset {
                lock(&this.record).fact(TransportFact::Rst(Direction::ServerToClient));
            }
        }
        poll
    }
}

impl AsyncWrite for Tee {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            lock(&this.record).bytes(Direction::ClientToServer, buf.get(..*n).unwrap_or_default());
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How a connect attempt ended.
#[derive(Debug)]
pub enum Connected {
    Up(Tee),
    /// Refused, unreachable or no answer: recorded in the session.
    Failed,
}

/// Connects to `addr` within `timeout`, recording the transport facts.
///
/// `connect()` shows only its result: not the SYNs the kernel sent or retransmitted, nor the ICMP message
/// behind an error. So the record holds what was seen: the SYN (dated at the start of the attempt) only
/// where the result proves one was sent (connected, refused, timed out), then the connection, the
/// refusal, the error as the network stack reported it, or a timeout of the wait. After an unreachable
/// error no SYN is recorded: the stack may have failed before sending one.
pub async fn connect(addr: SocketAddr, timeout: Duration, record: &Shared) -> Connected {
    super::pace::admit().await;
    let socket = bound_socket(addr).await;
    lock(record).local = socket.as_ref().and_then(|s| s.local_addr().ok());
    let started = now();
    let attempt = async {
        match socket {
            Some(s) => s.connect(addr).await,
            None => TcpStream::connect(addr).await,
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            let mut rec = lock(record);
            rec.local = stream.local_addr().ok();
            rec.fact_at(started, TransportFact::Syn);
            rec.fact(TransportFact::Connected);
            drop(rec);
            Connected::Up(Tee {
                inner: stream,
                record: record.clone(),
            })
        }
        Ok(Err(e)) => {
            // Even a refusal is the stack's word: ECONNREFUSED follows an RST or an ICMP port unreachable.
            let error = match e.kind() {
                io::ErrorKind::ConnectionRefused => ConnectError::Refused,
                io::ErrorKind::HostUnreachable => ConnectError::HostUnreachable,
                io::ErrorKind::NetworkUnreachable => ConnectError::NetworkUnreachable,
                io::ErrorKind::TimedOut => ConnectError::TimedOut,
                _ => ConnectError::Other,
            };
            let mut rec = lock(record);
            if matches!(error, ConnectError::Refused | ConnectError::TimedOut) {
                rec.fact_at(started, TransportFact::Syn);
            }
            rec.fact(TransportFact::ConnectError {
                error,
                os_error: e.to_string(),
            });
            Connected::Failed
        }
        Err(_) => {
            // The probe's own wait ran out: recorded as a timeout, measured from the start of the attempt.
            let mut rec = lock(record);
            rec.fact_at(started, TransportFact::Syn);
            rec.session.on_timeout(now());
            Connected::Failed
        }
    }
}

/// A TCP socket bound, before it connects, to the source address the kernel's route to `addr` chooses and
/// a port of its own: so that a connection that never comes up (refused, silent) still has its real
/// client address for the report and `--capture`. The route is looked up with an unconnected UDP socket's
/// `connect()`, which sends nothing. `None` when there is no route or the bind fails (then `connect()`
/// picks the address itself, and a failed connection's client address stays unknown).
async fn bound_socket(addr: SocketAddr) -> Option<TcpSocket> {
    let any: SocketAddr = if addr.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let route = tokio::net::UdpSocket::bind(any).await.ok()?;
    route.connect(addr).await.ok()?;
    let source = SocketAddr::new(route.local_addr().ok()?.ip(), 0);
    drop(route);
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .ok()?;
    socket.bind(source).ok()?;
    Some(socket)
}

pub fn elapsed_us(since: Instant) -> i64 {
    i64::try_from(since.elapsed().as_micros()).unwrap_or(i64::MAX)
}

/// Why a read stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `done` said the awaited answer is there.
    Answered,
    /// The server closed (FIN) or reset.
    Closed,
    /// Nothing (more) came within the step timeout.
    Silent,
    /// Too many bytes.
    Overflow,
}

/// Reads until `done(timeline)` holds, the server closes, the step times out or too much arrives.
pub async fn read_until<S: AsyncRead + Unpin>(
    stream: &mut S,
    record: &Shared,
    step: Duration,
    done: impl Fn(&[crate::session::Entry]) -> bool,
) -> Stop {
    let started = Instant::now();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if done(&lock(record).session.timeline().entries) {
            return Stop::Answered;
        }
        let left = step.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return Stop::Closed,
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.kind() == io::ErrorKind::Other => return Stop::Overflow,
            Ok(Err(_)) => return Stop::Closed,
            Err(_) => {
                lock(record).session.on_timeout(now());
                return Stop::Silent;
            }
        }
    }
}

/// Writes all of `bytes` within `step`.
pub async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8], step: Duration) -> bool {
    matches!(
        tokio::time::timeout(step, stream.write_all(bytes)).await,
        Ok(Ok(()))
    )
}

/// Closes our side (FIN), recorded when the shutdown succeeded (a connection already reset sends none).
pub async fn close<S: AsyncWrite + Unpin>(stream: &mut S, record: &Shared) {
    if let Ok(Ok(())) = tokio::time::timeout(Duration::from_millis(200), stream.shutdown()).await {
        lock(record).fact(TransportFact::Fin(Direction::ClientToServer));
    }
}

/// True when the server's answer to the Connection Request is in (confirm, failure, disconnect, or junk).
pub fn x224_answered(entries: &[crate::session::Entry]) -> bool {
    entries.iter().any(|e| {
        e.dir == Some(Direction::ServerToClient)
            && matches!(
                e.event,
                Event::ConnectionConfirm { .. }
                    | Event::NegotiationFailure { .. }
                    | Event::X224Disconnect { .. }
                    | Event::NotRdp { .. }
                    | Event::Malformed { .. }
                    | Event::Unexpected { .. }
            )
    })
}

/// True when the server answered a ClientHello (ServerHello or alert) or broke off.
pub fn hello_answered(entries: &[crate::session::Entry]) -> bool {
    entries.iter().any(|e| {
        e.dir == Some(Direction::ServerToClient)
            && matches!(
                e.event,
                Event::TlsServerHello {
                    hello_retry_request: false,
                    ..
                } | Event::TlsAlert { .. }
                    | Event::Sslv2Hello { .. }
                    | Event::NotRdp { .. }
                    | Event::Unexpected { .. }
                    | Event::Malformed { .. }
            )
    })
}

/// The observation of a finished connection.
pub fn finish(record: &Shared) -> Observation {
    lock(record).session.observation()
}

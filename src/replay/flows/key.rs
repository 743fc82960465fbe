//! Flow keys: both endpoints of a TCP connection in a canonical order, as small plain integers.

use std::net::SocketAddr;

/// Both endpoints, in a canonical order so both directions find the same flow. Plain integers: hashed and
/// compared once per packet, so they are kept small and cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey(Endpoint, Endpoint);

/// One side of a flow: IPv4 addresses as IPv4-mapped IPv6 with `v6` false, so no IPv6 address aliases one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Endpoint {
    v6: bool,
    /// The address's high and low 64 bits (a `u128` would double the key's size by its alignment).
    ip: (u64, u64),
    port: u16,
}

impl Endpoint {
    /// The socket address back (IPv4 from its mapped form).
    fn addr(&self) -> SocketAddr {
        let ip = u128::from(self.ip.0) << 64 | u128::from(self.ip.1);
        let v6 = std::net::Ipv6Addr::from(ip);
        match v6.to_ipv4_mapped() {
            Some(v4) if !self.v6 => SocketAddr::from((v4, self.port)),
            _ => SocketAddr::from((v6, self.port)),
        }
    }

    fn of(a: SocketAddr) -> Self {
        match a {
            SocketAddr::V4(a) => Self {
                v6: false,
                ip: halves(u128::from(a.ip().to_ipv6_mapped())),
                port: a.port(),
            },
            SocketAddr::V6(a) => Self {
                v6: true,
                ip: halves(u128::from(*a.ip())),
                port: a.port(),
            },
        }
    }
}

fn halves(x: u128) -> (u64, u64) {
    let [h0, h1, h2, h3, h4, h5, h6, h7, l0, l1, l2, l3, l4, l5, l6, l7] = x.to_be_bytes();
    (
        u64::from_be_bytes([h0, h1, h2, h3, h4, h5, h6, h7]),
        u64::from_be_bytes([l0, l1, l2, l3, l4, l5, l6, l7]),
    )
}

impl FlowKey {
    /// The flow of a packet from `a` to `b` (or from `b` to `a`: the same flow).
    pub fn of(a: SocketAddr, b: SocketAddr) -> Self {
        let (a, b) = (Endpoint::of(a), Endpoint::of(b));
        if a <= b {
            Self(a, b)
        } else {
            Self(b, a)
        }
    }
}

impl FlowKey {
    /// Both endpoints as socket addresses, in the key's order.
    pub fn endpoints(&self) -> (SocketAddr, SocketAddr) {
        (self.0.addr(), self.1.addr())
    }
}

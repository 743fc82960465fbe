//! `--allow`: which targets the exporter probes. An exporter that probes whatever a URL names is an
//! open scanner, so nothing is allowed unless listed (or `--allow-any` is given).

use std::net::IpAddr;

use crate::probe::target::{parse_spec, Pattern, TargetError};

/// Allowed addresses (single, CIDR blocks, nmap ranges) and host names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    any: bool,
    patterns: Vec<Pattern>,
}

impl AllowList {
    /// Everything (`--allow-any`).
    pub fn any() -> Self {
        Self {
            any: true,
            patterns: Vec::new(),
        }
    }

    /// From `--allow` values: `CIDR` or `HOST` each (a port, if written, is ignored).
    pub fn parse(entries: &[String]) -> Result<Self, TargetError> {
        let mut list = Self::default();
        for e in entries {
            list.patterns.push(parse_spec(e, true)?.pattern);
        }
        Ok(list)
    }

    pub fn is_empty(&self) -> bool {
        !self.any && self.patterns.is_empty()
    }

    /// Whether a name is listed as such (`--allow-any` allows every name).
    pub fn allows_name(&self, name: &str) -> bool {
        self.any
            || self
                .patterns
                .iter()
                .any(|p| matches!(p, Pattern::Name(n) if n.eq_ignore_ascii_case(name)))
    }

    /// Whether a target may be probed: its name is listed, or the address it resolved to is.
    pub fn allows(&self, name: Option<&str>, addr: IpAddr) -> bool {
        self.any
            || self.patterns.iter().any(|p| match p {
                Pattern::Name(n) => name.is_some_and(|m| m.eq_ignore_ascii_case(n)),
                p => p.contains(addr),
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        let a = AllowList::parse(&[
            "127.0.0.0/24".to_string(),
            "rdp.example".to_string(),
            "::1".to_string(),
        ])
        .unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(a.allows(None, ip("127.0.0.9")));
        assert!(!a.allows(None, ip("127.0.1.9")));
        assert!(a.allows(None, ip("::1")));
        assert!(a.allows(Some("RDP.example"), ip("192.0.2.1")));
        assert!(!a.allows(Some("other.example"), ip("192.0.2.1")));
        assert!(AllowList::default().is_empty());
        assert!(AllowList::any().allows(None, ip("192.0.2.1")));
        assert!(AllowList::parse(&["300.0.0.1".to_string()]).is_err());
    }
}

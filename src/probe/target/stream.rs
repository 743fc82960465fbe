//! The targets of a run as a stream: the command line's, then a file's or standard input's lines as
//! they come, filtered by the shard and the exclusions.

use std::io::BufRead;

use super::{
    parse_spec, parse_target, Exclusions, Expand, Shard, Target, TargetError, TargetSpec, MAX_LINE,
    MAX_RANGE,
};

/// Where targets come from, and which of them are probed: the command line's targets, then the lines
/// of a file or of standard input, read as they come (probing starts before the input ends, and
/// memory stays bounded whatever its length).
pub struct TargetStream {
    specs: std::vec::IntoIter<TargetSpec>,
    lines: Option<(Box<dyn BufRead + Send>, String)>,
    force: bool,
    shard: Option<Shard>,
    exclude: Exclusions,
    current: Option<Expand>,
    /// Targets seen so far (for the shard).
    index: u64,
    line_no: u64,
    buf: Vec<u8>,
}

impl std::fmt::Debug for TargetStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetStream")
            .field("index", &self.index)
            .field("line", &self.line_no)
            .finish_non_exhaustive()
    }
}

impl TargetStream {
    /// The command line's targets (already parsed), then, if given, a reader of one target per line
    /// (`#` comments and blank lines skipped) named `source_name` in errors.
    pub fn new(
        specs: Vec<TargetSpec>,
        lines: Option<(Box<dyn BufRead + Send>, String)>,
        force: bool,
    ) -> Self {
        Self {
            specs: specs.into_iter(),
            lines,
            force,
            shard: None,
            exclude: Exclusions::default(),
            current: None,
            index: 0,
            line_no: 0,
            buf: Vec::new(),
        }
    }

    pub fn with_shard(mut self, shard: Option<Shard>) -> Self {
        self.shard = shard;
        self
    }

    pub fn with_exclusions(mut self, exclude: Exclusions) -> Self {
        self.exclude = exclude;
        self
    }

    /// How many targets will be probed, when that is known before reading any input: no line source,
    /// and command-line ranges small enough to count through ([`MAX_RANGE`] in all).
    pub fn known_len(&self) -> Option<u64> {
        self.known_len_up_to(MAX_RANGE)
    }

    /// [`Self::known_len`], counting through at most `limit` addresses (a cheap count for summaries).
    pub fn known_len_up_to(&self, limit: u64) -> Option<u64> {
        if self.lines.is_some() {
            return None;
        }
        let specs = self.specs.as_slice();
        if specs.iter().map(TargetSpec::count).sum::<u64>() > limit {
            return None;
        }
        let taken = specs
            .iter()
            .flat_map(TargetSpec::targets)
            .zip(0u64..)
            .filter(|(t, i)| self.shard.is_none_or(|s| s.takes(*i)) && !self.exclude.excludes(t))
            .count();
        u64::try_from(taken).ok()
    }

    /// The next line's target, `None` at the end of the input.
    fn next_line(&mut self) -> Option<Result<TargetSpec, TargetError>> {
        let (reader, name) = self.lines.as_mut()?;
        loop {
            self.buf.clear();
            self.line_no += 1;
            let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1;
            let read = std::io::Read::take(&mut **reader, limit).read_until(b'\n', &mut self.buf);
            match read {
                Err(e) => {
                    let err = TargetError::Read {
                        source_name: name.clone(),
                        why: e.to_string(),
                    };
                    self.lines = None;
                    return Some(Err(err));
                }
                Ok(0) => {
                    self.lines = None;
                    return None;
                }
                Ok(_) => {}
            }
            if self.buf.len() > MAX_LINE && self.buf.last() != Some(&b'\n') {
                // Skip the rest of the line without holding it.
                let mut sink = Vec::new();
                loop {
                    sink.clear();
                    match std::io::Read::take(&mut **reader, limit).read_until(b'\n', &mut sink) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if sink.last() == Some(&b'\n') => break,
                        Ok(_) => {}
                    }
                }
                return Some(Err(TargetError::LineTooLong {
                    source_name: name.clone(),
                    line: self.line_no,
                }));
            }
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                return Some(Err(TargetError::NotText {
                    source_name: name.clone(),
                    line: self.line_no,
                }));
            };
            let text = text.split('#').next().unwrap_or("").trim();
            if text.is_empty() {
                continue;
            }
            return Some(parse_spec(text, self.force).map_err(|e| TargetError::Line {
                source_name: name.clone(),
                line: self.line_no,
                error: Box::new(e),
            }));
        }
    }
}

impl Iterator for TargetStream {
    type Item = Result<Target, TargetError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(t) = self.current.as_mut().and_then(Iterator::next) {
                let index = self.index;
                self.index += 1;
                if self.shard.is_none_or(|s| s.takes(index)) && !self.exclude.excludes(&t) {
                    return Some(Ok(t));
                }
                continue;
            }
            self.current = None;
            let spec = match self.specs.next() {
                Some(spec) => spec,
                None => match self.next_line()? {
                    Ok(spec) => spec,
                    Err(e) => return Some(Err(e)),
                },
            };
            self.current = Some(spec.targets());
        }
    }
}

/// Parses a targets file: one target per line, `#` comments and blank lines ignored (expanded; the
/// CLI streams with [`TargetStream`] instead).
pub fn parse_targets_file(text: &str, force: bool) -> Result<Vec<Target>, (usize, TargetError)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if !line.is_empty() {
            out.extend(parse_target(line, force).map_err(|e| (n + 1, e))?);
        }
    }
    Ok(out)
}

//! What every reporting command shares: the report settings (colour decided once, by `anstream`'s
//! rules), standard output that survives a closed pipe, Ctrl-C, the JUnit file, and file errors in
//! plain words.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use rdpdiag::report::junit::Junit;
use rdpdiag::report::{exit, Expectation, Style, Summary};

use super::{ColorChoice, ReportArgs};

/// How results are shown and judged, from the shared flags.
pub struct ReportSettings {
    pub json: bool,
    pub quiet: bool,
    pub style: Style,
    pub expect: Option<Expectation>,
    pub junit: Option<String>,
}

impl ReportSettings {
    /// The summary, as JSON or as text, whichever the run prints.
    pub fn write_summary(&self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        if self.json {
            rdpdiag::report::write_summary_json(summary, out)
        } else {
            rdpdiag::report::write_summary_text(summary, &self.style, out)
        }
    }

    pub fn new(args: &ReportArgs) -> Self {
        Self {
            json: args.json,
            quiet: args.quiet,
            style: Style {
                color: !args.json && color_on_stdout(args.color),
                timeline: args.timeline,
            },
            expect: args.expect.clone(),
            junit: args.junit.clone(),
        }
    }

    /// A JUnit report to fill, when `--junit` asks for one.
    pub fn junit(&self, suite: &str) -> Option<Junit> {
        self.junit.as_ref().map(|_| Junit::new(suite))
    }

    /// Writes the JUnit report (overwriting the file: it is an output the user named, like `-o`); an
    /// error is one line and exit 2.
    pub fn write_junit(&self, junit: Option<&Junit>) -> Result<(), String> {
        let (Some(path), Some(junit)) = (&self.junit, junit) else {
            return Ok(());
        };
        let write = || -> io::Result<()> {
            let mut file = io::BufWriter::new(std::fs::File::create(path)?);
            junit.write(&mut file)?;
            file.flush()
        };
        write().map_err(|e| format!("--junit {path}: {}", io_error_words(&e)))
    }
}

/// The one place colour is decided: `--color always|never`, else `anstream`'s rules for standard
/// output (a terminal; `NO_COLOR`, `CLICOLOR=0` and `TERM=dumb` turn it off, `CLICOLOR_FORCE` on).
fn color_on_stdout(choice: ColorChoice) -> bool {
    let choice = match choice {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never
}

/// Standard output for reports. A closed pipe (`rdpdiag replay ... | head -1`) is remembered, later
/// writes are dropped, and the run goes on to compute its exit code: a closed stdout never turns a
/// failure into success. Other write errors are returned.
pub struct Stdout {
    inner: anstream::AutoStream<io::StdoutLock<'static>>,
    pub closed: bool,
}

impl Stdout {
    /// With colour, escapes reach the terminal (through the console API on an old Windows console);
    /// without, the renderers write none, and the bytes pass through unparsed.
    pub fn new(style: &Style) -> Self {
        let raw = io::stdout().lock();
        let inner = if style.color {
            anstream::AutoStream::always(raw)
        } else {
            anstream::AutoStream::always_ansi(raw)
        };
        Self {
            inner,
            closed: false,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// Set by the first Ctrl-C (SIGINT).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Catches Ctrl-C: the first one sets [`interrupted`] and calls `stop` (the driver then finishes what it
/// has, prints the summary and exits 130); a second one exits 130 at once. Without a handler (it could
/// not be installed), Ctrl-C keeps its default: the process ends.
pub fn catch_interrupt(stop: impl Fn() + Send + 'static) {
    let _ = ctrlc::set_handler(move || {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("rdpdiag: interrupted again: stopping now, without a summary");
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
        stop();
    });
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// An I/O error in a few words, without the OS's error number.
pub fn io_error_words(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => {
            let text = e.to_string();
            // "No space left on device (os error 28)" -> "no space left on device"
            lowercase_first(text.split(" (os error").next().unwrap_or(&text))
        }
    }
}

/// Why a capture file cannot be read, found before libpcap tries: missing, unreadable, a directory, or
/// an empty regular file. Pipes and devices are left to libpcap.
pub fn unreadable_file(path: &str) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return Some(io_error_words(&e)),
    };
    if meta.is_dir() {
        return Some("is a directory".to_string());
    }
    if meta.is_file() && meta.len() == 0 {
        return Some("empty file".to_string());
    }
    if let Err(e) = std::fs::File::open(path) {
        return Some(io_error_words(&e));
    }
    None
}

/// libpcap's words for a file it could not open, without the `libpcap error:` prefix and the file name
/// it repeats; no bytes at all (`/dev/null`, an empty pipe) is "empty file".
pub fn open_error_words(path: &str, message: &str) -> String {
    let m = message.trim();
    let m = m.strip_prefix("libpcap error:").unwrap_or(m).trim_start();
    let m = m
        .strip_prefix(path)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(m)
        .trim_start();
    if m.contains("only got 0") || m.ends_with("got 0 bytes") {
        return "empty file".to_string();
    }
    if m.ends_with("No such file or directory") {
        return "no such file".to_string();
    }
    lowercase_first(m)
}

/// Messages are lowercase (STYLE rule 7), whoever wrote them.
fn lowercase_first(m: &str) -> String {
    let mut chars = m.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

/// Whether two paths name one file (an output must never overwrite an input).
pub fn same_file(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Whether standard error is a terminal (progress bars go there).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::open_error_words;

    #[test]
    fn libpcap_errors_in_plain_words() {
        let f = "missing.pcap";
        assert_eq!(
            open_error_words(f, "libpcap error: missing.pcap: No such file or directory"),
            "no such file"
        );
        assert_eq!(
            open_error_words(
                "/dev/null",
                "libpcap error: truncated dump file; tried to read 4 file header bytes, only got 0"
            ),
            "empty file"
        );
        assert_eq!(
            open_error_words("x.txt", "libpcap error: unknown file format"),
            "unknown file format"
        );
        assert_eq!(
            open_error_words("nosuchif", "libpcap error: No such device exists"),
            "no such device exists"
        );
    }
}

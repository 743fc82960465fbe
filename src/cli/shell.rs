//! `rdpdiag completions SHELL` and `rdpdiag man`: generated from the same clap definition as the parser,
//! so they never drift from it.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use rdpdiag::report::exit;

use super::output::{io_error_words, Stdout};
use super::{fail, Cli};

pub(super) fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "rdpdiag", &mut script);
    print(&script, "completions")
}

/// The manual page: the top command, then each subcommand as a section of its own.
pub(super) fn man() -> ExitCode {
    let cmd = Cli::command();
    let mut page = Vec::new();
    if let Err(e) = render_man(&cmd, &mut page) {
        return fail("man", e);
    }
    print(&page, "man")
}

fn render_man(cmd: &clap::Command, page: &mut Vec<u8>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(page)?;
    man.render_name_section(page)?;
    man.render_synopsis_section(page)?;
    man.render_description_section(page)?;
    man.render_options_section(page)?;
    man.render_subcommands_section(page)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        writeln!(page, ".SH \"RDPDIAG {}\"", name.to_uppercase())?;
        let sub = sub.clone().bin_name(format!("rdpdiag {name}"));
        let sub_man = clap_mangen::Man::new(sub);
        sub_man.render_synopsis_section(page)?;
        sub_man.render_description_section(page)?;
        sub_man.render_options_section(page)?;
    }
    writeln!(page, ".SH \"EXIT STATUS\"")?;
    writeln!(page, "{}", super::EXIT_CODES.replace('-', "\\-"))?;
    man.render_extra_section(page)?;
    man.render_version_section(page)?;
    Ok(())
}

fn print(bytes: &[u8], what: &str) -> ExitCode {
    let mut out = Stdout::new(&rdpdiag::report::Style::default());
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => fail(&format!("{what}: standard output"), io_error_words(&e)),
    }
}

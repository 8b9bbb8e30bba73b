//! The `rastro` binary: parses arguments, sets up logging, and dispatches to a command.
//! Commands live in `commands/`; they call the library crates and only format output.

mod commands;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    output::init_logging(cli.global.verbose, cli.global.quiet);
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

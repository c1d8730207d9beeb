//! `relu-lab`: opens the app, or runs a headless command.

#![expect(clippy::print_stdout, reason = "the command line prints its report")]

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, CliCommand, ReportArgs, RunArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Some(command) => command,
        None => return open_app(),
    };
    report(cli::execute(command, &mut std::io::stdout().lock()))
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("relu-lab: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Without the app, a bare `relu-lab` runs the default lesson headless.
fn open_app() -> ExitCode {
    println!("relu-lab was built without the app (feature `gui`); running the default lesson headless.");
    let command = CliCommand::Run(RunArgs {
        preset: Some(cli::DEFAULT_PRESET.to_owned()),
        config: None,
        seed: None,
        report: ReportArgs { steps: 3000, every: None, csv: None, json: false },
        record: None,
    });
    report(cli::execute(command, &mut std::io::stdout().lock()))
}

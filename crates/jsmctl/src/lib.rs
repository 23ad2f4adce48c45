//! `jsmctl` as a library: the command logic behind the binary, testable without spawning it.

pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod output;

use cli::{Cli, Command};
use context::Context;
use error::{CliResult, Exit};

/// Runs a parsed command line and returns its exit code; errors are printed on stderr.
pub async fn run(cli: Cli) -> Exit {
    match execute(cli).await {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit
        }
    }
}

async fn execute(cli: Cli) -> CliResult {
    match cli.command {
        Command::Emulator(args) => commands::emulator::run(*args)
            .await
            .map(|()| Exit::Done)
            .map_err(|e| error::CliError::failed(format!("{e:#}"))),
        Command::Demo(args) => commands::demo::run(args)
            .await
            .map(|()| Exit::Done)
            .map_err(|e| error::CliError::failed(format!("{e:#}"))),
        command => {
            let ctx = Context::new(&cli.global)?;
            commands::dispatch(&ctx, command).await
        }
    }
}

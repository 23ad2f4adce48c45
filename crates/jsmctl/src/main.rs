//! `jsmctl`: the command line of jsmctl.

mod commands;

use clap::{Parser, Subcommand};

/// Automate the user lifecycle of Jira Service Management, safely and offline-testable.
#[derive(Debug, Parser)]
#[command(name = "jsmctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local Atlassian emulator (Jira v3, JSM, SCIM, admin API, OAuth, webhooks) until SIGINT or SIGTERM.
    Emulator(Box<commands::emulator::Args>),
    /// Start the emulator with demo data, tour it with real API calls, and exit.
    Demo(commands::demo::Args),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JSMCTL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Emulator(args) => commands::emulator::run(*args).await,
            Command::Demo(args) => commands::demo::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

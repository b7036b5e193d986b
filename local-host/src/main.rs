//! `wtedge`: run a haproxy.cfg locally in front of Wt servers, check it, or
//! explain where a request goes.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Wt Edge: HAProxy-compatible session-affinity router for Wt applications.
#[derive(Parser, Debug)]
#[command(name = "wtedge", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a haproxy.cfg: warnings and exit 0, or errors and exit 1.
    Check(cli::check::CheckArgs),
    /// Show the decision for one request and the rules and ACLs that led to it.
    Explain(cli::explain::ExplainArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) => cli::check::run(&args),
        Some(Command::Explain(args)) => cli::explain::run(&args),
        None => {
            eprintln!("wtedge: the proxy is not wired yet; use 'wtedge check' or 'wtedge explain'");
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}

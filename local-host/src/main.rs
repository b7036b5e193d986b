//! `wtedge`: run a haproxy.cfg locally in front of Wt servers, check it, or
//! explain where a request goes.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Wt Edge: HAProxy-compatible session-affinity router for Wt applications.
///
/// `wtedge [FILE]` runs the proxy (an embedded two-server default without FILE).
#[derive(Parser, Debug)]
#[command(
    name = "wtedge",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: local_host::run::RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the proxy (the same as `wtedge [FILE]`).
    Run(local_host::run::RunArgs),
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
        Some(Command::Run(args)) => local_host::run::run(args),
        None => local_host::run::run(cli.run),
    }
}

//! Temporary stand-alone entry point for `wtedge run` until `main.rs` wires the `run`
//! subcommand (`wtedge-run [FILE] [--admin ADDR] [--log-session-ids] [--grace S]`).

use clap::Parser;

#[derive(Parser)]
#[command(name = "wtedge-run", about = "Run a haproxy.cfg (wtedge run)")]
struct Cli {
    #[command(flatten)]
    args: local_host::run::RunArgs,
}

fn main() -> std::process::ExitCode {
    local_host::run::run(Cli::parse().args)
}

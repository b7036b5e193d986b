//! `wtedge check FILE [--json]`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `wtedge check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The haproxy.cfg file to check.
    pub file: PathBuf,
    /// Print the validated model as JSON on stdout (warnings still go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Where the config will run: `local` (wtedge) or `edge` (the Cloudflare
    /// Worker, which reaches origins by DNS name only).
    #[arg(long, value_enum, default_value_t = Target::Local)]
    pub target: Target,
}

/// Where a config runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `wtedge` on this machine.
    Local,
    /// The Cloudflare Worker.
    Edge,
}

/// Runs the check: exit 0 with warnings printed, or 1 with the errors.
pub fn run(args: &CheckArgs) -> ExitCode {
    let parsed = match super::load(&args.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    for w in &parsed.warnings {
        eprintln!("{}", w.as_warning());
    }
    if args.target == Target::Edge {
        let report = router_core::unstable::config::edge::check(&parsed.config);
        for w in &report.warnings {
            eprintln!("{}", w.as_warning());
        }
        if !report.errors.is_empty() {
            for e in &report.errors {
                eprintln!("{}", e.as_error());
            }
            eprintln!(
                "{} error(s): configuration refused for the edge target",
                report.errors.len()
            );
            return ExitCode::from(super::EXIT_CONFIG);
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&parsed.config) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("wtedge: cannot encode the model: {e}");
                return ExitCode::from(super::EXIT_USAGE);
            }
        }
    } else {
        let cfg = &parsed.config;
        let fronts = cfg.proxies.iter().filter(|p| p.kind.is_frontend()).count();
        let backs = cfg.proxies.iter().filter(|p| p.kind.is_backend()).count();
        println!(
            "{}: configuration valid ({fronts} frontend(s), {backs} backend(s), {} server(s), {} warning(s))",
            cfg.file,
            cfg.servers.len(),
            parsed.warnings.len()
        );
    }
    ExitCode::SUCCESS
}

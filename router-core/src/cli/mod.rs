//! HAProxy 2.6's runtime API (the `stats socket` CLI): the commands, their
//! access levels, their answers and refusals, word for word. Sans-io: the host
//! reads lines from its socket, calls [`run`] and writes back what it returns;
//! state changes go through [`Host::admin`] to the host's health state.
//!
//! Framing, as HAProxy: a line holds commands separated by `;`; each answer
//! ends with an empty line; in `prompt` mode each is followed by `> `.

pub(crate) mod stat;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::model::{Config, ProxyId, ServerId};
pub use crate::config::stats::Level;
use crate::health::{AdminOp, AdminRefusal, AdminState, HealthSnapshot, OpState};
pub(crate) use stat::iid as proxy_iid;
pub use stat::{HEADER, StatFilter, show_info, show_servers_state, show_stat};

/// What the host counts for a proxy or a server (what it does not count stays 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Current sessions (`scur`).
    pub scur: u64,
    /// Total sessions (`stot`).
    pub stot: u64,
    /// Bytes sent to clients (`bout`).
    pub bout: u64,
    /// Queued requests (`qcur`).
    pub qcur: u64,
    /// Connection errors (`econ`).
    pub econ: u64,
    /// Retries (`wretr`).
    pub wretr: u64,
    /// Redispatches (`wredis`).
    pub wredis: u64,
    /// Responses by class: 1xx, 2xx, 3xx, 4xx, 5xx, other.
    pub hrsp: [u64; 6],
    /// HTTP requests (`req_tot`).
    pub req_tot: u64,
}

/// Process facts for `show info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// Program version.
    pub version: String,
    /// Worker threads.
    pub nbthread: u32,
    /// Process id.
    pub pid: u32,
    /// Seconds since start.
    pub uptime_s: u64,
    /// Connection limit.
    pub maxconn: u64,
    /// Client connections open now.
    pub curr_conns: u64,
    /// Client connections accepted since start.
    pub cum_conns: u64,
    /// Requests since start.
    pub cum_req: u64,
    /// Host name (`node`).
    pub node: String,
}

/// What the CLI needs from the host.
pub trait Host {
    /// The servers' states now.
    fn snapshot(&self) -> HealthSnapshot;
    /// Applies an operator's change to the health state (every engine's).
    fn admin(&mut self, server: ServerId, op: AdminOp) -> Result<(), AdminRefusal>;
    /// A proxy's counters (its frontend side).
    fn proxy_counters(&self, id: ProxyId) -> Counters;
    /// A proxy's backend-side counters: a listen section has both sides, each
    /// with its own counts (HAProxy's `fe_counters` and `be_counters`).
    fn backend_counters(&self, id: ProxyId) -> Counters {
        self.proxy_counters(id)
    }
    /// A server's counters.
    fn server_counters(&self, id: ServerId) -> Counters;
    /// Seconds since the server last changed state.
    fn since_change_s(&self, id: ServerId) -> u64;
    /// Process facts.
    fn info(&self) -> Info;
}

/// One client connection's CLI state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// Its access level (lowered by `operator` / `user`).
    pub level: Level,
    /// Interactive mode (`prompt`).
    pub prompt: bool,
    /// `quit` was read: the host closes the connection.
    pub done: bool,
}

impl Session {
    /// A new connection on a socket of `level`.
    pub fn new(level: Level) -> Self {
        Session {
            level,
            prompt: false,
            done: false,
        }
    }
}

const PERMISSION_DENIED: &str = "Permission denied\n";

/// HAProxy 2.6's help lines of the commands Wt Edge implements, with the
/// level each needs.
const HELP: &[(Level, &str)] = &[
    (
        Level::Admin,
        "  disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)\n",
    ),
    (
        Level::Admin,
        "  enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)\n",
    ),
    (
        Level::User,
        "  get weight <bk>/<srv>                   : report a server's current weight\n",
    ),
    (
        Level::Operator,
        "  operator                                : lower the level of the current CLI session to operator\n",
    ),
    (
        Level::Admin,
        "  set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl\n",
    ),
    (
        Level::Admin,
        "  set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)\n",
    ),
    (
        Level::User,
        "  show backend                            : list backends in the current running config\n",
    ),
    (
        Level::User,
        "  show cli level                          : display the level of the current CLI session\n",
    ),
    (
        Level::User,
        "  show info [desc|json|typed|float]*      : report information about the running process\n",
    ),
    (
        Level::User,
        "  show servers state [<backend>]          : dump volatile server information (all or for a single backend)\n",
    ),
    (
        Level::User,
        "  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server\n",
    ),
    (
        Level::User,
        "  user                                    : lower the level of the current CLI session to user\n",
    ),
    (
        Level::User,
        "  help [<command>]                        : list matching or all commands\n",
    ),
    (
        Level::User,
        "  prompt                                  : toggle interactive mode with prompt\n",
    ),
    (
        Level::User,
        "  quit                                    : disconnect\n",
    ),
];

fn help(level: Level, first_word: Option<&str>) -> String {
    let lines = HELP.iter().filter(|(l, _)| *l <= level).map(|(_, t)| *t);
    match first_word {
        None => {
            let mut out = String::from("The following commands are valid at this level:\n");
            lines.for_each(|l| out.push_str(l));
            out
        }
        Some(w) => {
            let mut out = String::from(
                "Unknown command, but maybe one of the following ones is a better match:\n",
            );
            let close: Vec<&str> = lines
                .clone()
                .filter(|l| l.trim_start().split(' ').next() == Some(w))
                .collect();
            if close.is_empty() {
                lines.for_each(|l| out.push_str(l));
            } else {
                close.iter().for_each(|l| out.push_str(l));
            }
            out
        }
    }
}

/// Runs one input line (one or more commands separated by `;`) and returns
/// what to write back. An empty line in `prompt` mode lists the commands.
pub fn run(cfg: &Config, session: &mut Session, host: &mut dyn Host, line: &str) -> String {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut out = String::new();
    if line.trim().is_empty() {
        if session.prompt {
            out.push_str("Unknown command. Please enter one of the following commands only:\n");
            let h = help(session.level, None);
            out.push_str(h.split_once('\n').map_or("", |(_, rest)| rest));
            out.push_str("\n> ");
        }
        return out;
    }
    for cmd in line.split(';') {
        if session.done {
            break;
        }
        let words: Vec<&str> = cmd.split_ascii_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let answer = command(cfg, session, host, &words);
        if session.done {
            break;
        }
        out.push_str(&answer);
        out.push('\n');
        if session.prompt {
            out.push_str("> ");
        }
    }
    out
}

fn command(cfg: &Config, session: &mut Session, host: &mut dyn Host, w: &[&str]) -> String {
    let arg = |i: usize| w.get(i).copied().unwrap_or("");
    match (arg(0), arg(1)) {
        ("help", _) => help(session.level, None),
        ("prompt", _) => {
            session.prompt = !session.prompt;
            String::new()
        }
        ("quit", _) => {
            session.done = true;
            String::new()
        }
        (lower @ ("operator" | "user"), "") => {
            let to = if lower == "user" {
                Level::User
            } else {
                Level::Operator
            };
            if to > session.level {
                return String::from(PERMISSION_DENIED);
            }
            session.level = to;
            String::new()
        }
        ("show", "cli") if arg(2) == "level" => format!("{}\n", session.level.name()),
        ("show", "info") => match w.iter().skip(2).find(|a| matches!(**a, "json" | "typed")) {
            Some(f) => format!("wtedge does not implement 'show info {f}'.\n"),
            None => show_info(&host.info()),
        },
        ("show", "stat") => match StatFilter::parse(cfg, &w[2..]) {
            Ok(filter) => show_stat(cfg, &host.snapshot(), &*host, &filter),
            Err(e) => String::from(e),
        },
        ("show", "servers") if arg(2) == "state" => {
            let only = match arg(3) {
                "" => None,
                name => match cfg
                    .proxy_ids()
                    .find(|&id| cfg.proxy(id).kind.is_backend() && cfg.proxy(id).name == name)
                {
                    Some(id) => Some(id),
                    None => return String::from("Can't find backend.\n"),
                },
            };
            show_servers_state(cfg, &host.snapshot(), &*host, only)
        }
        ("show", "backend") => {
            let mut out = String::from("# name\n");
            for id in cfg
                .proxy_ids()
                .filter(|&id| cfg.proxy(id).kind.is_backend())
            {
                out.push_str(&cfg.proxy(id).name);
                out.push('\n');
            }
            out
        }
        ("get", "weight") => match find_server(cfg, arg(2)) {
            Err(e) => String::from(e),
            Ok(id) => {
                let snap = host.snapshot();
                format!(
                    "{} (initial {})\n",
                    snap.weight(id),
                    cfg.server(id).params.weight
                )
            }
        },
        ("set", "server") => set_server(cfg, session, host, w),
        ("set", "weight") => {
            if session.level < Level::Admin {
                return String::from(PERMISSION_DENIED);
            }
            match find_server(cfg, arg(2)) {
                Err(e) => String::from(e),
                Ok(id) => set_weight(cfg, host, id, arg(3)),
            }
        }
        (verb @ ("enable" | "disable"), "server") => {
            if session.level < Level::Admin {
                return String::from(PERMISSION_DENIED);
            }
            match find_server(cfg, arg(2)) {
                Err(e) => String::from(e),
                Ok(id) => {
                    let state = if verb == "enable" {
                        AdminState::Ready
                    } else {
                        AdminState::Maint
                    };
                    refusal(host.admin(id, AdminOp::State(state)))
                }
            }
        }
        (first, _) => help(session.level, Some(first)),
    }
}

/// HAProxy's `cli_find_server()`: `backend/server` and its refusals.
fn find_server(cfg: &Config, arg: &str) -> Result<ServerId, &'static str> {
    let Some((b, s)) = arg.split_once('/') else {
        return Err("Require 'backend/server'.\n");
    };
    let Some(px) = cfg
        .proxy_ids()
        .find(|&id| cfg.proxy(id).kind.is_backend() && cfg.proxy(id).name == b)
    else {
        return Err("No such backend.\n");
    };
    cfg.proxy(px)
        .servers
        .iter()
        .copied()
        .find(|&id| cfg.server(id).name == s)
        .ok_or("No such server.\n")
}

fn refusal(r: Result<(), AdminRefusal>) -> String {
    match r {
        Ok(()) => String::new(),
        Err(AdminRefusal::Tracking) => String::from("cannot change health on a tracking server.\n"),
        Err(AdminRefusal::NoServer) => String::from("No such server.\n"),
    }
}

fn set_server(cfg: &Config, session: &Session, host: &mut dyn Host, w: &[&str]) -> String {
    if session.level < Level::Admin {
        return String::from(PERMISSION_DENIED);
    }
    let arg = |i: usize| w.get(i).copied().unwrap_or("");
    let id = match find_server(cfg, arg(2)) {
        Ok(id) => id,
        Err(e) => return String::from(e),
    };
    match arg(3) {
        "weight" => set_weight(cfg, host, id, arg(4)),
        "state" => {
            let state = match arg(4) {
                "ready" => AdminState::Ready,
                "drain" => AdminState::Drain,
                "maint" => AdminState::Maint,
                _ => {
                    return String::from(
                        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n",
                    );
                }
            };
            refusal(host.admin(id, AdminOp::State(state)))
        }
        "health" => {
            if cfg.server(id).track.is_some() {
                return String::from("cannot change health on a tracking server.\n");
            }
            let h = match arg(4) {
                "up" => OpState::Up,
                "stopping" => OpState::Stopping,
                "down" => OpState::Down,
                _ => {
                    return String::from(
                        "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n",
                    );
                }
            };
            refusal(host.admin(id, AdminOp::Health(h)))
        }
        // Wt Edge has no agent checks: HAProxy's answer for a server without one.
        "agent" | "agent-addr" | "agent-port" | "agent-send" => {
            String::from("agent checks are not enabled on this server.\n")
        }
        sub @ ("addr" | "check-addr" | "check-port" | "fqdn" | "ssl") => {
            format!("wtedge does not implement 'set server <srv> {sub}'.\n")
        }
        _ => String::from(
            "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n",
        ),
    }
}

/// HAProxy's `server_parse_weight_change_request()`, its messages included
/// (two of them without a final newline, as in 2.6).
fn set_weight(cfg: &Config, host: &mut dyn Host, id: ServerId, text: &str) -> String {
    if text.is_empty() {
        return String::from("Require <weight> or <weight%>.\n");
    }
    let digits = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    let (num, rest) = text.split_at(digits);
    let Ok(w) = num.parse::<i64>() else {
        return String::from("Empty weight string empty or preceded by garbage");
    };
    let initial = i64::from(cfg.server(id).params.weight);
    let w = if rest == "%" {
        if w < 0 {
            return String::from("Relative weight must be positive.\n");
        }
        (initial * w.min(25600) / 100).min(256)
    } else if !(0..=256).contains(&w) {
        return String::from("Absolute weight can only be between 0 and 256 inclusive.\n");
    } else if !rest.is_empty() {
        return String::from("Trailing garbage in weight string");
    } else {
        w
    };
    let w = u16::try_from(w).unwrap_or(256);
    refusal(host.admin(id, AdminOp::Weight(w)))
}

#[cfg(test)]
mod tests {
    //! Expected answers are HAProxy 2.6.12's, seen on its stats socket with the
    //! same configs and commands.
    use super::*;
    use crate::config::parse;
    use crate::health::Health;

    struct Fake<'c> {
        cfg: &'c Config,
        health: Health,
    }

    impl Host for Fake<'_> {
        fn snapshot(&self) -> HealthSnapshot {
            self.health.snapshot()
        }
        fn admin(&mut self, server: ServerId, op: AdminOp) -> Result<(), AdminRefusal> {
            self.health.admin(self.cfg, server, op, 0)
        }
        fn proxy_counters(&self, _: ProxyId) -> Counters {
            Counters::default()
        }
        fn server_counters(&self, _: ServerId) -> Counters {
            Counters::default()
        }
        fn since_change_s(&self, _: ServerId) -> u64 {
            0
        }
        fn info(&self) -> Info {
            Info::default()
        }
    }

    const CFG: &str = "backend b\n server s1 127.0.0.1:19090 check disabled\n server s2 127.0.0.1:19091 weight 0\n server s3 127.0.0.1:19091 track s1\n server s4 127.0.0.1:19091 check\n";

    /// `srv_op_state srv_admin_state srv_uweight` of each server.
    fn states(cfg: &Config, host: &mut Fake<'_>) -> Vec<String> {
        let mut s = Session::new(Level::Admin);
        run(cfg, &mut s, host, "show servers state")
            .lines()
            .skip(2)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                format!("{} {} {} {}", f[3], f[5], f[6], f[7])
            })
            .collect()
    }

    #[test]
    fn admin_states_follow_haproxy() {
        let cfg = parse("t.cfg", CFG).unwrap_or_else(|e| panic!("{e}")).config;
        let mut host = Fake {
            cfg: &cfg,
            health: Health::new(&cfg),
        };
        let mut s = Session::new(Level::Admin);
        // `disabled`: CMAINT|FMAINT, the tracker inherits IMAINT.
        assert_eq!(
            states(&cfg, &mut host),
            ["s1 0 5 1", "s2 2 0 0", "s3 0 2 1", "s4 2 0 1"]
        );
        assert_eq!(
            run(&cfg, &mut s, &mut host, "set server b/s1 state ready"),
            "\n"
        );
        assert_eq!(
            states(&cfg, &mut host)[..3],
            ["s1 2 4 1", "s2 2 0 0", "s3 2 0 1"]
        );
        // drain then maint: maint clears the drain.
        run(&cfg, &mut s, &mut host, "set server b/s1 state drain");
        assert_eq!(states(&cfg, &mut host)[2], "s3 2 16 1");
        run(&cfg, &mut s, &mut host, "set server b/s1 state maint");
        assert_eq!(
            states(&cfg, &mut host)[..3],
            ["s1 0 5 1", "s2 2 0 0", "s3 0 2 1"]
        );
        run(&cfg, &mut s, &mut host, "set server b/s3 state maint");
        assert_eq!(states(&cfg, &mut host)[2], "s3 0 3 1");
        run(&cfg, &mut s, &mut host, "set server b/s3 state ready");
        assert_eq!(states(&cfg, &mut host)[2], "s3 0 2 1");
        assert_eq!(
            run(&cfg, &mut s, &mut host, "set server b/s3 health down"),
            "cannot change health on a tracking server.\n\n"
        );
        run(&cfg, &mut s, &mut host, "set server b/s4 health stopping");
        assert_eq!(states(&cfg, &mut host)[3], "s4 3 0 1");
        run(&cfg, &mut s, &mut host, "set server b/s2 weight 5");
        assert_eq!(
            run(&cfg, &mut s, &mut host, "get weight b/s2"),
            "5 (initial 0)\n\n"
        );
    }

    #[test]
    fn drain_and_maint_as_routing_sees_them() {
        let cfg = parse(
            "t.cfg",
            "backend b\n server a 10.0.0.1:80 check\n server t 10.0.0.2:80 track a\n server c 10.0.0.3:80\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
        let (a, t) = (ServerId(0), ServerId(1));
        let mut snap = HealthSnapshot::all_up(&cfg);
        snap.set_admin(a, AdminState::Drain);
        // srv_is_up stays true, nbsrv counts it (and its tracker) out.
        assert!(snap.available(&cfg, a) && snap.available(&cfg, t));
        assert!(!snap.usable(&cfg, a) && !snap.usable(&cfg, t));
        assert_eq!(crate::acl::fetch::nbsrv_count(&cfg, &snap, ProxyId(0)), 1);
        snap.set_admin(a, AdminState::Maint);
        assert!(!snap.available(&cfg, a) && !snap.available(&cfg, t));
        snap.set_admin(a, AdminState::Ready);
        assert_eq!(crate::acl::fetch::nbsrv_count(&cfg, &snap, ProxyId(0)), 3);
        let back = HealthSnapshot::from_bytes(&cfg, &snap.to_bytes());
        assert_eq!(back, snap);
    }

    #[test]
    fn levels_weights_and_framing() {
        let cfg = parse("t.cfg", CFG).unwrap_or_else(|e| panic!("{e}")).config;
        let mut host = Fake {
            cfg: &cfg,
            health: Health::new(&cfg),
        };
        let mut s = Session::new(Level::Operator);
        assert_eq!(
            run(&cfg, &mut s, &mut host, "set server b/s4 state drain"),
            "Permission denied\n\n"
        );
        let mut s = Session::new(Level::Admin);
        for (cmd, want) in [
            (
                "set server b/s4 weight x",
                "Empty weight string empty or preceded by garbage\n",
            ),
            (
                "set server b/s4 weight 5x",
                "Trailing garbage in weight string\n",
            ),
            (
                "set server b/s4 weight 300",
                "Absolute weight can only be between 0 and 256 inclusive.\n\n",
            ),
            (
                "set server b/s4 weight -5%",
                "Relative weight must be positive.\n\n",
            ),
            ("set server b", "Require 'backend/server'.\n\n"),
            ("set server c/s1 state drain", "No such backend.\n\n"),
            ("set server b/s9 state drain", "No such server.\n\n"),
            ("show stat nope -1 -1", "No such proxy.\n\n"),
            ("user; operator", "\nPermission denied\n\n"),
        ] {
            assert_eq!(run(&cfg, &mut s, &mut host, cmd), want, "{cmd}");
        }
        let mut s = Session::new(Level::Admin);
        assert_eq!(run(&cfg, &mut s, &mut host, "prompt"), "\n> ");
        assert_eq!(
            run(&cfg, &mut s, &mut host, "show backend"),
            "# name\nb\n\n> "
        );
        assert_eq!(run(&cfg, &mut s, &mut host, "quit"), "");
        assert!(s.done);
    }
}

//! A real HAProxy process on a modernized config, with loopback servers behind it.
//!
//! [`Haproxy::start`] starts one loopback [`Backend`] per server line, rewrites the
//! config ([`crate::modernize`]), runs `haproxy -db -f <file>` and waits until its admin
//! socket answers (listeners are bound before the socket answers). Drop kills the
//! process, stops the servers and removes the temporary directory.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::modernize::{self, Endpoint, Modernized};

/// Shown when `haproxy` cannot be run.
pub const MISSING_HAPROXY: &str = "HAProxy is required by the differential tests and was not found \
     (looked at $HAPROXY, `haproxy` in PATH, /usr/sbin/haproxy). Run the README's test command, \
     `./scripts/test.sh`: it installs HAProxy 2.6 from Debian (`apt-get install -y haproxy`).";

/// The `haproxy` binary: `$HAPROXY`, else `haproxy` in `PATH`, else `/usr/sbin/haproxy`.
pub fn binary() -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("HAPROXY") {
        candidates.push(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            candidates.push(dir.join("haproxy"));
        }
    }
    candidates.push(PathBuf::from("/usr/sbin/haproxy"));
    for c in candidates {
        if c.is_file()
            && Command::new(&c)
                .arg("-v")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        {
            return Ok(c);
        }
    }
    Err(MISSING_HAPROXY.to_string())
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Result<TempDir, String> {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("wtedge-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(TempDir(p))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A running HAProxy and its loopback servers.
pub struct Haproxy {
    child: Child,
    pub config: Modernized,
    backends: Vec<Backend>,
    socket: PathBuf,
    log: PathBuf,
    // Last: removed after the process is gone.
    dir: TempDir,
}

/// What a start adds to the modernized config.
#[derive(Debug, Clone, Copy, Default)]
struct Extras {
    /// HAProxy logs on stdout.
    logs: bool,
    /// Checks keep their `inter`.
    live_checks: bool,
}

/// `srv_op_state` of `show servers state`: 0 stopped, 1 starting, 2 running, 3 stopping.
pub type OpState = u8;

/// Reserves a loopback port for a frontend: the listener stays in `held` (so that
/// the loopback servers started meanwhile cannot get the port) until just before
/// HAProxy (or wtedge) starts; a port is not handed out again by this process until
/// 4,096 others have been (cases run in parallel; a long run must not exhaust the
/// ephemeral range). A clash with another process is a bind error, retried.
fn reserve_port(held: &mut Vec<TcpListener>) -> Result<u16, String> {
    const REMEMBERED: usize = 4096;
    static GIVEN: Mutex<(BTreeSet<u16>, VecDeque<u16>)> =
        Mutex::new((BTreeSet::new(), VecDeque::new()));
    // Ports refused here stay bound until the end, so that the kernel does not hand
    // the same one back at once.
    let mut refused = Vec::new();
    for _ in 0..100 {
        let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
        let port = l
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| format!("local_addr: {e}"))?;
        let mut given = GIVEN.lock().map_err(|e| format!("port set: {e}"))?;
        if given.0.insert(port) {
            given.1.push_back(port);
            if given.1.len() > REMEMBERED
                && let Some(old) = given.1.pop_front()
            {
                given.0.remove(&old);
            }
            held.push(l);
            return Ok(port);
        }
        refused.push(l);
    }
    Err("no fresh loopback port in 100 tries".into())
}

impl Haproxy {
    /// Starts HAProxy on `config` (legacy text accepted); retries on a port clash.
    pub fn start(config: &str, accept_proxy: bool) -> Result<Haproxy, String> {
        Self::start_with(config, accept_proxy, &|_, _| None)
    }

    /// As [`Haproxy::start_with`], and HAProxy logs: `log stdout format raw local0` in
    /// `global` and `log global` in every `defaults` section (the modernized config has
    /// no `log` line), so that its log lines land in [`Haproxy::log_text`]. The config
    /// says which proxies log how (`option httplog`, `option dontlognull`).
    pub fn start_logging(
        config: &str,
        server_port: &dyn Fn(&str, &str) -> Option<u16>,
    ) -> Result<Haproxy, String> {
        Self::start_logging_checks(config, server_port, false)
    }

    /// [`Haproxy::start_logging`]; with `live_checks`, the checks run at the
    /// config's own `inter` (the fault drills watch a killed server go DOWN).
    pub fn start_logging_checks(
        config: &str,
        server_port: &dyn Fn(&str, &str) -> Option<u16>,
        live_checks: bool,
    ) -> Result<Haproxy, String> {
        let extras = Extras {
            logs: true,
            live_checks,
        };
        Self::start_retrying(config, false, server_port, extras)
    }

    /// As [`Haproxy::start`], but `server_port(proxy, server)` may name the port of a
    /// server the caller runs itself (a scripted origin); `None` starts a loopback
    /// [`Backend`] for that line as usual.
    pub fn start_with(
        config: &str,
        accept_proxy: bool,
        server_port: &dyn Fn(&str, &str) -> Option<u16>,
    ) -> Result<Haproxy, String> {
        Self::start_retrying(config, accept_proxy, server_port, Extras::default())
    }

    /// [`Haproxy::start_once`], retried on a port clash.
    fn start_retrying(
        config: &str,
        accept_proxy: bool,
        server_port: &dyn Fn(&str, &str) -> Option<u16>,
        extras: Extras,
    ) -> Result<Haproxy, String> {
        let bin = binary()?;
        let mut last = String::new();
        for _ in 0..5 {
            match Self::start_once(&bin, config, accept_proxy, server_port, extras) {
                Ok(h) => return Ok(h),
                Err((retry, e)) => {
                    last = e;
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    fn start_once(
        bin: &Path,
        config: &str,
        accept_proxy: bool,
        server_port: &dyn Fn(&str, &str) -> Option<u16>,
        extras: Extras,
    ) -> Result<Haproxy, (bool, String)> {
        let fatal = |e: String| (false, e);
        let dir = TempDir::new("haproxy").map_err(fatal)?;
        let socket = dir.path().join("admin.sock");
        let mut backends = Vec::new();
        let mut held = Vec::new();
        let modern = modernize::modernize(
            config,
            &modernize::Options {
                stats_socket: &socket,
                accept_proxy,
                live_checks: extras.live_checks,
            },
            &mut |ep| match ep {
                Endpoint::Frontend(_) => reserve_port(&mut held),
                Endpoint::Server { proxy, server } => {
                    if let Some(p) = server_port(proxy, server) {
                        return Ok(p);
                    }
                    let b = Backend::start(proxy, server)
                        .map_err(|e| format!("loopback server {proxy}/{server}: {e}"))?;
                    let p = b.port();
                    backends.push(b);
                    Ok(p)
                }
            },
        )
        .map_err(fatal)?;
        let mut modern = modern;
        if extras.logs {
            modern.text = with_logs(&modern.text);
        }
        let cfg_path = dir.path().join("haproxy.cfg");
        fs::write(&cfg_path, &modern.text).map_err(|e| fatal(format!("write config: {e}")))?;
        let log = dir.path().join("haproxy.log");
        let out = fs::File::create(&log).map_err(|e| fatal(format!("log: {e}")))?;
        let err = out.try_clone().map_err(|e| fatal(format!("log: {e}")))?;
        drop(held);
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| fatal(format!("spawn {}: {e}", bin.display())))?;
        let mut h = Haproxy {
            child,
            config: modern,
            backends,
            socket,
            log,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = h.child.try_wait() {
                let log = h.log_text();
                let retry = log.contains("cannot bind") || log.contains("Address already in use");
                return Err((
                    retry,
                    format!(
                        "haproxy exited ({status}) at start-up.\n--- log ---\n{log}\n--- config ---\n{}",
                        h.config.text
                    ),
                ));
            }
            if h.cli("show info").is_ok() {
                return Ok(h);
            }
            if Instant::now() > deadline {
                return Err((
                    false,
                    format!(
                        "haproxy did not answer on its socket in 10 s\n{}",
                        h.log_text()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id (the drills read its memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// HAProxy's stdout/stderr so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The temporary directory (config, log, socket).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The config HAProxy runs, for wtedge to run beside it: the lines the harness
    /// adds for HAProxy's own sake (admin socket, `log`) left out and every frontend
    /// moved to a fresh loopback port. `noreuseport` stays: with `SO_REUSEPORT`, a
    /// wtedge of another test process that got the same free port would share it
    /// silently and answer some of this one's requests (seen while two long generated
    /// runs ran at once); without it, a clash is a bind error the caller retries.
    /// Returns the text and (frontend name, wtedge address) pairs.
    pub fn config_for_wtedge(&self) -> Result<(String, Vec<(String, SocketAddr)>), String> {
        let harness_only = |line: &str| {
            let t = line.trim();
            t.starts_with("stats socket") || t.starts_with("log ")
        };
        let mut text = String::with_capacity(self.config.text.len());
        for line in self.config.text.lines().filter(|l| !harness_only(l)) {
            text.push_str(line);
            text.push('\n');
        }
        let mut addrs = Vec::with_capacity(self.config.frontends.len());
        let mut held = Vec::new();
        for (name, port) in &self.config.frontends {
            let addr = SocketAddr::from(([127, 0, 0, 1], reserve_port(&mut held)?));
            text = replace_port(&text, *port, &addr.to_string());
            addrs.push((name.clone(), addr));
        }
        Ok((text, addrs))
    }

    /// Address of a frontend/listen (`None`: the first).
    pub fn frontend_addr(&self, name: Option<&str>) -> Result<SocketAddr, String> {
        self.config
            .frontend_port(name)
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .ok_or_else(|| format!("no frontend/listen named {name:?}"))
    }

    /// Labels of the loopback servers, in config order.
    pub fn server_labels(&self) -> Vec<&str> {
        self.backends.iter().map(Backend::label).collect()
    }

    /// One admin-socket command; returns the answer.
    pub fn cli(&self, cmd: &str) -> Result<String, String> {
        let mut s = UnixStream::connect(&self.socket).map_err(|e| format!("socket: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        s.write_all(format!("{cmd}\n").as_bytes())
            .map_err(|e| format!("socket write: {e}"))?;
        let mut out = String::new();
        s.read_to_string(&mut out)
            .map_err(|e| format!("socket read: {e}"))?;
        Ok(out)
    }

    /// `srv_op_state` of every server, from `show servers state`.
    pub fn server_states(&self) -> Result<BTreeMap<(String, String), OpState>, String> {
        let out = self.cli("show servers state")?;
        let mut m = BTreeMap::new();
        for l in out.lines() {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 6 || f[0].starts_with('#') {
                continue;
            }
            let st: OpState = f[5]
                .parse()
                .map_err(|_| format!("bad `show servers state` line {l:?}"))?;
            m.insert((f[1].to_string(), f[3].to_string()), st);
        }
        Ok(m)
    }

    /// Forces `backend/server` DOWN: `set server B/S health down` when it has checks
    /// (a real DOWN: trackers and `nbsrv` follow), else `set server B/S state maint`.
    /// Then verifies with `show servers state` that it and every server tracking it is
    /// stopped.
    pub fn force_down(&self, backend: &str, server: &str) -> Result<(), String> {
        self.force(backend, server, false)
    }

    /// Brings `backend/server` back UP after [`Haproxy::force_down`]: `set server B/S
    /// health up` when it has checks, else `set server B/S state ready`. Then verifies
    /// that it and every server tracking it is running.
    pub fn force_up(&self, backend: &str, server: &str) -> Result<(), String> {
        self.force(backend, server, true)
    }

    fn force(&self, backend: &str, server: &str, up: bool) -> Result<(), String> {
        let line = self
            .config
            .servers
            .iter()
            .find(|s| s.proxy == backend && s.name == server)
            .ok_or_else(|| format!("no server {backend}/{server} in the config"))?;
        let verb = match (line.check, up) {
            (true, false) => "health down",
            (true, true) => "health up",
            (false, false) => "state maint",
            (false, true) => "state ready",
        };
        let cmd = format!("set server {backend}/{server} {verb}");
        let answer = self.cli(&cmd)?;
        if !answer.trim().is_empty() {
            return Err(format!("`{cmd}` answered {:?}", answer.trim()));
        }
        // srv_op_state: 0 stopped, 2 running.
        let (want, what) = if up { (2, "running") } else { (0, "stopped") };
        let states = self.server_states()?;
        for (b, s) in self.config.followers(backend, server) {
            match states.get(&(b.clone(), s.clone())) {
                Some(&n) if n == want => {}
                other => {
                    return Err(format!(
                        "after `{cmd}`, {b}/{s} has srv_op_state {other:?}, not {want} ({what})"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// `text` with every `127.0.0.1:<port>` replaced by `to`, the port whole: port 4000
/// must not rewrite the start of `127.0.0.1:40001`.
fn replace_port(text: &str, port: u16, to: &str) -> String {
    let from = format!("127.0.0.1:{port}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&from) {
        let end = i + from.len();
        let whole = !rest[end..].starts_with(|c: char| c.is_ascii_digit());
        out.push_str(&rest[..i]);
        out.push_str(if whole { to } else { &from });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `text` (a modernized config, without `log` lines) with HAProxy's log on stdout.
fn with_logs(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        let first = line.split_whitespace().next().unwrap_or("");
        if first == "global" {
            out.push_str("    log stdout format raw local0\n");
        } else if first == "defaults" {
            out.push_str("    log global\n");
        }
    }
    out
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_port_is_replaced_whole() {
        let t = "bind 127.0.0.1:4000\nbind 127.0.0.1:40001\nserver s 127.0.0.1:4000\n";
        assert_eq!(
            super::replace_port(t, 4000, "127.0.0.1:5"),
            "bind 127.0.0.1:5\nbind 127.0.0.1:40001\nserver s 127.0.0.1:5\n"
        );
    }
}

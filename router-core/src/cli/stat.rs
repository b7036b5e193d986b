//! `show stat` (HAProxy 2.6's CSV: the same 128 columns in the same order, one
//! row per frontend, server and backend), `show servers state` and `show info`.
//!
//! Each row starts from the shape HAProxy 2.6 gives that kind of row (which
//! columns are empty, which are numbers) and fills the columns Wt Edge knows;
//! the counters it does not keep stay 0.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Counters, Host, Info};
use crate::config::model::{Config, ProxyId, ProxyKind, ServerHost, ServerId};
use crate::health::{HealthSnapshot, bits};

/// HAProxy 2.6's `show stat` header line.
pub const HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

// The shapes of an idle HAProxy 2.6.12's rows (empty or 0 per column).
const SHAPE_FRONTEND: &str = "0,0,,,0,0,0,0,0,0,0,0,0,,,,,0,,,,,,,,,0,0,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,0,,0,0,0,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,";
const SHAPE_BACKEND: &str = "0,0,0,0,0,0,0,0,0,0,0,0,,0,0,0,0,0,0,0,0,,0,0,0,,0,0,0,,0,,0,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,0,0,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,0,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,";
const SHAPE_SERVER_CHECKED: &str = "0,0,0,0,0,0,,0,0,0,,0,,0,0,0,0,0,0,0,0,0,0,0,0,,0,0,0,,0,,0,0,,0,0,,0,0,0,0,0,0,0,,,,0,0,0,,,,,0,,,0,0,0,0,,,,0,,0,0,0,,,,0,,0,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,0,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,";
const SHAPE_SERVER_UNCHECKED: &str = "0,0,0,0,0,0,,0,0,0,,0,,0,0,0,0,0,0,0,0,,,0,,,0,0,0,,0,0,0,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,0,,,0,0,0,0,,,,,,,,,,,,0,,0,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,0,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,";

/// One CSV row being filled.
pub(crate) struct Row(Vec<String>);

impl Row {
    fn new(shape: &str) -> Self {
        Row(shape.split(',').map(String::from).collect())
    }

    /// Sets column `name` (a name of [`HEADER`]).
    fn set(&mut self, name: &str, value: impl ToString) {
        let mut names = HEADER.trim_start_matches("# ").split(',');
        if let Some(slot) = names
            .position(|n| n == name)
            .and_then(|i| self.0.get_mut(i))
        {
            *slot = value.to_string();
        }
    }

    fn counters(&mut self, c: &Counters) {
        self.set("scur", c.scur);
        self.set("stot", c.stot);
        self.set("bout", c.bout);
        for (name, v) in [
            "hrsp_1xx",
            "hrsp_2xx",
            "hrsp_3xx",
            "hrsp_4xx",
            "hrsp_5xx",
            "hrsp_other",
        ]
        .iter()
        .zip(c.hrsp)
        {
            self.set(name, v);
        }
    }

    /// `lastsess`: -1 when there never was a session (Wt Edge does not keep when the last one was).
    fn lastsess(&mut self, c: &Counters) {
        self.set("lastsess", if c.stot == 0 { "-1" } else { "" });
    }

    /// Column `name`'s text ("" when it has none).
    pub(crate) fn get(&self, name: &str) -> &str {
        let mut names = HEADER.trim_start_matches("# ").split(',');
        names
            .position(|n| n == name)
            .and_then(|i| self.0.get(i))
            .map_or("", String::as_str)
    }
}

/// Which object a `show stat` row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOf {
    /// A frontend (or a listen's frontend side).
    Frontend(ProxyId),
    /// A server.
    Server(ProxyId, ServerId),
    /// A backend (or a listen's backend side).
    Backend(ProxyId),
}

/// One `show stat` row and what it describes (the Prometheus exporter reads the
/// same rows).
pub(crate) struct StatRow {
    /// The object.
    pub of: RowOf,
    /// Its columns.
    pub row: Row,
}

/// `show stat`'s `{<iid>|<proxy>} <type> <sid>` filter and its `up` / `no-maint` words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFilter {
    /// Only this proxy (HAProxy's uuid), or every one.
    pub iid: Option<i64>,
    /// Bit mask: 1 frontends, 2 backends, 4 servers.
    pub types: i64,
    /// Only this server id (position in its backend, from 1).
    pub sid: Option<i64>,
    /// `up`: only servers that are UP.
    pub up: bool,
    /// `no-maint`: no server in maintenance.
    pub no_maint: bool,
    /// Server addresses shown (the CLI; the page with `stats show-legends`).
    pub legends: bool,
}

/// HAProxy's proxy uuid: declaration order from 2 (1 is its own CLI proxy).
pub(crate) fn iid(id: ProxyId) -> i64 {
    i64::from(id.0) + 2
}

/// A server's id in its backend (HAProxy's `puid`): its position, from 1.
pub(crate) fn sid(cfg: &Config, id: ServerId) -> i64 {
    let s = cfg.server(id);
    cfg.proxy(s.proxy)
        .servers
        .iter()
        .position(|&x| x == id)
        .map_or(0, |p| p as i64 + 1)
}

/// C's `atoi()`: leading digits (with a sign), 0 when none.
fn atoi(s: &str) -> i64 {
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(s.len(), |(i, _)| i);
    s[..end].parse().unwrap_or(0)
}

impl StatFilter {
    /// Every row, addresses shown (`show stat` without arguments).
    pub const ALL: StatFilter = StatFilter {
        iid: None,
        types: -1,
        sid: None,
        up: false,
        no_maint: false,
        legends: true,
    };

    /// Reads the words after `show stat`.
    pub fn parse(cfg: &Config, args: &[&str]) -> Result<Self, &'static str> {
        let mut f = StatFilter::ALL;
        let mut rest = args;
        if let [px, ty, sv, tail @ ..] = args {
            let id = match cfg.proxy_ids().find(|&id| cfg.proxy(id).name == *px) {
                Some(id) => iid(id),
                None => atoi(px),
            };
            if id == 0 {
                return Err("No such proxy.\n");
            }
            f.iid = (id != -1).then_some(id);
            f.types = atoi(ty);
            let s = atoi(sv);
            f.sid = (s != -1).then_some(s);
            rest = tail;
        }
        for w in rest {
            match *w {
                "up" => f.up = true,
                "no-maint" => f.no_maint = true,
                "typed" | "json" | "desc" => {
                    return Err("wtedge does not implement typed, json or desc stats output.\n");
                }
                _ => {}
            }
        }
        Ok(f)
    }
}

fn server_status(cfg: &Config, h: &HealthSnapshot, id: ServerId) -> String {
    if h.maint(cfg, id) {
        return match h.origin(cfg, id, bits::FMAINT) {
            Some(via) if via != id => {
                let v = cfg.server(via);
                format!("MAINT (via {}/{})", cfg.proxy(v.proxy).name, v.name)
            }
            _ => String::from("MAINT"),
        };
    }
    let checked = cfg.server(id).params.check || cfg.server(id).track.is_some();
    if !h.is_up(cfg, id) {
        String::from("DOWN")
    } else if h.stopping(cfg, id) {
        String::from("NOLB")
    } else if h.drain(cfg, id) {
        String::from("DRAIN")
    } else if !checked {
        String::from("no check")
    } else {
        String::from("UP")
    }
}

/// The server's address as HAProxy prints it (`ip`), and its port (0: the client's).
fn addr(cfg: &Config, id: ServerId) -> (String, u16) {
    let s = cfg.server(id);
    let host = match &s.host {
        ServerHost::Ip(ip) => ip.to_string(),
        ServerHost::Name(n) => n.clone(),
    };
    (host, s.port.unwrap_or(0))
}

/// `show stat`.
pub fn show_stat(cfg: &Config, h: &HealthSnapshot, host: &dyn Host, f: &StatFilter) -> String {
    let mut out = String::from(HEADER);
    for r in stat_rows(cfg, h, host, f) {
        out.push_str(&r.row.0.join(","));
        out.push('\n');
    }
    out
}

/// `show stat`'s rows, in its order (per proxy: frontend, servers, backend).
pub(crate) fn stat_rows(
    cfg: &Config,
    h: &HealthSnapshot,
    host: &dyn Host,
    f: &StatFilter,
) -> Vec<StatRow> {
    let mut out = Vec::new();
    for px_id in cfg.proxy_ids() {
        let px = cfg.proxy(px_id);
        if f.iid.is_some_and(|i| i != iid(px_id)) {
            continue;
        }
        let c = host.proxy_counters(px_id);
        if f.types & 1 != 0 && px.kind != ProxyKind::Backend {
            let mut r = Row::new(SHAPE_FRONTEND);
            r.set("pxname", &px.name);
            r.set("svname", "FRONTEND");
            r.counters(&c);
            if let Some(m) = px.settings.maxconn.or(cfg.global.maxconn) {
                r.set("slim", m);
            }
            r.set("status", "OPEN");
            r.set("pid", 1);
            r.set("iid", iid(px_id));
            r.set("type", 0);
            r.set("req_tot", c.req_tot);
            r.set("conn_tot", c.stot);
            r.set("mode", "http");
            out.push(StatRow {
                of: RowOf::Frontend(px_id),
                row: r,
            });
        }
        if !px.kind.is_backend() {
            continue;
        }
        if f.types & 4 != 0 {
            for &id in &px.servers {
                let s = cfg.server(id);
                let sid = sid(cfg, id);
                if f.sid.is_some_and(|x| x != sid)
                    || (f.up && !h.available(cfg, id))
                    || (f.no_maint && h.maint(cfg, id))
                {
                    continue;
                }
                let mut r = Row::new(if s.params.check {
                    SHAPE_SERVER_CHECKED
                } else {
                    SHAPE_SERVER_UNCHECKED
                });
                // In maintenance HAProxy shows no check columns.
                for c in [
                    "check_status",
                    "check_desc",
                    "check_rise",
                    "check_fall",
                    "check_health",
                ] {
                    r.set(c, "");
                }
                let sc = host.server_counters(id);
                r.set("pxname", &px.name);
                r.set("svname", &s.name);
                r.counters(&sc);
                r.set("qcur", sc.qcur);
                r.set("econ", sc.econ);
                r.set("wretr", sc.wretr);
                r.set("wredis", sc.wredis);
                r.set("status", server_status(cfg, h, id));
                r.set("weight", h.weight(id));
                r.set("act", u8::from(!s.params.backup));
                r.set("bck", u8::from(s.params.backup));
                r.set("lastchg", host.since_change_s(id));
                r.set("pid", 1);
                r.set("iid", iid(px_id));
                r.set("sid", sid);
                r.set("lbtot", sc.stot);
                r.set("tracked", "");
                if let Some(t) = &s.track {
                    let ts = cfg.server(t.id);
                    r.set(
                        "tracked",
                        format!("{}/{}", cfg.proxy(ts.proxy).name, ts.name),
                    );
                }
                r.set("type", 2);
                r.set("req_tot", sc.req_tot);
                r.lastsess(&sc);
                if s.params.check && !h.maint(cfg, id) {
                    let (rise, fall) = (s.params.rise.max(1), s.params.fall.max(1));
                    r.set("check_rise", rise);
                    r.set("check_fall", fall);
                    {
                        let up = h.is_up(cfg, id);
                        r.set("check_health", if up { rise + fall - 1 } else { 0 });
                        // The last check's result, as HAProxy names it.
                        let l7 = px.settings.options.httpchk.is_some();
                        let (status, desc) = match (up, l7) {
                            (true, false) => ("L4OK", "Layer4 check passed"),
                            (true, true) => ("L7OK", "Layer7 check passed"),
                            (false, false) => ("L4CON", "Layer4 connection problem"),
                            (false, true) => ("", ""),
                        };
                        r.set("check_status", status);
                        r.set("check_desc", desc);
                    }
                }
                // Addresses only where HAProxy shows its "legends" (CLI, show-legends).
                let (host, port) = addr(cfg, id);
                r.set(
                    "addr",
                    if f.legends {
                        format!("{host}:{port}")
                    } else {
                        String::new()
                    },
                );
                r.set("mode", "http");
                r.set("uweight", h.weight(id));
                out.push(StatRow {
                    of: RowOf::Server(px_id, id),
                    row: r,
                });
            }
        }
        if f.types & 2 != 0 && f.sid.is_none() {
            let (mut act, mut bck, mut wact, mut wbck) = (0u32, 0u32, 0u64, 0u64);
            for &id in &px.servers {
                if h.usable(cfg, id) {
                    if cfg.server(id).params.backup {
                        bck += 1;
                        wbck += u64::from(h.weight(id));
                    } else {
                        act += 1;
                        wact += u64::from(h.weight(id));
                    }
                }
            }
            let weight = if act > 0 { wact } else { wbck };
            let c = host.backend_counters(px_id);
            let mut r = Row::new(SHAPE_BACKEND);
            r.set("pxname", &px.name);
            r.set("svname", "BACKEND");
            r.counters(&c);
            // The backend's current streams are its servers' (a listen's own
            // counter also holds the connections its frontend side accepted).
            let scur: u64 = px
                .servers
                .iter()
                .map(|&s| host.server_counters(s).scur)
                .sum();
            r.set("scur", scur);
            r.set("qcur", c.qcur);
            let mut status = String::from(if weight > 0 || px.servers.is_empty() {
                "UP"
            } else {
                "DOWN"
            });
            // With `up` / `no-maint` HAProxy adds how many servers run (those not
            // stopped: DOWN or in maintenance) out of all.
            if f.up || f.no_maint {
                let nbup = px
                    .servers
                    .iter()
                    .filter(|&&s| h.is_up(cfg, s) && !h.maint(cfg, s))
                    .count();
                status.push_str(&format!(" ({nbup}/{})", px.servers.len()));
            }
            r.set("status", status);
            r.set("weight", weight);
            r.set("act", act);
            r.set("bck", bck);
            r.set("pid", 1);
            r.set("iid", iid(px_id));
            r.set("type", 1);
            r.set("lbtot", c.stot);
            r.set("req_tot", c.req_tot);
            r.lastsess(&c);
            r.set("mode", "http");
            r.set(
                "algo",
                if f.legends {
                    px.settings.balance.name()
                } else {
                    ""
                },
            );
            r.set("uweight", weight);
            out.push(StatRow {
                of: RowOf::Backend(px_id),
                row: r,
            });
        }
    }
    out
}

/// HAProxy's `srv_admin` bits for `show servers state`: own FMAINT (1),
/// inherited IMAINT (2), CMAINT (4), own FDRAIN (8), inherited IDRAIN (16).
fn admin_state(cfg: &Config, h: &HealthSnapshot, id: ServerId) -> u8 {
    let own = h.own_flags(id);
    let mut a = 0;
    if own & bits::FMAINT != 0 {
        a |= 0x01;
    }
    if own & bits::CMAINT != 0 {
        a |= 0x04;
    }
    if own & bits::FDRAIN != 0 {
        a |= 0x08;
    }
    if let Some(t) = &cfg.server(id).track {
        if h.maint(cfg, t.id) {
            a |= 0x02;
        }
        if h.drain(cfg, t.id) {
            a |= 0x10;
        }
    }
    a
}

/// `show servers state [backend]`: HAProxy's version 1 format.
pub fn show_servers_state(
    cfg: &Config,
    h: &HealthSnapshot,
    counters: &dyn Host,
    only: Option<ProxyId>,
) -> String {
    let mut out = String::from(
        "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n",
    );
    for px_id in cfg.proxy_ids() {
        let px = cfg.proxy(px_id);
        if !px.kind.is_backend() || only.is_some_and(|o| o != px_id) {
            continue;
        }
        for &id in &px.servers {
            let s = cfg.server(id);
            let (host, port) = addr(cfg, id);
            let maint = h.maint(cfg, id);
            let op = if maint || !h.is_up(cfg, id) {
                0
            } else if h.stopping(cfg, id) {
                3
            } else {
                2
            };
            let (rise, fall) = (s.params.rise.max(1), s.params.fall.max(1));
            // check status, result, health, state (HAProxy's enums: L4OK 6 /
            // L4CON 8 / INI 1, PASSED 3 / FAILED 2, ENABLED|CONFIGURED 6, PAUSED 8).
            let check = if !s.params.check {
                format!("1 0 {rise} 0")
            } else if maint {
                String::from("6 3 0 14")
            } else if h.is_up(cfg, id) {
                format!("6 3 {} 6", rise + fall - 1)
            } else {
                String::from("8 2 0 6")
            };
            out.push_str(&format!(
                "{} {} {} {} {} {} {} {} {} {} {} 0 0 0 - {} - {} 0 - - 0\n",
                iid(px_id),
                px.name,
                sid(cfg, id),
                s.name,
                host,
                op,
                admin_state(cfg, h, id),
                h.weight(id),
                s.params.weight,
                counters.since_change_s(id),
                check,
                port,
                u8::from(s.params.ssl),
            ));
        }
    }
    out
}

/// `show info`: HAProxy's `Name: value` lines Wt Edge can fill, in HAProxy's order.
pub fn show_info(i: &Info) -> String {
    let up = i.uptime_s;
    format!(
        "Name: wtedge\nVersion: {}\nRelease_date: -\nNbthread: {}\nNbproc: 1\nProcess_num: 1\nPid: {}\nUptime: {}d {}h{:02}m{:02}s\nUptime_sec: {}\nMaxconn: {}\nHard_maxconn: {}\nCurrConns: {}\nCumConns: {}\nCumReq: {}\nnode: {}\nStopping: 0\n",
        i.version,
        i.nbthread,
        i.pid,
        up / 86400,
        (up / 3600) % 24,
        (up / 60) % 60,
        up % 60,
        up,
        i.maxconn,
        i.maxconn,
        i.curr_conns,
        i.cum_conns,
        i.cum_req,
        i.node,
    )
}

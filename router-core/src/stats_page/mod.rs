//! HAProxy's stats page (`stats enable|uri|auth|realm` in a frontend or listen):
//! whether a request asks for it, whether its credentials pass, which form it
//! wants. The host writes the answer; the CSV is the runtime API's `show stat`.

mod html;

use alloc::string::String;

pub use html::{HtmlPage, html};

use crate::cli::{Host, StatFilter};
use crate::config::model::{Config, ProxyId, ServerId};
use crate::eval::EvalCtx;
use crate::health::{AdminOp, AdminState, HealthSnapshot, OpState, bits};
use crate::request::RequestFacts;

/// What to answer a request for the stats page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAnswer {
    /// 401 with HAProxy's `WWW-Authenticate: Basic realm="..."`.
    Unauthorized {
        /// `stats realm`, or HAProxy's default "HAProxy Statistics".
        realm: String,
    },
    /// The page: `;csv` asks for the CSV, `;up` and `;no-maint` filter servers.
    Page {
        /// `;csv` in the URI.
        csv: bool,
        /// The `show stat` filter the URI asks for.
        filter: StatFilter,
        /// `stats admin` holds for this request: the page has its forms.
        admin: bool,
        /// `;st=CODE`: the result of the last action, shown above the tables.
        notice: Option<String>,
    },
    /// A POST to the page (an admin form): the host reads the body, runs
    /// [`post`] when `admin`, and answers 303 to [`StatsAnswer::location`].
    Post {
        /// `stats admin` holds for this request.
        admin: bool,
        /// The `;up` flag of the posted URI, kept in the redirect.
        up: bool,
    },
}

impl StatsAnswer {
    /// Where HAProxy sends the browser after a POST: the page with `;st=CODE`.
    pub fn location(cfg: &Config, frontend: ProxyId, code: &str, up: bool) -> String {
        let uri = cfg.proxy(frontend).settings.stats.uri();
        alloc::format!("{uri};st={code}{}", if up { ";up" } else { "" })
    }
}

/// HAProxy's 401 page for the stats URI.
pub const UNAUTHORIZED_BODY: &str = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";

/// Whether `req`, received by `frontend`, is for its stats page (HAProxy's
/// `http_stats_check_uri()`: the URI from the path on starts with `stats uri`),
/// and what to answer. `health` evaluates `stats admin`'s condition.
pub fn check(
    cfg: &Config,
    frontend: ProxyId,
    req: &RequestFacts<'_>,
    health: &HealthSnapshot,
) -> Option<StatsAnswer> {
    let page = &cfg.proxy(frontend).settings.stats;
    if !page.enabled {
        return None;
    }
    let prefix = page.uri();
    let uri = if prefix.starts_with('/') {
        crate::acl::fetch::uri_of(req.target)?
    } else {
        req.target
    };
    let rest = uri.strip_prefix(prefix)?;
    if !page.auth.is_empty() {
        let given = req
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.strip_prefix("Basic "))
            .map(str::trim);
        let ok = given.is_some_and(|g| page.auth.iter().any(|a| base64(a.as_bytes()) == g));
        if !ok {
            return Some(StatsAnswer::Unauthorized {
                realm: page
                    .realm
                    .clone()
                    .unwrap_or_else(|| String::from("HAProxy Statistics")),
            });
        }
    }
    let admin = page.admin.as_ref().is_some_and(|c| {
        let ctx = EvalCtx {
            cfg,
            req,
            health,
            proxy: frontend,
            tickets: None,
            vars: &[],
        };
        c.eval(&ctx, &cfg.proxy(frontend).acls, &mut None)
    });
    let up = rest.contains(";up");
    if req.method == "POST" {
        return Some(StatsAnswer::Post { admin, up });
    }
    let notice = rest
        .split(';')
        .find_map(|p| p.strip_prefix("st="))
        .map(|c| String::from(&c[..c.len().min(4)]));
    Some(StatsAnswer::Page {
        csv: rest.contains(";csv"),
        filter: StatFilter {
            up,
            no_maint: rest.contains(";no-maint"),
            legends: page.show_legends,
            ..StatFilter::ALL
        },
        admin,
        notice,
    })
}

/// An admin form's action (`action=` of HAProxy's page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// `ready`, `drain`, `maint`.
    State(AdminState),
    /// `hrunn`, `hnolb`, `hdown`: forced health (not on a tracking server).
    Health(OpState),
    /// The old `disable` / `enable` (maintenance) and `stop` / `start` (drain):
    /// only a server whose flag changes counts as altered.
    Flag { bit: u8, set: bool },
    /// `dhlth`, `ehlth`, agent actions, `shutdown`: accepted, nothing done.
    Unsupported,
}

fn action(name: &str) -> Option<Action> {
    Some(match name {
        "ready" => Action::State(AdminState::Ready),
        "drain" => Action::State(AdminState::Drain),
        "maint" => Action::State(AdminState::Maint),
        "hrunn" => Action::Health(OpState::Up),
        "hnolb" => Action::Health(OpState::Stopping),
        "hdown" => Action::Health(OpState::Down),
        "disable" => Action::Flag {
            bit: bits::FMAINT,
            set: true,
        },
        "enable" => Action::Flag {
            bit: bits::FMAINT,
            set: false,
        },
        "stop" => Action::Flag {
            bit: bits::FDRAIN,
            set: true,
        },
        "start" => Action::Flag {
            bit: bits::FDRAIN,
            set: false,
        },
        "dhlth" | "ehlth" | "dagent" | "eagent" | "arunn" | "adown" | "shutdown" => {
            Action::Unsupported
        }
        _ => return None,
    })
}

/// HAProxy's `stats_process_http_post()`: applies an admin form (`b=BACKEND`,
/// `action=...`, `s=SERVER`...) through `host` and returns the result code
/// (`DONE`, `PART`, `NONE` or `ERRP`). The last `b` and `action` count, as
/// HAProxy reads the parameters from the end.
pub fn post(cfg: &Config, host: &mut dyn Host, body: &str) -> &'static str {
    let mut backend: Option<ProxyId> = None;
    let mut act: Option<Action> = None;
    let mut servers = alloc::vec::Vec::new();
    for param in body.rsplit('&') {
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        let (Some(k), Some(v)) = (crate::promex::url_decode(k), crate::promex::url_decode(v))
        else {
            break;
        };
        match k.as_str() {
            "b" if backend.is_none() => {
                let by_id = v.strip_prefix('#').and_then(|n| n.parse::<i64>().ok());
                let found = cfg.proxy_ids().find(|&id| {
                    let p = cfg.proxy(id);
                    p.kind.is_backend()
                        && match by_id {
                            Some(n) => crate::cli::proxy_iid(id) == n,
                            None => p.name == v,
                        }
                });
                match found {
                    Some(id) => backend = Some(id),
                    None => return "ERRP",
                }
            }
            "action" if act.is_none() => match action(&v) {
                Some(a) => act = Some(a),
                None => return "ERRP",
            },
            "s" => servers.push(v),
            _ => {}
        }
    }
    let (Some(backend), Some(act)) = (backend, act) else {
        return if servers.is_empty() { "NONE" } else { "ERRP" };
    };
    let (mut total, mut altered) = (0u32, 0u32);
    // HAProxy walks the parameters from the end: the last server first.
    for name in &servers {
        total += 1;
        let Some(id) = cfg
            .proxy(backend)
            .servers
            .iter()
            .copied()
            .find(|&s| cfg.server(s).name == *name)
        else {
            continue;
        };
        if apply(cfg, host, id, act) {
            altered += 1;
        } else {
            total -= 1;
        }
    }
    match (total, altered) {
        (0, _) => "NONE",
        (_, 0) => "ERRP",
        (t, a) if t == a => "DONE",
        _ => "PART",
    }
}

/// One server's action; whether it counts (HAProxy counts a server only when
/// the action applies to it).
fn apply(cfg: &Config, host: &mut dyn Host, id: ServerId, act: Action) -> bool {
    match act {
        Action::State(s) => host.admin(id, AdminOp::State(s)).is_ok(),
        Action::Health(o) => {
            cfg.server(id).track.is_none() && host.admin(id, AdminOp::Health(o)).is_ok()
        }
        Action::Flag { bit, set } => {
            let own = host.snapshot().own_flags(id);
            if (own & bit != 0) == set {
                return false;
            }
            let state = match (bit == bits::FMAINT, set) {
                (true, true) => AdminState::Maint,
                (false, true) => AdminState::Drain,
                _ => AdminState::Ready,
            };
            host.admin(id, AdminOp::State(state)).is_ok()
        }
        Action::Unsupported => false,
    }
}

/// Standard base64 with padding (what browsers send in `Authorization: Basic`).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                out.push(char::from(A[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_browsers_send_it() {
        assert_eq!(base64(b"admin:secret"), "YWRtaW46c2VjcmV0");
        assert_eq!(base64(b"a:b"), "YTpi");
        assert_eq!(base64(b"ab:c1"), "YWI6YzE=");
    }
}

//! The HTML form of the stats page, laid out as HAProxy 2.6's: one table per
//! proxy with its column groups (queue, session rate, sessions, bytes, denied,
//! errors, warnings, server), rows coloured by server state with HAProxy's
//! class names, the legend, the result of the last admin action, and with
//! `stats admin` a form per backend to change the checked servers' state.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::Info;
use crate::config::model::Config;

/// What the page shows besides the rows.
#[derive(Debug, Clone, Copy)]
pub struct HtmlPage<'a> {
    /// `stats uri`: where the forms post and the links point.
    pub uri: &'a str,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats refresh`.
    pub refresh_ms: Option<u64>,
    /// `stats admin` holds for this request.
    pub admin: bool,
    /// `;st=CODE` of the URI.
    pub notice: Option<&'a str>,
    /// Process facts for the header.
    pub info: &'a Info,
}

/// The colours of the states, under HAProxy's class names.
const STYLE: &str = "body{font-family:arial,helvetica,sans-serif;font-size:12px;color:black;background:white}\
th,td{font-size:10px}h1{font-size:x-large;margin-bottom:0.5em}\
table.tbl{border-collapse:collapse;border-style:none}\
table.tbl td,table.tbl th{border:1px solid gray;padding:1px 3px}\
.titre{background:#20D0D0;color:#000000;font-weight:bold;text-align:center}\
.frontend,.backend{background:#e8e8d0}\
.active_down,.backup_down{background:#ff9090}\
.active_going_up{background:#ffd020}.active_going_down{background:#ffffa0}\
.active_up{background:#c0ffc0}.active_nolb,.active_draining{background:#20a0ff}\
.active_no_check,.backup_no_check{background:#e0e0e0}\
.backup_going_up{background:#ff80ff}.backup_going_down{background:#c060ff}\
.backup_up{background:#b0d0ff}.backup_nolb,.backup_draining{background:#90b0e0}\
.maintain{background:#c07820}.rls{letter-spacing:0.2em;margin-right:1px}\
a.px:link,a.px:visited{color:#ffff40;text-decoration:none}\
a.lfsb:link,a.lfsb:visited{color:#000000;text-decoration:none}\
.lgd{font-size:10px}.ac{text-align:center}";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// HAProxy's `human_time()`: `1d2h`, `3h4m`, `5m6s`, `7s`.
fn human(s: u64) -> String {
    let (d, h, m, sec) = (s / 86400, (s / 3600) % 24, (s / 60) % 60, s % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

/// The row class of a server from its `show stat` status.
fn row_class(status: &str, backup: bool) -> String {
    let kind = if backup { "backup" } else { "active" };
    let state = match status.split(' ').next().unwrap_or("") {
        _ if status.starts_with("MAINT") => return String::from("maintain"),
        "UP" if status.contains('/') => "going_down",
        "DOWN" if status.contains('/') => "going_up",
        "UP" => "up",
        "DOWN" => "down",
        "DRAIN" => "draining",
        "NOLB" => "nolb",
        _ => "no_check",
    };
    format!("{kind}_{state}")
}

/// HAProxy's text for an action's result code.
fn notice_text(code: &str) -> (&'static str, &'static str) {
    match code {
        "DONE" => ("active_up", "Action processed successfully."),
        "NONE" => ("active_going_down", "Nothing has changed."),
        "PART" => (
            "active_going_down",
            "Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated names in the backend).",
        ),
        "ERRP" => (
            "active_down",
            "Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li></ul>",
        ),
        "EXCD" => (
            "active_down",
            "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less servers at a time.</b>",
        ),
        "DENY" => ("active_down", "<b>Action denied.</b>"),
        "IVAL" => (
            "active_down",
            "<b>Invalid requests (unsupported method or chunked encoded request).</b>",
        ),
        _ => ("active_no_check", "Unexpected result."),
    }
}

/// The columns after the checkbox and the name, from `show stat`'s.
const COLUMNS: [&str; 29] = [
    "qcur",
    "qmax",
    "qlimit",
    "rate",
    "rate_max",
    "rate_lim",
    "scur",
    "smax",
    "slim",
    "stot",
    "lbtot",
    "lastsess",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "status",
    "check_status",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "downtime",
];

/// The page for `csv` (`show stat`'s text with every row).
pub fn html(cfg: &Config, csv: &str, page: &HtmlPage<'_>) -> String {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let col = |f: &[&str], name: &str| -> String {
        header
            .iter()
            .position(|x| *x == name)
            .and_then(|i| f.get(i))
            .map_or_else(String::new, |v| esc(v))
    };
    let mut out = String::from(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n<html><head><title>Statistics Report for wtedge</title>\n",
    );
    if let Some(ms) = page.refresh_ms {
        out.push_str(&format!(
            "<meta http-equiv=\"refresh\" content=\"{}\">\n",
            ms / 1000
        ));
    }
    out.push_str(&format!(
        "<style type=\"text/css\">{STYLE}</style></head>\n<body>"
    ));
    out.push_str("<h1>Wt Edge</h1>\n<h2>Statistics Report for pid ");
    out.push_str(&format!("{}", page.info.pid));
    if !page.hide_version {
        out.push_str(&format!(" (wtedge {})", esc(&page.info.version)));
    }
    out.push_str("</h2>\n<hr width=\"100%\" class=\"hr\">\n");
    out.push_str(&format!(
        "<table border=0><tr><td align=\"left\" nowrap width=\"1%\"><p><b>pid = </b> {} (process #1, nbproc = 1, nbthread = {})<br><b>uptime = </b> {}<br><b>maxconn = </b> {}<br><b>current conns = </b> {}; <b>current req = </b> {}</td>",
        page.info.pid,
        page.info.nbthread,
        human(page.info.uptime_s),
        page.info.maxconn,
        page.info.curr_conns,
        page.info.cum_req,
    ));
    out.push_str("<td class=lgd><table class=\"lgd\"><tr><td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td><td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr><td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td><td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr><td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td><td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr><td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td><td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr><td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr><td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table></td></tr></table>\n");
    if let Some(code) = page.notice {
        let (class, text) = notice_text(code);
        out.push_str(&format!(
            "<p><div class={class}><a class=lfsb href=\"{}\" title=\"Remove this message\">[X]</a> {text}</div>\n",
            esc(page.uri)
        ));
    }
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    for id in cfg.proxy_ids() {
        let px = cfg.proxy(id);
        let name = esc(&px.name);
        let mine: Vec<&Vec<&str>> = rows
            .iter()
            .filter(|f| f.first() == Some(&px.name.as_str()))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let form = page.admin && px.kind.is_backend() && !px.servers.is_empty();
        if form {
            out.push_str(&format!(
                "<form method=\"post\" action=\"{}\">",
                esc(page.uri)
            ));
        }
        out.push_str(&format!(
            "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{name}\"></a><a class=px href=\"#{name}\">{name}</a></th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n"
        ));
        out.push_str("<tr class=\"titre\">");
        if form {
            out.push_str("<th rowspan=2 width=1></th>");
        }
        out.push_str("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=8>Server</th></tr>\n<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th></tr>\n");
        for f in mine {
            let sv = f.get(1).copied().unwrap_or("");
            let (class, is_server) = match sv {
                "FRONTEND" => (String::from("frontend"), false),
                "BACKEND" => (String::from("backend"), false),
                _ => (row_class(&col(f, "status"), col(f, "bck") == "1"), true),
            };
            out.push_str(&format!("<tr class=\"{class}\">"));
            if form {
                if is_server {
                    out.push_str(&format!(
                        "<td><input class='{name}-checkbox' type=\"checkbox\" name=\"s\" value=\"{}\"></td>",
                        esc(sv)
                    ));
                } else {
                    out.push_str("<td></td>");
                }
            }
            let label = match sv {
                "FRONTEND" => "Frontend",
                "BACKEND" => "Backend",
                s => s,
            };
            out.push_str(&format!(
                "<td class=ac><a name=\"{name}/{0}\"></a><a class=lfsb href=\"#{name}/{0}\">{0}</a></td>",
                esc(label)
            ));
            for c in COLUMNS {
                let mut v = col(f, c);
                if c == "status" && is_server {
                    let since = col(f, "lastchg").parse::<u64>().unwrap_or(0);
                    v = format!("{} {v}", human(since));
                }
                if c == "downtime" && !v.is_empty() {
                    v = human(v.parse::<u64>().unwrap_or(0));
                }
                let align = if matches!(c, "status" | "check_status" | "act" | "bck") {
                    " class=ac"
                } else {
                    ""
                };
                out.push_str(&format!("<td{align}>{v}</td>"));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
        if form {
            out.push_str(&format!(
                "Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option><option value=\"ready\">Set state to READY</option><option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option><option value=\"hrunn\">Health: force UP</option><option value=\"hnolb\">Health: force NOLB</option><option value=\"hdown\">Health: force DOWN</option></select><input type=\"hidden\" name=\"b\" value=\"#{}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>\n",
                crate::cli::proxy_iid(id)
            ));
        }
        out.push_str("<p>\n");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_get_haproxys_classes() {
        assert_eq!(row_class("UP", false), "active_up");
        assert_eq!(row_class("UP 1/3", false), "active_going_down");
        assert_eq!(row_class("DOWN 1/2", true), "backup_going_up");
        assert_eq!(row_class("MAINT (via b/s)", false), "maintain");
        assert_eq!(row_class("DRAIN", false), "active_draining");
        assert_eq!(row_class("no check", true), "backup_no_check");
    }

    #[test]
    fn durations_read_as_haproxys() {
        assert_eq!(human(7), "7s");
        assert_eq!(human(65), "1m5s");
        assert_eq!(human(3700), "1h1m");
        assert_eq!(human(90000), "1d1h");
    }
}

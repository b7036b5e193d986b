//! `server NAME ADDR [params]` and the server parameters (shared with `default-server`).

use alloc::format;
use alloc::string::String;

use super::args::{int_arg, positive, time_arg, word_arg};
use super::{Parser, PendingTrack, Res};
use crate::config::addr::{parse_port, parse_server_host, split_host_port};
use crate::config::keywords::{self};
use crate::config::lexer::Word;
use crate::config::model::*;
use crate::config::suggest::closest;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn server(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let name_word = word_arg(words, 1)?;
        let addr_word = words.get(2).ok_or_else(|| {
            Problem::new(
                K::MissingArgument,
                name_word.col,
                format!("server '{}' needs an address", name_word.text),
            )
            .hint("write 'server NAME ADDRESS:PORT [check]'")
        })?;
        if self.proxies[i]
            .servers
            .iter()
            .any(|s| self.servers[s.0 as usize].name == name_word.text)
        {
            return Err(Problem::new(
                K::Duplicate,
                name_word.col,
                format!(
                    "server '{}' is already declared in this backend",
                    name_word.text
                ),
            ));
        }
        let (host_text, port_text) = split_host_port(&addr_word.text);
        let host = parse_server_host(host_text).ok_or_else(|| {
            Problem::new(
                K::InvalidValue,
                addr_word.col,
                format!("invalid server address '{}'", addr_word.text),
            )
            .hint("write an IP address or a DNS name, then ':PORT'")
        })?;
        let port = match port_text {
            // `:0`, like no port, means the port the client connected to (HAProxy).
            None | Some("") | Some("0") => None,
            Some(p) => Some(parse_port(p).ok_or_else(|| {
                Problem::new(
                    K::InvalidValue,
                    addr_word.col,
                    format!("invalid port '{p}' in '{}'", addr_word.text),
                )
                .hint("ports are 1-65535; port offsets (+N) and ranges are not supported")
            })?),
        };
        let mut params = self.proxies[i].settings.default_server.clone();
        let mut track = None;
        server_params(words, 3, &mut params, &mut track)?;
        let id = ServerId(
            u32::try_from(self.servers.len())
                .map_err(|_| Problem::new(K::InvalidValue, 1, "too many servers"))?,
        );
        if let Some((spec, col)) = track {
            self.tracks.push(PendingTrack {
                server: self.servers.len(),
                spec,
                col,
            });
        }
        self.servers.push(Server {
            name: name_word.text.clone(),
            proxy: ProxyId(u16::try_from(i).unwrap_or(u16::MAX)),
            line: self.line,
            host,
            addr_col: addr_word.col,
            port,
            params,
            track: None,
            health_source: id,
        });
        self.proxies[i].servers.push(id);
        Ok(())
    }
}

pub(super) fn server_params(
    words: &[Word],
    from: usize,
    p: &mut ServerParams,
    track: &mut Option<(String, u32)>,
) -> Res {
    let mut k = from;
    while let Some(w) = words.get(k) {
        let mut takes = 1;
        match w.text.as_str() {
            "check" => p.check = true,
            "no-check" => p.check = false,
            "backup" => p.backup = true,
            "no-backup" => p.backup = false,
            "disabled" => p.disabled = true,
            "enabled" => p.disabled = false,
            "ssl" => p.ssl = true,
            "no-ssl" => p.ssl = false,
            "inter" => {
                p.inter = time_arg(words, k + 1)?;
                if p.inter == 0 {
                    return Err(Problem::new(
                        K::InvalidValue,
                        words[k + 1].col,
                        "'inter' must be greater than 0",
                    )
                    .hint("write e.g. 'inter 2s'"));
                }
                takes = 2;
            }
            "fastinter" | "downinter" => {
                let v = time_arg(words, k + 1)?;
                if v == 0 {
                    return Err(Problem::new(
                        K::InvalidValue,
                        words[k + 1].col,
                        format!("'{}' must be greater than 0", w.text),
                    )
                    .hint("write e.g. '500ms'"));
                }
                if w.text == "fastinter" {
                    p.fastinter = Some(v);
                } else {
                    p.downinter = Some(v);
                }
                takes = 2;
            }
            "rise" => {
                p.rise = positive(words, k + 1)?;
                takes = 2;
            }
            "fall" => {
                p.fall = positive(words, k + 1)?;
                takes = 2;
            }
            "weight" => {
                let v: u32 = int_arg(words, k + 1)?;
                if v > 256 {
                    return Err(Problem::new(
                        K::InvalidValue,
                        words[k + 1].col,
                        format!("weight {v} is out of range"),
                    )
                    .hint("weights are 0 to 256"));
                }
                p.weight = v;
                takes = 2;
            }
            "maxconn" => {
                p.maxconn = Some(int_arg(words, k + 1)?);
                takes = 2;
            }
            "maxqueue" => {
                p.maxqueue = Some(int_arg(words, k + 1)?);
                takes = 2;
            }
            "pool-max-conn" => {
                let v = word_arg(words, k + 1)?;
                // -1: no limit, as HAProxy.
                p.pool_max_conn = match v.text.parse::<i64>() {
                    Ok(-1) => None,
                    Ok(n) if (0..=i64::from(u32::MAX)).contains(&n) => Some(n as u32),
                    _ => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            v.col,
                            format!("invalid 'pool-max-conn' value '{}'", v.text),
                        )
                        .hint("write a number of connections, or -1 for no limit"));
                    }
                };
                takes = 2;
            }
            "pool-purge-delay" => {
                p.pool_purge_delay = time_arg(words, k + 1)?;
                takes = 2;
            }
            "pool-low-conn" => {
                p.pool_low_conn = int_arg(words, k + 1)?;
                takes = 2;
            }
            "port" => {
                let v = word_arg(words, k + 1)?;
                p.check_port = Some(parse_port(&v.text).ok_or_else(|| {
                    Problem::new(
                        K::InvalidValue,
                        v.col,
                        format!("invalid check port '{}'", v.text),
                    )
                })?);
                takes = 2;
            }
            "verify" => {
                let v = word_arg(words, k + 1)?;
                p.verify = match v.text.as_str() {
                    "none" => false,
                    "required" => true,
                    other => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            v.col,
                            format!("invalid verify mode '{other}'"),
                        )
                        .hint("use 'verify none' or 'verify required'"));
                    }
                };
                takes = 2;
            }
            "track" => {
                let v = word_arg(words, k + 1)?;
                *track = Some((v.text.clone(), v.col));
                takes = 2;
            }
            "cookie" => {
                return Err(Problem::new(K::Unsupported, w.col, "cookie persistence is not supported by Wt Edge")
                    .hint("Wt session affinity comes from the session-id prefix: acl srv1 url_sub wtd=wt1"));
            }
            other => {
                if keywords::HAPROXY_SERVER.contains(&other) {
                    return Err(Problem::new(
                        K::Unsupported,
                        w.col,
                        format!("server option '{other}' is not supported by Wt Edge"),
                    ));
                }
                return Err(Problem::new(
                    K::UnknownKeyword,
                    w.col,
                    format!("unknown server option '{other}'"),
                )
                .maybe_hint(
                    closest(other, keywords::SERVER.iter().copied())
                        .map(|s| format!("did you mean '{s}'?")),
                ));
            }
        }
        k += takes;
    }
    Ok(())
}

impl Parser<'_> {
    /// `default-server [params]`: the parameters every later `server` starts from.
    pub(super) fn default_server(&mut self, words: &[Word]) -> Res {
        let mut params = self.settings().default_server.clone();
        if let Some(w) = words.iter().skip(1).find(|w| w.text == "track") {
            return Err(Problem::new(
                K::NotAllowedHere,
                w.col,
                "'track' is not allowed on 'default-server'",
            ));
        }
        let mut track = None;
        server_params(words, 1, &mut params, &mut track)?;
        self.settings().default_server = params;
        Ok(())
    }
}

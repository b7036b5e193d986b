//! The differential corpus: `tests/corpus/cases/*.toml`, each holding `[[case]]` tables.
//!
//! ```toml
//! [[case]]
//! name = "seed2: wt1 session goes to bck1"
//! config = "seed2.cfg"          # file in tests/corpus/configs/
//! frontend = "wt"               # optional; default: the first frontend/listen
//! down = ["bck1/srv1"]          # optional: servers forced DOWN (trackers follow)
//! src = "10.0.0.7"              # optional client IP, default 127.0.0.1
//! router_core = "refuses"       # optional, see `Case::router_core`
//! [[case.request]]
//! line = "GET /?wtd=wt1AAAAAAAAAAAAAAAA HTTP/1.1"
//! headers = ["Host: sample.com"]
//! body = ""                     # optional, sent verbatim after the headers
//! expect = { action = "forward", backend = "bck1", server = "srv1" }
//! ```
//!
//! `expect` is one of
//! `{ action = "forward", backend = B, server = S }`,
//! `{ action = "redirect", status = 302, location = "/wt1" }`,
//! `{ action = "respond", status = 503 }`.
//! A `forward` may also carry what the server must have received, asserted against
//! HAProxy only (router-core decides, it does not rewrite headers): `upstream_line`
//! (the request line), `xff`, `original_to`, `connection` (every value of that header,
//! in order). Blessing refreshes those keys only where a case already has them.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The corpus root: `tests/corpus`.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// A file of `tests/corpus/configs/`.
pub fn config_path(name: &str) -> PathBuf {
    corpus_dir().join("configs").join(name)
}

#[derive(Debug, Deserialize)]
struct CaseFile {
    #[serde(default)]
    case: Vec<Case>,
}

/// One scenario: a config, a health state, and requests sent in order to one fresh
/// HAProxy process (or one fresh router-core state).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub config: String,
    #[serde(default)]
    pub frontend: Option<String>,
    #[serde(default)]
    pub down: Vec<String>,
    #[serde(default)]
    pub src: Option<String>,
    /// `"refuses"`: router-core must refuse this config (a keyword it documents as not
    /// supported yet); HAProxy is still checked. Remove the marker once router-core
    /// supports the keyword, and its decisions are checked like any other case's.
    #[serde(default)]
    pub router_core: Option<String>,
    #[serde(default)]
    pub request: Vec<Request>,
    /// File the case was read from (not part of the TOML).
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub line: String,
    #[serde(default)]
    pub headers: Vec<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// What the case says must happen.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub action: String,
    #[serde(default)]
    pub backend: Option<String>,
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub upstream_line: Option<String>,
    #[serde(default)]
    pub xff: Option<Vec<String>>,
    #[serde(default)]
    pub original_to: Option<Vec<String>>,
    #[serde(default)]
    pub connection: Option<Vec<String>>,
}

/// A routing outcome, the common language of HAProxy runs, router-core and `expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Forward { backend: String, server: String },
    Redirect { status: u16, location: String },
    Respond { status: u16 },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Forward { backend, server } => write!(f, "forward {backend}/{server}"),
            Outcome::Redirect { status, location } => write!(f, "redirect {status} {location}"),
            Outcome::Respond { status } => write!(f, "respond {status}"),
        }
    }
}

impl Expect {
    /// The routing part of the expectation.
    pub fn outcome(&self) -> Result<Outcome, String> {
        let need = |v: &Option<String>, what: &str| {
            v.clone()
                .ok_or_else(|| format!("expect.action = {:?} needs `{what}`", self.action))
        };
        let status = |what: &str| {
            self.status
                .ok_or_else(|| format!("expect.action = {:?} needs `{what}`", self.action))
        };
        match self.action.as_str() {
            "forward" => Ok(Outcome::Forward {
                backend: need(&self.backend, "backend")?,
                server: need(&self.server, "server")?,
            }),
            "redirect" => Ok(Outcome::Redirect {
                status: status("status")?,
                location: need(&self.location, "location")?,
            }),
            "respond" => Ok(Outcome::Respond {
                status: status("status")?,
            }),
            other => Err(format!(
                "unknown expect.action {other:?} (forward|redirect|respond)"
            )),
        }
    }
}

impl Case {
    /// Whether router-core must refuse this case's config.
    pub fn router_core_refuses(&self) -> bool {
        self.router_core.as_deref() == Some("refuses")
    }

    /// `down` entries as `(backend, server)` pairs.
    pub fn down_servers(&self) -> Result<Vec<(String, String)>, String> {
        self.down
            .iter()
            .map(|d| {
                d.split_once('/')
                    .map(|(b, s)| (b.to_string(), s.to_string()))
                    .ok_or_else(|| format!("down entry {d:?} is not BACKEND/SERVER"))
            })
            .collect()
    }

    /// The config text the case runs.
    pub fn config_text(&self) -> Result<String, String> {
        let path = config_path(&self.config);
        fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl Request {
    /// Method, target and version of the request line (split on single spaces).
    pub fn parts(&self) -> (&str, &str, &str) {
        let mut it = self.line.splitn(3, ' ');
        let method = it.next().unwrap_or("");
        let target = it.next().unwrap_or("");
        let version = it.next().unwrap_or("");
        (method, target, version)
    }

    /// Headers as `(name, value)`, split at the first `:`, value trimmed.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|h| match h.split_once(':') {
                Some((n, v)) => (n, v.trim()),
                None => (h.as_str(), ""),
            })
            .collect()
    }
}

/// Every `*.toml` file of `tests/corpus/cases`, sorted by name.
pub fn case_files() -> Result<Vec<PathBuf>, String> {
    let dir = corpus_dir().join("cases");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads one case file.
pub fn load_file(path: &Path) -> Result<Vec<Case>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed: CaseFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut cases = parsed.case;
    for c in &mut cases {
        c.file = path.to_path_buf();
    }
    Ok(cases)
}

/// Every case of the corpus, checked for duplicate names and empty request lists.
pub fn load_all() -> Result<Vec<Case>, String> {
    let mut all = Vec::new();
    for f in case_files()? {
        all.extend(load_file(&f)?);
    }
    let mut names = std::collections::BTreeSet::new();
    for c in &all {
        if !names.insert(c.name.clone()) {
            return Err(format!("duplicate case name {:?}", c.name));
        }
        if c.request.is_empty() {
            return Err(format!("case {:?} has no request", c.name));
        }
        if !matches!(c.router_core.as_deref(), None | Some("refuses")) {
            return Err(format!(
                "case {:?}: router_core can only be \"refuses\"",
                c.name
            ));
        }
    }
    if all.is_empty() {
        return Err("the corpus has no case".into());
    }
    Ok(all)
}

/// What HAProxy did for one request, for blessing: the outcome and, for forwards,
/// what the server received.
#[derive(Debug, Clone)]
pub struct Observed {
    pub outcome: Outcome,
    pub upstream_line: Option<String>,
    pub xff: Vec<String>,
    pub original_to: Vec<String>,
    pub connection: Vec<String>,
}

/// Rewrites the `expect` of every request of the cases in `path` from `observed`
/// (keyed by case name, one entry per request), keeping everything else of the file.
pub fn bless_file(
    path: &Path,
    observed: &std::collections::BTreeMap<String, Vec<Observed>>,
) -> Result<(), String> {
    use toml_edit::{Array, DocumentMut, InlineTable, Item, Value};
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let Some(cases) = doc.get_mut("case").and_then(Item::as_array_of_tables_mut) else {
        return Ok(());
    };
    for case in cases.iter_mut() {
        let Some(name) = case.get("name").and_then(Item::as_str).map(str::to_string) else {
            continue;
        };
        let Some(obs) = observed.get(&name) else {
            continue;
        };
        let Some(reqs) = case
            .get_mut("request")
            .and_then(Item::as_array_of_tables_mut)
        else {
            continue;
        };
        for (req, o) in reqs.iter_mut().zip(obs) {
            let old = req.get("expect").and_then(Item::as_inline_table).cloned();
            let had = |k: &str| old.as_ref().is_some_and(|t| t.contains_key(k));
            let mut t = InlineTable::new();
            match &o.outcome {
                Outcome::Forward { backend, server } => {
                    t.insert("action", "forward".into());
                    t.insert("backend", backend.as_str().into());
                    t.insert("server", server.as_str().into());
                    if had("upstream_line") {
                        let v = o.upstream_line.clone().unwrap_or_default();
                        t.insert("upstream_line", v.into());
                    }
                    let list = |v: &[String]| {
                        let mut a = Array::new();
                        for s in v {
                            a.push(s.as_str());
                        }
                        Value::Array(a)
                    };
                    if had("xff") {
                        t.insert("xff", list(&o.xff));
                    }
                    if had("original_to") {
                        t.insert("original_to", list(&o.original_to));
                    }
                    if had("connection") {
                        t.insert("connection", list(&o.connection));
                    }
                }
                Outcome::Redirect { status, location } => {
                    t.insert("action", "redirect".into());
                    t.insert("status", i64::from(*status).into());
                    t.insert("location", location.as_str().into());
                }
                Outcome::Respond { status } => {
                    t.insert("action", "respond".into());
                    t.insert("status", i64::from(*status).into());
                }
            }
            t.fmt();
            req.insert("expect", Item::Value(Value::InlineTable(t)));
        }
    }
    fs::write(path, doc.to_string()).map_err(|e| format!("{}: {e}", path.display()))
}

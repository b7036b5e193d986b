//! Parsing of `acl` lines and of `if`/`unless` conditions.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::fetch::keyword;
use super::matcher::Matcher;
use super::predefined;
use super::{AclDef, AclOrigin, AclRef, AclTerm, CondTerm, Condition};
use crate::config::lexer::Word;
use crate::config::model::Proxy;
use crate::config::suggest::closest;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// Where a condition looks its ACL names up.
pub struct AclScope<'a> {
    /// The section being parsed; anonymous, predefined and borrowed ACLs are added to it.
    pub acls: &'a mut Vec<AclDef>,
    /// Sections before it, searched for frontend ACLs a backend uses (HAProxy
    /// 1.4 visibility) when `borrow` is set.
    pub earlier: &'a [Proxy],
    /// Whether the section may borrow frontend ACLs (backends do, with a warning).
    pub borrow: bool,
    /// Warnings found while parsing.
    pub warnings: &'a mut Vec<Problem>,
    /// Line being parsed.
    pub line: u32,
}

/// Parses the words after `acl NAME` (the first word is the fetch keyword).
pub fn parse_acl_term(words: &[Word], line: u32) -> Result<AclTerm, Problem> {
    let Some(first) = words.first() else {
        return Err(Problem::new(K::MissingArgument, 0, "missing fetch keyword")
            .hint("write e.g. 'acl srv1 url_sub wtd=wt1'"));
    };
    let (kw, arg) = split_arg(first)?;
    if let Some(why) = keyword::refused(kw) {
        return Err(Problem::new(
            K::Unsupported,
            first.col,
            format!("'{kw}' is not supported by Wt Edge"),
        )
        .hint(why));
    }
    let Some(row) = keyword::lookup(kw) else {
        let names = keyword::keywords().map(|k| k.name);
        return Err(Problem::new(
            K::UnknownKeyword,
            first.col,
            format!("unknown fetch '{kw}'"),
        )
        .maybe_hint(closest(kw, names).map(|s| format!("did you mean '{s}'?"))));
    };
    if arg.is_some() && !row.takes_arg {
        return Err(Problem::new(
            K::InvalidValue,
            first.col,
            format!("'{kw}' takes no argument"),
        ));
    }
    let fetch = (row.build)(arg, first.col)?;
    // A fetch whose type has no default matcher needs `-m` (checked below).
    let mut matcher = row.matcher.unwrap_or(Matcher::Str);

    let mut icase = false;
    let mut explicit = false;
    let mut i = 1;
    while let Some(w) = words.get(i) {
        if w.quoted || !w.text.starts_with('-') {
            break;
        }
        match w.text.as_str() {
            "-i" => icase = true,
            "-n" => {}
            "--" => {
                i += 1;
                break;
            }
            "-m" => {
                explicit = true;
                i += 1;
                let Some(m) = words.get(i) else {
                    return Err(
                        Problem::new(K::MissingArgument, w.col, "'-m' needs a matcher")
                            .hint("one of str, beg, end, sub, dir, dom, len, int, ip, found, bool"),
                    );
                };
                matcher = match Matcher::from_name(&m.text) {
                    Some(found) => found,
                    None if matches!(m.text.as_str(), "reg" | "bin") => {
                        return Err(Problem::new(
                            K::Unsupported,
                            m.col,
                            format!("'-m {}' is not supported by Wt Edge", m.text),
                        )
                        .hint("use -m beg, sub or end"));
                    }
                    None => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            m.col,
                            format!("unknown matcher '-m {}'", m.text),
                        )
                        .hint("one of str, beg, end, sub, dir, dom, len, int, ip, found, bool"));
                    }
                };
            }
            "-f" => {
                return Err(Problem::new(
                    K::Unsupported,
                    w.col,
                    "'-f' (patterns from a file) is not supported by Wt Edge",
                )
                .hint("write the patterns on the acl line"));
            }
            "-u" | "-M" => {
                return Err(Problem::new(
                    K::Unsupported,
                    w.col,
                    format!("flag '{}' is not supported by Wt Edge", w.text),
                ));
            }
            other => {
                return Err(Problem::new(
                    K::InvalidValue,
                    w.col,
                    format!("unknown flag '{other}'"),
                )
                .hint(
                    "flags are -i, -m, -n and --; write '--' before a pattern that starts with '-'",
                ));
            }
        }
        i += 1;
    }

    if row.matcher.is_none() && !explicit {
        return Err(Problem::new(
            K::MissingArgument,
            first.col,
            format!("matching method must be specified first (using '-m') when using a sample fetch of this type ('{kw}')"),
        )
        .hint(format!("write e.g. '{} -m str VALUE'", first.text)));
    }
    let rest = words.get(i..).unwrap_or_default();
    if matcher.takes_none() && !rest.is_empty() {
        return Err(Problem::new(
            K::InvalidValue,
            rest[0].col,
            format!("'{kw}' takes no pattern here"),
        ));
    }
    let patterns = matcher.patterns(rest)?;
    Ok(AclTerm {
        line,
        fetch,
        matcher,
        icase,
        patterns,
    })
}

fn split_arg(word: &Word) -> Result<(&str, Option<&str>), Problem> {
    let text = word.text.as_str();
    let Some(open) = text.find('(') else {
        return Ok((text, None));
    };
    let Some(inner) = text[open + 1..].strip_suffix(')') else {
        return Err(Problem::new(
            K::Syntax,
            word.col,
            format!("'{text}': missing ')'"),
        ));
    };
    Ok((&text[..open], Some(inner)))
}

/// Parses `if|unless TERMS...` (words[0] is `if` or `unless`).
pub fn parse_condition(words: &[Word], scope: &mut AclScope<'_>) -> Result<Condition, Problem> {
    let Some(kw) = words.first() else {
        return Err(Problem::new(K::MissingArgument, 0, "missing condition"));
    };
    let unless = kw.text == "unless";
    let mut groups: Vec<Vec<CondTerm>> = Vec::new();
    let mut group: Vec<CondTerm> = Vec::new();
    let mut negate = false;
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let mut text = w.text.as_str();
        if !w.quoted {
            while let Some(rest) = text.strip_prefix('!') {
                negate = !negate;
                text = rest;
            }
        }
        if text.is_empty() {
            i += 1;
            continue;
        }
        if !w.quoted && (text.eq_ignore_ascii_case("or") || text == "||") {
            // As HAProxy: an `or` with nothing before it starts no empty group.
            if !group.is_empty() {
                groups.push(core::mem::take(&mut group));
            }
            i += 1;
            continue;
        }
        let acl = if !w.quoted && text == "{" {
            let close = words[i + 1..]
                .iter()
                .position(|x| !x.quoted && x.text == "}")
                .map(|p| p + i + 1);
            let Some(close) = close else {
                return Err(Problem::new(K::Syntax, w.col, "'{' without a matching '}'")
                    .hint("anonymous ACLs are written '{ FETCH PATTERN... }' with spaces around the braces"));
            };
            let inner = &words[i + 1..close];
            let term = parse_acl_term(inner, scope.line)?;
            let name = inner
                .iter()
                .map(|x| x.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            i = close;
            push_acl(
                scope,
                AclDef {
                    name: format!("{{ {name} }}"),
                    origin: AclOrigin::Anonymous,
                    line: scope.line,
                    terms: alloc::vec![term],
                },
            )?
        } else {
            resolve_name(text, w.col, scope)?
        };
        group.push(CondTerm { negate, acl });
        negate = false;
        i += 1;
    }
    // HAProxy accepts empty conditions (`if`, `if a or`, a lone `!`): empty groups
    // are dropped, and no group at all is false (`unless` makes it true).
    if !group.is_empty() {
        groups.push(group);
    }
    Ok(Condition { unless, groups })
}

fn push_acl(scope: &mut AclScope<'_>, def: AclDef) -> Result<AclRef, Problem> {
    let index = u16::try_from(scope.acls.len())
        .map_err(|_| Problem::new(K::InvalidValue, 0, "too many ACLs in one section"))?;
    scope.acls.push(def);
    Ok(AclRef(index))
}

fn find(acls: &[AclDef], name: &str, origin_ok: impl Fn(&AclOrigin) -> bool) -> Option<usize> {
    acls.iter()
        .position(|a| a.name == name && origin_ok(&a.origin))
}

fn resolve_name(name: &str, col: u32, scope: &mut AclScope<'_>) -> Result<AclRef, Problem> {
    let named = |o: &AclOrigin| matches!(o, AclOrigin::Declared | AclOrigin::Borrowed(_));
    if let Some(i) = find(scope.acls, name, named) {
        return u16::try_from(i)
            .map(AclRef)
            .map_err(|_| Problem::new(K::InvalidValue, col, "too many ACLs"));
    }
    if let Some(i) = find(scope.acls, name, |o| *o == AclOrigin::Predefined) {
        return u16::try_from(i)
            .map(AclRef)
            .map_err(|_| Problem::new(K::InvalidValue, col, "too many ACLs"));
    }
    if let Some(term) = predefined::term(name, scope.line) {
        return push_acl(
            scope,
            AclDef {
                name: String::from(name),
                origin: AclOrigin::Predefined,
                line: scope.line,
                terms: alloc::vec![term],
            },
        );
    }
    if scope.borrow {
        let owners: Vec<&Proxy> = scope
            .earlier
            .iter()
            .filter(|p| {
                p.kind.is_frontend() && find(&p.acls, name, |o| *o == AclOrigin::Declared).is_some()
            })
            .collect();
        if let [owner] = owners[..]
            && let Some(i) = find(&owner.acls, name, |o| *o == AclOrigin::Declared)
        {
            {
                let mut def = owner.acls[i].clone();
                def.origin = AclOrigin::Borrowed(owner.name.clone());
                scope.warnings.push(
                    Problem::new(
                        K::CrossSectionAcl,
                        col,
                        format!(
                            "ACL '{name}' is declared in frontend '{}', not in this backend; \
                             Wt Edge evaluates it with that declaration (HAProxy 1.4 behaviour), \
                             HAProxy 2.6 refuses this config",
                            owner.name
                        ),
                    )
                    .hint(format!(
                        "copy the 'acl {name} ...' line(s) into this backend"
                    )),
                );
                return push_acl(scope, def);
            }
        }
        if owners.len() > 1 {
            return Err(Problem::new(
                K::UnknownAcl,
                col,
                format!("no such ACL '{name}' in this section, and several frontends declare one"),
            )
            .hint(format!("declare 'acl {name} ...' in this backend")));
        }
    }
    let declared = scope
        .acls
        .iter()
        .filter(|a| a.origin == AclOrigin::Declared)
        .map(|a| a.name.as_str());
    let hint = closest(name, declared.chain(predefined::NAMES.iter().copied()))
        .map(|s| format!("did you mean '{s}'?"))
        .unwrap_or_else(|| {
            format!("declare 'acl {name} ...' in this section before the rule that uses it")
        });
    Err(Problem::new(K::UnknownAcl, col, format!("no such ACL '{name}'")).hint(hint))
}

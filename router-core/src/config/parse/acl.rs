//! `acl NAME FETCH [flags] [patterns]`.

use alloc::format;
use alloc::string::ToString;

use super::args::{bad_char, word_arg};
use super::{Parser, Res};
use crate::acl::{AclDef, AclOrigin, parse_acl_term};
use crate::config::lexer::Word;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn acl(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let name_word = word_arg(words, 1)?;
        let name = name_word.text.as_str();
        if let Some(bad) = bad_char(name, "-_.:") {
            return Err(Problem::new(
                K::InvalidValue,
                name_word.col,
                format!("invalid character '{bad}' in ACL name '{name}'"),
            )
            .hint("ACL names use letters, digits, '-', '_', '.' and ':'"));
        }
        if name.eq_ignore_ascii_case("or") {
            return Err(Problem::new(
                K::InvalidValue,
                name_word.col,
                "an ACL named 'or' would never match: 'or' separates the terms of a condition",
            )
            .hint("choose another name"));
        }
        if words.len() < 3 {
            return Err(Problem::new(
                K::MissingArgument,
                name_word.col,
                format!("'acl {name}' needs a fetch and patterns"),
            )
            .hint("write e.g. 'acl srv1 url_sub wtd=wt1'"));
        }
        let term = parse_acl_term(&words[2..], self.line)?;
        if term.patterns.is_empty()
            && !term.matcher.takes_none()
            && !words.iter().any(|w| w.text == "--" && !w.quoted)
        {
            self.warn(Problem::new(K::InvalidValue, words[2].col, format!("ACL '{name}' has no pattern and will never match"))
                .hint("add a pattern, use '-m found' to test existence, or add '--' if this is intended"));
        }
        let acls = &mut self.proxies[i].acls;
        match acls
            .iter_mut()
            .find(|a| a.name == name && a.origin == AclOrigin::Declared)
        {
            Some(def) => def.terms.push(term),
            None => acls.push(AclDef {
                name: name.to_string(),
                origin: AclOrigin::Declared,
                line: self.line,
                terms: alloc::vec![term],
            }),
        }
        Ok(())
    }
}

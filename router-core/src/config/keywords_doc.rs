//! `docs/keywords.md` has a row for every keyword the parser accepts: a keyword
//! added to a table without its row (where it is parsed, modelled, evaluated,
//! what each host does) fails here.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::keywords;

const DOC: &str = include_str!("../../../docs/keywords.md");

/// The backquoted names in the first cell of each table row.
fn rows() -> Vec<&'static str> {
    DOC.lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter(|l| l.starts_with('`'))
        .filter_map(|l| l.split(" | ").next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .collect()
}

/// Action names out of a "set-header, add-header, set-var(SCOPE.NAME)" list.
fn actions(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(|a| a.split('(').next().unwrap_or(a).trim())
}

#[test]
fn every_accepted_keyword_has_a_row() {
    let rows = rows();
    let mut expected: Vec<String> = Vec::new();
    expected.extend(
        ["global", "defaults", "frontend", "backend", "listen"]
            .iter()
            .map(|s| String::from(*s)),
    );
    expected.push(String::from("global stats"));
    expected.extend(keywords::GLOBAL.iter().map(|k| format!("global {k}")));
    expected.extend(keywords::PROXY.iter().map(|k| String::from(k.name)));
    expected.extend(keywords::OPTIONS.iter().map(|k| format!("option {k}")));
    expected.extend(keywords::TIMEOUTS.iter().map(|k| format!("timeout {k}")));
    expected.extend(keywords::SERVER.iter().map(|k| format!("server {k}")));
    expected.extend(crate::acl::fetch::keyword::keywords().map(|k| String::from(k.name)));
    expected.extend(actions(crate::rules::parse::SUPPORTED).map(|a| format!("http-request {a}")));
    #[cfg(feature = "response")]
    expected.extend(
        actions(crate::rules::response_parse::SUPPORTED).map(|a| format!("http-response {a}")),
    );
    let missing: Vec<&String> = expected
        .iter()
        .filter(|k| !rows.contains(&k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "no row in docs/keywords.md for {missing:?}"
    );
}

#[test]
fn rows_are_read() {
    // The reader itself: a table it could not parse would make the test above vacuous.
    let rows = rows();
    assert!(rows.contains(&"url_beg"));
    assert!(rows.contains(&"-i") && rows.contains(&"--"));
    assert!(rows.len() > 150, "{} rows", rows.len());
}

//! Header edits (`set-header`, `add-header`, `del-header`, `replace-header`,
//! `replace-value`) and how a header list takes them, as HAProxy 2.6 does: `del`
//! removes every line of the name (any case), `set` removes them and appends one
//! line at the end, `add` appends, `replace` rewrites one line in place.
//! One function serves router-core (the ACLs after the rule see the edit) and
//! the hosts (what the server receives).

use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

/// What an edit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EditOp {
    /// Remove every line of the name, then append one.
    Set,
    /// Append one line.
    Add,
    /// Remove every line of the name.
    Del,
    /// Give the line that is the Nth (from 0) of the name a new value, in place.
    Replace(u32),
}

/// One header edit, its value already computed for the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderEdit {
    /// Set, add or delete.
    pub op: EditOp,
    /// Header name as configured.
    pub name: String,
    /// Value (empty for `Del`).
    pub value: String,
}

/// Applies `edits` in order to a header list whose entries give their name
/// through `name_of`; `make` builds the entry an edit appends.
pub fn apply<'e, H>(
    headers: &mut Vec<H>,
    edits: &'e [HeaderEdit],
    name_of: impl Fn(&H) -> &str,
    make: impl Fn(&'e HeaderEdit) -> H,
) {
    for e in edits {
        if let EditOp::Replace(nth) = e.op {
            let line = headers
                .iter()
                .enumerate()
                .filter(|(_, h)| name_of(h).eq_ignore_ascii_case(&e.name))
                .nth(nth as usize)
                .map(|(i, _)| i);
            if let Some(i) = line {
                // Its name as configured: the same but for case, which HAProxy
                // does not keep either (it writes names in lower case).
                headers[i] = make(e);
            }
            continue;
        }
        if matches!(e.op, EditOp::Set | EditOp::Del) {
            headers.retain(|h| !name_of(h).eq_ignore_ascii_case(&e.name));
        }
        if matches!(e.op, EditOp::Set | EditOp::Add) {
            headers.push(make(e));
        }
    }
}

/// A borrowed header list with `edits` applied.
pub fn edited<'a>(
    headers: &[(&'a str, &'a str)],
    edits: &'a [HeaderEdit],
) -> Vec<(&'a str, &'a str)> {
    let mut out = headers.to_vec();
    apply(
        &mut out,
        edits,
        |h| h.0,
        |e| (e.name.as_str(), e.value.as_str()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn edit(op: EditOp, name: &str, value: &str) -> HeaderEdit {
        HeaderEdit {
            op,
            name: name.to_string(),
            value: value.to_string(),
        }
    }

    /// Seen on HAProxy 2.6.12: `set-header X-A fe-set`, `add-header X-B added`,
    /// `del-header X-Del`, then the backend's `set-header X-Be b1`, for a request
    /// with `X-A: client1`, `X-Del: 1`, `X-A: client2`, `X-B: c`.
    #[test]
    fn order_is_haproxys() {
        let headers = [
            ("host", "h"),
            ("X-A", "client1"),
            ("X-Del", "1"),
            ("x-a", "client2"),
            ("X-B", "c"),
        ];
        let edits = [
            edit(EditOp::Set, "X-A", "fe-set"),
            edit(EditOp::Add, "X-B", "added"),
            edit(EditOp::Del, "x-del", ""),
            edit(EditOp::Set, "X-Be", "b1"),
        ];
        assert_eq!(
            edited(&headers, &edits),
            [
                ("host", "h"),
                ("X-B", "c"),
                ("X-A", "fe-set"),
                ("X-B", "added"),
                ("X-Be", "b1")
            ]
        );
        let mut owned: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        apply(
            &mut owned,
            &edits,
            |h| h.0.as_str(),
            |e| (e.name.clone(), e.value.clone()),
        );
        let owned: Vec<(&str, &str)> = owned
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(owned, edited(&headers, &edits));
    }

    /// Seen on HAProxy 2.6.12: `replace-header X-A b Z` with `X-A: abc`, `X-B: 1`,
    /// `x-a: c, b,b` gives `x-a: Z`, `x-b: 1`, `x-a: Z` (each line in place).
    #[test]
    fn replace_is_in_place() {
        let edits = [
            edit(EditOp::Replace(0), "X-A", "Z"),
            edit(EditOp::Replace(1), "X-A", "Z"),
            edit(EditOp::Replace(5), "X-A", "never"),
        ];
        assert_eq!(
            edited(&[("X-A", "abc"), ("X-B", "1"), ("x-a", "c, b,b")], &edits),
            [("X-A", "Z"), ("X-B", "1"), ("X-A", "Z")]
        );
    }

    #[test]
    fn a_deleted_appended_line_is_gone() {
        let edits = [
            edit(EditOp::Add, "X", "1"),
            edit(EditOp::Add, "Y", "2"),
            edit(EditOp::Del, "X", ""),
            edit(EditOp::Add, "X", "3"),
        ];
        assert_eq!(edited(&[("X", "0")], &edits), [("Y", "2"), ("X", "3")]);
    }
}

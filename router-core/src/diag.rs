//! Configuration errors and warnings: every one names the file, line, column and
//! keyword, and carries a hint when a fix is known.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::Serialize;

/// What a diagnostic is about. Errors stop the config from loading; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// A keyword that the section does not know.
    UnknownKeyword,
    /// A keyword that exists but not in this kind of section.
    NotAllowedHere,
    /// A keyword HAProxy has that Wt Edge does not implement (refused, never ignored).
    Unsupported,
    /// A keyword is missing an argument.
    MissingArgument,
    /// An argument has the wrong form (bad number, time, address, code...).
    InvalidValue,
    /// A line could not be split into words (quotes, escapes).
    Syntax,
    /// A condition names an ACL that is not declared before it in its section.
    UnknownAcl,
    /// A rule names a backend that does not exist.
    UnknownBackend,
    /// A rule or `track` names a server that does not exist.
    UnknownServer,
    /// Two sections or two servers share a name.
    Duplicate,
    /// `track` chains loop back to themselves.
    TrackCycle,
    /// `track` names a server that has no `check` and tracks nothing.
    TrackWithoutCheck,
    /// A legacy (HAProxy 1.4) keyword, accepted and mapped to its modern form.
    Legacy,
    /// A `redirect` written after a `use_backend`: it still runs first.
    RedirectAfterUseBackend,
    /// Session-prefix ACLs where one prefix is the start of another (`wt1`, `wt10`).
    CollidingPrefix,
    /// An ACL used in a backend but declared in a frontend (HAProxy 1.4 visibility).
    CrossSectionAcl,
    /// A proxy that can never be reached or can never forward anywhere.
    Unreachable,
    /// A section without `mode http`: HAProxy would run it in TCP mode.
    NotHttpMode,
    /// A session rule guarded by `nbsrv(B)`: draining a server of B (a rolling
    /// deploy) sends its sessions elsewhere, logging their users out.
    DrainBreaksAffinity,
}

/// One error or warning about a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// What the diagnostic is about.
    pub kind: DiagnosticKind,
    /// The file name given to [`crate::parse`].
    pub file: String,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column of the offending word.
    pub column: u32,
    /// The keyword of the line (`acl`, `server`, `timeout connect`...).
    pub keyword: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when known ("did you mean ...", the modern spelling...).
    pub hint: Option<String>,
}

impl Diagnostic {
    fn fmt_with(&self, f: &mut fmt::Formatter<'_>, level: &str) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {level}: '{}': {}",
            self.file, self.line, self.column, self.keyword, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }

    /// Displays the diagnostic as a warning line.
    pub fn as_warning(&self) -> impl fmt::Display + '_ {
        Leveled(self, "warning")
    }

    /// Displays the diagnostic as an error line.
    pub fn as_error(&self) -> impl fmt::Display + '_ {
        Leveled(self, "error")
    }
}

struct Leveled<'a>(&'a Diagnostic, &'static str);

impl fmt::Display for Leveled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_with(f, self.1)
    }
}

/// The errors that stopped a configuration from loading, with the warnings seen so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Errors {
    /// At least one error, in file order.
    pub errors: Vec<Diagnostic>,
    /// Warnings found before and around the errors.
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", e.as_error())?;
        }
        Ok(())
    }
}

impl core::error::Error for Errors {}

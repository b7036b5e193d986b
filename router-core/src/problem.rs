//! A parse problem before it is placed in a file: the parser adds file, line
//! and keyword to make a [`crate::Diagnostic`].

use alloc::string::String;

use crate::diag::DiagnosticKind;

/// An error or warning found on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem.
    pub kind: DiagnosticKind,
    /// 1-based column of the offending word.
    pub col: u32,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem without a hint.
    pub fn new(kind: DiagnosticKind, col: u32, message: impl Into<String>) -> Self {
        Problem {
            kind,
            col,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a hint when there is one.
    pub fn maybe_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

//! How an exchange ended, as HAProxy 2.6 logs it: the two-letter termination state
//! (`--`, `CD`, `sH`, `SC`, `PR`, `LR`...) of the access log's `%ts` field.
//!
//! HAProxy keeps the two halves as stream flags (`SF_ERR_*` and `SF_FINST_*` in
//! `include/haproxy/stream-t.h`) and prints them through `sess_term_cond` and
//! `sess_fin_state` (`src/log.c`). The hosts pick the values; the letters are written
//! here only, so that both hosts print them alike.

use core::fmt;

/// What ended the exchange (HAProxy's `SF_ERR_*`, the first letter). A lower-case
/// letter is a timeout on that side, an upper-case one an error or a close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Nothing went wrong (`-`).
    None,
    /// The proxy answered itself, which is no error: a redirect, a `return`, the
    /// stats page (`L`).
    Local,
    /// The client's timeout struck (`c`).
    ClientTimeout,
    /// The client closed or failed (`C`).
    ClientClosed,
    /// The server's (or the connect, or the queue) timeout struck (`s`).
    ServerTimeout,
    /// The server closed, refused or failed (`S`).
    ServerClosed,
    /// The proxy decided to end it: a deny, an invalid message (`P`).
    Proxy,
    /// The proxy lacked a local resource (`R`).
    Resource,
    /// The proxy failed internally (`I`).
    Internal,
    /// The server went down while serving (`D`).
    Down,
    /// Killed on request, from the runtime API (`K`).
    Killed,
    /// A preferred server came back (`U`).
    Up,
}

/// Where the exchange stood when it ended (HAProxy's `SF_FINST_*`, the second letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// It went to its end (`-`).
    None,
    /// Reading the client's request (`R`).
    Request,
    /// Connecting to the server (`C`).
    Connect,
    /// Waiting for the server's response head (`H`).
    Headers,
    /// Moving the body (`D`).
    Data,
    /// Pushing the last data to the client (`L`).
    Last,
    /// Waiting in a queue for a server slot (`Q`).
    Queue,
    /// Held by `tarpit` (`T`).
    Tarpit,
}

/// The termination state of one exchange: its cause and its phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Termination {
    /// What ended it.
    pub cause: Cause,
    /// Where it stood.
    pub phase: Phase,
}

impl Cause {
    /// HAProxy's letter (`sess_term_cond`).
    pub const fn letter(self) -> char {
        match self {
            Cause::None => '-',
            Cause::Local => 'L',
            Cause::ClientTimeout => 'c',
            Cause::ClientClosed => 'C',
            Cause::ServerTimeout => 's',
            Cause::ServerClosed => 'S',
            Cause::Proxy => 'P',
            Cause::Resource => 'R',
            Cause::Internal => 'I',
            Cause::Down => 'D',
            Cause::Killed => 'K',
            Cause::Up => 'U',
        }
    }
}

impl Phase {
    /// HAProxy's letter (`sess_fin_state`).
    pub const fn letter(self) -> char {
        match self {
            Phase::None => '-',
            Phase::Request => 'R',
            Phase::Connect => 'C',
            Phase::Headers => 'H',
            Phase::Data => 'D',
            Phase::Last => 'L',
            Phase::Queue => 'Q',
            Phase::Tarpit => 'T',
        }
    }
}

impl Termination {
    /// A complete exchange: `--`.
    pub const NORMAL: Termination = Termination::new(Cause::None, Phase::None);

    /// The state `cause` in `phase`.
    pub const fn new(cause: Cause, phase: Phase) -> Self {
        Termination { cause, phase }
    }

    /// The two letters as they appear in the log line.
    pub fn letters(self) -> [u8; 2] {
        // Both letters are ASCII.
        [self.cause.letter() as u8, self.phase.letter() as u8]
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char(self.cause.letter())?;
        f.write_char(self.phase.letter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// The letters, read off HAProxy 2.6's tables: `sess_term_cond` is
    /// "-LcCsSPRIDKU" and `sess_fin_state` "-RCHDLQT" (src/log.c), in the order of the
    /// `SF_ERR_*` and `SF_FINST_*` values.
    #[test]
    fn letters_are_haproxys_tables() {
        let causes = [
            Cause::None,
            Cause::Local,
            Cause::ClientTimeout,
            Cause::ClientClosed,
            Cause::ServerTimeout,
            Cause::ServerClosed,
            Cause::Proxy,
            Cause::Resource,
            Cause::Internal,
            Cause::Down,
            Cause::Killed,
            Cause::Up,
        ];
        let cond: alloc::string::String = causes.iter().map(|c| c.letter()).collect();
        assert_eq!(cond, "-LcCsSPRIDKU");
        let phases = [
            Phase::None,
            Phase::Request,
            Phase::Connect,
            Phase::Headers,
            Phase::Data,
            Phase::Last,
            Phase::Queue,
            Phase::Tarpit,
        ];
        let fin: alloc::string::String = phases.iter().map(|p| p.letter()).collect();
        assert_eq!(fin, "-RCHDLQT");
    }

    /// Codes seen in HAProxy 2.6's logs print as they are written there.
    #[test]
    fn prints_the_two_letters() {
        assert_eq!(Termination::NORMAL.to_string(), "--");
        let t = Termination::new(Cause::ServerTimeout, Phase::Headers);
        assert_eq!(t.to_string(), "sH");
        assert_eq!(t.letters(), *b"sH");
        let t = Termination::new(Cause::ClientTimeout, Phase::Data);
        assert_eq!(t.to_string(), "cD");
        let t = Termination::new(Cause::Proxy, Phase::Request);
        assert_eq!(t.to_string(), "PR");
    }
}

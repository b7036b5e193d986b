//! Splits one haproxy.cfg line into words, as HAProxy's `parse_line()` does:
//! blanks separate words, `#` starts a comment outside quotes, `\` escapes,
//! `"..."` groups with escapes, `'...'` groups literally.

use alloc::string::String;
use alloc::vec::Vec;

/// One word of a configuration line, with the 1-based column where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word after quote removal and escape processing.
    pub text: String,
    /// 1-based column (in characters) of the word's first character.
    pub col: u32,
    /// True when any part of the word was quoted or escaped, so `{`, `!` or
    /// `or` written that way are data, not syntax.
    pub quoted: bool,
}

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    /// A quote opened at this column is never closed.
    UnterminatedQuote(u32),
    /// A `\x` escape at this column is not followed by two hex digits.
    BadHexEscape(u32),
    /// A backslash ends the line.
    TrailingBackslash(u32),
}

/// Splits `line` into words. Comments are dropped.
pub fn split_words(line: &str) -> Result<Vec<Word>, LexError> {
    let mut words = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
            i += 1;
            continue;
        }
        if c == '#' {
            break;
        }
        let start = i;
        let mut text = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            match c {
                ' ' | '\t' | '\r' | '\n' => break,
                '#' => break,
                '\\' => {
                    quoted = true;
                    i = escape(&chars, i, &mut text)?;
                }
                '\'' => {
                    quoted = true;
                    let open = i;
                    i += 1;
                    loop {
                        match chars.get(i) {
                            None => return Err(LexError::UnterminatedQuote(col(open))),
                            Some('\'') => {
                                i += 1;
                                break;
                            }
                            Some(&ch) => {
                                text.push(ch);
                                i += 1;
                            }
                        }
                    }
                }
                '"' => {
                    quoted = true;
                    let open = i;
                    i += 1;
                    loop {
                        match chars.get(i) {
                            None => return Err(LexError::UnterminatedQuote(col(open))),
                            Some('"') => {
                                i += 1;
                                break;
                            }
                            Some('\\') => i = escape(&chars, i, &mut text)?,
                            Some(&ch) => {
                                text.push(ch);
                                i += 1;
                            }
                        }
                    }
                }
                _ => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        words.push(Word {
            text,
            col: col(start),
            quoted,
        });
    }
    Ok(words)
}

fn col(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Handles the escape at `chars[i] == '\\'`, returns the index after it. As
/// HAProxy's `parse_line()`: a backslash before anything but a space, `\\`,
/// `#`, a quote, `r`, `n`, `t` or `xHH` is kept (`\1` and `\.` reach the
/// regexes of `replace-header`... unchanged).
fn escape(chars: &[char], i: usize, out: &mut String) -> Result<usize, LexError> {
    let Some(&next) = chars.get(i + 1) else {
        return Err(LexError::TrailingBackslash(col(i)));
    };
    match next {
        'r' => out.push('\r'),
        'n' => out.push('\n'),
        't' => out.push('\t'),
        'x' => {
            let hi = chars.get(i + 2).and_then(|c| c.to_digit(16));
            let lo = chars.get(i + 3).and_then(|c| c.to_digit(16));
            match (hi, lo) {
                (Some(h), Some(l)) => {
                    out.push(char::from(u8::try_from(h * 16 + l).unwrap_or(b'?')));
                    return Ok(i + 4);
                }
                _ => return Err(LexError::BadHexEscape(col(i))),
            }
        }
        ' ' | '\\' | '#' | '\'' | '"' => out.push(next),
        _ => {
            out.push('\\');
            return Ok(i + 1);
        }
    }
    Ok(i + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split_words(line)
            .unwrap_or_default()
            .into_iter()
            .map(|w| w.text)
            .collect()
    }

    #[test]
    fn blanks_separate_words() {
        assert_eq!(
            texts("  acl\tx  path_beg /a "),
            ["acl", "x", "path_beg", "/a"]
        );
    }

    #[test]
    fn comment_ends_line_outside_quotes() {
        assert_eq!(
            texts("server a 1.2.3.4:80 # main"),
            ["server", "a", "1.2.3.4:80"]
        );
        assert_eq!(
            texts("redirect location \"/a#b\""),
            ["redirect", "location", "/a#b"]
        );
        assert_eq!(texts("x a\\#b"), ["x", "a#b"]);
    }

    #[test]
    fn quotes_group_and_escape() {
        assert_eq!(texts("a \"b c\" 'd \\e'"), ["a", "b c", "d \\e"]);
        assert_eq!(texts("a b\\ c"), ["a", "b c"]);
        assert_eq!(texts("a \"x\\\"y\""), ["a", "x\"y"]);
        assert_eq!(texts("a \\x41\\t"), ["a", "A\t"]);
        // Not escapes in HAProxy's parse_line(): the backslash stays (regexes).
        assert_eq!(
            texts("r ^(a)\\?(.*)$ \\2-\\1 \"\\d\\.\""),
            ["r", "^(a)\\?(.*)$", "\\2-\\1", "\\d\\."]
        );
        assert_eq!(texts("a pre\"mid\"post"), ["a", "premidpost"]);
    }

    #[test]
    fn columns_are_one_based() {
        let w = split_words("  acl  x").unwrap_or_default();
        assert_eq!((w[0].col, w[1].col), (3, 8));
        assert!(!w[0].quoted);
    }

    #[test]
    fn errors() {
        assert_eq!(split_words("a \"b"), Err(LexError::UnterminatedQuote(3)));
        assert_eq!(split_words("a 'b"), Err(LexError::UnterminatedQuote(3)));
        assert_eq!(split_words("a \\xZZ"), Err(LexError::BadHexEscape(3)));
        assert_eq!(split_words("a \\"), Err(LexError::TrailingBackslash(3)));
    }
}

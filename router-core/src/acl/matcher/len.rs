//! `-m len` / `_len`: the length of a text sample, compared as an integer
//! (implemented in [`super::Matcher::matches`]; this file holds its tests).

#[cfg(test)]
mod tests {
    use crate::acl::fetch::Sample;
    use crate::acl::matcher::{IntRange, Matcher};
    use crate::acl::pattern::Pattern;

    #[test]
    fn length() {
        let pats = [Pattern::Int(IntRange::at_least(4))];
        assert!(Matcher::Len.matches(Sample::Str("/abc"), &pats, false));
        assert!(!Matcher::Len.matches(Sample::Str("/ab"), &pats, false));
    }
}

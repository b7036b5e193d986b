//! HAProxy time values: a plain number is milliseconds; suffixes `us ms s m h d`.

/// Parses a time value into milliseconds (microseconds round up to 1 ms, as a
/// timeout of a few microseconds still has to fire after some time).
pub fn parse_ms(text: &str) -> Option<u64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (num, unit) = text.split_at(digits);
    let n: u64 = num.parse().ok()?;
    let ms = match unit {
        "" | "ms" => Some(n),
        "us" => Some(n.div_ceil(1000)),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => None,
    }?;
    // HAProxy refuses timers that do not fit its signed 32-bit tick arithmetic.
    if ms > i32::MAX as u64 { None } else { Some(ms) }
}

#[cfg(test)]
mod tests {
    use super::parse_ms;

    #[test]
    fn suffixes() {
        assert_eq!(parse_ms("5000"), Some(5000));
        assert_eq!(parse_ms("5000ms"), Some(5000));
        assert_eq!(parse_ms("10s"), Some(10_000));
        assert_eq!(parse_ms("2m"), Some(120_000));
        assert_eq!(parse_ms("1h"), Some(3_600_000));
        assert_eq!(parse_ms("1d"), Some(86_400_000));
        assert_eq!(parse_ms("1500us"), Some(2));
    }

    #[test]
    fn refused() {
        assert_eq!(parse_ms(""), None);
        assert_eq!(parse_ms("s"), None);
        assert_eq!(parse_ms("10x"), None);
        assert_eq!(parse_ms("-5"), None);
        assert_eq!(parse_ms("1.5s"), None);
        assert_eq!(parse_ms("30d"), None);
    }
}

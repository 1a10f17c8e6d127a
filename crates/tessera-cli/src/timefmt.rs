//! Human-readable times: RFC 3339 UTC through tessera-core (the `time`
//! crate underneath), relative spans and durations.

use tessera_core::internal::ethereum::Rfc3339Time;

/// `2026-11-23T02:00:00Z`; a time outside years 0000-9999 (which RFC 3339
/// cannot write) is shown as its Unix seconds.
pub fn rfc3339(ts: i64) -> String {
    Rfc3339Time::from_unix(ts).map_or_else(
        |_| format!("{ts} (Unix seconds, outside years 0000-9999)"),
        |t| t.to_string(),
    )
}

/// `in 14m 3s` / `2h 1m ago`
pub fn relative(ts: i64, now: i64) -> String {
    let delta = ts - now;
    let mut n = delta.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400u64), ("h", 3_600), ("m", 60), ("s", 1)] {
        if n >= size || (unit == "s" && parts.is_empty()) {
            parts.push(format!("{}{unit}", n / size));
            n %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    let span = parts.join(" ");
    if delta >= 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// Parses `15m`, `1h`, `30s`, `2d`, `1w` or plain seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        Some((i, 'd')) => (&s[..i], 86_400),
        Some((i, 'w')) => (&s[..i], 604_800),
        _ => (s, 1),
    };
    num.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("invalid duration {s:?}: use e.g. 90s, 15m, 1h, 7d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(253_402_300_800),
            "253402300800 (Unix seconds, outside years 0000-9999)"
        );
        assert_eq!(relative(100, 40), "in 1m");
        assert_eq!(relative(105, 40), "in 1m 5s");
        assert_eq!(relative(0, 3_700), "1h 1m ago");
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("15m").unwrap(), 900);
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration("2d").unwrap(), 172_800);
        assert!(parse_duration("-5m").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
    }
}

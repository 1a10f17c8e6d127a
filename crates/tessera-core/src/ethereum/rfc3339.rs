//! RFC 3339 §5.6 `date-time`, as EIP-4361 uses it: parsed strictly, kept
//! with its original text so that a message rebuilds byte for byte.
//!
//! Accepted: `YYYY-MM-DD` `T` `hh:mm:ss` [`.` 1+ digits] then `Z` or
//! `±hh:mm`; `t`/`z` in lowercase too (RFC 3339 §5.6 NOTE). Checked: month
//! 1-12, the day against the month (leap years included, so `2022-02-31` is
//! refused), hour 0-23, minute 0-59, second 0-60 (a leap second counts as
//! the first second of the next minute), offset hour 0-23 and minute 0-59.
//! Fractions beyond nanoseconds are accepted and truncated.

use crate::error::{Error, Result};
use std::cmp::Ordering;
use std::fmt;

/// A parsed RFC 3339 instant with its original text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Rfc3339Time {
    text: String,
    unix: i64,
    nanos: u32,
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Rfc3339Time {
    /// Parses an RFC 3339 `date-time`; anything else is `malformed`.
    pub fn parse(text: &str) -> Result<Rfc3339Time> {
        let bad = || Error::malformed("not an RFC 3339 date-time");
        let b = text.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(bad());
        }
        let year = i64::from(digits(&b[0..4]).ok_or_else(bad)?);
        let month = digits(&b[5..7]).ok_or_else(bad)?;
        let day = digits(&b[8..10]).ok_or_else(bad)?;
        let hour = digits(&b[11..13]).ok_or_else(bad)?;
        let minute = digits(&b[14..16]).ok_or_else(bad)?;
        let second = digits(&b[17..19]).ok_or_else(bad)?;
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(bad());
        }
        let mut rest = &b[19..];
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix(b".") {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(bad());
            }
            let mut scale = 100_000_000u32;
            for &d in frac.iter().take(n.min(9)) {
                nanos += u32::from(d - b'0') * scale;
                scale /= 10;
            }
            rest = &frac[n..];
        }
        let offset_seconds = match rest {
            [b'Z' | b'z'] => 0i64,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let oh = digits(&[*h1, *h2]).ok_or_else(bad)?;
                let om = digits(&[*m1, *m2]).ok_or_else(bad)?;
                if oh > 23 || om > 59 {
                    return Err(bad());
                }
                let s = i64::from(oh * 3600 + om * 60);
                if *sign == b'+' {
                    s
                } else {
                    -s
                }
            }
            _ => return Err(bad()),
        };
        let local = days_from_civil(year, month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second);
        Ok(Rfc3339Time {
            text: text.to_owned(),
            unix: local - offset_seconds,
            nanos,
        })
    }

    /// The instant `unix` (whole seconds, UTC), written `YYYY-MM-DDThh:mm:ssZ`.
    /// `malformed` outside years 0000-9999.
    pub fn from_unix(unix: i64) -> Result<Rfc3339Time> {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return Err(Error::malformed("RFC 3339 years are 0000 to 9999"));
        }
        let text = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        Ok(Rfc3339Time {
            text,
            unix,
            nanos: 0,
        })
    }

    /// The original text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whole Unix seconds (rounded down).
    pub fn unix_seconds(&self) -> i64 {
        self.unix
    }

    /// The sub-second part, in nanoseconds.
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// Orders this instant against a whole Unix second.
    pub fn cmp_unix(&self, unix: i64) -> Ordering {
        (self.unix, self.nanos).cmp(&(unix, 0))
    }
}

impl fmt::Display for Rfc3339Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Rfc3339Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rfc3339Time({:?})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_converts() {
        let t = Rfc3339Time::parse("2021-09-30T16:25:24.000Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_633_019_124);
        assert_eq!(t.as_str(), "2021-09-30T16:25:24.000Z");
        let t = Rfc3339Time::parse("2021-09-30T16:25:24-02:00").unwrap();
        assert_eq!(t.unix_seconds(), 1_633_019_124 + 7200);
        let t = Rfc3339Time::parse("2022-06-30T14:08:51.382Z").unwrap();
        assert_eq!(t.nanos(), 382_000_000);
        assert_eq!(
            Rfc3339Time::parse("1970-01-01T00:00:00Z")
                .unwrap()
                .unix_seconds(),
            0
        );
        assert_eq!(
            Rfc3339Time::parse("2000-02-29T00:00:00Z")
                .unwrap()
                .unix_seconds(),
            951_782_400
        );
        assert_eq!(
            Rfc3339Time::from_unix(1_633_019_124).unwrap().as_str(),
            "2021-09-30T16:25:24Z"
        );
        assert_eq!(
            Rfc3339Time::from_unix(0).unwrap().as_str(),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn refuses_impossible_or_loose_text() {
        for bad in [
            "2022-02-31T17:09:38.578Z",
            "2023-02-29T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-00-01T00:00:00Z",
            "2021-01-01T24:00:00Z",
            "2021-01-01T00:60:00Z",
            "2021-01-01T00:00:61Z",
            "2021-01-01 00:00:00Z",
            "2021-01-01T00:00:00",
            "2021-01-01T00:00:00.Z",
            "2021-01-01T00:00:00+0200",
            "2021-01-01T00:00:00+24:00",
            "Wed Oct 05 2011 16:48:00 GMT+0200 (CEST)",
            "2021-1-01T00:00:00Z",
            "+021-01-01T00:00:00Z",
            "2021-01-01T00:00:00Zjunk",
            "",
        ] {
            assert!(Rfc3339Time::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn round_trips_every_day_of_a_leap_span() {
        for day in 0..(4 * 366) {
            let unix = 946_684_800 + day * 86_400 + 3_723;
            let t = Rfc3339Time::from_unix(unix).unwrap();
            assert_eq!(Rfc3339Time::parse(t.as_str()).unwrap().unix_seconds(), unix);
        }
    }
}

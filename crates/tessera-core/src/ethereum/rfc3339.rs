//! RFC 3339 §5.6 `date-time`, as EIP-4361 uses it: parsed strictly, kept
//! with its original text so that a message rebuilds byte for byte.
//!
//! Parsed and written by the `time` crate (`well_known::Rfc3339`), which
//! takes `YYYY-MM-DD` `T` `hh:mm:ss` [`.` 1+ digits] then `Z` or `±hh:mm`
//! (`z` too), checks month 1-12, the day against the month (leap years
//! included, so `2022-02-31` is refused), hour 0-23, minute 0-59, second
//! 0-59, offset hour 0-23 and minute 0-59, and truncates fractions beyond
//! nanoseconds. Two rules are kept here by hand, where the crate differs:
//! - the separator is `T` or `t` only (RFC 3339 §5.6 NOTE allows the
//!   lowercase; the crate takes any character, a space included);
//! - second 60 (a leap second) is accepted at any minute and counts as the
//!   first second of the next minute, as before; the crate takes it only at
//!   the last second of a month in UTC and reads it as 59.999999999.

use crate::error::{Error, Result};
use std::cmp::Ordering;
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A parsed RFC 3339 instant with its original text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Rfc3339Time {
    text: String,
    unix: i64,
    nanos: u32,
}

impl Rfc3339Time {
    /// Parses an RFC 3339 `date-time`; anything else is `malformed`.
    pub fn parse(text: &str) -> Result<Rfc3339Time> {
        let bad = || Error::malformed("not an RFC 3339 date-time");
        let b = text.as_bytes();
        // By hand: `T` or `t` between date and time (see the module comment).
        if b.len() < 20 || !matches!(b[10], b'T' | b't') {
            return Err(bad());
        }
        // By hand: a leap second is read as second 59 plus one second (see the
        // module comment). Anything the crate then accepts has the fixed
        // layout, so bytes 17-18 were the seconds.
        let leap = &b[17..19] == b"60";
        let dt = if leap {
            let (head, tail) = (
                text.get(..17).ok_or_else(bad)?,
                text.get(19..).ok_or_else(bad)?,
            );
            let dt = OffsetDateTime::parse(&format!("{head}59{tail}"), &Rfc3339);
            dt.map(|dt| (dt.unix_timestamp() + 1, dt.nanosecond()))
        } else {
            OffsetDateTime::parse(text, &Rfc3339).map(|dt| (dt.unix_timestamp(), dt.nanosecond()))
        };
        let (unix, nanos) = dt.map_err(|_| bad())?;
        Ok(Rfc3339Time {
            text: text.to_owned(),
            unix,
            nanos,
        })
    }

    /// The instant `unix` (whole seconds, UTC), written `YYYY-MM-DDThh:mm:ssZ`.
    /// `malformed` outside years 0000-9999.
    pub fn from_unix(unix: i64) -> Result<Rfc3339Time> {
        let range = || Error::malformed("RFC 3339 years are 0000 to 9999");
        // The crate writes `Z` for UTC and no fraction for whole seconds, and
        // refuses years outside 0000-9999.
        let text = OffsetDateTime::from_unix_timestamp(unix)
            .map_err(|_| range())?
            .format(&Rfc3339)
            .map_err(|_| range())?;
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

    /// The rules kept by hand next to the crate (module comment).
    #[test]
    fn keeps_lowercase_and_leap_seconds() {
        let t = Rfc3339Time::parse("2021-09-30t16:25:24z").unwrap();
        assert_eq!(t.unix_seconds(), 1_633_019_124);
        // A leap second at any minute is the first second of the next one.
        let t = Rfc3339Time::parse("2021-09-30T16:24:60.25+00:00").unwrap();
        assert_eq!((t.unix_seconds(), t.nanos()), (1_633_019_100, 250_000_000));
        let t = Rfc3339Time::parse("2016-12-31T23:59:60Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_483_228_800);
        for bad in [
            "2021-09-30x16:25:24Z",
            "2021-09-30_16:25:24Z",
            "2021-09-30\u{e9}16:25:24Z",
        ] {
            assert!(Rfc3339Time::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Rfc3339Time::from_unix(253_402_300_800).is_err());
        assert!(Rfc3339Time::from_unix(-62_167_219_201).is_err());
        assert_eq!(
            Rfc3339Time::from_unix(-62_167_219_200).unwrap().as_str(),
            "0000-01-01T00:00:00Z"
        );
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

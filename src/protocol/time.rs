//! Instants on the wire: Unix milliseconds and the compact UTC formats KooGallery uses.
//!
//! V1 `timeStamp` is `yyyyMMddHHmmssSSS` and `expireTime` is `yyyyMMddHHmmss`, both UTC
//! (spec: koogallery-saas-v1.md §1); V2 `timestamp` is Unix milliseconds
//! (koogallery-v2-kit-license.md §1.3) and V2 `expireTime` is documented as 14 digits but
//! shown with 17 in the example (§9 item 2), so parsing accepts both.
//!
//! Nothing here reads a clock: callers pass the instant in.

use std::fmt;

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixMillis(pub i64);

const MS_PER_DAY: i64 = 86_400_000;

/// A compact timestamp did not have the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a UTC time in the form {expected}")]
pub struct TimeFormatError {
    /// The text that was given.
    pub text: String,
    /// The accepted forms.
    pub expected: &'static str,
}

impl UnixMillis {
    /// The instant `ms` milliseconds after this one.
    pub fn plus_ms(self, ms: i64) -> Self {
        Self(self.0 + ms)
    }

    /// V1 `timeStamp`: `yyyyMMddHHmmssSSS` (17 digits).
    pub fn to_v1_timestamp(self) -> String {
        let (date, ms_of_day) = self.split();
        format!("{date}{}", clock_digits(ms_of_day, true))
    }

    /// The Kit's `timeStamp`: `yyyyMMddHHmmssSSS` in UTC+8 (Beijing time), 17 digits (spec:
    /// koogallery-v2-kit-license.md §3, example `20220413093539534`).
    pub fn to_kit_timestamp(self) -> String {
        Self(self.0 + 8 * 3_600_000).to_v1_timestamp()
    }

    /// The online License's `effectiveTime`/`expireTime`: `yyyy-MM-dd HH:mm:ss z`, UTC, as
    /// the documented example writes it (`"2023-10-27 10:30:15 z"`, spec §4.5).
    pub fn to_license_time(self) -> String {
        format!("{} z", self.to_dashed_seconds())
    }

    /// `yyyy-MM-dd HH:mm:ss`, UTC.
    pub fn to_dashed_seconds(self) -> String {
        let c = self.to_compact_seconds();
        format!(
            "{}-{}-{} {}:{}:{}",
            &c[0..4],
            &c[4..6],
            &c[6..8],
            &c[8..10],
            &c[10..12],
            &c[12..14]
        )
    }

    /// `expireTime` and friends: `yyyyMMddHHmmss` (14 digits).
    pub fn to_compact_seconds(self) -> String {
        let (date, ms_of_day) = self.split();
        format!("{date}{}", clock_digits(ms_of_day, false))
    }

    /// The open APIs' metering and signing time: `yyyyMMdd'T'HHmmss'Z'` (spec:
    /// koogallery-v2-kit-license.md §6.2, §6.4, §7.2).
    pub fn to_basic_iso(self) -> String {
        let compact = self.to_compact_seconds();
        format!("{}T{}Z", &compact[..8], &compact[8..])
    }

    /// Parses `yyyyMMdd'T'HHmmss'Z'`.
    pub fn parse_basic_iso(text: &str) -> Result<Self, TimeFormatError> {
        let error = || TimeFormatError {
            text: text.to_owned(),
            expected: "yyyyMMdd'T'HHmmss'Z'",
        };
        let bytes = text.as_bytes();
        if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
            return Err(error());
        }
        Self::parse_compact(&format!("{}{}", &text[..8], &text[9..15])).map_err(|_| error())
    }

    /// Parses a 14-digit (`yyyyMMddHHmmss`) or 17-digit (`yyyyMMddHHmmssSSS`) UTC time.
    pub fn parse_compact(text: &str) -> Result<Self, TimeFormatError> {
        let error = || TimeFormatError {
            text: text.to_owned(),
            expected: "yyyyMMddHHmmss or yyyyMMddHHmmssSSS",
        };
        if !(text.len() == 14 || text.len() == 17) || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        let num =
            |range: std::ops::Range<usize>| -> i64 { text[range].parse().unwrap_or_default() };
        let (year, month, day) = (num(0..4), num(4..6), num(6..8));
        let (hour, minute, second) = (num(8..10), num(10..12), num(12..14));
        let millis = if text.len() == 17 { num(14..17) } else { 0 };
        let valid = (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return Err(error());
        }
        let days = days_from_civil(year, month, day);
        Ok(Self(
            days * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + millis,
        ))
    }

    /// The same wall time `months` calendar months later (or earlier), the day clamped to the
    /// target month's length (31 Jan + 1 month = 28/29 Feb), as billing periods count.
    pub fn plus_months(self, months: i64) -> Self {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let total = y * 12 + (m - 1) + months;
        let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
        let day = d.min(days_in_month(year, month));
        Self(days_from_civil(year, month, day) * MS_PER_DAY + ms_of_day)
    }

    fn split(self) -> (String, i64) {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        (format!("{y:04}{m:02}{d:02}"), ms_of_day)
    }
}

impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn clock_digits(ms_of_day: i64, with_millis: bool) -> String {
    let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    if with_millis {
        format!("{h:02}{m:02}{s:02}{ms:03}")
    } else {
        format!("{h:02}{m:02}{s:02}")
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Proleptic Gregorian calendar <-> days since 1970-01-01 (H. Hinnant's algorithms).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_documented_examples() {
        // 2020-07-27T07:37:11.903Z, the timeStamp of the real debug request in the spec.
        let t = UnixMillis(1_595_835_431_903);
        assert_eq!(t.to_v1_timestamp(), "20200727073711903");
        assert_eq!(t.to_compact_seconds(), "20200727073711");
        assert_eq!(t.to_basic_iso(), "20200727T073711Z");
        assert_eq!(t.to_license_time(), "2020-07-27 07:37:11 z");
        // The Kit example pairs x-timestamp 1649813739534 with timeStamp 20220413093539534:
        // the same instant in UTC+8 (spec §1.6, §3.2).
        assert_eq!(
            UnixMillis(1_649_813_739_534).to_kit_timestamp(),
            "20220413093539534"
        );
        assert_eq!(
            UnixMillis::parse_basic_iso("20200727T073711Z").unwrap().0,
            t.0 - t.0 % 1000
        );
        assert!(UnixMillis::parse_basic_iso("20200727 073711Z").is_err());
        assert!(UnixMillis::parse_basic_iso("20201327T073711Z").is_err());
    }

    #[test]
    fn parses_both_lengths() {
        assert_eq!(
            UnixMillis::parse_compact("20200727073711903"),
            Ok(UnixMillis(1_595_835_431_903))
        );
        assert_eq!(
            UnixMillis::parse_compact("20200727073711"),
            Ok(UnixMillis(1_595_835_431_000))
        );
        assert_eq!(
            UnixMillis::parse_compact("19700101000000"),
            Ok(UnixMillis(0))
        );
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "2020072707371",
            "2020-07-27T07",
            "20201327073711",
            "20200230000000",
            "20200727246000",
        ] {
            assert!(UnixMillis::parse_compact(bad).is_err(), "{bad}");
        }
        assert!(UnixMillis::parse_compact("20200229000000").is_ok());
    }

    #[test]
    fn adds_calendar_months_with_clamping() {
        let jan31 = UnixMillis::parse_compact("20240131120000").unwrap();
        assert_eq!(jan31.plus_months(1).to_compact_seconds(), "20240229120000");
        assert_eq!(jan31.plus_months(13).to_compact_seconds(), "20250228120000");
        assert_eq!(jan31.plus_months(-2).to_compact_seconds(), "20231130120000");
        assert_eq!(jan31.plus_months(12).to_compact_seconds(), "20250131120000");
    }

    #[test]
    fn round_trips_across_eras() {
        for ms in [
            0,
            951_782_400_000,
            4_102_444_800_123,
            -86_400_000,
            1_709_690_865_879,
        ] {
            let t = UnixMillis(ms);
            assert_eq!(UnixMillis::parse_compact(&t.to_v1_timestamp()), Ok(t));
        }
    }
}

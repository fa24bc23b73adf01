//! Instants on the wire: Unix milliseconds and the compact UTC formats KooGallery uses.
//!
//! V1 `timeStamp` is `yyyyMMddHHmmssSSS` and `expireTime` is `yyyyMMddHHmmss`, both UTC
//! (spec: koogallery-saas-v1.md §1); V2 `timestamp` is Unix milliseconds
//! (koogallery-v2-kit-license.md §1.3) and V2 `expireTime` is documented as 14 digits but
//! shown with 17 in the example (§9 item 2), so parsing accepts both.
//!
//! Nothing here reads a clock: callers pass the instant in. Calendar arithmetic (civil days,
//! month ends) is jiff's; business times shown in Beijing time use one fixed UTC+8 zone,
//! [`BEIJING`] (China has no daylight saving time).

use std::fmt;

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{Span, Timestamp};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixMillis(pub i64);

/// Beijing time, UTC+8: the Kit's `timeStamp`, the console's clock and its dial-test slots.
pub(crate) const BEIJING: TimeZone = TimeZone::fixed(Offset::constant(8));

/// A compact timestamp did not have the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a UTC time in the form {expected}")]
pub(crate) struct TimeFormatError {
    /// The text that was given.
    pub(crate) text: String,
    /// The accepted forms.
    pub(crate) expected: &'static str,
}

/// `yyyyMMddHHmmssSSS`, written digit by digit: every signed request carries one, and the
/// general formatter costs more than the rest of the signing (load mode).
fn compact_millis(civil: DateTime) -> String {
    let fields = [
        (i64::from(civil.year()), 4),
        (i64::from(civil.month()), 2),
        (i64::from(civil.day()), 2),
        (i64::from(civil.hour()), 2),
        (i64::from(civil.minute()), 2),
        (i64::from(civil.second()), 2),
        (i64::from(civil.millisecond()), 3),
    ];
    let mut text = String::with_capacity(17);
    for (value, width) in fields {
        let value = value.clamp(0, 10_i64.pow(width) - 1);
        for place in (0..width).rev() {
            let digit = (value / 10_i64.pow(place)) % 10;
            text.push(char::from(b'0' + digit as u8));
        }
    }
    text
}

impl UnixMillis {
    /// The instant `ms` milliseconds after this one.
    pub fn plus_ms(self, ms: i64) -> Self {
        Self(self.0 + ms)
    }

    /// V1 `timeStamp`: `yyyyMMddHHmmssSSS` (17 digits).
    pub(crate) fn to_v1_timestamp(self) -> String {
        compact_millis(self.civil(&TimeZone::UTC))
    }

    /// The Kit's `timeStamp`: `yyyyMMddHHmmssSSS` in UTC+8 (Beijing time), 17 digits (spec:
    /// koogallery-v2-kit-license.md §3, example `20220413093539534`).
    pub(crate) fn to_kit_timestamp(self) -> String {
        compact_millis(self.civil(&BEIJING))
    }

    /// The online License's `effectiveTime`/`expireTime`: `yyyy-MM-dd HH:mm:ss z`, UTC, as
    /// the documented example writes it (`"2023-10-27 10:30:15 z"`, spec §4.5).
    pub(crate) fn to_license_time(self) -> String {
        format!("{} z", self.to_dashed_seconds())
    }

    /// Parses the online License's `yyyy-MM-dd HH:mm:ss z` (UTC; the ` z` optional).
    pub(crate) fn parse_license_time(text: &str) -> Result<Self, TimeFormatError> {
        let error = || TimeFormatError {
            text: text.to_owned(),
            expected: "yyyy-MM-dd HH:mm:ss z",
        };
        let bare = text.trim().trim_end_matches(['z', 'Z']).trim_end();
        let digits: String = bare.chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 14 || bare.len() != 19 {
            return Err(error());
        }
        Self::parse_compact(&digits).map_err(|_| error())
    }

    /// `yyyy-MM-dd HH:mm:ss`, UTC.
    pub(crate) fn to_dashed_seconds(self) -> String {
        dashed(self.civil(&TimeZone::UTC))
    }

    /// `yyyy-MM-dd HH:mm:ss` in Beijing time (the console's pages).
    pub(crate) fn to_beijing_dashed_seconds(self) -> String {
        dashed(self.civil(&BEIJING))
    }

    /// The day of the month (1–31) this instant falls on, in UTC.
    pub(crate) fn utc_day_of_month(self) -> i8 {
        self.civil(&TimeZone::UTC).day()
    }

    /// The day this instant falls on in Beijing time.
    pub(crate) fn beijing_date(self) -> Date {
        self.civil(&BEIJING).date()
    }

    /// The instant a day starts at in Beijing time.
    pub(crate) fn start_of_beijing_day(date: Date) -> Self {
        Self::of(
            BEIJING
                .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
                .unwrap_or(Timestamp::MAX),
        )
    }

    /// `expireTime` and friends: `yyyyMMddHHmmss` (14 digits).
    pub(crate) fn to_compact_seconds(self) -> String {
        self.civil(&TimeZone::UTC)
            .strftime("%Y%m%d%H%M%S")
            .to_string()
    }

    /// ISO 8601 in UTC with milliseconds, `2021-11-17T01:37:52.729Z` (the CAS example).
    pub fn to_iso_millis(self) -> String {
        self.civil(&TimeZone::UTC)
            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    }

    /// The open APIs' metering and signing time: `yyyyMMdd'T'HHmmss'Z'` (spec:
    /// koogallery-v2-kit-license.md §6.2, §6.4, §7.2).
    pub(crate) fn to_basic_iso(self) -> String {
        self.civil(&TimeZone::UTC)
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string()
    }

    /// Parses `yyyyMMdd'T'HHmmss'Z'`.
    pub(crate) fn parse_basic_iso(text: &str) -> Result<Self, TimeFormatError> {
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
    pub(crate) fn parse_compact(text: &str) -> Result<Self, TimeFormatError> {
        let error = || TimeFormatError {
            text: text.to_owned(),
            expected: "yyyyMMddHHmmss or yyyyMMddHHmmssSSS",
        };
        if !(text.len() == 14 || text.len() == 17) || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        let num = |range: std::ops::Range<usize>| -> i16 { text[range].parse().unwrap_or(-1) };
        let narrow = |value: i16| i8::try_from(value).unwrap_or(-1);
        let millis = if text.len() == 17 { num(14..17) } else { 0 };
        let civil = DateTime::new(
            num(0..4),
            narrow(num(4..6)),
            narrow(num(6..8)),
            narrow(num(8..10)),
            narrow(num(10..12)),
            narrow(num(12..14)),
            i32::from(millis) * 1_000_000,
        )
        .map_err(|_| error())?;
        let instant = TimeZone::UTC.to_timestamp(civil).map_err(|_| error())?;
        Ok(Self::of(instant))
    }

    /// The same wall time `months` calendar months later (or earlier), the day clamped to the
    /// target month's length (31 Jan + 1 month = 28/29 Feb), as billing periods count.
    pub(crate) fn plus_months(self, months: i64) -> Self {
        let civil = self.civil(&TimeZone::UTC);
        let moved = Span::new()
            .try_months(months)
            .ok()
            .and_then(|span| civil.checked_add(span).ok());
        match moved.and_then(|civil| TimeZone::UTC.to_timestamp(civil).ok()) {
            Some(instant) => Self::of(instant),
            // Beyond the calendar jiff keeps (years ±9999): the limit.
            None if months < 0 => Self::of(Timestamp::MIN),
            None => Self::of(Timestamp::MAX),
        }
    }

    /// This instant on the civil calendar of a zone; instants beyond years ±9999 are taken
    /// at that limit.
    fn civil(self, zone: &TimeZone) -> DateTime {
        let instant = Timestamp::from_millisecond(self.0).unwrap_or(if self.0 < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        });
        zone.to_datetime(instant)
    }

    fn of(instant: Timestamp) -> Self {
        Self(instant.as_millisecond())
    }
}

fn dashed(civil: DateTime) -> String {
    civil.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
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
    fn beijing_time_is_utc_plus_eight() {
        let t = UnixMillis(1_704_067_200_000);
        assert_eq!(t.to_beijing_dashed_seconds(), "2024-01-01 08:00:00");
        let late = UnixMillis(1_704_067_200_000 + 16 * 3_600_000);
        assert_eq!(late.beijing_date().to_string(), "2024-01-02");
        assert_eq!(
            UnixMillis::start_of_beijing_day(late.beijing_date()),
            UnixMillis(1_704_067_200_000 + 16 * 3_600_000)
        );
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

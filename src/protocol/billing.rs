//! Billing modes and subscription periods, with their wire codes in each protocol.
//!
//! V1 newInstance carries `chargingMode` as a number (spec: koogallery-saas-v1.md §4.1:
//! `0` on-demand, `1` period, `3` one-time, `5` on-demand package) and refreshInstance a
//! `periodType` (`year`/`month`) with `periodNumber`. V2 requests carry no order details; the
//! query-order API names modes in text (`PERIOD`, `ONE_TIME`, `ON_DEMAND`, `ON_DEMAND_PKG`,
//! koogallery-v2-kit-license.md §6.3).

use std::fmt;
use std::str::FromStr;

use crate::protocol::time::UnixMillis;

/// How a product is billed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum BillingMode {
    /// Yearly/monthly subscription (包周期).
    #[default]
    Period,
    /// One-time purchase (按次).
    OneTime,
    /// Pay per use (按需).
    OnDemand,
    /// On-demand package (按需套餐包).
    Package,
}

impl BillingMode {
    /// V1 `chargingMode`.
    pub(crate) fn v1_charging_mode(self) -> &'static str {
        match self {
            Self::OnDemand => "0",
            Self::Period => "1",
            Self::OneTime => "3",
            Self::Package => "5",
        }
    }

    /// The query-order API's text name.
    pub(crate) fn order_api_name(self) -> &'static str {
        match self {
            Self::Period => "PERIOD",
            Self::OneTime => "ONE_TIME",
            Self::OnDemand => "ON_DEMAND",
            Self::Package => "ON_DEMAND_PKG",
        }
    }

    /// Whether newInstance carries an `expireTime` (period and package, §4.1).
    pub(crate) fn has_expiry(self) -> bool {
        matches!(self, Self::Period | Self::Package)
    }

    /// Whether the idempotency key of newInstance includes the productId (on-demand, §4.1).
    pub(crate) fn keys_on_product(self) -> bool {
        self == Self::OnDemand
    }

    /// Whether the grace/retention periods of on-demand resources apply (on-demand and
    /// packages) rather than those of yearly/monthly ones.
    pub(crate) fn is_on_demand_family(self) -> bool {
        matches!(self, Self::OnDemand | Self::Package)
    }
}

// The kebab-case name used in profiles and scenarios.
crate::slug_impls!(pub BillingMode, "billing mode", {
    Period = "period",
    OneTime = "one-time",
    OnDemand = "on-demand",
    Package = "package",
});

/// The unit of a subscription period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PeriodUnit {
    /// Days (trials; daily products).
    Day,
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
}

/// A subscription period: `1 month`, `1 year`, `7 days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// The unit.
    pub(crate) unit: PeriodUnit,
    /// How many units.
    pub(crate) count: u32,
}

impl Period {
    /// One month, the default subscription.
    pub(crate) const ONE_MONTH: Period = Period {
        unit: PeriodUnit::Month,
        count: 1,
    };

    /// The instant this period ends when it starts at `start`.
    pub(crate) fn end_from(self, start: UnixMillis) -> UnixMillis {
        let count = i64::from(self.count);
        match self.unit {
            PeriodUnit::Day => start.plus_ms(count * 86_400_000),
            PeriodUnit::Month => start.plus_months(count),
            PeriodUnit::Year => start.plus_months(12 * count),
        }
    }

    /// V1 `periodType` (`year`/`month`; days have no documented value, `day` [I:v1-period-type-day]).
    pub(crate) fn v1_period_type(self) -> &'static str {
        match self.unit {
            PeriodUnit::Day => "day",
            PeriodUnit::Month => "month",
            PeriodUnit::Year => "year",
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            PeriodUnit::Day => "day",
            PeriodUnit::Month => "month",
            PeriodUnit::Year => "year",
        };
        let plural = if self.count == 1 { "" } else { "s" };
        write!(f, "{} {unit}{plural}", self.count)
    }
}

/// Not a period such as `1 month`, `2 years`, `7 days`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a period such as `1 month`, `1 year` or `7 days`")]
pub struct InvalidPeriod(pub String);

impl FromStr for Period {
    type Err = InvalidPeriod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || InvalidPeriod(s.to_owned());
        let (count, unit) = s.trim().split_once(' ').ok_or_else(error)?;
        let count: u32 = count.parse().map_err(|_| error())?;
        let unit = match unit.trim() {
            "day" | "days" => PeriodUnit::Day,
            "month" | "months" => PeriodUnit::Month,
            "year" | "years" => PeriodUnit::Year,
            _ => return Err(error()),
        };
        if count == 0 {
            return Err(error());
        }
        Ok(Self { unit, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_periods() {
        for text in ["1 month", "2 years", "7 days"] {
            assert_eq!(text.parse::<Period>().unwrap().to_string(), text);
        }
        assert!("0 months".parse::<Period>().is_err());
        assert!("month".parse::<Period>().is_err());
        assert!("1 fortnight".parse::<Period>().is_err());
    }

    #[test]
    fn periods_end_on_calendar_boundaries() {
        let start = UnixMillis::parse_compact("20240131000000").unwrap();
        assert_eq!(
            Period::ONE_MONTH.end_from(start).to_compact_seconds(),
            "20240229000000"
        );
        let year: Period = "1 year".parse().unwrap();
        assert_eq!(year.end_from(start).to_compact_seconds(), "20250131000000");
        let week: Period = "7 days".parse().unwrap();
        assert_eq!(week.end_from(start).to_compact_seconds(), "20240207000000");
    }

    #[test]
    fn wire_codes() {
        let codes: Vec<_> = BillingMode::ALL
            .iter()
            .map(|m| m.v1_charging_mode())
            .collect();
        assert_eq!(codes, ["1", "3", "0", "5"]);
        assert_eq!("on-demand".parse(), Ok(BillingMode::OnDemand));
    }
}

//! The console's own words, typed: an attempt's verdict, why saved cases were replayed, what
//! a clock control does. Each has one slug — in the API, on the pages and in the database.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// The console's verdict on one attempt.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptVerdict {
    /// The console accepts the answer.
    Accepted,
    /// Accepted, the instance still being provisioned (V2: opened once queryInstance lists it).
    Provisioning,
    /// The console refuses the answer.
    Rejected,
}

crate::slug_impls!(pub AttemptVerdict, "attempt verdict", {
    Accepted = "accepted",
    Provisioning = "provisioning",
    Rejected = "rejected",
});

/// Why every saved case of a product was replayed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DialReason {
    /// A scheduled dial test (00:00 and 12:00 Beijing time).
    Dial,
    /// "Replay all": the check the platform runs after a product edit.
    Replay,
}

crate::slug_impls!(pub(crate) DialReason, "dial reason", { Dial = "dial", Replay = "replay" });

/// What a test-clock control does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ClockOp {
    /// Move forward by a duration.
    Advance,
    /// Jump to the next scheduled event.
    Next,
    /// Stop the clock.
    Freeze,
    /// Let it run again.
    Thaw,
}

crate::slug_impls!(pub(crate) ClockOp, "clock operation", {
    Advance = "advance",
    Next = "next",
    Freeze = "freeze",
    Thaw = "thaw",
});

/// Stores a slug enum as its text.
macro_rules! sql_text {
    ($($type:ident),+) => {$(
        impl ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.slug()))
            }
        }

        impl FromSql for $type {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value
                    .as_str()?
                    .parse()
                    .map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    )+};
}

sql_text!(AttemptVerdict, DialReason);

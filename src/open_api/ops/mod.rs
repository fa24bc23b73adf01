//! The operations behind the open APIs, one file each: what they answer and what they find
//! wrong with the merchant's call. Authentication has already passed when they run.

pub(crate) mod identity;
pub(crate) mod license;
pub(crate) mod query_order;
pub(crate) mod upload;
pub(crate) mod usage;

use std::collections::BTreeSet;

use axum::body::Bytes;
use serde_json::Value;

use crate::checks::CheckId;
use crate::open_api::book::{CallFinding, UsageRecordEntry};

/// What an operation answers, and what it found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// HTTP status.
    pub(crate) status: u16,
    /// The JSON answer.
    pub(crate) body: Value,
    /// What the merchant's call broke.
    pub(crate) findings: Vec<CallFinding>,
    /// The orders, instances and codes the call names.
    pub(crate) subjects: BTreeSet<String>,
    /// A usage push's records, accepted or abnormal.
    pub(crate) records: Vec<UsageRecordEntry>,
    /// A redirect's `Location` (the identity centre's authorize and logout).
    pub(crate) location: Option<String>,
    /// A body that is not the JSON `body` (CAS XML): its Content-Type and text.
    pub(crate) text: Option<(&'static str, String)>,
}

impl Reply {
    /// An answer with its status and body, no finding yet.
    pub(crate) fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            findings: Vec::new(),
            subjects: BTreeSet::new(),
            records: Vec::new(),
            location: None,
            text: None,
        }
    }

    /// The `{error_code, error_msg}` answer of a code triple.
    pub(crate) fn envelope((status, code, message): (u16, &str, &str)) -> Self {
        Self::new(
            status,
            serde_json::json!({"error_code": code, "error_msg": message}),
        )
    }

    /// Adds a finding.
    pub(crate) fn finding(mut self, check: CheckId, message: impl Into<String>) -> Self {
        self.findings.push(CallFinding {
            check,
            message: message.into(),
        });
        self
    }

    /// Adds the subjects the call names.
    pub(crate) fn about(mut self, subjects: impl IntoIterator<Item = String>) -> Self {
        self.subjects.extend(subjects);
        self
    }
}

/// A request as it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// `GET`, `POST`, …
    pub(crate) method: String,
    /// The path.
    pub(crate) path: String,
    /// The raw query string.
    pub(crate) query: String,
    /// Every header, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Bytes,
}

impl Received {
    /// The first header with this name (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers as borrowed pairs.
    pub(crate) fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    pub(crate) fn is_json(&self) -> bool {
        self.header("content-type").is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        })
    }
}

/// Parses a JSON body into `T`, or says why it is not one.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not readable JSON ({e})"))?;
    serde_json::from_value(value)
        .map_err(|e| format!("the body does not have the documented fields ({e})"))
}

//! The open APIs and the identity centre on the console's state: each product's orders and
//! instances are published by its [`crate::console::live::Live`]; the merchant's calls are
//! stored in the database as the book records them (no page or API read writes them).

use std::sync::{Arc, Mutex};

use crate::console::store::{MerchantCallRow, StoredFinding, Writer};
use crate::open_api::{Book, MerchantCall};
use crate::protocol::open_api::Endpoint;

/// Stores every call the book records from now on, as it is recorded.
pub(super) fn record_calls_as_they_come(book: &Book, writer: &Arc<Mutex<Writer>>) {
    let writer = writer.clone();
    book.on_record(Arc::new(move |call: &MerchantCall| {
        let row = row_of(call);
        let mut writer = writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(error) = writer.record_merchant_calls(&[row]) {
            tracing::error!(%error, "could not store the merchant's open-API call");
        }
    }));
}

/// The stored row of a call.
fn row_of(call: &MerchantCall) -> MerchantCallRow {
    let findings = call
        .findings
        .iter()
        .map(|f| StoredFinding {
            check: f.check.id().to_owned(),
            message: f.message.clone(),
        })
        .collect();
    MerchantCallRow {
        id: 0,
        product_id: (call.scope != 0).then_some(call.scope as i64),
        at: call.at.0,
        endpoint: call
            .endpoint
            .as_ref()
            .map_or("unknown", Endpoint::name)
            .to_owned(),
        request_line: call.request_line.clone(),
        status: i64::from(call.status),
        findings,
    }
}

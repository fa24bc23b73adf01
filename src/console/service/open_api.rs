//! The open APIs and the identity centre on the console's state: each product's orders and
//! instances are published by its [`crate::console::live::Live`]; the merchant's calls are
//! stored in the database as the book records them (no page or API read writes them).

use std::sync::{Arc, Mutex};

use crate::console::store::{MerchantCallRow, StoredFinding, UsageRecordRow, Writer};
use crate::open_api::{Book, MerchantCall};
use crate::protocol::open_api::Endpoint;

/// Stores every call the book records from now on, as it is recorded.
pub(super) fn record_calls_as_they_come(book: &Book, writer: &Arc<Mutex<Writer>>) {
    let writer = writer.clone();
    book.on_record(Arc::new(move |call: &MerchantCall| {
        let row = row_of(call);
        let records: Vec<UsageRecordRow> = call
            .records
            .iter()
            .map(|r| UsageRecordRow {
                id: 0,
                product_id: row.product_id,
                at: row.at,
                instance_id: r.instance_id.clone(),
                metering_sn: r.metering_sn.clone(),
                begin_time: r.begin_time.clone(),
                end_time: r.end_time.clone(),
                usage_value: r.usage_value.clone(),
                status: String::new(),
                code: r.code.clone(),
                message: r.message.clone(),
            })
            .collect();
        let mut writer = writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(error) = writer.record_merchant_calls(&[row], &records) {
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
        product_id: super::product_of_scope(call.scope),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::console::store::{self, Page, Reader};
    use crate::open_api::book::UsageRecordEntry;
    use crate::protocol::UnixMillis;

    #[test]
    fn a_pushs_records_are_listed_as_they_come_abnormal_ones_with_their_code() {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("usage.db");
        let writer = Arc::new(Mutex::new(Writer::new(store::open(&path).unwrap())));
        let book = Book::new();
        record_calls_as_they_come(&book, &writer);
        let entry = |sn: &str, code: Option<&str>| UsageRecordEntry {
            index: 0,
            instance_id: "inst".into(),
            metering_sn: sn.into(),
            begin_time: "20261118T000000Z".into(),
            end_time: "20261118T010000Z".into(),
            usage_value: "1".into(),
            code: code.map(str::to_owned),
            message: "duplicate record".into(),
        };
        book.record(MerchantCall {
            number: 0,
            scope: 0,
            at: UnixMillis(1),
            endpoint: Some(Endpoint::UsagePush),
            request_line: "POST /usage".into(),
            request_body: String::new(),
            status: 200,
            answer: r#"{"error_code":"MKT.0000"}"#.into(),
            subjects: BTreeSet::new(),
            findings: Vec::new(),
            records: vec![entry("sn-1", None), entry("sn-1", Some("010"))],
            reported: false,
        });
        let reader = Reader::new(store::open_reader(&path).unwrap());
        let rows = reader.usage_records(Page::first(10)).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].code.as_deref(), Some("010"));
        assert_eq!(rows[0].status, "abnormal");
        assert_eq!(rows[1].status, "accepted");
    }
}

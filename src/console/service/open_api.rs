//! The open APIs and the identity centre on the console's state.

use std::collections::BTreeMap;

use crate::console::service::{ConsoleError, Service};
use crate::console::store::MerchantCallRow;
use crate::marketplace::kind::ProductType;
use crate::openapi::Book;
use crate::openapi::book::Scope;
use crate::protocol::openapi::Endpoint;
use crate::scenario::run::publish::Publisher;

/// The open APIs and the identity centre, served on the console's state: each product's
/// orders and instances published to the book they answer from (scope = product id), and the
/// merchant's calls recorded in the database.
pub(super) struct OpenApiLink {
    pub(super) book: Book,
    pub(super) publishers: BTreeMap<i64, Publisher>,
    /// How many of the book's calls are in the database.
    pub(super) recorded: usize,
}

impl Service {
    /// Brings what the open APIs know of a product up to date.
    pub(super) fn publish(&mut self, product: i64) {
        let (Some(link), Some(live)) = (self.open_api.as_mut(), self.products.get(&product)) else {
            return;
        };
        let publisher = link.publishers.entry(product).or_insert_with(|| {
            let licensed = live.engine.settings().product != ProductType::Saas;
            Publisher::new(link.book.clone(), product as Scope, licensed)
        });
        publisher.sync(&live.engine);
    }

    /// Writes the merchant's new calls to the open APIs to the database.
    pub fn record_merchant_calls(&mut self) -> Result<(), ConsoleError> {
        let Some(link) = self.open_api.as_mut() else {
            return Ok(());
        };
        let fresh: Vec<MerchantCallRow> = {
            let state = link.book.lock();
            state.calls[link.recorded.min(state.calls.len())..]
                .iter()
                .map(|call| MerchantCallRow {
                    id: 0,
                    product_id: (call.scope != 0).then_some(call.scope as i64),
                    at: call.at.0,
                    endpoint: call.endpoint.as_ref().map_or("unknown", Endpoint::name).to_owned(),
                    request_line: call.request_line.clone(),
                    status: i64::from(call.status),
                    findings: serde_json::to_string(
                        &call
                            .findings
                            .iter()
                            .map(|f| serde_json::json!({"check": f.check.id(), "message": f.message}))
                            .collect::<Vec<_>>(),
                    )
                    .unwrap_or_default(),
                })
                .collect()
        };
        if !fresh.is_empty() {
            self.writer.record_merchant_calls(&fresh)?;
            link.recorded += fresh.len();
        }
        Ok(())
    }
}

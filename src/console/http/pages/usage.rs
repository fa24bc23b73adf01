//! `GET /usage-records` (话单管理): every usage record the merchant pushed, as the seller
//! centre lists them — the push is answered MKT.0000 whatever its records, and an abnormal
//! record shows here with its record code.

use std::sync::Arc;

use axum::extract::{Query, State};
use maud::{Markup, html};

use crate::console::http::App;
use crate::console::http::api::Paging;
use crate::console::http::pages::{PageResult, frame, rendered};
use crate::console::http::view::{badge, beijing, page as framed};
use crate::console::store::UsageRecordRow;

pub(super) async fn page(State(app): State<Arc<App>>, Query(paging): Query<Paging>) -> PageResult {
    let records = app.read(|r| r.usage_records(paging.page()))?;
    let frame = frame(&app, "话单管理 · Usage records");
    Ok(rendered(framed(&frame, &content(&records))))
}

/// The usage records' content.
pub(crate) fn content(records: &[UsageRecordRow]) -> Markup {
    html! {
        p.muted { "KooGallery takes a usage push without judging its records (\"不会在接口层进行报错\"): it answers MKT.0000, checks the records afterwards, and lists the abnormal ones here with their code; a repeated record is only counted once." }
        div.scroll {
            table #usage-records {
                tr { th { "When" } th { "Product" } th { "instance_id" } th { "metering_sn" } th { "Begin" } th { "End" } th { "Value" } th { "Status" } th { "Code" } th { "Why" } }
                @for record in records {
                    tr {
                        td { (beijing(record.at)) }
                        td { @if let Some(product) = record.product_id { (product) } }
                        td { code { (record.instance_id) } }
                        td { code { (record.metering_sn) } }
                        td { (record.begin_time) }
                        td { (record.end_time) }
                        td { (record.usage_value) }
                        td { (badge(if record.code.is_some() { "rejected" } else { "accepted" })) }
                        td { (record.code.as_deref().unwrap_or("")) }
                        td { (record.message) }
                    }
                }
                @if records.is_empty() {
                    tr { td colspan="10" { "No usage pushed yet." } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::pages::fixtures;

    #[test]
    fn usage_records() {
        let record = |code: Option<&str>, message: &str| UsageRecordRow {
            id: 1,
            product_id: Some(1),
            at: 1_795_000_000_000,
            instance_id: "inst-1".into(),
            metering_sn: "sn-<1>".into(),
            begin_time: "20261118T000000Z".into(),
            end_time: "20261118T010000Z".into(),
            usage_value: "1.5".into(),
            status: String::new(),
            code: code.map(str::to_owned),
            message: message.into(),
        };
        let records = [
            record(Some("010"), "duplicate record"),
            record(None, "accepted"),
        ];
        insta::assert_snapshot!(fixtures::lines(content(&records)));
    }
}

//! `GET /log` (生产接口消息): the notices whose retries ran out, each with 重新启动, and the
//! call log — every attempt, newest first, live over server-sent events.

use std::sync::Arc;

use axum::extract::{Query, State};
use maud::{Markup, html};

use crate::console::http::App;
use crate::console::http::api::Paging;
use crate::console::http::pages::{PageResult, frame, rendered};
use crate::console::http::view::{LogRow, beijing, button_form, log_row, page as framed};
use crate::console::store::{Counted, NoticeRow, Page};

/// What the call log shows.
#[derive(Debug, Clone)]
pub(crate) struct LogView {
    pub(crate) failed: Vec<NoticeRow>,
    /// Attempts recorded in all.
    pub(crate) total: i64,
    pub(crate) rows: Vec<LogRow>,
    pub(crate) page: Page,
}

pub(super) async fn page(State(app): State<Arc<App>>, Query(paging): Query<Paging>) -> PageResult {
    let page = paging.page();
    let view = LogView {
        failed: app.read(|r| r.failed_notices(Page::first(100)))?,
        total: app.read(|r| r.count(Counted::Attempts))?,
        rows: app
            .read(|r| r.log(page))?
            .iter()
            .map(LogRow::from)
            .collect(),
        page,
    };
    let frame = frame(&app, "生产接口消息 · Call log");
    Ok(rendered(framed(&frame, &content(&view, &frame.token))))
}

/// The call log's content.
pub(crate) fn content(view: &LogView, token: &str) -> Markup {
    let next = view.page.offset + view.page.limit;
    html! {
        h2 { "Failed notices" }
        div.scroll {
            table #failed {
                tr { th { "Product" } th { "Notice" } th { "Order" } th { "Attempts" } th { "First due" } th { "Restart" } }
                @for notice in &view.failed {
                    @let order = notice.order_id.as_deref().unwrap_or("");
                    tr {
                        td { (notice.product_id) }
                        td { (notice.activity) }
                        td { a href={ "/orders/" (order) } { (order) } }
                        td { (notice.attempts) }
                        td { (beijing(notice.first_due)) }
                        td { (button_form("/ui/restart", token, &[("product_id", notice.product_id.to_string()), ("call", notice.call.to_string())], "重新启动 · Restart", &format!("restart-{}-{}", notice.product_id, notice.call))) }
                    }
                }
                @if view.failed.is_empty() {
                    tr { td colspan="6" { "None." } }
                }
            }
        }
        h2 { "Call log " span.muted { "(" (view.total) " attempts, newest first, live)" } }
        div.scroll {
            table {
                thead { tr { th { "Product" } th { "Attempt" } th { "Verdict" } th { "Check" } th { "Message" } } }
                tbody #live-log aria-live="polite" {
                    @for row in &view.rows { (log_row(row, false)) }
                }
            }
        }
        @if i64::from(next) < view.total {
            p { a href={ "/log?offset=" (next) "&limit=" (view.page.limit) } { "Older →" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::pages::fixtures;
    use crate::console::vocab::AttemptVerdict;

    #[test]
    fn call_log() {
        let view = LogView {
            failed: vec![NoticeRow {
                product_id: 1,
                call: 4,
                activity: "instance-status".into(),
                order_id: Some("CS0001".into()),
                instance_ref: Some(0),
                state: "exhausted".into(),
                attempts: 61,
                first_due: 1_795_000_000_000,
                probe: false,
            }],
            total: 120,
            rows: vec![LogRow {
                product_id: 1,
                activity: "instance-status".into(),
                number: 61,
                at: 1_795_000_000_000,
                verdict: AttemptVerdict::Rejected,
                check_id: Some("console.http-status".into()),
                message: Some("HTTP 500".into()),
            }],
            page: Page::first(50),
        };
        insta::assert_snapshot!(fixtures::lines(content(&view, fixtures::TOKEN)));
    }
}

//! What every page shares, as maud markup (every value escaped unless it says otherwise):
//! the frame (navigation, the test clock, the live-log script), badges, the small POST forms
//! of buttons, and the call log's row — rendered here once, for the pages and for the live
//! log's events alike. Pure: view models in, markup out; no database, no clock.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::console::clock::ConsoleClock;
use crate::console::service::AttemptOutcome;
use crate::console::store::AttemptRow;
use crate::console::vocab::{AttemptVerdict, ClockOp};
use crate::protocol::UnixMillis;

/// What the frame shows around a page.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// The page title.
    pub(crate) title: String,
    /// The start token forms carry.
    pub(crate) token: String,
    /// The clock.
    pub(crate) clock: ConsoleClock,
    /// Now, on that clock.
    pub(crate) now: UnixMillis,
}

/// An instant as Beijing time (the console's), `2026-11-28 13:52:29`.
pub(crate) fn beijing(ms: i64) -> String {
    UnixMillis(ms).to_beijing_dashed_seconds()
}

/// A state or verdict as a coloured badge.
pub(crate) fn badge(text: &str) -> Markup {
    let class = match text {
        "accepted" | "opened" | "succeeded" | "active" | "passed" | "conformant" | "matched" => {
            "ok"
        }
        "rejected" | "failed" | "exhausted" | "refunded" | "not-conformant" | "changed"
        | "interrupted" => "bad",
        _ => "wait",
    };
    html! { span class={"badge " (class)} { (text) } }
}

/// A POST form of one button: the start token, `fields` as hidden inputs.
pub(crate) fn button_form(
    action: &str,
    token: &str,
    fields: &[(&str, String)],
    label: &str,
    id: &str,
) -> Markup {
    html! {
        form method="post" action=(action) class="inline" {
            input type="hidden" name="token" value=(token);
            @for (name, value) in fields {
                input type="hidden" name=(name) value=(value);
            }
            button type="submit" id=(id) { (label) }
        }
    }
}

/// A labelled `<select>` of slugs, `selected` chosen.
pub(crate) fn select(name: &str, label: &str, options: &[&str], selected: Option<&str>) -> Markup {
    html! {
        label for=(name) { (label) " " }
        select name=(name) id=(name) {
            @for option in options {
                option value=(option) selected[Some(*option) == selected] { (option) }
            }
        }
    }
}

/// One row of the call log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogRow {
    /// The product.
    pub(crate) product_id: i64,
    /// The activity's slug.
    pub(crate) activity: String,
    /// The attempt's number.
    pub(crate) number: i64,
    /// When it was due (Unix ms).
    pub(crate) at: i64,
    /// Its verdict.
    pub(crate) verdict: AttemptVerdict,
    /// The check a rejection reports under.
    pub(crate) check_id: Option<String>,
    /// The console's message.
    pub(crate) message: Option<String>,
}

impl From<&AttemptRow> for LogRow {
    fn from(row: &AttemptRow) -> Self {
        Self {
            product_id: row.product_id,
            activity: row.activity.clone(),
            number: row.number,
            at: row.at,
            verdict: row.verdict,
            check_id: row.check_id.clone(),
            message: row.message.clone(),
        }
    }
}

impl From<&AttemptOutcome> for LogRow {
    fn from(outcome: &AttemptOutcome) -> Self {
        Self {
            product_id: outcome.product_id,
            activity: outcome.activity.clone(),
            number: outcome.attempt,
            at: outcome.at,
            verdict: outcome.verdict,
            check_id: outcome.check_id.clone(),
            message: outcome.message.clone(),
        }
    }
}

/// The call log's row; `fresh` marks one that just arrived on the live log.
pub(crate) fn log_row(row: &LogRow, fresh: bool) -> Markup {
    html! {
        tr class=[fresh.then_some("fresh")] {
            td { (row.product_id) }
            td { (row.activity) " #" (row.number) " " span class="muted" { (beijing(row.at)) } }
            td { (badge(row.verdict.slug())) }
            td { (row.check_id.as_deref().unwrap_or("")) }
            td { (row.message.as_deref().unwrap_or("")) }
        }
    }
}

/// The page frame: header, navigation, the test clock, the page's content.
pub(crate) fn page(frame: &Frame, content: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (frame.title) " · kgsim console" }
                meta name="viewport" content="width=device-width, initial-scale=1";
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    strong { "kgsim" } " " span class="muted" { "local KooGallery seller console" }
                    nav aria-label="Main" {
                        a href="/" { "Products" } " "
                        a href="/log" { "生产接口消息 · Call log" } " "
                        a href="/openapi" { "Open-API calls" } " "
                        a href="/usage-records" { "话单管理 · Usage records" } " "
                        a href="/api/openapi.json" { "API" }
                    }
                }
                (clock_panel(frame))
                main {
                    h1 { (frame.title) }
                    (content)
                }
                script { (PreEscaped(LIVE_LOG_SCRIPT)) }
            }
        }
    }
}

/// The test clock: where it stands, and its controls.
fn clock_panel(frame: &Frame) -> Markup {
    let state = if frame.clock.frozen_at.is_some() {
        "frozen"
    } else if frame.clock.offset_ms != 0 {
        "running, advanced"
    } else {
        "wall time"
    };
    let (freeze, freeze_label) = if frame.clock.frozen_at.is_some() {
        (ClockOp::Thaw, "Thaw")
    } else {
        (ClockOp::Freeze, "Freeze")
    };
    let advance = |by: &str| {
        vec![
            ("op", ClockOp::Advance.slug().to_owned()),
            ("by", by.to_owned()),
        ]
    };
    let token = frame.token.as_str();
    html! {
        section.clock #clock aria-label="Test clock" {
            span { "Clock: " b #clock-now { (beijing(frame.now.0)) } " (Beijing) · " span #clock-state { (state) } }
            (button_form("/ui/clock", token, &advance("1h"), "+1 h", "advance-1h"))
            (button_form("/ui/clock", token, &advance("3h"), "+3 h", "advance-3h"))
            (button_form("/ui/clock", token, &advance("1d"), "+1 day", "advance-1d"))
            (button_form("/ui/clock", token, &[("op", ClockOp::Next.slug().to_owned())], "Next event", "clock-next"))
            (button_form("/ui/clock", token, &[("op", freeze.slug().to_owned())], freeze_label, "clock-freeze"))
            span.muted { "A clock move settles every product: it waits for a merchant that hangs, up to its timeout." }
        }
    }
}

/// The live call log: each recorded attempt arrives over server-sent events with its row
/// already rendered (by [`log_row`]); the script only inserts it.
const LIVE_LOG_SCRIPT: &str = "
(function () {
  var list = document.getElementById('live-log');
  if (!list || !window.EventSource) return;
  var source = new EventSource('/api/events');
  // Subscribed: what happens from now on will arrive (the browser test waits for this).
  source.onopen = function () { document.body.setAttribute('data-live', 'on'); };
  source.onmessage = function (event) {
    list.insertAdjacentHTML('afterbegin', JSON.parse(event.data).row);
  };
})();
";

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2129;background:#f6f7f9}
header{background:#c7000b;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header nav a{color:#fff;margin-right:16px;text-decoration:none}
header .muted{opacity:1}
header nav a:focus-visible,a:focus-visible,button:focus-visible{outline:2px solid #1d2129;outline-offset:2px}
.muted{opacity:.8;font-size:90%}
.clock{background:#fff;border-bottom:1px solid #e5e6eb;padding:8px 24px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
main{padding:8px 24px 40px}
h1{font-size:22px;overflow-wrap:anywhere}
.panel,label,p{overflow-wrap:anywhere}
h2{font-size:17px;margin-top:28px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #e5e6eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f2f3f5}
tr.fresh{background:#fffbe6}
.badge{padding:1px 8px;border-radius:10px;font-size:12px}
.ok{background:#e8ffea;color:#00603f}.bad{background:#ffece8;color:#a01b26}.wait{background:#f2f3f5;color:#3d4654}
form.inline{display:inline}
button{background:#fff;border:1px solid #c9cdd4;border-radius:4px;padding:3px 10px;cursor:pointer;margin:1px}
button:hover{border-color:#c7000b;color:#c7000b}
.panel{background:#fff;border:1px solid #e5e6eb;padding:12px 16px;margin:12px 0}
label{display:inline-block;margin:4px 12px 4px 0}
input[type=text],select,textarea{padding:3px 6px;border:1px solid #c9cdd4;border-radius:4px;max-width:100%}
pre{background:#1d2129;color:#e5e6eb;padding:10px;overflow-x:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
.warn{background:#fff7e8;border:1px solid #ff9a2e;padding:8px 12px}
.error{background:#ffece8;border:1px solid #cb2634;padding:8px 12px}
.field-error{color:#a01b26;font-size:12px;display:block}
.field{margin:4px 0}.field label{min-width:240px}
@media (max-width:640px){main{padding:8px}header,.clock{padding:8px}}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let markup = badge(r#"<script>"a"&'b'</script>"#).into_string();
        assert!(!markup.contains("<script>"), "{markup}");
        assert!(markup.contains("&lt;script&gt;"), "{markup}");
    }

    #[test]
    fn times_are_beijing_time() {
        assert_eq!(beijing(1_704_067_200_000), "2024-01-01 08:00:00");
    }

    #[test]
    fn a_log_row_renders_the_same_from_the_database_and_from_the_live_log() {
        let outcome = AttemptOutcome {
            product_id: 1,
            call: 0,
            activity: "new-instance".into(),
            attempt: 1,
            verdict: AttemptVerdict::Rejected,
            check_id: Some("console.http-status".into()),
            message: Some("HTTP 500 <oops>".into()),
            at: 1_704_067_200_000,
        };
        let stored = AttemptRow {
            id: 7,
            product_id: 1,
            call: 0,
            number: 1,
            at: 1_704_067_200_000,
            activity: "new-instance".into(),
            url: None,
            request: None,
            status: Some(500),
            answer: None,
            verdict: AttemptVerdict::Rejected,
            check_id: Some("console.http-status".into()),
            message: Some("HTTP 500 <oops>".into()),
        };
        assert_eq!(LogRow::from(&outcome), LogRow::from(&stored));
        let row = log_row(&LogRow::from(&outcome), false).into_string();
        assert!(row.contains("HTTP 500 &lt;oops&gt;"), "{row}");
    }
}

//! Server-rendered HTML: escaping, the page frame (navigation, clock controls, live log
//! script), and small pieces the pages share. No template engine: every value goes through
//! [`esc`].

use std::fmt::Write as _;

use crate::console::clock::ConsoleClock;
use crate::protocol::UnixMillis;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An instant as Beijing time (the console's), `2026-11-28 13:52:29`.
pub fn time(ms: i64) -> String {
    UnixMillis(ms + 8 * 3_600_000).to_dashed_seconds()
}

/// A verdict as a coloured badge.
pub fn badge(verdict: &str) -> String {
    let class = match verdict {
        "accepted" | "opened" | "succeeded" | "active" => "ok",
        "rejected" | "failed" | "exhausted" | "refunded" => "bad",
        _ => "wait",
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(verdict))
}

/// A POST form with the start token and a submit button; `fields` are hidden inputs.
pub fn button_form(
    action: &str,
    token: &str,
    fields: &[(&str, String)],
    label: &str,
    id: &str,
) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"{}\" class=\"inline\"><input type=\"hidden\" name=\"token\" value=\"{}\">",
        esc(action),
        esc(token)
    );
    for (name, value) in fields {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(value)
        );
    }
    let _ = write!(
        out,
        "<button type=\"submit\" id=\"{}\">{}</button></form>",
        esc(id),
        esc(label)
    );
    out
}

/// What the frame shows around a page.
pub struct Frame<'a> {
    /// The page title.
    pub title: &'a str,
    /// The start token for forms.
    pub token: &'a str,
    /// The clock.
    pub clock: ConsoleClock,
    /// Now, on that clock.
    pub now: UnixMillis,
}

/// The page frame: header, navigation, the test-clock panel, the body.
pub fn page(frame: &Frame<'_>, body: &str) -> String {
    let state = if frame.clock.frozen_at.is_some() {
        "frozen"
    } else if frame.clock.offset_ms != 0 {
        "running, advanced"
    } else {
        "wall time"
    };
    let freeze = if frame.clock.frozen_at.is_some() {
        ("thaw", "Thaw")
    } else {
        ("freeze", "Freeze")
    };
    let token = frame.token;
    let clock_buttons = [
        ("advance-1h", "1h", "+1 h"),
        ("advance-3h", "3h", "+3 h"),
        ("advance-1d", "1d", "+1 day"),
    ]
    .iter()
    .map(|(id, by, label)| {
        button_form(
            "/ui/clock",
            token,
            &[("op", "advance".into()), ("by", (*by).into())],
            label,
            id,
        )
    })
    .collect::<String>();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · kgsim console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{CSS}</style></head>
<body>
<header><strong>kgsim</strong> <span class="muted">local KooGallery seller console</span>
<nav><a href="/">Products</a> <a href="/log">生产接口消息 · Call log</a> <a href="/openapi">Open-API calls</a> <a href="/api/openapi.json">API</a></nav></header>
<section class="clock" id="clock"><span>Clock: <b id="clock-now">{now}</b> (Beijing) · <span id="clock-state">{state}</span></span>
{clock_buttons}{next}{freeze_form}</section>
<main><h1>{title}</h1>
{body}
</main>
<script>
// Live call log: every recorded attempt arrives over server-sent events.
(function () {{
  var list = document.getElementById('live-log');
  if (!list || !window.EventSource) return;
  var source = new EventSource('/api/events');
  // Subscribed: what happens from now on will arrive (the browser test waits for this).
  source.onopen = function () {{ document.body.setAttribute('data-live', 'on'); }};
  source.onmessage = function (event) {{
    var a = JSON.parse(event.data);
    var row = document.createElement('tr');
    row.className = 'fresh';
    [a.product_id, a.activity + ' #' + a.attempt, a.verdict, a.check_id || '', a.message || ''].forEach(function (text) {{
      var cell = document.createElement('td'); cell.textContent = text; row.appendChild(cell);
    }});
    list.insertBefore(row, list.firstChild);
  }};
}})();
</script>
</body></html>"#,
        title = esc(frame.title),
        now = time(frame.now.0),
        next = button_form(
            "/ui/clock",
            token,
            &[("op", "next".into())],
            "Next event",
            "clock-next"
        ),
        freeze_form = button_form(
            "/ui/clock",
            token,
            &[("op", freeze.0.into())],
            freeze.1,
            "clock-freeze"
        ),
    )
}

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2129;background:#f6f7f9}
header{background:#c7000b;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:baseline}
header nav a{color:#fff;margin-right:16px;text-decoration:none}
.muted{opacity:.8;font-size:90%}
.clock{background:#fff;border-bottom:1px solid #e5e6eb;padding:8px 24px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
main{padding:8px 24px 40px}
h1{font-size:22px}
h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #e5e6eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f2f3f5}
tr.fresh{background:#fffbe6}
.badge{padding:1px 8px;border-radius:10px;font-size:12px}
.ok{background:#e8ffea;color:#00a870}.bad{background:#ffece8;color:#cb2634}.wait{background:#f2f3f5;color:#4e5969}
form.inline{display:inline}
button{background:#fff;border:1px solid #c9cdd4;border-radius:4px;padding:3px 10px;cursor:pointer;margin:1px}
button:hover{border-color:#c7000b;color:#c7000b}
.panel{background:#fff;border:1px solid #e5e6eb;padding:12px 16px;margin:12px 0}
label{display:inline-block;margin:4px 12px 4px 0}
input[type=text],select{padding:3px 6px;border:1px solid #c9cdd4;border-radius:4px}
pre{background:#1d2129;color:#e5e6eb;padding:10px;overflow-x:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
.warn{background:#fff7e8;border:1px solid #ff9a2e;padding:8px 12px}
.error{background:#ffece8;border:1px solid #cb2634;padding:8px 12px}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            esc(r#"<script>"a"&'b'</script>"#),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn times_are_beijing_time() {
        assert_eq!(time(1_704_067_200_000), "2024-01-01 08:00:00");
    }
}

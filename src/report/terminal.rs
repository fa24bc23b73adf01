//! The terminal report: a verdict per scenario; for failures, a timeline of attempts in
//! virtual time and each failed check with its id, expected vs got and `file:line`; a summary
//! line. Colour only on a terminal, and never with `NO_COLOR`.

use std::fmt::Write as _;

use crate::marketplace::Span;
use crate::report::diagnosis::is_explained;
use crate::report::model::Diagnosis;
use crate::report::model::{ExchangeReport, Report, ScenarioReport, Status};

/// Whether to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Colour {
    /// ANSI colours.
    On,
    /// Plain text.
    Off,
}

impl Colour {
    /// On for a terminal, unless `NO_COLOR` is set (https://no-color.org).
    pub(crate) fn detect(is_terminal: bool) -> Self {
        if is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
            Self::On
        } else {
            Self::Off
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Self::On => format!("\x1b[{code}m{text}\x1b[0m"),
            Self::Off => text.to_owned(),
        }
    }
}

/// A one-line account of an exchange: `+1h call 1 attempt 2 newInstance 000000 instance#1`.
pub(crate) fn timeline_line(exchange: &ExchangeReport) -> String {
    let mut line = format!(
        "{:<7} call {} attempt {}  {}",
        exchange.at, exchange.call, exchange.attempt, exchange.activity
    );
    if let Some(fault) = &exchange.fault {
        line.push_str(&format!("  [{fault}]"));
    }
    match (&exchange.response, &exchange.transport) {
        (Some(response), _) => {
            let body: Option<serde_json::Value> = serde_json::from_str(&response.body).ok();
            let field = |name: &str| {
                body.as_ref()
                    .and_then(|b| b.get(name))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            line.push_str(&format!("  → HTTP {}", response.status));
            match field("resultCode") {
                Some(code) => line.push_str(&format!(" {code}")),
                None => line.push_str(" (no resultCode)"),
            }
            if let Some(id) = field("instanceId") {
                line.push_str(&format!(" {id}"));
            }
        }
        (None, Some(transport)) => line.push_str(&format!("  → {transport}")),
        (None, None) => {}
    }
    if exchange.transport.is_some() && exchange.response.is_some() {
        line.push_str("  (answer dropped)");
    }
    line.push_str(&format!("  {}", exchange.verdict));
    line
}

/// How many alike exchanges in a row are shown before the rest are counted.
const ALIKE_SHOWN: usize = 3;

/// A step's exchanges, one line each; without `verbose`, a run of exchanges that differ only
/// in their call and attempt numbers shows its first [`ALIKE_SHOWN`] and counts the rest.
fn timeline(out: &mut String, exchanges: &[ExchangeReport], verbose: bool) {
    let shape = |e: &ExchangeReport| {
        let mut alike = e.clone();
        (alike.call, alike.attempt) = (0, 0);
        timeline_line(&alike)
    };
    let mut run = 0;
    let mut folded = 0;
    for (index, exchange) in exchanges.iter().enumerate() {
        let same = index > 0 && shape(exchange) == shape(&exchanges[index - 1]);
        run = if same { run + 1 } else { 0 };
        if !verbose && run >= ALIKE_SHOWN {
            folded += 1;
            continue;
        }
        if folded > 0 {
            let _ = writeln!(out, "          … {folded} more like the above");
            folded = 0;
        }
        let _ = writeln!(out, "        {}", timeline_line(exchange));
    }
    if folded > 0 {
        let _ = writeln!(out, "          … {folded} more like the above");
    }
}

fn scenario(
    out: &mut String,
    report: &ScenarioReport,
    colour: Colour,
    folded: bool,
    verbose: bool,
) {
    let (label, code) = match report.status {
        Status::Passed => ("PASS", "32"),
        Status::Failed => ("FAIL", "31;1"),
        Status::Skipped => ("SKIP", "33"),
    };
    let skip = report
        .skip_reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}  {}{skip}  {}",
        colour.paint(code, label),
        report.name,
        colour.paint("2", &report.file)
    );
    if report.status != Status::Failed {
        return;
    }
    if folded {
        let first = report.failures().next().map(|(_, o)| o.check.as_str());
        let _ = writeln!(
            out,
            "      {}",
            colour.paint(
                "2",
                &format!(
                    "{} — the cause diagnosed above (`--verbose` shows the timeline)",
                    first.unwrap_or_default()
                )
            )
        );
        return;
    }
    let _ = writeln!(out, "      timeline (virtual time)");
    for step in &report.steps {
        let blocked = step
            .blocked
            .as_ref()
            .map(|b| format!(" — not performed: {b}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "      {:<7} step {} {} (line {}){blocked}",
            step.at, step.number, step.action, step.line
        );
        if let Some(together) = &step.together {
            let _ = writeln!(out, "        {}", together.describe());
        }
        timeline(out, &step.exchanges, verbose);
        for call in &step.merchant_calls {
            let code = crate::protocol::open_api::answer_code(&call.answer).unwrap_or_default();
            let _ = writeln!(
                out,
                "        merchant → {}  → HTTP {} {code}",
                call.api, call.status
            );
        }
    }
    failures(out, report, colour);
    for (_, advice) in report.advice() {
        let message = format!("{} (advisory: not counted)", advice.message);
        check_line(
            out,
            colour,
            &colour.paint("33", "!"),
            &advice.check,
            &message,
        );
    }
    let consequences = report.consequences().count();
    if consequences > 0 {
        let _ = writeln!(
            out,
            "      {}",
            colour.paint(
                "2",
                &format!(
                    "+ {consequences} later failure(s) that follow from the above, not counted"
                )
            )
        );
    }
}

/// One check's line under a scenario: its mark, its id, what happened.
fn check_line(out: &mut String, colour: Colour, mark: &str, check: &str, message: &str) {
    let _ = writeln!(out, "      {mark} {} — {message}", colour.paint("1", check));
}

/// The diagnosis, as the report opens with it.
fn diagnosis(out: &mut String, diagnosis: &Diagnosis, colour: Colour) {
    let _ = writeln!(
        out,
        "{} {}",
        colour.paint("31;1", "DIAGNOSIS"),
        colour.paint("1", &diagnosis.summary)
    );
    let _ = writeln!(out, "  likely cause: {}", diagnosis.likely_cause);
    let _ = writeln!(out, "  next step:    {}", diagnosis.next_step);
    let _ = writeln!(
        out,
        "  explains {} failed scenario(s), folded below\n",
        diagnosis.scenarios
    );
}

/// Each failure that counts: its check, rule and spec section, place, expected and got, and
/// any diff.
fn failures(out: &mut String, report: &ScenarioReport, colour: Colour) {
    for (step, failure) in report.failures() {
        check_line(
            out,
            colour,
            &colour.paint("31", "✗"),
            &failure.check,
            &failure.message,
        );
        let check = crate::checks::CheckId::parse(&failure.check);
        let spec = check
            .map(|c| format!(" · {} ({})", c.rationale(), c.spec()))
            .unwrap_or_default();
        let place = step.map_or_else(String::new, |s| format!(" (step {})", s.number));
        let _ = writeln!(
            out,
            "          at {}:{}{place}{spec}",
            failure.file, failure.line
        );
        let _ = writeln!(out, "          expected: {}", failure.expected);
        let _ = writeln!(out, "          got:      {}", failure.got);
        for line in failure.detail.iter().flat_map(|d| d.lines()) {
            let code = match line.chars().next() {
                Some('+') if !line.starts_with("+++") => "32",
                Some('-') if !line.starts_with("---") => "31",
                Some('@') => "36",
                _ => "2",
            };
            let _ = writeln!(out, "          {}", colour.paint(code, line));
        }
    }
}

/// Renders the whole report; `verbose` shows every failed scenario's timeline even when the
/// diagnosis explains it.
pub(crate) fn render(report: &Report, colour: Colour, verbose: bool) -> String {
    let mut out = String::new();
    let profile = &report.profile;
    let _ = writeln!(
        out,
        "kgsim {} · {} · {}\n",
        report.kgsim,
        report.target,
        profile.describe()
    );
    if let Some(found) = &report.diagnosis {
        diagnosis(&mut out, found, colour);
    }
    for s in &report.scenarios {
        let folded = !verbose
            && report
                .diagnosis
                .as_ref()
                .is_some_and(|d| is_explained(s, d));
        scenario(&mut out, s, colour, folded, verbose);
    }
    let pending = report
        .scenarios
        .iter()
        .filter(|s| s.snapshot.as_ref().is_some_and(|snap| snap.pending))
        .count();
    if pending > 0 {
        let _ = writeln!(
            out,
            "\n{pending} transcript(s) new or changed, left pending: `kgsim snapshots review`, then `accept` or `reject`"
        );
    }
    let _ = writeln!(out, "\n{}", summary_line(report, colour));
    out
}

/// `36 scenarios: 31 passed, 0 failed, 5 skipped · 0 failed checks · 212 exchanges · …`.
pub(crate) fn summary_line(report: &Report, colour: Colour) -> String {
    let s = &report.summary;
    let verdict = if report.conformant() {
        colour.paint("32;1", "conformant")
    } else {
        colour.paint("31;1", "NOT conformant")
    };
    format!(
        "{verdict}: {} scenarios: {} passed, {} failed, {} skipped · {} failed checks · {} exchanges · {} of virtual time in {:.2}s",
        s.scenarios,
        s.passed,
        s.failed,
        s.skipped,
        s.failed_checks,
        s.exchanges,
        Span(s.virtual_ms),
        s.wall_ms as f64 / 1000.0
    )
}

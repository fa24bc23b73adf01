//! The terminal report: a verdict per scenario; for failures, a timeline of attempts in
//! virtual time and each failed check with its id, expected vs got and `file:line`; a summary
//! line. Colour only on a terminal, and never with `NO_COLOR`.

use std::fmt::Write as _;

use crate::marketplace::Span;
use crate::report::diagnosis::is_explained;
use crate::report::model::Diagnosis;
use crate::report::model::{
    CheckReport, ExchangeReport, Report, RunVerdict, ScenarioReport, Status, StepReport,
};

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

/// A step's exchanges, one line each; a run of exchanges that differ only in their time,
/// call and attempt numbers (a retry schedule's 60 attempts) shows its first
/// [`ALIKE_SHOWN`] and counts the rest — even with `verbose`, whose point is the timelines
/// folded under a diagnosis, not sixty identical lines.
fn timeline(out: &mut String, exchanges: &[ExchangeReport]) {
    let shape = |e: &ExchangeReport| {
        let mut alike = e.clone();
        (alike.call, alike.attempt, alike.at) = (0, 0, String::new());
        timeline_line(&alike)
    };
    let fold_line = |folded: usize, last: &ExchangeReport| {
        format!(
            "          … {folded} more like the above, the last at {} (attempt {})",
            last.at, last.attempt
        )
    };
    let mut run = 0;
    let mut folded = 0;
    for (index, exchange) in exchanges.iter().enumerate() {
        let same = index > 0 && shape(exchange) == shape(&exchanges[index - 1]);
        run = if same { run + 1 } else { 0 };
        if run >= ALIKE_SHOWN {
            folded += 1;
            continue;
        }
        if folded > 0 {
            let _ = writeln!(out, "{}", fold_line(folded, &exchanges[index - 1]));
            folded = 0;
        }
        let _ = writeln!(out, "        {}", timeline_line(exchange));
    }
    if let (true, Some(last)) = (folded > 0, exchanges.last()) {
        let _ = writeln!(out, "{}", fold_line(folded, last));
    }
}

/// One scenario as the terminal report shows it unfolded, without colour: its verdict line,
/// and for a failure its timeline and failed checks (the console's run page).
pub(crate) fn render_scenario(report: &ScenarioReport) -> String {
    let mut out = String::new();
    scenario(&mut out, report, Colour::Off, false);
    out
}

fn scenario(out: &mut String, report: &ScenarioReport, colour: Colour, folded: bool) {
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
        timeline(out, &step.exchanges);
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

/// A failure as far as folding cares: the same check at the same step, expecting and getting
/// the same, on another attempt of the same call or another call like it.
fn failure_shape(step: Option<&StepReport>, failure: &CheckReport) -> String {
    let message = match failure.message.find(" (attempt ") {
        Some(start) => {
            let rest = &failure.message[start + " (attempt ".len()..];
            let after = rest.find(" of ").map_or("", |of| &rest[of..]);
            format!("{}{after}", &failure.message[..start])
        }
        None => failure.message.clone(),
    };
    format!(
        "{}|{:?}|{message}|{}|{}",
        failure.check,
        step.map(|s| s.number),
        failure.expected,
        failure.got
    )
}

/// Each failure that counts: its check, rule and spec section, place, expected and got, and
/// any diff. A run of alike failures (a retry schedule's sixty attempts answered the same
/// way) shows its first and counts the rest.
fn failures(out: &mut String, report: &ScenarioReport, colour: Colour) {
    let mut previous: Option<String> = None;
    let mut folded = 0;
    let fold = |out: &mut String, folded: usize| {
        if folded > 0 {
            let _ = writeln!(out, "          … {folded} more alike, on later attempts");
        }
    };
    for (step, failure) in report.failures() {
        let shape = failure_shape(step, failure);
        if previous.as_ref() == Some(&shape) {
            folded += 1;
            continue;
        }
        fold(out, folded);
        folded = 0;
        previous = Some(shape);
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
    fold(out, folded);
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
        scenario(&mut out, s, colour, folded);
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

/// ` (3 of them required for this product: set …)`: what made the run incomplete, each
/// reason once.
fn not_run(report: &Report) -> String {
    if report.summary.incomplete == 0 {
        return String::new();
    }
    let mut reasons: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| s.incomplete)
        .filter_map(|s| s.skip_reason.as_deref())
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    format!(
        " ({} of them required for this product: {})",
        report.summary.incomplete,
        reasons.join("; ")
    )
}

/// `36 scenarios: 31 passed, 0 failed, 5 skipped · 0 failed checks · 212 exchanges · …`.
pub(crate) fn summary_line(report: &Report, colour: Colour) -> String {
    let s = &report.summary;
    let verdict = match report.verdict {
        RunVerdict::Conformant => colour.paint("32;1", "conformant"),
        RunVerdict::Incomplete => colour.paint("33;1", "incomplete"),
        RunVerdict::NotConformant => colour.paint("31;1", "NOT conformant"),
    };
    format!(
        "{verdict}: {} scenarios: {} passed, {} failed, {} skipped{} · {} failed checks · {} exchanges · {} of virtual time in {:.2}s",
        s.scenarios,
        s.passed,
        s.failed,
        s.skipped,
        not_run(report),
        s.failed_checks,
        s.exchanges,
        Span(s.virtual_ms),
        s.wall_ms as f64 / 1000.0
    )
}

//! "Export as scenario": a product's session — purchases, buyer actions, clock moves, debug
//! cases, restarts — written back as a YAML scenario that `kgsim run --scenarios` replays
//! against any merchant. Answers are not exported: the scenario judges them afresh.

use std::fmt::Write as _;

use crate::console::journal::{BuyerAction, Entry, KitAction};
use crate::console::live::Live;
use crate::marketplace::clock::Span;

const MINUTE: i64 = 60_000;

/// The scenario for a product's journal.
pub(crate) fn scenario(live: &Live, journal: &[(i64, String)]) -> String {
    let mut out = String::new();
    let spec = &live.spec;
    let _ = writeln!(
        out,
        "name: console session of {}",
        yaml_string(&spec.display_name())
    );
    let _ = writeln!(
        out,
        "description: >\n  Exported from kgsim serve: the buyer actions, clock moves and debug cases of the\n  session, in order."
    );
    let _ = writeln!(out, "applies:\n  protocols: [{}]", spec.protocol);
    let _ = writeln!(out, "  billing: [{}]", spec.billing);
    let _ = writeln!(out, "  products: [{}]", spec.product);
    if spec.kit_public_key.is_some() {
        out.push_str("  requires: [tenant-sync]\n");
    }
    out.push_str("steps:\n");
    let mut clock: Option<i64> = None;
    let mut pending_advance = 0_i64;
    let mut purchases = 0;
    let mut steps = 0;
    let mut enterprises = 0;
    for (_, text) in journal {
        let Ok(entry) = serde_json::from_str::<Entry>(text) else {
            continue;
        };
        let step = match entry {
            Entry::Advance { until } => {
                if let Some(last) = clock {
                    pending_advance += (until - last).max(0);
                }
                clock = Some(until);
                continue;
            }
            Entry::Complete { .. } => continue,
            Entry::Purchase { trial } => {
                purchases += 1;
                let spec = if trial { "{trial: true}" } else { "{}" };
                format!("  - purchase: {spec}\n    as: order{purchases}\n")
            }
            Entry::Act { instance, action } => {
                let alias = live
                    .aliases
                    .get(&instance)
                    .cloned()
                    .unwrap_or_else(|| format!("order{}", instance + 1));
                match action {
                    BuyerAction::Renew | BuyerAction::ConvertTrial => {
                        format!("  - {}: {{instance: {alias}}}\n", action.slug())
                    }
                    other => format!("  - {}: {alias}\n", other.slug()),
                }
            }
            Entry::DebugCase { replay: true, .. } => continue,
            Entry::DebugCase {
                activity,
                variant,
                edits,
                ..
            } => {
                let edited = if edits.is_empty() {
                    String::new()
                } else {
                    // The scenario format has no edited debug case: say what was changed.
                    format!("  # sent with the form's changes: {}\n", edits.describe())
                };
                format!("{edited}  - debug: {{activities: [{activity}], variant: {variant}}}\n")
            }
            Entry::Kit { action } => kit_step(action, live, &mut enterprises),
            Entry::Restart { call } => {
                // A restart names the step that created its notice, which the journal does
                // not keep; the scenario author picks it.
                format!(
                    "  # restart of notice {call}: add `as:` to its step and `- restart: <name>`\n"
                )
            }
        };
        // The seconds between two clicks are not part of the session; moves of the test
        // clock (and hours of wall time) are.
        if pending_advance >= MINUTE {
            let _ = writeln!(
                out,
                "  - advance: {}",
                Span(pending_advance - pending_advance % MINUTE)
            );
        }
        pending_advance = 0;
        out.push_str(&step);
        steps += 1;
    }
    if steps == 0 {
        out.push_str("  - purchase: {}\n");
    }
    out
}

/// A 联营 action as a step; enterprises are named `enterprise<N>` in the order they appear.
fn kit_step(action: KitAction, live: &Live, enterprises: &mut usize) -> String {
    let instance = |n: usize| {
        live.aliases
            .get(&n)
            .cloned()
            .unwrap_or_else(|| format!("order{}", n + 1))
    };
    match action {
        KitAction::ApplyCredential => {
            *enterprises += 1;
            format!("  - apply-credential: {{}}\n    as: enterprise{enterprises}\n")
        }
        KitAction::BindEnterprise { instance: n } => {
            *enterprises += 1;
            format!(
                "  - bind-enterprise: {}\n    as: enterprise{enterprises}\n",
                instance(n)
            )
        }
        KitAction::AuthorizeUsers { enterprise, count } => format!(
            "  - authorize-users: {{enterprise: enterprise{}, users: {count}}}\n",
            enterprise + 1
        ),
        KitAction::AddDepartment { enterprise } => format!(
            "  - change-department: {{enterprise: enterprise{}, flag: add}}\n",
            enterprise + 1
        ),
    }
}

fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

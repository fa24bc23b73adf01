//! Lifecycle coverage: which (state, event) pairs of the product's lifecycle table
//! ([`crate::marketplace::transitions`]) a run exercised, how often, and which it never
//! reached — so that a scenario author sees what a suite leaves out, and `kgsim explore`
//! shows how far its walks went.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::marketplace::transitions::{Event, Lifecycle};
use crate::scenario::result::Transition;

/// One pair of the table, or one exercised outside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CoveredTransition {
    /// The state before (`none`: no instance yet).
    pub(crate) from: String,
    /// The event (a scenario action keyword; `advance` for a timer).
    pub(crate) event: String,
    /// How many times it happened.
    pub(crate) count: u64,
    /// The states it led to.
    pub(crate) to: Vec<String>,
    /// Whether the lifecycle table has it (false: exercised although the table does not
    /// list it, say a timer that changed nothing the table models).
    pub(crate) in_table: bool,
}

/// The coverage of a product's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub(crate) struct Coverage {
    /// Pairs of the table exercised at least once.
    pub(crate) exercised: usize,
    /// Pairs in the table.
    pub(crate) total: usize,
    /// Every pair of the table in table order, then those exercised outside it.
    pub(crate) transitions: Vec<CoveredTransition>,
}

/// Transitions counted so far: how often each (state, event) pair happened and the states it
/// led to. An exploration adds each walk's as it goes, so that its running coverage is not
/// recounted from the first walk every time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally(BTreeMap<(&'static str, Event), (u64, Vec<&'static str>)>);

impl Tally {
    /// Counts `transitions` too.
    pub(crate) fn add<'a>(&mut self, transitions: impl IntoIterator<Item = &'a Transition>) {
        for t in transitions {
            let entry = self.0.entry((t.from, t.event)).or_default();
            entry.0 += 1;
            if !entry.1.contains(&t.to) {
                entry.1.push(t.to);
            }
        }
    }

    /// The coverage of what was counted against the product's lifecycle table.
    pub(crate) fn coverage(&self, lifecycle: &Lifecycle) -> Coverage {
        let table = lifecycle.table();
        let row = |(from, event): (&str, Event), in_table: bool| {
            let (count, to) = self.0.get(&(from, event)).cloned().unwrap_or_default();
            let mut to: Vec<String> = to.into_iter().map(str::to_owned).collect();
            to.sort();
            CoveredTransition {
                from: from.to_owned(),
                event: event.keyword().to_owned(),
                count,
                to,
                in_table,
            }
        };
        let mut rows: Vec<CoveredTransition> = table.iter().map(|pair| row(*pair, true)).collect();
        rows.extend(
            self.0
                .keys()
                .filter(|pair| !table.contains(pair))
                .map(|pair| row(*pair, false)),
        );
        Coverage {
            exercised: rows.iter().filter(|r| r.in_table && r.count > 0).count(),
            total: table.len(),
            transitions: rows,
        }
    }
}

impl Coverage {
    /// The coverage of `transitions` against the product's lifecycle table.
    pub(crate) fn of<'a>(
        lifecycle: &Lifecycle,
        transitions: impl IntoIterator<Item = &'a Transition>,
    ) -> Self {
        let mut tally = Tally::default();
        tally.add(transitions);
        tally.coverage(lifecycle)
    }

    /// The pairs of the table never exercised.
    #[cfg(test)]
    pub(crate) fn never_reached(&self) -> impl Iterator<Item = &CoveredTransition> {
        self.transitions
            .iter()
            .filter(|t| t.in_table && t.count == 0)
    }

    /// A table for terminals and the README: one row per pair, the count, where it led.
    pub(crate) fn render(&self) -> String {
        let mut text = format!(
            "lifecycle coverage: {} of {} transitions exercised\n",
            self.exercised, self.total
        );
        let width = self
            .transitions
            .iter()
            .map(|t| t.from.len() + t.event.len() + 4)
            .max()
            .unwrap_or(0);
        for t in &self.transitions {
            let pair = format!("{} --{}-->", t.from, t.event);
            let to = if t.count == 0 {
                "never reached".to_owned()
            } else {
                t.to.join(", ")
            };
            let outside = if t.in_table {
                ""
            } else {
                "  (outside the table)"
            };
            text.push_str(&format!("  {pair:<width$} {:>6}  {to}{outside}\n", t.count));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplace::kind::{Interfaces, ProductKind};
    use crate::protocol::{BillingMode, Protocol};

    #[test]
    fn counts_exercised_pairs_and_lists_the_rest_as_never_reached() {
        let kind = ProductKind::saas(Protocol::V2, BillingMode::OnDemand);
        let lifecycle = Lifecycle::new(kind, Interfaces::new(kind, &[]));
        let walk = [
            Transition {
                from: "none",
                event: Event::Purchase,
                to: "active",
            },
            Transition {
                from: "active",
                event: Event::Arrears,
                to: "in-arrears",
            },
            Transition {
                from: "active",
                event: Event::Arrears,
                to: "in-arrears",
            },
        ];
        let coverage = Coverage::of(&lifecycle, &walk);
        assert_eq!(coverage.exercised, 2);
        assert_eq!(coverage.total, lifecycle.table().len());
        let arrears = &coverage.transitions[coverage
            .transitions
            .iter()
            .position(|t| t.event == "arrears")
            .unwrap()];
        assert_eq!(
            (arrears.count, arrears.to.clone()),
            (2, vec!["in-arrears".to_owned()])
        );
        assert!(coverage.never_reached().any(|t| t.event == "recharge"));
        assert!(coverage.render().contains("in-arrears --recharge-->"));
    }
}

//! One attempt of a delivery: signed at send time with the key of its interface type, the
//! marketplace-side fault applied, sent through the one client, and judged as the console
//! judges — or several copies staged and completed together, for race checks.

use std::sync::Arc;
use std::time::Duration;

use crate::deliver::cut::{self, AnswerFacts};
use crate::marketplace::classify::{Context, Judgement, classify};
use crate::marketplace::{Delivery, Marketplace, Settings, Transport};
use crate::transport::wire::{self, Edit, Tamper, Wire, WireForm};
use crate::transport::{Client, Sent};

/// What the marketplace does to one attempt on its side (a scenario's `faults:`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttemptFault {
    /// The attempt never leaves the marketplace: judged unreachable.
    pub(crate) fail_before_send: bool,
    /// The merchant does the work, but the marketplace never sees the answer: judged a
    /// timeout.
    pub(crate) drop_response: bool,
    /// The request is changed before signing.
    pub(crate) edit: Edit,
    /// The request is changed after signing.
    pub(crate) tamper: Option<Tamper>,
    /// One of a step's `copies:`: staged on a connection opened beforehand and completed
    /// together with the other copies due at the same instant (not a fault of the request,
    /// so never described).
    pub(crate) together: bool,
}

impl AttemptFault {
    /// A short description for reports (`response dropped`, `tampered: signature`, …).
    pub(crate) fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.fail_before_send {
            parts.push("failed before sending".to_owned());
        }
        if self.drop_response {
            parts.push("response dropped".to_owned());
        }
        if !self.edit.is_empty() {
            let mut edits: Vec<String> = self.edit.remove.iter().map(|n| format!("-{n}")).collect();
            edits.extend(self.edit.set.iter().map(|(n, v)| format!("{n}={v}")));
            parts.push(format!("edited: {}", edits.join(" ")));
        }
        if let Some(tamper) = self.tamper {
            parts.push(format!("tampered: {tamper}"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// One performed attempt, with everything a report needs; its answer is already cut down to
/// a bounded size (the facts the expectations need were taken before the cut).
#[derive(Debug, Clone, PartialEq)]
pub struct Performed {
    /// The delivery.
    pub delivery: Delivery,
    /// The faults applied (none by default).
    pub(crate) fault: AttemptFault,
    /// The full request URL (with its signed query), when sent.
    pub(crate) url: Option<String>,
    /// The signed request, when sent.
    pub(crate) wire: Option<Wire>,
    /// What came back, when sent (the body cut to the report's budget).
    pub(crate) sent: Option<Sent>,
    /// The console's judgement of what the marketplace saw.
    pub judgement: Judgement,
    /// What the expectations need of the answer, taken before it was cut down to size.
    pub(crate) facts: AnswerFacts,
    /// For copies sent together: how far apart the first and last copy of the group left.
    pub(crate) spread: Option<Duration>,
}

impl Performed {
    /// An attempt that never reached the merchant, judged as the marketplace saw it.
    pub(crate) fn unsent(delivery: Delivery, fault: AttemptFault, judgement: Judgement) -> Self {
        Self {
            delivery,
            fault,
            url: None,
            wire: None,
            sent: None,
            judgement,
            facts: AnswerFacts::default(),
            spread: None,
        }
    }
}

/// An attempt as the task that performed it hands it back: the record, and — when the
/// caller asked for it — the answer exactly as received.
#[derive(Debug)]
pub(crate) struct Done {
    pub(crate) performed: Performed,
    pub(crate) received: Option<Transport>,
}

/// What performing needs from the engine: its settings, copied out once so the engine stays
/// borrowable and shared by the concurrent attempts.
#[derive(Debug, Clone)]
pub struct EngineView {
    settings: Arc<Settings>,
}

impl EngineView {
    /// The view of an engine's settings.
    pub(crate) fn of(engine: &Marketplace) -> Self {
        Self {
            settings: Arc::new(engine.settings().clone()),
        }
    }

    /// The classification context for a delivery: its activity, and the instances a
    /// queryInstance answer must list.
    pub(crate) fn context<'d>(&'d self, delivery: &'d Delivery) -> Context<'d> {
        self.settings
            .context(delivery.request.activity())
            .listing(&delivery.must_list)
    }

    /// The console's judgement of what came back for a delivery.
    pub(crate) fn judge(&self, delivery: &Delivery, transport: &Transport) -> Judgement {
        classify(transport, &self.context(delivery))
    }

    /// Signs with the key bound to the call's interface type (spec V2 §1.2).
    fn sign(&self, delivery: &Delivery, fault: &AttemptFault) -> Wire {
        let key = self
            .settings
            .key_for(delivery.request.activity().interface_type());
        let form = WireForm::of(&self.settings, delivery.call.0, delivery.attempt);
        wire::sign_now(&delivery.request, key, &fault.edit, fault.tamper, form)
    }
}

/// Signs, sends and judges one delivery (no engine access, so batches run concurrently).
/// With `keep_received`, the answer as received comes back whole beside the cut record.
pub(crate) async fn perform(
    view: &EngineView,
    client: &Client,
    delivery: Delivery,
    fault: AttemptFault,
    keep_received: bool,
) -> Done {
    if fault.fail_before_send {
        let judgement = view.judge(&delivery, &Transport::NotSent);
        return Done {
            performed: Performed::unsent(delivery, fault, judgement),
            received: keep_received.then_some(Transport::NotSent),
        };
    }
    let wire = view.sign(&delivery, &fault);
    if fault.tamper == Some(Tamper::ReplayedNonce) {
        // The original goes first; what is judged is the replay of its exact bytes.
        let _ = client.send(&wire).await;
    }
    let sent = client.send(&wire).await;
    judged(
        view,
        client,
        (delivery, fault, wire),
        sent,
        None,
        keep_received,
    )
}

/// Signs, sends and judges copies that must arrive together: each on a connection opened
/// beforehand, all completed at once ([`Client::send_together`]).
pub(crate) async fn perform_together(
    view: &EngineView,
    client: &Client,
    group: Vec<(usize, Delivery, AttemptFault)>,
    keep_received: bool,
) -> Vec<(usize, Done)> {
    let copies: Vec<(Wire, (usize, Delivery, AttemptFault))> = group
        .into_iter()
        .map(|(index, delivery, fault)| (view.sign(&delivery, &fault), (index, delivery, fault)))
        .collect();
    // Each copy is judged, and its answer cut, as soon as the answer is read.
    client
        .send_together(copies, |wire, (index, delivery, fault), sent, spread| {
            let done = judged(
                view,
                client,
                (delivery, fault, wire),
                sent,
                spread,
                keep_received,
            );
            (index, done)
        })
        .await
}

/// Judges what came back, as the console would — or as a timeout, when the scenario drops
/// the answer — then takes the facts and cuts the answer down (at once, so that copies
/// answered together do not hold their bodies together).
fn judged(
    view: &EngineView,
    client: &Client,
    (delivery, fault, wire): (Delivery, AttemptFault, Wire),
    mut sent: Sent,
    spread: Option<Duration>,
    keep_received: bool,
) -> Done {
    // A dropped answer is judged as the marketplace saw it: a timeout.
    let mut judgement = if fault.drop_response {
        view.judge(&delivery, &Transport::Dropped)
    } else {
        view.judge(&delivery, &sent.transport)
    };
    let facts = cut::facts_of(&sent.transport, judgement.answer.as_ref());
    let received = keep_received.then(|| sent.transport.clone());
    // The parse first, then the body: a large answer is held at most twice at any moment.
    cut::cut_judgement(&mut judgement);
    cut::cut_transport(&mut sent.transport);
    Done {
        performed: Performed {
            judgement,
            url: Some(client.url_of(&wire)),
            delivery,
            fault,
            wire: Some(wire),
            sent: Some(sent),
            facts,
            spread,
        },
        received,
    }
}

//! Performing the engine's deliveries against a real target: sign each at send time, apply
//! the scenario's per-attempt fault, send the deliveries of one instant concurrently, judge
//! each answer as the console does, and feed the judgements back in delivery order.

use crate::marketplace::classify::{Context, Judgement, classify};
use crate::marketplace::{Delivery, Marketplace, Settings, Transport};
use crate::protocol::UnixMillis;
use crate::scenario::run::record::{AnswerFacts, cut_judged, take_facts};
use crate::transport::wire::{self, Edit, Tamper, Wire};
use crate::transport::{Client, Sent};

/// What a scenario does to one attempt on the marketplace side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttemptFault {
    /// The attempt never leaves the marketplace: judged unreachable.
    pub fail_before_send: bool,
    /// The merchant does the work, but the marketplace never sees the answer: judged a
    /// timeout.
    pub drop_response: bool,
    /// The request is changed before signing.
    pub edit: Edit,
    /// The request is changed after signing.
    pub tamper: Option<Tamper>,
    /// One of a step's `copies:`: staged on a connection opened beforehand and completed
    /// together with the other copies due at the same instant (not a fault of the request,
    /// so never described).
    pub together: bool,
}

impl AttemptFault {
    /// Whether the attempt goes out as the engine built it.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    /// A short description for reports (`response dropped`, `tampered: signature`, …).
    pub fn describe(&self) -> Option<String> {
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

/// One performed attempt, with everything a report needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Performed {
    /// The delivery.
    pub delivery: Delivery,
    /// The faults applied (none by default).
    pub fault: AttemptFault,
    /// The full request URL (with its signed query), when sent.
    pub url: Option<String>,
    /// The signed request, when sent.
    pub wire: Option<Wire>,
    /// What actually came back, when sent.
    pub sent: Option<Sent>,
    /// The console's judgement of what the marketplace saw.
    pub judgement: Judgement,
    /// What the expectations need of the answer, taken before it was cut down to size.
    pub facts: AnswerFacts,
    /// For copies sent together: how far apart the first and last copy of the group left.
    pub spread: Option<std::time::Duration>,
}

/// Signs, sends and judges one delivery (no engine access, so batches run concurrently).
pub async fn perform(
    view: &EngineView,
    client: &Client,
    delivery: Delivery,
    fault: AttemptFault,
) -> Performed {
    let context = view.context(&delivery);
    if fault.fail_before_send {
        return Performed {
            judgement: classify(&Transport::NotSent, &context),
            delivery,
            fault,
            url: None,
            wire: None,
            sent: None,
            facts: AnswerFacts::default(),
            spread: None,
        };
    }
    let wire = sign(view, &delivery, &fault);
    let sent = client.send(&wire).await;
    judged(view, delivery, fault, wire, sent, client, None)
}

/// Signs, sends and judges one delivery as it is, and hands back what came back whole as
/// well: the [`Performed`] keeps the answer cut down to size, and whoever must judge it again
/// later (the console's journal, replayed at start) needs the bytes as received.
pub async fn perform_whole(
    view: &EngineView,
    client: &Client,
    delivery: Delivery,
) -> (Performed, Transport) {
    let fault = AttemptFault::default();
    let wire = sign(view, &delivery, &fault);
    let sent = client.send(&wire).await;
    let received = sent.transport.clone();
    (
        judged(view, delivery, fault, wire, sent, client, None),
        received,
    )
}

/// Signs, sends and judges copies that must arrive together: each on a connection opened
/// beforehand, all completed at once ([`Client::send_together`]).
async fn perform_together(
    view: &EngineView,
    client: &Client,
    group: Vec<(usize, Delivery, AttemptFault)>,
) -> Vec<(usize, Performed)> {
    let wires: Vec<Wire> = group.iter().map(|(_, d, f)| sign(view, d, f)).collect();
    let together = client.send_together(&wires).await;
    group
        .into_iter()
        .zip(wires)
        .zip(together.sent)
        .map(|(((index, delivery, fault), wire), sent)| {
            let done = judged(view, delivery, fault, wire, sent, client, together.spread);
            (index, done)
        })
        .collect()
}

/// Signs with the key bound to the call's interface type (spec V2 §1.2).
fn sign(view: &EngineView, delivery: &Delivery, fault: &AttemptFault) -> Wire {
    let key = view
        .settings
        .key_for(delivery.request.activity().interface_type());
    wire::sign_now(&delivery.request, key, &fault.edit, fault.tamper)
}

/// Judges what came back, as the console would — or as a timeout, when the scenario drops
/// the answer.
fn judged(
    view: &EngineView,
    delivery: Delivery,
    fault: AttemptFault,
    wire: Wire,
    sent: Sent,
    client: &Client,
    spread: Option<std::time::Duration>,
) -> Performed {
    // A dropped answer is judged as the marketplace saw it: a timeout.
    let judgement = if fault.drop_response {
        classify(&Transport::Dropped, &view.context(&delivery))
    } else {
        classify(&sent.transport, &view.context(&delivery))
    };
    let mut performed = Performed {
        judgement,
        url: Some(client.url_of(&wire)),
        delivery,
        fault,
        wire: Some(wire),
        sent: Some(sent),
        facts: AnswerFacts::default(),
        spread,
    };
    take_facts(&mut performed);
    performed
}

/// What performing needs from the engine: its settings, copied out once so the engine stays
/// borrowable and shared by the concurrent attempts.
#[derive(Debug, Clone)]
pub struct EngineView {
    settings: std::sync::Arc<Settings>,
}

impl EngineView {
    /// The view of an engine's settings.
    pub fn of(engine: &Marketplace) -> Self {
        Self {
            settings: std::sync::Arc::new(engine.settings().clone()),
        }
    }

    /// The classification context for a delivery: its activity, and the instances a
    /// queryInstance answer must list.
    pub fn context<'d>(&'d self, delivery: &'d Delivery) -> Context<'d> {
        self.settings
            .context(delivery.request.activity())
            .listing(&delivery.must_list)
    }
}

/// Runs the engine until `until`: each batch of deliveries due at one instant is performed
/// concurrently, then completed in delivery order. `plan` picks each attempt's fault.
pub async fn run_until(
    engine: &mut Marketplace,
    client: &Client,
    until: UnixMillis,
    plan: &mut (dyn FnMut(&Delivery) -> AttemptFault + Send),
    sync: &mut (dyn FnMut(&Marketplace) + Send),
) -> Vec<Performed> {
    let view = EngineView::of(engine);
    let mut performed = Vec::new();
    loop {
        let batch = engine.next_batch(until);
        // What the open APIs know is brought up to date before each batch goes out (the
        // merchant may query an order as soon as its newInstance arrives) and after.
        sync(engine);
        if batch.is_empty() {
            return performed;
        }
        let mut tasks = tokio::task::JoinSet::new();
        let mut slots: Vec<Option<Performed>> = vec![None; batch.len()];
        let faults: Vec<_> = batch.iter().map(&mut *plan).collect();
        let mut group = Vec::new();
        for (index, delivery) in batch.iter().cloned().enumerate() {
            let fault = faults[index].clone();
            if fault.together && !fault.fail_before_send {
                group.push((index, delivery, fault));
                continue;
            }
            let (view, client) = (view.clone(), client.clone());
            tasks.spawn(
                async move { vec![(index, perform(&view, &client, delivery, fault).await)] },
            );
        }
        if !group.is_empty() {
            let (view, client) = (view.clone(), client.clone());
            tasks.spawn(async move { perform_together(&view, &client, group).await });
        }
        while let Some(joined) = tasks.join_next().await {
            for (index, done) in joined.into_iter().flatten() {
                slots[index] = Some(done);
            }
        }
        for ((slot, delivery), fault) in slots.into_iter().zip(batch).zip(faults) {
            // A task can only be lost to a bug in kgsim itself; the attempt is then judged
            // broken rather than left pending forever.
            let done = slot.unwrap_or_else(|| {
                let transport =
                    Transport::Broken("internal error: the attempt's task ended abnormally".into());
                let judgement = classify(&transport, &view.context(&delivery));
                Performed {
                    judgement,
                    delivery,
                    fault,
                    url: None,
                    wire: None,
                    sent: None,
                    facts: AnswerFacts::default(),
                    spread: None,
                }
            });
            let mut done = done;
            engine.complete(&done.delivery, &done.judgement);
            cut_judged(&mut done);
            performed.push(done);
        }
        sync(engine);
    }
}

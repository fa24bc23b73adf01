//! Delivering what is due for a product through [`crate::deliver`], journalled as it goes: a
//! batch handed out is written before anything of it is sent (so that a `kill -9` in the
//! middle resends it), each answer as received when it comes, and a lost task left pending
//! for the next settle to resend.

use crate::conformance::console_check;
use crate::console::journal::{Entry, StoredTransport};
use crate::console::live::{Live, changes};
use crate::console::service::{ConsoleError, Service};
use crate::console::store::{AttemptRow, Mirror};
use crate::console::vocab::AttemptVerdict;
use crate::deliver::{self, Completed, LostTask, Observer, Performed, Taken};
use crate::marketplace::{Delivery, Marketplace, Transport};
use crate::scenario::publish::Publisher;

/// How one attempt ended, as the API reports it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AttemptOutcome {
    /// The product.
    pub(crate) product_id: i64,
    /// The notice.
    pub(crate) call: i64,
    /// The activity.
    pub(crate) activity: String,
    /// 1-based attempt number.
    pub(crate) attempt: i64,
    /// Its verdict.
    pub(crate) verdict: AttemptVerdict,
    /// The check a rejection reports under.
    pub(crate) check_id: Option<String>,
    /// The console's message.
    pub(crate) message: Option<String>,
    /// When it was due (Unix ms, on the console's clock).
    pub(crate) at: i64,
}

impl Service {
    /// Performs everything due for a product up to now.
    pub(crate) async fn settle(
        &self,
        live: &mut Live,
    ) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        Ok(self
            .settle_performed(live)
            .await?
            .into_iter()
            .map(|(_, outcome)| outcome)
            .collect())
    }

    /// [`Service::settle`], with each attempt as performed.
    pub(crate) async fn settle_performed(
        &self,
        live: &mut Live,
    ) -> Result<Vec<(Performed, AttemptOutcome)>, ConsoleError> {
        let until = self.now().max(live.engine.now());
        let pending = std::mem::take(&mut live.pending);
        let product = live.id();
        let Live {
            engine,
            client,
            mirror,
            publisher,
            edits,
            ..
        } = live;
        let mut observer = Journalled {
            service: self,
            product,
            mirror,
            publisher: publisher.as_mut(),
            edits,
            done: Vec::new(),
        };
        let left = deliver::resume(engine, client, pending, until, &mut observer).await?;
        let done = observer.done;
        live.pending = left;
        Ok(done)
    }
}

/// The console's observer: journals the loop's every step on the product's engine.
struct Journalled<'a> {
    service: &'a Service,
    product: i64,
    mirror: &'a mut Mirror,
    publisher: Option<&'a mut Publisher>,
    /// The edited debug cases' changes, by call.
    edits: &'a std::collections::HashMap<usize, crate::transport::wire::Edit>,
    done: Vec<(Performed, AttemptOutcome)>,
}

impl Observer for Journalled<'_> {
    type Error = ConsoleError;

    fn keeps_received(&self) -> bool {
        // A replay at start judges the bytes as received, not as cut for display.
        true
    }

    fn fault(&mut self, delivery: &Delivery) -> deliver::AttemptFault {
        // The debug page's edited fields, applied before signing (never any other fault).
        deliver::AttemptFault {
            edit: self
                .edits
                .get(&delivery.call.0)
                .cloned()
                .unwrap_or_default(),
            ..deliver::AttemptFault::default()
        }
    }

    fn batch_taken(
        &mut self,
        engine: &Marketplace,
        taken: Taken,
        _: &[Delivery],
    ) -> Result<(), ConsoleError> {
        if let Taken::Fresh { until } = taken {
            let changes = changes(self.product, engine, self.mirror);
            let entry = Entry::Advance { until: until.0 };
            self.service.journal(self.product, &entry, &changes, &[])?;
        }
        // The merchant may query an order as soon as its newInstance arrives.
        if let Some(publisher) = self.publisher.as_mut() {
            publisher.sync(engine);
        }
        Ok(())
    }

    fn completed(
        &mut self,
        engine: &Marketplace,
        completed: Completed,
    ) -> Result<(), ConsoleError> {
        let Completed {
            performed,
            received,
        } = completed;
        let outcome = outcome_of(self.product, &performed);
        let attempt = attempt_row(&outcome, &performed);
        let delivery = &performed.delivery;
        let received = received.unwrap_or_else(deliver::batch::broken);
        let entry = Entry::Complete {
            call: delivery.call.0,
            attempt: delivery.attempt,
            transport: StoredTransport::from(&received),
        };
        let changes = changes(self.product, engine, self.mirror);
        self.service
            .journal(self.product, &entry, &changes, &[attempt])?;
        let _ = self.service.events.send(outcome.clone());
        self.done.push((performed, outcome));
        Ok(())
    }

    fn task_lost(&mut self, _: &Marketplace, _: &Delivery) -> Result<LostTask, ConsoleError> {
        // Only a bug in kgsim loses a task; the attempt stays pending, as the journal has it,
        // and the next settle sends it again.
        Ok(LostTask::LeavePending)
    }
}

/// What the API reports of an attempt.
fn outcome_of(product: i64, performed: &Performed) -> AttemptOutcome {
    let delivery = &performed.delivery;
    let judgement = &performed.judgement;
    let verdict = match (judgement.accepted(), judgement.provisioning) {
        (true, false) => AttemptVerdict::Accepted,
        (true, true) => AttemptVerdict::Provisioning,
        (false, _) => AttemptVerdict::Rejected,
    };
    let first = judgement.findings.first();
    AttemptOutcome {
        product_id: product,
        call: delivery.call.0 as i64,
        activity: delivery.request.activity().slug().to_owned(),
        attempt: i64::from(delivery.attempt),
        verdict,
        check_id: first
            .and_then(|f| console_check(f.rule()))
            .map(|c| c.id().to_owned()),
        message: first.map(|f| f.message()),
        at: delivery.due.0,
    }
}

/// The call log's row of an attempt, its answer as cut for display.
fn attempt_row(outcome: &AttemptOutcome, performed: &Performed) -> AttemptRow {
    let (status, answer) = match performed.sent.as_ref().map(|s| &s.transport) {
        Some(Transport::Answered(response)) => (
            Some(i64::from(response.status)),
            Some(String::from_utf8_lossy(&response.body).into_owned()),
        ),
        other => (None, other.map(|t| format!("{t:?}"))),
    };
    AttemptRow {
        id: 0,
        product_id: outcome.product_id,
        call: outcome.call,
        number: outcome.attempt,
        at: outcome.at,
        activity: outcome.activity.clone(),
        url: performed.url.clone(),
        request: performed
            .wire
            .as_ref()
            .map(|w| w.body.clone().unwrap_or_else(|| w.query.clone())),
        status,
        answer,
        verdict: outcome.verdict,
        check_id: outcome.check_id.clone(),
        message: outcome.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::store::{self, Writer};
    use crate::marketplace::settings::InterfaceKeys;
    use crate::marketplace::{PurchaseSpec, Settings};
    use crate::protocol::{AccessKey, Protocol, UnixMillis};

    #[test]
    fn the_console_leaves_a_lost_attempt_pending_for_its_resend() {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("lost.db");
        let writer = Writer::new(store::open(&path).unwrap());
        let (service, _) =
            Service::open(writer, AccessKey::new("k"), InterfaceKeys::default(), None).unwrap();
        let mut engine = Marketplace::new(
            Settings::new(Protocol::V1, AccessKey::new("k")),
            UnixMillis(1_795_000_000_000),
            7,
        );
        engine.purchase(&PurchaseSpec::default());
        let delivery = engine.next_batch(engine.now()).remove(0);
        let mut mirror = Mirror::default();
        let mut observer = Journalled {
            service: &service,
            product: 1,
            mirror: &mut mirror,
            publisher: None,
            edits: &std::collections::HashMap::new(),
            done: Vec::new(),
        };
        assert_eq!(
            observer.task_lost(&engine, &delivery).unwrap(),
            LostTask::LeavePending
        );
    }
}

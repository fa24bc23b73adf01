//! Fills a `kgsim serve` database with a large history for the page benchmark: one V1
//! period product with `INSTANCES` purchases, each opened by an accepted newInstance, and
//! instanceStatus notices whose attempts (mostly refused, then accepted) bring the call log to
//! `ATTEMPTS` rows — the read model the pages query, written through the console's own store in
//! batched transactions. (The journal stays empty: the pages never read it.)
//!
//! Then `SUITE_RUNS` finished suite runs of the product (40 scenarios each, with their text,
//! transcripts and reports), as the product page and `GET /api/products/{id}/runs` list them.
//!
//! Usage: `cargo bench --bench console_seed -- DB [INSTANCES] [ATTEMPTS] [SUITE_RUNS]`
#![expect(
    clippy::print_stdout,
    reason = "a command-line tool reports what it wrote"
)]

use kgsim::console::store::{
    self, AttemptRow, FinishedRun, InstanceRow, Mirror, NoticeRow, OrderRow, RunCounts,
    RunScenarioRow, Writer,
};
use kgsim::console::vocab::AttemptVerdict;

const BATCH: usize = 500;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let db = args
        .next()
        .expect("usage: console_seed DB [INSTANCES] [ATTEMPTS]");
    let instances: usize = args
        .next()
        .map_or(10_000, |n| n.parse().expect("INSTANCES"));
    let attempts: usize = args
        .next()
        .map_or(200_000, |n| n.parse().expect("ATTEMPTS"));
    let suite_runs: usize = args
        .next()
        .map_or(1_000, |n| n.parse().expect("SUITE_RUNS"));
    let _ = std::fs::remove_file(&db);
    let mut writer = Writer::new(store::open(std::path::Path::new(&db)).expect("open"));
    let spec = r#"{"production_address":"http://127.0.0.1:9/saasproduce","name":"Seeded","protocol":"v1","billing":"period","product":"saas"}"#;
    let start = 1_790_000_000_000_i64;
    let product = writer
        .insert_product("Seeded", spec, start, 1)
        .expect("product");
    let per_instance = attempts.div_ceil(instances.max(1));
    let mut mirror = Mirror::default();
    let (mut orders, mut rows, mut notices) = (Vec::new(), Vec::new(), Vec::new());
    let mut written = 0;
    for first in (0..instances).step_by(BATCH) {
        let mut log = Vec::new();
        for n in first..(first + BATCH).min(instances) {
            let at = start + n as i64 * 60_000;
            let order_id = format!("CS{:010}SEED{}", 1_000_000_000 + n, n % 10);
            orders.push(OrderRow {
                product_id: product,
                order_id: order_id.clone(),
                kind: "purchase".into(),
                status: "opened".into(),
                placed_at: at,
                settled_at: Some(at),
            });
            rows.push(InstanceRow {
                product_id: product,
                reference: n as i64,
                order_id: order_id.clone(),
                instance_id: Some(format!("inst-{n}")),
                state: "active".into(),
                billing: "period".into(),
                trial: false,
                expire_at: Some(at + 30 * 86_400_000),
                license_code: None,
            });
            for (call, activity, tries) in [
                (2 * n, "new-instance", 1),
                (2 * n + 1, "instance-status", per_instance - 1),
            ] {
                if tries == 0 || written >= attempts {
                    continue;
                }
                let tries = tries.min(attempts - written);
                notices.push(NoticeRow {
                    product_id: product,
                    call: call as i64,
                    activity: activity.into(),
                    order_id: Some(order_id.clone()),
                    instance_ref: Some(n as i64),
                    state: if n % 50 == 0 && activity == "instance-status" {
                        "exhausted"
                    } else {
                        "succeeded"
                    }
                    .into(),
                    attempts: tries as i64,
                    first_due: at,
                    probe: false,
                });
                for number in 1..=tries {
                    let accepted = number == tries && n % 50 != 0;
                    log.push(attempt(
                        product,
                        call,
                        number,
                        at + number as i64 * 3_600_000,
                        activity,
                        &order_id,
                        accepted,
                    ));
                }
                written += tries;
            }
        }
        let changes = mirror.changes(orders.clone(), rows.clone(), notices.clone());
        writer
            .commit(product, None, &changes, &log)
            .expect("commit");
    }
    for n in 0..suite_runs {
        seed_run(&mut writer, product, start + n as i64 * 60_000, n);
    }
    println!("{db}: {instances} instances, {written} attempts, {suite_runs} suite runs");
}

/// One finished suite run of 40 scenarios, every fifth run with a failure.
fn seed_run(writer: &mut Writer, product: i64, at: i64, n: usize) {
    const SCENARIOS: usize = 40;
    let failing = n.is_multiple_of(5);
    let run = writer
        .start_suite_run(product, at, &[], "the built-in suite", SCENARIOS, None)
        .expect("run");
    let scenarios: Vec<RunScenarioRow> = (0..SCENARIOS)
        .map(|position| {
            let failed = failing && position == 3;
            RunScenarioRow {
                position: position as i64,
                file: format!("scenarios/lifecycle/scenario-{position}.yaml"),
                name: format!("scenario {position}"),
                status: if failed { "failed" } else { "passed" }.into(),
                skip_reason: None,
                failed_checks: i64::from(failed),
                snapshot: Some(if n == 0 { "new" } else { "matched" }.into()),
                text: format!("PASS  scenario {position}  scenarios/lifecycle/scenario-{position}.yaml\n"),
                transcript: Some("  > GET /saasproduce?activity=newInstance&…\n  < 200 {\"resultCode\":\"000000\"}\n".repeat(12)),
                diff: None,
            }
        })
        .collect();
    let finished = FinishedRun {
        finished_at: at + 400,
        verdict: if failing {
            "not-conformant"
        } else {
            "conformant"
        }
        .into(),
        counts: RunCounts {
            scenarios: SCENARIOS as i64,
            passed: SCENARIOS as i64 - i64::from(failing),
            failed: i64::from(failing),
            skipped: 0,
            changed: 0,
        },
        report: format!("{{\"version\":2,\"padding\":\"{}\"}}", "x".repeat(20_000)),
        junit: format!(
            "<testsuites>{}</testsuites>",
            "<testcase/>".repeat(SCENARIOS)
        ),
        scenarios,
        first_transcripts: Vec::new(),
    };
    writer
        .finish_suite_run(run, product, &finished)
        .expect("finish");
}

fn attempt(
    product: i64,
    call: usize,
    number: usize,
    at: i64,
    activity: &str,
    order: &str,
    accepted: bool,
) -> AttemptRow {
    let query = format!(
        "activity={activity}&businessId=5f1c1f2e-8d0b-4c1a-9a43-{call:012}&customerId=68cbc86abc2018ab880d92f36422fa0e&orderId={order}&productId=00301-666666-0--0&skuCode=sku-standard&testFlag=0&timeStamp=20261128060344387&authToken=R1SELYCU63Yd9%2F93OW%2F2HGvVyFFCg%2BwKhq3sm%2BYCxXA%3D"
    );
    AttemptRow {
        id: 0,
        product_id: product,
        call: call as i64,
        number: number as i64,
        at,
        activity: activity.into(),
        url: Some(format!("http://127.0.0.1:9/saasproduce?{query}")),
        request: Some(query),
        status: Some(if accepted { 200 } else { 500 }),
        answer: Some(if accepted {
            r#"{"resultCode":"000000","resultMsg":"success."}"#.into()
        } else {
            "broken".into()
        }),
        verdict: if accepted {
            AttemptVerdict::Accepted
        } else {
            AttemptVerdict::Rejected
        },
        check_id: (!accepted).then(|| "console.http-status".into()),
        message: (!accepted).then(|| "HTTP status 500, not 200".into()),
    }
}

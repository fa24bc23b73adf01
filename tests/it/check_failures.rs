//! For the checks no reference-merchant fault reaches on its own, a misbehaving test merchant
//! (a wiremock responder, or no merchant at all) and a fixture scenario make exactly that one
//! check fail.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fault_matrix::failing_checks;
use crate::support::{kgsim, kgsim_json};

/// A V2 merchant (V2 answers are unsigned) whose newInstance and queryInstance answers are
/// fixed.
async fn v2_merchant(new_instance: serde_json::Value, query: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"activity": "newInstance"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(new_instance.to_string(), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"activity": "queryInstance"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(query.to_string(), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"resultCode":"000000","resultMsg":"ok"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    server
}

/// Runs a fixture scenario against a target through the binary; returns the exit code and
/// the checks that failed on their own.
async fn run(fixture: &str, target: String) -> (i32, BTreeSet<String>) {
    let fixture = fixture.to_owned();
    tokio::task::spawn_blocking(move || {
        let (run, value) = kgsim_json(
            &[
                "run",
                "--no-snapshots",
                &fixture,
                "--target",
                &target,
                "--protocol",
                "v2",
            ],
            Some("check-failure-key"),
        );
        (run.code, failing_checks(&value))
    })
    .await
    .unwrap()
}

fn only(check: &str) -> (i32, BTreeSet<String>) {
    (1, BTreeSet::from([check.to_owned()]))
}

/// Provisioning starts (000004) and never completes: the instance is never listed.
async fn never_provisioned() -> MockServer {
    v2_merchant(
        json!({"resultCode": "000004", "resultMsg": "processing", "instanceId": "w-1"}),
        json!({"resultCode": "000000", "resultMsg": "ok", "info": []}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn provisioning_that_never_completes_fails_the_state_checks() {
    let server = never_provisioned().await;
    let target = format!("{}/saasproduce", server.uri());
    assert_eq!(
        run("fixtures/checks/order-state.yaml", target.clone()).await,
        only("lifecycle.order-state")
    );
    assert_eq!(
        run("fixtures/checks/instance-state.yaml", target.clone()).await,
        only("lifecycle.instance-state")
    );
    assert_eq!(
        run("fixtures/checks/retry-schedule.yaml", target.clone()).await,
        only("retry.schedule")
    );
    assert_eq!(
        run("fixtures/checks/scenario-step.yaml", target).await,
        only("scenario.step")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn provisioning_that_completes_after_all_fails_an_exhaustion_expectation() {
    let server = v2_merchant(
        json!({"resultCode": "000004", "resultMsg": "processing", "instanceId": "w-1"}),
        json!({"resultCode": "000000", "resultMsg": "ok", "info": [{"instanceId": "w-1"}]}),
    )
    .await;
    let target = format!("{}/saasproduce", server.uri());
    assert_eq!(
        run("fixtures/checks/retry-exhaustion.yaml", target).await,
        only("retry.exhaustion")
    );
}

/// Listing an instance nobody asked about satisfies the console (every requested id is
/// there) but not a scenario that counts the listing.
#[tokio::test(flavor = "multi_thread")]
async fn a_query_answer_listing_too_much_fails_the_query_check() {
    let server = v2_merchant(
        json!({"resultCode": "000000", "resultMsg": "ok", "instanceId": "w-1"}),
        json!({"resultCode": "000000", "resultMsg": "ok", "info": [{"instanceId": "w-1"}, {"instanceId": "w-9"}]}),
    )
    .await;
    let target = format!("{}/saasproduce", server.uri());
    assert_eq!(
        run("fixtures/checks/lifecycle-query.yaml", target).await,
        only("lifecycle.query")
    );
}

/// The console refuses a successful queryInstance answer that leaves out a requested
/// instance, wherever the query is sent (spec V1 §1 FAQ, V2 §8.3).
#[tokio::test(flavor = "multi_thread")]
async fn a_query_answer_without_the_instance_fails_the_listing_check() {
    let server = v2_merchant(
        json!({"resultCode": "000000", "resultMsg": "ok", "instanceId": "w-1"}),
        json!({"resultCode": "000000", "resultMsg": "ok"}),
    )
    .await;
    let target = format!("{}/saasproduce", server.uri());
    assert_eq!(
        run("fixtures/checks/lifecycle-query.yaml", target).await,
        only("console.query-listing")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_answer_fails_the_transport_check() {
    let server = MockServer::start().await;
    let huge = format!(
        r#"{{"resultCode":"000000","resultMsg":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(huge, "application/json"))
        .mount(&server)
        .await;
    let target = format!("{}/saasproduce", server.uri());
    assert_eq!(
        run("fixtures/checks/purchase.yaml", target).await,
        only("console.transport")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "http://127.0.0.1:9/elsewhere"),
        )
        .mount(&server)
        .await;
    let target = format!("{}/saasproduce", server.uri());
    let (code, checks) = run("fixtures/checks/purchase.yaml", target).await;
    assert_eq!(
        (code, checks.contains("console.http-status")),
        (1, true),
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merchant_that_goes_away_fails_the_reachable_check() {
    use kgsim::marketplace::Span;
    use kgsim::pipeline::{SuiteRun, run_suite};
    use kgsim::protocol::AccessKey;
    use kgsim::scenario::profile::{Overrides, Profile};

    // Bind a port and release it: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = crate::support::client(
        &format!("http://127.0.0.1:{port}/saasproduce"),
        Duration::from_secs(2),
    );
    let text = std::fs::read_to_string("fixtures/checks/purchase.yaml").unwrap();
    let scenario = kgsim::scenario::format::decode::decode("purchase.yaml", &text).unwrap();
    let profile = Profile::with_overrides(&Overrides {
        timeout: Some(Span::seconds(2)),
        ..Overrides::default()
    });
    let run = SuiteRun::new(
        profile,
        AccessKey::new("k"),
        client,
        vec![std::sync::Arc::new(scenario)],
    );
    let report = run_suite(run, &|_| {}).await.unwrap();
    let failing: BTreeSet<&str> = report
        .scenarios
        .iter()
        .flat_map(|s| s.failures().map(|(_, o)| o.check.as_str()))
        .collect();
    assert_eq!(failing, BTreeSet::from(["console.reachable"]));

    // Through the command line, an unreachable target is found before any scenario runs: exit 3.
    let unreachable = format!("http://127.0.0.1:{port}/saasproduce");
    let cli = tokio::task::spawn_blocking(move || {
        kgsim(&["run", "--target", &unreachable], Some("k"), None)
    })
    .await
    .unwrap();
    assert_eq!(cli.code, 3, "{}", cli.stderr);
    assert!(
        cli.stderr
            .contains("unreachable before any scenario started"),
        "{}",
        cli.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_reset_mid_answer_fails_the_transport_check() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A "merchant" that reads the request, starts an answer and hangs up halfway.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"resultCode\":").await;
            drop(socket);
        }
    });
    let target = format!("http://{address}/saasproduce");
    assert_eq!(
        run("fixtures/checks/purchase.yaml", target).await,
        only("console.transport")
    );
}

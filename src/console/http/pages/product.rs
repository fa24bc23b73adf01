//! `GET /products/{id}`: the product — address, kind, keys' fingerprints, interfaces —, the
//! buyer's purchase form, its instances with their actions, 联营 enterprises, its orders.

use std::sync::Arc;

use axum::extract::{Path, State};
use maud::{Markup, html};

use crate::console::http::App;
use crate::console::http::pages::{PageResult, frame, product_of, rendered};
use crate::console::http::view::{badge, beijing, button_form, page as framed};
use crate::console::journal::BuyerAction;
use crate::console::product::ProductSpec;
use crate::console::store::{
    EnterpriseRow, ExplorationRow, InstanceRow, OrderRow, Page, ProductRow, SuiteRunRow,
};
use crate::marketplace::kind::ProductType;

/// What a product's page shows.
#[derive(Debug, Clone)]
pub(crate) struct ProductView {
    pub(crate) row: ProductRow,
    pub(crate) spec: ProductSpec,
    /// `(interface type, fingerprint)` of each key configured.
    pub(crate) fingerprints: Vec<(&'static str, String)>,
    pub(crate) instances: Vec<InstanceRow>,
    pub(crate) enterprises: Vec<EnterpriseRow>,
    pub(crate) orders: Vec<OrderRow>,
    /// The latest suite runs.
    pub(crate) runs: Vec<SuiteRunRow>,
    /// The latest explorations.
    pub(crate) explorations: Vec<ExplorationRow>,
}

pub(super) async fn page(State(app): State<Arc<App>>, Path(id): Path<i64>) -> PageResult {
    let (row, spec) = product_of(&app, id)?;
    let mut fingerprints = Vec::new();
    for (meta, what) in [
        ("key.fingerprint", "basic"),
        ("key.kit.fingerprint", "kit"),
        ("key.license-code.fingerprint", "license-code"),
        ("key.notify.fingerprint", "notify"),
    ] {
        if let Some(print) = app.read(|r| r.meta(meta))?.filter(|p| !p.is_empty()) {
            fingerprints.push((what, print));
        }
    }
    let view = ProductView {
        fingerprints,
        instances: app.read(|r| r.instances(id, Page::first(50)))?,
        enterprises: if spec.kit_public_key.is_some() {
            app.read(|r| r.enterprises(id))?
        } else {
            Vec::new()
        },
        orders: app.read(|r| r.orders(id, Page::first(50)))?,
        runs: app.read(|r| r.suite_runs(id, Page::first(RUNS_SHOWN)))?,
        explorations: app.read(|r| r.explorations(id, Page::first(RUNS_SHOWN)))?,
        row,
        spec,
    };
    let frame = frame(&app, &view.row.name);
    Ok(rendered(framed(&frame, &content(&view, &frame.token))))
}

/// The product page's content.
pub(crate) fn content(view: &ProductView, token: &str) -> Markup {
    let id = view.row.id;
    html! {
        @if view.row.trading_frozen {
            p.error #trading-frozen role="alert" { "Trading frozen and the product hidden: its dial tests failed five days running. Fix the interface, then replay all saved cases on the debug page." }
        }
        (panel(view))
        (runs(view, token))
        (explorations(view, token))
        h2 { "Buyer" }
        form method="post" action="/ui/purchase" .panel {
            input type="hidden" name="token" value=(token);
            input type="hidden" name="product_id" value=(id);
            label for="trial" { input type="checkbox" name="trial" value="1" #trial; " Trial" }
            button type="submit" #buy { "Buy" }
        }
        (instances(view, token))
        @if view.spec.kit_public_key.is_some() {
            (kit_section(id, &view.enterprises, token))
        }
        h2 { "Orders" }
        div.scroll {
            table #orders {
                tr { th { "Order" } th { "Kind" } th { "Status" } th { "Placed" } th { "Settled" } }
                @for order in &view.orders {
                    tr {
                        td { a href={ "/orders/" (order.order_id) } { (order.order_id) } }
                        td { (order.kind) }
                        td { (badge(&order.status)) }
                        td { (beijing(order.placed_at)) }
                        td { @if let Some(at) = order.settled_at { (beijing(at)) } }
                    }
                }
            }
        }
    }
}

/// What the product is: address, kind, keys' fingerprints, interfaces, links.
fn panel(view: &ProductView) -> Markup {
    let spec = &view.spec;
    let id = view.row.id;
    html! {
        div.panel {
            b { "Production address" } " " code { (spec.production_address) } br;
            b { "Protocol" } " " (spec.protocol) " · " b { "Billing" } " " (spec.billing) " · " b { "Type" } " " (spec.product) br;
            b { "Keys" } " (fingerprints; the keys come from the environment and are never stored) "
            @for (index, (what, print)) in view.fingerprints.iter().enumerate() {
                @if index > 0 { ", " }
                (what) " " code { (print) }
            }
            @if let Some(url) = &spec.order_notify {
                br; b { "Order notification" } " " code { (url) }
            }
            br; b { "Interfaces" } " "
            @for (index, (activity, required)) in spec.interfaces().iter().enumerate() {
                @if index > 0 { ", " }
                (activity) " " span.muted { "(" (activity.interface_type()) ", " (if *required { "required" } else if spec.interfaces.iter().any(|d| d == activity.slug()) { "optional, implemented" } else { "optional" }) ")" }
            }
            br;
            a href={ "/products/" (id) "/debug" } { "接口调试 · Debug page" } " · "
            a href={ "/api/products/" (id) "/scenario" } #export { "Export as scenario" }
        }
    }
}

/// How many suite runs the page lists (the API pages through all of them).
const RUNS_SHOWN: u32 = 20;

/// The conformance suite: the form that starts a run, and the latest runs' verdicts.
fn runs(view: &ProductView, token: &str) -> Markup {
    let source = view.spec.scenarios.as_deref().map_or_else(
        || "the built-in suite".to_owned(),
        |folder| format!("the scenarios in {folder}"),
    );
    html! {
        h2 { "Conformance suite" }
        form method="post" action="/ui/runs" .panel {
            input type="hidden" name="token" value=(token);
            input type="hidden" name="product_id" value=(view.row.id);
            "Runs " (source) " against the production address, on engines of its own (this page's orders are not touched). "
            br;
            label for="run-patterns" { "Only scenarios matching (optional, e.g. " code { "purchase tag:listing" } ") " }
            input type="text" name="scenarios" #run-patterns size="30";
            button type="submit" #start-run { "Run the suite" }
        }
        @if !view.runs.is_empty() {
            div.scroll {
                table #runs {
                    tr { th { "Run" } th { "Started" } th { "Status" } th { "Verdict" } th { "Passed" } th { "Failed" } th { "Skipped" } th { "Transcripts changed" } }
                    @for run in &view.runs {
                        tr {
                            td { a href={ "/runs/" (run.run_id) } { "#" (run.run_id) } }
                            td { (beijing(run.started_at)) }
                            td { (badge(&run.status)) }
                            td { @if let Some(verdict) = &run.verdict { (badge(verdict)) } }
                            td { (run.summary.passed) }
                            td { (run.summary.failed) }
                            td { (run.summary.skipped) }
                            td { (run.summary.changed) }
                        }
                    }
                }
            }
        }
    }
}

/// Random walks through the product's lifecycle: the form that starts one, and the latest.
fn explorations(view: &ProductView, token: &str) -> Markup {
    html! {
        h2 { "Exploration" }
        form method="post" action="/ui/explorations" .panel {
            input type="hidden" name="token" value=(token);
            input type="hidden" name="product_id" value=(view.row.id);
            "Walks the product's lifecycle at random (as " code { "kgsim explore" } "), judged by the suite's checks; a failure is shrunk to a short scenario you can replay. "
            br;
            label for="explore-seed" { "Seed (optional) " }
            input type="text" name="seed" #explore-seed size="12" inputmode="numeric";
            label for="explore-steps" { "Steps " }
            input type="text" name="steps" #explore-steps size="7" value="2000" inputmode="numeric";
            button type="submit" #start-exploration { "Explore" }
        }
        @if !view.explorations.is_empty() {
            div.scroll {
                table #explorations {
                    tr { th { "Exploration" } th { "Started" } th { "Seed" } th { "Status" } th { "Steps" } th { "Found" } }
                    @for e in &view.explorations {
                        tr {
                            td { a href={ "/explorations/" (e.exploration_id) } { "#" (e.exploration_id) } }
                            td { (beijing(e.started_at)) }
                            td { code { (e.seed) } }
                            td { (badge(&e.status)) }
                            td { (e.steps) " / " (e.budget) }
                            td { @if let Some(check) = &e.check_id { (badge("failed")) " " code { (check) } } }
                        }
                    }
                }
            }
        }
    }
}

/// The latest instances, each with the buyer's actions.
fn instances(view: &ProductView, token: &str) -> Markup {
    let id = view.row.id;
    // License 2.0 products: the code the marketplace issued stands where an instanceId would.
    let id_column = if view.spec.product == ProductType::LicenseCode {
        "License code"
    } else {
        "instanceId"
    };
    html! {
        h2 { "Instances" }
        div.scroll {
            table #instances {
                tr { th { "#" } th { "Order" } th { (id_column) } th { "State" } th { "Billing" } th { "Expires" } th { "Actions" } }
                @for instance in &view.instances {
                    tr {
                        td { (instance.reference) }
                        td { a href={ "/orders/" (instance.order_id) } { (instance.order_id) } }
                        td { code { (instance.instance_id.as_deref().unwrap_or("")) } }
                        td { (badge(&instance.state)) }
                        td { (instance.billing) }
                        td { @if let Some(at) = instance.expire_at { (beijing(at)) } }
                        td { (actions(id, instance, view.spec.kit_public_key.is_some(), token)) }
                    }
                }
            }
        }
    }
}

/// An instance's buttons.
fn actions(product: i64, instance: &InstanceRow, kit: bool, token: &str) -> Markup {
    let fields = |action: &str| {
        vec![
            ("product_id", product.to_string()),
            ("instance", instance.reference.to_string()),
            ("action", action.to_owned()),
        ]
    };
    html! {
        @for action in BuyerAction::ALL.iter().filter(|a| offered(**a, instance)) {
            (button_form("/ui/act", token, &fields(action.slug()), action.slug(), &format!("act-{}-{}", action.slug(), instance.reference)))
        }
        @if kit {
            (button_form("/ui/kit", token, &fields("bind-enterprise"), "bind-enterprise", &format!("kit-bind-{}", instance.reference)))
        }
    }
}

/// Whether the page offers a buyer action for an instance in its state: what the marketplace
/// allows (`marketplace/lifecycle.rs`) — a renewal of a subscription that is not a trial,
/// active or in its freeze window; a trial's conversion; an upgrade or a violation freeze of
/// an active instance; lifting a violation; unsubscribing anything not yet released — so that
/// no button leads only to a refusal.
fn offered(action: BuyerAction, instance: &InstanceRow) -> bool {
    let state = instance.state.as_str();
    let renewable = matches!(state, "active" | "frozen");
    match action {
        BuyerAction::Renew => {
            renewable
                && !instance.trial
                && matches!(instance.billing.as_str(), "period" | "package")
        }
        BuyerAction::ConvertTrial => renewable && instance.trial,
        BuyerAction::Upgrade | BuyerAction::Freeze => state == "active",
        BuyerAction::Unfreeze => state == "suspended",
        BuyerAction::Unsubscribe => {
            matches!(
                state,
                "active" | "frozen" | "suspended" | "in-arrears" | "stopped"
            )
        }
    }
}

/// 联营: the enterprises the Kit synced, and what makes it sync.
fn kit_section(product: i64, enterprises: &[EnterpriseRow], token: &str) -> Markup {
    let kit_form = |action: &str, extra: &[(&str, String)], label: &str, element: String| {
        let mut fields = vec![
            ("product_id", product.to_string()),
            ("action", action.to_owned()),
        ];
        fields.extend(extra.iter().cloned());
        button_form("/ui/kit", token, &fields, label, &element)
    };
    html! {
        h2 { "联营 · Kit" }
        p { (kit_form("apply-credential", &[], "Apply for the app credential", "kit-apply-credential".into())) }
        div.scroll {
            table #enterprises {
                tr { th { "#" } th { "Enterprise" } th { "tenantId" } th { "appId / client_id" } th { "Instance" } th { "Users" } th { "Departments" } th { "Actions" } }
                @for enterprise in enterprises {
                    @let n = enterprise.reference;
                    tr {
                        td { (n) }
                        td { (enterprise.name) }
                        td { code { (enterprise.tenant_id) } }
                        td { code { (enterprise.app_id) } " / " code { (enterprise.client_id) } }
                        td { @match enterprise.instance_ref { Some(i) => (i), None => "credential" } }
                        td { (enterprise.users) }
                        td { (enterprise.departments) }
                        td {
                            (kit_form("authorize-users", &[("enterprise", n.to_string()), ("count", "1".into())], "Authorize a user", format!("kit-authorize-{n}")))
                            (kit_form("add-department", &[("enterprise", n.to_string())], "Add a department", format!("kit-department-{n}")))
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::pages::fixtures;

    fn instance(state: &str, billing: &str, trial: bool) -> InstanceRow {
        InstanceRow {
            product_id: 1,
            reference: 0,
            order_id: "CS1".into(),
            instance_id: Some("i".into()),
            state: state.into(),
            billing: billing.into(),
            trial,
            expire_at: None,
            license_code: None,
        }
    }

    fn offers(row: &InstanceRow) -> Vec<&'static str> {
        BuyerAction::ALL
            .iter()
            .filter(|a| offered(**a, row))
            .map(|a| a.slug())
            .collect()
    }

    #[test]
    fn only_the_actions_the_marketplace_allows_are_offered() {
        assert_eq!(
            offers(&instance("active", "period", false)),
            ["renew", "upgrade", "unsubscribe", "freeze"]
        );
        assert_eq!(
            offers(&instance("active", "period", true)),
            ["convert-trial", "upgrade", "unsubscribe", "freeze"]
        );
        assert_eq!(
            offers(&instance("frozen", "period", false)),
            ["renew", "unsubscribe"]
        );
        assert_eq!(
            offers(&instance("suspended", "on-demand", false)),
            ["unsubscribe", "unfreeze"]
        );
        assert_eq!(
            offers(&instance("active", "on-demand", false)),
            ["upgrade", "unsubscribe", "freeze"]
        );
        assert!(offers(&instance("released", "period", false)).is_empty());
        assert!(offers(&instance("pending", "period", false)).is_empty());
    }

    #[test]
    fn product_page() {
        let spec: ProductSpec = serde_json::from_str(
            r#"{"production_address":"http://127.0.0.1:8080/saasproduce","protocol":"v2","kit_public_key":"k"}"#,
        )
        .unwrap();
        let view = ProductView {
            row: ProductRow {
                id: 3,
                name: "研发部 SaaS".into(),
                spec: String::new(),
                start_ms: 0,
                seed: 0,
                created_at: 0,
                trading_frozen: true,
            },
            spec,
            fingerprints: vec![("basic", "0123abcd".into())],
            instances: vec![InstanceRow {
                product_id: 3,
                reference: 0,
                order_id: "CS0001".into(),
                instance_id: Some("inst-<1>".into()),
                state: "active".into(),
                billing: "period".into(),
                trial: false,
                expire_at: Some(1_795_000_000_000),
                license_code: None,
            }],
            enterprises: vec![EnterpriseRow {
                product_id: 3,
                reference: 0,
                instance_ref: Some(0),
                tenant_id: "t-1".into(),
                tenant_code: "tc".into(),
                name: "华为技术有限公司".into(),
                app_id: "app".into(),
                client_id: "client".into(),
                users: 2,
                departments: 1,
            }],
            orders: vec![OrderRow {
                product_id: 3,
                order_id: "CS0001".into(),
                kind: "purchase".into(),
                status: "opened".into(),
                placed_at: 1_795_000_000_000,
                settled_at: Some(1_795_000_001_000),
            }],
            runs: vec![SuiteRunRow {
                run_id: 2,
                product_id: 3,
                started_at: 1_795_000_002_000,
                finished_at: Some(1_795_000_002_400),
                status: "finished".into(),
                verdict: Some("conformant".into()),
                conformant: Some(true),
                patterns: Vec::new(),
                source: "the built-in suite".into(),
                summary: crate::console::store::RunCounts {
                    scenarios: 40,
                    passed: 31,
                    failed: 0,
                    skipped: 9,
                    changed: 0,
                },
                note: None,
            }],
            explorations: Vec::new(),
        };
        insta::assert_snapshot!(fixtures::lines(content(&view, fixtures::TOKEN)));
    }
}

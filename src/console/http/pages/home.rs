//! `GET /`: the products, and the form that adds one.

use std::sync::Arc;

use axum::extract::State;
use maud::{Markup, html};

use crate::console::http::App;
use crate::console::http::pages::{PageResult, frame, rendered};
use crate::console::http::view::{badge, page as framed, select};
use crate::console::product::ProductSpec;
use crate::console::store::Counted;
use crate::marketplace::kind::ProductType;
use crate::protocol::{BillingMode, Protocol};

/// What the products page shows.
#[derive(Debug, Clone)]
pub(crate) struct HomeView {
    /// Notices whose retries ran out.
    pub(crate) failed_notices: i64,
    /// Every product.
    pub(crate) products: Vec<ProductLine>,
}

/// One product in the list.
#[derive(Debug, Clone)]
pub(crate) struct ProductLine {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) spec: Option<ProductSpec>,
    pub(crate) trading_frozen: bool,
}

pub(super) async fn page(State(app): State<Arc<App>>) -> PageResult {
    let products = app.read(|r| r.products())?;
    let view = HomeView {
        failed_notices: app.read(|r| r.count(Counted::FailedNotices))?,
        products: products
            .into_iter()
            .map(|row| ProductLine {
                id: row.id,
                spec: serde_json::from_str(&row.spec).ok(),
                name: row.name,
                trading_frozen: row.trading_frozen,
            })
            .collect(),
    };
    let frame = frame(&app, "Products");
    Ok(rendered(framed(&frame, &content(&view, &frame.token))))
}

/// The products page's content.
pub(crate) fn content(view: &HomeView, token: &str) -> Markup {
    html! {
            @if view.failed_notices > 0 {
                p.warn { a href="/log" { (view.failed_notices) " notice(s) failed" } ": restart them on 生产接口消息." }
            }
            div.scroll {
                table #products {
                    tr { th { "#" } th { "Product" } th { "Protocol" } th { "Billing" } th { "Type" } th { "Production address" } th { "Trading" } }
                    @for product in &view.products {
                        tr {
                            td { (product.id) }
                            td { a href={ "/products/" (product.id) } { (product.name) } }
                            @match &product.spec {
                                Some(spec) => {
                                    td { (spec.protocol) } td { (spec.billing) } td { (spec.product) }
                                    td { code { (spec.production_address) } }
                                }
                                None => { td {} td {} td {} td {} }
                            }
                            td { (badge(if product.trading_frozen { "frozen" } else { "active" })) }
                        }
                    }
                    @if view.products.is_empty() {
                        tr { td colspan="7" { "No product yet: add one below, pointing at your production interface." } }
                    }
                }
            }
            h2 { "Add a product" }
            (create_form(token))
    }
}

/// The form that adds a product: every choice built from its enum.
fn create_form(token: &str) -> Markup {
    html! {
        form method="post" action="/ui/products" .panel #create-product-form {
            input type="hidden" name="token" value=(token);
            label { "Production address " input type="text" name="production_address" #production-address size="48" placeholder="http://127.0.0.1:8080/produceAPI" required; }
            label { "Name " input type="text" name="name" #product-name; }
            br;
            (select("protocol", "Protocol", Protocol::SLUGS, None))
            (select("billing", "Billing", BillingMode::SLUGS, None))
            (select("product", "Type", ProductType::SLUGS, None))
            br;
            label { "Order notification address (V2, optional) " input type="text" name="order_notify" #order-notify size="40"; }
            br;
            label { "联营 Kit: the merchant's RSA public key, PEM (V2 SaaS, optional)" br; textarea name="kit_public_key" #kit-public-key rows="3" cols="64" {} }
            br;
            label { "The product's own scenario folder, run instead of the built-in suite (optional) " input type="text" name="scenarios" #scenario-folder size="40"; }
            br;
            label { "Optional interfaces it implements, for its suite runs (e.g. " code { "upgrade query-instance" } ") " input type="text" name="interfaces" #declared-interfaces size="40"; }
            br;
            button type="submit" #create-product { "Add product" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::pages::fixtures;

    #[test]
    fn products_page() {
        let spec: ProductSpec = serde_json::from_str(
            r#"{"production_address":"http://127.0.0.1:8080/p?a=1&b=<2>","protocol":"v2","billing":"on-demand"}"#,
        )
        .unwrap();
        let view = HomeView {
            failed_notices: 2,
            products: vec![
                ProductLine {
                    id: 1,
                    name: "Demo <SaaS> & co".into(),
                    spec: Some(spec),
                    trading_frozen: false,
                },
                ProductLine {
                    id: 2,
                    name: "Frozen".into(),
                    spec: None,
                    trading_frozen: true,
                },
            ],
        };
        insta::assert_snapshot!(fixtures::lines(content(&view, fixtures::TOKEN)));
    }

    #[test]
    fn an_empty_console_says_how_to_start() {
        let view = HomeView {
            failed_notices: 0,
            products: Vec::new(),
        };
        let page = content(&view, fixtures::TOKEN).into_string();
        assert!(page.contains("No product yet"), "{page}");
    }
}

//! The read side: rows as the pages and the JSON API show them, paged newest first, every
//! query on an index (the pages stay fast with hundreds of thousands of attempts).

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::console::store::StoreError;

/// Which slice of a long list to show.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Rows to skip.
    pub(crate) offset: u32,
    /// Rows to show.
    pub(crate) limit: u32,
}

impl Page {
    /// The first `limit` rows.
    pub(crate) fn first(limit: u32) -> Self {
        Self { offset: 0, limit }
    }
}

/// A product.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductRow {
    /// Its id.
    pub(crate) id: i64,
    /// Its name.
    pub(crate) name: String,
    /// How it was created (the request of `POST /api/products`), as JSON.
    #[serde(skip)]
    pub(crate) spec: String,
    /// The engine's start instant (Unix ms).
    #[serde(skip)]
    pub(crate) start_ms: i64,
    /// The engine's id seed.
    #[serde(skip)]
    pub(crate) seed: i64,
    /// When it was created (console clock, Unix ms).
    pub(crate) created_at: i64,
    /// Whether five consecutive days of failed dial tests froze its trading.
    pub(crate) trading_frozen: bool,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderRow {
    /// The product it belongs to.
    pub product_id: i64,
    /// Its orderId.
    pub order_id: String,
    /// purchase, renewal, trial-to-formal, renewal-refund, upgrade, unsubscribe.
    pub kind: String,
    /// pending, provisioning, opened, failed, refunded.
    pub status: String,
    /// When it was placed (console clock, Unix ms).
    pub placed_at: i64,
    /// When it opened or failed.
    pub settled_at: Option<i64>,
}

/// An instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InstanceRow {
    /// The product it belongs to.
    pub product_id: i64,
    /// Its number within the product (what buyer actions name).
    pub reference: i64,
    /// The order that created it.
    pub order_id: String,
    /// The instanceId the merchant returned.
    pub instance_id: Option<String>,
    /// pending, provisioning, active, frozen, suspended, released, failed …
    pub state: String,
    /// Its billing mode.
    pub billing: String,
    /// Whether it is a trial.
    pub trial: bool,
    /// When it expires (Unix ms).
    pub expire_at: Option<i64>,
    /// The License code issued for it (License products).
    pub license_code: Option<String>,
}

/// A notification (one call and its attempts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NoticeRow {
    /// The product it belongs to.
    pub product_id: i64,
    /// Its id within the product (what restart names).
    pub call: i64,
    /// The activity notified.
    pub activity: String,
    /// The order it concerns.
    pub order_id: Option<String>,
    /// The instance it concerns.
    pub instance_ref: Option<i64>,
    /// scheduled, succeeded, exhausted.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the first attempt was due (Unix ms).
    pub first_due: i64,
    /// A debug case or dial test rather than a lifecycle notice.
    pub probe: bool,
}

/// One attempt of a call, with what was sent, what came back and the verdict.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptRow {
    /// Its row id.
    pub id: i64,
    /// The product.
    pub product_id: i64,
    /// The call.
    pub call: i64,
    /// 1-based attempt number.
    pub number: i64,
    /// When it was made (console clock, Unix ms).
    pub at: i64,
    /// The activity.
    pub activity: String,
    /// The URL it went to, with its signed query.
    pub url: Option<String>,
    /// The request body (V2) or query (V1).
    pub request: Option<String>,
    /// The HTTP status of the answer.
    pub status: Option<i64>,
    /// The answer's body (cut at 64 KiB).
    pub answer: Option<String>,
    /// accepted, provisioning, rejected.
    pub verdict: crate::console::vocab::AttemptVerdict,
    /// The check a rejection reports under (`console.body-sign` …).
    pub check_id: Option<String>,
    /// What the console says about it.
    pub message: Option<String>,
}

/// A saved debug case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DebugCaseRow {
    /// Its id.
    pub(crate) id: i64,
    /// The product.
    pub(crate) product_id: i64,
    /// The interface (activity).
    pub(crate) activity: String,
    /// Which of the interface's cases (trialFlag, scene, status …).
    pub(crate) variant: i64,
    /// The fields the debug page's form changed, as JSON `{set, remove}`.
    #[schema(value_type = Option<Object>)]
    pub(crate) edits: Option<serde_json::Value>,
    /// When it was saved.
    pub(crate) created_at: i64,
    /// How its last run ended.
    pub(crate) last_verdict: Option<crate::console::vocab::AttemptVerdict>,
}

/// One replay of every saved case (a dial test, or the check after a product edit).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DialRunRow {
    /// Its id.
    pub(crate) id: i64,
    /// The product.
    pub(crate) product_id: i64,
    /// When it ran (console clock, Unix ms).
    pub(crate) at: i64,
    /// The day it counts for (UTC+8, `YYYY-MM-DD`).
    pub(crate) day: String,
    /// `dial` (scheduled) or `replay` (the product-edit check, "replay all").
    pub(crate) reason: crate::console::vocab::DialReason,
    /// Cases that passed.
    pub(crate) passed: i64,
    /// Cases that failed.
    pub(crate) failed: i64,
}

/// A 联营 enterprise: a tenant, its app and its users (the app's clientSecret is not kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EnterpriseRow {
    /// The product.
    pub(crate) product_id: i64,
    /// Its number within the product (what Kit actions name).
    pub(crate) reference: i64,
    /// The instance it is bound to; none for the seller's credential application.
    pub(crate) instance_ref: Option<i64>,
    /// `tenantId`.
    pub(crate) tenant_id: String,
    /// `tenantCode`.
    pub(crate) tenant_code: String,
    /// The enterprise's name.
    pub(crate) name: String,
    /// `appId`.
    pub(crate) app_id: String,
    /// The OAuth `client_id` of its app.
    pub(crate) client_id: String,
    /// Users authorised to the app.
    pub(crate) users: i64,
    /// Departments, the top level included.
    pub(crate) departments: i64,
}

/// A call the merchant made to the open APIs or the identity centre.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MerchantCallRow {
    /// Its row id.
    pub(crate) id: i64,
    /// The product the call named, when known.
    pub(crate) product_id: Option<i64>,
    /// When it arrived (wall time, Unix ms).
    pub(crate) at: i64,
    /// What it called (`query-order`, `usage-push` …).
    pub(crate) endpoint: String,
    /// `METHOD /path?query` as received.
    pub(crate) request_line: String,
    /// The HTTP status answered.
    pub(crate) status: i64,
    /// The checks it broke.
    pub(crate) findings: Vec<StoredFinding>,
}

/// A check a merchant's open-API call broke, as stored with the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoredFinding {
    /// The check's id (`openapi.signature`, …).
    pub(crate) check: String,
    /// What the rule says of the call.
    pub(crate) message: String,
}

/// A usage record as 话单管理 lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct UsageRecordRow {
    /// Its row id.
    pub(crate) id: i64,
    /// The product its instance belongs to, when known.
    pub(crate) product_id: Option<i64>,
    /// When the push arrived (wall time, Unix ms).
    pub(crate) at: i64,
    /// `instance_id`.
    pub(crate) instance_id: String,
    /// `metering_sn`.
    pub(crate) metering_sn: String,
    /// `begin_time`.
    pub(crate) begin_time: String,
    /// `end_time`.
    pub(crate) end_time: String,
    /// `usage_value`.
    pub(crate) usage_value: String,
    /// `accepted`, or `abnormal` with a record code.
    pub(crate) status: String,
    /// The record code of an abnormal record (001–013).
    pub(crate) code: Option<String>,
    /// What the code means for this record.
    pub(crate) message: String,
}

/// A read-only connection for pages and API reads.
pub struct Reader {
    pub(super) connection: Connection,
}

impl Reader {
    /// Wraps a connection.
    pub(crate) fn new(connection: Connection) -> Self {
        Self { connection }
    }

    /// A value of the `meta` table (the keys' fingerprints, the clock).
    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        meta(&self.connection, key)
    }

    /// Every product, oldest first.
    pub(crate) fn products(&self) -> Result<Vec<ProductRow>, StoreError> {
        products(&self.connection)
    }

    /// One product.
    pub(crate) fn product(&self, id: i64) -> Result<Option<ProductRow>, StoreError> {
        product(&self.connection, id)
    }

    /// A product's orders, newest first.
    pub(crate) fn orders(&self, product: i64, page: Page) -> Result<Vec<OrderRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT product_id, order_id, kind, status, placed_at, settled_at FROM orders
             WHERE product_id = ?1 ORDER BY placed_at DESC, order_id LIMIT ?2 OFFSET ?3",
        )?;
        let rows = statement.query_map(params![product, page.limit, page.offset], order_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An order by its orderId.
    pub(crate) fn order(&self, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT product_id, order_id, kind, status, placed_at, settled_at FROM orders
             WHERE order_id = ?1 LIMIT 1",
        )?;
        Ok(statement.query_row([order_id], order_row).optional()?)
    }

    /// A product's instances, newest first.
    pub(crate) fn instances(
        &self,
        product: i64,
        page: Page,
    ) -> Result<Vec<InstanceRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT product_id, ref, order_id, instance_id, state, billing, trial, expire_at, license_code
             FROM instances WHERE product_id = ?1 ORDER BY ref DESC LIMIT ?2 OFFSET ?3",
        )?;
        let rows = statement.query_map(params![product, page.limit, page.offset], instance_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The instances an order created.
    pub(crate) fn instances_of(
        &self,
        product: i64,
        order_id: &str,
    ) -> Result<Vec<InstanceRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT product_id, ref, order_id, instance_id, state, billing, trial, expire_at, license_code
             FROM instances WHERE product_id = ?1 AND order_id = ?2 ORDER BY ref",
        )?;
        let rows = statement.query_map(params![product, order_id], instance_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The notices about an order, in the order they were created.
    pub(crate) fn notices_of(
        &self,
        product: i64,
        order_id: &str,
    ) -> Result<Vec<NoticeRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT product_id, call, activity, order_id, instance_ref, state, attempts, first_due, probe
             FROM notices WHERE order_id = ?2 AND product_id = ?1 ORDER BY call",
        )?;
        let rows = statement.query_map(params![product, order_id], notice_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Lifecycle notices whose retries ran out (生产接口消息's failed list), newest first.
    pub(crate) fn failed_notices(&self, page: Page) -> Result<Vec<NoticeRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT product_id, call, activity, order_id, instance_ref, state, attempts, first_due, probe
             FROM notices WHERE state = 'exhausted' AND probe = 0
             ORDER BY first_due DESC, product_id, call LIMIT ?1 OFFSET ?2",
        )?;
        let rows = statement.query_map(params![page.limit, page.offset], notice_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A call's attempts, first first.
    pub(crate) fn attempts_of(
        &self,
        product: i64,
        call: i64,
    ) -> Result<Vec<AttemptRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "{ATTEMPT_COLUMNS} WHERE product_id = ?1 AND call = ?2 ORDER BY number"
        ))?;
        let rows = statement.query_map(params![product, call], attempt_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The call log, newest first.
    pub(crate) fn log(&self, page: Page) -> Result<Vec<AttemptRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "{ATTEMPT_COLUMNS} ORDER BY id DESC LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = statement.query_map(params![page.limit, page.offset], attempt_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many rows a table holds (for the page headers).
    pub(crate) fn count(&self, table: Counted) -> Result<i64, StoreError> {
        let sql = match table {
            Counted::Attempts => "SELECT max(id) FROM attempts",
            Counted::FailedNotices => {
                "SELECT count(*) FROM notices WHERE state = 'exhausted' AND probe = 0"
            }
        };
        let value: Option<i64> = self.connection.query_row(sql, [], |row| row.get(0))?;
        Ok(value.unwrap_or(0))
    }

    /// A product's saved debug cases.
    pub(crate) fn debug_cases(&self, product: i64) -> Result<Vec<DebugCaseRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, product_id, activity, variant, created_at, last_verdict, edits
             FROM debug_cases WHERE product_id = ?1 ORDER BY id",
        )?;
        let rows = statement.query_map([product], |row| {
            let edits: Option<String> = row.get(6)?;
            Ok(DebugCaseRow {
                id: row.get(0)?,
                product_id: row.get(1)?,
                activity: row.get(2)?,
                variant: row.get(3)?,
                edits: edits.and_then(|text| serde_json::from_str(&text).ok()),
                created_at: row.get(4)?,
                last_verdict: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A product's latest dial runs, newest first.
    pub(crate) fn dial_runs(
        &self,
        product: i64,
        limit: u32,
    ) -> Result<Vec<DialRunRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, product_id, at, day, reason, passed, failed FROM dial_runs
             WHERE product_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(params![product, limit], dial_run_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Reader {
    /// A product's 联营 enterprises.
    pub(crate) fn enterprises(&self, product: i64) -> Result<Vec<EnterpriseRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT product_id, ref, instance_ref, tenant_id, tenant_code, name, app_id, client_id,
             users, departments FROM kit_enterprises WHERE product_id = ?1 ORDER BY ref",
        )?;
        let rows = statement.query_map([product], |row| {
            Ok(EnterpriseRow {
                product_id: row.get(0)?,
                reference: row.get(1)?,
                instance_ref: row.get(2)?,
                tenant_id: row.get(3)?,
                tenant_code: row.get(4)?,
                name: row.get(5)?,
                app_id: row.get(6)?,
                client_id: row.get(7)?,
                users: row.get(8)?,
                departments: row.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// 话单管理: the usage records pushed, newest first.
    pub(crate) fn usage_records(&self, page: Page) -> Result<Vec<UsageRecordRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, product_id, at, instance_id, metering_sn, begin_time, end_time,
                    usage_value, code, message
             FROM usage_records ORDER BY id DESC LIMIT ?1 OFFSET ?2",
        )?;
        let rows = statement.query_map(params![page.limit, page.offset], |row| {
            let code: Option<String> = row.get(8)?;
            Ok(UsageRecordRow {
                id: row.get(0)?,
                product_id: row.get(1)?,
                at: row.get(2)?,
                instance_id: row.get(3)?,
                metering_sn: row.get(4)?,
                begin_time: row.get(5)?,
                end_time: row.get(6)?,
                usage_value: row.get(7)?,
                status: if code.is_some() {
                    "abnormal"
                } else {
                    "accepted"
                }
                .to_owned(),
                code,
                message: row.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The merchant's calls to the open APIs, newest first.
    pub(crate) fn merchant_calls(&self, page: Page) -> Result<Vec<MerchantCallRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, product_id, at, endpoint, request_line, status, findings FROM merchant_calls
             ORDER BY id DESC LIMIT ?1 OFFSET ?2",
        )?;
        let rows = statement.query_map(params![page.limit, page.offset], |row| {
            Ok(MerchantCallRow {
                id: row.get(0)?,
                product_id: row.get(1)?,
                at: row.get(2)?,
                endpoint: row.get(3)?,
                request_line: row.get(4)?,
                status: row.get(5)?,
                findings: {
                    let text: String = row.get(6)?;
                    serde_json::from_str(&text).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(6, Type::Text, e.into())
                    })?
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// What [`Reader::count`] counts.
#[derive(Debug, Clone, Copy)]
pub enum Counted {
    /// Attempts ever recorded (the log's length).
    Attempts,
    /// Lifecycle notices whose retries ran out.
    FailedNotices,
}

const ATTEMPT_COLUMNS: &str = "SELECT id, product_id, call, number, at, activity, url, request, status, answer, verdict, check_id, message FROM attempts";

/// A value of the `meta` table (both connections read it).
pub(super) fn meta(connection: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(connection
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

const PRODUCT_COLUMNS: &str =
    "SELECT id, name, spec, start_ms, seed, created_at, trading_frozen FROM products";

/// Every product, oldest first (both connections read them).
pub(super) fn products(connection: &Connection) -> Result<Vec<ProductRow>, StoreError> {
    let mut statement = connection.prepare_cached(&format!("{PRODUCT_COLUMNS} ORDER BY id"))?;
    let rows = statement.query_map([], product_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One product.
pub(super) fn product(connection: &Connection, id: i64) -> Result<Option<ProductRow>, StoreError> {
    let mut statement = connection.prepare_cached(&format!("{PRODUCT_COLUMNS} WHERE id = ?1"))?;
    Ok(statement.query_row([id], product_row).optional()?)
}

fn product_row(row: &Row<'_>) -> rusqlite::Result<ProductRow> {
    Ok(ProductRow {
        id: row.get(0)?,
        name: row.get(1)?,
        spec: row.get(2)?,
        start_ms: row.get(3)?,
        seed: row.get(4)?,
        created_at: row.get(5)?,
        trading_frozen: row.get(6)?,
    })
}

fn order_row(row: &Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok(OrderRow {
        product_id: row.get(0)?,
        order_id: row.get(1)?,
        kind: row.get(2)?,
        status: row.get(3)?,
        placed_at: row.get(4)?,
        settled_at: row.get(5)?,
    })
}

fn instance_row(row: &Row<'_>) -> rusqlite::Result<InstanceRow> {
    Ok(InstanceRow {
        product_id: row.get(0)?,
        reference: row.get(1)?,
        order_id: row.get(2)?,
        instance_id: row.get(3)?,
        state: row.get(4)?,
        billing: row.get(5)?,
        trial: row.get(6)?,
        expire_at: row.get(7)?,
        license_code: row.get(8)?,
    })
}

fn notice_row(row: &Row<'_>) -> rusqlite::Result<NoticeRow> {
    Ok(NoticeRow {
        product_id: row.get(0)?,
        call: row.get(1)?,
        activity: row.get(2)?,
        order_id: row.get(3)?,
        instance_ref: row.get(4)?,
        state: row.get(5)?,
        attempts: row.get(6)?,
        first_due: row.get(7)?,
        probe: row.get(8)?,
    })
}

fn attempt_row(row: &Row<'_>) -> rusqlite::Result<AttemptRow> {
    Ok(AttemptRow {
        id: row.get(0)?,
        product_id: row.get(1)?,
        call: row.get(2)?,
        number: row.get(3)?,
        at: row.get(4)?,
        activity: row.get(5)?,
        url: row.get(6)?,
        request: row.get(7)?,
        status: row.get(8)?,
        answer: row.get(9)?,
        verdict: row.get(10)?,
        check_id: row.get(11)?,
        message: row.get(12)?,
    })
}

fn dial_run_row(row: &Row<'_>) -> rusqlite::Result<DialRunRow> {
    Ok(DialRunRow {
        id: row.get(0)?,
        product_id: row.get(1)?,
        at: row.get(2)?,
        day: row.get(3)?,
        reason: row.get(4)?,
        passed: row.get(5)?,
        failed: row.get(6)?,
    })
}

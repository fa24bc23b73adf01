//! The write side: products, journal entries, and the read-model rows they changed, each
//! change in one transaction.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use crate::console::store::StoreError;
use crate::console::store::read::{
    self, AttemptRow, EnterpriseRow, InstanceRow, NoticeRow, OrderRow, ProductRow,
};
use crate::console::vocab::{AttemptVerdict, DialReason};

/// The read-model rows of one product as last written, so that a change writes only the rows
/// that differ.
#[derive(Debug, Default)]
pub struct Mirror {
    orders: HashMap<String, OrderRow>,
    instances: Vec<InstanceRow>,
    notices: Vec<NoticeRow>,
    enterprises: Vec<EnterpriseRow>,
}

/// The rows a change touches.
#[derive(Debug, Default)]
pub struct Changes {
    orders: Vec<OrderRow>,
    instances: Vec<InstanceRow>,
    notices: Vec<NoticeRow>,
    enterprises: Vec<EnterpriseRow>,
}

impl Changes {
    /// Whether nothing changed.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.instances.is_empty()
            && self.notices.is_empty()
            && self.enterprises.is_empty()
    }
}

impl Mirror {
    /// The rows that differ from the last ones written, remembered as written.
    pub fn changes(
        &mut self,
        orders: Vec<OrderRow>,
        instances: Vec<InstanceRow>,
        notices: Vec<NoticeRow>,
    ) -> Changes {
        let mut changes = Changes::default();
        for order in orders {
            if self.orders.get(&order.order_id) != Some(&order) {
                self.orders.insert(order.order_id.clone(), order.clone());
                changes.orders.push(order);
            }
        }
        changed_rows(&mut self.instances, instances, &mut changes.instances);
        changed_rows(&mut self.notices, notices, &mut changes.notices);
        changes
    }

    /// Adds the 联营 enterprises that differ to a change.
    pub(crate) fn with_enterprises(
        &mut self,
        mut changes: Changes,
        enterprises: Vec<EnterpriseRow>,
    ) -> Changes {
        changed_rows(&mut self.enterprises, enterprises, &mut changes.enterprises);
        changes
    }
}

/// Rows are indexed by position (instances and calls only ever grow).
fn changed_rows<T: Clone + PartialEq>(kept: &mut Vec<T>, fresh: Vec<T>, out: &mut Vec<T>) {
    for (index, row) in fresh.into_iter().enumerate() {
        match kept.get_mut(index) {
            Some(old) if *old == row => {}
            Some(old) => {
                *old = row.clone();
                out.push(row);
            }
            None => {
                kept.push(row.clone());
                out.push(row);
            }
        }
    }
}

/// A saved debug case, as a dial test replays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SavedCase {
    /// Its id.
    pub(crate) id: i64,
    /// The interface.
    pub(crate) activity: String,
    /// Which of its cases.
    pub(crate) variant: i64,
    /// The fields the form changed, as JSON `{set, remove}`.
    pub(crate) edits: Option<String>,
}

/// The one connection that writes.
pub struct Writer {
    pub(super) connection: Connection,
}

impl Writer {
    /// Wraps the connection [`crate::console::store::open`] returned.
    pub fn new(connection: Connection) -> Self {
        Self { connection }
    }

    /// A value of the `meta` table.
    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        read::meta(&self.connection, key)
    }

    /// Sets a value of the `meta` table.
    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.connection.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Adds a product; returns its id.
    pub fn insert_product(
        &self,
        name: &str,
        spec: &str,
        start_ms: i64,
        seed: i64,
    ) -> Result<i64, StoreError> {
        self.connection.execute(
            "INSERT INTO products (name, spec, start_ms, seed, created_at) VALUES (?1, ?2, ?3, ?4, ?3)",
            params![name, spec, start_ms, seed],
        )?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Every product, oldest first.
    pub(crate) fn products(&self) -> Result<Vec<ProductRow>, StoreError> {
        read::products(&self.connection)
    }

    /// One product.
    pub(crate) fn product(&self, id: i64) -> Result<Option<ProductRow>, StoreError> {
        read::product(&self.connection, id)
    }

    /// Freezes or lifts a product's trading (the dial tests' 5-day rule).
    pub(crate) fn set_trading_frozen(&self, product: i64, frozen: bool) -> Result<(), StoreError> {
        self.connection.execute(
            "UPDATE products SET trading_frozen = ?2 WHERE id = ?1",
            params![product, frozen],
        )?;
        Ok(())
    }

    /// A product's journal, in order, as `(seq, entry JSON)`.
    pub(crate) fn journal(&self, product: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT seq, entry FROM journal WHERE product_id = ?1 ORDER BY seq")?;
        let rows = statement.query_map([product], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Writes one change atomically: a journal entry, the read-model rows it changed and the
    /// attempts it recorded (their `id` and `product_id` are assigned here).
    pub fn commit(
        &mut self,
        product: i64,
        entry: Option<&str>,
        changes: &Changes,
        attempts: &[AttemptRow],
    ) -> Result<(), StoreError> {
        let transaction = self.connection.transaction()?;
        if let Some(entry) = entry {
            transaction.execute(
                "INSERT INTO journal (product_id, entry) VALUES (?1, ?2)",
                params![product, entry],
            )?;
        }
        write_changes(&transaction, product, changes)?;
        for attempt in attempts {
            transaction
                .prepare_cached(
                    "INSERT INTO attempts (product_id, call, number, at, activity, url, request,
                     status, answer, verdict, check_id, message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?
                .execute(params![
                    product,
                    attempt.call,
                    attempt.number,
                    attempt.at,
                    attempt.activity,
                    attempt.url,
                    attempt.request,
                    attempt.status,
                    attempt.answer,
                    attempt.verdict,
                    attempt.check_id,
                    attempt.message
                ])?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Records the merchant's calls to the open APIs (`id` assigned here), and the usage
    /// records they pushed.
    pub(crate) fn record_merchant_calls(
        &mut self,
        calls: &[crate::console::store::MerchantCallRow],
        records: &[crate::console::store::UsageRecordRow],
    ) -> Result<(), StoreError> {
        let transaction = self.connection.transaction()?;
        for record in records {
            transaction
                .prepare_cached(
                    "INSERT INTO usage_records (product_id, at, instance_id, metering_sn,
                     begin_time, end_time, usage_value, code, message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    record.product_id,
                    record.at,
                    record.instance_id,
                    record.metering_sn,
                    record.begin_time,
                    record.end_time,
                    record.usage_value,
                    record.code,
                    record.message
                ])?;
        }
        for call in calls {
            transaction
                .prepare_cached(
                    "INSERT INTO merchant_calls (product_id, at, endpoint, request_line, status, findings)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    call.product_id,
                    call.at,
                    call.endpoint,
                    call.request_line,
                    call.status,
                    serde_json::to_string(&call.findings).unwrap_or_default()
                ])?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Saves a debug case; returns its id.
    pub(crate) fn save_debug_case(
        &self,
        product: i64,
        activity: &str,
        variant: i64,
        edits: Option<&str>,
        at: i64,
        verdict: AttemptVerdict,
    ) -> Result<i64, StoreError> {
        self.connection.execute(
            "INSERT INTO debug_cases (product_id, activity, variant, edits, created_at, last_verdict)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![product, activity, variant, edits, at, verdict],
        )?;
        Ok(self.connection.last_insert_rowid())
    }

    /// A product's saved cases, oldest first.
    pub(crate) fn debug_cases(&self, product: i64) -> Result<Vec<SavedCase>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT id, activity, variant, edits FROM debug_cases WHERE product_id = ?1 ORDER BY id",
        )?;
        let rows = statement.query_map([product], |row| {
            Ok(SavedCase {
                id: row.get(0)?,
                activity: row.get(1)?,
                variant: row.get(2)?,
                edits: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a replay of the saved cases and each case's verdict, in one transaction.
    pub(crate) fn record_dial_run(
        &mut self,
        product: i64,
        at: i64,
        day: jiff::civil::Date,
        reason: DialReason,
        verdicts: &[(i64, AttemptVerdict)],
    ) -> Result<(), StoreError> {
        let passed = verdicts
            .iter()
            .filter(|(_, v)| *v == AttemptVerdict::Accepted)
            .count() as i64;
        let failed = verdicts.len() as i64 - passed;
        let transaction = self.connection.transaction()?;
        transaction.execute(
            "INSERT INTO dial_runs (product_id, at, day, reason, passed, failed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![product, at, day.to_string(), reason, passed, failed],
        )?;
        for (case, verdict) in verdicts {
            transaction.execute(
                "UPDATE debug_cases SET last_verdict = ?2 WHERE id = ?1",
                params![case, verdict],
            )?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// The days (newest first) on which a product's dial tests ran, each with whether any
    /// scheduled run that day failed.
    pub(crate) fn dial_days(
        &self,
        product: i64,
        days: u32,
    ) -> Result<Vec<(jiff::civil::Date, bool)>, StoreError> {
        let mut statement = self.connection.prepare(
            "SELECT day, max(failed > 0) FROM dial_runs WHERE product_id = ?1 AND reason = 'dial'
             GROUP BY day ORDER BY day DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(params![product, days], |row| {
            let day: String = row.get(0)?;
            let date = day.parse::<jiff::civil::Date>().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
            })?;
            Ok((date, row.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn write_changes(
    transaction: &rusqlite::Transaction<'_>,
    product: i64,
    changes: &Changes,
) -> Result<(), StoreError> {
    for order in &changes.orders {
        transaction
            .prepare_cached(
                "INSERT INTO orders (product_id, order_id, kind, status, placed_at, settled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (product_id, order_id) DO UPDATE SET
                 status = excluded.status, settled_at = excluded.settled_at",
            )?
            .execute(params![
                product,
                order.order_id,
                order.kind,
                order.status,
                order.placed_at,
                order.settled_at
            ])?;
    }
    for instance in &changes.instances {
        transaction
            .prepare_cached(
                "INSERT INTO instances (product_id, ref, order_id, instance_id, state, billing,
                 trial, expire_at, license_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (product_id, ref) DO UPDATE SET instance_id = excluded.instance_id,
                 state = excluded.state, expire_at = excluded.expire_at,
                 license_code = excluded.license_code",
            )?
            .execute(params![
                product,
                instance.reference,
                instance.order_id,
                instance.instance_id,
                instance.state,
                instance.billing,
                instance.trial,
                instance.expire_at,
                instance.license_code
            ])?;
    }
    for enterprise in &changes.enterprises {
        transaction
            .prepare_cached(
                "INSERT INTO kit_enterprises (product_id, ref, instance_ref, tenant_id, tenant_code,
                 name, app_id, client_id, users, departments)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (product_id, ref) DO UPDATE SET name = excluded.name,
                 users = excluded.users, departments = excluded.departments",
            )?
            .execute(params![
                product,
                enterprise.reference,
                enterprise.instance_ref,
                enterprise.tenant_id,
                enterprise.tenant_code,
                enterprise.name,
                enterprise.app_id,
                enterprise.client_id,
                enterprise.users,
                enterprise.departments
            ])?;
    }
    for notice in &changes.notices {
        transaction
            .prepare_cached(
                "INSERT INTO notices (product_id, call, activity, order_id, instance_ref, state,
                 attempts, first_due, probe) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (product_id, call) DO UPDATE SET state = excluded.state,
                 attempts = excluded.attempts",
            )?
            .execute(params![
                product,
                notice.call,
                notice.activity,
                notice.order_id,
                notice.instance_ref,
                notice.state,
                notice.attempts,
                notice.first_due,
                notice.probe
            ])?;
    }
    Ok(())
}

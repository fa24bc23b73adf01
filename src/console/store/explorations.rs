//! Explorations started from the console: a row each, written when it starts and, in one
//! statement, when it ends — its walks, steps and exchanges, the lifecycle coverage, and
//! the failure it found with the shrunk scenario that replays it. One still `running` when
//! the console starts again was cut short and is marked `interrupted`.

use rusqlite::{OptionalExtension as _, Row, params};
use serde::Serialize;
use utoipa::ToSchema;

use crate::console::store::{Page, Reader, StoreError, Writer};

/// An exploration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExplorationRow {
    /// Its id.
    pub exploration_id: i64,
    /// The product it explored.
    pub product_id: i64,
    /// When it started (wall time, Unix ms).
    pub started_at: i64,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// `running`, `finished`, or `interrupted` (cut short by a restart of the console).
    pub status: String,
    /// The walks' seed (`kgsim explore --seed`), as text: it may exceed JSON's safe integers.
    pub seed: String,
    /// The steps asked for.
    pub budget: i64,
    /// Walks run.
    pub walks: i64,
    /// Steps (marketplace events) performed.
    pub steps: i64,
    /// Exchanges with the merchant.
    pub exchanges: i64,
    /// Which transitions of the lifecycle were exercised, as `kgsim explore` prints them.
    pub coverage: Option<String>,
    /// The failing check found, if any.
    pub check_id: Option<String>,
    /// What it said.
    pub message: Option<String>,
    /// The shrunk scenario that replays it (YAML).
    pub scenario: Option<String>,
    /// Steps the engine refused: a kgsim bug, never the merchant's.
    pub note: Option<String>,
}

const COLUMNS: &str = "SELECT id, product_id, started_at, finished_at, status, seed, budget, walks, steps, exchanges, coverage, check_id, message, scenario, note FROM explorations";

fn row(row: &Row<'_>) -> rusqlite::Result<ExplorationRow> {
    Ok(ExplorationRow {
        exploration_id: row.get(0)?,
        product_id: row.get(1)?,
        started_at: row.get(2)?,
        finished_at: row.get(3)?,
        status: row.get(4)?,
        seed: row.get(5)?,
        budget: row.get(6)?,
        walks: row.get(7)?,
        steps: row.get(8)?,
        exchanges: row.get(9)?,
        coverage: row.get(10)?,
        check_id: row.get(11)?,
        message: row.get(12)?,
        scenario: row.get(13)?,
        note: row.get(14)?,
    })
}

impl Reader {
    /// A product's explorations, newest first.
    pub(crate) fn explorations(
        &self,
        product: i64,
        page: Page,
    ) -> Result<Vec<ExplorationRow>, StoreError> {
        let sql = format!("{COLUMNS} WHERE product_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3");
        let mut statement = self.connection.prepare_cached(&sql)?;
        let rows = statement.query_map(params![product, page.limit, page.offset], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One exploration.
    pub(crate) fn exploration(&self, id: i64) -> Result<Option<ExplorationRow>, StoreError> {
        let sql = format!("{COLUMNS} WHERE id = ?1");
        let mut statement = self.connection.prepare_cached(&sql)?;
        Ok(statement.query_row([id], row).optional()?)
    }
}

impl Writer {
    /// Records an exploration as started; returns its id.
    pub(crate) fn start_exploration(
        &self,
        product: i64,
        started_at: i64,
        seed: u64,
        budget: usize,
    ) -> Result<i64, StoreError> {
        self.connection.execute(
            "INSERT INTO explorations (product_id, started_at, status, seed, budget)
             VALUES (?1, ?2, 'running', ?3, ?4)",
            params![product, started_at, seed.to_string(), budget as i64],
        )?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Writes what an exploration did and found: its end, counts, coverage and finding (its
    /// start, seed and budget were written when it started and are not written again); an
    /// interrupted one stays so.
    pub(crate) fn finish_exploration(&self, ended: &ExplorationRow) -> Result<(), StoreError> {
        self.connection.execute(
            "UPDATE explorations SET status = 'finished', finished_at = ?2, walks = ?3,
             steps = ?4, exchanges = ?5, coverage = ?6, check_id = ?7, message = ?8,
             scenario = ?9, note = ?10 WHERE id = ?1 AND status = 'running'",
            params![
                ended.exploration_id,
                ended.finished_at,
                ended.walks,
                ended.steps,
                ended.exchanges,
                ended.coverage,
                ended.check_id,
                ended.message,
                ended.scenario,
                ended.note
            ],
        )?;
        Ok(())
    }

    /// Marks explorations still `running` as `interrupted` (all of them when `id` is
    /// `None`, as at start); returns how many.
    pub(crate) fn interrupt_explorations(&self, id: Option<i64>) -> Result<usize, StoreError> {
        Ok(self.connection.execute(
            "UPDATE explorations SET status = 'interrupted'
             WHERE status = 'running' AND (?1 IS NULL OR id = ?1)",
            [id],
        )?)
    }
}

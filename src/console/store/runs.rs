//! Suite runs started from the console: a row per run (its summary, then its JSON and JUnit
//! reports once it finished), a row per scenario (as the terminal report shows it, with its
//! normalised transcript), and each product's accepted transcripts — its snapshots.
//!
//! A run is written twice: when it starts (`running`) and, in one transaction, when it
//! finishes; a run still `running` when the console starts again was cut short by the
//! restart and is marked `interrupted`.

use std::collections::HashMap;

use rusqlite::{OptionalExtension as _, Row, params};
use serde::Serialize;
use utoipa::ToSchema;

use crate::console::store::{Page, Reader, StoreError, Writer};

/// A suite run as the product page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SuiteRunRow {
    /// Its id.
    pub(crate) run_id: i64,
    /// The product it ran against.
    pub(crate) product_id: i64,
    /// When it started (wall time, Unix ms).
    pub(crate) started_at: i64,
    /// When it finished.
    pub(crate) finished_at: Option<i64>,
    /// `running`, `finished`, or `interrupted` (cut short by a restart of the console).
    pub(crate) status: String,
    /// Once finished: `conformant`, `not-conformant` or `incomplete`.
    pub(crate) verdict: Option<String>,
    /// Once finished: whether the merchant conformed (`null` until then).
    pub(crate) conformant: Option<bool>,
    /// The scenario patterns asked for (none: every scenario).
    pub(crate) patterns: Vec<String>,
    /// Where the scenarios came from: the built-in suite, or the product's folder.
    pub(crate) source: String,
    /// Totals.
    pub(crate) summary: RunCounts,
    /// What the run could not do, and why (the open APIs not served, say).
    pub(crate) note: Option<String>,
}

/// A run's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RunCounts {
    /// Scenarios in the run.
    pub scenarios: i64,
    /// Passed.
    pub passed: i64,
    /// Failed.
    pub failed: i64,
    /// Skipped.
    pub skipped: i64,
    /// Transcripts that differ from the product's accepted ones.
    pub changed: i64,
}

/// One scenario of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RunScenarioRow {
    /// Its place in the run.
    pub position: i64,
    /// Its file.
    pub file: String,
    /// Its name.
    pub name: String,
    /// `passed`, `failed` or `skipped`.
    pub status: String,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// Failed checks.
    pub failed_checks: i64,
    /// `new` (accepted as the first), `matched`, `changed`, then `accepted` or `rejected`.
    pub snapshot: Option<String>,
    /// The scenario as the terminal report shows it.
    #[serde(skip)]
    pub text: String,
    /// Its normalised transcript.
    #[serde(skip)]
    pub transcript: Option<String>,
    /// The unified diff from the accepted transcript, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// What a finished run writes.
#[derive(Debug, Clone)]
pub struct FinishedRun {
    /// When it finished.
    pub finished_at: i64,
    /// Its verdict's slug.
    pub verdict: String,
    /// Totals.
    pub counts: RunCounts,
    /// The JSON report.
    pub report: String,
    /// The JUnit report.
    pub junit: String,
    /// Every scenario.
    pub scenarios: Vec<RunScenarioRow>,
    /// Transcripts the product had none of yet: accepted as they are.
    pub first_transcripts: Vec<(String, String)>,
}

/// Which of a run's reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunFile {
    /// The JSON report.
    Report,
    /// The JUnit report.
    Junit,
}

const RUN_COLUMNS: &str = "SELECT id, product_id, started_at, finished_at, status, verdict, patterns, source, scenarios, passed, failed, skipped, changed, note FROM suite_runs";

const SCENARIO_COLUMNS: &str = "SELECT position, file, name, status, skip_reason, failed_checks, text, transcript, snapshot, diff FROM suite_run_scenarios";

fn run_row(row: &Row<'_>) -> rusqlite::Result<SuiteRunRow> {
    let verdict: Option<String> = row.get(5)?;
    let patterns: String = row.get(6)?;
    Ok(SuiteRunRow {
        run_id: row.get(0)?,
        product_id: row.get(1)?,
        started_at: row.get(2)?,
        finished_at: row.get(3)?,
        status: row.get(4)?,
        conformant: verdict.as_deref().map(|v| v == "conformant"),
        verdict,
        patterns: serde_json::from_str(&patterns).unwrap_or_default(),
        source: row.get(7)?,
        summary: RunCounts {
            scenarios: row.get(8)?,
            passed: row.get(9)?,
            failed: row.get(10)?,
            skipped: row.get(11)?,
            changed: row.get(12)?,
        },
        note: row.get(13)?,
    })
}

fn scenario_row(row: &Row<'_>) -> rusqlite::Result<RunScenarioRow> {
    Ok(RunScenarioRow {
        position: row.get(0)?,
        file: row.get(1)?,
        name: row.get(2)?,
        status: row.get(3)?,
        skip_reason: row.get(4)?,
        failed_checks: row.get(5)?,
        text: row.get(6)?,
        transcript: row.get(7)?,
        snapshot: row.get(8)?,
        diff: row.get(9)?,
    })
}

impl Reader {
    /// A product's suite runs, newest first.
    pub(crate) fn suite_runs(
        &self,
        product: i64,
        page: Page,
    ) -> Result<Vec<SuiteRunRow>, StoreError> {
        let sql =
            format!("{RUN_COLUMNS} WHERE product_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3");
        let mut statement = self.connection.prepare_cached(&sql)?;
        let rows = statement.query_map(params![product, page.limit, page.offset], run_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One suite run.
    pub(crate) fn suite_run(&self, run: i64) -> Result<Option<SuiteRunRow>, StoreError> {
        let sql = format!("{RUN_COLUMNS} WHERE id = ?1");
        let mut statement = self.connection.prepare_cached(&sql)?;
        Ok(statement.query_row([run], run_row).optional()?)
    }

    /// A finished run's scenarios, in order.
    pub(crate) fn suite_run_scenarios(&self, run: i64) -> Result<Vec<RunScenarioRow>, StoreError> {
        let sql = format!("{SCENARIO_COLUMNS} WHERE run_id = ?1 ORDER BY position");
        let mut statement = self.connection.prepare_cached(&sql)?;
        let rows = statement.query_map([run], scenario_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A finished run's JSON or JUnit report.
    pub(crate) fn suite_run_file(
        &self,
        run: i64,
        which: RunFile,
    ) -> Result<Option<String>, StoreError> {
        let sql = match which {
            RunFile::Report => "SELECT report FROM suite_runs WHERE id = ?1",
            RunFile::Junit => "SELECT junit FROM suite_runs WHERE id = ?1",
        };
        let found: Option<Option<String>> = self
            .connection
            .query_row(sql, [run], |row| row.get(0))
            .optional()?;
        Ok(found.flatten())
    }
}

impl Writer {
    /// Records a run as started; returns its id.
    pub fn start_suite_run(
        &self,
        product: i64,
        started_at: i64,
        patterns: &[String],
        source: &str,
        scenarios: usize,
        note: Option<&str>,
    ) -> Result<i64, StoreError> {
        let patterns = serde_json::to_string(patterns).unwrap_or_else(|_| "[]".into());
        self.connection.execute(
            "INSERT INTO suite_runs (product_id, started_at, status, patterns, source, scenarios, note)
             VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6)",
            params![product, started_at, patterns, source, scenarios as i64, note],
        )?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Writes a finished run, its scenarios and the transcripts it accepted as the product's
    /// first, in one transaction.
    pub fn finish_suite_run(
        &mut self,
        run: i64,
        product: i64,
        finished: &FinishedRun,
    ) -> Result<(), StoreError> {
        let transaction = self.connection.transaction()?;
        let c = finished.counts;
        // A run marked interrupted meanwhile (another console took the file over) stays so.
        let updated = transaction.execute(
            "UPDATE suite_runs SET status = 'finished', finished_at = ?2, verdict = ?3,
             scenarios = ?4, passed = ?5, failed = ?6, skipped = ?7, changed = ?8, report = ?9,
             junit = ?10 WHERE id = ?1 AND status = 'running'",
            params![
                run,
                finished.finished_at,
                finished.verdict,
                c.scenarios,
                c.passed,
                c.failed,
                c.skipped,
                c.changed,
                finished.report,
                finished.junit
            ],
        )?;
        if updated == 0 {
            return Ok(());
        }
        for s in &finished.scenarios {
            transaction
                .prepare_cached(
                    "INSERT INTO suite_run_scenarios (run_id, position, file, name, status,
                     skip_reason, failed_checks, text, transcript, snapshot, diff)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?
                .execute(params![
                    run,
                    s.position,
                    s.file,
                    s.name,
                    s.status,
                    s.skip_reason,
                    s.failed_checks,
                    s.text,
                    s.transcript,
                    s.snapshot,
                    s.diff
                ])?;
        }
        for (file, transcript) in &finished.first_transcripts {
            accept(&transaction, product, file, transcript, run)?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Marks every run still `running` as `interrupted` (the console stopped during it);
    /// returns how many.
    pub(crate) fn interrupt_suite_runs(&self) -> Result<usize, StoreError> {
        Ok(self.connection.execute(
            "UPDATE suite_runs SET status = 'interrupted' WHERE status = 'running'",
            [],
        )?)
    }

    /// Marks one run `interrupted` (its task ended without finishing it).
    pub(crate) fn interrupt_suite_run(&self, run: i64) -> Result<(), StoreError> {
        self.connection.execute(
            "UPDATE suite_runs SET status = 'interrupted' WHERE id = ?1 AND status = 'running'",
            [run],
        )?;
        Ok(())
    }

    /// A product's accepted transcripts, by scenario file.
    pub(crate) fn accepted_transcripts(
        &self,
        product: i64,
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT file, transcript FROM accepted_transcripts WHERE product_id = ?1")?;
        let rows = statement.query_map([product], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Accepts (the run's transcript becomes the product's snapshot) or rejects a changed
    /// transcript of a run; returns the scenario as it now stands, `None` when the run has
    /// no such scenario.
    pub(crate) fn decide_transcript(
        &mut self,
        run: i64,
        file: &str,
        accepted: bool,
    ) -> Result<Option<RunScenarioRow>, StoreError> {
        let transaction = self.connection.transaction()?;
        let found: Option<(i64, Option<String>)> = transaction
            .query_row(
                "SELECT r.product_id, s.transcript FROM suite_run_scenarios s
                 JOIN suite_runs r ON r.id = s.run_id WHERE s.run_id = ?1 AND s.file = ?2",
                params![run, file],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((product, Some(transcript))) = found else {
            return Ok(None);
        };
        if accepted {
            accept(&transaction, product, file, &transcript, run)?;
        }
        transaction.execute(
            "UPDATE suite_run_scenarios SET snapshot = ?3 WHERE run_id = ?1 AND file = ?2",
            params![run, file, if accepted { "accepted" } else { "rejected" }],
        )?;
        let row = transaction.query_row(
            &format!("{SCENARIO_COLUMNS} WHERE run_id = ?1 AND file = ?2"),
            params![run, file],
            scenario_row,
        )?;
        transaction.commit()?;
        Ok(Some(row))
    }
}

/// Makes `transcript` the product's accepted one for `file`.
fn accept(
    transaction: &rusqlite::Transaction<'_>,
    product: i64,
    file: &str,
    transcript: &str,
    run: i64,
) -> Result<(), StoreError> {
    transaction.execute(
        "INSERT INTO accepted_transcripts (product_id, file, transcript, run_id)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (product_id, file) DO UPDATE SET transcript = excluded.transcript,
         run_id = excluded.run_id",
        params![product, file, transcript, run],
    )?;
    Ok(())
}

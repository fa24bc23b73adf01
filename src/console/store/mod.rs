//! The console's SQLite file: versioned migrations, WAL, and one transaction per change.
//!
//! Two kinds of table live here. The **journal** is the source of truth: every input the
//! marketplace engine took for a product — buyer actions, clock moves, each attempt's raw
//! answer — in order, so that a restart replays it into an identical engine without calling
//! the merchant again. The **read model** (orders, instances, notices, attempts, debug cases,
//! dial runs) is what the pages and the JSON API query; it is written in the same transaction
//! as the journal entry that changed it, so a crash never leaves the two apart.
//!
//! Access keys are never written here: only a fingerprint (see [`fingerprint`]).

mod explorations;
mod migrations;
mod read;
mod runs;
mod write;

pub use explorations::ExplorationRow;
pub(crate) use read::UsageRecordRow;
pub use read::{
    AttemptRow, Counted, DebugCaseRow, DialRunRow, EnterpriseRow, InstanceRow, MerchantCallRow,
    NoticeRow, OrderRow, Page, ProductRow, Reader, StoredFinding,
};
pub(crate) use runs::RunFile;
pub use runs::{FinishedRun, RunCounts, RunScenarioRow, SuiteRunRow};
pub use write::{Changes, Mirror, Writer};

use std::path::Path;

use rusqlite::Connection;

/// Opening or using the database failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("console database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A journal entry could not be encoded or decoded.
    #[error("console database: journal entry {seq}: {error}")]
    Journal {
        /// The entry's sequence number.
        seq: i64,
        /// What was wrong with it.
        error: serde_json::Error,
    },
    /// Another console holds the database.
    #[error("{0} is in use by another kgsim serve: stop it first, or give this one another --db")]
    InUse(String),
    /// The file was written by a newer kgsim.
    #[error(
        "console database is at schema version {found}, newer than this kgsim knows ({known}); upgrade kgsim or use another --db"
    )]
    TooNew {
        /// The file's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
}

/// Opens (creating on first use) the database at `path` and brings its schema up to date.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let mut connection = Connection::open(path)?;
    configure(&connection)?;
    migrations::migrate(&mut connection)?;
    Ok(connection)
}

/// Claims the database for this process: an exclusive lock on a companion file
/// (`<db>-owner`, SQLite's own file locking), held as long as the returned connection lives
/// and released by the operating system when the process ends, however it ends. A second
/// console on the same database is refused rather than left to interleave its journal.
pub(crate) fn claim(path: &Path) -> Result<Connection, StoreError> {
    let mut owner = path.as_os_str().to_owned();
    owner.push("-owner");
    let connection = Connection::open(&owner)?;
    // Refuse at once: a held claim is never released by waiting.
    connection.busy_timeout(std::time::Duration::ZERO)?;
    connection.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    let busy = |error: rusqlite::Error| match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::InUse(path.display().to_string())
        }
        _ => StoreError::Sqlite(error),
    };
    connection
        .execute_batch(
            "BEGIN EXCLUSIVE;
             CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL);
             DELETE FROM owner;",
        )
        .map_err(busy)?;
    connection.execute("INSERT INTO owner (pid) VALUES (?1)", [std::process::id()])?;
    connection.execute_batch("COMMIT;").map_err(busy)?;
    Ok(connection)
}

/// Opens another connection to an existing database (the readers').
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(connection)
}

/// Write-ahead logging (readers never block the writer, a torn write rolls back), foreign
/// keys, and a wait instead of an immediate `SQLITE_BUSY` when another process holds a lock.
fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL under WAL: a committed transaction survives a crash of the process; only a power
    // loss may drop the last ones, never corrupt the file.
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// A short, non-reversible fingerprint of an access key, kept so that the console can warn
/// when it is started with a different key than the one its history was judged with.
pub(crate) fn fingerprint(key: &crate::protocol::AccessKey) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"kgsim-console-key-fingerprint-v1:");
    hasher.update(key.expose_bytes());
    hex::encode(&hasher.finalize()[..8])
}

#[cfg(test)]
mod tests;

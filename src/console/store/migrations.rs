//! Versioned schema migrations, applied in order inside one transaction each; the version
//! reached is SQLite's `user_version`. Never edit a released migration: add the next one.

use rusqlite::Connection;

use crate::console::store::StoreError;

/// Migration `n` brings the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: products, the journal and the read model.
    r"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE products (
        id             INTEGER PRIMARY KEY,
        name           TEXT NOT NULL,
        spec           TEXT NOT NULL,          -- the product as created (JSON, no secrets)
        start_ms       INTEGER NOT NULL,       -- the engine's start instant
        seed           INTEGER NOT NULL,       -- the engine's id seed
        created_at     INTEGER NOT NULL,
        trading_frozen INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE journal (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        product_id INTEGER NOT NULL REFERENCES products(id),
        entry      TEXT NOT NULL
    );
    CREATE INDEX journal_by_product ON journal(product_id, seq);
    CREATE TABLE orders (
        product_id INTEGER NOT NULL REFERENCES products(id),
        order_id   TEXT NOT NULL,
        kind       TEXT NOT NULL,
        status     TEXT NOT NULL,
        placed_at  INTEGER NOT NULL,
        settled_at INTEGER,
        PRIMARY KEY (product_id, order_id)
    );
    CREATE INDEX orders_by_id ON orders(order_id);
    CREATE INDEX orders_by_placed ON orders(product_id, placed_at DESC);
    CREATE TABLE instances (
        product_id   INTEGER NOT NULL REFERENCES products(id),
        ref          INTEGER NOT NULL,
        order_id     TEXT NOT NULL,
        instance_id  TEXT,
        state        TEXT NOT NULL,
        billing      TEXT NOT NULL,
        trial        INTEGER NOT NULL,
        expire_at    INTEGER,
        license_code TEXT,
        PRIMARY KEY (product_id, ref)
    );
    CREATE INDEX instances_by_order ON instances(product_id, order_id);
    CREATE TABLE notices (
        product_id   INTEGER NOT NULL REFERENCES products(id),
        call         INTEGER NOT NULL,
        activity     TEXT NOT NULL,
        order_id     TEXT,
        instance_ref INTEGER,
        state        TEXT NOT NULL,
        attempts     INTEGER NOT NULL,
        first_due    INTEGER NOT NULL,
        probe        INTEGER NOT NULL,
        PRIMARY KEY (product_id, call)
    );
    CREATE INDEX notices_by_state ON notices(state, product_id);
    CREATE INDEX notices_by_order ON notices(order_id);
    CREATE TABLE attempts (
        id         INTEGER PRIMARY KEY,
        product_id INTEGER NOT NULL REFERENCES products(id),
        call       INTEGER NOT NULL,
        number     INTEGER NOT NULL,
        at         INTEGER NOT NULL,
        activity   TEXT NOT NULL,
        url        TEXT,
        request    TEXT,
        status     INTEGER,
        answer     TEXT,
        verdict    TEXT NOT NULL,
        check_id   TEXT,
        message    TEXT
    );
    CREATE INDEX attempts_by_call ON attempts(product_id, call, number);
    CREATE TABLE debug_cases (
        id           INTEGER PRIMARY KEY,
        product_id   INTEGER NOT NULL REFERENCES products(id),
        activity     TEXT NOT NULL,
        variant      INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        last_verdict TEXT
    );
    CREATE TABLE dial_runs (
        id         INTEGER PRIMARY KEY,
        product_id INTEGER NOT NULL REFERENCES products(id),
        at         INTEGER NOT NULL,
        day        TEXT NOT NULL,
        reason     TEXT NOT NULL,
        passed     INTEGER NOT NULL,
        failed     INTEGER NOT NULL
    );
    CREATE INDEX dial_runs_by_product ON dial_runs(product_id, at DESC);
    ",
    // 2: the calls the merchant made to the open APIs and the identity centre.
    r"
    CREATE TABLE merchant_calls (
        id           INTEGER PRIMARY KEY,
        product_id   INTEGER,               -- the product the call named, when known
        at           INTEGER NOT NULL,      -- wall time (Unix ms)
        endpoint     TEXT NOT NULL,
        request_line TEXT NOT NULL,
        status       INTEGER NOT NULL,
        findings     TEXT NOT NULL          -- JSON: [{check, message}]
    );
    ",
    // 3: 联营 enterprises (tenants, their app and users); never the app's clientSecret.
    r"
    CREATE TABLE kit_enterprises (
        product_id   INTEGER NOT NULL REFERENCES products(id),
        ref          INTEGER NOT NULL,
        instance_ref INTEGER,
        tenant_id    TEXT NOT NULL,
        tenant_code  TEXT NOT NULL,
        name         TEXT NOT NULL,
        app_id       TEXT NOT NULL,
        client_id    TEXT NOT NULL,
        users        INTEGER NOT NULL,
        departments  INTEGER NOT NULL,
        PRIMARY KEY (product_id, ref)
    );
    ",
    // 4: 话单管理 — every usage record pushed, accepted or abnormal with its record code.
    r"
    CREATE TABLE usage_records (
        id          INTEGER PRIMARY KEY,
        product_id  INTEGER,               -- the product its instance belongs to, when known
        at          INTEGER NOT NULL,      -- when the push arrived (wall time, Unix ms)
        instance_id TEXT NOT NULL,
        metering_sn TEXT NOT NULL,
        begin_time  TEXT NOT NULL,
        end_time    TEXT NOT NULL,
        usage_value TEXT NOT NULL,
        code        TEXT,                  -- NULL: accepted; else the record code (001-013)
        message     TEXT NOT NULL
    );
    CREATE INDEX usage_records_by_id ON usage_records(id DESC);
    ",
    // 5: suite runs started from the console, their scenarios and transcripts, and each
    // product's accepted transcripts (its snapshots); explorations and what they found; the
    // fields a saved debug case changed.
    r"
    ALTER TABLE debug_cases ADD COLUMN edits TEXT;  -- JSON {set, remove}; NULL: the case as is
    CREATE TABLE suite_runs (
        id          INTEGER PRIMARY KEY,
        product_id  INTEGER NOT NULL REFERENCES products(id),
        started_at  INTEGER NOT NULL,      -- wall time (Unix ms)
        finished_at INTEGER,
        status      TEXT NOT NULL,         -- running, finished, interrupted
        verdict     TEXT,                  -- conformant, not-conformant, incomplete (finished)
        patterns    TEXT NOT NULL,         -- JSON: the patterns asked for
        source      TEXT NOT NULL,         -- the built-in suite, or the product's folder
        scenarios   INTEGER NOT NULL,
        passed      INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0,
        skipped     INTEGER NOT NULL DEFAULT 0,
        changed     INTEGER NOT NULL DEFAULT 0, -- transcripts differing from the accepted ones
        note        TEXT,                  -- what the run could not do, and why
        report      TEXT,                  -- the JSON report
        junit       TEXT                   -- the JUnit report
    );
    CREATE INDEX suite_runs_by_product ON suite_runs(product_id, id DESC);
    CREATE INDEX suite_runs_by_status ON suite_runs(status);
    CREATE TABLE suite_run_scenarios (
        run_id      INTEGER NOT NULL REFERENCES suite_runs(id),
        position    INTEGER NOT NULL,
        file        TEXT NOT NULL,
        name        TEXT NOT NULL,
        status      TEXT NOT NULL,         -- passed, failed, skipped
        skip_reason TEXT,
        failed_checks INTEGER NOT NULL,
        text        TEXT NOT NULL,         -- the scenario as the terminal report shows it
        transcript  TEXT,                  -- its normalised transcript (none when skipped)
        snapshot    TEXT,                  -- new, matched, changed, accepted, rejected
        diff        TEXT,                  -- from the accepted transcript, when changed
        PRIMARY KEY (run_id, position)
    );
    CREATE TABLE explorations (
        id          INTEGER PRIMARY KEY,
        product_id  INTEGER NOT NULL REFERENCES products(id),
        started_at  INTEGER NOT NULL,      -- wall time (Unix ms)
        finished_at INTEGER,
        status      TEXT NOT NULL,         -- running, finished, interrupted
        seed        TEXT NOT NULL,         -- the walks' seed (a u64, as text)
        budget      INTEGER NOT NULL,      -- the steps asked for
        walks       INTEGER NOT NULL DEFAULT 0,
        steps       INTEGER NOT NULL DEFAULT 0,
        exchanges   INTEGER NOT NULL DEFAULT 0,
        coverage    TEXT,                  -- the lifecycle transitions exercised, as text
        check_id    TEXT,                  -- the failing check found, if any
        message     TEXT,
        scenario    TEXT,                  -- the shrunk scenario (YAML), if any
        note        TEXT                   -- steps the engine refused (a kgsim bug)
    );
    CREATE INDEX explorations_by_product ON explorations(product_id, id DESC);
    CREATE TABLE accepted_transcripts (
        product_id INTEGER NOT NULL REFERENCES products(id),
        file       TEXT NOT NULL,
        transcript TEXT NOT NULL,
        run_id     INTEGER NOT NULL,       -- the run it was accepted from
        PRIMARY KEY (product_id, file)
    );
    ",
];

/// The schema version this build writes.
pub(super) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations the file lacks; refuses a file from a newer kgsim.
pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > CURRENT {
        return Err(StoreError::TooNew {
            found,
            known: CURRENT,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

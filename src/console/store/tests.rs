use super::*;
use crate::console::store::read::OrderRow;

fn order(id: &str, status: &str) -> OrderRow {
    OrderRow {
        product_id: 1,
        order_id: id.into(),
        kind: "purchase".into(),
        status: status.into(),
        placed_at: 1,
        settled_at: None,
    }
}

#[test]
fn a_fresh_file_is_migrated_once_in_wal_mode_and_a_newer_one_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("migrate.db");
    let connection = open(&path).unwrap();
    let mode: String = connection
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(connection);
    // Opening again applies nothing twice.
    let connection = open(&path).unwrap();
    let version: i64 = connection
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, migrations::CURRENT);
    connection.pragma_update(None, "user_version", 99).unwrap();
    drop(connection);
    let error = open(&path).unwrap_err().to_string();
    assert!(
        error.contains("schema version 99, newer than this kgsim knows"),
        "{error}"
    );
}

#[test]
fn a_change_writes_its_journal_entry_and_only_the_rows_that_changed() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("commit.db");
    let mut writer = Writer::new(open(&path).unwrap());
    let product = writer.insert_product("p", "{}", 10, 7).unwrap();
    let mut mirror = Mirror::default();
    let changes = mirror.changes(vec![order("A", "pending")], vec![], vec![]);
    writer
        .commit(product, Some(r#"{"kind":"purchase"}"#), &changes, &[])
        .unwrap();
    let unchanged = mirror.changes(vec![order("A", "pending")], vec![], vec![]);
    assert!(unchanged.is_empty());
    let opened = mirror.changes(
        vec![order("A", "opened"), order("B", "pending")],
        vec![],
        vec![],
    );
    writer
        .commit(
            product,
            Some(r#"{"kind":"advance","until":20}"#),
            &opened,
            &[],
        )
        .unwrap();
    let reader = Reader::new(open_reader(&path).unwrap());
    assert_eq!(reader.order("A").unwrap().unwrap().status, "opened");
    assert_eq!(reader.orders(product, Page::first(10)).unwrap().len(), 2);
    assert_eq!(writer.journal(product).unwrap().len(), 2);
}

#[test]
fn a_failed_change_leaves_nothing_behind() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("atomic.db");
    let mut writer = Writer::new(open(&path).unwrap());
    let product = writer.insert_product("p", "{}", 10, 7).unwrap();
    let mut mirror = Mirror::default();
    let changes = mirror.changes(vec![order("A", "pending")], vec![], vec![]);
    // Product 99 does not exist: the foreign key refuses the journal entry, and the order
    // row of the same change is not written either.
    assert!(writer.commit(99, Some("{}"), &changes, &[]).is_err());
    let reader = Reader::new(open_reader(&path).unwrap());
    assert!(reader.order("A").unwrap().is_none());
    assert!(writer.journal(product).unwrap().is_empty());
}

#[test]
fn the_fingerprint_names_the_key_without_revealing_it() {
    let key = crate::protocol::AccessKey::new("a-very-secret-access-key");
    let print = fingerprint(&key);
    assert_eq!(print.len(), 16);
    assert_eq!(
        print,
        fingerprint(&crate::protocol::AccessKey::new("a-very-secret-access-key"))
    );
    assert_ne!(
        print,
        fingerprint(&crate::protocol::AccessKey::new("another-key"))
    );
    assert!(!print.contains("secret"));
}

#[test]
fn a_claimed_database_is_refused_to_a_second_owner_until_released() {
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("claimed.db");
    let first = claim(&path).unwrap();
    let error = claim(&path).unwrap_err().to_string();
    assert!(error.contains("in use by another kgsim serve"), "{error}");
    drop(first);
    assert!(claim(&path).is_ok());
}

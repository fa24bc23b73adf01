//! Fuzz harnesses that run on stable Rust: a small mutational fuzzer (seeded, deterministic)
//! drives each parser that takes bytes from a merchant or a user, starting from the
//! committed corpus in `fixtures/fuzz/<target>/`, and fails on the first panic with the input
//! saved under `target/fuzz-crashes/`.
//!
//! `cargo test --test fuzz` runs a few thousand executions per target as part of the suite;
//! `scripts/fuzz.sh` runs 10⁶ per target in release mode (`KGSIM_FUZZ_EXECS`), and
//! `KGSIM_FUZZ_SEED` changes the mutations. Results are in `bench/RESULTS.md`.
#![expect(clippy::unwrap_used, reason = "a harness fails loudly by unwrapping")]

mod mutate;
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use mutate::Mutator;

/// Executions per target: `KGSIM_FUZZ_EXECS`, or a quick default for the test suite.
fn executions() -> u64 {
    std::env::var("KGSIM_FUZZ_EXECS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3_000)
}

fn seed() -> u64 {
    std::env::var("KGSIM_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x6b67_7369_6d00)
}

/// The committed corpus of a target.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!seeds.is_empty(), "no corpus for {target}");
    seeds
}

/// Runs `target` on the corpus and on mutations of it; panics (after saving the input) on
/// the first input that makes it panic.
#[expect(
    clippy::print_stdout,
    reason = "the harness reports its executions per target"
)]
fn fuzz(name: &str, target: fn(&[u8])) {
    let seeds = corpus(name);
    let mut mutator = Mutator::new(seed() ^ fnv(name.as_bytes()), targets::dictionary(name));
    let total = executions();
    let started = Instant::now();
    let mut input = Vec::new();
    for execution in 0..total {
        input.clear();
        match seeds.get(execution as usize) {
            Some(seed) => input.extend_from_slice(seed),
            None => mutator.mutate(&seeds, &mut input),
        }
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            let saved = save_crash(name, &input);
            panic!(
                "{name} panicked after {execution} executions; input saved to {}",
                saved.display()
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "fuzz {name}: {total} executions, 0 crashes, {:.1} s, {:.0} exec/s",
        seconds,
        total as f64 / seconds.max(1e-9)
    );
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn save_crash(name: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}-{:016x}", fnv(input)));
    let _ = std::fs::write(&path, input);
    path
}

#[test]
fn answer_classifier() {
    fuzz("classify", targets::classify);
}

#[test]
fn body_sign_parser() {
    fuzz("body_sign", targets::body_sign);
}

#[test]
fn v1_query_parser() {
    fuzz("v1_query", targets::v1_query);
}

#[test]
fn v2_canonicaliser() {
    fuzz("v2_canonical", targets::v2_canonical);
}

#[test]
fn yaml_decoder() {
    fuzz("yaml", targets::yaml);
}

#[test]
fn profile_loader() {
    fuzz("profile", targets::profile);
}

#[test]
fn http1_answer_framing() {
    fuzz("http1", targets::http1);
}

#[test]
fn open_api_server_inputs() {
    fuzz("open_api", targets::open_api);
}

#[test]
fn kit_answers() {
    fuzz("kit_answer", targets::kit_answer);
}

#[test]
fn console_api_bodies() {
    fuzz("console_api", targets::console_api);
}

/// The harness can fail: a target with a planted bug (it panics on a NUL byte after a brace)
/// is caught within the suite's executions.
#[test]
fn the_harness_catches_a_planted_panic() {
    fn planted(input: &[u8]) {
        assert!(!input.windows(2).any(|w| w == b"{\0"), "planted bug");
    }
    let caught = catch_unwind(|| fuzz("v2_canonical", planted));
    assert!(caught.is_err(), "the planted bug was not found");
}

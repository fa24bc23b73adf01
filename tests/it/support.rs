//! Helpers shared by the integration tests.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The fixed known-answer vectors.
pub(crate) fn vectors() -> Value {
    serde_json::from_str(include_str!("../../fixtures/vectors.json")).expect("vectors.json parses")
}

/// A string from the vectors file.
pub(crate) fn vector(group: &str, field: &str) -> String {
    vectors()[group][field]
        .as_str()
        .unwrap_or_else(|| panic!("no {group}.{field}"))
        .to_owned()
}

/// The result of running the binary.
pub(crate) struct Run {
    /// Exit code.
    pub(crate) code: i32,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Run {
    /// The value of the first `name: value` line of standard output.
    pub(crate) fn line(&self, name: &str) -> String {
        let prefix = format!("{name}: ");
        self.stdout
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no `{name}:` line in:\n{}\n{}", self.stdout, self.stderr))
            .to_owned()
    }
}

/// Runs `kgsim` with an access key (or none) and optional standard input.
pub(crate) fn kgsim(args: &[&str], key: Option<&str>, stdin: Option<&[u8]>) -> Run {
    kgsim_env(args, key, stdin, &[])
}

/// Runs `kgsim` with extra environment variables too.
pub(crate) fn kgsim_env(
    args: &[&str],
    key: Option<&str>,
    stdin: Option<&[u8]>,
    envs: &[(&str, &str)],
) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kgsim"));
    // Tests never write into the repository's snapshots/ unless they say otherwise.
    command.env("CI", "true").envs(envs.iter().copied());
    command
        .args(args)
        .env_remove("KGSIM_ACCESS_KEY")
        .env_remove("KGSIM_APP_SECRET")
        .env("NO_COLOR", "1");
    if let Some(key) = key {
        command.env("KGSIM_ACCESS_KEY", key);
    }
    command.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("kgsim starts");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(bytes)
            .expect("write stdin");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("kgsim runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

thread_local! {
    /// The running test's scratch directory. libtest runs every test on a thread of its own
    /// and joins it, so a thread's directory is its test's: it is removed, with every file,
    /// database and folder in it, when the test ends — passed or failed — and a run leaves
    /// nothing behind in the system's temporary directory.
    static SCRATCH: tempfile::TempDir = tempfile::Builder::new()
        .prefix("kgsim-it-")
        .tempdir()
        .expect("a temporary directory");
}

/// A fresh path named after `name` in the running test's scratch directory, not yet
/// created. Every call gets a path of its own (a number before `name`), so that helpers
/// called twice in one test never share one.
pub(crate) fn scratch_path(name: &str) -> PathBuf {
    static PATHS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = PATHS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    SCRATCH.with(|dir| dir.path().join(format!("{n}-{name}")))
}

/// Writes `contents` to a fresh file in the running test's scratch directory.
pub(crate) fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = scratch_path(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

/// Creates a fresh, empty directory in the running test's scratch directory.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let path = scratch_path(name);
    std::fs::create_dir(&path).expect("create temp dir");
    path
}

/// Runs `kgsim` with `--json` to a fresh file; returns the run and the parsed JSON, failing
/// with the run's output when none was written.
pub(crate) fn kgsim_json(args: &[&str], key: Option<&str>) -> (Run, Value) {
    kgsim_json_env(args, key, &[])
}

/// [`kgsim_json`] with extra environment variables.
pub(crate) fn kgsim_json_env(
    args: &[&str],
    key: Option<&str>,
    envs: &[(&str, &str)],
) -> (Run, Value) {
    let report = temp_file("report.json", b"");
    let mut args = args.to_vec();
    args.extend(["--json", report.to_str().expect("a UTF-8 temp path")]);
    let run = kgsim_env(&args, key, None, envs);
    let json = std::fs::read_to_string(&report).unwrap_or_default();
    let value = serde_json::from_str(&json)
        .unwrap_or_else(|_| panic!("no JSON report:\n{}\n{}", run.stdout, run.stderr));
    (run, value)
}

/// Starts a reference merchant on `127.0.0.1:0` in the current runtime; returns its
/// production address. The server task ends with the test's runtime.
pub(crate) async fn start_merchant(config: kgsim::merchant::MerchantConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let address = listener.local_addr().expect("local address");
    let app = kgsim::merchant::router(std::sync::Arc::new(kgsim::merchant::Merchant::new(config)));
    tokio::spawn(kgsim::merchant::serve(listener, app));
    format!("http://{address}/saasproduce")
}

/// A client for a production address with a per-call timeout.
pub(crate) fn client(url: &str, timeout: std::time::Duration) -> kgsim::transport::Client {
    let target = kgsim::transport::TargetUrl::parse(url).expect("a valid target");
    kgsim::transport::Client::with_platform_trust(target, timeout).expect("TLS set-up")
}

/// How many `.yaml` files a directory tree holds.
pub(crate) fn yaml_files_under(dir: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            if path.is_dir() {
                yaml_files_under(path.to_str().unwrap())
            } else {
                usize::from(path.extension().is_some_and(|e| e == "yaml"))
            }
        })
        .sum()
}

/// A run of the binary with what it cost: its peak resident memory.
pub(crate) struct Measured {
    /// What it printed and how it exited.
    pub(crate) run: Run,
    /// Peak resident set size, in MiB (the process's own `VmHWM`).
    pub(crate) peak_mib: u64,
}

/// How long a hostile-input run may take before it counts as hung (a guard against a test
/// that never ends, not a performance limit: a well-behaved run takes a second or less).
const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `kgsim` like [`kgsim_env`] and reads its peak memory (`KGSIM_PEAK_MEMORY_FILE`); a
/// run still going after [`HANG_GUARD`] is killed and the test fails as hung.
pub(crate) fn kgsim_measured(args: &[&str], key: Option<&str>, envs: &[(&str, &str)]) -> Measured {
    let peak_file = temp_file("peak-memory", b"");
    let peak = peak_file.to_str().expect("a UTF-8 temp path").to_owned();
    let mut envs = envs.to_vec();
    envs.push(("KGSIM_PEAK_MEMORY_FILE", &peak));
    let (done, finished) = std::sync::mpsc::channel();
    let owned: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let key = key.map(str::to_owned);
    let owned_envs: Vec<(String, String)> = envs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    std::thread::spawn(move || {
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = owned_envs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let _ = done.send(kgsim_env(&args, key.as_deref(), None, &envs));
    });
    let run = finished.recv_timeout(HANG_GUARD).unwrap_or_else(|_| {
        panic!("kgsim {args:?} was still running after {HANG_GUARD:?}: it hung")
    });
    let kib: u64 = std::fs::read_to_string(&peak_file)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(kib > 0, "kgsim {args:?} recorded no peak memory");
    Measured {
        run,
        peak_mib: kib / 1024,
    }
}

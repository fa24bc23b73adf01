//! The house rules, checked on the source itself: every module imports only from the layers
//! below it (the map in `src/lib.rs` and `docs/architecture.md`), the reference merchant only
//! from `protocol`, the scenario format nothing async or networked — and no function in
//! `src/` is longer than 100 lines.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level modules by layer: a module may import from lower layers only.
const LAYERS: &[(&str, u32)] = &[
    ("slug", 0),
    ("protocol", 1),
    ("checks", 1),
    ("fsio", 1),
    ("marketplace", 2),
    ("open_api", 2),
    ("transport", 3),
    ("deliver", 4),
    ("scenario", 5),
    ("conformance", 6),
    ("report", 7),
    ("load", 7),
    ("reproduce", 7),
    ("pipeline", 8),
    ("explore", 8),
    // The seller console runs suites and explorations through the library's entry points.
    ("console", 9),
    ("cli", 10),
    // Entry points for the fuzz harness into every layer's parsers; nothing imports it.
    ("fuzzing", 11),
];

/// Modules that may import these alone, whatever their layer: the reference merchant stays
/// an independent oracle (the slug mechanism is vocabulary, not kgsim's judgement).
const RESTRICTED: &[(&str, &[&str])] = &[("merchant", &["protocol", "slug"])];

/// The module a `crate::` name belongs to: exported macros live at the crate's root.
fn module_of(name: &str) -> &str {
    match name {
        "slug_impls" => "slug",
        other => other,
    }
}

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

pub(crate) fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The file's code without its `#[cfg(test)] mod tests` (tests may use anything), and none
/// of the files that hold only tests.
fn production_code(path: &Path) -> Option<String> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return None;
    }
    let text = std::fs::read_to_string(path).unwrap();
    let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    // Comments (doc links among them) are not imports.
    let code: Vec<&str> = text[..cut]
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect();
    Some(code.join("\n"))
}

/// The top-level module a source file belongs to (`src/scenario/run/act.rs` → `scenario`).
fn owner(path: &Path) -> String {
    let relative = path.strip_prefix("src").unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_owned()
}

/// Every `crate::<module>` the code names.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !rest[..at].ends_with('$') {
            found.insert(name);
        }
        rest = after;
    }
    found
}

#[test]
fn arrows_point_one_way() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut wrong = Vec::new();
    for path in files {
        let module = owner(&path);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(code) = production_code(&path) else {
            continue;
        };
        for import in imports(&code) {
            let import = module_of(&import).to_owned();
            if import == module {
                continue;
            }
            let allowed = match RESTRICTED.iter().find(|(m, _)| *m == module) {
                Some((_, only)) => only.contains(&import.as_str()),
                None => match (layer(&module), layer(&import)) {
                    (Some(from), Some(to)) => to < from,
                    (None, _) => panic!("{module} is in no layer: add it to LAYERS"),
                    (_, None) => import == "merchant" && module == "cli",
                },
            };
            if !allowed {
                wrong.push(format!("{} imports crate::{import}", path.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_scenario_format_is_pure() {
    let mut files = Vec::new();
    rust_files(Path::new("src/scenario/format"), &mut files);
    for path in files {
        let Some(code) = production_code(&path) else {
            continue;
        };
        for forbidden in [
            "tokio",
            "std::fs",
            "std::net",
            "crate::scenario::run",
            "crate::transport::client",
            "crate::transport::http1",
        ] {
            assert!(
                !code.contains(forbidden),
                "{} uses {forbidden}",
                path.display()
            );
        }
    }
}

/// `(lines, file, function)` for every function of a file's production code.
fn function_lengths(path: &Path, code: &str) -> Vec<(usize, String, String)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        let is_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "async fn ",
            "pub async fn ",
        ]
        .iter()
        .chain(&["pub(crate) async fn ", "const fn ", "pub const fn "])
        .any(|prefix| line.starts_with(prefix));
        if !is_fn {
            i += 1;
            continue;
        }
        let name: String = line
            .split("fn ")
            .nth(1)
            .unwrap_or_default()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let (mut depth, mut started, mut end) = (0i32, false, i);
        for (j, text) in lines.iter().enumerate().skip(i) {
            let text = text.split("//").next().unwrap_or_default();
            for ch in text.chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        started = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            end = j;
            if (started && depth <= 0) || (!started && text.trim_end().ends_with(';')) {
                break;
            }
        }
        found.push((end - i + 1, path.display().to_string(), name));
        i = end + 1;
    }
    found
}

#[test]
fn no_function_is_longer_than_100_lines() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut long = Vec::new();
    for path in files {
        let Some(code) = production_code(&path) else {
            continue;
        };
        long.extend(
            function_lengths(&path, &code)
                .into_iter()
                .filter(|(lines, ..)| *lines > 100),
        );
    }
    assert!(long.is_empty(), "{long:?}");
}

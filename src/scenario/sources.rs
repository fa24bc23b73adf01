//! Where scenarios come from: the built-in suite embedded in the binary, or files and
//! directories named on the command line.
//!
//! Directories are walked recursively for `*.yaml`/`*.yml`, each real directory once (a
//! symlink loop is reported, not followed forever) and each real file once however many links
//! lead to it; every file is read with a size cap.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fsio::{self, INPUT_FILE_CAP};
use crate::scenario::format::builtin;
use crate::scenario::format::decode::decode;
use crate::scenario::format::diagnostics::{FileProblems, Problem, SourceFile};
use crate::scenario::format::model::Scenario;

/// Loaded scenarios, and the problems of the files that did not load.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// Scenarios, sorted by file.
    pub(crate) scenarios: Vec<Arc<Scenario>>,
    /// One entry per file with problems.
    pub(crate) problems: Vec<FileProblems>,
    /// What was skipped without being wrong: symbolic links that loop back into the walk.
    pub(crate) warnings: Vec<String>,
}

impl Loaded {
    fn decode(&mut self, name: &str, text: &str) {
        match decode(name, text) {
            Ok(scenario) => self.scenarios.push(Arc::new(scenario)),
            Err(problems) => self.problems.push(problems),
        }
    }

    /// A problem with a whole file (unreadable, a loop), shown without a source line.
    fn file_problem(&mut self, name: &str, message: String, help: &str) {
        let file = SourceFile::new(name, "");
        let problem = Problem::new(&file, file.span(0, 0), message, "here").with_help(help);
        self.problems.push(FileProblems {
            file: name.to_owned(),
            problems: vec![problem],
            omitted: 0,
        });
    }
}

/// The built-in suite.
pub(crate) fn builtin() -> Loaded {
    let mut loaded = Loaded::default();
    for (name, text) in builtin::FILES {
        loaded.decode(name, text);
    }
    loaded
}

/// A walk over the paths the user named.
#[derive(Default)]
struct Walk {
    /// Files to load, as named (the first path that led to each real file).
    files: Vec<PathBuf>,
    /// Real (canonical) files already listed.
    seen_files: BTreeSet<PathBuf>,
    /// Real (canonical) directories already entered.
    seen_dirs: BTreeSet<PathBuf>,
    /// Directories reached again through a link: `(as named, the real directory)`.
    loops: Vec<(PathBuf, PathBuf)>,
}

impl Walk {
    fn visit(&mut self, path: &Path) -> std::io::Result<()> {
        let real = std::fs::canonicalize(path)?;
        if !real.is_dir() {
            if self.seen_files.insert(real) {
                self.files.push(path.to_owned());
            }
            return Ok(());
        }
        if !self.seen_dirs.insert(real.clone()) {
            // Only a link can lead into a directory twice; a directory named twice on the
            // command line is simply walked once.
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                self.loops.push((path.to_owned(), real));
            }
            return Ok(());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let is_yaml = entry.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if entry.is_dir() || is_yaml {
                self.visit(&entry)?;
            }
        }
        Ok(())
    }
}

/// Loads scenario files and directories (recursively, `*.yaml` and `*.yml`).
pub(crate) fn load_paths(paths: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut walk = Walk::default();
    for path in paths {
        if let Err(error) = walk.visit(path) {
            let name = path.display().to_string();
            loaded.file_problem(
                &name,
                format!("cannot read {name}: {error}"),
                "name scenario files or directories that exist",
            );
        }
    }
    for (link, real) in &walk.loops {
        loaded.warnings.push(format!(
            "{} is skipped: it leads back into {}, which is already being read",
            link.display(),
            real.display()
        ));
    }
    for file in walk.files {
        let name = file.display().to_string();
        match fsio::read_text_capped(&file, INPUT_FILE_CAP) {
            Ok(text) => loaded.decode(&name, &text),
            Err(error) => loaded.file_problem(
                &name,
                error.to_string(),
                "scenario files are UTF-8 YAML of at most 4 MiB",
            ),
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = "name: x\nsteps:\n  - purchase: {}\n";

    #[test]
    fn symlink_loops_end_and_each_file_loads_once() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        std::fs::write(dir.join("a.yaml"), SCENARIO).unwrap();
        std::os::unix::fs::symlink(".", dir.join("s1")).unwrap();
        std::os::unix::fs::symlink(".", dir.join("s2")).unwrap();
        std::os::unix::fs::symlink("a.yaml", dir.join("b.yaml")).unwrap();
        let loaded = load_paths(&[dir.clone(), dir.join("a.yaml")]);
        assert_eq!(loaded.scenarios.len(), 1, "{:?}", loaded.problems);
        assert!(
            loaded.problems.is_empty(),
            "a loop is skipped, not an error"
        );
        assert_eq!(loaded.warnings.len(), 2, "one per looping link");
        assert!(loaded.warnings[0].contains("leads back"));
    }

    #[test]
    fn oversized_and_unreadable_files_are_problems() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let big = dir.join("big.yaml");
        std::fs::write(&big, vec![b'#'; INPUT_FILE_CAP as usize + 1]).unwrap();
        let loaded = load_paths(&[big, dir.join("none.yaml")]);
        let messages: Vec<&str> = loaded
            .problems
            .iter()
            .map(|p| p.problems[0].message())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages.iter().any(|m| m.contains("larger than 4 MiB")),
            "{messages:?}"
        );
        let missing = messages
            .iter()
            .find(|m| m.contains("No such file"))
            .unwrap();
        assert_eq!(missing.matches("No such file").count(), 1, "{missing}");
    }

    #[test]
    fn the_builtin_suite_loads_and_lists_every_file() {
        let loaded = builtin();
        if let Some(problems) = loaded.problems.first() {
            panic!(
                "{}",
                crate::scenario::format::diagnostics::render(
                    problems,
                    crate::scenario::format::diagnostics::Style::Plain
                )
            );
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut walk = Walk::default();
        walk.visit(&root.join("scenarios")).unwrap();
        let on_disk: Vec<String> = walk
            .files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        let embedded: Vec<&str> = builtin::FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            embedded, on_disk,
            "src/scenario/format/builtin.rs must embed exactly the files of scenarios/"
        );
    }
}

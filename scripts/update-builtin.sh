#!/usr/bin/env bash
# Regenerates src/scenario/format/builtin.rs from the files under scenarios/ (a test checks
# that the two agree).
set -euo pipefail
cd "$(dirname "$0")/.."
{
    echo '//! The built-in suite, embedded so that `kgsim run` works from any directory. A test checks'
    echo '//! that this list matches the files of `scenarios/` exactly.'
    echo
    echo '/// `(path, contents)` of every built-in scenario, sorted by path.'
    echo 'pub(crate) const FILES: &[(&str, &str)] = &[';
    find scenarios -name '*.yaml' | LC_ALL=C sort | while read -r path; do
        echo '    ('
        echo "        \"$path\","
        echo "        include_str!(\"../../../$path\"),"
        echo '    ),'
    done
    echo '];'
} > src/scenario/format/builtin.rs

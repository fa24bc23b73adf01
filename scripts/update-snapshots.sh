#!/usr/bin/env bash
# Re-records the built-in suite's transcripts (snapshots/) against the reference merchant,
# for both protocols and every billing mode, with the default profile (each kind's required
# interfaces). Transcripts of scenarios that no longer run are dropped. Review the diff before
# committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
find snapshots -name '*.snap' -delete
for protocol in v1 v2; do
    for billing in period one-time on-demand package; do
        target/release/kgsim run --protocol "$protocol" --billing "$billing" --update-snapshots > /dev/null
    done
done
find snapshots -name '*.snap.pending' -delete
echo "snapshots/ re-recorded: $(find snapshots -name '*.snap' | wc -l) transcripts"

#!/usr/bin/env bash
# Re-records the built-in suite's transcripts (snapshots/) against the reference merchant for
# every kind of product the repository keeps (the list of tests/it/reports.rs: both protocols
# and every billing mode — V2 period with the Kit —, the License products, order
# notification), with the default profile otherwise. Transcripts of scenarios that no longer
# run are dropped. Review the diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
find snapshots -name '*.snap' -delete
record() {
    target/release/kgsim run "$@" --update-snapshots > /dev/null
}
for billing in period one-time on-demand package; do
    record --protocol v1 --billing "$billing"
done
record --protocol v2 --billing period --kit
for billing in one-time on-demand package; do
    record --protocol v2 --billing "$billing"
done
for product in license-code online-license; do
    for billing in period one-time; do
        record --protocol v2 --billing "$billing" --product "$product"
    done
done
record --protocol v2 --billing period --order-notify
find snapshots -name '*.snap.pending' -delete
find snapshots -type d -empty -delete
echo "snapshots/ re-recorded: $(find snapshots -name '*.snap' | wc -l) transcripts"

#!/usr/bin/env bash
# The console's benchmark (`kgsim serve`):
#   1. every page and the main API reads, on a database holding 10,000 instances, 200,000
#      recorded attempts and 1,000 finished suite runs of one product (filled by
#      benches/console_seed.rs through the console's own store);
#   2. "replay all" of 100 saved debug cases against the reference merchant (a separate
#      process), i.e. one dial test;
#   3. the console's start on that database.
# Medians of RUNS runs (default 15) with hyperfine (curl per request, so each figure includes
# starting curl). Installs hyperfine, curl and python3 from Debian packages when missing, and
# writes bench/CONSOLE.md.
#
# Usage: bash bench/console.sh          (RUNS=31 INSTANCES=20000 ATTEMPTS=400000 SUITE_RUNS=5000 to change)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-15}
INSTANCES=${INSTANCES:-10000}
ATTEMPTS=${ATTEMPTS:-200000}
CASES=${CASES:-100}
SUITE_RUNS=${SUITE_RUNS:-1000}
OUT=bench/CONSOLE.md
WORK=$(mktemp -d)
trap 'kill ${PIDS:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT

. bench/common.sh
install_missing hyperfine curl python3

echo "== cargo build --release"
cargo build --release --locked --quiet
KGSIM=${CARGO_TARGET_DIR:-$PWD/target}/release/kgsim
export KGSIM_ACCESS_KEY="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

echo "== seeding $INSTANCES instances, $ATTEMPTS attempts, $SUITE_RUNS suite runs"
cargo bench --locked --quiet --bench console_seed -- "$WORK/console.db" "$INSTANCES" "$ATTEMPTS" "$SUITE_RUNS"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

MERCHANT_PORT=$(free_port)
"$KGSIM" merchant --listen "127.0.0.1:$MERCHANT_PORT" >"$WORK/merchant.log" 2>&1 &
PIDS="$!"
wait_for_port "$MERCHANT_PORT"

echo "== console start on the seeded database"
CONSOLE_PORT=$(free_port)
cat >"$WORK/start.py" <<'PY'
import subprocess, sys
serve = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
for line in serve.stdout:
    if line.startswith("console:"):
        break
serve.kill()
serve.wait()
PY
hyperfine --runs 5 --style none --export-json "$WORK/start.json" \
    "python3 $WORK/start.py $KGSIM serve --db $WORK/console.db --listen 127.0.0.1:$CONSOLE_PORT" >/dev/null
"$KGSIM" serve --db "$WORK/console.db" --listen "127.0.0.1:$CONSOLE_PORT" >"$WORK/console.log" 2>&1 &
PIDS="$PIDS $!"
wait_for_port "$CONSOLE_PORT"
BASE="http://127.0.0.1:$CONSOLE_PORT"
ORDER=$(curl -s "$BASE/api/products/1/orders?limit=1&offset=$((INSTANCES / 2))" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["order_id"])')

echo "== pages"
pages=(/ /products/1 /products/1/debug "/orders/$ORDER" /log "/log?offset=$((ATTEMPTS / 2))" "/api/orders/$ORDER" /api/log /api/products/1/orders /api/products/1/runs "/api/products/1/runs?offset=$((SUITE_RUNS - 50))" "/runs/$((SUITE_RUNS / 2))" "/api/runs/$((SUITE_RUNS / 2))" /api/health)
for index in "${!pages[@]}"; do
    hyperfine --warmup 2 --runs "$RUNS" --style none -N --export-json "$WORK/page-$index.json" \
        "curl -s -o /dev/null --fail $BASE${pages[$index]}" >/dev/null
done

echo "== dial test of $CASES saved cases"
PRODUCT=$(curl -s -H 'content-type: application/json' \
    -d "{\"production_address\":\"http://127.0.0.1:$MERCHANT_PORT/saasproduce\",\"name\":\"dial\"}" \
    "$BASE/api/products" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for n in $(seq "$CASES"); do
    activities=(new-instance refresh-instance expire-instance release-instance upgrade instance-status query-instance)
    activity=${activities[$((n % 7))]}
    curl -s -o /dev/null --fail -H 'content-type: application/json' \
        -d "{\"product_id\":$PRODUCT,\"activity\":\"$activity\"}" "$BASE/api/debug-cases"
done
echo "{\"product_id\":$PRODUCT}" >"$WORK/run.json"
hyperfine --warmup 1 --runs "$RUNS" --style none -N --export-json "$WORK/dial.json" \
    "curl -s -o /dev/null --fail -H content-type:application/json -d @$WORK/run.json $BASE/api/debug-cases/run" >/dev/null
curl -s -H 'content-type: application/json' -d "{\"product_id\":$PRODUCT}" "$BASE/api/debug-cases/run" >"$WORK/dial-outcome.json"

echo "== console start again, now with a journal to replay"
kill ${PIDS##* }
PIDS=${PIDS% *}
sleep 0.2
python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from journal").fetchone()[0])' \
    "$WORK/console.db" >"$WORK/journal-entries"
hyperfine --runs 5 --style none --export-json "$WORK/restart.json" \
    "python3 $WORK/start.py $KGSIM serve --db $WORK/console.db --listen 127.0.0.1:$CONSOLE_PORT" >/dev/null

python3 - "$WORK" "$OUT" "$INSTANCES" "$ATTEMPTS" "$CASES" "$RUNS" "$SUITE_RUNS" "${pages[@]}" <<'PY'
import json, os, platform, statistics, sys
work, out, instances, attempts, cases, runs, suite_runs, *pages = sys.argv[1:]
def median_ms(name):
    with open(os.path.join(work, name)) as f:
        return statistics.median(json.load(f)["results"][0]["times"]) * 1000
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
lines = [
    "# The console's benchmark",
    "",
    f"`bash bench/console.sh` on {os.cpu_count()} × {cpu}; medians of {runs} runs (hyperfine, one",
    "`curl` per request: each figure includes starting curl). Release build.",
    "",
    f"## Pages with {int(instances):,} instances, {int(attempts):,} recorded attempts and {int(suite_runs):,} suite runs",
    "",
    "| page | median |",
    "|---|---:|",
]
for index, page in enumerate(pages):
    lines.append(f"| `{page}` | {median_ms(f'page-{index}.json'):.1f} ms |")
dial = json.load(open(os.path.join(work, "dial-outcome.json")))
lines += [
    "",
    f"## Dial test: replay all {cases} saved cases against the reference merchant",
    "",
    f"median {median_ms('dial.json'):.0f} ms (last run: {dial['passed']} passed, {dial['failed']} failed)",
    "",
    "## Start on the seeded database",
    "",
    f"median {median_ms('start.json'):.0f} ms from `kgsim serve` to its `console:` line (the database is",
    "opened and migrated, every product's journal replayed, the port bound); the seeded history",
    "is read model only, so this is the cost of opening a large file.",
    "",
    f"After the dial tests, with {open(os.path.join(work, 'journal-entries')).read().strip()} journal entries to replay (every debug case,",
    f"clock move and stored answer, each answer judged again): median {median_ms('restart.json'):.0f} ms.",
    "",
]
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
PY

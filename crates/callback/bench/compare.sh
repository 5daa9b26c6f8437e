#!/usr/bin/env bash
# wecom-callback against the official npm package @wecom/crypto: interoperability both ways,
# then throughput of the same work on one core each, and the raw AES/SHA-1 ceiling.
#   bash crates/callback/bench/compare.sh          (needs node + npm; installs into a temp dir)
# Env: ROUNDS (alternating measurement rounds, default 3), ROUND_SECS (seconds per operation
# per round, default 2), MEASURE_SECS (criterion measurement time per benchmark, default 5).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node/npm not found: running the Rust benchmark only"
    exec cargo bench -p wecom-callback --bench crypto
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== installing @wecom/crypto into $tmp"
(cd "$tmp" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @wecom/crypto@1.0.1 >/dev/null 2>&1)
cp "$here/wecom-crypto.cjs" "$tmp/"

echo "== interoperability (random messages, 0-1500 characters)"
cargo build -q --release -p wecom-callback --example interop
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
"$target_dir/release/examples/interop" gen 300 > "$tmp/ours.json"
node "$tmp/wecom-crypto.cjs" interop "$tmp/ours.json" > "$tmp/theirs.json"
"$target_dir/release/examples/interop" check < "$tmp/theirs.json"

echo "== throughput, one core each, alternating rounds (best 100 ms window per round)"
rounds=${ROUNDS:-3}
mkdir -p "$tmp/rounds"
for r in $(seq 1 "$rounds"); do
    ROUND_SECS=${ROUND_SECS:-2} node "$tmp/wecom-crypto.cjs" bench > "$tmp/rounds/$r.js.json"
    "$target_dir/release/examples/interop" throughput "${ROUND_SECS:-2}" > "$tmp/rounds/$r.rust.json"
    echo "round $r: @wecom/crypto $(cat "$tmp/rounds/$r.js.json")"
    echo "round $r: wecom-callback $(cat "$tmp/rounds/$r.rust.json")"
done

echo "== wecom-callback criterion benchmark (medians; raw AES/SHA-1 ceiling)"
secs=${MEASURE_SECS:-5}
cargo bench -q -p wecom-callback --bench crypto -- --warm-up-time 1 --measurement-time "$secs" 2>&1 \
    | grep -E '^(callback|raw)/|^ +time:|^ +thrpt:' | grep -v '%' || true

echo
echo "== comparison"
node "$tmp/wecom-crypto.cjs" report "$target_dir/criterion" "$tmp/rounds"

if command -v openssl >/dev/null; then
    echo
    echo "== openssl speed (the machine's AES-NI/SHA-NI ceiling, 16 KiB blocks, 1 s each, KB/s)"
    openssl speed -seconds 1 -bytes 16384 -evp aes-256-cbc 2>/dev/null | tail -1 || true
    openssl speed -seconds 1 -bytes 16384 -evp sha1 2>/dev/null | tail -1 || true
fi

#!/usr/bin/env bash
# Regenerates keys-example/ with the project's own commands. DEMO KEYS ONLY:
# they are public in this repository; never use them for anything real.
#
#   bash keys-example/generate.sh      (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/setup build
cargo build --locked -p sigil-ca -p sigil-log -p sigil-cli --bins
T="$CARGO_TARGET_DIR/debug"
OUT=keys-example
rm -rf "$OUT/ca" "$OUT/log" "$OUT"/maintainer.* "$OUT/trust-root.json"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$T/sigil-ca" init --out "$OUT/ca" --name "Sigil Example CA (demo only)"
"$T/sigil-log" keygen --origin example.sigil.invalid/log --out "$OUT/log"
"$T/sigil" keygen --out "$OUT/maintainer.key"
"$T/sigil" trust-root --ca-root "$OUT/ca/root.pem" --log-key "$OUT/log/log.pub" \
    --out "$OUT/trust-root.json"

# Enroll the maintainer against a throwaway log and CA run from these keys.
wait_listening() {   # file → URL once the server prints its listening line
    for _ in $(seq 600); do
        url=$(sed -n 's/^listening on //p' "$1")
        if [ -n "$url" ]; then echo "$url"; return; fi
        sleep 0.1
    done
    echo "server did not start: $(cat "$1")" >&2; exit 1
}
"$T/sigil-log" serve --data-dir "$work/log" --key "$OUT/log/log.key" \
    --ca-root "$OUT/ca/root.pem" --listen 127.0.0.1:0 2>"$work/log.err" &
LOG=$(wait_listening "$work/log.err")
"$T/sigil-ca" serve --dir "$OUT/ca" --data-dir "$work/ca" --log "$LOG" \
    --log-key "$OUT/log/log.pub" --admin-token-file "$OUT/ca/admin.token" \
    --listen 127.0.0.1:0 2>"$work/ca.err" &
CA=$(wait_listening "$work/ca.err")
TOKEN=$("$T/sigil-ca" invite --ca "$CA" --admin-token-file "$OUT/ca/admin.token" \
    --identity maintainer@example.invalid --crate hello-sigil)
"$T/sigil" enroll --ca "$CA" --token "$TOKEN" --key "$OUT/maintainer.key" \
    --out "$OUT/maintainer.pem"
echo "regenerated $OUT"

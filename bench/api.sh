#!/usr/bin/env bash
# Admin API throughput and latency: GET /healthz (the bare baseline), authenticated
# GET /v1/admin/bots/{id} and PUT /v1/admin/bots/{id}, on SQLite and on PostgreSQL, in one run.
#
#   bench/api.sh                       # SQLite, and PostgreSQL if BENCH_POSTGRES_URL is set
#   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test bench/api.sh
#
# Needs wrk (apt install wrk), curl and python3. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18181}
BIN=target/release/botyard
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run_wrk() { # name url [extra wrk args...]
  local name=$1 url=$2; shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" > "$work/$name.txt"
  python3 - "$work/$name.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
def lat(p):
    m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", text, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{float(rps):.0f} | {lat(50):.2f} | {lat(99):.2f} | {errors.group(1) if errors else 0}")
PY
}

start_server() { # backend database-url [VAR=value ...]
  local backend=$1 url=$2; shift 2
  rm -rf "$work/data"
  env BOTYARD_LOG__LEVEL=warn BOTYARD_HTTP__RATE_LIMIT_PER_SECOND=10000000 BOTYARD_HTTP__RATE_LIMIT_BURST=10000000 "$@" \
    "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$work/data" ${url:+--database-url "$url"} > "$work/server-$backend.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 0.1; done
  local signup
  signup=$(curl -sf -X POST "http://127.0.0.1:$PORT/v2/auth" -H 'content-type: application/json' \
    -d "{\"email\":\"bench-$RANDOM@example.com\",\"password\":\"benchmark password\"}")
  key=$(echo "$signup" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
  ws=$(echo "$signup" | python3 -c 'import json,sys; print(json.load(sys.stdin)["workspace"]["id"])')
  bot=$(curl -sf -X POST "http://127.0.0.1:$PORT/v1/admin/bots" -H "authorization: Bearer $key" -H "x-workspace-id: $ws" \
    -H 'content-type: application/json' \
    -d '{"name":"bench","tags":{"env":"prod"},"configuration":{"schema":{"type":"object","properties":{"n":{"type":"integer"}}},"data":{"n":1}},"events":{"ping":{"schema":{"type":"object"}}}}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["bot"]["id"])')
}

stop_server() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
}

bench_backend() { # backend database-url
  local backend=$1 url=$2
  start_server "$backend" "$url"
  cat > "$work/put.lua" <<LUA
wrk.method = "PUT"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $key"
wrk.headers["x-workspace-id"] = "$ws"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"configuration":{"data":{"n":' .. counter .. '}},"tags":{"run":"' .. counter .. '"}}')
end
LUA
  echo "| $backend | GET /healthz (baseline) | $(run_wrk health-$backend "http://127.0.0.1:$PORT/healthz") |"
  echo "| $backend | GET /v1/admin/bots/{id} | $(run_wrk get-$backend "http://127.0.0.1:$PORT/v1/admin/bots/$bot" -H "authorization: Bearer $key" -H "x-workspace-id: $ws") |"
  echo "| $backend | PUT /v1/admin/bots/{id} | $(run_wrk put-$backend "http://127.0.0.1:$PORT/v1/admin/bots/$bot" -s "$work/put.lua") |"
  stop_server
  start_server "$backend" "$url" BOTYARD_CACHE__TTL_SECS=0
  echo "| $backend | GET /v1/admin/bots/{id}, caches off | $(run_wrk nocache-$backend "http://127.0.0.1:$PORT/v1/admin/bots/$bot" -H "authorization: Bearer $key" -H "x-workspace-id: $ws") |"
  stop_server
}

echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per row; $(nproc) cores; $(date -u +%Y-%m-%d)"
echo
echo "| backend | request | requests/s | p50 ms | p99 ms | non-2xx |"
echo "|---|---|---:|---:|---:|---:|"
bench_backend sqlite ""
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  db="botyard_bench_$$"
  psql "$BENCH_POSTGRES_URL" -qc "CREATE DATABASE $db" > /dev/null
  pg_url=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path='/$db').geturl())" "$BENCH_POSTGRES_URL")
  bench_backend postgres "$pg_url"
  psql "$BENCH_POSTGRES_URL" -qc "DROP DATABASE $db WITH (FORCE)" > /dev/null
fi

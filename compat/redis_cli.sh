#!/usr/bin/env bash
# redis-cli against Herald and against redis-server: each check runs the same redis-cli
# invocation on both and compares the output (normalised where servers must differ).
# Writes PASS/FAIL lines to .work/cli.log. Servers are stopped by their PIDs on exit.
set -uo pipefail
cd "$(dirname "$0")"
mkdir -p .work
LOG=.work/cli.log
: > "$LOG"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HP=$(free_port); RP=$(free_port)
# Each also serves a Unix socket, for `redis-cli -s`.
HS=.work/herald.sock; RS=.work/redis.sock
"$HERALD_BIN" --port "$HP" --loglevel warning --unixsocket "$HS" > .work/herald.log 2>&1 & HPID=$!
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --unixsocket "$RS" > .work/redis.log 2>&1 & RPID=$!
pids=("$HPID" "$RPID")
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT
for port in "$HP" "$RP"; do
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
done

# Drops what legitimately differs: versions, ids, ports, timestamps.
normalise() {
    sed -E -e 's/7\.(0\.15|4\.0)/<version>/g' -e "s/($HP|$RP)/<port>/g" \
        -e 's/^[0-9]{10}\.[0-9]{6} /<time> /' -e 's/127\.0\.0\.1:[0-9]+/<addr>/g' \
        -e 's#\.work/(herald|redis)\.sock#<sock>#g'
}

check() { # name, then a command using $PORT (or $SOCK); compares normalised stdout
    local name=$1; shift
    local h r
    h=$(PORT=$HP SOCK=$HS bash -c "$*" 2>&1 | normalise)
    r=$(PORT=$RP SOCK=$RS bash -c "$*" 2>&1 | normalise)
    if [ "$h" == "$r" ]; then
        echo "PASS cli: $name" | tee -a "$LOG"
    else
        { echo "FAIL cli: $name"; echo "--- redis"; echo "$r" | head -20; echo "--- herald"; echo "$h" | head -20; } | tee -a "$LOG"
    fi
}

check "plain commands" 'redis-cli -p $PORT set k v; redis-cli -p $PORT get k; redis-cli -p $PORT incr n; redis-cli -p $PORT get missing'
check "errors" 'redis-cli -p $PORT nosuch a b; redis-cli -p $PORT incr k; redis-cli -p $PORT set'
check "-3 hello 3" 'redis-cli -p $PORT -3 hello 3 | grep -v "^id "'
check "-3 get and map" 'redis-cli -p $PORT -3 get k; redis-cli -p $PORT -3 config get maxclients'
check "--csv" 'redis-cli -p $PORT --csv mget k missing n; redis-cli -p $PORT --csv config get timeout'
check "--raw" 'redis-cli -p $PORT --raw get k; redis-cli -p $PORT --raw mget k n'
check "-x" 'printf "from stdin" | redis-cli -p $PORT -x set fromstdin; redis-cli -p $PORT get fromstdin'
check "--scan --pattern" 'redis-cli -p $PORT mset scan:1 a scan:2 b other c >/dev/null; redis-cli -p $PORT --scan --pattern "scan:*" | sort; redis-cli -p $PORT --scan | sort'
check "-s unix socket" 'redis-cli -s $SOCK set viasock 1; redis-cli -p $PORT get viasock; redis-cli -s $SOCK client info | grep -oE "(l?addr|flags)=[^ ]+"; redis-cli -s $SOCK config get unixsocket'
check "inline via nc" 'printf "PING\r\nSET a \"b c\"\r\nGET a\r\n" | timeout 2 nc -q1 127.0.0.1 $PORT'
check "--pipe 100000 XADDs" 'python3 -c "
import sys
out = sys.stdout.buffer
for i in range(100000):
    v = b\"v%d\" % i
    out.write(b\"*5\r\n\$4\r\nXADD\r\n\$4\r\npipe\r\n\$1\r\n*\r\n\$1\r\nf\r\n\$%d\r\n%s\r\n\" % (len(v), v))
" | redis-cli -p $PORT --pipe | tail -1; redis-cli -p $PORT xlen pipe; redis-cli -p $PORT xrevrange pipe + - count 1 | tail -2'
check "subscribe mode output" '
    (timeout 3 redis-cli -p $PORT subscribe ch1 ch2 > .work/sub.$PORT 2>&1 &)
    sleep 0.5
    redis-cli -p $PORT publish ch1 hello; redis-cli -p $PORT publish ch2 "two words"
    sleep 0.3; cat .work/sub.$PORT'
check "psubscribe mode output" '
    (timeout 3 redis-cli -p $PORT psubscribe "ch*" > .work/psub.$PORT 2>&1 &)
    sleep 0.5
    redis-cli -p $PORT publish chan x
    sleep 0.3; cat .work/psub.$PORT'
check "monitor" '
    (timeout 2 redis-cli -p $PORT monitor > .work/mon.$PORT 2>&1 &)
    sleep 0.5
    redis-cli -p $PORT set monitored "a b" >/dev/null; redis-cli -p $PORT get monitored >/dev/null
    sleep 0.3; sed -E "s/^[0-9.]+ \[0 [^]]+\]/<ts> [0 <addr>]/" .work/mon.$PORT'
# redis-benchmark reads `CONFIG GET save` and `appendonly` first and warns when it cannot;
# its figures differ run to run, so only what it says besides them is compared.
check "redis-benchmark" 'redis-benchmark -p $PORT -n 200 -c 2 -q -t ping,set,get 2>&1 | tr "\r" "\n" | grep -E "[A-Za-z]" | grep -vE "requests per second|rps=" | sort -u'

# --stat prints a table every second; it cannot be compared line by line (memory and counts
# differ), so it must simply run and print its header and rows.
if timeout 3 stdbuf -oL redis-cli -p "$HP" --stat > .work/stat.log 2>&1; [ $? -eq 124 ] && grep -q "keys" .work/stat.log && [ "$(wc -l < .work/stat.log)" -ge 3 ]; then
    echo "PASS cli: --stat" | tee -a "$LOG"
else
    { echo "FAIL cli: --stat"; cat .work/stat.log; } | tee -a "$LOG"
fi

! grep -q '^FAIL' "$LOG"

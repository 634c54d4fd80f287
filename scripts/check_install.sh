#!/usr/bin/env bash
# The installed package works on its own, as in the container image (see Dockerfile): build the wheel,
# install it (not editable) into a fresh virtualenv, then, from an empty folder where the source tree
# cannot be imported, run `talentmatch migrate` and `talentmatch serve` and wait for /readyz to be 200.
#
#   scripts/check_install.sh            (PYTHON: the interpreter for the fresh venv, python3.11 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
# Nothing may reach the source tree: no PYTHONPATH into it, no TALENTMATCH_HOME pointing at it.
unset PYTHONPATH TALENTMATCH_HOME
PYTHON=${PYTHON:-python3.11}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/talentmatch-install.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== build the wheel from a copy of the tracked files =="
mkdir -p "$WORK/src" "$WORK/dist"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$WORK/src/" 2>/dev/null \
    || tar -C "$SRC" --exclude=.venv --exclude=build -cf - . | tar -C "$WORK/src" -xf -
"$PYTHON" -m pip wheel -q --no-deps -w "$WORK/dist" "$WORK/src" >/dev/null
rm -rf "$WORK/src"
WHEEL=$(ls "$WORK"/dist/talentmatch-*.whl)

echo "== install $(basename "$WHEEL") into a fresh virtualenv =="
"$PYTHON" -m venv "$WORK/venv"
# torch first, pinned as pyproject.toml pins it (a local CPU wheel where pip's find-links has one).
"$WORK/venv/bin/pip" install -q "torch==2.13.0"
"$WORK/venv/bin/pip" install -q "$WHEEL"

echo "== migrate and serve from an empty folder =="
RUN="$WORK/run"
mkdir -p "$RUN"
cd "$RUN"
PORT=$("$WORK/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export TALENTMATCH_DATABASE_URL="sqlite:///$RUN/talentmatch.db"
# the source tree must not be what runs
if "$WORK/venv/bin/python" -c "import service, sys; sys.exit(0 if service.__file__.startswith('$SRC') else 1)"; then
    echo "FAIL: the installed venv imports the source tree" >&2; exit 1
fi
# the encoder's static token vectors ship with it (large stateless matches shortlist with them)
"$WORK/venv/bin/python" -c "
from service.embeddings.loader import load_encoder
from service.embeddings.static import for_encoder
assert for_encoder(load_encoder('real')) is not None, 'no static token vectors in the installed package'
"
"$WORK/venv/bin/talentmatch" migrate
"$WORK/venv/bin/talentmatch" serve --host 127.0.0.1 --port "$PORT" >"$RUN/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "FAIL: talentmatch serve exited" >&2; tail -n 30 "$RUN/serve.log" >&2; exit 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)
    if [ "$code" = 200 ]; then
        echo "ok: the installed package migrated and served /readyz 200 from $RUN"
        exit 0
    fi
    sleep 1
done
echo "FAIL: /readyz not 200 after 240 s (last: $code)" >&2; tail -n 30 "$RUN/serve.log" >&2
exit 1

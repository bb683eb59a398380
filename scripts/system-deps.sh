#!/usr/bin/env bash
# Make sure the PostgreSQL server and Mosquitto binaries that cityvitals.embedded launches
# are installed. Searches like cityvitals/embedded/pgbin.py (minus the PyPI wheel) and
# cityvitals/embedded/mosquitto.py, so "present here" means "found by the launcher".
set -euo pipefail

has_pg_server() { # $1: a bin dir
    [[ -x "$1/postgres" && -x "$1/initdb" && -x "$1/psql" ]]
}

find_pg_bin() {
    if [[ -n "${CITYVITALS_PG_BIN:-}" ]]; then
        # An explicit setting is authoritative, as in the launcher.
        has_pg_server "$CITYVITALS_PG_BIN" && echo "$CITYVITALS_PG_BIN"
        return
    fi
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        # libpq-dev ships pg_config without the server, so check the binaries it points at.
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$dir" ]] && has_pg_server "$dir"; then echo "$dir"; return; fi
    fi
    # sort -V so that 10 ranks above 9.6.
    for dir in $(compgen -G '/usr/lib/postgresql/*/bin' | sort -rV) \
               $(compgen -G '/usr/pgsql-*/bin' | sort -rV); do
        if has_pg_server "$dir"; then echo "$dir"; return; fi
    done
}

find_mosquitto() {
    if [[ -n "${CITYVITALS_MOSQUITTO_BIN:-}" ]]; then
        [[ -x "$CITYVITALS_MOSQUITTO_BIN" ]] && echo "$CITYVITALS_MOSQUITTO_BIN"
        return
    fi
    # /usr/sbin is often not on a non-root PATH.
    command -v mosquitto 2>/dev/null || { [[ -x /usr/sbin/mosquitto ]] && echo /usr/sbin/mosquitto; }
}

pg_bin="$(find_pg_bin || true)"
mosquitto_bin="$(find_mosquitto || true)"

missing=()
[[ -n "$pg_bin" ]] || missing+=(postgresql)
[[ -n "$mosquitto_bin" ]] || missing+=(mosquitto)
# tests/deploy makes throwaway TLS certificates for the secured broker
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# the ops console's front-end packages come from the npm registry (make setup: npm ci)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# the console's browser tests drive Debian's chromium headless (tests/console/)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
# ...which draws the wall's Chinese labels (and its screenshots) with these fonts
compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK*' >/dev/null || missing+=(fonts-noto-cjk)

if ((${#missing[@]} == 0)); then
    echo "system deps OK: PostgreSQL in $pg_bin, mosquitto at $mosquitto_bin"
    exit 0
fi

if [[ -n "${CITYVITALS_PG_BIN:-}${CITYVITALS_MOSQUITTO_BIN:-}" ]]; then
    # Installing packages would not help: the launcher honours the variables, not the packages.
    echo "missing: ${missing[*]} (check CITYVITALS_PG_BIN / CITYVITALS_MOSQUITTO_BIN)" >&2
    exit 1
fi

if [[ "$(id -u)" -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    for pkg in "${missing[@]}"; do
        case "$pkg" in
            postgresql) echo "missing: PostgreSQL server binaries (postgres, initdb, psql)" >&2 ;;
            mosquitto) echo "missing: mosquitto" >&2 ;;
            openssl) echo "missing: openssl (the deployment tests make certificates)" >&2 ;;
            npm) echo "missing: npm (make setup installs the console's packages with it)" >&2 ;;
            chromium) echo "missing: chromium (the console's browser tests)" >&2 ;;
            fonts-noto-cjk) echo "missing: fonts-noto-cjk (Chinese text in the browser)" >&2 ;;
        esac
    done
    echo "install with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "installing: ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"

pg_bin="$(find_pg_bin || true)"
mosquitto_bin="$(find_mosquitto || true)"
if [[ -z "$pg_bin" || -z "$mosquitto_bin" ]]; then
    echo "apt-get install succeeded but the binaries are still not found" \
        "(PostgreSQL: ${pg_bin:-missing}, mosquitto: ${mosquitto_bin:-missing})" >&2
    exit 1
fi
echo "system deps OK: PostgreSQL in $pg_bin, mosquitto at $mosquitto_bin"

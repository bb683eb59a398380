#!/usr/bin/env bash
# Print the path of a Python >= 3.11 that can create virtualenvs; install python3-venv with
# apt-get when that is all that is missing (Debian and Ubuntu ship venv separately).
set -euo pipefail

for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [[ -n "$candidate" ]] || continue
    path="$(command -v "$candidate" 2>/dev/null)" || continue
    "$path" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || continue
    if ! "$path" -c 'import ensurepip, venv' 2>/dev/null; then
        version="$("$path" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        if [[ "$(id -u)" -eq 0 ]]; then
            echo "installing python${version}-venv" >&2
            DEBIAN_FRONTEND=noninteractive apt-get update >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                "python${version}-venv" >&2
        else
            echo "$path cannot create virtualenvs: sudo apt-get install python${version}-venv" >&2
            exit 1
        fi
    fi
    echo "$path"
    exit 0
done
echo "CityVitals needs Python 3.11 or newer (none found as python3.1x or python3)" >&2
exit 1

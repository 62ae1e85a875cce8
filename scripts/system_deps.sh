#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python: Chromium (browser tests), npm (the browser tests
# install axe-core with it), PostgreSQL (feedback database tests), redis-server (throwaway Redis for
# tests), wrk (benchmark) and curl (README examples). Each is installed only when missing,
# and only where installing is possible: as root, or with password-less sudo on CI.
set -euo pipefail

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v npm >/dev/null || missing+=(npm)
command -v pg_ctl >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
((${#missing[@]})) || exit 0

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif [[ ${CI:-} == true ]] && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "system_deps: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or the tests using them fail" >&2
    exit 0
fi
echo "system_deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"

#!/usr/bin/env bash
# Debian packages beyond Python: nginx and its Lua module (make run's front, which reads request
# bodies against a deadline in Lua), Chromium (browser tests), npm (the browser
# tests install axe-core with it), PostgreSQL (feedback database tests), redis-server (throwaway Redis
# for tests), wrk (benchmark) and curl (README examples). Each is installed only when missing, and
# only where installing is possible: as root, or with password-less sudo on CI.
# Arguments name a subset (`make run` asks for the front's two); none means all of them.
set -euo pipefail

wanted=("$@")
((${#wanted[@]})) || wanted=(nginx libnginx-mod-http-lua chromium npm postgresql redis-server wrk curl)
installed() {
    case $1 in
        nginx) command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] ;;
        libnginx-mod-http-lua) dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed' ;;
        chromium) [[ -x /usr/bin/chromium ]] ;;
        postgresql) command -v pg_ctl >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null ;;
        *) command -v "$1" >/dev/null ;;
    esac
}
missing=()
for package in "${wanted[@]}"; do
    installed "$package" || missing+=("$package")
done
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

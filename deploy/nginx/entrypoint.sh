#!/bin/sh
# The front's container start: render front.conf.template from the environment, as scripts/front.py
# does for `make run`, then run nginx in the foreground. envsubst is given the template's own
# variables only, so nginx's `$variables` stay; a placeholder without a value stops the start.
set -eu
template=/etc/nginx/templates/front.conf.template
names=$(grep -o '\${[A-Z][A-Z0-9_]*}' "$template" | tr -d '${}' | sort -u)
for name in $names; do
    if ! printenv "$name" >/dev/null; then
        echo "front: $name is not set; $template needs it" >&2
        exit 1
    fi
done
envsubst "$(printf '${%s} ' $names)" <"$template" >/etc/nginx/conf.d/front.conf
# -p: the server prefix, where the template's Lua path ($prefix/front/) finds body_deadline.lua.
exec nginx -p /etc/nginx/ -e stderr

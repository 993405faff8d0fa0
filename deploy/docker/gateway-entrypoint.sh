#!/bin/sh
# Start the wealist gateway: the baked configuration (/etc/wealist-gateway, from
# deploy/nginx), with the per-environment files (upstreams.conf, listen.conf) taken from
# /etc/wealist-gateway.d when mounted there, in a writable prefix directory.
set -eu
config=${WEALIST_GATEWAY_CONFIG:-/etc/wealist-gateway}
overrides=${WEALIST_GATEWAY_OVERRIDES:-/etc/wealist-gateway.d}
prefix=${WEALIST_GATEWAY_PREFIX:-/tmp/wealist-gateway}
mkdir -p "$prefix/logs" "$prefix/tmp"
cp "$config"/*.conf "$prefix/"
if [ -d "$overrides" ]; then
    for file in "$overrides"/*.conf; do
        if [ -e "$file" ]; then cp "$file" "$prefix/"; fi
    done
fi
ln -sf /dev/stdout "$prefix/logs/access.log"
# Started as root (compose), nginx's workers run as nobody: request bodies go to tmp/.
if [ "$(id -u)" = 0 ]; then
    chown nobody "$prefix/tmp"
fi
exec nginx -p "$prefix/" -c "$prefix/nginx.conf" -e stderr "$@"

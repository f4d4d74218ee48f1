#!/usr/bin/env bash
# The systemd unit the .deb installs: `systemd-analyze verify` accepts it in
# a scratch root holding the built fiberleakd, it runs the sidecar with the
# config under /etc/fiberleak/ and reloads with SIGHUP, its hardening keeps
# systemd-analyze's exposure score "OK", and the sysusers.d line names its user.
# (config/fiberleakd.system.json, its config, is checked in tests/daemon/daemon_config_test.cpp.)
# Usage: systemd_unit_test.sh FIBERLEAKD SOURCE_DIR
set -uo pipefail
bin=$1
source_dir=$2
source "$source_dir/tests/lib/e2e.sh"
work=$(scratch_dir)
unit=$source_dir/config/systemd/fiberleakd.service

if ! command -v systemd-analyze >/dev/null; then
  "$source_dir/scripts/install-deps" >/dev/null 2>&1  # the systemd package
fi
check "systemd-analyze is installed (scripts/install-deps: systemd)" 'command -v systemd-analyze >/dev/null'
command -v systemd-analyze >/dev/null || finish

# The scratch root: the distribution's units (for the targets named), kill, fiberleakd and the unit.
root=$work/root
mkdir -p "$root/usr/bin" "$root/usr/lib/systemd" "$root/etc"
ln -s usr/bin "$root/bin"
ln -s usr/lib "$root/lib"
cp -a /lib/systemd/system "$root/usr/lib/systemd/"
cp "$bin" /bin/kill "$root/usr/bin/"
cp "$unit" "$root/usr/lib/systemd/system/fiberleakd.service"
# verify needs no running systemd (none runs in a container): it loads the unit offline.
check "systemd-analyze verify accepts the unit" \
  'systemd-analyze verify --root="$root" /lib/systemd/system/fiberleakd.service >"$work/verify.log" 2>&1 &&
   [[ ! -s $work/verify.log ]]'

check "it runs the sidecar on the config under /etc/fiberleak/" \
  'grep -q "^ExecStart=/usr/bin/fiberleakd scrape --config /etc/fiberleak/fiberleakd.json" "$unit"'
check "systemctl reload sends SIGHUP" 'grep -q "^ExecReload=/bin/kill -HUP \$MAINPID$" "$unit"'
check "it runs as the fiberleak system user" 'grep -q "^User=fiberleak$" "$unit" &&
  grep -q "^u fiberleak - " "$source_dir/config/systemd/fiberleakd.sysusers"'
for key in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
           CapabilityBoundingSet= RestrictAddressFamilies= SystemCallFilter=@system-service; do
  check "hardening: $key" 'grep -q "^$key" "$unit"'
done
systemd-analyze security --offline=yes --root="$root" fiberleakd.service >"$work/security.log" 2>&1
score=$(sed -n 's/.*Overall exposure level for fiberleakd.service: \([0-9.]*\).*/\1/p' "$work/security.log")
echo "exposure: ${score:-?} (0 = locked down, 10 = unprotected)"
check "systemd-analyze security rates its exposure at most 2.0" \
  '[[ -n $score ]] && python3 -c "import sys; sys.exit(float(sys.argv[1]) > 2.0)" "$score"'

finish "$work/verify.log" "$work/security.log"

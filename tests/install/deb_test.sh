#!/usr/bin/env bash
# The .deb: CPack builds it from the build tree, dpkg installs it into a
# scratch root (its own admin directory, nothing of the machine's touched),
# and a consumer project builds against what it installed.
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build_dir=$1
source_dir=$2
source "$source_dir/tests/lib/e2e.sh"
work=$(scratch_dir)

(cd "$work" && cpack --config "$build_dir/CPackConfig.cmake" -G DEB >"$work/cpack.log" 2>&1)
deb=$(ls "$work"/fiberleak_*.deb 2>/dev/null | head -1)
check "cpack builds a .deb" '[[ -n $deb ]]'
dpkg-deb --info "$deb" >"$work/info.txt" 2>&1
dpkg-deb --contents "$deb" >"$work/contents.txt" 2>&1
check "the package depends on the Debian packages it needs" 'grep -q "Depends:.*libboost-fiber-dev.*libunwind-dev" "$work/info.txt"'
for f in ./usr/bin/fiberleakd ./usr/include/fiberleak/fiberleak.hpp ./usr/lib/cmake/fiberleak/fiberleakConfig.cmake \
         ./usr/lib/libfiberleak_runtime.a ./usr/lib/libfiberleak_heap.so ./usr/lib/pkgconfig/fiberleak.pc; do
  check "the package holds ${f#./}" 'grep -q " $f\$" "$work/contents.txt"'
done
for f in ./usr/lib/systemd/system/fiberleakd.service ./usr/lib/sysusers.d/fiberleakd.conf \
         ./etc/fiberleak/fiberleakd.json ./usr/share/doc/fiberleak/fiberleakd.md; do
  check "the package holds ${f#./}" 'grep -q " $f\$" "$work/contents.txt"'
done
check "the package has the discovery directory /etc/fiberleak/sd/" 'grep -q " ./etc/fiberleak/sd/$" "$work/contents.txt"'
check "the config in /etc is a conffile" 'dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/fiberleak/fiberleakd.json'
check "the package holds no internal header" '! grep -E "usr/include/fiberleak/(runtime|profiler|web|daemon)/" "$work/contents.txt"'

machine_had_user=$(getent passwd fiberleak >/dev/null && echo yes || echo no)
root=$work/root
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info" "$root/etc"
touch "$root/var/lib/dpkg/status"
check "dpkg installs the package into a scratch root" \
  'dpkg --root="$root" --force-not-root --force-depends --force-script-chrootless -i "$deb" >"$work/dpkg.log" 2>&1'
check "dpkg records it as installed" 'dpkg --root="$root" -s fiberleak 2>/dev/null | grep -q "Status: install ok installed"'
if command -v systemd-sysusers >/dev/null; then
  check "postinst makes the fiberleak system user in the root it installs into" \
    'grep -q "^fiberleak:x:[0-9]*:[0-9]*:" "$root/etc/passwd"'
fi
# A bad flag makes scrape list the config's problems and start nothing: the flag's must be the only one.
check "the packaged config is one the packaged fiberleakd accepts" \
  'out=$("$root/usr/bin/fiberleakd" scrape --config "$root/etc/fiberleak/fiberleakd.json" --log-level nonsense 2>&1)
   grep -q ": 1 problem, nothing started" <<<"$out" && grep -q "^  --log-level: expected" <<<"$out"'
check "the machine's own users are untouched" '[[ $machine_had_user == yes ]] || ! getent passwd fiberleak >/dev/null'
check "fiberleakd from the package runs" '"$root/usr/bin/fiberleakd" --version | grep -q "fiberleakd [0-9]"'

cmake -S "$source_dir/tests/install/consumers/full" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$root/usr" >"$work/consumer.log" 2>&1 &&
  cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1
check "a consumer builds against the installed package" '[[ -x $work/consumer/consumer ]]'
check "the consumer runs" '"$work/consumer/consumer"'

finish "$work"/*.log

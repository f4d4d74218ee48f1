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
check "the package holds no internal header" '! grep -E "usr/include/fiberleak/(runtime|profiler|web|daemon)/" "$work/contents.txt"'

root=$work/root
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
check "dpkg installs the package into a scratch root" \
  'dpkg --root="$root" --force-not-root --force-depends --force-script-chrootless -i "$deb" >"$work/dpkg.log" 2>&1'
check "dpkg records it as installed" 'dpkg --root="$root" -s fiberleak 2>/dev/null | grep -q "Status: install ok installed"'
check "fiberleakd from the package runs" '"$root/usr/bin/fiberleakd" --version | grep -q "fiberleakd [0-9]"'

cmake -S "$source_dir/tests/install/consumers/full" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$root/usr" >"$work/consumer.log" 2>&1 &&
  cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1
check "a consumer builds against the installed package" '[[ -x $work/consumer/consumer ]]'
check "the consumer runs" '"$work/consumer/consumer"'

finish "$work"/*.log

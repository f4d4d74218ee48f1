#!/usr/bin/env bash
# The installed tree, as a user meets it: only public headers, a CMake
# package whose runtime component needs no web dependency, pkg-config files,
# a preload library that exports no C++ symbols, and the gdb extension.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build_dir=$1
source_dir=$2
source "$source_dir/tests/lib/e2e.sh"
work=$(scratch_dir)
prefix=$work/prefix

check "cmake --install puts the build into a prefix" 'cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" 2>&1'

# Only include/fiberleak/*.hpp, exactly as in the source tree.
(cd "$source_dir/include" && find fiberleak -type f | sort) >"$work/public.txt"
(cd "$prefix/include" && find . -type f | sed 's|^\./||' | sort) >"$work/installed.txt"
check "the installed include tree holds exactly the public headers" 'diff "$work/public.txt" "$work/installed.txt"'
check "no public header includes an internal one" \
  '! grep -En "#include \"(runtime|profiler|web|daemon)/" "$prefix"/include/fiberleak/*.hpp'
check "the exported targets name no path inside the compiler" \
  '! grep -rn "libbacktrace\|/usr/lib/gcc" "$prefix"/lib/cmake/fiberleak/'

# The gdb extension, sourced from the prefix (not the source tree).
gdb -nx -batch -ex "source $prefix/share/fiberleak/gdb/fiberleak-gdb.py" -ex 'help fiberleak' >"$work/gdb.log" 2>&1
check "the installed gdb extension loads from share/fiberleak/gdb" \
  'grep -q "^fiberleak fibers " "$work/gdb.log" && ! grep -q Traceback "$work/gdb.log"'

# fiberleak::fiberleak, <fiberleak/fiberleak.hpp> only.
cmake -S "$source_dir/tests/install/consumers/full" -B "$work/full" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$work/full.log" 2>&1 &&
  cmake --build "$work/full" >>"$work/full.log" 2>&1
check "a consumer of fiberleak::fiberleak builds against the installed tree" '[[ -x $work/full/consumer ]]'
check "the consumer runs: a parked fiber is recorded and the endpoint serves" '"$work/full/consumer"'
check "no CPPHTTPLIB_* definition reaches the consumer's compile" \
  '[[ -s $work/full/compile_commands.json ]] && ! grep -q CPPHTTPLIB "$work/full/compile_commands.json"'

# COMPONENTS testing: a GoogleTest binary linked with fiberleak::gtest.
cmake -S "$source_dir/tests/install/consumers/testing" -B "$work/testing" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$work/testing.log" 2>&1 && cmake --build "$work/testing" >>"$work/testing.log" 2>&1
check "a test binary linked with the installed fiberleak::gtest builds" '[[ -x $work/testing/gtest_consumer ]]'
timeout 60 "$work/testing/gtest_consumer" >"$work/testing_run.log" 2>&1
rc=$?
check "it fails the test that leaks a fiber, only that one, and ends" \
  '[[ $rc -eq 1 ]] && grep -q "fiber outlived test \"Consumer.Leaks\"" "$work/testing_run.log" && grep -q "\[       OK \] Consumer.Clean" "$work/testing_run.log"'

# COMPONENTS runtime, with every web dependency made unfindable.
mkdir -p "$work/pc"
# libdw (the symbolizer) requires libelf, zlib and liblzma through pkg-config;
# CMake's own ZLIB package stays unfindable.
for pc in libunwind libdw libelf zlib liblzma; do cp "$(pkg-config --variable=pcfiledir $pc)/$pc.pc" "$work/pc/"; done
PKG_CONFIG_LIBDIR=$work/pc cmake -S "$source_dir/tests/install/consumers/runtime_only" -B "$work/runtime" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_DISABLE_FIND_PACKAGE_spdlog=ON -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_ZLIB=ON -DCMAKE_DISABLE_FIND_PACKAGE_fmt=ON >"$work/runtime.log" 2>&1 &&
  cmake --build "$work/runtime" >>"$work/runtime.log" 2>&1
check "a runtime-only consumer builds without spdlog, nlohmann/json, zlib or cpp-httplib" '[[ -x $work/runtime/runtime_consumer ]]'
check "the runtime-only consumer runs" '"$work/runtime/runtime_consumer"'

# pkg-config, for builds without CMake.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
check "pkg-config builds the runtime consumer" \
  'g++ -o "$work/pc_runtime" "$source_dir/tests/install/consumers/runtime_only/runtime_consumer.cpp" $(pkg-config --cflags --libs fiberleak-runtime) && "$work/pc_runtime" >/dev/null'
check "pkg-config builds the full consumer" \
  'g++ -std=c++17 -o "$work/pc_full" "$source_dir/tests/install/consumers/full/consumer.cpp" $(pkg-config --cflags --libs fiberleak) && "$work/pc_full" >/dev/null'

# The LD_PRELOAD library and its server: C symbols only.
for so in libfiberleak_heap.so libfiberleak_heap_profile.so libfiberleak_heap_server.so; do
  check "$so exports no C++ symbol" \
    '[[ -f $prefix/lib/$so ]] && ! nm -D --defined-only "$prefix/lib/$so" | grep -E " [TtWwDdBbRrVv] (_Z|.*fiberleak::)"'
done

finish "$work"/*.log

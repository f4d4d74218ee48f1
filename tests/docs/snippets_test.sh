#!/usr/bin/env bash
# README and docs snippets compile as C++17: every ```cpp block of README.md
# and docs/*.md, with CXX -std=c++17 -fsyntax-only -Wall -Werror=pedantic
# against the public headers (include/), Boost and cpp-httplib. Also
# -Werror=c++20-extensions (and c++23): GCC 12 only warns about C++20
# designated initializers (`serve({.port = 0})`), outside -pedantic.
#
# How a block is compiled (write docs to this):
#  - First line `// not compiled: REASON`: skipped, and counted.
#  - A block with `int main(` is a whole program, compiled as written.
#  - Any other block is a fragment: its #include lines go at file scope and
#    the rest is the body of a function. A fragment without #include lines
#    gets <fiberleak/fiberleak.hpp>, <fiberleak/mount.hpp>,
#    <fiberleak/heap.hpp> and <boost/fiber/all.hpp>; one with them gets
#    exactly those, so that it shows every header it needs. The function's
#    parameters are the names a fragment may use without declaring them:
#      httplib::Server& my_server         the program's own HTTP server
#      int n                              a count (threads, fibers, ...)
#      void (*handle)(int), int socket    a function and an argument for it
#  - A block that includes a header by its path in the repository
#    (#include "profiler/...") documents internals for contributors: the
#    repository root is on its include path too, as for the project's code.
# Compiler messages name the Markdown file and line (#line).
# Usage: snippets_test.sh SOURCE_DIR CXX [FLAG...]   (FLAGs: e.g. Boost's -isystem DIR)
set -uo pipefail
source_dir=$1
cxx=$2
shift 2
extra_flags=("$@")
source "$source_dir/tests/lib/e2e.sh"
work=$(scratch_dir)
read -ra httplib_flags <<<"$(pkg-config --cflags cpp-httplib)"

# Each block to $work/N.block; $work/blocks lists "N FILE LINE" (LINE: the ```cpp fence).
(cd "$source_dir" && awk -v out="$work" '
  FNR == 1 { open = 0 }
  !open && /^```cpp[[:space:]]*$/ { open = 1; n++; print n, FILENAME, FNR > (out "/blocks"); printf "" > (out "/" n ".block"); next }
  open && /^```/ { open = 0; close(out "/" n ".block"); next }
  open { print > (out "/" n ".block") }
' README.md docs/*.md)
touch "$work/blocks"

include_line='^[[:space:]]*#[[:space:]]*include'
# translation_unit N FILE LINE: the source the block compiles as.
translation_unit() {
  local block=$work/$1.block file=$2 first=$(($3 + 1))
  if grep -q 'int main(' "$block"; then
    printf '#line %d "%s"\n' "$first" "$file"
    cat "$block"
    return
  fi
  grep -Eq "$include_line" "$block" ||
    printf '#include <fiberleak/fiberleak.hpp>\n#include <fiberleak/mount.hpp>\n#include <fiberleak/heap.hpp>\n#include <boost/fiber/all.hpp>\n'
  awk -v file="$file" -v first="$first" -v re="$include_line" '$0 ~ re { printf "#line %d \"%s\"\n%s\n", first + NR - 1, file, $0 }' "$block"
  echo 'namespace httplib { class Server; }'
  echo 'void snippet(httplib::Server& my_server, int n, void (*handle)(int), int socket) {'
  printf '#line %d "%s"\n' "$first" "$file"
  sed -E "s/$include_line.*//" "$block"
  echo '}'
}

# compiles N FILE LINE: true when the block compiles; prints the compiler's messages if not.
compiles() {
  local include_flags=(-I "$source_dir/include")
  grep -Eq "$include_line"'[[:space:]]*"' "$work/$1.block" && include_flags+=(-I "$source_dir")
  translation_unit "$@" >"$work/$1.cpp"
  (cd "$source_dir" && "$cxx" -std=c++17 -fsyntax-only -Wall -Werror=pedantic -Werror=c++20-extensions \
    -Werror=c++23-extensions "${include_flags[@]}" \
    "${extra_flags[@]}" "${httplib_flags[@]}" -x c++ "$work/$1.cpp") >"$work/$1.err" 2>&1 && return 0
  head -n 40 "$work/$1.err" | sed 's/^/    /'
  return 1
}

blocks=0 skipped=0
while read -r n file line; do
  blocks=$((blocks + 1))
  reason=$(head -n 1 "$work/$n.block" | sed -n 's|^[[:space:]]*// not compiled: *||p')
  if [[ -n $reason ]]; then
    skipped=$((skipped + 1))
    echo "skipped: $file:$line: $reason"
    continue
  fi
  check "$file:$line compiles as C++17" 'compiles "$n" "$file" "$line"'
done <"$work/blocks"
echo "$blocks cpp blocks, $skipped of them skipped (// not compiled: ...)"
check "README.md and docs/*.md have cpp blocks to compile" '[[ $((blocks - skipped)) -gt 0 ]]'
[[ ${#e2e_failures[@]} -eq 0 ]] || echo "How blocks are compiled: tests/docs/snippets_test.sh"
finish

#include "runtime/function_name.hpp"

#include <libiberty/demangle.h>

#include <cstdlib>

namespace fiberleak::detail {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// libiberty's demangler (the one in binutils and libstdc++), asked to drop
// return types: "std::__invoke<F&>(F&)", not "std::__invoke_result<F&>::type
// std::__invoke<F&>(F&)".
std::string demangled(std::string_view symbol) {
  if (symbol.size() < 2 || symbol[0] != '_' || symbol[1] != 'Z') return std::string(symbol);
  const std::string copy(symbol);
  char* out = cplus_demangle_v3(copy.c_str(), DMGL_PARAMS | DMGL_ANSI | DMGL_RET_DROP);
  if (out == nullptr) {
    // "_Z...": a clone suffix the demangler refuses ("foo.part.0" is
    // handled by it; some LTO suffixes are not): retry without it.
    const std::size_t dot = copy.find('.');
    if (dot == std::string::npos) return copy;
    return demangled(std::string_view(copy).substr(0, dot));
  }
  std::string result(out);
  std::free(out);
  return result;
}

// Index of the '(' that opens the parenthesised group ending at `close`.
std::size_t matching_open(std::string_view s, std::size_t close) {
  int depth = 0;
  for (std::size_t i = close + 1; i-- > 0;) {
    if (s[i] == ')') ++depth;
    if (s[i] == '(' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

}  // namespace

std::string scope_name(std::string_view symbol) {
  std::string name = demangled(symbol);
  // " [clone .isra.0] [clone .cold]"
  for (std::size_t at; (at = name.rfind(" [clone ")) != std::string::npos && name.back() == ']';) name.resize(at);
  return name;
}

std::string function_name(std::string_view symbol) {
  std::string name = scope_name(symbol);
  // Qualifiers of a member function: "() const", "() &&", "() volatile".
  for (bool again = true; again;) {
    again = false;
    for (std::string_view q : {" const", " volatile", " &&", " &", " noexcept"}) {
      if (ends_with(name, q)) {
        name.resize(name.size() - q.size());
        again = true;
      }
    }
  }
  // The parameter list, unless the name is only an operator's ("operator()").
  if (!name.empty() && name.back() == ')' && !ends_with(name, "operator()")) {
    const std::size_t open = matching_open(name, name.size() - 1);
    if (open != std::string::npos && open > 0) name.resize(open);
  }
  // A lambda's call operator is the lambda.
  if (ends_with(name, "}::operator()")) name.resize(name.size() - std::string_view("::operator()").size());
  return name;
}

}  // namespace fiberleak::detail

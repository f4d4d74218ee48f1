// function_name(): the one name fiberleak gives a function in every profile,
// dump, leak site and metric: the demangled name without its return type,
// its own parameter list, cv/ref qualifiers or GCC's clone suffixes
// ("[clone .isra.0]", "[clone .cold]"), and a lambda named after its closure
// type ("start_worker(int)::{lambda()#1}", not "...::operator()() const").
// Scopes keep their parameters ("f(int)::{lambda()#1}"), so lambdas of
// overloads stay apart. Any thread; allocates (never call it in a hook).
#pragma once

#include <string>
#include <string_view>

namespace fiberleak::detail {

// symbol: a mangled (Itanium ABI) or plain name. Plain names are only
// shortened, so the function is idempotent.
std::string function_name(std::string_view symbol);
// The demangled name without return type or clone suffixes but with its
// parameters: how a function is written as the scope of a lambda or a local
// class ("start_worker(int)" in "start_worker(int)::{lambda()#1}").
std::string scope_name(std::string_view symbol);

}  // namespace fiberleak::detail

#include "runtime/function_name.hpp"

#include <catch2/catch.hpp>

using fiberleak::detail::function_name;
using fiberleak::detail::scope_name;

TEST_CASE("function names drop return types, parameters, qualifiers and clone suffixes", "[runtime]") {
  // int std::__invoke<int (*&)()>(int (*&)()) - a template: its mangled name has a return type.
  CHECK(function_name("_ZSt8__invokeIRPFivEJEENSt15__invoke_resultIT_JDpT0_EE4typeEOS4_DpOS5_") ==
        "std::__invoke<int (*&)()>");
  CHECK(function_name("_Z3fooi.isra.0") == "foo");
  CHECK(function_name("_ZN5boost6fibers9scheduler7suspendEv.cold") == "boost::fibers::scheduler::suspend");
  CHECK(function_name("_ZNK3app6Server5stateEv") == "app::Server::state");
  CHECK(function_name("main") == "main");
  CHECK(function_name("app::serve(int)") == "app::serve");  // plain names are only shortened
}

TEST_CASE("a lambda is named after its closure type inside its enclosing function", "[runtime]") {
  CHECK(function_name("_ZZ12start_workeriENKUlvE_clEv") == "start_worker(int)::{lambda()#1}");
  CHECK(function_name("_ZZ12start_workeriENKUlvE0_clEv") == "start_worker(int)::{lambda()#2}");
  CHECK(function_name("_ZZ12start_workeriENKUliE_clEi") == "start_worker(int)::{lambda(int)#1}");
  // A call operator that is not a lambda's keeps its name.
  CHECK(function_name("_ZNK3app7CompareclEii") == "app::Compare::operator()");
}

TEST_CASE("names are idempotent, and scope names keep their parameters", "[runtime]") {
  const std::string once = function_name("_ZZ12start_workeriENKUlvE_clEv");
  CHECK(function_name(once) == once);
  CHECK(function_name("app::Server::serve") == "app::Server::serve");
  CHECK(scope_name("_ZN3app13start_lambdasEi") == "app::start_lambdas(int)");
  CHECK(scope_name("_Z3fooi.isra.0") == "foo(int)");
}

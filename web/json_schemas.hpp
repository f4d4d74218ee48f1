// The names and versions of the JSON documents fiberleak writes and reads,
// in one place for the embedded endpoint and fiberleakd (as Tracy keeps its
// protocol version in the header client and server share).
//
//   fibers/v1    /debug/fibers                  web/fiber_json.hpp
//   leaks/v1     /debug/leaks, check --json     web/fiber_json.hpp
//   baseline/v1  check --baseline FILE          daemon/baseline.hpp
//
// A reader accepts exactly its version: "fiberleak.fibers/v10" is not v1.
// Additive changes (new fields, which readers ignore) keep the version; any
// other change bumps it. JsonFields::schema() is the check.
#pragma once

namespace fiberleak::detail {

inline constexpr const char* kFibersSchema = "fiberleak.fibers/v1";
inline constexpr const char* kLeaksSchema = "fiberleak.leaks/v1";
inline constexpr const char* kBaselineSchema = "fiberleak.baseline/v1";

}  // namespace fiberleak::detail

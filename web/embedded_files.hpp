// The dashboard's files (web/dashboard/*), compiled into the program by
// cmake/embed_files.cmake: what web/dashboard_routes serves. Immutable;
// thread-safe.
#pragma once

#include <string_view>
#include <vector>

namespace fiberleak::detail {

struct EmbeddedFile {
  std::string_view name;  // relative to web/dashboard/: "app.js"
  std::string_view bytes;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace fiberleak::detail

#include "web/http_error.hpp"

namespace fiberleak::detail {

std::string describe_http_error(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "cannot connect (refused or unreachable)";
    case httplib::Error::Read: return "read failed or timed out";
    case httplib::Error::Write: return "write failed";
    case httplib::Error::ConnectionTimeout: return "connection timed out";
    case httplib::Error::Canceled: return "canceled";
    default: return "request failed (" + httplib::to_string(error) + ")";
  }
}

}  // namespace fiberleak::detail

#include "base/status.h"

namespace pairflow {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kParseError:
      return "parse_error";
    case StatusCode::kOutOfOrder:
      return "out_of_order";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kInsufficientData:
      return "insufficient_data";
    case StatusCode::kNumerical:
      return "numerical";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

void fatal(const std::string& message) {
  std::fprintf(stderr, "pairflow: fatal: %s\n", message.c_str());
  std::abort();
}

}  // namespace pairflow

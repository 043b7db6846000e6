#include "model/topics.h"

#include <fmt/format.h>

namespace pairflow::topics {

Status validate_name(std::string_view name) {
  auto bad = [&](std::string why) {
    return Status(StatusCode::kInvalidArgument, fmt::format("topic '{}': {}", name, why));
  };
  if (name.empty()) return Status(StatusCode::kInvalidArgument, "empty topic name");
  if (name.size() > 249) return bad("longer than 249 characters");
  if (name == "." || name == "..") return bad("'.' and '..' are not topic names");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      const auto byte = static_cast<unsigned char>(c);
      return bad(
          byte >= 0x20 && byte < 0x7f
              ? fmt::format("'{}' is not allowed (letters, digits, '.', '_' and '-' only)", c)
              : fmt::format("byte 0x{:02x} is not allowed (letters, digits, '.', '_' and "
                            "'-' only)",
                            byte));
    }
  }
  return Status::success();
}

}  // namespace pairflow::topics

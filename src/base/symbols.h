// SymbolTable: interns ticker strings as dense ids (0, 1, 2, ... in first-seen order).
//
// Dense ids index struct-of-arrays state everywhere downstream; first-seen order makes ids, and so
// every iteration over symbols, deterministic for a given input. Not thread-safe: built by the
// ingest thread, read-only afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pairflow {

using SymbolId = std::uint32_t;

class SymbolTable {
 public:
  SymbolId intern(std::string_view name);
  std::optional<SymbolId> find(std::string_view name) const;
  const std::string& name(SymbolId id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, SymbolId, Hash, std::equal_to<>> ids_;
  std::vector<std::string> names_;
};

}  // namespace pairflow

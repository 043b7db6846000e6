// Internal to the Python job host: binary-codec payloads (model/binary_codec.h) straight into the
// numpy columns of process_batch(), with no JSON in between. Fixed schemas (ticks, bars, ...)
// fill typed arrays directly; records go through the ColumnBuilder, so their columns take the
// same types as the JSON path's. The way back (columns to binary rows) is BatchRows::write_binary.
//
// Lifecycle: one per loaded job. Threading: requires the GIL, like everything in py_codec.h.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "embed/python/py_codec.h"
#include "stream/job.h"

namespace pairflow::embed::detail {

class BinaryColumns {
 public:
  enum class Outcome {
    kBuilt,     // `columns` holds the dict; `index` the rows in it, `bad` the undecodable ones
    kFallback,  // nothing built: a non-binary payload, mixed schemas or an unsigned id beyond
                // int64; the caller takes the JSON path
    kError,     // a Python error is set (allocation failure)
  };
  Outcome decode(std::span<const stream::Message> batch, ColumnBuilder& records,
                 JsonDecoder& decoder, Ref& columns, std::vector<std::size_t>& index,
                 std::vector<stream::Job::Failure>& bad);

 private:
  Outcome decode_fixed(Schema schema, std::span<const stream::Message> batch, Ref& columns,
                       std::vector<std::size_t>& index, std::vector<stream::Job::Failure>& bad);
  Outcome decode_records(std::span<const stream::Message> batch, ColumnBuilder& records,
                         JsonDecoder& decoder, Ref& columns, std::vector<std::size_t>& index,
                         std::vector<stream::Job::Failure>& bad);
  int read_value(BinaryKind kind, const BinaryField& field, std::string_view& body, char* column,
                 std::size_t k, bool& absent, std::string& reason);
  template <BinaryKind... Kinds, std::size_t... I>
  int read_row(std::index_sequence<I...>, const std::vector<BinaryField>& fields,
               std::string_view& body, char* const* data, std::size_t k, bool* absent,
               std::string& reason);
  template <BinaryKind... Kinds>
  int read_schema_row(const std::vector<BinaryField>& fields, std::string_view& body,
                      char* const* data, std::size_t k, bool* absent, std::string& reason);
  int read_any_row(const std::vector<BinaryField>& fields, std::string_view& body,
                   char* const* data, std::size_t k, bool* absent, std::string& reason);
  // A borrowed str for `text` from a small direct-mapped cache: symbols and enum values repeat.
  PyObject* cached_str(std::string_view text);

  struct Slot {
    static constexpr std::size_t kMaxText = 30;
    char text[kMaxText];
    std::uint8_t size = 0;
    Ref str;
  };
  std::array<Slot, 256> strings_;
  Ref spill_;  // an uncached str, alive until the next call
  // The shape of the last record decoded and the columns its fields went to.
  std::string shape_;
  std::vector<std::size_t> shape_columns_;
};

}  // namespace pairflow::embed::detail

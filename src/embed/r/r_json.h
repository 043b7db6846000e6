// JSON <-> R value conversion for the R job host (internal; include only from src/embed/r).
//
// Both directions work directly on R's C structures (no jsonlite, no R-level calls), because they
// run once per message in each direction and dominate the host's per-message cost.
// Mapping (docs/r_jobs.md): object -> named list; array of numbers / strings / booleans (nulls
// allowed) -> atomic vector with NA; other arrays -> unnamed list; [] -> NULL; null -> NULL;
// number -> double. Back: length-1 atomic vectors -> scalars, others -> arrays; NA / NaN / Inf
// -> null; named list -> object; unnamed list -> array; factor -> its labels.
//
// Lifecycle: one RJsonReader per host (it reuses simdjson's buffers). Threading: R's thread only.
#pragma once

#ifndef R_NO_REMAP
#define R_NO_REMAP
#endif
#include <Rinternals.h>
#include <simdjson.h>

#include <string>
#include <string_view>

namespace pairflow::embed::r_internal {

class RJsonReader {
 public:
  // Returns the R value of `json` (unprotected: protect it before the next allocation).
  // Throws stream::JobError when the text is not JSON.
  SEXP read(std::string_view json);

 private:
  simdjson::dom::parser parser_;
};

// Appends `x` as JSON to `out`. Throws stream::JobError naming the R type that has no JSON form
// (functions, environments, ...). R allocates nothing here, so `x` needs no extra protection.
void append_json(SEXP x, std::string& out);

// Appends the CHARSXP `c` as a JSON string (NA as null).
void append_json_string(SEXP c, std::string& out);

// Appends row `row` of data frame `df` as one JSON object.
void append_json_row(SEXP df, R_xlen_t row, std::string& out);

// Number of rows of a data frame (0 for one without columns).
R_xlen_t data_frame_rows(SEXP df);

// "a list (length 3)", "a character vector (length 1)": for error messages about R values.
std::string describe_r_value(SEXP x);

}  // namespace pairflow::embed::r_internal

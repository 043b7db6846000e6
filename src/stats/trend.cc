#include "stats/trend.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace pairflow::stats {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Result<Trend> parse_trend(std::string_view text) {
  const std::string t = lower(text);
  if (t == "n" || t == "nc") return Trend::kNone;
  if (t == "c") return Trend::kConstant;
  if (t == "ct") return Trend::kConstantTrend;
  if (t == "ctt") return Trend::kConstantTrendSquared;
  return Status(StatusCode::kInvalidArgument,
                "unknown trend '" + std::string(text) + "' (expected n, c, ct or ctt)");
}

Result<AutoLag> parse_autolag(std::string_view text) {
  const std::string t = lower(text);
  if (t == "aic") return AutoLag::kAic;
  if (t == "bic") return AutoLag::kBic;
  if (t == "t-stat" || t == "tstat") return AutoLag::kTStat;
  if (t == "none" || t.empty()) return AutoLag::kNone;
  return Status(StatusCode::kInvalidArgument,
                "unknown autolag '" + std::string(text) + "' (expected aic, bic, t-stat or none)");
}

const char* trend_name(Trend trend) {
  switch (trend) {
    case Trend::kNone:
      return "n";
    case Trend::kConstant:
      return "c";
    case Trend::kConstantTrend:
      return "ct";
    case Trend::kConstantTrendSquared:
      return "ctt";
  }
  return "?";
}

const char* autolag_name(AutoLag autolag) {
  switch (autolag) {
    case AutoLag::kNone:
      return "none";
    case AutoLag::kAic:
      return "aic";
    case AutoLag::kBic:
      return "bic";
    case AutoLag::kTStat:
      return "t-stat";
  }
  return "?";
}

}  // namespace pairflow::stats

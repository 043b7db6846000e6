// Deterministic-term and lag-selection options shared by the unit-root and cointegration tests.
//
// Plain enums and pure functions: thread-safe.
#pragma once

#include <string_view>

#include "base/status.h"

namespace pairflow::stats {

// Deterministic terms in a test regression; spelled "n", "c", "ct", "ctt" as in statsmodels.
enum class Trend { kNone, kConstant, kConstantTrend, kConstantTrendSquared };

// How the augmentation lag is chosen: fixed at maxlag, or by AIC, BIC or the t-stat rule.
enum class AutoLag { kNone, kAic, kBic, kTStat };

// Accepts "n" (also "nc"), "c", "ct", "ctt"; case-insensitive.
Result<Trend> parse_trend(std::string_view text);
// Accepts "aic", "bic", "t-stat" (also "tstat"), "none" or ""; case-insensitive.
Result<AutoLag> parse_autolag(std::string_view text);

const char* trend_name(Trend trend);        // "n", "c", "ct", "ctt"
const char* autolag_name(AutoLag autolag);  // "none", "aic", "bic", "t-stat"

// Number of deterministic regressors: 0, 1, 2, 3.
inline int trend_terms(Trend trend) { return static_cast<int>(trend); }

}  // namespace pairflow::stats

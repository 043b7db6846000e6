// The JSON forms of the statistics' results, as `pairflow stats` prints them (field names follow
// statsmodels where it has the test). Doubles in their shortest round-trip form, NaN as null.
// Pure functions; any thread.
#pragma once

#include <string>

#include "stats/adf.h"
#include "stats/coint.h"
#include "stats/hurst.h"
#include "stats/johansen.h"

namespace pairflow::stats {

// {"stat","pvalue","usedlag","nobs","crit":{"1%","5%","10%"}}
std::string to_json(const AdfResult& r);
// {"stat","pvalue","crit":[1%,5%,10%],"hedge_ratio","intercept","half_life","usedlag","nobs"}
std::string to_json(const CointResult& r, double half_life);
// {"eig","trace","max_eig","trace_crit","max_eig_crit","evec","nobs"}
std::string to_json(const JohansenResult& r);
// {"hurst","r2","scales"}
std::string to_json(const HurstResult& r);

}  // namespace pairflow::stats

#include "stats/stats_json.h"

#include "base/json_writer.h"

namespace pairflow::stats {
namespace {

void crit_rows(JsonWriter& w, const std::vector<std::array<double, 3>>& rows) {
  w.begin_array();
  for (const auto& row : rows)
    w.begin_array().value(row[0]).value(row[1]).value(row[2]).end_array();
  w.end_array();
}

void numbers(JsonWriter& w, const std::vector<double>& values) {
  w.begin_array();
  for (double v : values) w.value(v);
  w.end_array();
}

}  // namespace

std::string to_json(const AdfResult& r) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("stat", r.stat).field("pvalue", r.pvalue).field("usedlag", r.usedlag);
  w.field("nobs", r.nobs).key("crit").begin_object();
  w.field("1%", r.crit[0]).field("5%", r.crit[1]).field("10%", r.crit[2]).end_object();
  w.end_object();
  return out;
}

std::string to_json(const CointResult& r, double half_life) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("stat", r.stat).field("pvalue", r.pvalue).key("crit").begin_array();
  w.value(r.crit[0]).value(r.crit[1]).value(r.crit[2]).end_array();
  w.field("hedge_ratio", r.hedge_ratio).field("intercept", r.intercept);
  w.field("half_life", half_life).field("usedlag", r.usedlag).field("nobs", r.nobs).end_object();
  return out;
}

std::string to_json(const JohansenResult& r) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("eig");
  numbers(w, r.eig);
  w.key("trace");
  numbers(w, r.lr1);
  w.key("max_eig");
  numbers(w, r.lr2);
  w.key("trace_crit");
  crit_rows(w, r.cvt);
  w.key("max_eig_crit");
  crit_rows(w, r.cvm);
  w.key("evec").begin_array();
  for (int i = 0; i < r.neqs; ++i) {
    w.begin_array();
    for (int j = 0; j < r.neqs; ++j) w.value(r.evec_at(i, j));
    w.end_array();
  }
  w.end_array().field("nobs", r.nobs).end_object();
  return out;
}

std::string to_json(const HurstResult& r) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("hurst", r.hurst).field("r2", r.r2).field("scales", r.num_scales);
  w.end_object();
  return out;
}

}  // namespace pairflow::stats

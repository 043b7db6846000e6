#include "base/time.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace pairflow {
namespace {

bool parse_digits(std::string_view s, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

unsigned days_in_month(int year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

Status bad(std::string_view text, const char* why) {
  return Status(StatusCode::kParseError, fmt::format("bad timestamp '{}': {}", text, why));
}

Result<Timestamp> parse_iso(std::string_view s) {
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!parse_digits(s, 0, 4, year) || s[4] != '-' || !parse_digits(s, 5, 2, month) ||
      s.size() < 10 || s[7] != '-' || !parse_digits(s, 8, 2, day)) {
    return bad(s, "expected YYYY-MM-DD");
  }
  if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > days_in_month(year, month))
    return bad(s, "no such date");
  if (year < 1900 || year > 2199) return bad(s, "outside the supported years 1900-2199");
  std::size_t pos = 10;
  Timestamp fraction_ns = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!parse_digits(s, pos + 1, 2, hour) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !parse_digits(s, pos + 4, 2, minute)) {
      return bad(s, "expected hh:mm after the date");
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!parse_digits(s, pos + 1, 2, second)) return bad(s, "expected seconds");
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (digits < 9) {
            fraction_ns = fraction_ns * 10 + (s[pos] - '0');
            ++digits;
          }
          ++pos;
        }
        if (digits == 0) return bad(s, "empty fraction");
        for (; digits < 9; ++digits) fraction_ns *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return bad(s, "time of day out of range");
  }
  std::string_view zone = s.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "z" || zone == "+00:00" || zone == "+0000" ||
        zone == "-00:00")) {
    return bad(s, "only UTC is accepted (suffix Z or +00:00)");
  }
  std::int64_t days = days_from_civil(year, month, day);
  return ((days * 24 + hour) * 60 + minute) * 60 * kNanosPerSecond + second * kNanosPerSecond +
         fraction_ns;
}

}  // namespace

std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  // Shift the year to start in March so the leap day is the last day of the year.
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

namespace {

Result<Timestamp> parse_timestamp_unchecked(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '"')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '"' || text.back() == '\r'))
    text.remove_suffix(1);
  if (text.empty()) return bad(text, "empty");
  if (text.size() >= 10 && text[4] == '-') return parse_iso(text);
  // ISO-8601 basic form: YYYYMMDD[THHMMSS[.fff]][Z]. Eight digits are a date, not epoch seconds
  // of August 1970 (which no market data carries).
  if (text.size() >= 8 && text.find_first_not_of("0123456789") >= 8 &&
      (text.size() == 8 || text[8] == 'T')) {
    std::string extended =
        fmt::format("{}-{}-{}", text.substr(0, 4), text.substr(4, 2), text.substr(6, 2));
    if (text.size() > 8) {
      std::string_view time = text.substr(9);
      const std::size_t digits = std::min(time.find_first_not_of("0123456789"), time.size());
      if (digits != 4 && digits != 6) return bad(text, "expected THHMM or THHMMSS after the date");
      extended += fmt::format("T{}:{}", time.substr(0, 2), time.substr(2, 2));
      if (digits == 6) extended += fmt::format(":{}", time.substr(4, 2));
      extended += time.substr(digits);
    }
    auto ts = parse_iso(extended);
    if (ts || text.size() > 8) return ts ? ts : bad(text, "not a YYYYMMDD[THHMMSS] date");
  }

  // Epoch number: integers keep full nanosecond precision; decimals are seconds.
  if (text.find_first_of(".eE") != std::string_view::npos) {
    double seconds = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(seconds) ||
        std::fabs(seconds) > 9.0e9) {
      return bad(text, "not a number of epoch seconds");
    }
    return static_cast<Timestamp>(std::llround(seconds * 1e9));
  }
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return bad(text, "not ISO-8601 nor an epoch number");
  }
  if (value == std::numeric_limits<std::int64_t>::min()) return bad(text, "out of range");
  std::int64_t magnitude = value < 0 ? -value : value;
  std::int64_t scale = 1;  // nanoseconds
  if (magnitude < 100'000'000'000LL)
    scale = kNanosPerSecond;  // seconds
  else if (magnitude < 100'000'000'000'000LL)
    scale = 1'000'000;  // milliseconds
  else if (magnitude < 100'000'000'000'000'000LL)
    scale = 1'000;  // microseconds
  std::int64_t ns;
  if (__builtin_mul_overflow(value, scale, &ns)) return bad(text, "out of range");
  return ns;
}

}  // namespace

Result<Timestamp> parse_timestamp(std::string_view text) {
  auto ts = parse_timestamp_unchecked(text);
  if (ts && (*ts < kMinTimestamp || *ts >= kMaxTimestamp)) {
    return bad(text, "outside the supported years 1900-2199");
  }
  return ts;
}

std::string format_timestamp(Timestamp ts) {
  std::int64_t days = ts >= 0 ? ts / kNanosPerDay : (ts - kNanosPerDay + 1) / kNanosPerDay;
  Timestamp in_day = ts - days * kNanosPerDay;
  // civil_from_days
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  year += month <= 2;
  Timestamp seconds = in_day / kNanosPerSecond;
  Timestamp nanos = in_day % kNanosPerSecond;
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", year, month, day,
                                seconds / 3600, (seconds / 60) % 60, seconds % 60);
  if (nanos % 1'000'000 == 0) {
    out += fmt::format(".{:03d}Z", nanos / 1'000'000);
  } else {
    out += fmt::format(".{:09d}Z", nanos);
  }
  return out;
}

Result<Timestamp> parse_duration(std::string_view text) {
  std::size_t split = 0;
  while (split < text.size() && ((text[split] >= '0' && text[split] <= '9') || text[split] == '.'))
    ++split;
  double amount = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + split, amount);
  if (split == 0 || ec != std::errc() || ptr != text.data() + split) {
    return Status(StatusCode::kParseError, fmt::format("bad duration '{}'", text));
  }
  std::string_view unit = text.substr(split);
  double scale;
  if (unit.empty() || unit == "s" || unit == "sec")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ns")
    scale = 1;
  else if (unit == "m" || unit == "min")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else if (unit == "d")
    scale = 86400e9;
  else
    return Status(
        StatusCode::kParseError,
        fmt::format("bad duration '{}': unit must be ns, us, ms, s, m/min, h or d", text));
  Timestamp ns = static_cast<Timestamp>(std::llround(amount * scale));
  if (ns <= 0)
    return Status(StatusCode::kInvalidArgument, fmt::format("duration '{}' is not positive", text));
  return ns;
}

}  // namespace pairflow

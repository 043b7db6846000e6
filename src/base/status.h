// Status and Result<T>: how the hot path reports failure without exceptions.
//
// Exceptions are reserved for the edges (config, start-up, CLI, user-job calls). Everything that
// runs per message returns a Status or Result<T>; callers count rejects by StatusCode.
// Thread-agnostic value types.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace pairflow {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // a value the caller passed cannot be used (NaN price, bad option)
  kParseError,        // malformed text input
  kOutOfOrder,        // event time went backwards
  kNotFound,          // unknown symbol, missing column
  kInsufficientData,  // too few observations for the requested computation
  kNumerical,         // singular matrix, constant series, non-mean-reverting spread
  kInternal,
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // Named so that `status.ok()` does not compile: a static `ok()` is callable on an instance,
  // where it reads as a check but returns an OK status, true in any condition.
  static Status success() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {
    if (status_.is_ok()) status_ = Status(StatusCode::kInternal, "Result built from an OK status");
  }

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked(); }
  T& operator*() { return checked(); }
  const T& operator*() const { return const_cast<Result*>(this)->checked(); }

 private:
  T& checked() {
    if (!value_) {
      std::fprintf(stderr, "pairflow: fatal: value() on failed Result: %s\n",
                   status_.message().c_str());
      std::abort();
    }
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

// Thrown at the edges (CLI, config, file input). `what()` is one line, ready for the user;
// the CLI prints it and exits with exit_code().
class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message, int exit_code = 2)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Aborts with a message: for invariants that must never break.
[[noreturn]] void fatal(const std::string& message);

#define PAIRFLOW_CHECK(cond, msg)                                                             \
  do {                                                                                        \
    if (!(cond))                                                                              \
      ::pairflow::fatal(std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " + (msg)); \
  } while (0)

}  // namespace pairflow

// Helpers for tests that run the real `pairflow` binary the way a user does: run it with arguments,
// capture stdout, stderr and the exit code, and name per-process temporary files.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace pairflow::testing {

struct Outcome {
  int code;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string bin() {
  const char* b = std::getenv("PAIRFLOW_BIN");
  return b ? b : PAIRFLOW_BIN_DEFAULT;
}

// Per process: CTest runs each test in its own process, possibly in parallel.
inline std::string tmp(const std::string& name) {
  return ::testing::TempDir() + "/cli_" + std::to_string(getpid()) + "_" + name;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command line; its stderr is captured separately from its stdout.
inline Outcome run_shell(const std::string& line) {
  const std::string err_path = tmp("stderr.txt");
  std::string command = "{ " + line + " ; } 2>" + err_path;
  Outcome r{};
  std::FILE* pipe = popen(command.c_str(), "r");
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err_path);
  return r;
}

// Runs `pairflow ARGS`.
inline Outcome run(const std::string& args) { return run_shell(bin() + " " + args); }

inline int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace pairflow::testing

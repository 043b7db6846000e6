// History store benchmarks (`make bench`):
//   1. rows/s into SQLite through HistoryWriter (JSON messages of 1-second bars and of ticks,
//      batched transactions, synchronous=FULL), with its background commits and with commits in
//      the caller's thread, against the floor of the same rows inserted with one prepared
//      statement into a plain typed table in the same process;
//   2. the latency of reading one symbol-day (86,400 one-second bars) back as columns
//      (read_frame, what pairflow.history() does) - p50 / p99 over repeated reads;
//   3. points/s of line protocol into a real VictoriaMetrics on loopback through InfluxSink
//      (started here from /usr/bin/victoria-metrics; skipped with a note when it is missing).
// Targets (issue 16): >= 1M rows/s into SQLite, >= 500k points/s into VictoriaMetrics, <= 20 ms
// for one symbol-day.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "history/influx_sink.h"
#include "history/store.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using pairflow::Timestamp;
using namespace pairflow::history;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Row {
  std::string symbol;
  Timestamp ts;
  double open, high, low, close, volume;
  std::string json;
};

std::vector<Row> one_second_bars(int symbols, int seconds) {
  std::vector<Row> rows;
  rows.reserve(static_cast<std::size_t>(symbols) * seconds);
  const Timestamp t0 = 1'704'067'200'000'000'000;  // 2024-01-01
  for (int s = 0; s < seconds; ++s) {
    for (int k = 0; k < symbols; ++k) {
      Row r;
      r.symbol = fmt::format("S{:03d}", k);
      r.ts = t0 + Timestamp{s} * 1'000'000'000;
      const double p = 100 + k + 0.01 * ((s * 7 + k * 13) % 97);
      r.open = p, r.high = p + 0.05, r.low = p - 0.05, r.close = p + 0.01;
      r.volume = 100 * (1 + (s + k) % 17);
      r.json = fmt::format(
          R"({{"ts":{},"symbol":"{}","open":{},"high":{},"low":{},"close":{},"volume":{},"vwap":{},"count":{}}})",
          r.ts, r.symbol, r.open, r.high, r.low, r.close, r.volume, p, 1 + (s + k) % 9);
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

void remove_db(const fs::path& p) {
  fs::remove(p);
  fs::remove(p.string() + "-wal");
  fs::remove(p.string() + "-shm");
}

double raw_sqlite_floor(const fs::path& path, const std::vector<Row>& rows) {
  remove_db(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr);
  sqlite3_exec(db,
               "CREATE TABLE bars (symbol TEXT, ts INTEGER, open REAL, high REAL, low REAL, close "
               "REAL, volume REAL, PRIMARY KEY (symbol, ts)) WITHOUT ROWID",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO bars VALUES (?,?,?,?,?,?,?)", -1, &st, nullptr);
  const auto start = Clock::now();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  std::size_t n = 0;
  for (const Row& r : rows) {
    sqlite3_bind_text(st, 1, r.symbol.data(), static_cast<int>(r.symbol.size()), SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r.ts);
    sqlite3_bind_double(st, 3, r.open);
    sqlite3_bind_double(st, 4, r.high);
    sqlite3_bind_double(st, 5, r.low);
    sqlite3_bind_double(st, 6, r.close);
    sqlite3_bind_double(st, 7, r.volume);
    sqlite3_step(st);
    sqlite3_reset(st);
    if (++n % 65536 == 0) {
      sqlite3_exec(db, "COMMIT; BEGIN", nullptr, nullptr, nullptr);
    }
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  const double s = seconds_since(start);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows.size() / s;
}

double writer_rows_per_second(const fs::path& path, const std::vector<Row>& rows,
                              std::string_view topic, bool background_commit = true) {
  remove_db(path);
  const auto start = Clock::now();
  {
    WriterOptions options;
    options.background_commit = background_commit;
    HistoryWriter w(path.string(), options);
    for (const Row& r : rows) {
      pairflow::Status s = w.append(topic, "", r.json);
      if (!s.is_ok()) {
        std::fprintf(stderr, "bench: rejected: %s\n", s.message().c_str());
        std::exit(1);
      }
    }
    w.commit();
  }
  return rows.size() / seconds_since(start);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

void victoria_metrics(const std::vector<Row>& rows, const fs::path& dir) {
  const char* vm = "/usr/bin/victoria-metrics";
  if (!fs::exists(vm)) {
    std::printf("victoria-metrics: not installed (%s); skipped\n", vm);
    return;
  }
  const int port = free_port();
  const std::string data = (dir / "vm-data").string();
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string listen = fmt::format("-httpListenAddr=127.0.0.1:{}", port);
    const std::string storage = "-storageDataPath=" + data;
    execl(vm, vm, listen.c_str(), storage.c_str(), "-retentionPeriod=100y", "-loggerLevel=ERROR",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 300 && !port_open(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (bool gzip : {true, false}) {
    InfluxOptions o;
    o.url = fmt::format("http://127.0.0.1:{}/write", port);
    o.spool_dir = (dir / (gzip ? "spool-gz" : "spool")).string();
    o.batch_points = 10000;
    o.gzip = gzip;
    InfluxSink sink(o);
    const auto start = Clock::now();
    for (const Row& r : rows) {
      pairflow::Status s = sink.add("bars.1s", "", r.json, 0);
      if (!s.is_ok()) std::exit(1);
    }
    sink.make_durable();
    const double secs = seconds_since(start);
    const auto& st = sink.stats();
    // Each message is one point with 7 fields (VictoriaMetrics stores 7 samples per point).
    std::printf(
        "victoria-metrics line protocol (%s, batches of 10k): %.0f points/s (%.0f samples/s); "
        "%llu sent, %llu spooled, %llu post failures\n",
        gzip ? "gzip" : "plain", rows.size() / secs, rows.size() * 7 / secs,
        static_cast<unsigned long long>(st.points_sent),
        static_cast<unsigned long long>(st.batches_spooled),
        static_cast<unsigned long long>(st.post_failures));
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  // --writer-only [background|foreground] or --vm-only: just that part runs (for profiling).
  const bool writer_only = argc > 1 && std::string_view(argv[1]) == "--writer-only";
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("pairflow-bench-history-{}", getpid());
  fs::create_directories(dir);
  // 100 symbols x 10,000 s of 1-second bars = 1,000,000 rows per run: 15 batches, so the figure
  // is the sustained rate of a recording sink rather than the warm-up of its first batches.
  const auto rows = one_second_bars(100, 10000);
  const fs::path db = dir / "h.db";
  std::vector<double> floor, writer, foreground;
  if (argc > 1 && std::string_view(argv[1]) == "--vm-only") {  // for profiling
    victoria_metrics(rows, dir);
    fs::remove_all(dir);
    return 0;
  }
  if (writer_only) {
    // --writer-only background | foreground: one mode only.
    const std::string_view mode = argc > 2 ? argv[2] : "";
    for (int run = 0; run < 3; ++run) {
      if (mode != "foreground")
        std::printf("history writer %.0f rows/s\n", writer_rows_per_second(db, rows, "bars.1s"));
      if (mode != "background")
        std::printf("commits in the caller's thread %.0f rows/s\n",
                    writer_rows_per_second(db, rows, "bars.1s", false));
    }
    fs::remove_all(dir);
    return 0;
  }
  for (int run = 0; run < 3; ++run) {
    floor.push_back(raw_sqlite_floor(dir / "raw.db", rows));
    writer.push_back(writer_rows_per_second(db, rows, "bars.1s"));
    foreground.push_back(writer_rows_per_second(db, rows, "bars.1s", false));
  }
  std::sort(floor.begin(), floor.end());
  std::sort(writer.begin(), writer.end());
  std::sort(foreground.begin(), foreground.end());
  std::printf(
      "sqlite, 1M 1-second bars of 100 symbols (JSON messages, batches of 65,536 rows, "
      "synchronous=FULL), median of 3:\n");
  std::printf("  history writer   %10.0f rows/s (batches committed by the writer's thread)\n",
              writer[1]);
  std::printf("  same, commits in the caller's thread %10.0f rows/s (ratio %.2f)\n", foreground[1],
              writer[1] / foreground[1]);
  std::printf("  raw SQLite floor %10.0f rows/s (prepared insert of typed values, no JSON)\n",
              floor[1]);
  std::printf("  ratio writer / floor %.2f\n", writer[1] / floor[1]);

  // One symbol-day of 1-second bars.
  const fs::path day_db = dir / "day.db";
  remove_db(day_db);
  {
    const auto day = one_second_bars(4, 86400);
    HistoryWriter w(day_db.string());
    for (const Row& r : day) (void)w.append("bars.1s", "", r.json).is_ok();
  }
  Query q;
  q.topic = "bars.1s";
  q.key = "S002";
  std::vector<double> ms;
  std::size_t rows_read = 0;
  for (int i = 0; i < 30; ++i) {
    const auto start = Clock::now();
    Frame f = read_frame(day_db.string(), q);
    ms.push_back(seconds_since(start) * 1e3);
    rows_read = f.rows;
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "read one symbol-day (%zu one-second bars, 9 columns) as columns: p50 %.2f ms, "
      "p99 %.2f ms (30 reads, file of 4 symbols)\n",
      rows_read, ms[ms.size() / 2], ms[ms.size() * 99 / 100]);

  victoria_metrics(rows, dir);
  fs::remove_all(dir);
  return 0;
}

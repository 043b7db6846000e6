#include "history/influx_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "history/line_protocol.h"

namespace pairflow::history {
namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::string gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw UserError("gzip: cannot initialise zlib");
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw UserError("gzip: compression failed");
  return out;
}

// Writes `data` to `path` durably: a temporary file, fsync, rename, fsync of the directory.
bool write_durably(const fs::path& path, const std::string& data, std::string& error) {
  const fs::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = fmt::format("{}: {}", tmp.string(), std::strerror(errno));
    return false;
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = fmt::format("{}: {}", tmp.string(), std::strerror(errno));
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    error = fmt::format("{}: fsync: {}", tmp.string(), std::strerror(errno));
    return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    error = fmt::format("{}: {}", path.string(), ec.message());
    return false;
  }
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return true;
}

std::uint64_t points_of(const std::string& file) {
  // NNNNNNNNNNNNNNNN-POINTS.lp[.gz]
  const auto dash = file.find('-');
  if (dash == std::string::npos) return 0;
  return std::strtoull(file.c_str() + dash + 1, nullptr, 10);
}

}  // namespace

const char* sink_state_name(SinkState state) {
  switch (state) {
    case SinkState::kConnected:
      return "connected";
    case SinkState::kSpooling:
      return "spooling";
    case SinkState::kBlocked:
      return "blocked";
  }
  return "?";
}

struct InfluxSink::Connection {
  net::io_context io;
  beast::tcp_stream stream{io};
  bool open = false;
  beast::flat_buffer buffer;
};

InfluxSink::InfluxSink(InfluxOptions options) : options_(std::move(options)) {
  const std::string& u = options_.url;
  if (u.rfind("http://", 0) != 0)
    throw UserError(fmt::format(
        "influx: url '{}' must start with http:// (e.g. http://127.0.0.1:8428/write)", u));
  std::string rest = u.substr(7);
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  url_.target = slash == std::string::npos ? "/write" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  url_.host = authority.substr(0, colon);
  url_.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (url_.host.empty() || url_.port.empty() ||
      !std::all_of(url_.port.begin(), url_.port.end(), ::isdigit))
    throw UserError(fmt::format("influx: url '{}' has no host or a bad port", u));
  if (url_.target.find("precision=") == std::string::npos)
    url_.target += (url_.target.find('?') == std::string::npos ? "?" : "&") +
                   std::string(url_.target.find("/api/v2/") != std::string::npos ? "precision=ns"
                                                                                 : "precision=n");
  if (options_.spool_dir.empty()) throw UserError("influx: a spool directory is required");
  std::error_code ec;
  fs::create_directories(fs::path(options_.spool_dir) / "rejected", ec);
  if (ec)
    throw UserError(fmt::format("influx: cannot create spool directory {}: {}", options_.spool_dir,
                                ec.message()));
  for (const auto& entry : fs::directory_iterator(options_.spool_dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".tmp")) {  // a write that never completed: not acknowledged to anyone
      fs::remove(entry.path(), ec);
      continue;
    }
    if (!name.ends_with(".lp") && !name.ends_with(".lp.gz")) continue;
    spool_files_.push_back(name);
    stats_.spool_bytes += entry.file_size();
    next_spool_ =
        std::max<std::uint64_t>(next_spool_, std::strtoull(name.c_str(), nullptr, 10) + 1);
  }
  std::sort(spool_files_.begin(), spool_files_.end());
  stats_.spool_files = spool_files_.size();
  connection_ = std::make_unique<Connection>();
  update_state();
}

InfluxSink::~InfluxSink() = default;

Status InfluxSink::add(std::string_view topic, std::string_view key, std::string_view json,
                       Timestamp ts) {
  Status s = append_line(batch_, topic, key, json, ts, options_.max_string);
  if (!s) {
    ++stats_.rejects;
    return s;
  }
  if (batch_count_++ == 0) batch_started_ = Clock::now();
  ++stats_.points;
  if (batch_count_ >= options_.batch_points) close_batch();
  return s;
}

InfluxSink::Post InfluxSink::post(const std::string& body, std::string& error) {
  // A kept-alive connection the server has since closed fails on first use: one fresh retry.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Connection& c = *connection_;
    const bool reused = c.open;
    try {
      if (!c.open) {
        net::ip::tcp::resolver resolver(c.io);
        auto endpoints = resolver.resolve(url_.host, url_.port);
        c.stream.expires_after(options_.timeout);
        c.stream.connect(endpoints);
        c.open = true;
      }
      http::request<http::string_body> req{http::verb::post, url_.target, 11};
      req.set(http::field::host, url_.host);
      req.set(http::field::user_agent, "pairflow");
      req.set(http::field::content_type, "text/plain; charset=utf-8");
      if (options_.gzip) req.set(http::field::content_encoding, "gzip");
      if (!options_.token.empty()) req.set(http::field::authorization, "Token " + options_.token);
      req.keep_alive(true);
      req.body() = body;
      req.prepare_payload();
      c.stream.expires_after(options_.timeout);
      http::write(c.stream, req);
      http::response<http::string_body> res;
      c.buffer.clear();
      http::read(c.stream, c.buffer, res);
      if (!res.keep_alive()) {
        beast::error_code ignored;
        c.stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
        c.stream.close();
        c.open = false;
      }
      const unsigned status = res.result_int();
      if (status >= 200 && status < 300) return Post::kOk;
      std::string text = res.body().substr(0, 300);
      std::replace(text.begin(), text.end(), '\n', ' ');
      error =
          fmt::format("HTTP {} from {}:{}{}: {}", status, url_.host, url_.port, url_.target, text);
      if (status == 408 || status == 429 || status >= 500) return Post::kRetry;
      return Post::kRejected;
    } catch (const std::exception& e) {
      beast::error_code ignored;
      c.stream.socket().close(ignored);
      c.open = false;
      error = fmt::format("{}:{}: {}", url_.host, url_.port, e.what());
      if (!reused) return Post::kRetry;
    }
  }
  return Post::kRetry;
}

void InfluxSink::close_batch() {
  if (batch_count_ == 0 || held_) return;  // while blocked, the batch waits in memory
  std::string body = options_.gzip ? gzip(batch_) : batch_;
  // The point count rides along in the spool file's name (kept for the stats).
  body_points_ = batch_count_;
  batch_.clear();
  batch_count_ = 0;
  if (!deliver(std::move(body))) update_state();
}

bool InfluxSink::deliver(std::string body) {
  const std::uint64_t points = body_points_;
  if (spool_files_.empty() && Clock::now() >= next_try_) {
    std::string error;
    switch (post(body, error)) {
      case Post::kOk:
        ++stats_.batches_sent;
        stats_.points_sent += points;
        backoff_ = std::chrono::milliseconds(0);
        update_state();
        return true;
      case Post::kRejected: {
        ++stats_.batches_rejected;
        stats_.last_error = error;
        std::string ignored;
        write_durably(
            fs::path(options_.spool_dir) / "rejected" /
                fmt::format("{:016}-{}.lp{}", next_spool_++, points, options_.gzip ? ".gz" : ""),
            body, ignored);
        return true;
      }
      case Post::kRetry:
        ++stats_.post_failures;
        stats_.last_error = error;
        backoff_ = std::clamp(backoff_ * 2, options_.backoff_min, options_.backoff_max);
        next_try_ = Clock::now() + backoff_;
        break;
    }
  }
  if (spool(body)) return true;
  held_ = std::move(body);
  held_points_ = points;
  return false;
}

bool InfluxSink::spool(const std::string& body) {
  if (stats_.spool_bytes + body.size() > options_.spool_max_bytes && !spool_files_.empty())
    return false;
  const std::string name =
      fmt::format("{:016}-{}.lp{}", next_spool_, body_points_, options_.gzip ? ".gz" : "");
  std::string error;
  if (!write_durably(fs::path(options_.spool_dir) / name, body, error)) {
    stats_.last_error = "spool: " + error;
    return false;
  }
  ++next_spool_;
  spool_files_.push_back(name);
  stats_.spool_bytes += body.size();
  stats_.spool_files = spool_files_.size();
  ++stats_.batches_spooled;
  update_state();
  return true;
}

void InfluxSink::replay_spool() {
  const auto deadline = Clock::now() + std::chrono::milliseconds(200);
  while (!spool_files_.empty() && Clock::now() >= next_try_ && Clock::now() < deadline) {
    const fs::path path = fs::path(options_.spool_dir) / spool_files_.front();
    std::string body;
    {
      std::ifstream in(path, std::ios::binary);
      body.assign(std::istreambuf_iterator<char>(in), {});
      if (!in.good() && !in.eof()) {
        stats_.last_error = "spool: cannot read " + path.string();
        return;
      }
    }
    std::string error;
    const Post result = post(body, error);
    if (result == Post::kRetry) {
      ++stats_.post_failures;
      stats_.last_error = error;
      backoff_ = std::clamp(backoff_ * 2, options_.backoff_min, options_.backoff_max);
      next_try_ = Clock::now() + backoff_;
      break;
    }
    std::error_code ec;
    if (result == Post::kOk) {
      ++stats_.batches_replayed;
      stats_.points_sent += points_of(spool_files_.front());
      fs::remove(path, ec);
    } else {
      ++stats_.batches_rejected;
      stats_.last_error = error;
      fs::rename(path, fs::path(options_.spool_dir) / "rejected" / spool_files_.front(), ec);
    }
    backoff_ = std::chrono::milliseconds(0);
    stats_.spool_bytes -= std::min<std::uint64_t>(stats_.spool_bytes, body.size());
    spool_files_.erase(spool_files_.begin());
    stats_.spool_files = spool_files_.size();
  }
  update_state();
}

void InfluxSink::pump() {
  if (!spool_files_.empty()) replay_spool();
  if (held_) {
    std::string body = std::move(*held_);
    held_.reset();
    body_points_ = held_points_;
    deliver(std::move(body));
    update_state();
    if (held_) return;
  }
  if (batch_count_ > 0 && Clock::now() - batch_started_ >= options_.batch_interval) close_batch();
}

void InfluxSink::make_durable() {
  if (held_) pump();
  close_batch();
  if (held_) {
    throw UserError(fmt::format(
        "influx: {} points can go neither to the server ({}) nor to the full spool {} ({} bytes "
        "of {})",
        held_points_, stats_.last_error, options_.spool_dir, stats_.spool_bytes,
        options_.spool_max_bytes));
  }
}

void InfluxSink::update_state() {
  if (held_)
    stats_.state = SinkState::kBlocked;
  else if (!spool_files_.empty())
    stats_.state = SinkState::kSpooling;
  else
    stats_.state = SinkState::kConnected;
}

}  // namespace pairflow::history

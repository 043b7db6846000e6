#include "ui/server.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base/json_writer.h"
#include "base/status.h"

namespace pairflow::ui {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

int role_rank(std::string_view role) {
  if (role == "admin") return 3;
  if (role == "operator") return 2;
  if (role == "viewer") return 1;
  return 0;
}

std::string random_token() {
  std::random_device rd;
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) out += kHex[rd() % 16];
  return out;
}

std::string error_body(std::string_view error) {
  return R"({"ok":false,"error":)" + json_string(error) + "}";
}

std::string content_type(const std::filesystem::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

// "a=1&token=x" -> the value of `name` (no percent-decoding: tokens are hex).
std::string query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    std::string_view item = rest.substr(0, amp);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name)
      return std::string(item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return "";
}

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// What the server's notification needs of a WebSocket session, whatever its transport.
class WsSessionBase {
 public:
  virtual ~WsSessionBase() = default;
  virtual void pump() = 0;
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct DashboardServer::Impl {
  ServerConfig config;
  Hub& hub;
  MetricsRegistry& metrics;
  std::vector<engine::UiToken> tokens;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::vector<std::weak_ptr<WsSessionBase>> sessions;  // io thread only
  std::unique_ptr<net::ssl::context> tls;              // with ui.tls_cert / ui.tls_key
  std::atomic<bool> notify_pending{false};
  std::atomic<int> clients{0};
  Gauge* clients_gauge;
  Counter* messages_sent;
  Counter* slow_disconnects;
  std::string web_root;
  net::steady_timer pump_timer{ioc};
  std::chrono::steady_clock::time_point last_pump{};

  Impl(ServerConfig c, Hub& h, MetricsRegistry& m)
      : config(std::move(c)),
        hub(h),
        metrics(m),
        clients_gauge(&m.gauge("pairflow_ui_clients", "WebSocket clients connected")),
        messages_sent(
            &m.counter("pairflow_ui_messages_sent_total", "WebSocket messages sent to clients")),
        slow_disconnects(&m.counter("pairflow_ui_clients_disconnected_total",
                                    "WebSocket clients disconnected by the server, by reason",
                                    {{"reason", "slow"}})) {}

  // The token's entry, or null.
  const engine::UiToken* find_token(std::string_view token) const {
    if (token.empty()) return nullptr;
    for (const auto& t : tokens)
      if (t.token == token) return &t;
    return nullptr;
  }

  void accept();
  void notify();  // io thread: every session pulls what is new
  void add_session(const std::shared_ptr<WsSessionBase>& s);
};

// One WebSocket client: its subscriptions, its cursor per stream, its bounded queue. `Next` is
// beast::tcp_stream, or TlsStream over it.
template <class Next>
class WsSession : public WsSessionBase, public std::enable_shared_from_this<WsSession<Next>> {
 public:
  using std::enable_shared_from_this<WsSession<Next>>::shared_from_this;
  WsSession(Next&& next, DashboardServer::Impl& server) : ws_(std::move(next)), server_(server) {}
  ~WsSession() {
    server_.clients.fetch_sub(1);
    server_.clients_gauge->set(server_.clients.load());
  }

  void start(http::request<http::string_body> request) {
    server_.clients.fetch_add(1);
    server_.clients_gauge->set(server_.clients.load());
    ws_.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(60), true});
    ws_.read_message_max(64 * 1024);
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->server_.add_session(self);
      self->read();
    });
  }

  // New updates in the hub (io thread).
  void pump() override {
    if (closed_) return;
    for (int i = 0; i < kStreams; ++i) {
      if (!subscribed_[i]) continue;
      const Stream s = static_cast<Stream>(i);
      if (!conflatable(s) && !server_.hub.since(s, cursor_[i], 0, scratch_)) {
        // The hub dropped updates this client has not received: it cannot keep up.
        drop_slow(s);
        return;
      }
    }
    if (out_.size() >= server_.config.max_queue / 2) return;  // write what is queued first
    for (int i = 0; i < kStreams && out_.size() < server_.config.max_queue; ++i) {
      if (!subscribed_[i]) continue;
      const Stream s = static_cast<Stream>(i);
      scratch_.clear();
      bool ok;
      if (conflatable(s)) {
        ok = server_.hub.latest_since(s, cursor_[i], scratch_);
      } else {
        ok = server_.hub.since(s, cursor_[i], server_.config.max_queue - out_.size(), scratch_);
      }
      if (!ok) {
        if (!conflatable(s)) {
          drop_slow(s);
          return;
        }
        send_snapshot(s, true);
        continue;
      }
      for (Update& u : scratch_) {
        out_.push_back(u.message);
        cursor_[i] = u.seq;
      }
    }
    write_next();
  }

 private:
  void read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        return;
      }
      self->on_message(beast::buffers_to_string(self->in_.data()));
      self->in_.consume(self->in_.size());
      self->read();
    });
  }

  void error(std::string_view message) {
    out_.push_back(std::make_shared<const std::string>(R"({"type":"error","error":)" +
                                                       json_string(message) + "}"));
    write_next();
  }

  void on_message(const std::string& text) {
    simdjson::dom::element root;
    std::string_view op;
    if (parser_.parse(text).get(root) != simdjson::SUCCESS || !root.is_object() ||
        root["op"].get(op) != simdjson::SUCCESS) {
      return error("expected {\"op\":\"subscribe\"|\"unsubscribe\"|\"ping\",...}");
    }
    if (op == "ping") {
      out_.push_back(std::make_shared<const std::string>(R"({"type":"pong"})"));
      return write_next();
    }
    if (op != "subscribe" && op != "unsubscribe") return error(fmt::format("unknown op '{}'", op));
    simdjson::dom::array streams;
    if (root["streams"].get(streams) != simdjson::SUCCESS)
      return error("\"streams\" must be an array of stream names");
    std::vector<Stream> wanted;
    for (simdjson::dom::element e : streams) {
      std::string_view name;
      Stream s;
      if (e.get(name) != simdjson::SUCCESS || !parse_stream(name, s)) {
        return error(fmt::format(
            "unknown stream {} (pnl, positions, pairs, signals, orders, executions, screener, "
            "risk, jobs)",
            simdjson::minify(e)));
      }
      wanted.push_back(s);
    }
    simdjson::dom::object since;
    const bool has_since = root["since"].get(since) == simdjson::SUCCESS;
    for (Stream s : wanted) {
      const int i = static_cast<int>(s);
      if (op == "unsubscribe") {
        subscribed_[i] = false;
        continue;
      }
      subscribed_[i] = true;
      std::uint64_t after = 0;
      if (has_since && since[stream_name(s)].get(after) == simdjson::SUCCESS) {
        scratch_.clear();
        if (after <= server_.hub.seq(s) && server_.hub.since(s, after, 0, scratch_)) {
          cursor_[i] = after;  // resumes: pump() sends what came after, without a gap
          continue;
        }
        send_snapshot(s, true);
      } else {
        send_snapshot(s, false);
      }
    }
    pump();
  }

  void send_snapshot(Stream s, bool reset) {
    const Hub::Snapshot snap = server_.hub.snapshot(s);
    std::string m =
        fmt::format(R"({{"type":"snapshot","stream":"{}","seq":{},"reset":{},"items":[)",
                    stream_name(s), snap.seq, reset ? "true" : "false");
    bool first = true;
    for (const auto& [key, data] : snap.items) {
      if (!first) m += ',';
      first = false;
      m += R"({"key":)";
      append_json_string(m, key);
      m += R"(,"data":)";
      m += *data;
      m += '}';
    }
    m += "]}";
    out_.push_back(std::make_shared<const std::string>(std::move(m)));
    cursor_[static_cast<int>(s)] = snap.seq;
  }

  void drop_slow(Stream s) {
    closed_ = true;
    server_.slow_disconnects->add();
    // Abruptly: a client that does not read would also never complete a close handshake.
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).socket().close(ec);
    (void)s;
  }

  // Everything queued goes out as one frame: one message as it is, several as a JSON array of
  // them in order (one write per client per pump, not one per update).
  void write_next() {
    if (writing_ || out_.empty() || closed_) return;
    writing_ = true;
    if (out_.size() == 1) {
      frame_ = out_.front();
    } else {
      std::size_t bytes = 2;
      for (const Text& m : out_) bytes += m->size() + 1;
      std::string batch;
      batch.reserve(bytes);
      batch += '[';
      for (const Text& m : out_) {
        if (batch.size() > 1) batch += ',';
        batch += *m;
      }
      batch += ']';
      frame_ = std::make_shared<const std::string>(std::move(batch));
    }
    in_frame_ = out_.size();
    ws_.text(true);
    ws_.async_write(
        net::buffer(*frame_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
          self->writing_ = false;
          if (ec) {
            self->closed_ = true;
            return;
          }
          self->server_.messages_sent->add(static_cast<double>(self->in_frame_));
          self->out_.erase(self->out_.begin(),
                           self->out_.begin() + static_cast<std::ptrdiff_t>(self->in_frame_));
          self->frame_.reset();
          if (self->out_.empty()) {
            self->pump();
          } else {
            self->write_next();
          }
        });
  }

  websocket::stream<Next> ws_;
  DashboardServer::Impl& server_;
  beast::flat_buffer in_;
  simdjson::dom::parser parser_;
  std::deque<Text> out_;
  Text frame_;  // being written: out_'s first in_frame_ messages
  std::size_t in_frame_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  std::array<bool, kStreams> subscribed_{};
  std::array<std::uint64_t, kStreams> cursor_{};
  std::vector<Update> scratch_;
};

void DashboardServer::Impl::add_session(const std::shared_ptr<WsSessionBase>& s) {
  std::erase_if(sessions, [](const std::weak_ptr<WsSessionBase>& w) { return w.expired(); });
  sessions.push_back(s);
}

void DashboardServer::Impl::notify() {
  notify_pending.store(false);
  for (auto& w : sessions)
    if (auto s = w.lock()) s->pump();
}

// One HTTP connection: requests in turn (keep-alive), or an upgrade to a WebSocket. `Stream` is
// beast::tcp_stream, or TlsStream (after its handshake).
template <class Transport>
class HttpSession : public std::enable_shared_from_this<HttpSession<Transport>> {
  static constexpr bool kTls = std::is_same_v<Transport, TlsStream>;

 public:
  using std::enable_shared_from_this<HttpSession<Transport>>::shared_from_this;
  HttpSession(Transport&& stream, DashboardServer::Impl& server)
      : stream_(std::move(stream)), server_(server) {
    beast::error_code ec;
    const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(server_.config.max_body);
    parser_->header_limit(16 * 1024);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  using Response = http::response<http::string_body>;

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return close();
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      return send(413,
                  error_body(fmt::format("request body over {} bytes", server_.config.max_body)));
    }
    if (ec) {
      keep_alive_ = false;
      return send(400, error_body(fmt::format("malformed HTTP request: {}", ec.message())));
    }
    request_ = parser_->release();
    keep_alive_ = request_.keep_alive();
    route();
  }

  // The caller's token entry, or a 401 sent (null).
  const engine::UiToken* authenticate(bool allow_query) {
    std::string token;
    const std::string_view auth = sv(request_[http::field::authorization]);
    if (auth.starts_with("Bearer ")) token = std::string(auth.substr(7));
    if (token.empty() && allow_query) token = query_param(sv(request_.target()), "token");
    const engine::UiToken* t = server_.find_token(token);
    if (!t) {
      send(401, error_body(token.empty() ? "no token: send Authorization: Bearer TOKEN"
                                         : "unknown token"));
    }
    return t;
  }

  bool require(const engine::UiToken& t, const char* role) {
    if (role_rank(t.role) >= role_rank(role)) return true;
    send(403, error_body(fmt::format("needs the {} role (this token is {})", role, t.role)));
    return false;
  }

  void route() {
    std::string_view target = sv(request_.target());
    std::string_view path = target.substr(0, target.find('?'));
    const bool get = request_.method() == http::verb::get || request_.method() == http::verb::head;
    const bool post = request_.method() == http::verb::post;

    if (path == "/metrics") {
      if (!get) return send(405, error_body("GET only"));
      return send(200, server_.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
    }
    if (path == "/api/health") {
      if (!get) return send(405, error_body("GET only"));
      const bool ready = server_.hub.document("status") != nullptr;
      return send(200, fmt::format(R"({{"ok":true,"ready":{}}})", ready ? "true" : "false"));
    }
    if (path == "/api/openapi.json") {
      if (!get) return send(405, error_body("GET only"));
      return send(200, openapi_json());
    }
    if (path == "/api/stream") {
      const engine::UiToken* t = authenticate(true);
      if (!t) return;
      if (!websocket::is_upgrade(request_))
        return send(426, error_body("/api/stream is a WebSocket: send an Upgrade request"));
      // A browser page from another origin must not ride on a token the user pasted here.
      const std::string_view origin = sv(request_[http::field::origin]);
      if (!origin.empty()) {
        const std::string host(sv(request_[http::field::host]));
        if (origin != "http://" + host && origin != "https://" + host)
          return send(403, error_body(fmt::format("origin {} is not this server's", origin)));
      }
      beast::error_code ec;
      beast::get_lowest_layer(stream_).socket().set_option(
          net::socket_base::send_buffer_size(server_.config.send_buffer), ec);
      beast::get_lowest_layer(stream_).expires_never();  // the WebSocket has its own timeouts
      auto ws = std::make_shared<WsSession<Transport>>(std::move(stream_), server_);
      ws->start(std::move(request_));
      return;
    }
    if (path.starts_with("/api/")) {
      const engine::UiToken* t = authenticate(false);
      if (!t) return;
      std::string_view name = path.substr(5);
      if (name == "control" || (name.starts_with("pairs/") && name.ends_with("/control"))) {
        if (!post) return send(405, error_body("POST only"));
        if (!require(*t, "operator")) return;
        if (server_.config.read_only)
          return send(403, error_body("the dashboard is read-only (ui.read_only)"));
        if (name != "control") {
          const std::string_view id = name.substr(6, name.size() - 6 - 8);
          if (!all_digits(id)) return send(400, error_body(fmt::format("bad pair id '{}'", id)));
        }
        return control(std::string(path), *t);
      }
      if (!get) return send(405, error_body("GET only"));
      if (!require(*t, "viewer")) return;
      if (name.starts_with("pairs/")) return pair(name.substr(6));
      if (name == "status") return status(*t);
      if (name == "pnl") return pnl();
      for (const char* doc :
           {"pairs", "screener", "positions", "orders", "executions", "risk", "jobs", "config"})
        if (name == doc) return document(doc);
      return send(404, error_body(fmt::format("no endpoint {} (see /api/openapi.json)", path)));
    }
    if (!get) return send(405, error_body("GET only"));
    return file(path);
  }

  void document(const std::string& name) {
    Text doc = server_.hub.document(name);
    if (!doc) return send(503, error_body("not published yet: the run is starting"));
    send(200, *doc);
  }

  void status(const engine::UiToken& t) {
    Text doc = server_.hub.document("status");
    if (!doc) return send(503, error_body("not published yet: the run is starting"));
    std::string body = doc->substr(0, doc->size() - 1);
    body += fmt::format(R"(,"role":{},"who":{},"read_only":{},"clients":{}}})", json_string(t.role),
                        json_string(t.name), server_.config.read_only ? "true" : "false",
                        server_.clients.load());
    send(200, body);
  }

  void pnl() {
    Text doc = server_.hub.document("pnl");
    if (!doc) return send(503, error_body("not published yet: the run is starting"));
    std::string body = doc->substr(0, doc->size() - 1);
    body += R"(,"curve":[)";
    bool first = true;
    for (const EquityPoint& p : server_.hub.equity()) {
      if (!first) body += ',';
      first = false;
      body += fmt::format(R"({{"ts":{},"equity":{},"drawdown":{}}})", p.ts, json_number(p.equity),
                          json_number(p.drawdown));
    }
    body += "]}";
    send(200, body);
  }

  void pair(std::string_view id_text) {
    if (!all_digits(id_text))
      return send(400, error_body(fmt::format("bad pair id '{}'", id_text)));
    const Hub::Snapshot snap = server_.hub.snapshot(Stream::kPairs);
    Text data;
    for (const auto& [key, d] : snap.items)
      if (key == id_text) data = d;
    if (!data) return send(404, error_body(fmt::format("pair {} is not active", id_text)));
    const PairId id = static_cast<PairId>(std::stoul(std::string(id_text)));
    std::string body = data->substr(0, data->size() - 1) + R"(,"history":[)";
    bool first = true;
    for (const PairPoint& p : server_.hub.pair_points(id)) {
      if (!first) body += ',';
      first = false;
      body += fmt::format(R"({{"ts":{},"z":{},"y":{},"x":{}}})", p.ts, json_number(p.z),
                          json_number(p.y), json_number(p.x));
    }
    body += R"(],"signals":[)";
    first = true;
    for (const PairTrade& t : server_.hub.pair_trades(id)) {
      if (!first) body += ',';
      first = false;
      body += fmt::format(R"({{"ts":{},"action":"{}","z":{}}})", t.ts, to_string(t.action),
                          json_number(t.z));
    }
    body += "]}";
    send(200, body);
  }

  void control(std::string path, const engine::UiToken& t) {
    ControlRequest r;
    r.path = std::move(path);
    r.body = std::move(request_.body());
    r.who = t.name.empty() ? t.role : t.name;
    r.role = t.role;
    r.remote = remote_;
    auto self = shared_from_this();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto timer = std::make_shared<net::steady_timer>(server_.ioc, std::chrono::seconds(10));
    r.done = [self, answered, timer](int status, std::string body) {
      if (answered->exchange(true)) return;
      net::post(self->server_.ioc, [self, timer, status, body = std::move(body)]() mutable {
        timer->cancel();
        self->send(status, std::move(body));
      });
    };
    timer->async_wait([self, answered](beast::error_code ec) {
      if (ec || answered->exchange(true)) return;
      self->send(503, error_body("the pipeline did not answer within 10 s"));
    });
    server_.hub.submit(std::move(r));
  }

  void file(std::string_view path) {
    namespace fs = std::filesystem;
    if (server_.web_root.empty()) {
      return send(
          404,
          "<!doctype html><title>pairflow</title><p>The dashboard was not built: run "
          "<code>make</code> (it builds web/ into build/web) or set ui.web_root. The API is "
          "at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>",
          "text/html; charset=utf-8");
    }
    std::string rel(path == "/" ? "/index.html" : path);
    if (rel.find("..") != std::string::npos || rel.find('\\') != std::string::npos)
      return send(400, error_body("bad path"));
    const fs::path p = fs::path(server_.web_root) / rel.substr(1);
    std::ifstream in(p, std::ios::binary);
    if (!in) return send(404, error_body(fmt::format("no file {}", path)));
    std::ostringstream ss;
    ss << in.rdbuf();
    send(200, ss.str(), content_type(p));
  }

  void send(int status, std::string body, std::string type = "application/json") {
    auto res = std::make_shared<Response>(static_cast<http::status>(status),
                                          request_.version() ? request_.version() : 11);
    res->set(http::field::server, "pairflow");
    res->set(http::field::content_type, type);
    res->set(http::field::cache_control, "no-store");
    if (status == 401) res->set(http::field::www_authenticate, "Bearer");
    res->keep_alive(keep_alive_);
    if (request_.method() != http::verb::head) res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !self->keep_alive_) return self->close();
                        self->read();
                      });
  }

  // Half-closes, then reads and discards what the client still sends (the rest of an oversized
  // body) until it closes too: closing with unread data would reset the connection before the
  // client read our answer.
  void close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    if constexpr (kTls) {
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      drain();
    }
  }

  void drain() {
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < (16u << 20)) self->drain();
                            });
  }

  Transport stream_;
  DashboardServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  bool keep_alive_ = true;
  std::string remote_;
  std::array<char, 16384> discard_;
  std::size_t drained_ = 0;
};

void DashboardServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec && !tls) {
      std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), *this)
          ->read();
    } else if (!ec) {
      auto stream = std::make_shared<TlsStream>(std::move(socket), *tls);
      beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(10));
      stream->async_handshake(net::ssl::stream_base::server, [this, stream](beast::error_code ec) {
        if (ec) return;  // not TLS, or a bad client: nothing to answer
        std::make_shared<HttpSession<TlsStream>>(std::move(*stream), *this)->read();
      });
    }
    accept();
  });
}

DashboardServer::DashboardServer(ServerConfig config, Hub& hub, MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(config), hub, metrics)) {
  Impl& s = *impl_;
  s.tokens = s.config.tokens;
  if (s.tokens.empty()) {
    s.tokens.push_back({random_token(), "operator", "operator"});
    s.tokens.push_back({random_token(), "viewer", "viewer"});
  }
  tokens_ = s.tokens;
  if (!s.config.tls_cert.empty()) {
    s.tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    s.tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    s.tls->use_certificate_chain_file(s.config.tls_cert, ec);
    if (ec) throw UserError(fmt::format("ui.tls_cert: {}: {}", s.config.tls_cert, ec.message()));
    s.tls->use_private_key_file(s.config.tls_key, net::ssl::context::pem, ec);
    if (ec) throw UserError(fmt::format("ui.tls_key: {}: {}", s.config.tls_key, ec.message()));
  }
  if (!s.config.web_root.empty() &&
      std::filesystem::exists(std::filesystem::path(s.config.web_root) / "index.html"))
    s.web_root = s.config.web_root;
  beast::error_code ec;
  const auto address = net::ip::make_address(s.config.bind, ec);
  if (ec) throw UserError(fmt::format("ui.bind: '{}' is not an IP address", s.config.bind));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(s.config.port));
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw UserError(
        fmt::format("dashboard: cannot listen on {}:{}: {} (choose another with --port)",
                    s.config.bind, s.config.port, ec.message()));
  }
  port_ = s.acceptor.local_endpoint().port();
  // Clients pull at most every `pump_interval`: a pipeline committing thousands of slices a
  // second wakes the server once per interval, and each client takes what came in one go.
  hub.set_listener([&s] {
    if (!s.notify_pending.exchange(true)) {
      net::post(s.ioc, [&s] {
        const auto due = s.last_pump + s.config.pump_interval;
        s.pump_timer.expires_at(due);
        s.pump_timer.async_wait([&s](beast::error_code ec) {
          if (ec) return;
          s.last_pump = std::chrono::steady_clock::now();
          s.notify();
        });
      });
    }
  });
  s.accept();
  s.thread = std::thread([&s] {
    // Below the pipeline's priority: on a machine with few cores, serving clients yields to
    // trading (Linux: nice applies per thread).
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    s.ioc.run();
  });
}

DashboardServer::~DashboardServer() {
  impl_->hub.set_listener(nullptr);
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string default_web_root() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return (exe.parent_path().parent_path() / "web").string();
}

std::string DashboardServer::url() const {
  return fmt::format("{}://{}:{}/", impl_->tls ? "https" : "http", impl_->config.bind, port_);
}

std::string DashboardServer::token_for(const std::string& role) const {
  for (const auto& t : tokens_)
    if (t.role == role) return t.token;
  return "";
}

int DashboardServer::clients() const { return impl_->clients.load(); }

}  // namespace pairflow::ui

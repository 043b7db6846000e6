// The FIX gateway against fix-sim over a real loopback socket, and the codec on good and bad
// messages.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "fix/fix_codec.h"
#include "fix/fix_gateway.h"
#include "fix/fix_sim.h"

namespace pairflow::fix {
namespace {

constexpr Timestamp kT0 = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(FixCodec, TimesRoundTripToTheNanosecond) {
  for (Timestamp ts : {kT0, kT0 + 123'456'789, Timestamp{0}, Timestamp{951'782'400'000'000'001}}) {
    auto back = parse_fix_time(format_fix_time(ts));
    ASSERT_TRUE(back) << format_fix_time(ts);
    EXPECT_EQ(*back, ts);
  }
  EXPECT_EQ(format_fix_time(kT0), "20231114-22:13:20.000000000");
  EXPECT_EQ(*parse_fix_time("20231114-22:13:20.5"), kT0 + 500'000'000);
  EXPECT_EQ(*parse_fix_time("20231114-22:13:20"), kT0);
  for (const char* bad :
       {"", "2023-11-14T22:13:20", "20231314-22:13:20", "20231114-25:00:00", "20231114-22:13:20.",
        "20231114-22:13:20.1234567890", "2023111a-22:13:20"})
    EXPECT_FALSE(parse_fix_time(bad)) << bad;
}

TEST(FixCodec, OrdersRoundTripAndBadFieldsAreNamed) {
  SymbolTable symbols;
  const SymbolId a = symbols.intern("AAA");
  Order o{.client_order_id = 18'446'744'073'709'551'615ULL,
          .ts = kT0,
          .symbol = a,
          .side = Side::kSell,
          .qty = 250,
          .type = OrderType::kLimit,
          .limit = 101.25};
  SymbolTable theirs;
  auto back = read_new_order(new_order_single(o, symbols, "ACC1"), theirs);
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(back->client_order_id, o.client_order_id);
  EXPECT_EQ(theirs.name(back->symbol), "AAA");
  EXPECT_EQ(back->side, Side::kSell);
  EXPECT_EQ(back->qty, 250);
  EXPECT_EQ(back->type, OrderType::kLimit);
  EXPECT_EQ(back->limit, 101.25);
  EXPECT_EQ(back->ts, kT0);
  struct Case {
    int tag;
    const char* value;  // nullptr: removed
    const char* expect;
  };
  for (const Case& c : std::vector<Case>{{11, nullptr, "ClOrdID (11) is missing"},
                                         {11, "abc", "ClOrdID (11) is not a pairflow order id"},
                                         {38, "-5", "OrderQty (38) must be > 0"},
                                         {38, "nan", "OrderQty (38) is not a number"},
                                         {38, "1e999", "OrderQty (38) is not a number"},
                                         {54, "7", "Side (54) has an unexpected value"},
                                         {55, "", "Symbol (55) is empty"},
                                         {44, "0", "Price (44) must be > 0"},
                                         {60, "yesterday", "TransactTime (60) is not a UTC"}}) {
    FixMessage m = new_order_single(o, symbols, "");
    std::erase_if(m.fields, [&](const auto& f) { return f.first == c.tag; });
    if (c.value) m.add(c.tag, c.value);
    auto r = read_new_order(m, theirs);
    ASSERT_FALSE(r) << c.tag;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
  FixMessage report;
  report.type = "8";
  report.add(37, "1").add(17, "E1").add(11, "5").add(150, "F").add(39, "1").add(14, "10");
  report.add(151, "5").add(6, "100");
  auto r = read_execution_report(report);  // a fill without LastQty/LastPx
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("LastQty (32) is missing"), std::string::npos);
  report.add(32, "10").add(31, "100");
  ASSERT_TRUE(read_execution_report(report));
  report.fields[3].second = "Z";
  EXPECT_FALSE(read_execution_report(report));
}

// A feed of quotes for two symbols, every 10 ms, from kT0.
struct Feed {
  SymbolTable& symbols;
  int n = 0;
  bool operator()(Tick& t) {
    if (n >= 20000) return false;
    const SymbolId s = symbols.intern(n % 2 ? "BBB" : "AAA");
    const double mid = n % 2 ? 50.0 : 100.0;
    t = Tick{.ts = kT0 + Timestamp{n} * 10'000'000,
             .symbol = s,
             .price = mid,
             .size = 100,
             .bid = mid - 0.01,
             .ask = mid + 0.01,
             .bid_size = 500,
             .ask_size = 500};
    ++n;
    return true;
  }
};

struct Pair {
  explicit Pair(std::uint64_t drop_after = 0, const std::string& gateway_store = "memory",
                const std::string& dir = "",
                const std::function<void(GatewayConfig&)>& tweak = nullptr) {
    const int port = free_port();
    SimConfig sim;
    sim.session.port = port;
    sim.session.sender_comp_id = "FIXSIM";
    sim.session.target_comp_id = "PAIRFLOW";
    sim.paper.latency = 1'000'000;
    sim.drop_after_orders = drop_after;
    if (const char* log = std::getenv("FIX_TEST_LOG"))
      sim.session.log_path = std::string(log) + "/sim";
    simulator = std::make_unique<FixSimulator>(sim, Feed{sim_symbols}, sim_symbols);
    GatewayConfig& g = gateway_config;
    g.session.port = port;
    g.session.heartbeat_s = 5;
    g.session.store = gateway_store;
    g.session.store_path = dir;
    g.logon_timeout_s = 20;
    if (const char* log = std::getenv("FIX_TEST_LOG"))
      g.session.log_path = std::string(log) + "/gw";
    if (tweak) tweak(g);
    gateway = std::make_unique<FixGateway>(g, symbols);
    a = symbols.intern("AAA");
    b = symbols.intern("BBB");
  }
  // A new gateway process with the same settings (a restart); the simulator stays up.
  void restart_gateway() {
    gateway.reset();
    got.clear();
    gateway = std::make_unique<FixGateway>(gateway_config, symbols);
  }
  // Polls until `n` reports are in or 20 s pass.
  std::vector<exec::BrokerReport> reports(std::size_t n) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (got.size() < n && std::chrono::steady_clock::now() < until) {
      gateway->poll(got);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return got;
  }
  GatewayConfig gateway_config;
  SymbolTable sim_symbols, symbols;
  std::unique_ptr<FixSimulator> simulator;
  std::unique_ptr<FixGateway> gateway;
  std::vector<exec::BrokerReport> got;
  SymbolId a = 0, b = 0;
};

Order market(std::uint64_t id, SymbolId s, Side side, double qty, Timestamp ts) {
  return Order{.client_order_id = id, .ts = ts, .symbol = s, .side = side, .qty = qty};
}

TEST(FixGateway, RoundTripFillsAtTheSimulatedMarket) {
  Pair p;
  ASSERT_TRUE(p.gateway->view({}).orders.empty());  // waits for the logon
  p.gateway->send(market(1, p.a, Side::kBuy, 100, kT0 + 50'000'000), kT0 + 50'000'000);
  p.gateway->send(market(2, p.b, Side::kSell, 200, kT0 + 50'000'000), kT0 + 50'000'000);
  auto r = p.reports(4);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].kind, exec::ReportKind::kAck);
  EXPECT_EQ(r[1].kind, exec::ReportKind::kFill);
  EXPECT_EQ(r[1].client_order_id, 1u);
  EXPECT_DOUBLE_EQ(r[1].price, 100.01);  // the ask
  EXPECT_EQ(r[1].qty, 100);
  EXPECT_TRUE(r[1].done);
  EXPECT_GT(r[1].fee, 0);
  EXPECT_DOUBLE_EQ(r[3].price, 49.99);   // the bid
  EXPECT_EQ(r[1].ts, kT0 + 51'000'000);  // on arrival, 1 ms after the decision
  const SimState s = p.simulator->state();
  EXPECT_EQ(s.orders, 2u);
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(s.positions.at("AAA"), 100);
  EXPECT_EQ(s.positions.at("BBB"), -200);
}

TEST(FixGateway, RejectAndCancel) {
  Pair p;
  p.gateway->view({});
  // A limit far from the market rests; its cancel comes back cancelled; a second cancel of the
  // same order is rejected (too late).
  Order rest = market(7, p.a, Side::kBuy, 100, kT0 + 1'000'000);
  rest.type = OrderType::kLimit;
  rest.limit = 90;
  p.gateway->send(rest, rest.ts);
  ASSERT_EQ(p.reports(1).size(), 1u);
  p.gateway->cancel(7, kT0 + 20'000'000);
  auto r = p.reports(2);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].kind, exec::ReportKind::kCancelled);
  EXPECT_TRUE(r[1].done);
  p.gateway->cancel(7, kT0 + 30'000'000);
  r = p.reports(3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[2].kind, exec::ReportKind::kCancelReject);
  EXPECT_EQ(r[2].reason, "too_late");
  // An order for a symbol the market never quotes is rejected with the reason.
  p.gateway->send(market(8, p.symbols.intern("ZZZ"), Side::kBuy, 1, kT0 + 40'000'000),
                  kT0 + 40'000'000);
  r = p.reports(4);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[3].kind, exec::ReportKind::kReject);
  EXPECT_EQ(r[3].reason, "no_market_data");
  EXPECT_EQ(p.simulator->state().orders, 2u);
}

TEST(FixGateway, DisconnectThenResendDeliversEveryReportOnce) {
  Pair p(/*drop_after=*/3);
  p.gateway->view({});
  for (std::uint64_t id = 1; id <= 6; ++id)
    p.gateway->send(market(id, id % 2 ? p.a : p.b, Side::kBuy, 10, kT0 + Timestamp(id) * 1'000'000),
                    kT0 + Timestamp(id) * 1'000'000);
  auto r = p.reports(12);  // ack + fill for each, across the drop and reconnect
  ASSERT_EQ(r.size(), 12u);
  std::map<std::uint64_t, double> filled;
  for (const auto& x : r)
    if (x.kind == exec::ReportKind::kFill) filled[x.client_order_id] += x.qty;
  EXPECT_EQ(filled.size(), 6u);
  for (const auto& [id, qty] : filled) EXPECT_EQ(qty, 10) << id;
  const SimState s = p.simulator->state();
  EXPECT_EQ(s.drops, 1u);
  EXPECT_EQ(s.duplicates, 0u);  // no order reached the market twice
  EXPECT_EQ(s.orders, 6u);
  EXPECT_GE(p.gateway->counts().logons, 2u);
}

TEST(FixGateway, TheThrottleQueuesInOrderAndAFullQueueRejectsNeverDrops) {
  Pair p(0, "memory", "", [](GatewayConfig& g) {
    g.throttle_per_s = 4;  // a burst of 4, then one every 250 ms
    g.queue_limit = 3;
  });
  p.gateway->view({});
  for (std::uint64_t id = 1; id <= 8; ++id)
    p.gateway->send(market(id, p.a, Side::kBuy, 1, kT0 + Timestamp(id)), kT0 + Timestamp(id));
  // 4 leave at once, 3 wait for the throttle, the 8th finds the queue full: rejected at once.
  const GatewayCounts c = p.gateway->counts();
  EXPECT_EQ(c.queue_full, 1u);
  EXPECT_GE(c.throttled, 1u);
  auto r = p.reports(1 + 7 * 2);  // the local reject, then an ack and a fill for each of 7
  ASSERT_EQ(r.size(), 15u);
  EXPECT_EQ(r[0].kind, exec::ReportKind::kReject);
  EXPECT_EQ(r[0].client_order_id, 8u);
  EXPECT_EQ(r[0].reason, "fix_queue_full");
  std::vector<std::uint64_t> filled;
  for (const auto& x : r)
    if (x.kind == exec::ReportKind::kFill) filled.push_back(x.client_order_id);
  EXPECT_EQ(filled, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7}));  // in order, each once
  EXPECT_EQ(p.simulator->state().orders, 7u);
  EXPECT_EQ(p.simulator->state().duplicates, 0u);
}

TEST(FixGateway, AFileStoreKeepsSequenceNumbersAcrossARestart) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pairflow_fix_store_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    Pair p(0, "file", dir.string());
    p.gateway->view({});
    p.gateway->send(market(1, p.a, Side::kBuy, 10, kT0 + 1'000'000), kT0 + 1'000'000);
    ASSERT_EQ(p.reports(2).size(), 2u);
    EXPECT_FALSE(std::filesystem::is_empty(dir));  // the store is on disk
    // The restarted gateway continues the session's sequence numbers, so the counterparty
    // (which never restarted) accepts its logon and its next order.
    p.restart_gateway();
    p.gateway->view({});
    p.gateway->send(market(2, p.b, Side::kSell, 5, kT0 + 2'000'000), kT0 + 2'000'000);
    auto r = p.reports(2);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].kind, exec::ReportKind::kFill);
    EXPECT_EQ(r[1].client_order_id, 2u);
    EXPECT_EQ(p.simulator->state().orders, 2u);
    EXPECT_EQ(p.simulator->state().duplicates, 0u);
  }
  std::filesystem::remove_all(dir);
}

TEST(FixGateway, ReconciliationAsksTheCounterparty) {
  Pair p;
  p.gateway->view({});
  p.gateway->send(market(11, p.a, Side::kBuy, 30, kT0 + 1'000'000), kT0 + 1'000'000);
  ASSERT_EQ(p.reports(2).size(), 2u);
  // Another gateway process (a restart) asks about 11 (filled) and 12 (never sent).
  auto view = p.gateway->view({market(11, p.a, Side::kBuy, 30, kT0 + 1'000'000),
                               market(12, p.b, Side::kSell, 5, kT0 + 2'000'000)});
  ASSERT_EQ(view.orders.size(), 1u);
  EXPECT_EQ(view.orders.at(11).filled, 30);
  EXPECT_FALSE(view.orders.at(11).open);
  EXPECT_EQ(view.positions.at(p.a), 30);
}

TEST(FixGateway, NoCounterpartyIsAOneLineErrorNotAHang) {
  GatewayConfig g;
  g.session.port = free_port();
  g.logon_timeout_s = 1.5;
  SymbolTable symbols;
  FixGateway gateway(g, symbols);
  try {
    gateway.view({});
    FAIL() << "view() without a counterparty returned";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("no logon to 127.0.0.1:"), std::string::npos) << e.what();
  }
}

// A counterparty that answers every order with whatever `reply` makes of it (garbled reports).
struct RawCounterparty : BridgeEvents {
  explicit RawCounterparty(int port, std::function<FixMessage(const FixMessage&)> reply)
      : reply_(std::move(reply)) {
    BridgeSettings s;
    s.acceptor = true;
    s.port = port;
    s.sender_comp_id = "FIXSIM";
    s.target_comp_id = "PAIRFLOW";
    bridge = std::make_unique<QuickFixBridge>(s, *this);
    bridge->start();
  }
  ~RawCounterparty() override { bridge->stop(); }
  void on_message(const FixMessage& m) override {
    if (m.type == "D") bridge->send(reply_(m), true);
  }
  std::function<FixMessage(const FixMessage&)> reply_;
  std::unique_ptr<QuickFixBridge> bridge;
};

TEST(FixGateway, GarbledReportsAreCountedNeverBooked) {
  const int port = free_port();
  RawCounterparty counterparty(port, [](const FixMessage& order) {
    FixMessage r;
    r.type = "8";
    r.add(37, "1").add(17, "E1").add(11, *order.get(11)).add(150, "F").add(39, "2");
    r.add(14, "lots").add(151, "0").add(32, "10").add(31, "100");  // CumQty garbled
    return r;
  });
  GatewayConfig g;
  g.session.port = port;
  g.logon_timeout_s = 20;
  SymbolTable symbols;
  const SymbolId a = symbols.intern("AAA");
  FixGateway gateway(g, symbols);
  gateway.view({});
  gateway.send(market(1, a, Side::kBuy, 10, kT0), kT0);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (gateway.counts().bad_reports == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<exec::BrokerReport> reports;
  gateway.poll(reports);
  EXPECT_TRUE(reports.empty());
  EXPECT_EQ(gateway.counts().bad_reports, 1u);
  const auto problems = gateway.take_problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("CumQty (14) is not a number: 'lots'"), std::string::npos)
      << problems[0];
}

// Orders fix-sim cannot read get a reject naming the field, are counted, and change nothing.
struct RawInitiator : BridgeEvents {
  explicit RawInitiator(int port) {
    BridgeSettings s;
    s.port = port;
    bridge = std::make_unique<QuickFixBridge>(s, *this);
    bridge->start();
  }
  ~RawInitiator() override { bridge->stop(); }
  void on_message(const FixMessage& m) override {
    std::lock_guard lock(mutex);
    received.push_back(m);
  }
  std::vector<FixMessage> take() {
    std::lock_guard lock(mutex);
    return received;
  }
  std::mutex mutex;
  std::vector<FixMessage> received;
  std::unique_ptr<QuickFixBridge> bridge;
};

TEST(FixSim, UnreadableOrdersAreRejectedNamingTheField) {
  const int port = free_port();
  SymbolTable sim_symbols;
  SimConfig sim;
  sim.session.port = port;
  sim.session.sender_comp_id = "FIXSIM";
  sim.session.target_comp_id = "PAIRFLOW";
  FixSimulator simulator(sim, Feed{sim_symbols}, sim_symbols);
  RawInitiator client(port);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!client.bridge->logged_on() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(client.bridge->logged_on());
  SymbolTable symbols;
  Order o = market(5, symbols.intern("AAA"), Side::kBuy, 10, kT0 + 1'000'000);
  FixMessage bad_qty = new_order_single(o, symbols, "");
  for (auto& f : bad_qty.fields)
    if (f.first == tag::kOrderQty) f.second = "NaN";
  FixMessage no_symbol = new_order_single(o, symbols, "");
  std::erase_if(no_symbol.fields, [](const auto& f) { return f.first == tag::kSymbol; });
  FixMessage unknown;
  unknown.type = "Z";
  unknown.add(tag::kText, "what is this");
  ASSERT_TRUE(client.bridge->send(bad_qty));
  ASSERT_TRUE(client.bridge->send(no_symbol));
  ASSERT_TRUE(client.bridge->send(unknown));
  while (client.take().size() < 3 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto replies = client.take();
  ASSERT_EQ(replies.size(), 3u);
  for (const FixMessage& r : replies) EXPECT_EQ(r.type, "j");
  EXPECT_NE(replies[0].get(tag::kText)->find("OrderQty (38) is not a number"), std::string::npos);
  EXPECT_NE(replies[1].get(tag::kText)->find("Symbol (55) is missing"), std::string::npos);
  EXPECT_NE(replies[2].get(tag::kText)->find("message type Z is not handled"), std::string::npos);
  const SimState state = simulator.state();
  EXPECT_EQ(state.bad_messages, 3u);
  EXPECT_EQ(state.fills, 0u);
  EXPECT_TRUE(state.positions.empty());
}

}  // namespace
}  // namespace pairflow::fix

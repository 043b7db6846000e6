#include <gtest/gtest.h>

#include "base/metrics.h"
#include "ui/hub.h"
#include "ui/server.h"

namespace pairflow::ui {
namespace {

TEST(Hub, SequenceSnapshotAndResume) {
  Hub hub(/*history=*/4);
  hub.publish(Stream::kPositions, "AAA", R"({"qty":1})");
  hub.publish(Stream::kPositions, "BBB", R"({"qty":2})");
  hub.publish(Stream::kPositions, "AAA", "null");  // flat: gone from the snapshot
  EXPECT_EQ(hub.seq(Stream::kPositions), 3u);
  auto snap = hub.snapshot(Stream::kPositions);
  ASSERT_EQ(snap.items.size(), 1u);
  EXPECT_EQ(snap.items[0].first, "BBB");
  std::vector<Update> out;
  ASSERT_TRUE(hub.since(Stream::kPositions, 1, 10, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].seq, 2u);
  EXPECT_EQ(*out[1].message,
            R"({"type":"update","stream":"positions","seq":3,"key":"AAA","data":null})");
  // Two more: the history (4) no longer holds seq 1, so a resume from 0 needs a snapshot.
  hub.publish(Stream::kPositions, "CCC", "{}");
  hub.publish(Stream::kPositions, "DDD", "{}");
  out.clear();
  EXPECT_FALSE(hub.since(Stream::kPositions, 0, 10, out));
  EXPECT_TRUE(hub.since(Stream::kPositions, 1, 10, out));
  EXPECT_EQ(out.size(), 4u);
}

TEST(Hub, ConflationKeepsTheLatestPerKey) {
  Hub hub;
  for (int i = 0; i < 10; ++i) {
    hub.publish(Stream::kPairs, "0", "{\"z\":" + std::to_string(i) + "}");
    hub.publish(Stream::kPairs, "1", "{\"z\":" + std::to_string(-i) + "}");
  }
  std::vector<Update> out;
  ASSERT_TRUE(hub.latest_since(Stream::kPairs, 4, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].seq, 19u);
  EXPECT_EQ(*out[0].data, "{\"z\":9}");
  EXPECT_EQ(out[1].seq, 20u);
  EXPECT_TRUE(conflatable(Stream::kPairs));
  EXPECT_FALSE(conflatable(Stream::kOrders));
}

TEST(Hub, EventStreamsSnapshotTheirRecentEvents) {
  Hub hub;
  for (int i = 1; i <= 3; ++i) hub.publish(Stream::kSignals, std::to_string(i), "{}");
  EXPECT_EQ(hub.snapshot(Stream::kSignals).items.size(), 3u);
}

TEST(Hub, ControlsAfterCloseAreRefused) {
  Hub hub;
  int status = 0;
  std::string body;
  hub.close_controls("the run has finished");
  hub.submit(
      ControlRequest{.path = "/api/control", .body = "{}", .done = [&](int s, std::string b) {
                       status = s;
                       body = std::move(b);
                     }});
  EXPECT_EQ(status, 409);
  EXPECT_NE(body.find("the run has finished"), std::string::npos);
  EXPECT_TRUE(hub.take_controls().empty());
}

TEST(Metrics, PrometheusTextFormat) {
  MetricsRegistry m;
  m.counter("pairflow_x_total", "Things", {{"job", "a\"b"}}).add(3);
  m.gauge("pairflow_y", "Level").set(1.5);
  auto& h = m.histogram("pairflow_z_seconds", "Latency", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const std::string text = m.render();
  EXPECT_NE(text.find("# TYPE pairflow_x_total counter\npairflow_x_total{job=\"a\\\"b\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("pairflow_y 1.5\n"), std::string::npos);
  EXPECT_NE(text.find("pairflow_z_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("pairflow_z_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("pairflow_z_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("pairflow_z_seconds_count 3\n"), std::string::npos);
}

TEST(OpenApi, ListsEveryEndpoint) {
  const std::string& doc = openapi_json();
  for (const char* p :
       {"/api/status", "/api/pairs", "/api/pairs/{id}", "/api/screener", "/api/positions",
        "/api/orders", "/api/executions", "/api/pnl", "/api/risk", "/api/jobs", "/api/config",
        "/api/health", "/api/control", "/api/pairs/{id}/control", "/api/stream", "/metrics"})
    EXPECT_NE(doc.find(std::string("\"") + p + "\""), std::string::npos) << p;
}

}  // namespace
}  // namespace pairflow::ui

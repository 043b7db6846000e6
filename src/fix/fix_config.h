// The FIX gateway's settings: the [fix] section of the engine config (engine/config.cc reads it;
// docs/execution.md lists every key). Plain data; any thread.
#pragma once

#include <cstddef>
#include <string>

#include "fix/quickfix_bridge.h"

namespace pairflow::fix {

struct GatewayConfig {
  BridgeSettings session;            // host, port, comp ids, heartbeat, reconnect, store, log
  double throttle_per_s = 0;         // outbound orders and cancels per second (0: no limit)
  std::size_t queue_limit = 10'000;  // orders waiting for a logon or the throttle; beyond: rejected
  double logon_timeout_s = 10;       // start-up: the reconciliation waits this long for a logon
  double status_timeout_s = 5;       // start-up: how long to wait for order status answers
  std::string account;               // Account (1) on every order, when set
};

}  // namespace pairflow::fix

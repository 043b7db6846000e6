// `pairflow kafka-mock`: librdkafka's mock cluster, for trying jobs without Kafka.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "stream/kafka_transport.h"

namespace pairflow::cli {

void register_kafka_mock(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "kafka-mock", "serve librdkafka's mock Kafka cluster; prints its bootstrap address first");
  auto brokers = std::make_shared<int>(1);
  auto topics = std::make_shared<std::string>();
  cmd->add_option("--brokers", *brokers, "number of brokers")->check(CLI::Range(1, 16));
  cmd->add_option("--topics", *topics, "topics to create: name[:partitions],...");
  cmd->callback([brokers, topics] {
    // Block the stop signals before any librdkafka thread starts, then wait for one.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    stream::KafkaMockCluster cluster(*brokers, stream::parse_topic_specs(*topics));
    std::printf("%s\n", cluster.bootstrap().c_str());
    std::fflush(stdout);
    int signal = 0;
    sigwait(&stop, &signal);
  });
}

}  // namespace pairflow::cli

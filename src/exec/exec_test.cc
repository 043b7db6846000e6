#include <gtest/gtest.h>

#include "exec/paper_broker.h"

namespace pairflow::exec {
namespace {

TEST(PaperBroker, Placeholder) { PaperBroker broker; }

}  // namespace
}  // namespace pairflow::exec

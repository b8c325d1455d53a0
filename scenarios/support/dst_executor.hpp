// scenarios/support/dst_executor.hpp: the DST executor (dst/workloads/common.hpp), under
// the name the scenarios use: a disruptor wires and runs the same way under the simulator.
#pragma once

#include "dst/workloads/common.hpp"

namespace ringlab::scenarios {

using dst_executor = dst::executor;

}  // namespace ringlab::scenarios

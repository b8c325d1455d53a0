// ringlab.hpp: every public header of the library.
#pragma once

#include "ringlab/mpsc_ring.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/spsc_ring.hpp"
#include "ringlab/wait_strategy.hpp"

// ringlab.hpp: every public header of the library.
#pragma once

#include "ringlab/batch_event_processor.hpp"
#include "ringlab/disruptor.hpp"
#include "ringlab/event_poller.hpp"
#include "ringlab/journal.hpp"
#include "ringlab/mpsc_ring.hpp"
#include "ringlab/multi_producer_sequencer.hpp"
#include "ringlab/platform.hpp"
#include "ringlab/ring_buffer.hpp"
#include "ringlab/router.hpp"
#include "ringlab/sequence.hpp"
#include "ringlab/sequence_barrier.hpp"
#include "ringlab/single_producer_sequencer.hpp"
#include "ringlab/spsc_ring.hpp"
#include "ringlab/thread_executor.hpp"
#include "ringlab/wait_strategy.hpp"

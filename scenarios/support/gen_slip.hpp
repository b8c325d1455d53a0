// scenarios/support/gen_slip.hpp: a RapidCheck generator of valid slip_options
// (detail/slip.hpp), shared by the properties of every structure that slips.
#pragma once

#include <rapidcheck.h>

#include <cstdint>

#include "ringlab/detail/slip.hpp"

namespace ringlab::scenarios {

/// A valid slip for a consumer whose runs hold up to `reach` positions (the capacity, or a
/// stage's max_batch if smaller; at least 3): distance in [2, reach), 1-8 polls, after 2-8.
inline slip_options gen_slip(std::uint64_t reach) {
    return slip_options{*rc::gen::inRange<std::uint32_t>(2, static_cast<std::uint32_t>(reach)),
                        *rc::gen::inRange<std::uint32_t>(1, 9), *rc::gen::inRange<std::uint32_t>(2, 9)};
}

}  // namespace ringlab::scenarios

// detail/claim.hpp: the zero-copy write window a ring hands to a producer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringlab::detail {

/// Up to `size()` consecutive slots starting at position `first()`, owned by the producer
/// that claimed them until it publishes them. `Ring` provides `claimed_value(position)`.
template <class Ring, class T>
class claim {
public:
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] std::uint64_t first() const noexcept { return first_; }
    [[nodiscard]] T& operator[](std::size_t i) const { return ring_->claimed_value(first_ + i); }

    claim(Ring* ring, std::uint64_t first, std::size_t count) noexcept
        : ring_(ring), first_(first), count_(count) {}

private:
    Ring* ring_;
    std::uint64_t first_;
    std::size_t count_;
};

}  // namespace ringlab::detail

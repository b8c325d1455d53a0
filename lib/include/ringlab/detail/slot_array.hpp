// detail/slot_array.hpp: a fixed array of slots that starts on its own cache line, with a
// false-sharing gap on both sides, allocated once at construction.
#pragma once

#include <cstddef>
#include <new>
#include <string>

#include "ringlab/platform.hpp"

namespace ringlab::detail {

template <class Slot>
class slot_array {
public:
    explicit slot_array(std::size_t count) : count_(count) {
        if (count > (~std::size_t{0} - 2 * pad_bytes) / sizeof(Slot)) {
            throw config_error("slot_array: " + std::to_string(count) + " slots of " + std::to_string(sizeof(Slot)) +
                               " bytes do not fit in memory");
        }
        const std::size_t bytes = pad_bytes + count * sizeof(Slot) + pad_bytes;
        raw_ = static_cast<std::byte*>(::operator new(bytes, std::align_val_t{false_sharing_bytes}));
        slots_ = reinterpret_cast<Slot*>(raw_ + pad_bytes);
        std::size_t built = 0;
        try {
            for (; built < count; ++built) ::new (static_cast<void*>(slots_ + built)) Slot();
        } catch (...) {
            destroy(built);
            throw;
        }
    }
    ~slot_array() { destroy(count_); }

    slot_array(const slot_array&) = delete;
    slot_array& operator=(const slot_array&) = delete;

    [[nodiscard]] Slot& operator[](std::size_t index) const noexcept { return slots_[index]; }
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] Slot* begin() const noexcept { return slots_; }
    [[nodiscard]] Slot* end() const noexcept { return slots_ + count_; }
    /// Bytes this array occupies, gaps included (the ring's memory footprint).
    [[nodiscard]] std::size_t footprint_bytes() const noexcept {
        return 2 * pad_bytes + count_ * sizeof(Slot);
    }

private:
    static constexpr std::size_t pad_bytes = false_sharing_bytes;

    void destroy(std::size_t built) noexcept {
        for (std::size_t i = built; i > 0; --i) slots_[i - 1].~Slot();
        ::operator delete(raw_, std::align_val_t{false_sharing_bytes});
    }

    std::size_t count_;
    std::byte* raw_ = nullptr;
    Slot* slots_ = nullptr;
};

}  // namespace ringlab::detail

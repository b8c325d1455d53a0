// dst/rng.hpp: the project's own PRNG. Never std::*_distribution: their output differs
// between standard libraries, and a seed must mean the same run everywhere.
#pragma once

#include <cstdint>

namespace ringlab::dst {

__extension__ using uint128 = unsigned __int128;

/// splitmix64: seeds the other generators and derives independent streams from one seed.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/// xoshiro256**: fast, good enough for schedules, fully specified.
class rng {
public:
    constexpr explicit rng(std::uint64_t seed = 0) noexcept {
        std::uint64_t s = seed;
        for (auto& word : s_) word = splitmix64(s);
    }

    constexpr std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, bound) by Lemire's multiply-shift (bias below 2^-32 for the bounds
    /// used here, and identical on every platform). bound must be > 0.
    constexpr std::uint64_t below(std::uint64_t bound) noexcept {
        return static_cast<std::uint64_t>((static_cast<uint128>(next()) * bound) >> 64);
    }

    /// Uniform in [lo, hi], both inclusive.
    constexpr std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept {
        return lo + below(hi - lo + 1);
    }

    /// True with probability numerator/denominator (integer ratios, no floating point).
    constexpr bool chance(std::uint64_t numerator, std::uint64_t denominator) noexcept {
        return below(denominator) < numerator;
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }
    std::uint64_t s_[4] = {};
};

/// Derives the seed of an independent stream (knobs, schedule, faults) from a run's seed.
[[nodiscard]] constexpr std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
    std::uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ULL);
    return splitmix64(s);
}

}  // namespace ringlab::dst

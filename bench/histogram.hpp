// bench/histogram.hpp: an HDR-style log-linear histogram of u64 values (nanoseconds here),
// and its percentile text output in HdrHistogram's `.hgrm` format.
//
// Purpose: latency distributions (p50 .. p99.99, max) without keeping every sample; Debian
// ships no C or C++ HdrHistogram, and Google Benchmark keeps no per-iteration samples.
// Threading contract: one writer; read it after the writer stopped (a join orders it).
// Progress: record() is wait-free, allocation-free, a few instructions.
//
// Layout. Values below 2^S (S = SubBucketBits) have a bucket each (exact). Above, every
// power-of-two range [2^k, 2^(k+1)) is cut into 2^(S-1) equal sub-buckets, so a bucket is
// never wider than 1/2^(S-1) of the values in it:
//
//   index  0 .. 2^S-1                        value = index                  (exact)
//   index  shift*2^(S-1) + sub, shift >= 1   values [sub << shift, (sub+1) << shift)
//          with sub in [2^(S-1), 2^S) and shift = bit_width(value) - S
//
// Invariants:
//   (H1) lowest_value(index_of(v)) <= v <= highest_value(index_of(v))
//   (H2) highest_value(i) - lowest_value(i) < lowest_value(i) / 2^(S-1) for i >= 2^S
//   (H3) sum of counts == count(); min() and max() are exact.
// A percentile is the nearest-rank value (the rank-th smallest sample, rank = ceil(p*n/100),
// at least 1), reported as the highest value of its bucket clamped to the exact max: never
// below the exact answer, at most 1/2^(S-1) above it (tested against sorted data).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "ringlab/platform.hpp"

namespace ringlab::bench {

/// The nearest-rank position of percentile `p` (0..100) among `n` samples, in [1, n].
/// Shared by the histogram and by the tests' exact computation, so both mean the same thing.
[[nodiscard]] inline std::uint64_t percentile_rank(double p, std::uint64_t n) noexcept {
    if (n == 0) return 0;
    // The epsilon keeps 99.9% of 1000 at rank 999 despite binary rounding of 99.9.
    const double exact = p / 100.0 * static_cast<double>(n) - 1e-9;
    const auto rank = exact <= 1.0 ? std::uint64_t{1} : static_cast<std::uint64_t>(std::ceil(exact));
    return std::min(rank, n);
}

// On lines of its own: a consumer records into it on every event, while the histogram sits
// in the frame of a thread that writes its own locals just as often.
template <unsigned SubBucketBits = 9>
class alignas(false_sharing_bytes) log_linear_histogram {
    static_assert(SubBucketBits >= 2 && SubBucketBits <= 16,
                  "Sub-bucket bits outside [2, 16] make either useless or huge histograms.");

public:
    static constexpr unsigned sub_bucket_bits = SubBucketBits;
    static constexpr std::uint64_t sub_bucket_count = std::uint64_t{1} << SubBucketBits;
    static constexpr std::uint64_t sub_bucket_half = sub_bucket_count / 2;
    /// Every u64 has an index: the exact range plus one half-range per remaining shift.
    static constexpr std::size_t index_count = sub_bucket_count + (64 - SubBucketBits) * sub_bucket_half;
    /// Power-of-two ranges covered, as HdrHistogram counts them (for the .hgrm footer).
    static constexpr std::size_t bucket_count = 64 - SubBucketBits + 1;

    log_linear_histogram() : counts_(index_count, 0) {}

    [[nodiscard]] static constexpr std::size_t index_of(std::uint64_t value) noexcept {
        if (value < sub_bucket_count) return static_cast<std::size_t>(value);
        const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - SubBucketBits;
        return static_cast<std::size_t>(shift * sub_bucket_half + (value >> shift));
    }
    [[nodiscard]] static constexpr std::uint64_t lowest_value(std::size_t index) noexcept {
        if (index < sub_bucket_count) return index;
        const std::uint64_t shift = index / sub_bucket_half - 1;
        return (index - shift * sub_bucket_half) << shift;
    }
    [[nodiscard]] static constexpr std::uint64_t highest_value(std::size_t index) noexcept {
        if (index < sub_bucket_count) return index;
        const std::uint64_t shift = index / sub_bucket_half - 1;
        // At the top index the shift carries out of 64 bits, and the wrap gives ~0: correct.
        return ((index - shift * sub_bucket_half + 1) << shift) - 1;
    }

    void record(std::uint64_t value) noexcept { record_n(value, 1); }

    void record_n(std::uint64_t value, std::uint64_t n) noexcept {
        if (n == 0) return;
        counts_[index_of(value)] += n;
        total_ += n;
        sum_ += static_cast<double>(value) * static_cast<double>(n);
        sum_squares_ += static_cast<double>(value) * static_cast<double>(value) * static_cast<double>(n);
        min_ = std::min(min_, value);
        max_ = std::max(max_, value);
    }

    void merge(const log_linear_histogram& other) noexcept {
        for (std::size_t i = 0; i < index_count; ++i) counts_[i] += other.counts_[i];
        total_ += other.total_;
        sum_ += other.sum_;
        sum_squares_ += other.sum_squares_;
        min_ = std::min(min_, other.min_);
        max_ = std::max(max_, other.max_);
    }

    void reset() noexcept { *this = log_linear_histogram(); }

    [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
    [[nodiscard]] std::uint64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
    [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
    [[nodiscard]] double mean() const noexcept {
        return total_ == 0 ? 0.0 : sum_ / static_cast<double>(total_);
    }
    [[nodiscard]] double stddev() const noexcept {
        if (total_ == 0) return 0.0;
        const double m = mean();
        const double variance = sum_squares_ / static_cast<double>(total_) - m * m;
        return variance > 0 ? std::sqrt(variance) : 0.0;
    }
    [[nodiscard]] std::uint64_t count_at_index(std::size_t index) const noexcept { return counts_[index]; }

    /// The nearest-rank value of percentile p in [0, 100] (0 when empty); see the header.
    [[nodiscard]] std::uint64_t value_at_percentile(double p) const noexcept {
        const std::uint64_t rank = percentile_rank(p, total_);
        if (rank == 0) return 0;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < index_count; ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(highest_value(i), max_);
        }
        return max_;
    }

    /// HdrHistogram's percentile distribution text (outputPercentileDistribution with
    /// `ticks_per_half_distance` reporting points per halving of the distance to 100%),
    /// values divided by `value_scale` (1000: nanoseconds recorded, microseconds written).
    void write_hgrm(std::FILE* out, double value_scale = 1000.0, int ticks_per_half_distance = 5) const {
        std::fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
        if (total_ != 0) write_hgrm_lines(out, value_scale, ticks_per_half_distance);
        std::fprintf(out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean() / value_scale,
                     stddev() / value_scale);
        std::fprintf(out, "#[Max     = %12.3f, Total count    = %12llu]\n",
                     static_cast<double>(max_) / value_scale, static_cast<unsigned long long>(total_));
        std::fprintf(out, "#[Buckets = %12zu, SubBuckets     = %12llu]\n", bucket_count,
                     static_cast<unsigned long long>(sub_bucket_count));
    }

private:
    // The tick sequence of HdrHistogram's PercentileIterator: 0, 10, ..., 50, 55, ..., 75,
    // 77.5, ...: `ticks` points per halving of the distance to 100%. One line per tick
    // reached, at the bucket where the cumulative count first reaches it; exactly one line
    // in the last occupied bucket, then a final line at 100%.
    void write_hgrm_lines(std::FILE* out, double value_scale, int ticks) const {
        double level = 0.0;
        std::uint64_t cumulative = 0;
        std::size_t last = 0;
        for (std::size_t i = 0; i < index_count && cumulative < total_; ++i) {
            if (counts_[i] == 0) continue;
            cumulative += counts_[i];
            last = i;
            const double reached = 100.0 * static_cast<double>(cumulative) / static_cast<double>(total_);
            while (reached >= level) {
                write_hgrm_line(out, i, level, cumulative, value_scale);
                const double half_distances = std::floor(std::log2(100.0 / (100.0 - level)));
                level += 100.0 / (ticks * std::pow(2.0, half_distances + 1));
                if (cumulative == total_) break;
            }
        }
        const double value = static_cast<double>(std::min(highest_value(last), max_)) / value_scale;
        std::fprintf(out, "%12.3f %2.12f %10llu\n", value, 1.0, static_cast<unsigned long long>(total_));
    }

    void write_hgrm_line(std::FILE* out, std::size_t index, double level, std::uint64_t cumulative,
                         double value_scale) const {
        const double value = static_cast<double>(std::min(highest_value(index), max_)) / value_scale;
        const double fraction = level / 100.0;
        std::fprintf(out, "%12.3f %2.12f %10llu %14.2f\n", value, fraction,
                     static_cast<unsigned long long>(cumulative), 1.0 / (1.0 - fraction));
    }

    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    double sum_ = 0;
    double sum_squares_ = 0;
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t max_ = 0;
};

/// The histogram every benchmark uses: buckets at most 1/256 (0.4%) wide.
using latency_histogram = log_linear_histogram<9>;

}  // namespace ringlab::bench

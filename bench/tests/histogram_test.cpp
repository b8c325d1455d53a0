// bench/tests/histogram_test.cpp: the log-linear histogram against exact answers.
//
// Percentiles are checked against the sorted samples with the same nearest-rank definition
// (percentile_rank): exact below 2^S, never below the exact value and at most one bucket
// width (1/2^(S-1) of the value) above it. The .hgrm output is parsed back.
#include "histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace ringlab::bench {
namespace {

using hist9 = log_linear_histogram<9>;

/// A fixed, heavy-tailed data set: mostly around a base, with rare outliers far out.
std::vector<std::uint64_t> heavy_tailed(std::size_t n, std::uint64_t seed) {
    std::vector<std::uint64_t> out;
    std::uint64_t x = seed;
    for (std::size_t i = 0; i < n; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        const std::uint64_t r = x >> 33;
        std::uint64_t v = 50 + r % 200;                        // the body: 50..249 ns
        if (r % 100 == 0) v = 1'000 + (r >> 7) % 100'000;      // 1%: microseconds
        if (r % 10'000 == 7) v = 1'000'000 + (r >> 5) % 50'000'000;  // 0.01%: milliseconds
        out.push_back(v);
    }
    return out;
}

void expect_percentiles_match(const std::vector<std::uint64_t>& data) {
    hist9 h;
    for (const std::uint64_t v : data) h.record(v);
    std::vector<std::uint64_t> sorted = data;
    std::sort(sorted.begin(), sorted.end());
    for (const double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.5, 99.9, 99.99, 99.999, 100.0}) {
        const std::uint64_t exact = sorted[percentile_rank(p, sorted.size()) - 1];
        const std::uint64_t got = h.value_at_percentile(p);
        SCOPED_TRACE("p" + std::to_string(p) + " exact " + std::to_string(exact));
        EXPECT_GE(got, exact);
        EXPECT_LE(got - exact, exact / hist9::sub_bucket_half);
        if (exact < hist9::sub_bucket_count) {
            EXPECT_EQ(got, exact);
        }
    }
    EXPECT_EQ(h.count(), data.size());
    EXPECT_EQ(h.min(), sorted.front());
    EXPECT_EQ(h.max(), sorted.back());
    EXPECT_EQ(h.value_at_percentile(100), sorted.back());
}

TEST(Histogram, IndexBoundsHoldEverywhere) {
    std::vector<std::uint64_t> probes = {0, 1, 255, 256, 511, 512, 513, 1023, 1024, 1025, ~std::uint64_t{0}};
    for (unsigned b = 1; b < 64; ++b) {
        const std::uint64_t p = std::uint64_t{1} << b;
        probes.insert(probes.end(), {p - 1, p, p + 1, p + p / 3});
    }
    for (const std::uint64_t v : probes) {
        const std::size_t i = hist9::index_of(v);
        SCOPED_TRACE(v);
        ASSERT_LT(i, hist9::index_count);
        EXPECT_LE(hist9::lowest_value(i), v);  // (H1)
        EXPECT_GE(hist9::highest_value(i), v);
        if (i >= hist9::sub_bucket_count) {  // (H2)
            EXPECT_LT(hist9::highest_value(i) - hist9::lowest_value(i),
                      hist9::lowest_value(i) / hist9::sub_bucket_half);
        }
    }
    EXPECT_EQ(hist9::index_of(~std::uint64_t{0}), hist9::index_count - 1);
    for (std::size_t i = 1; i < hist9::index_count; ++i) {
        ASSERT_EQ(hist9::lowest_value(i), hist9::highest_value(i - 1) + 1) << "buckets tile the u64 range at " << i;
    }
}

TEST(Histogram, UniformDataMatchesExactPercentiles) {
    std::vector<std::uint64_t> data;
    for (std::uint64_t v = 1; v <= 100'000; ++v) data.push_back(v);
    expect_percentiles_match(data);
    hist9 h;
    for (const std::uint64_t v : data) h.record(v);
    EXPECT_DOUBLE_EQ(h.mean(), 50'000.5);
}

TEST(Histogram, HeavyTailedDataMatchesExactPercentiles) {
    expect_percentiles_match(heavy_tailed(200'000, 1));
    expect_percentiles_match(heavy_tailed(12'345, 99));
}

TEST(Histogram, SmallValuesAreExact) {
    expect_percentiles_match({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5});
    hist9 empty;
    EXPECT_EQ(empty.value_at_percentile(50), 0u);
    EXPECT_EQ(empty.count(), 0u);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
    const std::vector<std::uint64_t> a = heavy_tailed(5'000, 3);
    const std::vector<std::uint64_t> b = heavy_tailed(7'000, 4);
    hist9 ha, hb, all;
    for (const std::uint64_t v : a) ha.record(v), all.record(v);
    for (const std::uint64_t v : b) hb.record(v), all.record(v);
    ha.merge(hb);
    for (std::size_t i = 0; i < hist9::index_count; ++i) ASSERT_EQ(ha.count_at_index(i), all.count_at_index(i));
    EXPECT_EQ(ha.max(), all.max());
    EXPECT_EQ(ha.min(), all.min());
}

TEST(Histogram, RecordNCountsEachOccurrence) {
    hist9 h;
    h.record_n(100, 99);
    h.record_n(10'000, 1);
    EXPECT_EQ(h.count(), 100u);
    EXPECT_EQ(h.value_at_percentile(99), 100u);
    EXPECT_EQ(h.value_at_percentile(99.5), 10'000u);
}

struct hgrm_line {
    double value;
    double percentile;
    unsigned long long count;
};

std::string hgrm_text(const hist9& h) {
    char* buffer = nullptr;
    std::size_t size = 0;
    std::FILE* f = open_memstream(&buffer, &size);
    h.write_hgrm(f, 1.0);  // scale 1: values printed as recorded
    std::fclose(f);
    std::string text(buffer, size);
    std::free(buffer);
    return text;
}

std::vector<hgrm_line> parse_hgrm(const std::string& text) {
    std::vector<hgrm_line> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        hgrm_line l{};
        if (std::sscanf(line.c_str(), "%lf %lf %llu", &l.value, &l.percentile, &l.count) == 3) lines.push_back(l);
    }
    return lines;
}

TEST(Histogram, HgrmFollowsHdrHistogramsPercentileFormat) {
    hist9 h;
    for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);  // exact buckets
    const std::string text = hgrm_text(h);
    EXPECT_EQ(text.rfind("       Value     Percentile TotalCount 1/(1-Percentile)\n\n", 0), 0u) << text;
    const std::vector<hgrm_line> lines = parse_hgrm(text);
    ASSERT_GE(lines.size(), 10u);
    // The ticks of HdrHistogram's percentile iterator (5 per half distance): 0, 0.1 .. 0.5, 0.55 ...
    const double ticks[] = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.775};
    for (std::size_t i = 0; i < std::size(ticks); ++i) {
        EXPECT_NEAR(lines[i].percentile, ticks[i], 1e-12) << "line " << i;
        // A tick is printed at the first value whose cumulative share reaches it.
        const double value = std::max(1.0, std::ceil(ticks[i] * 100 - 1e-9));
        EXPECT_NEAR(lines[i].value, value, 1e-9) << "line " << i;
        EXPECT_EQ(lines[i].count, static_cast<unsigned long long>(value));
    }
    EXPECT_DOUBLE_EQ(lines.back().percentile, 1.0);
    EXPECT_EQ(lines.back().count, 100u);
    EXPECT_DOUBLE_EQ(lines.back().value, 100.0);
    for (std::size_t i = 1; i < lines.size(); ++i) {
        EXPECT_GE(lines[i].value, lines[i - 1].value);
        EXPECT_GT(lines[i].percentile, lines[i - 1].percentile);
    }
    EXPECT_NE(text.find("#[Mean    =       50.500, StdDeviation   ="), std::string::npos) << text;
    EXPECT_NE(text.find("#[Max     =      100.000, Total count    =          100]"), std::string::npos) << text;
    EXPECT_NE(text.find("#[Buckets =           56, SubBuckets     =          512]"), std::string::npos) << text;
}

TEST(Histogram, HgrmOfOneValueHasAFirstAndALastLine) {
    hist9 h;
    h.record(42'000);
    const std::vector<hgrm_line> lines = parse_hgrm(hgrm_text(h));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_DOUBLE_EQ(lines[0].percentile, 0.0);
    EXPECT_DOUBLE_EQ(lines[1].percentile, 1.0);
    EXPECT_DOUBLE_EQ(lines[1].value, 42'000.0);  // the exact max, not its bucket's top
}

}  // namespace
}  // namespace ringlab::bench

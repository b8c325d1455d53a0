// scenarios/support/canary.hpp: a canary counts as caught only when the property fails on
// the check that the planted bug is meant to break.
//
// rc::check returns false for any failure: a give-up (too many cases discarded by RC_PRE),
// an exception from a stray cause, or a failure of some other assertion. Each of those
// would let a canary test pass with the property blind to its bug. caught() runs the
// property the same way, prints the same report, and says yes only for a failure whose
// description names an expected check. A bug may show through more than one check (a stage
// that runs ahead of its upstream lets the producer overwrite what the upstream still
// reads): each canary lists the ways its bug shows, and nothing else counts.
#pragma once

#include <initializer_list>
#include <iostream>
#include <string>
#include <string_view>

#include <rapidcheck.h>

#include "concurrent.hpp"

namespace ringlab::scenarios {

/// Fails the current case with the scenario's own finding, so that the failure report (and
/// caught()) carries what broke rather than "o.ok was false".
inline void require(const outcome& o) {
    if (!o.ok) RC_FAIL(o.message);
}

/// Fails the current case with `broken` unless it is empty.
inline void require_empty(const std::string& broken) {
    if (!broken.empty()) RC_FAIL(broken);
}

/// What a canary run ended in, for the test's message.
struct catch_report {
    bool caught = false;
    std::string why;  // the failure's description, or why the run does not count
    explicit operator bool() const { return caught; }
};

inline std::ostream& operator<<(std::ostream& os, const catch_report& r) { return os << r.why; }

/// How many searches of rc's default 100 cases a canary gets. Some planted bugs show only in
/// rare cases (one search misses the unbounded slip about once in 1,500 runs); every search
/// runs with the process's one seed, so search k first draws k values it throws away, to see
/// other cases. Further searches run only after a search passed or gave up.
inline constexpr int canary_searches = 8;

/// Runs `property` as rc::check(description, property) does, up to canary_searches times;
/// caught when a search fails (not gives up, not errs) with a description that contains one
/// of `expected`. A failure on another check ends the searches: it is not a catch.
template <class Property>
catch_report caught(const std::string& description, std::initializer_list<std::string_view> expected,
                    const Property& property) {
    std::string named;
    for (const std::string_view e : expected)
        named += (named.empty() ? "\"" : " or \"") + std::string(e) + "\"";
    rc::detail::configuration();  // prints the configuration before the description, as rc::check

    catch_report report;
    bool other_check = false;  // failed, but not on an expected check: no further search
    for (int search = 0; search < canary_searches; ++search) {
        std::cerr << "\n- " << description << ", search " << search + 1 << " (expecting a failure naming " << named
                  << ")\n";
        rc::detail::TestMetadata metadata;
        metadata.id = description;
        metadata.description = description;
        const rc::detail::TestResult result = rc::detail::checkTestable(
            [&property, search] {
                for (int i = 0; i < search; ++i) (void)*rc::gen::arbitrary<int>();
                property();
            },
            metadata);
        rc::detail::printResultMessage(result, std::cerr);
        std::cerr << "\n";

        rc::detail::FailureResult failure;
        if (!result.match(failure)) {
            report.why = result.is<rc::detail::SuccessResult>() ? "the property passed"
                                                                 : "the run gave up or erred; a failure was expected";
            continue;
        }
        for (const std::string_view e : expected)
            report.caught |= failure.description.find(e) != std::string::npos;
        other_check = !report.caught;
        report.why = (report.caught ? "caught: " : "failed on another check than " + named + ": ") + failure.description;
        break;
    }
    if (!report.caught && !other_check) {
        report.why += " in " + std::to_string(canary_searches) + " searches";
    }
    return report;
}

template <class Property>
catch_report caught(const std::string& description, std::string_view expected, const Property& property) {
    return caught(description, {expected}, property);
}

}  // namespace ringlab::scenarios

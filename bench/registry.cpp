// bench/registry.cpp: row names, registration and the row list the runner reads.
#include "registry.hpp"

#include <memory>

namespace ringlab::bench {
namespace {

struct registered_row {
    row_spec spec;
    std::string name;
    std::string benchmark;  // the name Google Benchmark reports (with its time-mode suffix)
};

std::vector<registered_row>& rows() {
    static std::vector<registered_row> all;
    return all;
}

std::string compact(std::uint64_t v) {
    if (v >= 1'000'000 && v % 1'000'000 == 0) return std::to_string(v / 1'000'000) + "M";
    if (v >= 1'000 && v % 1'000 == 0) return std::to_string(v / 1'000) + "k";
    return std::to_string(v);
}

void write_json_string(std::ostream& out, const std::string& s) {
    out << '"';
    for (const char c : s) {
        if (c == '"' || c == '\\') out << '\\';
        out << c;
    }
    out << '"';
}

}  // namespace

const char* to_string(row_kind kind) noexcept {
    switch (kind) {
    case row_kind::throughput: return "throughput";
    case row_kind::round_trip: return "round_trip";
    case row_kind::round_trip_dist: return "round_trip_dist";
    case row_kind::one_way: return "one_way";
    case row_kind::idle: return "idle";
    case row_kind::floor: return "floor";
    }
    return "?";
}

std::string row_name(const row_spec& spec) {
    std::string name = std::string(to_string(spec.kind)) + "/" + spec.pattern;
    if (!spec.wait.empty()) name += "/" + spec.wait;
    for (const knob& k : spec.knobs) name += "/" + k.name + "_" + compact(k.value);
    return name;
}

benchmark::internal::Benchmark* add_row(const row_spec& spec, std::function<void(benchmark::State&)> fn) {
    const std::string name = row_name(spec);
    auto* b = benchmark::RegisterBenchmark(name.c_str(), [fn = std::move(fn)](benchmark::State& s) { fn(s); });
    std::string suffix;
    if (spec.kind == row_kind::throughput) {
        b->UseManualTime();
        suffix = "/manual_time";
    } else {
        b->UseRealTime();
        suffix = "/real_time";
    }
    rows().push_back({spec, name, name + suffix});
    return b;
}

void write_rows_json(std::ostream& out) {
    out << "[\n";
    for (std::size_t i = 0; i < rows().size(); ++i) {
        const registered_row& r = rows()[i];
        out << (i ? ",\n" : "") << " {\"name\": ";
        write_json_string(out, r.name);
        out << ", \"benchmark\": ";
        write_json_string(out, r.benchmark);
        out << ", \"kind\": \"" << to_string(r.spec.kind) << "\", \"pattern\": ";
        write_json_string(out, r.spec.pattern);
        out << ", \"wait\": ";
        write_json_string(out, r.spec.wait);
        out << ", \"group\": ";
        write_json_string(out, r.spec.group);
        out << ", \"peer\": " << (r.spec.peer ? "true" : "false") << ", \"threads\": " << r.spec.threads
            << ", \"bytes_per_event\": " << r.spec.bytes_per_event
            << ", \"full_only\": " << (r.spec.full_only ? "true" : "false") << ", \"knobs\": {";
        for (std::size_t k = 0; k < r.spec.knobs.size(); ++k) {
            out << (k ? ", " : "");
            write_json_string(out, r.spec.knobs[k].name);
            out << ": " << r.spec.knobs[k].value;
        }
        out << "}}";
    }
    out << "\n]\n";
}

}  // namespace ringlab::bench

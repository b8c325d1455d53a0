// lib/tools/journal_dump.cpp: `journal-dump FILE [--json]` (scripts/ringlab journal dump).
//
// Prints a journal file's region header, its segment table and, slot by slot, every record
// header from the start of the slot to where the slot's records end: committed records
// (with the first bytes of their payload), padding, aborted records, a reservation a
// publisher left uncommitted, and why the walk stopped (a zero or stale header, a length
// past the segment). It maps the file read-only and never changes it; a live publisher may
// go on appending meanwhile (the dump is then a snapshot that may be torn at the live end).
//
// Exit: 0 dumped, 1 the file is not a journal or is damaged (the error says how), 2 usage.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ringlab/journal.hpp"

namespace {

namespace layout = ringlab::journal_layout;
using journal_t = ringlab::journal<>;

struct record_line {
    std::uint64_t offset = 0;
    std::uint64_t header = 0;
    std::string kind;  // record, padding, aborted, reservation, end, stale, corrupt
    std::uint64_t length = 0;
    std::uint64_t record = 0;
    std::string preview;  // hex of the first bytes of a record's payload
};

struct slot_dump {
    std::uint64_t index = 0;
    std::uint64_t lap_word = 0;
    std::uint64_t first_record = 0;
    bool used = false;
    std::uint64_t segment = 0;
    std::vector<record_line> lines;
};

std::string hex(const unsigned char* bytes, std::size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 15];
    }
    return out;
}

slot_dump walk(const journal_t& j, std::uint64_t index) {
    slot_dump d;
    d.index = index;
    const auto info = j.slot(index);
    d.lap_word = info.lap_word;
    d.first_record = info.first_record;
    d.used = info.lap_word != 0 && info.lap_word % 2 == 0;
    if (!d.used) return d;
    d.segment = info.lap_word / 2 - 1;
    std::uint64_t record = info.first_record;
    for (std::uint64_t offset = 0; offset < j.segment_length();) {
        record_line line;
        line.offset = offset;
        line.header = j.raw_header(index, offset);
        line.length = layout::header_length_of(line.header);
        const std::uint64_t end = offset + layout::record_length(line.length);
        if (line.header == 0) {
            line.kind = "end";
        } else if (layout::header_tag_of(line.header) != layout::tag_of(d.segment)) {
            line.kind = "stale";
        } else if (end > j.segment_length()) {
            line.kind = "corrupt";
        } else if ((line.header & layout::flag_committed) == 0) {
            line.kind = "reservation";
        } else if ((line.header & layout::flag_padding) != 0) {
            line.kind = "padding";
        } else if ((line.header & layout::flag_aborted) != 0) {
            line.kind = "aborted";
        } else {
            line.kind = "record";
            line.record = record++;
            unsigned char first[16] = {};
            const std::size_t n = line.length < sizeof first ? line.length : sizeof first;
            j.raw_payload(index, offset + layout::record_header_length, first, n);
            line.preview = hex(first, n);
        }
        const bool stop = line.kind == "end" || line.kind == "stale" || line.kind == "corrupt" ||
                          line.kind == "reservation" || line.kind == "padding";
        d.lines.push_back(line);
        if (stop) break;
        offset = end;
    }
    return d;
}

std::string flags_of(std::uint64_t header) {
    std::string out;
    auto add = [&](std::uint64_t bit, const char* name) {
        if ((header & bit) == 0) return;
        if (!out.empty()) out += "|";
        out += name;
    };
    add(layout::flag_committed, "committed");
    add(layout::flag_padding, "padding");
    add(layout::flag_aborted, "aborted");
    if ((header & layout::flags_mask & ~layout::known_flags) != 0)
        out += out.empty() ? "unknown" : "|unknown";
    return out.empty() ? "-" : out;
}

void print_text(const char* path, const journal_t& j, const std::vector<slot_dump>& slots) {
    std::printf("journal %s\n", path);
    std::printf(
        "  version %u, segment_length %llu, segment_count %llu, total_length %zu, published_position %llu\n",
        layout::version, static_cast<unsigned long long>(j.segment_length()),
        static_cast<unsigned long long>(j.segment_count()), j.region_bytes(),
        static_cast<unsigned long long>(j.published_position()));
    for (const slot_dump& d : slots) {
        if (!d.used) {
            std::printf("slot %llu: %s (lap word %llu)\n", static_cast<unsigned long long>(d.index),
                        d.lap_word == 0 ? "never used" : "being taken over",
                        static_cast<unsigned long long>(d.lap_word));
            continue;
        }
        std::printf("slot %llu: segment %llu (positions %llu..%llu), first_record %llu\n",
                    static_cast<unsigned long long>(d.index), static_cast<unsigned long long>(d.segment),
                    static_cast<unsigned long long>(d.segment * j.segment_length()),
                    static_cast<unsigned long long>((d.segment + 1) * j.segment_length()),
                    static_cast<unsigned long long>(d.first_record));
        for (const record_line& l : d.lines) {
            const auto position = static_cast<unsigned long long>(d.segment * j.segment_length() + l.offset);
            if (l.kind == "record") {
                std::printf("  @%-10llu record #%llu  length %llu  flags %s  payload %s%s\n", position,
                            static_cast<unsigned long long>(l.record),
                            static_cast<unsigned long long>(l.length), flags_of(l.header).c_str(),
                            l.preview.c_str(), l.length > 16 ? "..." : "");
            } else if (l.kind == "end" || l.kind == "stale") {
                std::printf("  @%-10llu %s (header 0x%016llx)\n", position, l.kind.c_str(),
                            static_cast<unsigned long long>(l.header));
            } else {
                std::printf("  @%-10llu %s  length %llu  flags %s\n", position, l.kind.c_str(),
                            static_cast<unsigned long long>(l.length), flags_of(l.header).c_str());
            }
        }
    }
}

void print_json(const char* path, const journal_t& j, const std::vector<slot_dump>& slots) {
    std::string p;
    for (const char* c = path; *c != '\0'; ++c) {
        if (*c == '"' || *c == '\\') p += '\\';
        if (static_cast<unsigned char>(*c) >= 0x20) p += *c;
    }
    std::printf(
        "{\"file\":\"%s\",\"magic\":\"RLJOURN1\",\"version\":%u,\"segment_length\":%llu,\"segment_count\":%"
        "llu,"
        "\"total_length\":%zu,\"published_position\":%llu,\"slots\":[",
        p.c_str(), layout::version, static_cast<unsigned long long>(j.segment_length()),
        static_cast<unsigned long long>(j.segment_count()), j.region_bytes(),
        static_cast<unsigned long long>(j.published_position()));
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const slot_dump& d = slots[i];
        std::printf("%s{\"index\":%llu,\"lap_word\":%llu,\"first_record\":%llu", i == 0 ? "" : ",",
                    static_cast<unsigned long long>(d.index), static_cast<unsigned long long>(d.lap_word),
                    static_cast<unsigned long long>(d.first_record));
        if (d.used) std::printf(",\"segment\":%llu", static_cast<unsigned long long>(d.segment));
        std::printf(",\"records\":[");
        for (std::size_t k = 0; k < d.lines.size(); ++k) {
            const record_line& l = d.lines[k];
            std::printf(
                "%s{\"position\":%llu,\"kind\":\"%s\",\"header\":%llu,\"length\":%llu,\"flags\":\"%s\"",
                k == 0 ? "" : ",", static_cast<unsigned long long>(d.segment * j.segment_length() + l.offset),
                l.kind.c_str(), static_cast<unsigned long long>(l.header),
                static_cast<unsigned long long>(l.length), flags_of(l.header).c_str());
            if (l.kind == "record") {
                std::printf(",\"record\":%llu,\"payload_hex\":\"%s\"",
                            static_cast<unsigned long long>(l.record), l.preview.c_str());
            }
            std::printf("}");
        }
        std::printf("]}");
    }
    std::printf("]}\n");
}

}  // namespace

int main(int argc, char** argv) {
    const char* path = nullptr;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (path == nullptr && argv[i][0] != '-') {
            path = argv[i];
        } else {
            path = nullptr;
            break;
        }
    }
    if (path == nullptr) {
        std::fprintf(stderr, "usage: journal-dump FILE [--json]\n");
        return 2;
    }
    try {
        const auto j = journal_t::open_file(path, ringlab::journal_open::read_only);
        std::vector<slot_dump> slots;
        for (std::uint64_t i = 0; i < j->segment_count(); ++i) slots.push_back(walk(*j, i));
        if (json) {
            print_json(path, *j, slots);
        } else {
            print_text(path, *j, slots);
        }
    } catch (const ringlab::journal_error& e) {
        std::fprintf(stderr, "%s: %s\n", path, e.what());
        return 1;
    }
    return 0;
}

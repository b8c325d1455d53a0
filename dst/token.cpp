// dst/token.cpp: replay token encoding.
#include "dst/token.hpp"

#include <cctype>
#include <cstdio>

namespace ringlab::dst {

namespace {
constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}

bool get_varint(const std::vector<std::uint8_t>& in, std::size_t& pos, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && pos < in.size(); shift += 7) {
        const std::uint8_t byte = in[pos++];
        v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

std::string to_base64(const std::vector<std::uint8_t>& bytes) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const std::uint8_t b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(b64[(acc >> bits) & 63]);
        }
    }
    if (bits > 0) out.push_back(b64[(acc << (6 - bits)) & 63]);
    return out;
}

bool from_base64(const std::string& text, std::vector<std::uint8_t>& out) {
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        const char* p = std::char_traits<char>::find(b64, 64, c);
        if (p == nullptr) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
        }
    }
    return true;
}

std::string hex16(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto pos = text.find(sep, start);
        parts.push_back(text.substr(start, pos - start));
        if (pos == std::string::npos) return parts;
        start = pos + 1;
    }
}

std::optional<std::uint64_t> parse_hex(const std::string& text) {
    if (text.empty() || text.size() > 16) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : text) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        v = v * 16 + static_cast<std::uint64_t>(std::isdigit(static_cast<unsigned char>(c))
                                                    ? c - '0'
                                                    : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    }
    return v;
}
}  // namespace

std::optional<std::uint64_t> parse_seed(const std::string& text) {
    if (text.size() == 40) {  // a commit id: fold the 160 bits into 64
        std::uint64_t folded = 0;
        for (std::size_t i = 0; i < 40; i += 16) {
            const auto part = parse_hex(text.substr(i, std::min<std::size_t>(16, 40 - i)));
            if (!part) return std::nullopt;
            folded ^= *part * 0x9E3779B97F4A7C15ULL + i;
        }
        return folded;
    }
    if (text.rfind("0x", 0) == 0) return parse_hex(text.substr(2));
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        const std::uint64_t next = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (next / 10 != v) return std::nullopt;
        v = next;
    }
    return v;
}

std::string encode(const replay_token& t) {
    std::string out = t.workload + "~" + to_string(t.strategy);
    if (t.strategy != strategy_kind::random_walk) out += std::to_string(t.strategy_param);
    out += "~" + hex16(t.seed);
    if (!t.canary.empty()) out += "~c" + t.canary;
    if (!t.mutant.empty()) out += "~m" + t.mutant;
    if (t.schedule) {
        std::vector<std::uint8_t> bytes;
        std::uint64_t prev = 0;
        for (const auto& e : *t.schedule) {
            put_varint(bytes, e.decision - prev);
            put_varint(bytes, e.thread);
            prev = e.decision;
        }
        out += "~s" + to_base64(bytes);
    }
    if (t.trace_hash) out += "~h" + hex16(*t.trace_hash);
    out += "~v" + std::to_string(token_format);
    return out;
}

std::optional<replay_token> decode(const std::string& text, std::string& error) {
    const auto parts = split(text, '~');
    if (parts.size() < 3) {
        error = "a token has at least <workload>~<strategy>~<seed>";
        return std::nullopt;
    }
    replay_token t;
    t.workload = parts[0];
    const std::string& st = parts[1];
    std::string digits;
    if (st == "random") {
        t.strategy = strategy_kind::random_walk;
    } else if (st.rfind("pct", 0) == 0) {
        t.strategy = strategy_kind::pct;
        digits = st.substr(3);
    } else if (st.rfind("pb", 0) == 0) {
        t.strategy = strategy_kind::preemption_bound;
        digits = st.substr(2);
    } else {
        error = "unknown strategy '" + st + "' (random, pct<d>, pb<k>)";
        return std::nullopt;
    }
    if (t.strategy != strategy_kind::random_walk) {
        const auto param = parse_seed(digits);
        if (!param || *param == 0 || *param > 64) {
            error = "bad strategy parameter in '" + st + "'";
            return std::nullopt;
        }
        t.strategy_param = static_cast<std::uint32_t>(*param);
    }
    const auto seed = parse_hex(parts[2]);
    if (!seed) {
        error = "bad seed '" + parts[2] + "' (16 hex digits)";
        return std::nullopt;
    }
    t.seed = *seed;
    for (std::size_t i = 3; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p.empty()) continue;
        const std::string body = p.substr(1);
        switch (p[0]) {
        case 'c': t.canary = body; break;
        case 'm': t.mutant = body; break;
        case 'v': {
            const auto format = body.empty() || body[0] == '0' ? std::nullopt : parse_seed(body);
            if (!format) {
                error = "bad token format '" + body + "' (a decimal number)";
                return std::nullopt;
            }
            if (*format > token_format) {
                error = "the token is format " + body + "; this build reads format " +
                        std::to_string(token_format) + " and older: replay it with the build that printed it";
                return std::nullopt;
            }
            break;
        }
        case 'h': {
            const auto h = parse_hex(body);
            if (!h) {
                error = "bad trace hash '" + body + "'";
                return std::nullopt;
            }
            t.trace_hash = *h;
            break;
        }
        case 's': {
            std::vector<std::uint8_t> bytes;
            if (!from_base64(body, bytes)) {
                error = "bad schedule encoding";
                return std::nullopt;
            }
            std::vector<schedule_entry> schedule;
            std::size_t pos = 0;
            std::uint64_t decision = 0;
            while (pos < bytes.size()) {
                std::uint64_t delta = 0;
                std::uint64_t thread = 0;
                if (!get_varint(bytes, pos, delta) || !get_varint(bytes, pos, thread)) {
                    // base64 may carry up to 7 bits of zero padding: one trailing zero byte
                    if (pos >= bytes.size()) break;
                    error = "truncated schedule";
                    return std::nullopt;
                }
                decision += delta;
                schedule.push_back({decision, static_cast<std::uint32_t>(thread)});
            }
            t.schedule = std::move(schedule);
            break;
        }
        default:
            error = "unknown token field '" + p + "'";
            return std::nullopt;
        }
    }
    return t;
}

}  // namespace ringlab::dst

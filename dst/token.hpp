// dst/token.hpp: the replay token, one printable string that reproduces a run bit-exactly.
//
//   <workload>~<strategy>~<seed, 16 hex>[~c<canary>][~m<mutant>][~s<schedule>][~h<trace hash>]~v<format>
//
// The format number says how the token is written; a token without one is format 1 (the
// tokens printed before the field existed), and a token of a later format is refused with
// a message that names both, never read as something else.
// strategy is `random`, `pct<depth>` or `pb<bound>`; the schedule (present for shrunk
// failures) lists the switches as varint (decision delta, thread) pairs in base64url (a
// decision is one choice of who runs, schedule_entry); the hash
// lets replay check that it saw the same run. The alphabet needs no shell quoting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dst/scheduler.hpp"

namespace ringlab::dst {

/// The token format this build writes and reads.
inline constexpr std::uint32_t token_format = 1;

struct replay_token {
    std::string workload;
    strategy_kind strategy = strategy_kind::random_walk;
    std::uint32_t strategy_param = 0;  // pct depth or preemption bound
    std::uint64_t seed = 0;
    std::string canary;
    std::string mutant;
    std::optional<std::vector<schedule_entry>> schedule;
    std::optional<std::uint64_t> trace_hash;
};

[[nodiscard]] std::string encode(const replay_token& token);
/// Parses a token; std::nullopt with `error` set when it is malformed.
[[nodiscard]] std::optional<replay_token> decode(const std::string& text, std::string& error);
/// Parses a seed: decimal, 0x-hex, or a 40-hex commit id (folded to 64 bits).
[[nodiscard]] std::optional<std::uint64_t> parse_seed(const std::string& text);

}  // namespace ringlab::dst

// dst/runner.cpp: seeds in, verdicts and replay commands out.
#include "dst/runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "ringlab/sync/model_control.hpp"

namespace ringlab::dst {

namespace {
std::vector<workload_spec>& registry() {
    static std::vector<workload_spec> all;
    return all;
}

std::string strategy_label(strategy_kind k, std::uint32_t param) {
    std::string s = to_string(k);
    if (k != strategy_kind::random_walk) s += std::to_string(param);
    return s;
}

char crash_line[4096];
std::size_t crash_line_length = 0;

void on_crash_signal(int sig) {
    const char head[] = "\nCRASH (signal) inside a DST run. Replay it with:\n  scripts/ringlab dst replay ";
    ssize_t ignored = write(STDERR_FILENO, head, sizeof head - 1);
    ignored = write(STDERR_FILENO, crash_line, crash_line_length);
    ignored = write(STDERR_FILENO, "\n", 1);
    (void)ignored;
    (void)sig;
    _exit(exit_code(verdict::crash));
}

bool same_failure(const run_result& a, const run_result& b) {
    return a.kind == b.kind && a.message == b.message;
}
}  // namespace

const std::vector<workload_spec>& workloads() { return registry(); }

const workload_spec* find_workload(const std::string& name) {
    for (const auto& w : registry()) {
        if (name == w.name) return &w;
    }
    return nullptr;
}

register_workload::register_workload(workload_spec spec) { registry().push_back(std::move(spec)); }

std::optional<strategy_choice> parse_strategy_choice(const std::string& text) {
    strategy_choice c;
    if (text == "portfolio") return c;
    c.portfolio = false;
    if (text == "random") {
        c.kind = strategy_kind::random_walk;
        return c;
    }
    std::string digits;
    if (text.rfind("pct", 0) == 0) {
        c.kind = strategy_kind::pct;
        digits = text.substr(3);
        c.param = 3;
    } else if (text.rfind("pb", 0) == 0) {
        c.kind = strategy_kind::preemption_bound;
        digits = text.substr(2);
        c.param = 2;
    } else {
        return std::nullopt;
    }
    if (!digits.empty()) {
        const auto v = parse_seed(digits);
        if (!v || *v == 0 || *v > 64) return std::nullopt;
        c.param = static_cast<std::uint32_t>(*v);
    }
    return c;
}

void assign_strategy(run_request& request, const strategy_choice& choice) {
    if (!choice.portfolio) {
        request.strategy = choice.kind;
        request.param = choice.param;
        return;
    }
    static constexpr struct {
        strategy_kind kind;
        std::uint32_t param;
    } rotation[] = {{strategy_kind::random_walk, 0},
                    {strategy_kind::pct, 3},
                    {strategy_kind::preemption_bound, 2},
                    {strategy_kind::pct, 2}};
    const auto& pick = rotation[request.seed % std::size(rotation)];
    request.strategy = pick.kind;
    request.param = pick.param;
}

replay_token token_of(const run_request& r) {
    replay_token t;
    t.workload = r.workload->name;
    t.strategy = r.strategy;
    t.strategy_param = r.param;
    t.seed = r.seed;
    t.canary = r.canary;
    t.mutant = r.mutant;
    if (!r.mutant.empty() && r.side == sync::weaken_side::keep_release) t.mutant += ":release";
    t.schedule = r.forced;
    return t;
}

run_request request_of(const replay_token& t, std::string& error) {
    run_request r;
    r.workload = find_workload(t.workload);
    if (r.workload == nullptr) error = "unknown workload '" + t.workload + "' (see: dst list)";
    r.seed = t.seed;
    r.strategy = t.strategy;
    r.param = t.strategy_param;
    r.canary = t.canary;
    r.mutant = t.mutant;
    const auto colon = r.mutant.find(':');
    if (colon != std::string::npos) {
        r.side = r.mutant.substr(colon + 1) == "release" ? sync::weaken_side::keep_release
                                                         : sync::weaken_side::keep_acquire;
        r.mutant.resize(colon);
    }
    r.forced = t.schedule;
    return r;
}

run_result execute(const run_request& r) {
    run_options o;
    o.seed = r.seed;
    o.strategy = r.strategy;
    o.pct_depth = r.strategy == strategy_kind::pct ? r.param : 3;
    o.preemption_bound = r.strategy == strategy_kind::preemption_bound ? r.param : 2;
    o.max_steps = r.workload->max_steps;
    o.record_trace = r.record_trace;
    o.forced = r.forced;
    sync::model_control::set_canary(r.canary.empty() ? nullptr : r.canary.c_str());
    sync::model_control::set_mutant(r.mutant.empty() ? nullptr : r.mutant.c_str(), r.side);
    const std::string token = encode(token_of(r));
    set_crash_token(token);
    run_result result = run_once(r.workload->body, o);
    sync::model_control::set_canary(nullptr);
    sync::model_control::set_mutant(nullptr);
    return result;
}

failure_report investigate(const run_request& request, run_result result, bool shrink) {
    failure_report rep;
    rep.request = request;
    rep.switches_before = result.schedule.size();
    replay_token tok = token_of(request);
    tok.trace_hash = result.trace_hash;
    rep.token = encode(tok);

    // Self-check: the same seed must give the same run.
    const run_result again = execute(request);
    rep.replay_matches = again.trace_hash == result.trace_hash && same_failure(again, result);

    std::vector<schedule_entry> schedule = request.forced ? *request.forced : result.schedule;
    if (shrink) {
        // Delta debugging over the switches: drop chunks while the same failure remains.
        run_request probe = request;
        std::size_t budget = 400;
        for (std::size_t chunk = schedule.size() / 2; chunk >= 1 && budget > 0; chunk /= 2) {
            for (std::size_t i = 0; i < schedule.size() && budget > 0;) {
                std::vector<schedule_entry> candidate(schedule.begin(), schedule.begin() + static_cast<long>(i));
                const std::size_t end = std::min(schedule.size(), i + chunk);
                candidate.insert(candidate.end(), schedule.begin() + static_cast<long>(end), schedule.end());
                probe.forced = candidate;
                --budget;
                if (same_failure(execute(probe), result)) {
                    schedule = std::move(candidate);
                } else {
                    i += chunk;
                }
            }
        }
    }
    run_request minimal = request;
    minimal.forced = schedule;
    const run_result shrunk = execute(minimal);
    replay_token stok = token_of(minimal);
    stok.trace_hash = shrunk.trace_hash;
    rep.shrunk_token = encode(stok);
    rep.switches_after = schedule.size();
    rep.replay_matches = rep.replay_matches && same_failure(shrunk, result) &&
                         execute(minimal).trace_hash == shrunk.trace_hash;
    rep.result = std::move(result);
    return rep;
}

void print_seed_header(const run_request& r) {
    std::printf("SEED=0x%016llx workload=%s strategy=%s", static_cast<unsigned long long>(r.seed),
                r.workload->name, strategy_label(r.strategy, r.param).c_str());
    if (!r.canary.empty()) std::printf(" canary=%s", r.canary.c_str());
    if (!r.mutant.empty()) std::printf(" mutant=%s", r.mutant.c_str());
    if (r.forced) std::printf(" schedule=%zu switches", r.forced->size());
    std::printf("\n");
}

void print_knobs(const run_result& result) {
    std::printf("  knobs:");
    for (const auto& k : result.knobs) std::printf(" %s", k.c_str());
    std::printf("\n  faults:");
    if (result.faults.empty()) std::printf(" none");
    for (const auto& f : result.faults) std::printf(" %s", f.c_str());
    std::printf("\n  threads:");
    for (std::size_t i = 0; i < result.thread_names.size(); ++i) {
        std::printf(" %zu=%s", i + 1, result.thread_names[i].c_str());
    }
    std::printf("\n");
}

void print_failure(const failure_report& rep) {
    const run_result& r = rep.result;
    print_seed_header(rep.request);
    print_knobs(r);
    std::printf("FAIL %s at step %llu (virtual time %llu ns): %s\n", to_string(r.kind),
                static_cast<unsigned long long>(r.steps),
                static_cast<unsigned long long>(r.virtual_ns), r.message.c_str());
    if (!r.where.empty()) std::printf("  at %s\n", r.where.c_str());
    std::printf("  replay: scripts/ringlab dst replay %s\n", rep.token.c_str());
    std::printf("  shrunk: scripts/ringlab dst replay %s   (switches %zu -> %zu)\n",
                rep.shrunk_token.c_str(), rep.switches_before, rep.switches_after);
    if (rep.replay_matches) {
        std::printf("  self-check: both replays reproduce the failure with the same trace hash\n");
    } else {
        std::printf("  SELF-CHECK FAILED: a replay differs from the original run: the workload "
                    "is nondeterministic, which is a bug to fix\n");
    }
    std::fflush(stdout);
}

bool write_trace(const run_result& result, const std::string& path) {
    std::ofstream out(path);
    if (!out) return false;
    static const char* const op_names[] = {"load", "store", "rmw", "cas_fail", "fence",
                                           "cell_read", "cell_write", "futex_wait", "futex_wake",
                                           "pause", "yield", "now", "sleep"};
    out << "# step thread op label object value file:line\n";
    for (const auto& s : result.trace) {
        const std::string thread =
            s.thread >= 1 && s.thread <= result.thread_names.size() ? result.thread_names[s.thread - 1] : "main";
        out << s.step << ' ' << thread << ' ' << op_names[static_cast<int>(s.op)] << ' ' << s.label
            << " #" << s.object << ' ' << s.value << ' ' << s.file << ':' << s.line << '\n';
    }
    out << "# verdict " << to_string(result.kind) << ": " << result.message << '\n';
    return static_cast<bool>(out);
}

void set_crash_token(const std::string& token) {
    crash_line_length = std::min(token.size(), sizeof crash_line);
    std::memcpy(crash_line, token.data(), crash_line_length);
}

void install_crash_handler() {
    static char alt_stack[64 * 1024];
    stack_t ss{};
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof alt_stack;
    sigaltstack(&ss, nullptr);
    struct sigaction sa{};
    sa.sa_handler = on_crash_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &sa, nullptr);
}

}  // namespace ringlab::dst

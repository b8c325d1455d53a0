#!/usr/bin/python3
"""model-checks/mutants_test.py: the mutation runner's own checks (standard library only).

The runner is a gate, so it must be able to fail: these tests feed it sources and results
with a planted problem (an unjustified survivor, a stale justification, a duplicated label,
an atomic outside the seam, a site in an unknown call) and expect it to object.
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutants  # noqa: E402  (the path above must come first)

HEADER = """\
// at("in.a.comment", mo::release) is no site
template <class Sync>
class thing {
    void a() { x_.store(1, at("thing.A1.store", mo::release)); }
    int b() const { return x_.load(at("thing.A1a.load", mo::acquire)); }
    void c() {
        // mo-justified: the reason
        // goes on here.
        y_.fetch_add(1, at("thing.C.add", mo::acq_rel));
    }
    bool d(int& e) {
        // mo-justified(to release): only the release half is not needed.
        return y_.compare_exchange_weak(e, 2,
                                        at("thing.D.cas", mo::acq_rel));
    }
    void f() { Sync::asymmetric_fence_light(at("thing.F.light", mo::seq_cst)); }
    int g() { return x_.load(at("thing.G.sc", mo::seq_cst)); }  // mo-justified: on the line
    void h() { x_.store(2, at("thing.H.sc", mo::seq_cst)); }
    void i() { Sync::fence(at("thing.I.fence", mo::release)); }
    void j() { y_.fetch_or(1, at("thing.J.relaxed", mo::relaxed)); }
    void k() { x_.store(3, at("thing.K.str", mo::release)); const char* s = "at(\\"no\\", mo::relaxed)"; }
    std::uint64_t n = 50'000 + 0xFF'FF + sizeof('a');
    void l() { x_.store(4, at("thing.L.after_separators", mo::relaxed)); }
};
"""


def parse(text, rel="lib/include/ringlab/thing.hpp"):
    findings = []
    sites = mutants.parse_sites(rel, text, findings)
    return {s.label: s for s in sites}, findings


class ParseTest(unittest.TestCase):
    def test_kinds_orders_and_lines(self):
        sites, findings = parse(HEADER)
        self.assertEqual(findings, [])
        self.assertNotIn("in.a.comment", sites)
        self.assertNotIn("no", sites)
        expect = {
            "thing.A1.store": ("store", "release", 4),
            "thing.A1a.load": ("load", "acquire", 5),
            "thing.C.add": ("rmw", "acq_rel", 9),
            "thing.D.cas": ("rmw", "acq_rel", 14),
            "thing.F.light": ("fence", "seq_cst", 16),
            "thing.G.sc": ("load", "seq_cst", 17),
            "thing.H.sc": ("store", "seq_cst", 18),
            "thing.I.fence": ("fence", "release", 19),
            "thing.J.relaxed": ("rmw", "relaxed", 20),
            "thing.K.str": ("store", "release", 21),
            "thing.L.after_separators": ("store", "relaxed", 23),
        }
        self.assertEqual({k: (s.kind, s.order, s.line) for k, s in sites.items()}, expect)
        self.assertEqual(sites["thing.D.cas"].call_line, 13)

    def test_a_detail_file_counts_for_its_primitive(self):
        self.assertEqual(mutants.primitive_of("lib/include/ringlab/journal.hpp"), "journal")
        self.assertEqual(mutants.primitive_of("lib/include/ringlab/detail/journal_read.hpp"), "journal")
        self.assertEqual(mutants.primitive_of("lib/include/ringlab/detail/router_route.hpp"), "router")
        self.assertEqual(mutants.primitive_of("lib/include/ringlab/detail/slip.hpp"), "slip")

    def test_a_site_moved_into_a_detail_file_is_not_new(self):
        moved, _ = parse(HEADER, "lib/include/ringlab/detail/journal_read.hpp")
        before, _ = parse(HEADER, "lib/include/ringlab/journal.hpp")
        self.assertEqual(moved["thing.A1.store"].key, before["thing.A1.store"].key)
        elsewhere, _ = parse(HEADER, "lib/include/ringlab/router.hpp")
        self.assertNotEqual(elsewhere["thing.A1.store"].key, before["thing.A1.store"].key)
        weakened, _ = parse(HEADER.replace('"thing.A1.store", mo::release', '"thing.A1.store", mo::relaxed'),
                            "lib/include/ringlab/journal.hpp")
        self.assertNotEqual(weakened["thing.A1.store"].key, before["thing.A1.store"].key)

    def test_justifications(self):
        sites, _ = parse(HEADER)
        self.assertEqual(sites["thing.C.add"].justifications, {"": "the reason goes on here."})
        self.assertEqual(sites["thing.D.cas"].justifications, {"release": "only the release half is not needed."})
        self.assertEqual(sites["thing.G.sc"].justifications, {"": "on the line"})
        self.assertEqual(sites["thing.A1.store"].justifications, {})
        self.assertEqual(sites["thing.H.sc"].justifications, {})

    def test_unknown_call_and_unparsed_site(self):
        _, findings = parse('void f() { auto s = at("x.y", mo::release); g(at(label, mo::acquire)); }')
        kinds = sorted(f.kind for f in findings)
        self.assertEqual(kinds, ["unknown call", "unparsed site"])

    def test_strip_comments_keeps_lines(self):
        text = 'a /* x\n y */ b // c\n"// d"\n'
        stripped = mutants.strip_comments(text)
        self.assertEqual(stripped.count("\n"), text.count("\n"))
        self.assertIn('"// d"', stripped)
        self.assertNotIn("x", stripped)


class MutantTest(unittest.TestCase):
    def test_one_step_weaker(self):
        sites, _ = parse(HEADER)
        got = {m.arg: m.to for s in sites.values() for m in mutants.mutants_of(s)}
        self.assertEqual(got, {
            "thing.A1.store": "relaxed",
            "thing.A1a.load": "relaxed",
            "thing.C.add": "acquire",
            "thing.C.add:release": "release",
            "thing.D.cas": "acquire",
            "thing.D.cas:release": "release",
            "thing.F.light": "acq_rel",
            "thing.G.sc": "acquire",
            "thing.H.sc": "release",
            "thing.I.fence": "relaxed",
            "thing.K.str": "relaxed",
        })

    def test_partial_justification_covers_one_half(self):
        sites, _ = parse(HEADER)
        by_arg = {m.arg: m for m in mutants.mutants_of(sites["thing.D.cas"])}
        self.assertIsNone(by_arg["thing.D.cas"].justification)
        self.assertIsNotNone(by_arg["thing.D.cas:release"].justification)


def relacy_result(killed, hits=5):
    p = {"suite": "s", "search": "random", "passed": not killed, "failure": "DATA RACE" if killed else "",
         "iteration": 3, "mutant_hits": hits, "replay": "x", "seconds": 0.1}
    return {"runs": [{"binary": "model-check-thing", "rc": 0, "passes": [p], "tail": ""}]}


class VerdictTest(unittest.TestCase):
    def setUp(self):
        sites, _ = parse(HEADER)
        self.plain = mutants.mutants_of(sites["thing.A1.store"])[0]
        self.justified = mutants.mutants_of(sites["thing.C.add"])[0]

    def test_unjustified_survivor_fails(self):
        v = mutants.verdict_of(self.plain, relacy_result(False), None)
        self.assertEqual(v["status"], "survived")
        self.assertFalse(v["ok"])

    def test_unreached_fails(self):
        v = mutants.verdict_of(self.plain, relacy_result(False, hits=0), None)
        self.assertEqual(v["status"], "unreached")
        self.assertFalse(v["ok"])

    def test_uncovered_fails(self):
        v = mutants.verdict_of(self.plain, {"runs": [], "uncovered": True}, None)
        self.assertTrue(v["status"].startswith("unreached"))
        self.assertFalse(v["ok"])

    def test_justified_survivor_passes(self):
        self.assertTrue(mutants.verdict_of(self.justified, relacy_result(False), None)["ok"])

    def test_kill_passes_and_stale_justification_fails(self):
        self.assertTrue(mutants.verdict_of(self.plain, relacy_result(True), None)["ok"])
        v = mutants.verdict_of(self.justified, relacy_result(True), None)
        self.assertFalse(v["ok"])
        self.assertIn("stale", v["status"])

    def test_dst_kill_counts(self):
        dst = {"runs": [{"workload": "w", "rc": 10, "verdict": "correctness", "seed": "1", "failure": "", "replay": ""}]}
        v = mutants.verdict_of(self.plain, relacy_result(False), dst)
        self.assertEqual(v["status"], "killed (DST only)")
        self.assertTrue(v["ok"])

    def test_crash_fails(self):
        r = relacy_result(True)
        r["runs"][0]["rc"] = -6
        self.assertFalse(mutants.verdict_of(self.plain, r, None)["ok"])


class LintTest(unittest.TestCase):
    def test_atomics_outside_the_seam(self):
        findings = []
        code = "// std::atomic<int> in a comment\nstd::atomic<int> a;\nvoid f() { std::atomic_thread_fence(x); __atomic_load_n(p, 0); }\n"
        mutants.lint_text("lib/include/ringlab/thing.hpp", code, findings)
        self.assertEqual([f.where for f in findings],
                         ["lib/include/ringlab/thing.hpp:2", "lib/include/ringlab/thing.hpp:3",
                          "lib/include/ringlab/thing.hpp:3"])
        allowed = []
        mutants.lint_text("lib/include/ringlab/sync/native.hpp", code, allowed)
        self.assertEqual(allowed, [])

    def test_duplicate_labels(self):
        findings = []
        sites = mutants.parse_sites("a.hpp", 'void f() { x.store(1, at("same", mo::release)); }\n', findings)
        sites += mutants.parse_sites("b.hpp", 'void g() { x.load(at("same", mo::acquire)); }\n', findings)
        mutants.check_duplicates(sites, findings)
        self.assertEqual([f.kind for f in findings], ["duplicate label"])


if __name__ == "__main__":
    unittest.main()

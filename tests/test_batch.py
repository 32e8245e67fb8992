"""`advisor batch`: one summary per line, in order; bad lines become error records; the same answers as `decide`."""

import csv
import io
import json
import random

import pytest
from conftest import EXAMPLES, LONG, ROOT
from typer.testing import CliRunner

import advisor
from advisor.batch import COLUMNS, MAX_LINE_BYTES, read_lines, records
from advisor.cli import app
from advisor.examples import generate

runner = CliRunner()


def jsonl(profiles) -> str:
    return "".join(json.dumps(p) + "\n" for p in profiles)


# The long run (10,000 profiles) is for releases: ADVISOR_LONG_TESTS=1 pytest tests/test_batch.py
GENERATED = 10_000 if LONG else 64


def test_generated_profiles_match_deciding_each_alone():
    profiles = generate(GENERATED, seed=6)
    profiles = profiles[:3] + profiles  # the first chunk holds three lines twice, among different ones
    lines = [(i, json.dumps(p).encode()) for i, p in enumerate(profiles, 1)]
    # small chunks, so the profiles are decided several to a frame, in worker processes, as a big batch is
    got = list(records(lines, jobs=2, fan_out=16, chunk_size=16))
    assert [r["line"] for r in got] == list(range(1, len(profiles) + 1))
    assert all(r["ok"] for r in got)
    one = advisor.Advisor()
    for p, record in zip(profiles, got, strict=False):
        alone = one.evaluate(p).summary
        assert record == alone.model_copy(update={"line": record["line"]}).model_dump()


@pytest.mark.parametrize("copies", [2, 3, 17])
def test_identical_lines_in_one_chunk_are_each_decided_as_alone(copies):
    # identical profiles make every column of the chunk's frame a single value: the engine must still keep one
    # scenario per line (it once kept one in all, and the second line's summary failed)
    line = (ROOT / "examples" / "support-copilot.json").read_bytes().replace(b"\n", b"")
    got = list(records([(i, line) for i in range(1, copies + 1)], jobs=1))
    alone = advisor.Advisor().evaluate(json.loads(line)).summary
    assert got == [alone.model_copy(update={"line": i}).model_dump() for i in range(1, copies + 1)]


EDGES = {  # each field at the ends of its range: where numbers overflow, nothing fits and nothing is viable
    "preferences.horizon_months": [1, 120], "usage.requests_per_day": [0, 1, 10**12],
    "usage.monthly_growth": [-0.5, 5], "usage.input_tokens": [1, 10**8], "usage.output_tokens": [1, 10**8],
    "usage.calls_per_request": [1, 100_000], "latency.p95_ms": [1, 86_400_000], "budget.monthly_usd": [0, 1e13],
    "budget.upfront_usd": [0, 1e13], "data.labeled_examples": [0, 10**12], "team.ml_engineers": [0, 10**6],
}


def test_profiles_at_the_ends_of_their_ranges_match_deciding_each_alone():
    rng = random.Random(11)
    bases = [json.loads(p.read_text()) for p in EXAMPLES]
    profiles = []
    for _ in range(200 if LONG else 24):
        data = json.loads(json.dumps(rng.choice(bases)))
        for path in rng.sample(sorted(EDGES), 4):
            section, name = path.split(".")
            data.setdefault(section, {})[name] = rng.choice(EDGES[path])
        profiles.append(data)
    got = list(records([(i, json.dumps(p).encode()) for i, p in enumerate(profiles, 1)], jobs=1, chunk_size=8))
    one = advisor.Advisor()
    for p, record in zip(profiles, got, strict=True):
        assert record == one.evaluate(p).summary.model_copy(update={"line": record["line"]}).model_dump()


def test_a_profile_is_decided_the_same_whatever_shares_its_chunk():
    # one line's self-hosted model fits no node (a 10^8-token context), so its replicas span nodes; the other's
    # target no replica meets, so it gets the fastest single-node replica — as when it is decided alone (the
    # multi-node search once ran for the whole chunk and gave it a 64-GPU replica)
    base = json.loads((ROOT / "examples" / "frontier-lab.json").read_text())
    tight = json.loads(json.dumps(base)) | {"latency": {**base["latency"], "p95_ms": 1}}
    huge = json.loads(json.dumps(base)) | {"usage": {**base["usage"], "input_tokens": 10**8}}
    profiles = [tight, huge, tight]
    got = list(records([(i, json.dumps(p).encode()) for i, p in enumerate(profiles, 1)], jobs=1))
    one = advisor.Advisor()
    for p, record in zip(profiles, got, strict=True):
        assert record == one.evaluate(p).summary.model_copy(update={"line": record["line"]}).model_dump()


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_the_summary_is_the_decision_in_one_line(name):
    ev = advisor.Advisor().evaluate(ROOT / "examples" / f"{name}.json")
    s, d = ev.summary, ev.decision
    top = d.ranking[0]
    runner = next((r.id for r in d.ranking[1:] if r.eligible), None)
    assert (s.recommendation, s.label, s.score, s.confidence, s.margin, s.runner_up, s.tco_usd, s.upfront_usd,
            s.monthly_usd_first, s.monthly_usd_last, s.cost_per_request_usd, s.eligible, s.viable) == (
        top.id, top.label, top.score, d.recommendation.confidence, d.recommendation.margin, runner,
        top.cost.tco_usd, top.cost.upfront_usd, top.cost.monthly_usd_first, top.cost.monthly_usd_last,
        top.cost.cost_per_request_usd, sum(r.eligible for r in d.ranking), top.eligible)


def test_in_process_and_worker_runs_agree():
    lines = [(i, json.dumps(p).encode()) for i, p in enumerate(generate(600 if LONG else 48, seed=2), 1)]
    in_process = list(records(lines, jobs=1))
    assert in_process == list(records(lines, jobs=2, fan_out=12, chunk_size=12))  # 4 chunks over 2 workers
    assert in_process == list(records(lines, jobs=1, chunk_size=48))  # one frame of all


def test_bad_lines_become_error_records_and_the_rest_continue(tmp_path):
    good = [json.loads(p.read_text()) for p in EXAMPLES[:3]]
    text = (jsonl(good[:1]) + "not json\n" + "\n" + jsonl(good[1:2]) + '{"schema_version": 1}\n'
            + "[1, 2]\n" + b"\xff\xfe".decode("latin-1") + "\n" + jsonl(good[2:]))
    src = tmp_path / "in.jsonl"
    src.write_bytes(text.encode("latin-1"))
    r = runner.invoke(app, ["batch", str(src)])
    assert r.exit_code == 1, r.output
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(o["line"], o["ok"]) for o in out] == [(1, True), (2, False), (4, True), (5, False), (6, False),
                                                    (7, False), (8, True)]
    errors = {o["line"]: o["error"] for o in out if not o["ok"]}
    assert errors[2].startswith("line 2: not valid JSON")
    assert "line 5: project: required field is missing" in errors[5]
    assert errors[6].startswith("line 6: ") and "object" in errors[6].lower()
    assert errors[7].startswith("line 7: not UTF-8")
    assert "7 profiles: 3 decided, 4 failed" in r.stderr
    assert "Traceback" not in r.output


def test_every_line_good_exits_zero_with_a_portfolio_summary():
    profiles = [json.loads(p.read_text()) for p in EXAMPLES]
    r = runner.invoke(app, ["batch", "-"], input=jsonl(profiles))
    assert r.exit_code == 0, r.output
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["project"] for o in out] == [p["project"]["name"] for p in profiles]
    counts = {}
    for o in out:
        counts[o["recommendation"]] = counts.get(o["recommendation"], 0) + 1
    top, n = max(counts.items(), key=lambda x: (x[1], [-ord(ch) for ch in x[0]]))
    assert f"{len(profiles)} profiles: {len(profiles)} decided, 0 failed" in r.stderr
    assert f"{top} {n}" in r.stderr and "Confidence: " in r.stderr and "$" not in r.stderr


def test_csv_has_a_header_and_one_row_per_line():
    profiles = [json.loads(p.read_text()) for p in EXAMPLES[:4]]
    r = runner.invoke(app, ["batch", "-", "--format", "csv"], input=jsonl(profiles) + "oops\n")
    assert r.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 5
    assert rows[0]["ok"] == "true" and rows[4]["ok"] == "false" and rows[4]["error"].startswith("line 5:")
    assert rows[0]["recommendation"] == advisor.decide(profiles[0]).recommendation.id


def test_out_is_written_atomically_and_kept_on_failure(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    r = runner.invoke(app, ["batch", str(tmp_path / "missing.jsonl"), "--out", str(out)])
    assert r.exit_code == 1 and "no such JSON-lines file" in r.stderr
    assert out.read_text() == "previous\n" and list(tmp_path.iterdir()) == [out]
    src = tmp_path / "in.jsonl"
    src.write_text(EXAMPLES[0].read_text().replace("\n", " ") + "\n")
    r = runner.invoke(app, ["batch", str(src), "--out", str(out)])
    assert r.exit_code == 0 and json.loads(out.read_text())["line"] == 1


def test_an_overlong_line_is_refused_without_reading_it_into_memory():
    big = b'{"x": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}\n'
    fh = io.BytesIO(big + b'{"y": 1}\n')
    got = list(read_lines(fh))
    assert got[0] == (1, f"longer than {MAX_LINE_BYTES // 1024} KiB; not a profile")
    assert got[1] == (2, b'{"y": 1}\n')


@pytest.mark.parametrize("jobs", ["-1", "abc"])
def test_bad_jobs_is_a_usage_error(jobs):
    r = runner.invoke(app, ["batch", "-", "--jobs", jobs], input="")
    assert r.exit_code == 2

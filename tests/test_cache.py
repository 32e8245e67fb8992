"""The start-up cache only ever saves time: keyed by what it derives from, rebuilt when unreadable, optional."""

import datetime
import json

import pytest

from advisor import cache, prices


def test_compiled_templates_are_kept_apart_by_the_settings_that_compiled_them():
    a, b = cache.templates("settings A"), cache.templates("settings B")
    assert a is not None and b is not None and a != b and a.parent == b.parent


def test_a_corrupt_price_cache_is_rebuilt_from_genai_prices(monkeypatch, tmp_path):
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    cache.directory.cache_clear()
    try:
        at = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
        name = f"prices-{prices.version()}.json"
        (tmp_path / name).write_text("{ not json")
        prices._cached.cache_clear()  # forget what this process already read
        entry = prices._cached("gpt-4.1-mini", at)
        assert entry["describe"].startswith("OpenAI gpt-4.1-mini")
        stored = json.loads((tmp_path / name).read_text())
        assert stored == {f"gpt-4.1-mini@{at.isoformat()}": json.loads(json.dumps(entry))}
        rate = prices.call_usd("gpt-4.1-mini", 1000, 100, 0, at)
        assert rate == pytest.approx(prices.price_usage("gpt-4.1-mini", 1000, 100, 0, at), rel=1e-12)
    finally:
        cache.directory.cache_clear()


def test_the_cache_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("ADVISOR_CACHE_DIR", "off")
    cache.directory.cache_clear()
    try:
        assert cache.directory() is None and cache.load("x.json") == {} and cache.templates("s") is None
        cache.save("x.json", {"a": 1})  # a no-op, not an error
    finally:
        cache.directory.cache_clear()

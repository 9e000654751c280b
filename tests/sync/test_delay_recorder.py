"""The delay recorder alone: what counts as an accepted push, from which origin, saved to
and read back from a real SQLite state store."""

from __future__ import annotations

from pathlib import Path

from connector.state.sqlite import StateStore
from connector.sync.delay_recorder import DelayRecorder, StoredDelays, delay_report

T0 = 1_800_000_000.0


def test_accepted_pushes_become_histograms_that_a_restart_reads_back(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "state.sqlite3")
    try:
        now = [T0]
        recorder = DelayRecorder.load(store, save_every_s=5.0, clock=lambda: now[0])
        for i in range(30):
            now[0] = T0 + i
            recorder.accepted("bol_nl", origin_at=now[0] - 0.2, accepted_at=now[0])
        recorder.accepted("bol_nl", origin_at=T0 + 40, accepted_at=T0 + 39)  # clock skew: 0, never negative
        recorder.save()
        report = delay_report(store, now=T0 + 60)
        hour = report["bol_nl"]["hour"]
        assert hour["count"] == 31
        assert abs(hour["p50_ms"] - 200) <= 200 * 0.05
        assert report["bol_nl"]["last_ms"][-1] == 0.0
        measured = StoredDelays(store, now=T0 + 60).measured()
        assert set(measured) == {"bol_nl"} and measured["bol_nl"].samples == 31
        again = DelayRecorder.load(store, clock=lambda: T0 + 60)
        assert again.summary("bol_nl", "hour").count == 31
    finally:
        store.close()


def test_a_channel_with_few_samples_is_not_measured_yet(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "state.sqlite3")
    try:
        recorder = DelayRecorder.load(store, clock=lambda: T0)
        for i in range(5):
            recorder.accepted("etsy_shop", T0 + i - 1, T0 + i)
        recorder.save()
        assert StoredDelays(store, now=T0 + 10).measured() == {}
        assert delay_report(store, now=T0 + 10)["etsy_shop"]["hour"]["count"] == 5
    finally:
        store.close()


def test_saving_is_throttled_but_never_lost_at_save(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "state.sqlite3")
    try:
        now = [T0]
        recorder = DelayRecorder.load(store, save_every_s=5.0, clock=lambda: now[0])
        recorder.accepted("amazon_de", T0 - 1, T0 + 1)  # within 5 s of the start: not yet saved
        assert delay_report(store, now=T0 + 2) == {}
        now[0] = T0 + 6
        recorder.accepted("amazon_de", T0 + 5, T0 + 6)  # due: saved
        assert delay_report(store, now=T0 + 7)["amazon_de"]["hour"]["count"] == 2
        recorder.accepted("amazon_de", T0 + 6, T0 + 7)
        recorder.save()
        assert delay_report(store, now=T0 + 8)["amazon_de"]["hour"]["count"] == 3
    finally:
        store.close()

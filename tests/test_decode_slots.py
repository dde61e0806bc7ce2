"""The memory bound of the formats decoded whole: an analysis takes as many of the worker's
slots as its decode costs (each slot is sized for the largest PNG), read from the header
before anything is decoded, and gives them all back, whether it succeeds, fails or is
abandoned; it never holds some slots while it waits for more."""

from __future__ import annotations

import dataclasses
import io
import struct
import threading
import time
from typing import Any

import pytest
from PIL import Image

from image_insights.analyzer import Analyzer, _Slots
from image_insights.config import Settings
from image_insights.errors import AnalysisTimeout
from image_insights.pipeline import prepare
from image_insights.pipeline.formats import DECODE_BYTES_PER_PIXEL, decode_slots

MAX = 50_000_000


def vp8x_header(width: int, height: int) -> bytes:
    """A WebP's RIFF and VP8X chunk declaring a width x height canvas (no frame)."""
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x10\0\0\0" + canvas
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def saved(size: tuple[int, int], kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(out, kind)
    return out.getvalue()


def test_slots_follow_the_declared_size_and_the_format() -> None:
    # A 12-megapixel phone photo as WebP costs more than one PNG-sized slot, not all four.
    photo = 4032 * 3024 * DECODE_BYTES_PER_PIXEL["webp"] / (MAX * DECODE_BYTES_PER_PIXEL["png"])
    assert 1 < photo <= 2
    assert decode_slots(saved((4032, 3024), "WEBP"), MAX, 4) == 2
    assert decode_slots(vp8x_header(7071, 7071), MAX, 4) == 4  # costlier than all: capped
    assert decode_slots(vp8x_header(7071, 7071), MAX, 16) == 5
    assert decode_slots(vp8x_header(100_000, 100_000), MAX, 16) == 5  # refused at MAX anyway
    for kind in ("JPEG", "PNG", "WEBP", "GIF", "TIFF"):
        assert decode_slots(saved((640, 480), kind), MAX, 4) == 1, kind
    assert decode_slots(b"not an image", MAX, 4) == 1


def test_slots_are_taken_all_at_once() -> None:
    slots = _Slots(4)
    assert slots.acquire(3, timeout=0.1)
    assert not slots.acquire(2, timeout=0.05), "only one is free"
    assert slots.acquire(1, timeout=0.05)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(slots.acquire(4, timeout=5)))
    waiter.start()
    time.sleep(0.05)
    slots.release(3)
    time.sleep(0.05)
    assert got == [], "three free are not four"
    slots.release(1)
    waiter.join(5)
    assert got == [True]


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(Settings(), analysis_threads=4, processing_timeout_seconds=10.0)


def test_an_analysis_holds_its_slots_until_its_decode_ends(settings: Settings) -> None:
    """A large WebP holds every slot while it is decoded: a JPEG waits behind it, and both
    are answered; afterwards every slot is free again."""
    release = threading.Event()
    entered = threading.Event()

    def slow_prepare(data: bytes, *args: Any, **kwargs: Any) -> Any:
        if data.startswith(b"RIFF"):
            entered.set()
            release.wait(5)
            return prepare(saved((64, 64), "WEBP"), *args, **kwargs)
        return prepare(data, *args, **kwargs)

    analyzer = Analyzer(settings, pipeline=slow_prepare)
    results: dict[str, Any] = {}

    def run(name: str, data: bytes) -> threading.Thread:
        thread = threading.Thread(
            target=lambda: results.update({name: analyzer(data, ("brightness",), None)})
        )
        thread.start()
        return thread

    webp = run("webp", vp8x_header(7071, 7071))
    assert entered.wait(5)
    jpeg = run("jpeg", saved((64, 64), "JPEG"))
    jpeg.join(0.5)
    assert jpeg.is_alive() and "jpeg" not in results, "the JPEG waits for a slot"
    release.set()
    webp.join(10)
    jpeg.join(10)
    assert results["webp"]["width"] == results["jpeg"]["width"] == 64
    assert analyzer._slots.acquire(4, timeout=0.1), "every slot came back"
    analyzer.shutdown()


def test_a_timed_out_wait_takes_no_slot(settings: Settings) -> None:
    analyzer = Analyzer(dataclasses.replace(settings, processing_timeout_seconds=0.2))
    assert analyzer._slots.acquire(4, timeout=0.1)  # the worker is busy
    with pytest.raises(AnalysisTimeout):
        analyzer(saved((64, 64), "JPEG"), ("brightness",), None)
    analyzer._slots.release(4)
    assert analyzer._slots.acquire(4, timeout=0.1)
    analyzer.shutdown()

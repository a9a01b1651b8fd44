"""DOCX archives that would exhaust memory or that are damaged, and the parse child's memory limit."""

from __future__ import annotations

import io
import resource
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import pytest

from agent.config import Settings
from agent.errors import Corrupt, OutOfMemory, UnpacksTooLarge
from agent.ingest import parse_isolated, sniff
from agent.ingest.isolate import memory_limit

MB = 1024 * 1024
SETTINGS = Settings(parse_timeout_s=30.0)
CORRUPT_ADVICE = "download or export it again."


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("1 Scope", level=1)
    document.add_paragraph("The DUT shall meet the conducted emission limits.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP of already deflated members: (name, deflated data, crc32, inflated size)."""
    body, central = bytearray(), bytearray()
    for name, data, crc, size in members:
        raw, offset = name.encode(), len(body)
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(raw), 0)
        body += raw + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size,
                               len(raw), 0, 0, 0, 0, 0, offset) + raw
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(body), 0)
    return bytes(body + central + end)


def deflated(data: bytes) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush()


def zip_bomb(megabytes: int = 1100, declared: int | None = None) -> bytes:
    """A real DOCX whose word/document.xml is `megabytes` MB of zeros, ~1 MB on disk, built
    cheaply: one full-flushed deflated MB repeated (a valid deflate stream), its CRC worked out
    per MB. `declared` is the size the archive states for it (default: the true size)."""
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist() if info.filename != "word/document.xml"}
    members = [(name, deflated(data), zlib.crc32(data), len(data)) for name, data in parts.items()]
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b"\0" * MB
    data = (deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)) * megabytes + deflate.flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    members.append(("word/document.xml", data, crc, megabytes * MB if declared is None else declared))
    return raw_zip(members)


def with_compression_method(data: bytes, name: str, method: int) -> bytes:
    """`data` (a ZIP) with `name`'s compression method set to `method` in both its headers."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        local = zf.getinfo(name).header_offset
    central = out.rindex(name.encode()) - 46  # the central directory comes after the data
    assert out[central : central + 4] == b"PK\x01\x02" and out[local : local + 4] == b"PK\x03\x04"
    struct.pack_into("<H", out, local + 8, method)
    struct.pack_into("<H", out, central + 10, method)
    return bytes(out)


def failure(path: Path, settings: Settings = SETTINGS, **kwargs):
    with pytest.raises(Exception) as caught:
        parse_isolated(path, settings, **kwargs)
    return caught.value


def test_zip_bomb_is_refused_by_its_declared_size_before_inflating(tmp_path):
    path = tmp_path / "bomb.docx"
    path.write_bytes(zip_bomb())
    assert path.stat().st_size < 1.2 * MB  # 1.1 MB on disk, 1.1 GB unpacked
    peak_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    err = failure(path)
    assert (type(err), str(err)) == (
        UnpacksTooLarge,
        ("bomb.docx: unpacks to 1,101 MB (the limit is 500 MB, 10 times --max-mb; a ZIP bomb?); check "
         "where the file came from; if it is a genuine specification, raise the limit with --max-mb "
         "(SPEC_AGENT_MAX_MB)."),
    )
    # The parse child never came near the bomb's size (before the fix it peaked at 2.38 GB).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    assert peak <= max(peak_before, 1024 * MB)


def test_unpacked_limit_follows_max_mb(tmp_path):
    path = tmp_path / "big.docx"
    path.write_bytes(zip_bomb(megabytes=3))
    assert sniff.check(path, max_file_mb=None) == "docx"  # classifying alone sets no limit
    err = failure(path, SETTINGS.with_(max_file_mb=0.2))
    assert type(err) is UnpacksTooLarge
    assert str(err).startswith("big.docx: unpacks to 4 MB (the limit is 2 MB, 10 times --max-mb; a ZIP bomb?)")


def test_zip_bomb_that_understates_its_size_is_corrupt(tmp_path):
    """zipfile stops a part at its declared size and checks its CRC: the lie shows, cheaply."""
    path = tmp_path / "liar.docx"
    path.write_bytes(zip_bomb(megabytes=50, declared=1000))
    err = failure(path)
    assert (type(err), str(err)) == (Corrupt, f"liar.docx: corrupt DOCX (its Word parts cannot be read); {CORRUPT_ADVICE}")


@pytest.mark.parametrize("method", [9, 99])  # Deflate64 (Windows Explorer's large ZIPs), AES
def test_unknown_compression_method_is_corrupt_not_a_crash(tmp_path, method):
    path = tmp_path / "odd.docx"
    path.write_bytes(with_compression_method(docx_bytes(), "word/document.xml", method))
    err = failure(path)
    assert (type(err), str(err)) == (
        Corrupt,
        f"odd.docx: corrupt DOCX (unknown ZIP compression method {method}); {CORRUPT_ADVICE}",
    )
    assert "print to PDF" not in str(err)


def _memory_hog(path, settings):
    blob = bytes(64 * 1024 * MB)  # 64 GB, zero pages: refused at once under the child's limit
    raise AssertionError(f"allocated {len(blob)} bytes")


def _report_limit(path, settings):
    from agent.errors import IngestError

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    raise IngestError(str(path), f"limit {soft}")


def test_parse_child_memory_is_limited(tmp_path):
    path = tmp_path / "spec.docx"
    path.write_bytes(docx_bytes())
    err = failure(path, _target=_report_limit)
    soft = int(str(err).split("limit ")[1].split(";")[0])
    assert memory_limit(SETTINGS) == 3200 * MB  # 64 times the 50 MB file limit
    assert memory_limit(SETTINGS.with_(max_file_mb=1)) == 1024 * MB  # never under 1 GB
    assert memory_limit(SETTINGS) < soft < memory_limit(SETTINGS) + 4096 * MB  # on top of what the child had


def test_child_out_of_memory_is_one_clear_line(tmp_path):
    path = tmp_path / "huge.docx"
    path.write_bytes(docx_bytes())
    err = failure(path, _target=_memory_hog)
    assert (type(err), str(err)) == (
        OutOfMemory,
        ("huge.docx: parsing needed more than 3,200 MB of memory (64 times --max-mb) and was stopped; "
         "raise the limit with --max-mb (SPEC_AGENT_MAX_MB) or split the file."),
    )

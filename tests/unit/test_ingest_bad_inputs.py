"""Bad inputs end to end through parse_isolated: each gives its exact one-line message."""

from __future__ import annotations

import faulthandler
import functools
import io
import multiprocessing
import os
import signal
import struct
import time
import zipfile
from pathlib import Path

import docx
import pymupdf
import pytest
from conftest import shared_path

from agent.config import Settings
from agent.errors import (
    Corrupt,
    DrmProtected,
    Encrypted,
    IngestError,
    ParserCrashed,
    ParseTimeout,
    Scanned,
    TooLarge,
    Unsupported,
)
from agent.ingest import parse_file, parse_isolated, sniff

SETTINGS = Settings(parse_timeout_s=30.0)
DRM_MESSAGE = (
    "DRM-protected (enterprise rights-management container); export an unprotected copy "
    "(PDF or DOCX) from your DRM client and ingest that."
)
CORRUPT_ADVICE = "download or export it again."
UNSUPPORTED_ADVICE = "give a PDF or DOCX specification."


# ---- tiny real files, made here -------------------------------------------------------------


def docx_bytes(*paragraphs: str) -> bytes:
    document = docx.Document()
    document.add_heading("1 Scope", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(pages: int = 4, **save_options) -> bytes:
    document = pymupdf.open()
    for n in range(1, pages + 1):
        page = document.new_page()
        page.insert_text((72, 72), f"{n} Clause {n}", fontsize=12)
        page.insert_text(
            (72, 100), "The DUT shall meet the conducted emission limits. " * 2, fontsize=9
        )
    return document.tobytes(**save_options)


def scanned_pdf_bytes() -> bytes:
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 100), False)
    pixmap.clear_with(200)
    document = pymupdf.open()
    for _ in range(2):
        document.new_page().insert_image(pymupdf.Rect(72, 72, 472, 272), pixmap=pixmap)
    return document.tobytes()


@functools.cache
def encrypted_docx_bytes() -> bytes:
    """A real password-encrypted DOCX (agile encryption), as Word writes it."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(docx_bytes("secret"))).encrypt("pw", out)
    return out.getvalue()


def irm_protected_bytes() -> bytes:
    """An encrypted DOCX whose data-space transform is Microsoft IRM's, as RMS writes it."""
    data = bytearray(encrypted_docx_bytes())
    old, new = "StrongEncryptionTransform", "DRMEncryptedTransform"
    at = data.index((old + "\0").encode("utf-16-le"))
    data[at : at + 64] = (new + "\0").encode("utf-16-le").ljust(64, b"\0")
    data[at + 64 : at + 66] = struct.pack("<H", 2 * (len(new) + 1))
    return bytes(data)


def ole_bytes(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (v3, 512-byte sectors) holding root-level streams."""
    sector, endchain, free, nostream = 512, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    data = [streams[n].ljust(4096, b"\0") for n in names]  # >= 4096 bytes: no mini stream
    fat = [0xFFFFFFFD, endchain]  # sector 0 holds the FAT, sector 1 the directory
    starts = []
    for blob in data:
        count = len(blob) // sector
        starts.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [endchain]
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(raw), kind, 1, nostream, right, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    entries = [entry("Root Entry", 5, 1, nostream, endchain, 0)]
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else nostream
        entries.append(entry(name, 2, nostream, right, starts[i], len(data[i])))
    directory = b"".join(entries).ljust(sector, b"\0")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, endchain, 0, endchain, 0)
        + struct.pack("<109I", 0, *[free] * 108)
    )
    return header + struct.pack("<128I", *fat) + directory + b"".join(data)


def word97_fib(encrypted: bool) -> bytes:
    flags = 0x0100 if encrypted else 0  # FIB bit fEncrypted
    return struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0x409, 0, flags)


def corrupt_document_xml(valid: bytes) -> bytes:
    """A DOCX whose ZIP directory is intact but whose word/document.xml data is damaged."""
    data = bytearray(valid)
    with zipfile.ZipFile(io.BytesIO(valid)) as zf:
        info = zf.getinfo("word/document.xml")
    body = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(body, body + min(info.compress_size, 64)):
        data[i] ^= 0x5A
    return bytes(data)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def failure(path: Path, settings: Settings = SETTINGS, **kwargs) -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse_isolated(path, settings, **kwargs)
    assert caught.value.path == str(path)
    return caught.value


# ---- the cases a user meets -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["drm_wrapped_spec.docx", "drm_wrapped_spec.pdf"])
def test_shared_drm_files(name):
    path = shared_path("bad_inputs", name)
    err = failure(path)
    assert type(err) is DrmProtected
    assert str(err) == f"{name}: {DRM_MESSAGE}"
    assert sniff.sniff(path) == "drm"


def test_drm_detected_by_signature_not_by_file(tmp_path):
    path = write(
        tmp_path, "wrapped.pdf", b"\x9a DRMONE  This Document is protected\r\n" + os.urandom(900)
    )
    err = failure(path)
    assert (type(err), str(err)) == (DrmProtected, f"wrapped.pdf: {DRM_MESSAGE}")


def test_irm_protected_office_file_is_drm(tmp_path):
    err = failure(write(tmp_path, "rms.docx", irm_protected_bytes()))
    assert (type(err), str(err)) == (
        DrmProtected,
        (
            "rms.docx: DRM-protected (Microsoft rights-management); export an unprotected copy (PDF or DOCX) "
            "from your DRM client and ingest that."
        ),
    )


def test_password_encrypted_docx(tmp_path):
    path = write(tmp_path, "locked.docx", encrypted_docx_bytes())
    err = failure(path)
    assert (type(err), str(err)) == (
        Encrypted,
        (
            "locked.docx: password-encrypted Office file; save a copy without a password and ingest that."
        ),
    )
    assert sniff.sniff(path) == "encrypted"


def test_password_encrypted_pdf(tmp_path):
    data = pdf_bytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="user", owner_pw="owner")
    err = failure(write(tmp_path, "locked.pdf", data))
    assert (type(err), str(err)) == (
        Encrypted,
        ("locked.pdf: password-encrypted; save a copy without a password and ingest that."),
    )


def test_scanned_pdf(tmp_path):
    err = failure(write(tmp_path, "scan.pdf", scanned_pdf_bytes()))
    assert (type(err), str(err)) == (
        Scanned,
        (
            "scan.pdf: scanned PDF with no usable text layer (0 characters per page); run OCR on it "
            "(e.g. ocrmypdf) or ask the OEM for the text PDF."
        ),
    )


def test_truncated_pdf(tmp_path):
    data = pdf_bytes()
    err = failure(write(tmp_path, "half.pdf", data[: len(data) // 2]))
    assert (type(err), str(err)) == (
        Corrupt,
        f"half.pdf: truncated PDF (no end-of-file marker); {CORRUPT_ADVICE}",
    )


def test_truncated_docx_zip(tmp_path):
    data = docx_bytes("text")
    err = failure(write(tmp_path, "cut.docx", data[: len(data) // 2]))
    assert (type(err), str(err)) == (
        Corrupt,
        f"cut.docx: corrupt or truncated DOCX/ZIP archive; {CORRUPT_ADVICE}",
    )


def test_docx_with_damaged_part(tmp_path):
    err = failure(write(tmp_path, "damaged.docx", corrupt_document_xml(docx_bytes("text"))))
    assert (type(err), str(err)) == (
        Corrupt,
        f"damaged.docx: corrupt DOCX (its Word parts cannot be read); {CORRUPT_ADVICE}",
    )


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("figure.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "a PNG image, not a PDF or DOCX"),
        (
            "download.pdf",
            b"\n<!DOCTYPE html>\n<html><body>Sign in</body></html>",
            "an HTML page, not a PDF or DOCX",
        ),
        (
            "notes.pdf",
            "Grenzwerte für CE 420 – siehe Tabelle".encode(),
            "plain text, not a PDF or DOCX",
        ),
        ("spec.doc", b"{\\rtf1\\ansi Spec}", "RTF, not DOCX; save it as .docx"),
    ],
)
def test_unsupported_types(tmp_path, name, data, what):
    err = failure(write(tmp_path, name, data))
    assert (type(err), str(err)) == (
        Unsupported,
        f"{name}: unsupported file type ({what}); {UNSUPPORTED_ADVICE}",
    )


def test_workbook_in_a_zip(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    err = failure(write(tmp_path, "limits.docx", out.getvalue()))
    assert (
        str(err)
        == f"limits.docx: unsupported file type (an Excel workbook, not a specification); {UNSUPPORTED_ADVICE}"
    )


def test_legacy_word_doc(tmp_path):
    err = failure(
        write(tmp_path, "old.doc", ole_bytes({"WordDocument": word97_fib(False), "1Table": b"x"}))
    )
    assert (type(err), str(err)) == (
        Unsupported,
        (
            "old.doc: legacy Word 97-2003 .doc, not DOCX (open it in Word and save as .docx); "
            f"{UNSUPPORTED_ADVICE}"
        ),
    )


def test_password_encrypted_legacy_doc(tmp_path):
    err = failure(
        write(tmp_path, "old.doc", ole_bytes({"WordDocument": word97_fib(True), "1Table": b"x"}))
    )
    assert (type(err), str(err)) == (
        Encrypted,
        (
            "old.doc: password-encrypted Word 97-2003 .doc; save a copy without a password and ingest that."
        ),
    )


def test_truncated_ole_file(tmp_path):
    data = ole_bytes({"WordDocument": word97_fib(False)})
    err = failure(write(tmp_path, "cut.doc", data[:700]))
    assert (type(err), str(err)) == (
        Corrupt,
        f"cut.doc: corrupt or truncated Office file; {CORRUPT_ADVICE}",
    )


def test_empty_file(tmp_path):
    err = failure(write(tmp_path, "empty.pdf", b""))
    assert (type(err), str(err)) == (Corrupt, f"empty.pdf: empty file (0 bytes); {CORRUPT_ADVICE}")


def test_missing_file(tmp_path):
    err = failure(tmp_path / "gone.pdf")
    assert (type(err), str(err)) == (
        IngestError,
        "gone.pdf: file not found; check the file and try again.",
    )


def test_over_size_file(tmp_path):
    err = failure(
        write(tmp_path, "big.docx", docx_bytes("x" * 20)), SETTINGS.with_(max_file_mb=0.001)
    )
    size_kb = round((tmp_path / "big.docx").stat().st_size / 1024)
    assert (type(err), str(err)) == (
        TooLarge,
        (
            f"big.docx: file too large ({size_kb} KB, the limit is 0.001 MB); raise the limit with --max-mb "
            "(SPEC_AGENT_MAX_MB) or split the file."
        ),
    )


# ---- the child process itself -----------------------------------------------------------------


def _segfault(path, settings):
    faulthandler.disable()  # pytest's traceback dump is noise here
    os.kill(os.getpid(), signal.SIGSEGV)


def _hang(path, settings):
    time.sleep(60)


def _bug(path, settings):
    raise KeyError("w:numId\nline two")


def test_parser_crash_becomes_parser_crashed(tmp_path):
    path = write(tmp_path, "crash.docx", docx_bytes())
    err = failure(path, _target=_segfault)
    assert (type(err), str(err)) == (
        ParserCrashed,
        (
            "crash.docx: the parser crashed on this file (SIGSEGV); export the file again (e.g. print to PDF) "
            "and retry."
        ),
    )


def test_hang_is_stopped_at_the_time_limit(tmp_path):
    path = write(tmp_path, "hang.docx", docx_bytes())
    started = time.monotonic()
    err = failure(path, SETTINGS.with_(parse_timeout_s=0.5), _target=_hang)
    assert time.monotonic() - started < 5
    assert (type(err), str(err)) == (
        ParseTimeout,
        (
            "hang.docx: parsing took longer than 0.5 s and was stopped; raise --parse-timeout or export the "
            "file again (it may be malformed)."
        ),
    )
    assert multiprocessing.active_children() == []


def test_unexpected_exception_in_child(tmp_path):
    err = failure(write(tmp_path, "odd.docx", docx_bytes()), _target=_bug)
    assert (type(err), str(err)) == (
        ParserCrashed,
        (
            "odd.docx: the parser failed on this file (KeyError: 'w:numId\\nline two'); export the file again "
            "(e.g. print to PDF) and retry."
        ),
    )


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_isolated_result_equals_in_process(tmp_path, method):
    path = write(tmp_path, "ok.docx", docx_bytes("The DUT shall comply.", "Table 1 – Levels"))
    assert sniff.sniff(path) == "docx"
    isolated = parse_isolated(path, SETTINGS, _start_method=method)
    assert isolated == parse_file(path, SETTINGS)
    assert [(c.number, c.title, c.text) for c in isolated.clauses] == [
        ("1", "Scope", "The DUT shall comply.\nTable 1 – Levels")
    ]


def test_pdf_with_leading_junk_is_still_a_pdf(tmp_path):
    assert sniff.sniff(write(tmp_path, "junk.pdf", b"\r\nHTTP junk\r\n" + pdf_bytes(1))) == "pdf"
    assert sniff.sniff(write(tmp_path, "late.pdf", b"x" * 2000 + pdf_bytes(1))) == "other"
    assert sniff.sniff(write(tmp_path, "padded.pdf", pdf_bytes(1) + b"\0" * 4096)) == "pdf"


def test_pdf_with_a_damaged_final_update_is_accepted(tmp_path):
    """Real files (MIL-STD-461F) end mid-xref after an earlier %%EOF; PyMuPDF repairs them."""
    import pymupdf

    from agent.ingest.sniff import check

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "1 Scope\nThis specification covers conducted emissions.")
    good = doc.tobytes()
    path = tmp_path / "damaged_tail.pdf"
    path.write_bytes(good + b"\n1 0 obj\n<< /Type /XRef >>\nxref\n0 3\n0000000000 65535 f\r\n00000" + b"x" * 2048)
    assert check(path) == "pdf"

"""File sniffing: what a file really is, by its bytes, never by its extension."""

from __future__ import annotations

import codecs
import logging
import mmap
import zipfile
import zlib
from pathlib import Path
from typing import Literal, NoReturn

import olefile

from agent.errors import Corrupt, DrmProtected, Encrypted, IngestError, UnpacksTooLarge, Unsupported

log = logging.getLogger(__name__)

Kind = Literal["pdf", "docx", "drm", "encrypted", "other"]

HEAD_BYTES = 1024  # PDF readers accept "%PDF-" anywhere in the first 1 KB
TAIL_BYTES = 1024  # ... and "%%EOF" anywhere in the last 1 KB (padding of NULs/blanks aside)
PADDING_BYTES = 64 * 1024
MB = 1024 * 1024
UNPACK_FACTOR = 10  # a DOCX may unpack to ten times the file-size limit (Word's XML packs ~10:1)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# Enterprise DRM wrappers put a tag in their first bytes; the lead byte varies by version.
DRM_TAGS = (b"DRMONE",)  # Fasoo DRM ("\x9b DRMONE  This Document is encrypted ...")
DRM_TRANSFORMS = ("DRMEncryptedTransform", "DRMEncryptedDataSpace")  # Microsoft IRM (RMS)
IMAGE_MAGICS = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
}
OFFICE_ZIP_PARTS = {"xl/": "an Excel workbook", "ppt/": "a PowerPoint presentation"}
OLE_STREAMS = {
    "Workbook": "a legacy Excel .xls workbook",
    "PowerPoint Document": "a legacy .ppt file",
}


def sniff(path: str | Path) -> Kind:
    """Classify a file as pdf, docx, drm, encrypted or other (anything unreadable is "other")."""
    try:
        return check(path)
    except DrmProtected:
        return "drm"
    except Encrypted:
        return "encrypted"
    except IngestError:
        return "other"


def check(path: str | Path, max_file_mb: float | None = None) -> Literal["pdf", "docx"]:
    """The parser a file needs; raises the IngestError a user should see otherwise.

    A DOCX may unpack to `UNPACK_FACTOR` times `max_file_mb` (None: no limit)."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        fh.seek(max(0, path.stat().st_size - PADDING_BYTES))
        tail = fh.read(PADDING_BYTES).rstrip(b"\0 \t\r\n")[-TAIL_BYTES:]
    if not head:
        raise Corrupt(str(path), "empty file (0 bytes)")
    if any(tag in head[:64] for tag in DRM_TAGS):
        raise DrmProtected(str(path))
    if b"%PDF-" in head:
        return _check_pdf(path, tail)
    if head.startswith(ZIP_MAGICS):
        return _check_zip(path, UNPACK_FACTOR * max_file_mb * MB if max_file_mb else float("inf"))
    if head.startswith(OLE_MAGIC):
        _check_ole(path)
    raise Unsupported(str(path), _describe(head))


def _check_pdf(path: Path, tail: bytes) -> Literal["pdf"]:
    """A PDF cut short has no end-of-file marker at all. A marker earlier in the file is enough:
    real files end in a damaged incremental update (MIL-STD-461F does) and PyMuPDF repairs them."""
    if b"%%EOF" not in tail and not _contains(path, b"%%EOF"):
        raise Corrupt(str(path), "truncated PDF (no end-of-file marker)")
    return "pdf"


def _contains(path: Path, marker: bytes) -> bool:
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.rfind(marker) >= 0


def _check_zip(path: Path, max_unpacked: float) -> Literal["docx"]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "word/document.xml" in names:
                _unpack(zf, path, max_unpacked)
                return "docx"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        log.info("%s: broken ZIP: %s", path, exc)
        raise Corrupt(str(path), "corrupt or truncated DOCX/ZIP archive") from exc
    for prefix, what in OFFICE_ZIP_PARTS.items():
        if any(n.startswith(prefix) for n in names):
            raise Unsupported(str(path), f"unsupported file type ({what}, not a specification)")
    raise Unsupported(str(path), "unsupported file type (a ZIP archive without a Word document)")


def _unpack(zf: zipfile.ZipFile, path: Path, limit: float) -> None:
    """Inflate every part once, block by block, before python-docx loads them all into memory.

    A ZIP bomb (1 MB inflating to 1 GB) is refused by the sizes its parts declare; one that
    declares less fails here as corrupt (zipfile stops a part at its declared size and checks
    its CRC). A damaged part or an unknown compression method is a corrupt file too."""
    declared = sum(info.file_size for info in zf.infolist())
    if declared > limit:
        raise UnpacksTooLarge(str(path), f"unpacks to {declared / MB:,.0f} MB (the limit is {limit / MB:,.0f} "
                              f"MB, {UNPACK_FACTOR} times --max-mb; a ZIP bomb?)")
    for info in zf.infolist():
        if info.flag_bits & 0x1:
            raise Encrypted(str(path), "password-encrypted ZIP archive")
        try:
            with zf.open(info) as part:
                while part.read(MB):
                    pass
        except NotImplementedError as exc:  # Python's zipfile knows stored, deflate, bzip2, LZMA
            raise Corrupt(
                str(path), f"corrupt DOCX (unknown ZIP compression method {info.compress_type})"
            ) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            log.info("%s: %s cannot be unpacked: %s", path, info.filename, exc)
            raise Corrupt(str(path), "corrupt DOCX (its Word parts cannot be read)") from exc


def _check_ole(path: Path) -> NoReturn:
    """OLE containers are never parseable: tell encrypted OOXML, IRM, .doc and the rest apart."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
            word_fib = (
                ole.openstream("WordDocument").read(12) if ole.exists("WordDocument") else b""
            )
    except (OSError, ValueError, IndexError) as exc:
        log.info("%s: broken OLE container: %s", path, exc)
        raise Corrupt(str(path), "corrupt or truncated Office file") from exc
    if any(t in s for s in streams for t in DRM_TRANSFORMS):
        raise DrmProtected(str(path), "DRM-protected (Microsoft rights-management)")
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        raise Encrypted(str(path), "password-encrypted Office file")
    if word_fib:
        if len(word_fib) >= 12 and word_fib[0x0B] & 0x01:  # FIB fEncrypted
            raise Encrypted(str(path), "password-encrypted Word 97-2003 .doc")
        raise Unsupported(
            str(path), "legacy Word 97-2003 .doc, not DOCX (open it in Word and save as .docx)"
        )
    for stream, what in OLE_STREAMS.items():
        if stream in streams:
            raise Unsupported(str(path), f"unsupported file type ({what})")
    raise Unsupported(str(path), "unsupported file type (an OLE container that is not a Word file)")


def _describe(head: bytes) -> str:
    """What an unsupported file looks like, for the message."""
    for magic, what in IMAGE_MAGICS.items():
        if head.startswith(magic):
            return f"unsupported file type ({what}, not a PDF or DOCX)"
    if head.startswith(OLE_MAGIC):
        return "unsupported file type (an OLE container)"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:512]:
        return "unsupported file type (an HTML page, not a PDF or DOCX)"
    if text.startswith(b"{\\rtf"):
        return "unsupported file type (RTF, not DOCX; save it as .docx)"
    if _looks_like_text(head):
        return "unsupported file type (plain text, not a PDF or DOCX)"
    return "unsupported file type (not a PDF or DOCX)"


def _looks_like_text(head: bytes) -> bool:
    try:  # an incremental decoder tolerates a character cut at the end of the head
        decoded = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in decoded)

"""The CLI with bad input: failure lines of `ingest` on stderr and the index kept whole; `learn`
where $USER is unset."""

from __future__ import annotations

import getpass
import io
import pwd

import docx
import pymupdf
import pytest
import typer
from test_bad_input_archives import with_compression_method, zip_bomb
from test_bad_input_pdfs import cut_in_first_page, text_pdf
from typer.testing import CliRunner

from agent import cli
from agent.commands import ingest, learn


@pytest.fixture
def run(tmp_path, monkeypatch):
    """The real CLI over a real index (LSA embedder) with the real isolated parser."""
    monkeypatch.delenv("SPEC_AGENT_INDEX", raising=False)
    monkeypatch.setenv("SPEC_AGENT_EMBEDDER", "lsa")
    app = typer.Typer()
    app.callback()(cli._global)
    ingest.register(app)
    learn.register(app)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, ["--index", str(tmp_path / "idx"), *args], input=input)

    return invoke


def spec_pdf(*titles: str) -> bytes:
    document = pymupdf.open()
    for n, title in enumerate(titles, start=1):
        page = document.new_page()
        page.insert_text((72, 80), f"{n} {title}", fontname="hebo", fontsize=12)
        page.insert_text((72, 100), f"The DUT shall pass the {title.lower()} test of this clause.", fontsize=10)
    return document.tobytes()


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("1 Scope", level=1)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_failed_files_go_to_stderr_and_the_index_keeps_what_it_had(run, tmp_path):
    good = tmp_path / "ACME-EMC.pdf"
    good.write_bytes(spec_pdf("Scope", "Conducted emissions"))
    first = run("ingest", str(good))
    assert (first.exit_code, first.stdout, first.stderr) == (
        0, "added      ACME-EMC  (2 pages, 2 clauses, 0 tables)\n", "")

    bad = {
        "bomb.docx": zip_bomb(),
        "odd.docx": with_compression_method(docx_bytes(), "word/document.xml", 9),
        "cut.pdf": cut_in_first_page(text_pdf()),
        "tree.pdf": text_pdf().replace(b"/Count 4", b"/Count -4"),
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    other = tmp_path / "OEM-EMC.pdf"
    other.write_bytes(spec_pdf("Scope", "Radiated emissions", "Transients"))
    second = run("ingest", *(str(tmp_path / name) for name in bad), str(other))
    assert (second.exit_code, second.stdout) == (1, "added      OEM-EMC  (3 pages, 3 clauses, 0 tables)\n")
    assert second.stderr.splitlines() == [
        ("failed     bomb.docx: unpacks to 1,101 MB (the limit is 500 MB, 10 times --max-mb; a ZIP bomb?); "
         "check where the file came from; if it is a genuine specification, raise the limit with --max-mb "
         "(SPEC_AGENT_MAX_MB)."),
        "failed     odd.docx: corrupt DOCX (unknown ZIP compression method 9); download or export it again.",
        ("failed     cut.pdf: damaged PDF: no readable text on its pages (0 characters per page); download or "
         "export it again."),
        "failed     tree.pdf: damaged PDF (its page tree cannot be read); download or export it again.",
    ]

    listed = run("docs")
    assert [line.split("  ")[:2] for line in listed.stdout.splitlines()] == [
        ["ACME-EMC", "2 pages, 2 clauses, 0 tables"], ["OEM-EMC", "3 pages, 3 clauses, 0 tables"]]
    shown = run("show", "2", "--doc", "ACME-EMC")
    assert shown.stdout.splitlines()[0] == "ACME-EMC 2 Conducted emissions  (page 2)"


def test_only_failures_exit_1_with_nothing_on_stdout(run, tmp_path):
    (tmp_path / "cut.pdf").write_bytes(cut_in_first_page(text_pdf()))
    result = run("ingest", str(tmp_path / "cut.pdf"))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("failed     cut.pdf: damaged PDF")
    assert run("docs").stdout == "no documents yet; run `spec-agent ingest FILE`\n"


CORRECTION = '{"heading": "6.2 Current Probe Method", "text": "", "tests": [1]}\n'


def _no_user_variables(monkeypatch):
    for name in ("USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)


def test_learn_without_user_variable_takes_the_login_name(run, monkeypatch):
    _no_user_variables(monkeypatch)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: pwd.struct_passwd(("erin", "x", uid, 0, "", "/", "/bin/sh")))
    result = run("learn", input=CORRECTION)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("stored 1 correction(s) by erin in ")
    assert getpass.getuser() == "erin"


def test_learn_without_any_login_name_still_stores(run, monkeypatch):
    """A container's uid without a passwd entry: getpass.getuser() fails; the store does not."""
    _no_user_variables(monkeypatch)

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    result = run("learn", input=CORRECTION)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("stored 1 correction(s) by unknown in ")

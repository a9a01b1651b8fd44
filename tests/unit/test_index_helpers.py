"""Shared builders for the index tests: small constructed Documents saved as JSON "files"."""

from __future__ import annotations

import json
from pathlib import Path

from agent.config import Settings
from agent.index import SpecIndex
from agent.schema import Clause, Document, Table, document_from_dict, to_dict

CS114_TEXT = (
    "The bulk cable injection test applies a calibrated injection probe to each cable bundle.\n\n"
    "The requirement is applicable from 10 kHz to 200 MHz for all interconnecting cables, "
    "including power cables."
)


def _c(number: str, title: str, text: str, parents: tuple[str, ...] = (), page: int = 1,
       tables: tuple[str, ...] = ()) -> Clause:
    return Clause(number=number, title=title, text=text, parents=parents, page=page, tables=tables)


def mil_doc(name: str = "MIL-STD-461G", rs103: str = "5.21", extra: str = "") -> Document:
    """A miniature MIL-STD-461: clause 5 with CS114 (5.12), ESD table, RS103 at `rs103`."""
    clauses = (
        _c("5", "DETAILED REQUIREMENTS", "This section specifies detailed emission and susceptibility "
           "requirements.", page=20),
        _c("5.12", "CS114, Conducted susceptibility, bulk cable injection", CS114_TEXT, ("5",), 60),
        _c("5.12.1", "CS114 applicability", "Applicable to all electrical cables.", ("5", "5.12"), 60),
        _c("5.12.3", "CS114 test procedures", "Calibrate the injection probe in the fixture. " + extra,
           ("5", "5.12"), 62, tables=("TABLE VIII",)),
        _c(rs103, "RS103, Radiated susceptibility, electric field, 2 MHz to 40 GHz",
           "The equipment shall not exhibit any malfunction when subjected to the radiated electric "
           "field levels of Table 7-1. Field strength is given in V/m and dBµV/m.", ("5",), 160),
    )
    tables = (
        Table(id="TABLE VIII", caption="ESD test levels", clause="5.12.3", page=63,
              header=(("Level", "Voltage"),), rows=(("1", "2 kV"), ("2", "4 kV | air"))),
        Table(id="Table 7-1", caption="RS103 limits", clause=rs103, page=161,
              header=(("Platform", "Army"), ("", "V/m")), rows=(("Aircraft", "200"), ("Ships", "10"))),
    )
    return Document(name=name, path=f"{name}.pdf", sha256="", kind="pdf", pages=300,
                    clauses=clauses, tables=tables, title="Requirements for the control of EMI")


def write_doc(folder: Path, doc: Document, filename: str | None = None) -> Path:
    """`doc` as a JSON file (its bytes give the file's hash); parsed back by `json_parser`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or f"{doc.name}.json")
    path.write_text(json.dumps(to_dict(doc), indent=1), encoding="utf-8")
    return path


def json_parser(path: Path, settings: Settings) -> Document:
    if path.suffix == ".bad":
        from agent.errors import Corrupt

        raise Corrupt(str(path))
    return document_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def lsa_settings(tmp: Path, **changes) -> Settings:
    return Settings(index_dir=tmp / "idx", embedder="lsa", offline=True, **changes)


def open_index(tmp: Path, **kwargs) -> SpecIndex:
    return SpecIndex.open(lsa_settings(tmp), parser=json_parser, **kwargs)

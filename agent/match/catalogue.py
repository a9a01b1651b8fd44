"""The test catalogue as data: load, validate and describe the EMC tests clauses are matched to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FAMILIES = ("emission", "immunity", "esd")
_TEST_FIELDS = {
    "id", "code", "name", "family", "standards", "oem_codes", "aliases", "keywords",
    "ambiguous", "excludes", "units", "frequency_range", "description", "facets",
}
_REQUIRED = ("id", "code", "name", "family", "description")
BUILTIN = Path(__file__).resolve().parents[1] / "data" / "catalogue.yaml"


@dataclass(frozen=True)
class StandardRef:
    """A standard that defines a test; `with_words` must co-occur when `ref` alone is ambiguous."""

    ref: str
    method: str = ""
    with_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class OemCode:
    code: str
    oem: str = ""


@dataclass(frozen=True)
class CatalogueTest:
    """One test of the catalogue; phrases are matched case-insensitively on word boundaries."""

    id: int
    code: str
    name: str
    family: str
    description: str
    standards: tuple[StandardRef, ...] = ()
    oem_codes: tuple[OemCode, ...] = ()
    aliases: tuple[str, ...] = ()
    keywords: tuple[tuple[str, float], ...] = ()
    ambiguous: tuple[tuple[str, float], ...] = ()
    excludes: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    frequency_range: str = ""
    facets: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (dimension, values): ("path", ("esd",))

    def document(self) -> str:
        """The text that stands for this test in similarity search."""
        parts = [self.name, self.code, self.description]
        parts += [f"{s.ref} {s.method}" for s in self.standards]
        parts += [c.code for c in self.oem_codes] + list(self.aliases)
        parts += [k for k, _ in self.keywords] + [k for k, _ in self.ambiguous]
        return " ".join(parts).replace("*", "")


@dataclass(frozen=True)
class Catalogue:
    tests: tuple[CatalogueTest, ...]
    not_tests: tuple[tuple[str, float], ...] = ()
    source: str = "built-in"

    def by_id(self, test_id: int) -> CatalogueTest:
        for test in self.tests:
            if test.id == test_id:
                return test
        raise KeyError(f"no test with id {test_id} in catalogue {self.source}")

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(t.id for t in self.tests)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The catalogue from a YAML file (None or "": the built-in one); ValueError names bad entries."""
    if path:
        source = str(path)
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise ValueError(f"catalogue {source}: cannot be read ({err.strerror}); check the path") from err
    else:
        source = "built-in"
        raw = BUILTIN.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise ValueError(f"catalogue {source}: not valid YAML ({err})") from err
    return parse_catalogue(data, source)


def parse_catalogue(data: Any, source: str = "<data>") -> Catalogue:
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list) or not data["tests"]:
        raise ValueError(f"catalogue {source}: needs a non-empty 'tests' list")
    tests = tuple(_parse_test(entry, i, source) for i, entry in enumerate(data["tests"]))
    _check_unique(tests, source)
    not_tests = _weights(data.get("not_tests") or {}, f"catalogue {source}: not_tests")
    return Catalogue(tests=tests, not_tests=not_tests, source=source)


def _parse_test(entry: Any, index: int, source: str) -> CatalogueTest:
    where = f"catalogue {source}: test #{index}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be a mapping of fields")
    if "id" in entry:
        where = f"catalogue {source}: test id {entry['id']}"
    unknown = set(entry) - _TEST_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_TEST_FIELDS)}")
    for name in _REQUIRED:
        if entry.get(name) in (None, ""):
            raise ValueError(f"{where}: field '{name}' is missing")
    if not isinstance(entry["id"], int) or isinstance(entry["id"], bool) or entry["id"] < 0:
        raise ValueError(f"{where}: field 'id' must be a non-negative integer")
    if entry["family"] not in FAMILIES:
        raise ValueError(f"{where}: field 'family' is {entry['family']!r}; allowed: {list(FAMILIES)}")
    return CatalogueTest(
        id=entry["id"],
        code=str(entry["code"]),
        name=str(entry["name"]),
        family=entry["family"],
        description=" ".join(str(entry["description"]).split()),
        standards=tuple(_standard(s, where) for s in entry.get("standards") or ()),
        oem_codes=tuple(_oem_code(c, where) for c in entry.get("oem_codes") or ()),
        aliases=_strings(entry.get("aliases"), f"{where}: field 'aliases'"),
        keywords=_weights(entry.get("keywords") or {}, f"{where}: field 'keywords'"),
        ambiguous=_weights(entry.get("ambiguous") or {}, f"{where}: field 'ambiguous'"),
        excludes=_strings(entry.get("excludes"), f"{where}: field 'excludes'"),
        units=_strings(entry.get("units"), f"{where}: field 'units'"),
        frequency_range=str(entry.get("frequency_range") or ""),
        facets=_facets(entry.get("facets") or {}, f"{where}: field 'facets'"),
    )


def _standard(item: Any, where: str) -> StandardRef:
    if isinstance(item, str):
        return StandardRef(ref=item)
    if not isinstance(item, dict) or not item.get("ref"):
        raise ValueError(f"{where}: field 'standards' entries need a 'ref' (e.g. ISO 11452-4)")
    return StandardRef(
        ref=str(item["ref"]),
        method=str(item.get("method") or ""),
        with_words=_strings(item.get("with"), f"{where}: field 'standards' ({item['ref']}) 'with'"),
    )


def _oem_code(item: Any, where: str) -> OemCode:
    if isinstance(item, str):
        return OemCode(code=item)
    if not isinstance(item, dict) or not item.get("code"):
        raise ValueError(f"{where}: field 'oem_codes' entries need a 'code' (e.g. RI 112)")
    return OemCode(code=str(item["code"]), oem=str(item.get("oem") or ""))


def _facets(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: must be a mapping of dimension to value(s)")
    return tuple((str(dim), _strings(v if isinstance(v, list) else [v], where)) for dim, v in value.items())


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ValueError(f"{where} must be a list of strings")
    return tuple(str(v) for v in value)


def _weights(value: Any, where: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must map phrases to weights (\"phrase\": 0.8)")
    out = []
    for phrase, weight in value.items():
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 2:
            raise ValueError(f"{where}: weight of {phrase!r} must be a number in (0, 2]")
        out.append((str(phrase), float(weight)))
    return tuple(out)


def _check_unique(tests: tuple[CatalogueTest, ...], source: str) -> None:
    for attr in ("id", "code"):
        seen: set[Any] = set()
        for test in tests:
            value = getattr(test, attr)
            if value in seen:
                raise ValueError(f"catalogue {source}: test id {test.id}: duplicate {attr} {value!r}")
            seen.add(value)

"""References users type: clause numbers ("5.12.3") and table ids ("Table VIII", "table 7-1")."""

from __future__ import annotations

import re

from agent.schema import TABLE_WORD

_ROMAN = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)
_TABLE_IN_TEXT = re.compile(rf"\b{TABLE_WORD}\s+([A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*)", re.IGNORECASE)
_CLAUSE_NUMBER = r"(?:\d+(?:\.\d+)+|[A-Z]\.\d+(?:\.\d+)*)"
# A number counts as a clause reference at the start of a query, after a word that says so,
# or when it is deep enough (three levels) not to be a plain decimal such as "1.5 GHz".
_CLAUSE_IN_TEXT = re.compile(
    rf"(?:^|(?:clause|section|paragraph|para\.?|sec\.?|§)\s*)({_CLAUSE_NUMBER})(?![\w.]*\w)"
    rf"|(?<![\w.])(\d+\.\d+\.\d+(?:\.\d+)*)(?![\w])",
    re.IGNORECASE,
)


def to_roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def from_roman(text: str) -> int | None:
    """The value of a well-formed Roman numeral, else None ("IIII" → None)."""
    text = text.upper()
    if not text or set(text) - set("MDCLXVI"):
        return None
    total, i = 0, 0
    for value, letters in _ROMAN:
        while text.startswith(letters, i):
            total, i = total + value, i + len(letters)
    return total if i == len(text) and to_roman(total) == text else None


def table_key(table_id: str) -> str:
    """The comparable part of a table id: "TABLE VIII" → "VIII", "Table 7-1" → "7-1"."""
    key = re.sub(rf"^\s*{TABLE_WORD}(?<!\.)\b\.?|^\s*tab\.", "", table_id.strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+", "", key).rstrip(".:").upper()


def table_key_variants(key: str) -> list[str]:
    """The other spelling of a table number: "8" ↔ "VIII" (only plain numbers convert)."""
    if key.isdigit() and 0 < int(key) < 4000:
        return [to_roman(int(key))]
    value = from_roman(key)
    return [str(value)] if value else []


def looks_like_table(ref: str) -> bool:
    return bool(re.match(rf"^\s*{TABLE_WORD}", ref, re.IGNORECASE))


def tables_named(query: str) -> list[str]:
    """Table keys a query names: "limits of table VIII" → ["VIII"]."""
    return [table_key(m.group(1)) for m in _TABLE_IN_TEXT.finditer(query)]


def clauses_named(query: str) -> list[str]:
    """Clause numbers a query names: "5.12 bulk cable" → ["5.12"]; "1.5 GHz" → []."""
    found = []
    for match in _CLAUSE_IN_TEXT.finditer(query.strip()):
        number = (match.group(1) or match.group(2)).rstrip(".")
        if number not in found:
            found.append(number)
    return found


def clause_key(number: str) -> str:
    """A clause number as stored: trimmed, no trailing dot, "appendix a" → "APPENDIX A"."""
    number = re.sub(r"\s+", " ", number.strip()).rstrip(".")
    return number.upper() if re.match(r"^(annex|appendix)\b", number, re.IGNORECASE) else number

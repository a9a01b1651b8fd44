"""Conditions a value question puts on a table row, read without a model.

- `conditions(understanding) -> list[str]`: the phrases as written that may tell rows apart:
  quantities other than the frequency asked ("3 m", "24 V"), selectors ("class A" → "A"),
  row ids ("B2.3", "row 6.3" → "6.3"), hyphenated terms ("quasi-peak") and the other content
  words ("mains", "enclosure", "OATS"). The table lookup keeps the rows that say most of them,
  counting only the terms that some rows say and others do not, so a stray word costs nothing.
- `selector_phrases(question)`: "class B", "level 3" as written, to choose between tables.
- `row_ids(question) -> list[str]`: the row ids a question names ("B2.3", "A4.1", "row 6.3").
- `ports(text) -> set[str]`: the kinds of port a text names ("ac", "dc", "signal", "enclosure",
  "hv", "lv"): a caption that names another port than the question is not its table.
"""

from __future__ import annotations

import re

from agent.graph.understand import Understanding

FREQUENCY_UNITS = ("Hz", "kHz", "MHz", "GHz")
_ROW_ID = re.compile(r"(?<![\w.])(?:[A-Z]{1,2}\d+(?:\.\d+)+|[A-Z]\d{1,2})(?![\w.]|\.\d)")
_ROW_WORD = re.compile(r"\b(?:row|line|item|entry|table clause)\s+(?P<id>[A-Z]{0,2}\d+(?:\.\d+)*[a-z]?)\b", re.I)
_SELECTOR = re.compile(r"\b(?:class|category|level|zone|severity|curve|mode|group|klasse|stufe|classe|niveau)\s+(?P<v>[A-Z0-9]{1,3})\b", re.I)
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)+|[A-Za-z][A-Za-z/]{2,}|\b[A-Z]{2}\b")  # "FM", "QP": acronyms too
_STOP = set("""
what which where when who how does do did is are was were the a an of for to in on at by with from
and or not any all this that these those there their its it be been shall should must may can
limit limits value values level levels table tables clause section paragraph spec specification
standard document give tell me please apply applies applied required require requires requirement
requirements allowed maximum minimum max min between above below over under up per using used
measured measurement measure test tested testing equipment device unit our we i you need have has
much many long high low large small frequency frequencies band range mhz khz ghz hz
""".split())


_PORTS = {
    "ac": re.compile(r"\bAC\b|\bmains\b|\ba\.c\.", re.I),
    "dc": re.compile(r"\bDC\b|\bd\.c\.|\bbattery\b|\b\d+ ?V ?DC\b", re.I),
    "signal": re.compile(r"\bsignal|\bcontrol (?:port|line)|\btelecom|\bdata (?:port|line)|\bcommunication|\bbus\b", re.I),
    "enclosure": re.compile(r"\benclosure|\bhousing\b|\bcabinet\b", re.I),
    "hv": re.compile(r"\bHV\b|\bhigh[- ]voltage", re.I),
    "lv": re.compile(r"\bLV\b|\blow[- ]voltage", re.I),
}


# The kind of quantity a question asks for, said by its words ("how long must the cable be" asks a
# length or a time; "what supply voltage" a voltage), and the units that state each kind. A test
# method's name ("voltage method", "current probe") names no quantity asked for.
_METHOD_NAMES = re.compile(r"\b(?:voltage|current)[- ](?:method|probe|clamp|injection|monitor)s?\b"
                           r"|\bbulk current\b|\bcurrent[- ]carrying\b", re.I)
_ASKED_KINDS = {
    "length": re.compile(r"\bhow (?:long|far|high|thick)\b|\b(?:length|distance|height|spacing|separation|"
                         r"thickness|diameter)s?\b", re.I),
    "time": re.compile(r"\bhow long\b|\b(?:duration|dwell|time|interval|period|rise time|pulse width)s?\b", re.I),
    "voltage": re.compile(r"\bvoltages?\b|\bhow many volts\b", re.I),
    "current": re.compile(r"\bcurrents?\b|\bhow many amps\b", re.I),
    "temperature": re.compile(r"\btemperatures?\b", re.I),
}
_KIND_UNITS = {
    "length": re.compile(r"(?<![A-Za-zµ/])(?:mm|cm|m)(?![A-Za-z/])|\b(?:millimet|centimet|met)(?:er|re)s?\b"),
    "time": re.compile(r"(?<![A-Za-zµ/])(?:s|sec|ms|µs|us|ns|min|h)(?![A-Za-z])|\b(?:seconds?|minutes?|hours?)\b"),
    "voltage": re.compile(r"(?<![A-Za-zµ/])(?:[kmµ]?V|dB ?\(?[µu]V\)?)(?![A-Za-z/])|\bvolts?\b"),
    "current": re.compile(r"(?<![A-Za-zµ/])(?:[kmµ]?A|dB ?\(?[µu]A\)?)(?![A-Za-z/])|\bamps?\b"),
    "temperature": re.compile(r"°\s?C|\bdeg(?:rees)? C\b"),
}


def asked_kinds(question: str) -> set[str]:
    """The kinds of quantity the question asks for ("length", "time", "voltage", "current",
    "temperature"); empty when it names none (a limit, a level: any unit may state them)."""
    said = _METHOD_NAMES.sub(" ", question)
    return {kind for kind, rx in _ASKED_KINDS.items() if rx.search(said)}


def states_kind(text: str, kinds: set[str]) -> bool:
    """Does the text (a table's header and cells) state a quantity of one of these kinds?"""
    return any(_KIND_UNITS[k].search(text) for k in kinds)


def ports(text: str) -> set[str]:
    return {name for name, rx in _PORTS.items() if rx.search(text)}


def selector_phrases(question: str) -> list[str]:
    """ "class B", "level 3" as written: a caption that says one names the table asked for."""
    return [m.group(0) for m in _SELECTOR.finditer(question)]


def row_ids(question: str) -> list[str]:
    ids = [m.group(0) for m in _ROW_ID.finditer(question)]
    ids += [m["id"] for m in _ROW_WORD.finditer(question)]
    return list(dict.fromkeys(ids))


def conditions(u: Understanding) -> list[str]:
    terms = [q.text for q in u.quantities if q.unit not in FREQUENCY_UNITS]
    terms += [m["v"] for m in _SELECTOR.finditer(u.question)]
    terms += row_ids(u.question)
    words = [w for w in _WORD.findall(u.question) if w.lower() not in _STOP]
    terms += [w for w in words if not re.fullmatch(r"[A-Z]{1,3}\d*", w) or len(w) > 1]
    terms += [m.group(0) for m in _LABELLED.finditer(u.question) if m.group(1).lower() not in _STOP]
    return list(dict.fromkeys(terms))


# A word and the short label after it, as a row names itself ("fast b", "pulse 3a", "mode B2").
_LABELLED = re.compile(r"\b([A-Za-z]{3,}) ([A-Za-z]?\d{0,2}[A-Za-z]?)(?=[\s,.;?!]|$)(?<=\w)")

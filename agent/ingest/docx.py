"""DOCX parsing: body order, headings (Word numbering or typed numbers), tables, captions.

Headings come from heading styles (built-in "heading N" names, or any style / paragraph with an
outline level) numbered by Word's auto-numbering (numbering.xml, computed like Word does), or
from a number typed in the text ("8.2.2.1 Conducted emissions", `clauses.split_heading`).
A clause's `position` is the index of its heading among the body's block items (paragraphs and
tables, content controls flattened) in document order; `page` is None (DOCX has no pages).

docx2txt is not used: it flattens the body to plain text (losing styles, numbering and the
order of tables), and its image extraction writes files we have no use for.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from agent.config import Settings
from agent.errors import Corrupt, Unsupported
from agent.ingest.clauses import (
    ClauseBuilder,
    is_toc_line,
    plausible_step,
    prose_rows,
    sheet_heading,
    split_heading,
)
from agent.ingest.pdf_tables import split_caption
from agent.schema import Document, Table

log = logging.getLogger(__name__)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_FIGURE = re.compile(
    r"^(?:figure|fig\.)\s+(?:[A-Z]{1,6}\d*-)?[0-9]+(?:[.\-–][0-9]+)*[a-z]?\b"
    r"(?P<sep>\s*[-–—:.]\s*|\s+)(?P<title>.*)$",
    re.IGNORECASE,
)
_HEADING_NAME = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)


@dataclass
class _Para:
    position: int
    text: str
    style: str  # style name, lower case ("heading 1", "caption", "normal")
    level: int | None  # heading level from style / outline level, None for body text
    label: str | None  # Word auto-number as displayed ("8.2.1", "a)"), None if not numbered


@dataclass
class _Tbl:
    position: int
    header: tuple[tuple[str, ...], ...]
    rows: tuple[tuple[str, ...], ...]
    caption: tuple[str, str] | None = None  # (id, caption) from an adjacent paragraph
    continued: bool = False  # "Table 3 (continued)": rows belong to the earlier Table 3


@dataclass
class _Styles:
    """Paragraph style properties with the basedOn chain resolved."""

    by_id: dict[str, etree._Element] = field(default_factory=dict)
    default: str = ""

    @classmethod
    def of(cls, document: docx.document.Document) -> _Styles:
        styles = cls()
        for el in document.styles.element.iterfind(f"{W}style"):
            if el.get(f"{W}type") == "paragraph":
                sid = el.get(f"{W}styleId") or ""
                styles.by_id[sid] = el
                if el.get(f"{W}default") in ("1", "true"):
                    styles.default = sid
        return styles

    def chain(self, style_id: str) -> list[etree._Element]:
        out: list[etree._Element] = []
        el = self.by_id.get(style_id or self.default)
        while el is not None and el not in out:
            out.append(el)
            based = el.find(f"{W}basedOn")
            el = self.by_id.get(based.get(f"{W}val")) if based is not None else None
        return out

    def name(self, style_id: str) -> str:
        chain = self.chain(style_id)
        name = chain[0].find(f"{W}name") if chain else None
        return (name.get(f"{W}val") or "").lower() if name is not None else ""

    def first(self, style_id: str, path: str) -> etree._Element | None:
        for el in self.chain(style_id):
            found = el.find(path)
            if found is not None:
                return found
        return None


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    restart: int | None = None  # w:lvlRestart: restarts only after levels above this one
    legal: bool = False  # w:isLgl: show every level in decimal
    style: str = ""  # w:pStyle: the paragraph style linked to this level


class Numbering:
    """Word's list counters: the number each numbered paragraph displays, in body order.

    Counters run per abstract numbering definition (lists sharing one continue each other);
    a w:num's startOverride restarts its level the first time that w:num is used.
    """

    def __init__(self, root: etree._Element | None) -> None:
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._nums: dict[str, tuple[str, dict[int, _Level], set[int]]] = {}
        self._counters: dict[str, dict[int, int]] = {}
        self._used: set[str] = set()
        if root is None:
            return
        for el in root.iterfind(f"{W}abstractNum"):
            self._abstract[el.get(f"{W}abstractNumId", "")] = {
                int(lvl.get(f"{W}ilvl", "0")): _level(lvl, _Level())
                for lvl in el.iterfind(f"{W}lvl")
            }
        for el in root.iterfind(f"{W}num"):
            self._nums[el.get(f"{W}numId", "")] = self._num(el)

    def _num(self, el: etree._Element) -> tuple[str, dict[int, _Level], set[int]]:
        abstract_id = _val(el, "abstractNumId") or ""
        levels = {k: _Level(**vars(v)) for k, v in self._abstract.get(abstract_id, {}).items()}
        restarted: set[int] = set()
        for override in el.iterfind(f"{W}lvlOverride"):
            ilvl = int(override.get(f"{W}ilvl", "0"))
            lvl = override.find(f"{W}lvl")
            levels[ilvl] = (
                _level(lvl, levels.get(ilvl, _Level()))
                if lvl is not None
                else levels.get(ilvl, _Level())
            )
            start = _val(override, "startOverride")
            if start is not None:
                levels[ilvl].start = int(start)
                restarted.add(ilvl)
        return abstract_id, levels, restarted

    def level_of_style(self, num_id: str, style_id: str) -> int:
        """The level a style is linked to (w:pStyle in the definition); 0 when none is."""
        _, levels, _ = self._nums.get(num_id, ("", {}, set()))
        return next((k for k, v in sorted(levels.items()) if style_id and v.style == style_id), 0)

    def next_label(self, num_id: str, ilvl: int) -> str | None:
        """Count one paragraph at (num_id, ilvl); its displayed number, None for bullets."""
        if num_id not in self._nums:
            return None
        abstract_id, levels, restarted = self._nums[num_id]
        counters = self._counters.setdefault(abstract_id, {})
        if num_id not in self._used:
            self._used.add(num_id)
            for k in restarted:
                counters.pop(k, None)
        level = levels.get(ilvl, _Level())
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else level.start
        for deeper in [k for k in counters if k > ilvl]:
            restart = levels.get(deeper, _Level()).restart
            if restart is None or ilvl < restart:
                del counters[deeper]
        if level.fmt in ("bullet", "none") or not level.text:
            return None
        return re.sub(
            r"%([1-9])",
            lambda m: self._show(levels, counters, int(m[1]) - 1, level.legal),
            level.text,
        ).strip()

    @staticmethod
    def _show(levels: dict[int, _Level], counters: dict[int, int], k: int, legal: bool) -> str:
        lvl = levels.get(k, _Level())
        return format_number(counters.get(k, lvl.start), "decimal" if legal else lvl.fmt)


def _level(el: etree._Element, base: _Level) -> _Level:
    restart = _val(el, "lvlRestart")
    legal = el.find(f"{W}isLgl")
    return _Level(
        start=int(_val(el, "start") or base.start),
        fmt=_val(el, "numFmt") or base.fmt,
        text=_val(el, "lvlText") if _val(el, "lvlText") is not None else base.text,
        restart=int(restart) if restart is not None else base.restart,
        legal=(legal is not None and legal.get(f"{W}val", "1") not in ("0", "false")) or base.legal,
        style=_val(el, "pStyle") or base.style,
    )


def format_number(value: int, fmt: str) -> str:
    """A counter as Word shows it in a numFmt (decimal, upperLetter, lowerRoman, ...)."""
    if fmt in ("upperLetter", "lowerLetter"):
        letter = chr(ord("A") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return letter if fmt == "upperLetter" else letter.lower()
    if fmt in ("upperRoman", "lowerRoman"):
        roman = _roman(value)
        return roman if fmt == "upperRoman" else roman.lower()
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)


def _roman(value: int) -> str:
    out = ""
    for n, s in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while value >= n:
            out, value = out + s, value - n
    return out


def parse_docx(
    path: str | Path, settings: Settings, *, name: str | None = None, sha256: str = ""
) -> Document:
    """Parse a DOCX file into a Document (clauses and tables in body order)."""
    path = Path(path)
    name = name or path.stem
    document = _open(path)
    paragraphs, tables = _read_body(document)
    _attach_captions(paragraphs, tables)
    clauses, table_records = _assemble(paragraphs, tables, name)
    title = document.core_properties.title or next(
        (p.text for p in paragraphs if p.style == "title" and p.text), ""
    )
    log.info("%s: %d clauses, %d tables", path.name, len(clauses), len(table_records))
    return Document(
        name=name,
        path=str(path),
        sha256=sha256,
        kind="docx",
        pages=0,
        clauses=clauses,
        tables=table_records,
        title=title,
    )


def _open(path: Path) -> docx.document.Document:
    try:
        return docx.Document(str(path))
    except ValueError as exc:  # python-docx: "file '...' is not a Word file, content type is ..."
        raise Unsupported(
            str(path), "a Word template or macro-enabled file, not DOCX (save it as .docx)"
        ) from exc
    except (
        PackageNotFoundError,
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        EOFError,
        NotImplementedError,  # zipfile: an unknown compression method (sniff.py says which)
        etree.XMLSyntaxError,
    ) as exc:
        log.info("%s: python-docx could not open it: %s", path, exc)
        raise Corrupt(str(path), "corrupt DOCX (its Word parts cannot be read)") from exc


def _read_body(document: docx.document.Document) -> tuple[list[_Para], list[_Tbl]]:
    styles = _Styles.of(document)
    numbering = Numbering(_numbering_element(document))
    paragraphs: list[_Para] = []
    tables: list[_Tbl] = []
    for position, el in enumerate(_blocks(document.element.body)):
        if el.tag == f"{W}tbl":
            header, rows = table_cells(el)
            tables.append(_Tbl(position, header, rows))
        else:
            paragraphs.append(_paragraph(el, position, styles, numbering))
    return paragraphs, tables


def _numbering_element(document: docx.document.Document) -> etree._Element | None:
    for rel in document.part.rels.values():
        if rel.reltype == RT.NUMBERING and not rel.is_external:
            return rel.target_part.element
    return None


def _blocks(parent: etree._Element):
    """Paragraphs and tables of the body in order, descending into content controls (w:sdt)."""
    for el in parent.iterchildren():
        if el.tag in (f"{W}p", f"{W}tbl"):
            yield el
        elif el.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            yield from _blocks(el)


def _paragraph(el: etree._Element, position: int, styles: _Styles, numbering: Numbering) -> _Para:
    ppr = el.find(f"{W}pPr")
    style_el = ppr.find(f"{W}pStyle") if ppr is not None else None
    style_id = style_el.get(f"{W}val") if style_el is not None else ""
    level = _heading_level(ppr, style_id, styles)
    label = _number_label(ppr, style_id, styles, numbering)
    return _Para(position, paragraph_text(el), styles.name(style_id), level, label)


def _heading_level(ppr: etree._Element | None, style_id: str, styles: _Styles) -> int | None:
    outline = ppr.find(f"{W}outlineLvl") if ppr is not None else None
    if outline is None:
        outline = styles.first(style_id, f"{W}pPr/{W}outlineLvl")
    if outline is not None:
        value = int(outline.get(f"{W}val", "9"))
        return value + 1 if value < 9 else None
    match = _HEADING_NAME.match(styles.name(style_id))
    return int(match[1]) if match else None


def _number_label(ppr, style_id: str, styles: _Styles, numbering: Numbering) -> str | None:
    """Advance Word's list counters for this paragraph and return its displayed number."""
    direct = ppr.find(f"{W}numPr") if ppr is not None else None
    inherited = styles.first(style_id, f"{W}pPr/{W}numPr")
    num_id = _val(direct, "numId") or _val(inherited, "numId")
    if not num_id or num_id == "0":
        return None
    ilvl = _val(direct, "ilvl") or _val(inherited, "ilvl")
    level = int(ilvl) if ilvl is not None else numbering.level_of_style(num_id, style_id)
    return numbering.next_label(num_id, level)


def _val(numpr: etree._Element | None, child: str) -> str | None:
    el = numpr.find(f"{W}{child}") if numpr is not None else None
    return el.get(f"{W}val") if el is not None else None


def paragraph_text(el: etree._Element) -> str:
    """Visible text of a paragraph: runs, hyperlinks, tracked insertions and field results."""
    parts: list[str] = []
    for node in el.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr", f"{W}noBreakHyphen"):
        if any(a.tag == MC_FALLBACK for a in node.iterancestors()):
            continue  # the fallback copy of a text box already read in mc:Choice
        if node.tag == f"{W}t":
            parts.append(node.text or "")
        elif node.tag == f"{W}noBreakHyphen":
            parts.append("-")
        else:
            parts.append("\t" if node.tag == f"{W}tab" else "\n")
    return "".join(parts).replace("\u00a0", " ").strip()


def table_cells(
    tbl: etree._Element,
) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """(header rows, body rows) of a table; a merged cell's text sits in its first grid cell."""
    grid: list[list[str]] = []
    header_rows = 0
    for i, tr in enumerate(tbl.iterfind(f"{W}tr")):
        trpr = tr.find(f"{W}trPr")
        row = [""] * _grid_skip(trpr, "gridBefore")
        for tc in tr.iterfind(f"{W}tc"):
            tcpr = tc.find(f"{W}tcPr")
            span = int(_val(tcpr, "gridSpan") or 1)
            vmerge = tcpr.find(f"{W}vMerge") if tcpr is not None else None
            continued = vmerge is not None and vmerge.get(f"{W}val", "continue") == "continue"
            text = "" if continued else _cell_text(tc)
            row.extend([text] + [""] * (span - 1))
        grid.append(row)
        if header_rows == i and _is_header(trpr):
            header_rows += 1
    width = max((len(r) for r in grid), default=0)
    rows = tuple(tuple(r + [""] * (width - len(r))) for r in grid)
    split = header_rows or min(1, len(rows))
    return rows[:split], rows[split:]


def _grid_skip(trpr: etree._Element | None, name: str) -> int:
    return int(_val(trpr, name) or 0)


def _is_header(trpr: etree._Element | None) -> bool:
    el = trpr.find(f"{W}tblHeader") if trpr is not None else None
    return el is not None and el.get(f"{W}val", "true") not in ("0", "false", "off")


def _cell_text(tc: etree._Element) -> str:
    lines = [paragraph_text(p) for p in tc.iter(f"{W}p")]
    return " ".join(line for line in lines if line)  # as pdf_tables joins a cell's lines


def is_figure_caption(text: str, style: str = "") -> bool:
    """ "Figure 5 – Set-up" is a caption; "Figure 5 shows the set-up" is a sentence."""
    match = _FIGURE.match(text.strip())
    if not match or len(text) > 200:
        return False
    return style == "caption" or bool(match["sep"].strip()) or not match["title"][:1].islower()


def _attach_captions(paragraphs: list[_Para], tables: list[_Tbl]) -> None:
    """Give each table the caption just before it; failing that, an unclaimed one just after it."""
    by_position = {p.position: p for p in paragraphs}
    for step in (-1, 1):
        for table in tables:
            pos = _neighbour(by_position, table.position, step) if table.caption is None else None
            para = by_position.get(pos) if pos is not None else None
            found = split_caption(para.text) if para and para.style != "table caption" else None
            if para and found:
                table.caption, table.continued = (found[0], found[1]), found[2]
                para.style, para.level, para.label = "table caption", None, None


def _neighbour(by_position: dict[int, _Para], position: int, step: int) -> int | None:
    """Position of the nearest non-empty paragraph on one side of a block (None past a table)."""
    pos = position + step
    while pos in by_position:
        if by_position[pos].text:
            return pos
        pos += step
    return None


def _assemble(
    paragraphs: list[_Para], tables: list[_Tbl], doc: str
) -> tuple[tuple, tuple[Table, ...]]:
    builder = ClauseBuilder(doc)
    records: list[Table] = []
    blocks = sorted([*paragraphs, *tables], key=lambda b: b.position)
    last: str | None = None
    for block in blocks:
        if isinstance(block, _Tbl):
            sheet = sheet_heading([*block.header, *block.rows])
            if sheet is not None:  # a test sheet opens: a section of its own, its header read as text
                builder.heading(sheet[0], sheet[1], position=block.position)
                for line in sheet[2]:
                    builder.text(line)
            _add_table(records, block, builder.current, doc)
            builder.table(records[-1].id if not block.continued else block.caption[0])
            for line in prose_rows(block.header, block.rows):  # requirements stated in a table's rows
                builder.text(line)
            continue
        heading = _heading_of(block, last)
        if heading:
            builder.heading(*heading, position=block.position)
            last = heading[0]
        elif block.style != "table caption":
            _body_text(builder, block)
    return builder.build(), tuple(records)


def _heading_of(para: _Para, last: str | None) -> tuple[str, str] | None:
    """(number, title) if the paragraph is a heading: styled, auto-numbered or typed."""
    if not para.text or para.style.startswith("toc") or is_toc_line(para.text):
        return None
    if para.level is not None:
        label = (para.label or "").rstrip(".) ").strip()
        if label:
            return label, " ".join(para.text.split())
        return split_heading(para.text)  # None: an unnumbered heading ("Foreword") stays text
    if para.label is not None or "\n" in para.text:
        return None  # list items and multi-line paragraphs are body text
    typed = split_heading(para.text)
    # a typed number outside a heading style must continue the heading sequence
    return typed if typed and plausible_step(last, typed[0]) else None


def _body_text(builder: ClauseBuilder, para: _Para) -> None:
    if is_figure_caption(para.text, para.style):
        builder.figure(para.text)
    elif para.label:
        builder.text(f"{para.label} {para.text}")
    else:
        builder.text(para.text)


def _add_table(records: list[Table], block: _Tbl, clause: str | None, doc: str) -> None:
    """Append the table's record, or extend the earlier part of a "(continued)" table."""
    if block.continued and block.caption:
        for i, earlier in enumerate(records):
            if earlier.id == block.caption[0]:
                records[i] = replace(earlier, rows=earlier.rows + block.rows)
                return
        block.continued = False
    table_id, caption = block.caption or (
        f"Table in {clause}" if clause else "Table before clause 1",
        "",
    )
    used = Counter(r.id.split(" (")[0] for r in records)[table_id]
    table_id = f"{table_id} ({used + 1})" if used else table_id
    records.append(
        Table(
            id=table_id,
            caption=caption,
            clause=clause,
            page=None,
            header=block.header,
            rows=block.rows,
            doc=doc,
        )
    )

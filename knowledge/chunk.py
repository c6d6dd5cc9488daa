"""Structure-aware chunking: notice text -> short passages a resident can read on a phone.

Why structure-aware: residents' questions map to a notice *section* ("the right of
access"), and a list item ("Credit reference agencies") means nothing without the
sentence that introduces it. So every passage carries its section title, list items
keep their lead-in sentence, and each table row becomes its own passage with the header.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from knowledge.ingest import Notice

CHUNKER_VERSION = "4"
MAX_CHARS = 700
MAX_SENTENCES = 4
PACK_UP_TO = 560  # consecutive paragraphs of one section are packed up to this size

_LIST_RE = re.compile(r"^(\s*)(?:[-*•]|\d+[.)])\s+(.*)$")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_ABBREV = re.compile(r"\b(e\.g|i\.e|etc|Ltd|No|Dr|Mr|Mrs|Ms|St|approx|incl|vs)\.", re.IGNORECASE)
_SENT_SPLIT = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9“‘\"(£])")


@dataclass(frozen=True)
class Passage:
    id: str
    text: str
    notice: str
    organisation: str
    notice_title: str
    section: str
    status: str
    kind: str = "text"  # text | list | table

    def to_dict(self) -> dict:
        return asdict(self)


def split_sentences(text: str) -> list[str]:
    """Plain-English sentence split that survives 'e.g.' and 'etc.'."""
    protected = _ABBREV.sub(lambda m: m.group(0).replace(".", "\x00"), text.strip())
    parts = _SENT_SPLIT.split(protected)
    return [p.replace("\x00", ".").strip() for p in parts if p.strip()]


def _looks_like_heading(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 95 or _LIST_RE.match(s) or s.startswith("|"):
        return False
    return s[-1] not in ".,:;)" and len(s.split()) <= 16


def _blocks(body: str) -> list[tuple[str, object]]:
    """Split a body into ('heading', str) / ('para', str) / ('list', [(level, text)]) /
    ('table', [[cells]]) blocks."""
    lines = body.split("\n")
    has_md_headings = any(_HEADING_RE.match(line) for line in lines)
    blocks: list[tuple[str, object]] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        s = line.strip()
        if not s:
            i += 1
            continue
        m = _HEADING_RE.match(line)
        if m:
            blocks.append(("heading", m.group(1).strip()))
            i += 1
            continue
        if s.startswith("|"):
            rows = []
            while i < n and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                    rows.append(cells)
                i += 1
            blocks.append(("table", rows))
            continue
        if _LIST_RE.match(line):
            items: list[tuple[int, str]] = []
            while i < n and lines[i].strip():
                lm = _LIST_RE.match(lines[i])
                if lm:
                    items.append((1 if len(lm.group(1)) >= 2 else 0, lm.group(2).strip()))
                elif items:  # continuation line of the previous item
                    level, text = items[-1]
                    items[-1] = (level, f"{text} {lines[i].strip()}")
                i += 1
            blocks.append(("list", items))
            continue
        para = []
        while i < n and lines[i].strip() and not _LIST_RE.match(lines[i]):
            if lines[i].strip().startswith("|") or _HEADING_RE.match(lines[i]):
                break
            para.append(lines[i].strip())
            i += 1
        # Plain-text notices: a short unpunctuated line standing alone is a heading.
        prev_blank = not blocks or i - len(para) == 0 or not lines[i - len(para) - 1].strip()
        next_blank = i >= n or not lines[i].strip()
        if not has_md_headings and len(para) == 1 and prev_blank and next_blank:
            if _looks_like_heading(para[0]):
                blocks.append(("heading", para[0]))
                continue
        blocks.append(("para", " ".join(para)))
    return blocks


def _windows(sentences: list[str], prefix: str = "", limit: int = MAX_CHARS) -> list[str]:
    """Greedy pack sentences into windows of <= MAX_SENTENCES and <= limit chars."""
    out: list[str] = []
    cur: list[str] = []
    pieces: list[str] = []
    for sent in sentences:  # a run-on "sentence" (a long ;-separated list) is cut at the ;
        if len(prefix) + len(sent) > limit and "; " in sent:
            parts = sent.split("; ")
            pieces.extend(p + ";" for p in parts[:-1])
            pieces.append(parts[-1])
        else:
            pieces.append(sent)
    for sent in pieces:
        candidate = " ".join([*cur, sent])
        if cur and (len(prefix) + len(candidate) > limit or len(cur) >= MAX_SENTENCES):
            out.append(" ".join(cur))
            cur = [sent]
        else:
            cur.append(sent)
    if cur:
        out.append(" ".join(cur))
    return [f"{prefix}{w}" if prefix else w for w in out]


def _render_items(items: list[tuple[int, str]]) -> str:
    return "\n".join(("  - " if level else "- ") + text for level, text in items)


def _list_passages(lead: str, items: list[tuple[int, str]]) -> list[str]:
    # Group each top-level item with its sub-items, then pack groups under the lead-in.
    groups: list[list[tuple[int, str]]] = []
    for level, text in items:
        if level == 0 or not groups:
            groups.append([(0, text)] if level == 0 else [(level, text)])
        else:
            groups[-1].append((level, text))
    head = f"{lead}\n" if lead else ""
    out: list[str] = []
    cur: list[tuple[int, str]] = []
    for group in groups:
        rendered = _render_items(group)
        if len(head) + len(rendered) > MAX_CHARS:
            if cur:
                out.append(head + _render_items(cur))
                cur = []
            top = group[0][1]
            if len(group) > 1 and len(head) + len(top) < MAX_CHARS // 2:
                # A long item with sub-items: split the sub-items, repeating the item.
                sub_head = f"{head}- {top}\n"
                sub: list[tuple[int, str]] = []
                for item in group[1:]:
                    if sub and len(sub_head) + len(_render_items([*sub, item])) > MAX_CHARS:
                        out.append(sub_head + _render_items(sub))
                        sub = []
                    sub.append(item)
                if sub:
                    out.append(sub_head + _render_items(sub))
            else:
                for _, text in group:
                    out.extend(_windows(split_sentences(text), prefix=head + "- "))
            continue
        if cur and len(head) + len(_render_items([*cur, *group])) > MAX_CHARS:
            out.append(head + _render_items(cur))
            cur = []
        cur.extend(group)
    if cur:
        out.append(head + _render_items(cur))
    return out


def _table_passages(rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    out = []
    for row in body:
        cells = [
            f"{header[j] if j < len(header) else ''}: {cell}".strip(": ")
            for j, cell in enumerate(row)
            if cell
        ]
        if cells:
            out.append(" | ".join(cells))
    return out


def chunk_notice(notice: Notice, default_section: str | None = None) -> list[Passage]:
    """Split one notice into passages (section title carried on each)."""
    section = default_section or notice.title
    pieces: list[tuple[str, str, str]] = []  # (section, text, kind)
    pending: list[str] = []  # short paragraphs waiting to be packed together

    def flush() -> None:
        if pending:
            pieces.append((section, " ".join(pending), "text"))
            pending.clear()

    blocks = _blocks(notice.body)
    for idx, (kind, value) in enumerate(blocks):
        next_kind = blocks[idx + 1][0] if idx + 1 < len(blocks) else None
        if kind == "heading":
            flush()
            section = str(value)
        elif kind == "para":
            text = str(value)
            sentences = split_sentences(text)
            if next_kind == "list" and text.endswith(":"):
                continue  # kept as the lead-in of the list that follows
            if next_kind == "table" and len(sentences) <= 2:
                continue
            if len(text) > MAX_CHARS:
                flush()
                for window in _windows(sentences):
                    pieces.append((section, window, "text"))
                continue
            # Pack consecutive paragraphs of a section so no passage is a lone short line.
            if pending and len(" ".join([*pending, text])) > PACK_UP_TO:
                flush()
            pending.append(text)
        elif kind == "list":
            flush()
            lead = ""
            prev = blocks[idx - 1] if idx else None
            if prev and prev[0] == "para" and str(prev[1]).endswith(":"):
                lead_sents = split_sentences(str(prev[1]))
                lead = lead_sents[-1]
                if len(lead_sents) > 1:  # earlier sentences of the lead-in stand alone
                    for window in _windows(lead_sents[:-1]):
                        pieces.append((section, window, "text"))
            for text in _list_passages(lead, list(value)):  # type: ignore[arg-type]
                pieces.append((section, text, "list"))
        elif kind == "table":
            flush()
            for text in _table_passages(list(value)):  # type: ignore[arg-type]
                pieces.append((section, text, "table"))
    flush()
    return [
        Passage(
            id=f"{notice.id}#{n:03d}",
            text=text,
            notice=notice.id,
            organisation=notice.organisation,
            notice_title=notice.title,
            section=sec,
            status=notice.status,
            kind=kind,
        )
        for n, (sec, text, kind) in enumerate(pieces)
    ]


def chunk_notices(notices: list[Notice], include_superseded: bool = False) -> list[Passage]:
    """Passages of every notice; superseded notices are left out of indexes by default."""
    out: list[Passage] = []
    for notice in notices:
        if notice.current or include_superseded:
            out.extend(chunk_notice(notice))
    return out

"""Ingest + chunking: no model needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.chunk import MAX_CHARS, chunk_notice, chunk_notices, split_sentences
from knowledge.ingest import NoticeError, load_notices, parse_notice

NOTICE = """---
id: demo
organisation: Demo Homes
title: Demo privacy notice
status: current
---

## Who we share with

We share your details with these organisations:

- Contractors doing repairs
- Credit reference agencies
  - only for new tenancies
- The police, when the law requires it

## Cookies we use

| Cookie name | Purpose | Domain |
|---|---|---|
| SESSIONID | Keeps you logged in. | demo.org |
| _ga | Counts visitors. | google.com |

## Your rights

You can ask for a copy of your data. We reply within one month. It is free.
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_headings_lists_and_tables(tmp_path: Path) -> None:
    passages = chunk_notice(parse_notice(_write(tmp_path, "demo.md", NOTICE)))
    by_section: dict[str, list] = {}
    for p in passages:
        by_section.setdefault(p.section, []).append(p)
    assert set(by_section) == {"Who we share with", "Cookies we use", "Your rights"}
    # The list stays with its lead-in sentence, nested items included.
    (share,) = by_section["Who we share with"]
    assert share.text.startswith("We share your details with these organisations:")
    assert "Credit reference agencies" in share.text and "only for new tenancies" in share.text
    # Each table row is its own passage carrying the header names.
    rows = by_section["Cookies we use"]
    assert len(rows) == 2
    assert rows[0].text.startswith("Cookie name: SESSIONID") and "Domain: demo.org" in rows[0].text
    assert rows[1].kind == "table" and "Purpose: Counts visitors." in rows[1].text
    (rights,) = by_section["Your rights"]
    assert rights.notice == "demo" and rights.organisation == "Demo Homes"
    assert rights.notice_title == "Demo privacy notice" and rights.status == "current"


def test_long_text_is_split_within_limits(tmp_path: Path) -> None:
    sentence = "We keep your tenancy records safe and only for as long as we need them. "
    notice = parse_notice(_write(tmp_path, "long.txt", "## Records\n\n" + sentence * 40))
    passages = chunk_notice(notice)
    assert len(passages) > 3
    assert all(len(p.text) <= MAX_CHARS for p in passages)
    assert all(p.section == "Records" for p in passages)


def test_plain_text_without_front_matter(tmp_path: Path) -> None:
    text = (
        "Who we are\n\nWe are a landlord. We hold data.\n\nYour rights\n\nYou can ask for a copy."
    )
    notice = parse_notice(_write(tmp_path, "acme-homes.txt", text))
    assert (notice.id, notice.organisation, notice.title) == ("acme-homes",) * 3
    sections = [p.section for p in chunk_notice(notice)]
    assert sections == ["Who we are", "Your rights"]


def test_sentence_split_keeps_abbreviations() -> None:
    assert split_sentences("Biometric (e.g. fingerprints) data. Next one.") == [
        "Biometric (e.g. fingerprints) data.",
        "Next one.",
    ]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("---\nid: x\ntitle: [unclosed\n---\nbody\n", 3, "malformed front matter"),
        ("---\nid: x\nstatus: draft\n---\nbody\n", 3, "status must be one of"),
        ("---\nid: x\n\nbody without end\n", 1, "never closed"),
        ("---\nid: x\nstatus: superseded\n---\nbody\n", 3, "superseded_by"),
        ("---\nid: x\n---\n\n", 4, "no text"),
        ("- just\n- a list\n---\n", None, None),
    ],
)
def test_malformed_notice_names_file_and_line(
    tmp_path: Path, text: str, line: int | None, fragment: str | None
) -> None:
    path = _write(tmp_path, "broken.md", text)
    if line is None:  # not front matter at all: fine
        assert parse_notice(path).id == "broken"
        return
    with pytest.raises(NoticeError) as info:
        parse_notice(path)
    assert str(info.value).startswith(f"{path}:{line}:")
    assert fragment in str(info.value)
    assert info.value.line == line


def test_binary_notice_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"fine line\n\xff\xfe\x00binary")
    with pytest.raises(NoticeError, match=r"blob.txt:2: not UTF-8"):
        parse_notice(path)


def test_project_notices_metadata_and_superseded_excluded() -> None:
    notices = {n.id: n for n in load_notices()}
    assert set(notices) == {
        "barnet-homes-privacy-policy",
        "let2barnet-cookie-policy",
        "let2barnet-old-privacy-policy",
        "barnet-council-privacy-notice",
        "barnet-homes-diversity-information",
        "twenty11-privacy-notice",
    }
    old = notices["let2barnet-old-privacy-policy"]
    assert old.status == "superseded" and old.superseded_by == "barnet-homes-privacy-policy"
    passages = chunk_notices(list(notices.values()))
    assert passages and all(p.notice != old.id for p in passages)
    assert not any("Denise Ailara" in p.text for p in passages)
    assert not any(
        "Pattern circle" in p.text or "Privacy Policies menu" in p.text for p in passages
    )
    assert all(len(p.text) <= MAX_CHARS for p in passages)


def test_every_faq_entry_points_at_a_passage() -> None:
    from knowledge.index import load_faq

    passages = chunk_notices(load_notices())
    for entry in load_faq():
        want = str(entry.get("contains", "")).lower()
        targets = [
            p
            for p in passages
            if p.notice == entry["notice"]
            and p.section == entry["section"]
            and want in p.text.lower()
        ]
        assert targets, entry
        assert entry["ask"], entry


def test_training_phrasings_are_text() -> None:
    """YAML reads a bare yes / no / on / off as a boolean: such an example trains nothing."""
    from knowledge.index import load_faq, load_scope_examples

    examples = load_scope_examples()
    phrasings = [q for e in load_faq() for q in e["ask"]]
    phrasings += [q for key in ("in_scope", "out_of_scope") for q in examples[key]]
    assert all(isinstance(q, str) for q in phrasings), [
        q for q in phrasings if not isinstance(q, str)
    ]

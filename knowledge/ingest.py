"""Read a folder of notice files (.md/.txt, optional YAML front matter) into `Notice` records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

NOTICE_SUFFIXES = (".md", ".txt")
STATUSES = ("current", "superseded")
PACKAGE_NOTICES = Path(__file__).resolve().parent / "notices"


class NoticeError(ValueError):
    """A notice file that cannot be used; the message names the file and line."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class Notice:
    id: str
    organisation: str
    title: str
    status: str
    body: str
    source: str
    path: str
    body_line: int = 1  # line number of the body's first line in the file (for messages)
    url: str | None = None
    superseded_by: str | None = None
    aliases: tuple[str, ...] = ()  # other names residents use for the organisation
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def current(self) -> bool:
        return self.status == "current"


def _split_front_matter(path: Path, text: str) -> tuple[dict, str, int]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text, 1
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise NoticeError(path, 1, "front matter opened with '---' is never closed")
    block = "\n".join(lines[1:end])
    try:
        meta = yaml.safe_load(block) if block.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 2  # +1 for '---', +1 for 1-based
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise NoticeError(path, line, f"malformed front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise NoticeError(path, 2, "front matter must be a mapping of `key: value` lines")
    return meta, "\n".join(lines[end + 1 :]), end + 2


def _meta_line(text: str, key: str) -> int:
    for number, line in enumerate(text.split("\n")[:200], start=1):
        if line.startswith(f"{key}:"):
            return number
    return 2


def parse_notice(path: Path | str) -> Notice:
    """Parse one notice file; raise NoticeError (file + line) if it is unusable."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise NoticeError(path, line, "not UTF-8 text") from None
    if "\x00" in text:
        raise NoticeError(path, text[: text.index("\x00")].count("\n") + 1, "binary content")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    meta, body, body_line = _split_front_matter(path, text)
    for key in ("id", "organisation", "title", "status", "superseded_by", "url", "source"):
        value = meta.get(key)
        if value is not None and not isinstance(value, str | int | float):
            raise NoticeError(path, _meta_line(text, key), f"`{key}` must be a single text value")
    status = str(meta.get("status", "current")).strip().lower()
    if status not in STATUSES:
        raise NoticeError(
            path, _meta_line(text, "status"), f"status must be one of {STATUSES}, not {status!r}"
        )
    if status == "superseded" and not meta.get("superseded_by"):
        raise NoticeError(path, _meta_line(text, "status"), "superseded notice needs superseded_by")
    if not body.strip():
        raise NoticeError(path, body_line, "notice has no text")
    stem = path.stem
    return Notice(
        id=str(meta.get("id", stem)).strip() or stem,
        organisation=str(meta.get("organisation", stem)).strip() or stem,
        title=str(meta.get("title", stem)).strip() or stem,
        status=status,
        body=body,
        source=str(meta.get("source", path.name)),
        path=str(path),
        body_line=body_line,
        url=str(meta["url"]) if meta.get("url") else None,
        superseded_by=str(meta["superseded_by"]) if meta.get("superseded_by") else None,
        aliases=_aliases(path, text, meta.get("aliases")),
        meta=meta,
    )


def _aliases(path: Path, text: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise NoticeError(path, _meta_line(text, "aliases"), "aliases must be a list of names")
    return tuple(v.strip().lower() for v in value if v.strip())


def load_notices(folder: Path | str | None = None) -> list[Notice]:
    """Every notice in `folder` (default: the package's own cleaned notices), sorted by id."""
    folder = Path(folder) if folder is not None else PACKAGE_NOTICES
    if not folder.is_dir():
        raise FileNotFoundError(f"notice folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in NOTICE_SUFFIXES)
    notices: list[Notice] = []
    seen: dict[str, str] = {}
    for path in files:
        notice = parse_notice(path)
        if notice.id in seen:
            raise NoticeError(
                path, 1, f"duplicate notice id {notice.id!r} (also in {seen[notice.id]})"
            )
        seen[notice.id] = str(path)
        notices.append(notice)
    return sorted(notices, key=lambda n: n.id)


def content_hash(notices: list[Notice], *extra: str) -> str:
    """Stable hash of the notice texts + metadata (and any extra strings, e.g. versions)."""
    digest = hashlib.sha256()
    for notice in sorted(notices, key=lambda n: n.id):
        parts = (notice.id, notice.organisation, notice.title, notice.status, notice.body)
        for part in (*parts, ",".join(notice.aliases)):
            digest.update(part.encode())
            digest.update(b"\x1f")
    for part in extra:
        digest.update(part.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()

"""Build, persist and load a notice index: passages + FAISS IndexFlatIP + FAQ + scope model.

Layout of an index directory:
  manifest.json   content hash (notices, chunker/index versions, FAQ, scope examples), tiers
  passages.jsonl  one passage per line (with `tier`: 0 primary notice, 1 secondary)
  dense.faiss     FAISS IndexFlatIP over normalised passage embeddings (cosine)
  extra.npz       sentence / section / FAQ embeddings and the scope classifier weights
  faq.json        FAQ entries that point at notices present in this index
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from knowledge.chunk import CHUNKER_VERSION, Passage, chunk_notices, split_sentences
from knowledge.ingest import Notice, content_hash, load_notices

INDEX_VERSION = "5"
PACKAGE_DIR = Path(__file__).resolve().parent
FAQ_FILE = PACKAGE_DIR / "faq.yml"
SCOPE_FILE = PACKAGE_DIR / "scope_examples.yml"


def data_dir() -> Path:
    from privacybot.settings import PROJECT_ROOT  # light module: no torch, no Flask

    return Path(os.environ.get("DATA_DIR", PROJECT_ROOT / "var")).resolve()


def org_index_dir(org: str) -> Path:
    return data_dir() / "index" / org


@dataclass
class IndexBundle:
    path: Path
    manifest: dict
    passages: list[dict]
    emb: np.ndarray  # (n, d) passage embeddings
    sent_text: list[str]
    sent_passage: np.ndarray  # (m,) passage row of each sentence
    sent_emb: np.ndarray
    section_emb: np.ndarray  # (n, d) embedding of each passage's section title
    faq: list[dict]
    faq_entry: np.ndarray  # (f,) entry index of each FAQ phrasing
    faq_emb: np.ndarray
    scope_w: np.ndarray
    scope_b: float
    scope_inside: np.ndarray  # in-scope example embeddings (knowledge.scope.neighbour_margin)
    scope_outside: np.ndarray
    extra: dict = field(default_factory=dict)


def _read_yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text()) if path.exists() else None


def load_faq() -> list[dict]:
    """FAQ entries: resident phrasings -> the notice section that answers them."""
    return list(_read_yaml(FAQ_FILE) or [])


def load_scope_examples() -> dict:
    return dict(_read_yaml(SCOPE_FILE) or {})


def passage_embedding_text(p: Passage | dict) -> str:
    section = p.section if isinstance(p, Passage) else p["section"]
    text = p.text if isinstance(p, Passage) else p["text"]
    # Section title in front: residents ask in the words of the heading ("right to object").
    return f"{section}: {text}"


def passage_sentences(text: str) -> list[str]:
    """Answer units of a passage: sentences, with each list item / table row on its own."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("- "):
            out.append(line[2:].strip())
        elif " | " in line and ":" in line:
            out.append(line)
        else:
            out.extend(split_sentences(line))
    return out


def index_hash(notices: list[Notice], tiers: dict[str, int]) -> str:
    faq = FAQ_FILE.read_text() if FAQ_FILE.exists() else ""
    scope = SCOPE_FILE.read_text() if SCOPE_FILE.exists() else ""
    return content_hash(
        notices, CHUNKER_VERSION, INDEX_VERSION, json.dumps(tiers, sort_keys=True), faq, scope
    )


def is_up_to_date(out_dir: Path, expected_hash: str) -> bool:
    manifest = out_dir / "manifest.json"
    if not manifest.exists() or not (out_dir / "dense.faiss").exists():
        return False
    try:
        return json.loads(manifest.read_text()).get("hash") == expected_hash
    except (OSError, ValueError):
        return False


def build_index(
    notices: list[Notice],
    out_dir: Path | str,
    tiers: dict[str, int] | None = None,
    org: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> tuple[Path, bool]:
    """Build an index of the *current* notices (tier 0 unless `tiers` says otherwise).

    Returns (out_dir, built); built is False when the index was already up to date.
    """
    import faiss

    from knowledge.embed import MODEL_NAME, encode
    from knowledge.scope import train_scope_model

    out_dir = Path(out_dir)
    if tiers is not None:
        notices = [n for n in notices if n.id in tiers]
    tiers = tiers or {n.id: 0 for n in notices}
    digest = index_hash(notices, tiers)
    if not force and is_up_to_date(out_dir, digest):
        return out_dir, False
    started = time.perf_counter()
    passages = chunk_notices(notices)  # superseded notices never reach an index
    if not passages:
        raise ValueError("no current notices to index")
    emb = encode([passage_embedding_text(p) for p in passages], progress=progress)
    sections = sorted({p.section for p in passages})
    sec_emb = encode(sections)
    sec_row = {s: i for i, s in enumerate(sections)}
    section_emb = sec_emb[[sec_row[p.section] for p in passages]]
    sent_text, sent_passage = [], []
    for i, p in enumerate(passages):
        for s in passage_sentences(p.text):
            sent_text.append(s)
            sent_passage.append(i)
    sent_emb = encode(sent_text, progress=progress)
    present = {p.notice for p in passages}
    faq = [e for e in load_faq() if e.get("notice") in present]
    faq_phr, faq_entry = [], []
    for k, entry in enumerate(faq):
        for q in entry.get("ask", []):
            faq_phr.append(str(q))
            faq_entry.append(k)
    faq_emb = encode(faq_phr) if faq_phr else np.zeros((0, emb.shape[1]), np.float32)
    scope = train_scope_model(load_faq(), load_scope_examples())

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    index = faiss.IndexFlatIP(emb.shape[1])
    index.add(emb)
    faiss.write_index(index, str(tmp / "dense.faiss"))
    with (tmp / "passages.jsonl").open("w") as fh:
        for p in passages:
            fh.write(json.dumps({**p.to_dict(), "tier": tiers.get(p.notice, 0)}) + "\n")
    np.savez(
        tmp / "extra.npz",
        sent_emb=sent_emb,
        sent_passage=np.array(sent_passage, dtype=np.int32),
        section_emb=section_emb,
        faq_emb=faq_emb,
        faq_entry=np.array(faq_entry, dtype=np.int32),
        scope_w=scope.w,
        scope_b=np.array([scope.b], dtype=np.float32),
        scope_inside=scope.inside,
        scope_outside=scope.outside,
    )
    (tmp / "sentences.json").write_text(json.dumps(sent_text))
    (tmp / "faq.json").write_text(json.dumps(faq, indent=1))
    manifest = {
        "hash": digest,
        "org": org,
        "model": MODEL_NAME,
        "chunker_version": CHUNKER_VERSION,
        "index_version": INDEX_VERSION,
        "notices": {
            n.id: {
                "title": n.title,
                "organisation": n.organisation,
                "tier": tiers.get(n.id, 0),
                "aliases": list(n.aliases),
            }
            for n in notices
            if n.current
        },
        "passages": len(passages),
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    # Swap in whole: a reader never sees half an index.
    if out_dir.exists():
        old = out_dir.with_name(out_dir.name + ".old")
        if old.exists():
            _rmtree(old)
        out_dir.rename(old)
        tmp.rename(out_dir)
        _rmtree(old)
    else:
        tmp.rename(out_dir)
    return out_dir, True


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def org_tiers(org_id: str) -> dict[str, int]:
    from privacybot.orgs import load_org

    org = load_org(org_id)
    tiers = {n: 1 for n in org.secondary_notices}
    tiers.update({n: 0 for n in org.primary_notices})
    return tiers


def build_org_index(
    org_id: str, force: bool = False, progress: bool = True, notices_dir: Path | None = None
) -> tuple[Path, bool]:
    """The org's index under $DATA_DIR/index/<org>/ (its primary + secondary notices)."""
    tiers = org_tiers(org_id)
    notices = load_notices(notices_dir)
    missing = set(tiers) - {n.id for n in notices}
    if missing:
        raise KeyError(f"org {org_id!r} names notices that do not exist: {sorted(missing)}")
    return build_index(
        notices, org_index_dir(org_id), tiers=tiers, org=org_id, force=force, progress=progress
    )


def org_index_current(org_id: str) -> bool:
    tiers = org_tiers(org_id)
    notices = [n for n in load_notices() if n.id in tiers]
    return is_up_to_date(org_index_dir(org_id), index_hash(notices, tiers))


def load_index(path: Path | str) -> IndexBundle:
    import faiss

    path = Path(path)
    if not (path / "manifest.json").exists():
        raise FileNotFoundError(f"no index at {path} (build it with `privacybot index`)")
    manifest = json.loads((path / "manifest.json").read_text())
    index = faiss.read_index(str(path / "dense.faiss"))
    emb = index.reconstruct_n(0, index.ntotal)  # full score vector needed for fusion
    passages = [json.loads(line) for line in (path / "passages.jsonl").read_text().splitlines()]
    extra = np.load(path / "extra.npz")
    return IndexBundle(
        path=path,
        manifest=manifest,
        passages=passages,
        emb=np.ascontiguousarray(emb, dtype=np.float32),
        sent_text=json.loads((path / "sentences.json").read_text()),
        sent_passage=extra["sent_passage"],
        sent_emb=extra["sent_emb"],
        section_emb=extra["section_emb"],
        faq=json.loads((path / "faq.json").read_text()),
        faq_entry=extra["faq_entry"],
        faq_emb=extra["faq_emb"],
        scope_w=extra["scope_w"],
        scope_b=float(extra["scope_b"][0]),
        scope_inside=extra["scope_inside"],
        scope_outside=extra["scope_outside"],
    )

"""Knowledge benchmark: quality (dev set, PrivacyQA, CLINC150, BM25 baselines), query
latency, index build time and peak memory. `run_knowledge_bench()` returns one dict."""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return round(peak / 1024, 1) if sys.platform != "darwin" else round(peak / 2**20, 1)


def run_knowledge_bench(data_dir: Path | str | None = None, with_external: bool = True) -> dict:
    """Build the org indexes in a temp DATA_DIR (timed), then measure quality and latency."""
    from knowledge.answer import get_answerer
    from knowledge.evaluate import default_paths, eval_clinc, eval_privacyqa, eval_questions
    from knowledge.index import build_org_index

    report: dict[str, Any] = {}
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="knowledge-bench-")
        data_dir = tmp.name
    old = os.environ.get("DATA_DIR")
    os.environ["DATA_DIR"] = str(data_dir)
    try:
        from knowledge.embed import get_model

        started = time.perf_counter()
        get_model()
        report["model_load_s"] = round(time.perf_counter() - started, 2)
        builds = {}
        for org in ("barnet-homes", "twenty11"):
            started = time.perf_counter()
            build_org_index(org, force=True, progress=False)
            builds[org] = round(time.perf_counter() - started, 2)
        report["index_build_s"] = builds

        paths = default_paths()
        items = yaml.safe_load(paths["questions"].read_text())
        answerers = {
            org: get_answerer(org) for org in {i.get("org", "barnet-homes") for i in items}
        }
        for answerer in answerers.values():  # warm-up
            for _ in range(3):
                answerer.ask("how do I get a copy of my data")
        times = []
        for _ in range(3):
            for item in items:
                answerer = answerers[item.get("org", "barnet-homes")]
                t0 = time.perf_counter()
                answerer.ask(item["q"])
                times.append((time.perf_counter() - t0) * 1000)
        report["query_latency_ms"] = {
            "n": len(times),
            "p50": round(float(np.percentile(times, 50)), 2),
            "p95": round(float(np.percentile(times, 95)), 2),
        }
        quality = eval_questions(paths["questions"])
        quality.pop("latency_ms", None)
        report["dev_questions"] = quality
        # Our own sets (knowledge/eval/README or each file's header says which were tuned on):
        # per style with BM25, and the follow-ups alone / with the previous question.
        eval_dir = Path(__file__).resolve().parents[2] / "knowledge" / "eval"
        for name in (
            "heldout_questions",
            "styles_questions",
            "story_questions",
            "followup_questions",
            "blind_d_questions",
            "blind_e_questions",
            "blind_f_questions",
        ):
            if (eval_dir / f"{name}.yaml").exists():
                held = eval_questions(eval_dir / f"{name}.yaml")
                for key in ("latency_ms", "misses", "cut_off_answers"):
                    held.pop(key, None)
                report[name] = held
        if with_external and paths["privacyqa"].exists():
            report["privacyqa"] = eval_privacyqa(paths["privacyqa"])
        if with_external and paths["clinc"].exists():
            clinc = eval_clinc(paths["clinc"])
            clinc.pop("answered_examples", None)
            report["clinc150"] = clinc
        report["peak_rss_mb"] = _peak_rss_mb()
        return report
    finally:
        if old is None:
            os.environ.pop("DATA_DIR", None)
        else:
            os.environ["DATA_DIR"] = old
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    import json

    print(json.dumps(run_knowledge_bench(), indent=1))

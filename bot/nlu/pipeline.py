"""Builds the offline spaCy pipeline: blank English tokenizer + an entity ruler of the vocabulary.

Rasa's SpacyNLP caches by model *name*, so the pipeline directory carries a hash of
its content (`var/spacy/rapport-en-<hash>`) and config.yml is kept pointing at it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import spacy
import yaml

BUILDER_VERSION = "1"
LANGUAGE = "en"
_CONFIG_MODEL_LINE = re.compile(r"^(\s*model:\s*)(\S+)(\s*)$", re.MULTILINE)


def ruler_patterns(vocabulary: dict[str, Any]) -> list[dict[str, Any]]:
    """Entity-ruler patterns for every phrase (clear and ambiguous) of every entity type."""
    patterns: list[dict[str, Any]] = []
    for entity, spec in sorted(vocabulary.items()):
        for value_id, phrases in sorted((spec.get("values") or {}).items()):
            for phrase in phrases:
                patterns.append({"label": entity, "pattern": str(phrase), "id": str(value_id)})
        for phrase, meanings in sorted((spec.get("ambiguous") or {}).items()):
            ambiguous_id = "|".join(str(m) for m in meanings)
            patterns.append({"label": entity, "pattern": str(phrase), "id": ambiguous_id})
    return patterns


def pipeline_name(vocabulary_text: str) -> str:
    """The directory name of the pipeline built from this vocabulary text."""
    digest = hashlib.sha256(f"{BUILDER_VERSION}\n{vocabulary_text}".encode()).hexdigest()
    return f"rapport-{LANGUAGE}-{digest[:12]}"


def build_nlp(vocabulary: dict[str, Any]) -> spacy.language.Language:
    """A blank English pipeline with a case-insensitive entity ruler."""
    nlp = spacy.blank(LANGUAGE)
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(ruler_patterns(vocabulary))  # type: ignore[attr-defined]
    return nlp


def build(vocabulary_path: Path, out_root: Path) -> Path:
    """Build the pipeline into `out_root/<name>` unless it is already there."""
    text = vocabulary_path.read_text(encoding="utf-8")
    target = out_root / pipeline_name(text)
    if (target / "meta.json").exists():
        return target
    nlp = build_nlp(yaml.safe_load(text))
    nlp.meta["name"] = "rapport_vocabulary"
    nlp.meta["description"] = "Rapport offline pipeline (tokenizer + entity ruler)"
    out_root.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    (target / "rapport-source.json").write_text(json.dumps({"vocabulary": str(vocabulary_path)}))
    return target


def configured_model(config_path: Path) -> str:
    """The SpacyNLP `model:` path config.yml points at."""
    match = _CONFIG_MODEL_LINE.search(config_path.read_text(encoding="utf-8"))
    if not match:
        raise ValueError(f"{config_path} has no SpacyNLP `model:` line")
    return match.group(2).strip("\"'")


def sync_config(config_path: Path, model_dir: str) -> bool:
    """Point config.yml's SpacyNLP `model:` at `model_dir`; True when it changed."""
    text = config_path.read_text(encoding="utf-8")
    if configured_model(config_path) == model_dir:
        return False
    updated = _CONFIG_MODEL_LINE.sub(lambda m: f"{m.group(1)}{model_dir}{m.group(3)}", text, 1)
    config_path.write_text(updated, encoding="utf-8")
    return True

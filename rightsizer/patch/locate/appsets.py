"""Argo CD ApplicationSets expanded from what the repository itself says, without a cluster.

Generators whose parameters come from the repository are expanded: ``list`` elements, the
``git`` directory and file generators (their paths globbed in this checkout, which is
taken to be the repository they name), and a ``matrix`` of those.  A generator whose
parameters come from the cluster or a service (``clusters``, ``pullRequest``,
``scmProvider``, ``clusterDecisionResource``, ``plugin``) or a ``merge`` is not: its
template still counts when the path and namespace it deploys use none of its
parameters (it is the same Application on every cluster); otherwise what it deploys is
unknown here, and containers under its path are reported with that reason.
"""

from __future__ import annotations

import itertools
import json
import re
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

from rightsizer.yamlsafety import safe_documents

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_SEGMENT = re.compile(r"index\s+\.?path\.segments\s+(\d+)")
_MAX_PARAMS = 1000  # a generator that yields more is not expanded (it is not a repository's layout)

Params = dict[str, str]


def expand(doc: dict[str, Any], repo: Path | None) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The Applications an ApplicationSet renders, and (path pattern, why) for what could not be expanded."""
    spec = doc.get("spec") or {}
    template = spec.get("template")
    name = str((doc.get("metadata") or {}).get("name") or "")
    if not isinstance(template, dict):
        return [], []
    apps: list[dict[str, Any]] = []
    unresolved: list[tuple[str, str]] = []
    for generator in spec.get("generators") or []:
        params = _params(generator, repo)
        if isinstance(params, str):
            fixed = _substitute(template, {})
            if not _dynamic(fixed):
                apps.append(fixed)  # the same path and namespace whatever the generator yields
            else:
                unresolved += [(pattern, f"ApplicationSet {name}: {params}") for pattern in _patterns(template)]
            continue
        for values in params:
            app = _substitute(template, values)
            if _dynamic(app):
                unresolved += [(pattern, (f"ApplicationSet {name}: its template uses parameters its generators do "
                                         "not give")) for pattern in _patterns(template)]
                break
            apps.append(app)
    return apps, unresolved


def _params(generator: Any, repo: Path | None) -> list[Params] | str:
    """Each parameter set a generator yields, or why it cannot be known from the repository."""
    if not isinstance(generator, dict) or len(generator) != 1:
        return "a generator that is not one of Argo CD's"
    kind, body = next(iter(generator.items()))
    body = body if isinstance(body, dict) else {}
    if kind == "list":
        return [_flatten(e) for e in body.get("elements") or [] if isinstance(e, dict)]
    if kind == "git":
        return _git(body, repo)
    if kind == "matrix":
        children = [_params(g, repo) for g in body.get("generators") or []]
        reasons = [c for c in children if isinstance(c, str)]
        if reasons or len(children) != 2:
            return reasons[0] if reasons else "a matrix that does not combine two generators"
        product = [{**a, **b} for a, b in itertools.product(*children)]  # type: ignore[arg-type]
        return product if len(product) <= _MAX_PARAMS else "a matrix of more parameter sets than a repository holds"
    if kind == "merge":
        return "its merge generator is not expanded here"
    return f"its {kind} generator takes its parameters from the cluster or a service, not from the repository"


def _git(body: dict[str, Any], repo: Path | None) -> list[Params] | str:
    if repo is None:
        return "its git generator is read from the repository, which is not at hand"
    out: list[Params] = []
    directories = [d for d in body.get("directories") or [] if isinstance(d, dict) and d.get("path")]
    excluded = [str(d["path"]) for d in directories if d.get("exclude")]
    for entry in directories:
        if entry.get("exclude"):
            continue
        for path in sorted(repo.glob(str(entry["path"]))):
            rel = path.relative_to(repo).as_posix()
            if path.is_dir() and not any(part.startswith(".") for part in Path(rel).parts) and \
                    not any(fnmatch(rel, pattern) for pattern in excluded):
                out.append(_path_params(rel))
    for entry in body.get("files") or []:
        if not isinstance(entry, dict) or not entry.get("path"):
            continue
        for path in sorted(repo.glob(str(entry["path"]))):
            if not path.is_file():
                continue
            rel = path.relative_to(repo).as_posix()
            try:
                content = json.loads(path.read_text()) if path.suffix == ".json" else safe_documents(path.read_text())[0]
            except Exception:  # noqa: BLE001
                return f"its git file generator reads {rel}, which does not parse"
            for item in content if isinstance(content, list) else [content]:
                if isinstance(item, dict):
                    out.append({**_flatten(item), **_path_params(str(PurePosixPath(rel).parent)),
                                "path.filename": path.name, "path.filenameNormalized": _normalized(path.name)})
    if len(out) > _MAX_PARAMS:
        return "its git generator matches more paths than a repository's apps"
    return out


def _path_params(rel: str) -> Params:
    """A directory's parameters, in both template syntaxes (``{{path}}``, ``{{.path.path}}``)."""
    parts = PurePosixPath(rel).parts
    base = parts[-1] if parts else ""
    out = {"path": rel, "path.path": rel, "path.basename": base, "path.basenameNormalized": _normalized(base)}
    out.update({f"path[{i}]": part for i, part in enumerate(parts)})
    return out


def _normalized(name: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", name.lower())


def _flatten(values: dict[str, Any], prefix: str = "") -> Params:
    out: Params = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def _substitute(node: Any, params: Params) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, params) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, params) for v in node]
    if isinstance(node, str):
        return _ACTION.sub(lambda m: _value(m.group(1), params, m.group(0)), node)
    return node


def _value(expression: str, params: Params, original: str) -> str:
    segment = _SEGMENT.fullmatch(expression)
    key = f"path[{segment.group(1)}]" if segment else expression.lstrip(".")
    return params.get(key, original)


def _dynamic(app: dict[str, Any]) -> bool:
    """Whether what decides where the Application deploys still holds an unresolved parameter."""
    spec = app.get("spec") or {}
    sources = [spec.get("source")] + list(spec.get("sources") or [])
    texts = [str((s or {}).get("path") or "") for s in sources if isinstance(s, dict)]
    texts.append(str((spec.get("destination") or {}).get("namespace") or ""))
    return any("{{" in text for text in texts)


def _patterns(template: dict[str, Any]) -> list[str]:
    """Glob patterns of the paths a template deploys, its parameters as wildcards."""
    spec = template.get("spec") or {}
    sources = [spec.get("source")] + list(spec.get("sources") or [])
    return [_ACTION.sub("*", str(s["path"])).strip("/") for s in sources if isinstance(s, dict) and s.get("path")]

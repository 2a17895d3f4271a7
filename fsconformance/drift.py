"""What changed in the botocore service models since the tested set.

The emulation answers requests decoded from the installed botocore models, and moto routes
by them too, so a new botocore release can change what every client sends: Athena moved from
the ``json`` to the ``rest-json`` protocol between 1.44.13 and 1.44.18. The tested set
(``constraints/tested.txt``) comes with a digest of the models it installs
(``tested-models.json``, packaged beside this module): per service, its protocols, and per
operation its HTTP binding and its input and output members. ``report`` compares the
installed models with it and says, first line first, what changed.

``fsconformance drift`` prints the report; ``--write PATH`` writes the installed models'
digest (what ``.ci/refresh-constraints`` does when it refreshes the tested set).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

#: Every service the emulation answers or reads through moto.
SERVICES = (
    "sagemaker",
    "sagemaker-featurestore-runtime",
    "athena",
    "glue",
    "s3",
    "sts",
    "iam",
    "kms",
)
TESTED_MODELS = "tested-models.json"


def digest(services: tuple[str, ...] = SERVICES) -> dict[str, Any]:
    """The installed botocore models of ``services``, as much as drift needs of them."""
    import botocore
    import botocore.session

    session = botocore.session.get_session()
    found: dict[str, Any] = {}
    for service in services:
        model = session.get_service_model(service)
        operations = {}
        for name in model.operation_names:
            operation = model.operation_model(name)
            http = operation.http
            operations[name] = {
                "http": f"{http.get('method', 'POST')} {http.get('requestUri', '/')}",
                "input": sorted(operation.input_shape.members) if operation.input_shape else [],
                "output": sorted(operation.output_shape.members) if operation.output_shape else [],
            }
        found[service] = {
            "protocol": model.protocol,
            "protocols": list(model.metadata.get("protocols") or [model.protocol]),
            "operations": operations,
        }
    return {"botocore": botocore.__version__, "services": found}


def write(path: Path, found: dict[str, Any]) -> None:
    """A digest as JSON with one operation to a line, so a refresh's diff reads well."""
    lines = ["{", f'  "botocore": {json.dumps(found["botocore"])},', '  "services": {']
    services = list(found["services"].items())
    for index, (service, model) in enumerate(services):
        lines.append(f"    {json.dumps(service)}: {{")
        lines.append(f'      "protocol": {json.dumps(model["protocol"])},')
        lines.append(f'      "protocols": {json.dumps(model["protocols"])},')
        lines.append('      "operations": {')
        operations = sorted(model["operations"].items())
        for position, (name, operation) in enumerate(operations):
            comma = "," if position < len(operations) - 1 else ""
            lines.append(f"        {json.dumps(name)}: {json.dumps(operation)}{comma}")
        lines.append("      }")
        lines.append("    }" + ("," if index < len(services) - 1 else ""))
    lines += ["  }", "}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def tested() -> dict[str, Any]:
    """The digest of the tested set, as packaged."""
    text = resources.files("fsconformance").joinpath(TESTED_MODELS).read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class Change:
    service: str
    what: str  # one short clause, e.g. "protocol json -> rest-json"
    protocol: bool = False  # a change of wire protocol: what breaks clients and moto first


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What differs from ``before`` to ``after`` (two digests), protocol changes first."""
    found: list[Change] = []
    for service in sorted(set(before["services"]) | set(after["services"])):
        old, new = before["services"].get(service), after["services"].get(service)
        if old is None or new is None:
            found.append(Change(service, "not in the tested set" if old is None else "gone"))
            continue
        if (old["protocol"], old["protocols"]) != (new["protocol"], new["protocols"]):
            found.append(
                Change(
                    service,
                    f"protocol {old['protocol']} -> {new['protocol']} "
                    f"(the model lists {', '.join(new['protocols'])})",
                    protocol=True,
                )
            )
        found.extend(_operation_changes(service, old["operations"], new["operations"]))
    return sorted(found, key=lambda change: not change.protocol)


def _operation_changes(service: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    found = []
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    if added:
        found.append(Change(service, f"operations added: {', '.join(added)}"))
    if removed:
        found.append(Change(service, f"operations removed: {', '.join(removed)}"))
    for name in sorted(set(old) & set(new)):
        was, now = old[name], new[name]
        parts = []
        if was["http"] != now["http"]:
            parts.append(f"{was['http']} -> {now['http']}")
        for side in ("input", "output"):
            gained = sorted(set(now[side]) - set(was[side]))
            lost = sorted(set(was[side]) - set(now[side]))
            if gained:
                parts.append(f"{side} +{', +'.join(gained)}")
            if lost:
                parts.append(f"{side} -{', -'.join(lost)}")
        if parts:
            found.append(Change(service, f"{name}: {'; '.join(parts)}"))
    return found


def report(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The drift report: a first line that names the cause, then one line per change."""
    found = changes(before, after)
    versions = (
        f"botocore {after['botocore']} against the tested set (botocore {before['botocore']})"
    )
    if not found:
        return [f"{versions}: no change in the models of {', '.join(SERVICES)}"]
    protocol = [c for c in found if c.protocol]
    headline = protocol or found[:1]
    summary = "; ".join(f"{c.service} {c.what}" for c in headline)
    first = f"{versions}: {summary}"
    if len(found) > len(headline):
        first += f" (and {len(found) - len(headline)} more changes below)"
    return [first] + [f"  {c.service}: {c.what}" for c in found]


def headline() -> str | None:
    """The report's first line when the installed models differ from the tested set, else
    ``None`` (also when the tested digest cannot be read)."""
    try:
        before = tested()
    except (OSError, ValueError):
        return None
    after = digest(tuple(before["services"]))
    if not changes(before, after):
        return None
    return report(before, after)[0]

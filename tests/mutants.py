"""Deliberately wrong variants of the emulation, to measure what the suites catch.

Each mutant breaks one documented behaviour by monkeypatching the model (or the offline
store's partitioning) at run time; no file is edited. Seven of them undo a correction the
public evidence asked for (``docs/evidence.md``). A *tolerated* variant changes something the
contract leaves open (the order of BatchGetRecord's and ListRecords' answers): every test must
still pass with it, so no test relies on what the contract does not promise. A mutant is
switched on only in a pytest run that loads this module as a plugin and names one in the
environment::

    FSCONFORMANCE_MUTANT=put_merges PYTHONPATH=tests python -m pytest -p mutants suites/...

Without ``-p mutants`` nothing here is imported, so the production code path is untouched. It
lives beside the self-tests, outside the installed package: it needs a checkout. ``tests/system/test_suite_power.py`` runs the relevant suite modules once per mutant and
asserts that every mutant makes at least one test fail; ``python tests/mutants.py`` prints the
same catch table.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.expressions import AlwaysTrue

from fsconformance.backends.moto import MotoBackend
from fsconformance.emulator import encryption
from fsconformance.emulator.controlplane import handlers as control_handlers
from fsconformance.emulator.offline import iceberg, replication
from fsconformance.emulator.runtime import handlers as runtime_handlers
from fsconformance.model import control_plane, records, rules
from fsconformance.model.control_plane import ControlPlane
from fsconformance.model.errors import ServiceError
from fsconformance.model.records import DataPlane, OnlineRecord

ENV = "FSCONFORMANCE_MUTANT"
HERE = Path(__file__).resolve().parent  # tests/, where the subprocesses load this plugin from
REPO = HERE.parent  # the checkout


@dataclass(frozen=True)
class Mutant:
    """One wrong variant: what it breaks, how, and which suite tests should notice."""

    name: str
    breaks: str  # the contract clause(s) it violates
    description: str
    apply: Callable[[pytest.MonkeyPatch], None]
    files: tuple[str, ...]  # the suite modules that concern it
    keyword: str  # a ``-k`` expression selecting the tests in them that should catch it


# -- helpers ------------------------------------------------------------------------------


def _online_slot(
    plane: DataPlane, request: dict[str, Any]
) -> tuple[dict[str, OnlineRecord], str] | None:
    """The online dictionary of the request's group and the record identifier it names."""
    try:
        group = plane.control_plane.find(request["FeatureGroupName"])
    except ServiceError:
        return None
    identifier = next(
        (
            entry.get("ValueAsString")
            for entry in request.get("Record", [])
            if entry.get("FeatureName") == group.record_identifier
        ),
        request.get("RecordIdentifierValueAsString"),
    )
    if identifier is None:
        return None
    return plane.data_for(group).online, identifier


def _wrap_put(
    monkeypatch: pytest.MonkeyPatch,
    after: Callable[[OnlineRecord, OnlineRecord | None], OnlineRecord | None],
) -> None:
    """Run the real PutRecord, then let ``after(before, now_stored)`` pick what stays."""
    original = DataPlane.put_record

    def put_record(self: DataPlane, request: dict[str, Any], now: float) -> dict[str, Any]:
        slot = _online_slot(self, request)
        before = slot[0].get(slot[1]) if slot else None
        result = original(self, request, now)
        if slot is not None and before is not None and not before.deleted:
            stored = slot[0].get(slot[1])
            chosen = after(before, stored)
            if chosen is not None:
                slot[0][slot[1]] = chosen
        return result

    _replace(monkeypatch, "PutRecord", "put_record", put_record)


def _replace(
    monkeypatch: pytest.MonkeyPatch, operation: str, method: str, function: Callable[..., Any]
) -> None:
    """Replace a DataPlane method, and the emulator's dispatch entry that holds the original."""
    monkeypatch.setattr(DataPlane, method, function)
    monkeypatch.setitem(runtime_handlers.OPERATIONS, operation, function)


# -- the mutants --------------------------------------------------------------------------


def _keep_first(monkeypatch: pytest.MonkeyPatch) -> None:
    _wrap_put(monkeypatch, lambda before, stored: before)


def _merge(monkeypatch: pytest.MonkeyPatch) -> None:
    def merge(before: OnlineRecord, stored: OnlineRecord | None) -> OnlineRecord | None:
        if stored is None or stored is before:
            return None
        stored.values = {**before.values, **stored.values}
        return stored

    _wrap_put(monkeypatch, merge)


def _equal_time_reversed(monkeypatch: pytest.MonkeyPatch) -> None:
    def keep_on_tie(before: OnlineRecord, stored: OnlineRecord | None) -> OnlineRecord | None:
        if stored is not None and stored is not before and stored.event_time == before.event_time:
            return before
        return None

    _wrap_put(monkeypatch, keep_on_tie)


def _backfill(monkeypatch: pytest.MonkeyPatch) -> None:
    original = DataPlane._projected

    def projected(
        self: DataPlane,
        group: Any,
        record: OnlineRecord,
        feature_names: list[str] | None,
        expiration: str | None,
        now: float,
    ) -> dict[str, Any]:
        result = original(self, group, record, feature_names, expiration, now)
        if feature_names is None and result["Record"]:
            for definition in group.definitions:
                name = definition["FeatureName"]
                added = group.feature_ready_at.get(name, group.created) != group.created
                if added and name not in record.values:
                    default = "" if definition["FeatureType"] == "String" else "0"
                    result["Record"].append({"FeatureName": name, "ValueAsString": default})
        return result

    monkeypatch.setattr(DataPlane, "_projected", projected)


def _reserved_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "RESERVED_FEATURE_NAMES", frozenset())


def _partition_by_write_time(monkeypatch: pytest.MonkeyPatch) -> None:
    original = replication.partition_path
    monkeypatch.setattr(replication, "partition_path", lambda event_time: original(time.time()))


def _no_delete_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    original = DataPlane.delete_record

    def delete_record(self: DataPlane, request: dict[str, Any], now: float) -> dict[str, Any]:
        try:
            rows = self.data_for(self.control_plane.find(request["FeatureGroupName"])).offline
        except ServiceError:
            return original(self, request, now)
        kept = len(rows)
        result = original(self, request, now)
        del rows[kept:]
        return result

    _replace(monkeypatch, "DeleteRecord", "delete_record", delete_record)


def _batch_echo_altered(monkeypatch: pytest.MonkeyPatch) -> None:
    original = DataPlane.batch_write_record

    def batch_write_record(self: DataPlane, request: dict[str, Any], now: float) -> dict[str, Any]:
        result = original(self, request, now)
        for error in result["Errors"]:
            error["Entry"]["Record"] = list(reversed(error["Entry"]["Record"]))
        return result

    _replace(monkeypatch, "BatchWriteRecord", "batch_write_record", batch_write_record)


def _list_soft_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    original = DataPlane.list_records

    def list_records(self: DataPlane, request: dict[str, Any], now: float) -> dict[str, Any]:
        return original(self, dict(request, IncludeSoftDeletedRecords=True), now)

    _replace(monkeypatch, "ListRecords", "list_records", list_records)


def _update_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    original = DataPlane.update_record

    def update_record(self: DataPlane, request: dict[str, Any], now: float) -> dict[str, Any]:
        result = original(self, request, now)
        group = self.control_plane.find(request["FeatureGroupName"])
        stored = self.data_for(group).online[request["RecordIdentifierValueAsString"]]
        named = {f["FeatureName"] for f in request["Features"]}
        keys = {group.record_identifier, group.event_time_feature}
        stored.values = {k: v for k, v in stored.values.items() if k in named | keys}
        return result

    _replace(monkeypatch, "UpdateRecord", "update_record", update_record)


def _on_demand_switch_unlimited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "ON_DEMAND_SWITCH_INTERVAL", 0.0)


def _set_keeps_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    original = records.check_collection

    def check_collection(feature: dict[str, Any], value: list[str]) -> list[str]:
        original(feature, value)
        return list(value)

    monkeypatch.setattr(records, "check_collection", check_collection)


def _expiry_leaves_no_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DataPlane, "_expiry_marker", lambda self, *args: None)


def _iceberg_overwrites(monkeypatch: pytest.MonkeyPatch) -> None:
    original = iceberg.write_rows

    def write_rows(state: Any, group: Any, rows: list[Any], now: float) -> None:
        table = iceberg.table_of(state, group)
        if table.current_snapshot() is not None:
            table.delete(AlwaysTrue())  # each batch replaces the table instead of appending
        original(state, group, rows, now)

    monkeypatch.setattr(iceberg, "write_rows", write_rows)


# -- undoing the corrections the public evidence asked for (docs/evidence.md) -------------


def _iceberg_catalog_as_glue(monkeypatch: pytest.MonkeyPatch) -> None:
    original = control_plane.generated_catalog
    monkeypatch.setattr(
        control_plane,
        "generated_catalog",
        lambda name, epoch, table_format: original(name, epoch, "Glue"),
    )


def _arn_lowercased(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ControlPlane.arn_for
    monkeypatch.setattr(ControlPlane, "arn_for", lambda self, name: original(self, name.lower()))


def _modified_at_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ControlPlane.create_feature_group

    def create_feature_group(
        self: ControlPlane, request: dict[str, Any], now: float
    ) -> dict[str, Any]:
        result = original(self, request, now)
        self.find(request["FeatureGroupName"]).last_modified = now
        return result

    monkeypatch.setattr(ControlPlane, "create_feature_group", create_feature_group)
    monkeypatch.setitem(control_handlers.OPERATIONS, "CreateFeatureGroup", create_feature_group)


def _creations_unlimited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "MAX_CONCURRENT_CREATIONS", 1_000_000)


def _offline_objects_unencrypted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encryption, "offline_object_key", lambda state, group: None)


def _no_online_grant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encryption, "grant_online_key", lambda state, group: None)


def _grant_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encryption, "retire_online_grant", lambda state, group: None)


# -- tolerated variants: what the contract leaves open ----------------------------------------


def _answers_reversed(monkeypatch: pytest.MonkeyPatch) -> None:
    batch_get, list_records = DataPlane.batch_get_record, DataPlane.list_records

    def batch_get_record(self: DataPlane, request: dict[str, Any], now: float) -> dict[str, Any]:
        result = batch_get(self, request, now)
        result["Records"].reverse()
        return result

    def listed(self: DataPlane, request: dict[str, Any], now: float) -> dict[str, Any]:
        result = list_records(self, request, now)
        result["RecordIdentifiers"].reverse()
        return result

    _replace(monkeypatch, "BatchGetRecord", "batch_get_record", batch_get_record)
    _replace(monkeypatch, "ListRecords", "list_records", listed)


_PUT = "suites/test_runtime_put.py"
_OFFLINE = "suites/test_offline_store.py"
_PROPS = "suites/test_properties.py"
_STATEFUL = "suites/test_stateful.py"
_ORACLE = "contract_oracle"  # the stateful machine's test
_DESCRIBE = "suites/test_describe.py"
_ENCRYPTION = "suites/test_encryption.py"

MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in [
        Mutant(
            "online_keeps_first",
            "C-035, C-045",
            "the online store keeps the first write instead of the latest",
            _keep_first,
            (_PUT, _STATEFUL),
            f"newer_event_time or replaces_the_whole or {_ORACLE}",
        ),
        Mutant(
            "backfill_added_features",
            "C-041, C-053",
            "features added by an update are backfilled into existing records",
            _backfill,
            (_PROPS, _PUT, _STATEFUL),
            f"added_features_are_absent or added_feature_eventually or {_ORACLE}",
        ),
        Mutant(
            "put_merges",
            "C-031",
            "PutRecord merges into the stored record instead of replacing it",
            _merge,
            (_PUT, _STATEFUL),
            f"replaces_the_whole or {_ORACLE}",
        ),
        Mutant(
            "reserved_names_accepted",
            "C-013",
            "is_deleted, write_time and api_invocation_time are accepted as feature names",
            _reserved_accepted,
            ("suites/test_create.py", "suites/test_update.py", _PROPS),
            "reserved_feature_names or reserve_a_name or invalid_schema",
        ),
        Mutant(
            "partition_by_write_time",
            "C-063",
            "offline files are partitioned by write time instead of event time",
            _partition_by_write_time,
            (_OFFLINE,),
            "hourly_event_time_partitions",
        ),
        Mutant(
            "equal_time_reversed",
            "C-035",
            "a put with an equal event time leaves the online record unchanged",
            _equal_time_reversed,
            (_PUT, _STATEFUL),
            f"equal_event_time or {_ORACLE}",
        ),
        Mutant(
            "no_delete_markers",
            "C-102, C-067",
            "DeleteRecord writes no marker row to the offline store",
            _no_delete_markers,
            (_OFFLINE, _PROPS, _STATEFUL),
            f"marker or offline_rows_equal or {_ORACLE}",
        ),
        Mutant(
            "batch_write_echo_altered",
            "C-163",
            "BatchWriteRecord echoes a failed entry with its Record reordered",
            _batch_echo_altered,
            ("suites/test_runtime_batch_write.py",),
            "entry_as_sent or refused_entry_leaves",
        ),
        Mutant(
            "list_records_soft_deleted",
            "C-167",
            "ListRecords lists soft-deleted records without IncludeSoftDeletedRecords",
            _list_soft_deleted,
            ("suites/test_runtime_list_update.py",),
            "soft_deleted_records_are_listed",
        ),
        Mutant(
            "update_record_replaces",
            "C-169",
            "UpdateRecord drops the features it does not name, as PutRecord would",
            _update_replaces,
            ("suites/test_runtime_list_update.py",),
            "changes_only_the_features or equal_or_newer",
        ),
        Mutant(
            "on_demand_switch_unlimited",
            "C-175",
            "a group may switch to OnDemand any number of times a day",
            _on_demand_switch_unlimited,
            ("suites/test_storage_throughput.py",),
            "second_switch_to_on_demand",
        ),
        Mutant(
            "expiry_leaves_no_offline_row",
            "C-180",
            "an expired record leaves the online store without reaching the offline store",
            _expiry_leaves_no_row,
            ("suites/test_offline_ttl.py",),
            "expired_record_is_added or later_expiry",
        ),
        Mutant(
            "iceberg_overwrites",
            "C-179, C-067",
            "each replication batch replaces the Iceberg table's rows instead of appending",
            _iceberg_overwrites,
            ("suites/test_offline_iceberg.py",),
            "appends_a_snapshot or schema_change",
        ),
        Mutant(
            "set_keeps_duplicates",
            "C-182",
            "a Set feature stores duplicate elements",
            _set_keeps_duplicates,
            ("suites/test_collections.py",),
            "set_keeps_each_element_once",
        ),
        Mutant(
            "iceberg_catalog_as_glue",
            "C-080 (E-19)",
            "an Iceberg group's catalogue names are those of a Glue-format group",
            _iceberg_catalog_as_glue,
            (_DESCRIBE,),
            "iceberg_group_gets_the_catalog_names",
        ),
        Mutant(
            "arn_lowercased",
            "C-010 (E-02)",
            "the ARN carries the group name in lower case",
            _arn_lowercased,
            ("suites/test_create.py", _PROPS),
            "keeps_the_case or every_valid_schema_creates",
        ),
        Mutant(
            "modified_at_creation",
            "C-051 (E-14)",
            "a group never updated reports LastModifiedTime",
            _modified_at_creation,
            ("suites/test_update.py",),
            "never_updated or appears_once",
        ),
        Mutant(
            "creations_unlimited",
            "C-019 (E-09)",
            "any number of groups may be Creating at once",
            _creations_unlimited,
            ("suites/test_create.py",),
            "beyond_four",
        ),
        Mutant(
            "offline_objects_unencrypted",
            "C-191 (E-26)",
            "the offline objects of a group with an offline KmsKeyId are not SSE-KMS",
            _offline_objects_unencrypted,
            (_ENCRYPTION,),
            "offline_key",
        ),
        Mutant(
            "no_online_grant",
            "C-191 (E-27)",
            "the online store's key gets no grant",
            _no_online_grant,
            (_ENCRYPTION,),
            "grant",
        ),
        Mutant(
            "grant_kept_after_delete",
            "C-191 (E-27)",
            "the online key's grant stays after the group is deleted",
            _grant_kept,
            (_ENCRYPTION,),
            "grant_goes",
        ),
    ]
}

# Variants the contract allows: every selected test must pass with each of them.
TOLERATED: dict[str, Mutant] = {
    m.name: m
    for m in [
        Mutant(
            "answers_reversed",
            "C-044, C-167 (E-24)",
            "BatchGetRecord's Records and each ListRecords page come in reverse order",
            _answers_reversed,
            (
                "suites/test_runtime_get.py",
                _PUT,
                "suites/test_runtime_delete_ttl.py",
                "suites/test_runtime_list_update.py",
                _STATEFUL,
                _PROPS,
            ),
            "test_runtime_get or test_runtime_delete_ttl or test_runtime_list_update "
            f"or newer_event_time or {_ORACLE} or put_then_get_returns_exactly",
        ),
    ]
}


def activate(name: str, monkeypatch: pytest.MonkeyPatch) -> Mutant:
    """Apply mutant (or tolerated variant) ``name`` through ``monkeypatch`` (undo with
    ``monkeypatch.undo()``)."""
    every = {**MUTANTS, **TOLERATED}
    if name not in every:
        raise pytest.UsageError(f"{ENV}={name!r} is not a mutant; choose one of {', '.join(every)}")
    mutant = every[name]
    mutant.apply(monkeypatch)
    return mutant


# -- the pytest plugin (loaded only with ``-p mutants``) -------------------------------------------


NO_MUTANT = "none"  # the control run: the same settings, nothing broken

# A mutant shows up as a wrong value or as a wait that never ends; the emulation settles in
# well under a second (default delays), so these runs wait at most 3 s instead of 10.
_MUTANT_RUN_BUDGETS = {
    "offline": 3.0,
    "data_plane": 3.0,
    "update": 3.0,
    "create": 3.0,
    "delete": 3.0,
}


def pytest_configure(config: pytest.Config) -> None:
    name = os.environ.get(ENV)
    if not name:
        return
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(
        MotoBackend, "budgets", dataclasses.replace(MotoBackend.budgets, **_MUTANT_RUN_BUDGETS)
    )
    if name != NO_MUTANT:
        activate(name, monkeypatch)
    config.add_cleanup(monkeypatch.undo)


def pytest_report_header(config: pytest.Config) -> list[str]:
    name = os.environ.get(ENV)
    if not name or name == NO_MUTANT:
        return [f"fsconformance mutant: {name}"] if name else []
    return [f"fsconformance mutant: {name} ({({**MUTANTS, **TOLERATED})[name].description})"]


# -- running the suites against every mutant -----------------------------------------------


@dataclass(frozen=True)
class Outcome:
    mutant: str  # "" for the run without a mutant
    exit_code: int
    failed: tuple[str, ...]
    passed: int
    seconds: float

    @property
    def caught(self) -> bool:
        return self.exit_code == 1 and bool(self.failed)


def run(mutant: str, files: tuple[str, ...], keyword: str, profile: str = "quick") -> Outcome:
    """Run the tests ``keyword`` selects in ``files`` in a fresh pytest process, with
    ``mutant`` active ("" for none)."""
    env = dict(os.environ, FSCONFORMANCE_HYPOTHESIS_PROFILE=profile)
    env.pop(ENV, None)
    env.pop("PYTEST_XDIST_WORKER", None)
    env[ENV] = mutant or NO_MUTANT
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        command = [
            sys.executable, "-m", "pytest", "-p", "mutants", "-p", "no:xdist",
            "-q", "--no-header", f"--junitxml={report}", *files, "-k", keyword,
        ]  # fmt: skip
        completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if completed.returncode not in (0, 1):
            raise RuntimeError(
                f"pytest {' '.join(command[3:])} with mutant {mutant or '(none)'} exited "
                f"{completed.returncode}:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
            )
        failed: list[str] = []
        passed = 0
        for case in ET.parse(report).getroot().iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname')}::{case.get('name')}")
            elif case.find("skipped") is None:
                passed += 1
    return Outcome(mutant, completed.returncode, tuple(failed), passed, time.monotonic() - started)


def run_all(
    workers: int = 2, profile: str = "quick", names: list[str] | None = None
) -> tuple[Outcome, list[Outcome]]:
    """Every mutant's selection together without a mutant (the control run, which must
    pass), then each mutant and tolerated variant with its own selection; ``workers``
    processes at a time. ``names`` narrows the run to those mutants and variants."""
    chosen = [
        m for m in [*MUTANTS.values(), *TOLERATED.values()] if names is None or m.name in names
    ]
    files = tuple(dict.fromkeys(f for m in chosen for f in m.files))
    keyword = " or ".join(f"({m.keyword})" for m in chosen)
    with ThreadPoolExecutor(workers) as pool:
        control = pool.submit(run, "", files, keyword, profile)
        outcomes = list(pool.map(lambda m: run(m.name, m.files, m.keyword, profile), chosen))
        return control.result(), outcomes


def as_expected(outcome: Outcome) -> bool:
    """A mutant is caught; a tolerated variant passes everything it ran."""
    if outcome.mutant in TOLERATED:
        return outcome.exit_code == 0 and not outcome.failed
    return outcome.caught


def catch_table(control: Outcome, outcomes: list[Outcome]) -> str:
    tolerated = [o for o in outcomes if o.mutant in TOLERATED]
    outcomes = [o for o in outcomes if o.mutant not in TOLERATED]
    caught = sum(o.caught for o in outcomes)
    lines = [
        f"control run (no mutant): exit {control.exit_code}, {control.passed} passed, "
        f"{len(control.failed)} failed, {control.seconds:.1f}s",
        f"{'mutant':26} {'breaks':14} caught by",
    ]
    for outcome in outcomes:
        mutant = MUTANTS[outcome.mutant]
        by = ", ".join(name.rpartition(".")[2] for name in outcome.failed) or "NOTHING"
        lines.append(
            f"{outcome.mutant:26} {mutant.breaks:14} {outcome.seconds:5.1f}s "
            f"{len(outcome.failed)}: {by}"
        )
    if outcomes:
        lines.append(f"catch rate: {caught}/{len(outcomes)} = {caught / len(outcomes):.0%}")
    for outcome in tolerated:
        verdict = "tolerated" if as_expected(outcome) else "NOT TOLERATED"
        failed = ", ".join(name.rpartition(".")[2] for name in outcome.failed) or "none"
        lines.append(
            f"{outcome.mutant:26} {TOLERATED[outcome.mutant].breaks:14} {outcome.seconds:5.1f}s "
            f"{verdict}: {outcome.passed} passed, failed: {failed}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    control_outcome, mutant_outcomes = run_all()
    print(catch_table(control_outcome, mutant_outcomes))
    sys.exit(0 if control_outcome.exit_code == 0 and all(map(as_expected, mutant_outcomes)) else 1)

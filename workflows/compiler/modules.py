"""Checks of a module step: its module, its inputs, its outputs_to_state, its retry and timeout."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import ValidationError

from workflows import dsl
from workflows.compiler.scope import Checker, Scope
from workflows.durations import parse_duration_ms
from workflows.modules.registry import ModuleSpec, Registry
from workflows.plan import DEFAULT_TIMEOUT_MS, OnError, RetryPolicy
from workflows.problems import join_pointer
from workflows.structure import locate
from workflows.templates import TemplateError, compile_template, is_template, iter_templates


def resolve_module(name: str, registry: Registry, where: str, checker: Checker) -> ModuleSpec | None:
    """The module of that name, or a problem naming the closest registered one."""
    spec = registry.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, registry.names(), n=1, cutoff=0.6)
        hint = f": did you mean '{close[0]}'?" if close else "; `stepwise modules` lists them"
        checker.report(where, f"unknown module '{name}'{hint}")
    return spec


@functools.lru_cache(maxsize=256)
def _validator(spec: ModuleSpec) -> Draft202012Validator:
    return Draft202012Validator(spec.input_schema())


def check_inputs(
    spec: ModuleSpec, inputs: Mapping[str, Any], where: str, scope: Scope, checker: Checker
) -> None:
    """Literal inputs against the module's schema (a whole-value template stands for any
    value) and its own validators, then every template in them."""
    reported: list[str] = []
    for error in _validator(spec).iter_errors(dict(inputs)):
        if _is_template_instance(error.instance, error.validator, error.validator_value):
            continue
        at = join_pointer(where, *(str(p) for p in error.absolute_path))
        reported.append(at)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            checker.report(at, f"module {spec.name} needs the input '{missing}'")
        elif _one_of_required(error.validator, error.validator_value):
            names = " or ".join(f"'{s['required'][0]}'" for s in error.validator_value)
            checker.report(at, f"module {spec.name} needs the input {names}")
        elif error.validator == "additionalProperties":
            allowed = sorted(spec.input_schema().get("properties", {}))
            for extra in sorted(set(error.instance) - set(allowed)):
                close = difflib.get_close_matches(extra, allowed, n=1, cutoff=0.6)
                hint = f": did you mean '{close[0]}'?" if close else f"; its inputs: {', '.join(allowed)}"
                checker.report(join_pointer(at, extra), f"module {spec.name} has no input '{extra}'{hint}")
        else:
            checker.report(at, f"input does not fit module {spec.name}: {error.message}")
    _check_literals(spec, inputs, where, reported, checker)
    for name, value in inputs.items():
        if name in spec.self_rendered:
            _check_self_rendered(spec, inputs, where, scope, checker)
        else:
            checker.value(value, join_pointer(where, name), scope)


def _check_literals(
    spec: ModuleSpec, inputs: Mapping[str, Any], where: str, reported: list[str], checker: Checker
) -> None:
    """Run the module's own validators (a regex that compiles, a valid schema...) on the
    inputs that hold no template, where the schema check found nothing."""
    literal = {k: v for k, v in inputs.items() if not any(True for _ in iter_templates(v))}
    try:
        spec.input_model.model_validate(literal)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if error["type"] == "missing" or not error["loc"] or error["loc"][0] not in literal:
                continue
            path, _ = locate(literal, list(error["loc"]), last_may_be_absent=False)
            at = join_pointer(where, *(str(p) for p in path))
            if not any(at == r or at.startswith(r + "/") or r.startswith(at + "/") for r in reported):
                message = str(error["msg"]).removeprefix("Value error, ")
                checker.report(at, f"input does not fit module {spec.name}: {message}")
                reported.append(at)


def _one_of_required(validator: str, expected: Any) -> bool:
    """An `anyOf` of single `required` names: the module needs one of these inputs."""
    return validator == "anyOf" and all(
        isinstance(s, dict) and list(s) == ["required"] and len(s["required"]) == 1 for s in expected
    )


def _is_template_instance(instance: Any, validator: str, expected: Any) -> bool:
    """True when a schema error is about a template, whose value is only known at run time."""
    if not isinstance(instance, str) or not is_template(instance):
        return False
    try:
        whole = compile_template(instance).whole_value
    except TemplateError:
        return True  # reported as a syntax error
    if whole:
        return True
    # A text template renders to a string: it fits where a string does.
    if validator == "type":
        allowed = expected if isinstance(expected, list) else [expected]
        return "string" in allowed
    if validator in ("anyOf", "oneOf"):
        return any(isinstance(s, dict) and s.get("type") in (None, "string") for s in expected)
    return True


def _check_self_rendered(
    spec: ModuleSpec, inputs: Mapping[str, Any], where: str, scope: Scope, checker: Checker
) -> None:
    if spec.template_sites is None:
        return
    try:
        sites = list(spec.template_sites(inputs))
    except TemplateError as exc:
        checker.report(join_pointer(where, *spec.self_rendered[:1]), str(exc))
        return
    for site in sites:
        checker.template(site.source, join_pointer(where, *site.path), scope, site.names)


def check_outputs_to_state(
    mapping: Mapping[str, str], outputs: frozenset[str] | None, label: str, where: str, checker: Checker
) -> None:
    """Each output copied to state must be one the step produces."""
    if outputs is None:
        return
    for key, output in mapping.items():
        if output not in outputs:
            close = difflib.get_close_matches(output, sorted(outputs), n=1, cutoff=0.6)
            hint = (
                f": did you mean '{close[0]}'?"
                if close
                else f"; its outputs: {', '.join(sorted(outputs)) or 'none'}"
            )
            checker.report(join_pointer(where, key), f"{label} has no output '{output}'{hint}")


def retry_policy(own: dsl.Retry | None, defaults: dsl.Defaults | None) -> RetryPolicy:
    """The step's retry, field by field over `defaults`, over the engine's defaults."""
    merged: dict[str, Any] = {}
    for layer in (defaults.retry if defaults else None, own):
        if layer is not None:
            merged.update(layer.model_dump(exclude_none=True))
    policy: dict[str, Any] = {}
    if "max_attempts" in merged:
        policy["max_attempts"] = merged["max_attempts"]
    if "initial_interval" in merged:
        policy["initial_interval_ms"] = parse_duration_ms(merged["initial_interval"])
    if "backoff" in merged:
        policy["backoff"] = merged["backoff"]
    if "max_interval" in merged:
        policy["max_interval_ms"] = parse_duration_ms(merged["max_interval"])
    if "non_retryable_errors" in merged:
        policy["non_retryable_errors"] = merged["non_retryable_errors"]
    chosen = RetryPolicy(**policy)
    if "max_interval_ms" not in policy and chosen.max_interval_ms < chosen.initial_interval_ms:
        # The default longest wait gives way to a longer first one (Temporal refuses less).
        chosen = chosen.model_copy(update={"max_interval_ms": chosen.initial_interval_ms})
    return chosen


def retry_problem(policy: RetryPolicy) -> str | None:
    """What Temporal would refuse in a retry policy."""
    if policy.max_interval_ms < policy.initial_interval_ms:
        return (
            f"max_interval ({policy.max_interval_ms} ms) is shorter than initial_interval "
            f"({policy.initial_interval_ms} ms); make it at least as long"
        )
    return None


def runs_local(spec: ModuleSpec, asked: bool | None, where: str, checker: Checker) -> bool:
    """Whether the step runs as a local activity: `local:` if given (where the module allows
    it), else whether the module is light."""
    if asked is None:
        return spec.light
    if asked and not spec.runs_local:
        if spec.runs != "activity":
            place = "inside the workflow already" if spec.runs == "workflow" else "as a human step"
            checker.report(where, f"local has no effect on {spec.name}, which runs {place}: remove it")
        else:
            checker.report(
                where,
                f"{spec.name} cannot run as a local activity (it runs on the '{spec.queue}' workers: "
                f"its work is long or needs them); remove local, or use a module that allows it",
            )
        return False
    return asked


def timeout_ms(own: str | None, defaults: dsl.Defaults | None) -> int:
    """The step's timeout, else the definition's default, else the engine's, in milliseconds."""
    text = own or (defaults.timeout if defaults else None)
    return parse_duration_ms(text) if text else DEFAULT_TIMEOUT_MS


def on_error(value: dsl.OnError) -> OnError:
    """The plan form of on_error."""
    if isinstance(value, dsl.Goto):
        return OnError(action="goto", target=value.goto)
    return OnError(action=value)

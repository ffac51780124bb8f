"""Check one HTTP request against the effective contract (:func:`.spec.effective_contract`).

A :class:`Verdict` lists :class:`Violation` objects; each names the rule that failed (``required``,
``maxItems``, ``unknown-member``, ``unknown-type``, ``sticker.url-xor-id`` ...), where in the request
(``body.message.action.buttons[3]``, ``query.page``, ``path``, ``header.Authorization``) and the page
or YAML section that makes the rule. Deprecated operations and members are accepted and reported as
notes.

JSON Schema validation is jsonschema's Draft 7 with the OpenAPI bits the contract uses added:
``discriminator`` picks the schema for an object's ``type`` (instead of trying every ``oneOf`` branch),
``deprecated`` becomes a note, ``x-removed`` a violation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft7Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from .pages import PAGE_RULES, REF
from .spec import effective_contract

CONTRACT_URI = "urn:sinch-whatsapp-contract"
INTRODUCTION = "whatsapp-introduction.md § Authentication / Headers"
# Keywords whose failures get a name a reader knows without the JSON Schema spec.
RULE_NAMES = {
    "additionalProperties": "unknown-member",
    "discriminator": "unknown-type",
    "x-removed": "removed-member",
}


class _NoBody:
    def __repr__(self) -> str:
        return "NO_BODY"


#: ``body=NO_BODY``: the request had no body at all (as opposed to a JSON ``null``).
NO_BODY: Any = _NoBody()


@dataclass(frozen=True)
class NotJSON:
    """A request body that did not parse as JSON (kept as text for the report)."""

    text: str


@dataclass(frozen=True)
class Violation:
    rule: str
    where: str
    detail: str
    source: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.detail} — {self.source}"


@dataclass
class Verdict:
    method: str
    path: str
    operation: str | None = None
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def rules(self) -> list[str]:
        return [violation.rule for violation in self.violations]


# --- the OpenAPI keywords jsonschema does not know -----------------------------------------------------


def _discriminator(validator: Any, discriminator: dict[str, Any], instance: Any, schema: dict[str, Any]) -> Iterator:
    if not isinstance(instance, dict):
        return
    name = discriminator["propertyName"]
    value = instance.get(name)
    if not isinstance(value, str):
        return  # "required" and "type" on the discriminating member report that
    mapping = discriminator["mapping"]
    if value not in mapping:
        error = ValidationError(f"{value!r} is not one of the types {', '.join(mapping)}", path=[name])
        error.contract_source = schema.get("x-source")
        yield error
        return
    source = _SOURCES.get(mapping[value])
    for error in validator.descend(instance, {"$ref": mapping[value]}):
        if source and not getattr(error, "contract_source", None):
            error.contract_source = source  # the innermost page section wins
        yield error


def _one_of(validator: Any, one_of: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator:
    if "discriminator" not in schema:  # with a discriminator, only the branch it names applies
        yield from Draft7Validator.VALIDATORS["oneOf"](validator, one_of, instance, schema)


def _deprecated(validator: Any, deprecated: bool, instance: Any, schema: dict[str, Any]) -> Iterator:
    if deprecated:
        yield ValidationError(schema.get("description", "deprecated"))


def _removed(validator: Any, why: str, instance: Any, schema: dict[str, Any]) -> Iterator:
    yield ValidationError(why)


_Validator = validators.extend(
    Draft7Validator,
    {"discriminator": _discriminator, "oneOf": _one_of, "deprecated": _deprecated, "x-removed": _removed},
)
_SOURCES: dict[str, str] = {}


def _detail(error: ValidationError) -> str:
    """jsonschema's message, without echoing a whole 21-item array or a 5,000-character text."""
    bound, instance = error.validator_value, error.instance
    if error.validator in ("maxItems", "minItems") and isinstance(instance, list):
        return f"has {len(instance)} items; {'at most' if error.validator == 'maxItems' else 'at least'} {bound}"
    if error.validator in ("maxLength", "minLength") and isinstance(instance, str):
        limit = "at most" if error.validator == "maxLength" else "at least"
        return f"{instance[:40]!r}{'…' if len(instance) > 40 else ''} has {len(instance)} characters; {limit} {bound}"
    return error.message if len(error.message) <= 300 else error.message[:300] + "…"


def _where(prefix: str, error: ValidationError) -> str:
    where = prefix
    for part in error.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    if error.validator == "required":
        missing = re.match(r"^'(.+)' is a required property$", error.message)
        if missing:
            where += f".{missing.group(1)}"
    return where


# --- the contract ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    regex: re.Pattern[str]
    spec: dict[str, Any]
    parameters: dict[str, dict[str, Any]]  # "path:name" / "query:name" -> parameter object

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.template}"

    @property
    def source(self) -> str:
        return self.spec.get("x-source", f"whatsapp-api.yaml paths {self.template} {self.method}")


class Contract:
    """The effective contract, compiled: path matching and one cached validator per schema."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        resource = Resource(contents=spec, specification=DRAFT7)
        self._registry = Registry().with_resource(CONTRACT_URI, resource)
        for name, schema in spec["components"]["schemas"].items():
            if isinstance(schema, dict) and "x-source" in schema:
                _SOURCES[REF + name] = schema["x-source"]
        self._paths: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        for template, item in sorted(spec["paths"].items(), key=lambda entry: entry[0].count("{")):
            pattern = re.sub(r"\\{[^}]+\\}", "([^/]+)", re.escape(template))
            self._paths.append((re.compile(pattern), template, item))
        self._validators: dict[str, Any] = {}

    @classmethod
    @functools.cache
    def default(cls) -> Contract:
        return cls(effective_contract())

    def _validator(self, schema: dict[str, Any]) -> Any:
        ref = schema.get("$ref")
        key = ref or repr(sorted(schema.items()))
        if key not in self._validators:
            root = {"$ref": CONTRACT_URI + ref} if ref and ref.startswith("#") else schema
            self._validators[key] = _Validator(root, registry=self._registry)
        return self._validators[key]

    def _match(self, method: str, path: str) -> tuple[_Operation | None, Violation | None]:
        for regex, template, item in self._paths:
            found = regex.fullmatch(path)
            if not found:
                continue
            operation = item.get(method.lower())
            if not isinstance(operation, dict):
                allowed = sorted(key.upper() for key in item if key != "parameters")
                detail = f"{template} has no {method.upper()} in the contract; it has {', '.join(allowed)}"
                return None, Violation("unknown-method", "method", detail, "whatsapp-api.yaml + pages")
            parameters = {
                f"{parameter['in']}:{parameter['name']}": parameter
                for parameter in (*item.get("parameters", ()), *operation.get("parameters", ()))
            }
            names = re.findall(r"{([^}]+)}", template)
            values = {f"path:{name}": unquote(value) for name, value in zip(names, found.groups(), strict=True)}
            compiled = _Operation(method.lower(), template, regex, operation, parameters)
            return compiled, None if not values else self._path_values(compiled, values)
        detail = f"{path} is not a path of the contract"
        return None, Violation("unknown-path", "path", detail, "whatsapp-api.yaml + pages")

    def _path_values(self, operation: _Operation, values: dict[str, str]) -> Violation | None:
        for key, value in values.items():
            schema = operation.parameters.get(key, {}).get("schema")
            error = next(self._validator(schema).iter_errors(value), None) if schema else None
            if error is not None:
                return Violation(str(error.validator), key.replace(":", "."), _detail(error), operation.source)
        return None

    def check(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = NO_BODY,
        headers: Mapping[str, str] | None = None,
    ) -> Verdict:
        """Validate one request; ``headers=None`` skips the header rules (for bare bodies in unit tests)."""
        verdict = Verdict(method.upper(), path)
        operation, problem = self._match(method, path)
        if problem:
            verdict.violations.append(problem)
        if operation is None:
            return verdict
        verdict.operation = operation.name
        if operation.spec.get("deprecated"):
            verdict.notes.append(operation.spec.get("x-deprecation", f"{operation.name} is deprecated"))
        self._check_query(operation, query or {}, verdict)
        self._check_body(operation, body, verdict)
        if headers is not None:
            self._check_headers(headers, body, verdict)
        return verdict

    def _check_query(self, operation: _Operation, query: Mapping[str, Any], verdict: Verdict) -> None:
        for name, raw in query.items():
            value = raw[-1] if isinstance(raw, list | tuple) else raw
            parameter = operation.parameters.get(f"query:{name}")
            if parameter is None:
                detail = f"{name!r} is not a query parameter of {operation.name}"
                verdict.violations.append(
                    Violation("unknown-query-parameter", f"query.{name}", detail, operation.source)
                )
                continue
            schema = parameter.get("schema", {})
            value = _from_query_string(value, schema.get("type"))
            for error in self._validator(schema).iter_errors(value):
                rule = RULE_NAMES.get(str(error.validator), str(error.validator))
                verdict.violations.append(Violation(rule, f"query.{name}", _detail(error), operation.source))

    def _check_body(self, operation: _Operation, body: Any, verdict: Verdict) -> None:
        request_body = operation.spec.get("requestBody")
        if body is NO_BODY:
            if request_body and request_body.get("required"):
                detail = f"{operation.name} needs a JSON body"
                verdict.violations.append(Violation("body-required", "body", detail, operation.source))
            return
        if request_body is None:
            detail = f"{operation.name} takes no body"
            verdict.violations.append(Violation("unexpected-body", "body", detail, operation.source))
            return
        if isinstance(body, NotJSON):
            detail = f"not JSON: {body.text[:80]!r}"
            verdict.violations.append(Violation("body-not-json", "body", detail, operation.source))
            return
        schema = request_body["content"]["application/json"]["schema"]
        for error in sorted(self._validator(schema).iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
            where = _where("body", error)
            if error.validator == "deprecated":
                verdict.notes.append(f"{where}: {error.message}")
                continue
            rule = RULE_NAMES.get(str(error.validator), str(error.validator))
            source = getattr(error, "contract_source", None) or operation.source
            verdict.violations.append(Violation(rule, where, _detail(error), source))
        if (
            operation.template.endswith("/messages")
            and isinstance(body, dict)
            and isinstance(body.get("message"), dict)
        ):
            message = body["message"]
            for rule in PAGE_RULES:
                if message.get("type") == rule.message_type:
                    for where, detail in rule.check(message):
                        verdict.violations.append(Violation(rule.name, f"body.{where}", detail, rule.source))

    def _check_headers(self, headers: Mapping[str, str], body: Any, verdict: Verdict) -> None:
        lowered = {name.lower(): value for name, value in headers.items()}
        authorization = lowered.get("authorization", "")
        if not authorization.startswith("Bearer ") or not authorization[len("Bearer ") :].strip():
            detail = "every request needs 'Authorization: Bearer <token>'"
            verdict.violations.append(Violation("authorization", "header.Authorization", detail, INTRODUCTION))
        content_type = lowered.get("content-type", "")
        if body is not NO_BODY and content_type.split(";")[0].strip().lower() != "application/json":
            detail = f"is {content_type or 'missing'!r}; it should be application/json when a body is sent"
            verdict.violations.append(Violation("content-type", "header.Content-Type", detail, INTRODUCTION))


def _from_query_string(value: Any, kind: str | None) -> Any:
    """Query values are text; read them as the parameter's declared type when they spell one."""
    if not isinstance(value, str):
        return value
    if kind == "integer" and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if kind == "number" and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        return float(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def check(method: str, path: str, **kwargs: Any) -> Verdict:
    """Validate one request against the default effective contract."""
    return Contract.default().check(method, path, **kwargs)

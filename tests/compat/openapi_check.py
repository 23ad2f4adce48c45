"""Validate real HTTP responses against Atlassian's official OpenAPI 3.0 files.

The emulator claims to speak Atlassian's REST APIs, so its responses must fit
the response schemas Atlassian publishes.  This module loads an OpenAPI file,
turns its ``components/schemas`` into a JSON Schema registry, and answers one
question: does (path template, method, status, body) conform to the spec?

OpenAPI 3.0 schemas are "an extended subset" of JSON Schema draft 4 (wright-00).
The differences that matter for validation are handled here:

* ``nullable: true`` becomes ``type: [T, "null"]`` (and ``null`` is added to an
  ``enum``), because draft 4 knows no ``nullable``.
* ``$ref`` siblings are ignored in both, so nothing to do.
* ``format`` values are checked by our own checker: ``int32``/``int64`` ranges,
  ``uri``/``url`` (absolute, with scheme and host), ``date-time`` (ISO 8601 as
  Jira really sends it, for example ``2016-09-28T23:08:32.097+1000``), ``uuid``.
* OpenAPI-only keywords (``readOnly``, ``xml``, ``example``, ``discriminator``)
  are annotations that the validator ignores.

Lookup: spec path + method + status -> the response's JSON schema, falling back
to ``default``.  A status that is neither documented nor ``default`` is reported
as a failure unless the caller explicitly allows it (see ``allowed_undocumented``).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import jsonschema
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# Jira writes offsets without a colon (+1000); RFC 3339 wants one.  Accept both,
# since the goal is "looks like Atlassian", not "is RFC 3339".
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"
)


def _make_format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("int32")
    def _int32(value: Any) -> bool:
        if not isinstance(value, int) or isinstance(value, bool):
            return True  # the "type" keyword reports wrong types
        return INT32[0] <= value <= INT32[1]

    @checker.checks("int64")
    def _int64(value: Any) -> bool:
        if not isinstance(value, int) or isinstance(value, bool):
            return True
        return INT64[0] <= value <= INT64[1]

    @checker.checks("double")
    def _double(value: Any) -> bool:
        if isinstance(value, float):
            return math.isfinite(value)
        return True

    def _absolute_uri(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and bool(parts.netloc) and " " not in value

    checker.checks("uri")(_absolute_uri)
    checker.checks("url")(_absolute_uri)

    @checker.checks("date-time")
    def _date_time(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        # Let Python reject impossible dates such as month 13.
        text = value.replace("Z", "+00:00")
        m = re.search(r"([+-]\d{2})(\d{2})$", text)
        if m:
            text = text[: m.start()] + f"{m.group(1)}:{m.group(2)}"
        frac = re.search(r"\.(\d+)", text)
        if frac and len(frac.group(1)) > 6:
            text = text.replace(frac.group(0), "." + frac.group(1)[:6])
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return False
        return True

    @checker.checks("uuid")
    def _uuid(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True

    return checker


FORMAT_CHECKER = _make_format_checker()


def openapi_to_jsonschema(node: Any) -> Any:
    """Return a deep copy of an OpenAPI 3.0 schema tree rewritten for draft 4."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: openapi_to_jsonschema(value) for key, value in node.items()}
    if out.pop("nullable", False) is True and "$ref" not in out:
        typ = out.get("type")
        if isinstance(typ, str):
            out["type"] = [typ, "null"]
        elif isinstance(typ, list) and "null" not in typ:
            out["type"] = typ + ["null"]
        elif typ is None and ("allOf" in out or "oneOf" in out or "anyOf" in out):
            # nullable next to a composition: allow null or the composition.
            composed = {k: out.pop(k) for k in ("allOf", "oneOf", "anyOf") if k in out}
            out["anyOf"] = [{"type": "null"}, composed]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = list(out["enum"]) + [None]
    return out


@dataclass
class Lookup:
    """Result of resolving (template, method, status) in a spec."""

    documented: bool
    key: str | None  # the response key used: "200", "default", ...
    schema: dict | None  # JSON schema of the application/json body, or None
    content_types: list[str] = field(default_factory=list)
    description: str = ""


class OpenApiSpec:
    """One OpenAPI 3.0 document, ready to validate response bodies."""

    def __init__(self, document: dict, name: str, extra_required: dict[str, list[str]] | None = None):
        """``extra_required``: component name -> properties to treat as required.

        Atlassian's schemas mark almost nothing as required, so a response that
        drops a field every real response carries would still validate.  Callers
        can tighten named components with what real clients depend on.
        """
        self.name = name
        self.raw = document
        self.base_uri = f"urn:jsmctl-compat:{name}"
        components = openapi_to_jsonschema(document.get("components", {}))
        for component, props in (extra_required or {}).items():
            schema = components.get("schemas", {}).get(component)
            if schema is None:
                raise KeyError(f"{name}: no component schema {component!r} to tighten")
            unknown = set(props) - set(schema.get("properties", {}))
            if unknown:
                raise KeyError(f"{name}: {component} has no properties {sorted(unknown)}")
            schema["required"] = sorted(set(schema.get("required", [])) | set(props))
        converted = {"components": components}
        resource = Resource.from_contents(converted, default_specification=DRAFT4)
        self.registry = Registry().with_resource(self.base_uri, resource)
        self.paths: dict = document.get("paths", {})
        self._validators: dict[str, Draft4Validator] = {}
        self._matchers = [
            (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"), t)
            for t in self.paths
        ]

    @classmethod
    def load(
        cls,
        path: Path | str,
        name: str | None = None,
        extra_required: dict[str, list[str]] | None = None,
    ) -> "OpenApiSpec":
        path = Path(path)
        with path.open(encoding="utf-8") as fh:
            return cls(json.load(fh), name or path.stem, extra_required)

    # -- lookup ---------------------------------------------------------------

    def operation(self, template: str, method: str) -> dict | None:
        item = self.paths.get(template)
        if not item:
            return None
        return item.get(method.lower())

    def templates_for(self, concrete_path: str) -> list[str]:
        """Spec path templates that match a concrete path (literal ones first)."""
        hits = [t for rx, t in self._matchers if rx.match(concrete_path)]
        return sorted(hits, key=lambda t: t.count("{"))

    def lookup(self, template: str, method: str, status: int | str) -> Lookup:
        op = self.operation(template, method)
        if op is None:
            raise KeyError(f"{self.name}: no operation {method.upper()} {template}")
        responses = op.get("responses", {})
        key = str(status)
        documented = key in responses
        if not documented:
            # OpenAPI also allows range keys such as "4XX".
            range_key = f"{key[0]}XX"
            if range_key in responses:
                key, documented = range_key, True
            elif "default" in responses:
                key, documented = "default", True
        if not documented:
            return Lookup(False, None, None)
        response = self._deref_response(responses[key])
        content = response.get("content") or {}
        schema = None
        for ctype, media in content.items():
            if ctype.split(";")[0].strip().lower() in ("application/json", "*/*"):
                if "schema" in media:
                    schema = openapi_to_jsonschema(media["schema"])
                break
        return Lookup(True, key, schema, list(content), response.get("description", ""))

    def _deref_response(self, response: dict) -> dict:
        ref = response.get("$ref")
        if ref and ref.startswith("#/components/responses/"):
            return self.raw["components"]["responses"][ref.rsplit("/", 1)[1]]
        return response

    def is_experimental(self, template: str, method: str) -> bool:
        op = self.operation(template, method) or {}
        return bool(op.get("x-experimental"))

    # -- validation -------------------------------------------------------------

    def validator_for(self, schema: dict) -> Draft4Validator:
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            # Wrap the schema in a document that lives at the spec's URI, so that
            # "#/components/schemas/X" refs inside it resolve against the spec.
            wrapped = _rewrite_local_refs(schema, self.base_uri)
            validator = Draft4Validator(
                wrapped, registry=self.registry, format_checker=FORMAT_CHECKER
            )
            self._validators[key] = validator
        return validator

    def schema_errors(self, schema: dict, instance: Any) -> list[str]:
        validator = self.validator_for(schema)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [_describe(e) for e in errors]

    def component_errors(self, component: str, instance: Any) -> list[str]:
        return self.schema_errors({"$ref": f"#/components/schemas/{component}"}, instance)

    def check_response(
        self,
        template: str,
        method: str,
        status: int,
        body: Any,
        *,
        has_body: bool,
        allowed_undocumented: Iterable[int] = (),
        fallback_error_component: str | None = None,
    ) -> list[str]:
        """All reasons why this response does not fit the spec (empty = conforms).

        ``body`` is the parsed JSON body (ignored when ``has_body`` is false).
        ``allowed_undocumented``: statuses the caller accepts although this
        operation does not list them (e.g. a generic 401); their body is checked
        against ``fallback_error_component`` when given.
        ``fallback_error_component``: schema for documented error responses that
        carry no schema in the spec (Jira documents ErrorCollection globally but
        not per operation).
        """
        problems: list[str] = []
        found = self.lookup(template, method, status)
        schema = found.schema
        if not found.documented:
            if status not in set(allowed_undocumented):
                documented = sorted((self.operation(template, method) or {}).get("responses", {}))
                return [
                    f"status {status} is not documented for {method.upper()} {template} "
                    f"(documented: {', '.join(documented)})"
                ]
        if schema is None and status >= 400 and fallback_error_component:
            schema = {"$ref": f"#/components/schemas/{fallback_error_component}"}
        if schema is None:
            if found.documented and found.content_types == [] and has_body and status < 400:
                problems.append(
                    f"spec documents no body for {status}, but the response has one"
                )
            return problems
        if not has_body:
            problems.append(f"spec documents a JSON body for {status}, but the response is empty")
            return problems
        problems.extend(self.schema_errors(schema, body))
        return problems


def _rewrite_local_refs(node: Any, base: str) -> Any:
    if isinstance(node, list):
        return [_rewrite_local_refs(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith("#"):
            out[key] = base + value
        else:
            out[key] = _rewrite_local_refs(value, base)
    return out


def _describe(error: jsonschema.ValidationError) -> str:
    where = "$" + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
    )
    schema_path = "/".join(str(p) for p in error.absolute_schema_path)
    message = error.message
    if len(message) > 300:
        message = message[:300] + "..."
    return f"{where}: {message} (schema: {schema_path})"

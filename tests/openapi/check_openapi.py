#!/usr/bin/env python3
"""Holds docs/openapi.json to the server it describes.

Input: the document (--spec) and the JSON lines of crowd-route-samples
(--samples, a file or "-"): first the route table, one line a row, then the
real answers of the route samples (tests/server_support/route_samples.cc).

Checked:
  routes   every row has an operation with the row's scope (x-crowd-scope)
           and exactly its URL query parameters; every operation has a row;
  samples  the answer's status is documented for its operation (answers no
           row matched, 404 and 405, under components/responses by status),
           its content type is documented for that status, and a JSON body
           is valid against that schema; the request body of a sample that
           succeeded is valid against the operation's requestBody (JSON
           bodies whole, NDJSON line by line through x-crowd-line-schema).

Schemas are validated as JSON Schema draft 2020-12 (what OpenAPI 3.1 uses),
and "#/components/..." references resolve against the document. Only the
standard library and python3-jsonschema are used; the wrapper below works
from jsonschema 4.10 (Debian 12) to 4.2x without its resolver APIs, which
changed between those versions.

Prints one line per failure, then "N passed, M failed"; exits 1 when
anything failed or nothing was checked.
"""

import argparse
import json
import re
import sys

import jsonschema

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Spec:
    """The document, with schema validation that resolves its references."""

    def __init__(self, doc):
        self.doc = doc
        self.components = doc.get("components", {})
        self.checked_schemas = set()

    def resolve(self, node):
        """Follows a local "$ref" (to any depth) to the object it names."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                raise LookupError("cannot resolve " + ref)
            seen.add(ref)
            target = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise LookupError("dangling reference " + ref)
                target = target[part]
            node = target
        return node

    def errors(self, schema, value):
        """Why `value` is not valid against `schema`: a list of messages."""
        # The schema sits beside the document's components in one root, so
        # that "#/components/schemas/X" means the same as in the document.
        root = {"components": self.components, "allOf": [schema]}
        key = json.dumps(schema, sort_keys=True)
        if key not in self.checked_schemas:
            jsonschema.Draft202012Validator.check_schema(schema)
            self.checked_schemas.add(key)
        validator = jsonschema.Draft202012Validator(root)
        out = []
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            out.append("%s: %s" % (where, error.message))
        return out

    def operations(self):
        """{(METHOD, path): operation} for every operation in "paths"."""
        out = {}
        for path, item in self.doc.get("paths", {}).items():
            item = self.resolve(item)
            for method, op in item.items():
                if method in HTTP_METHODS:
                    out[(method.upper(), path)] = (item, op)
        return out

    def parameters(self, item, op):
        """The operation's parameters, path-level ones included, resolved."""
        by_key = {}
        for p in list(item.get("parameters", [])) + list(op.get("parameters", [])):
            p = self.resolve(p)
            by_key[(p.get("in"), p.get("name"))] = p
        return list(by_key.values())


def media_type(content_type):
    """"text/csv; charset=utf-8" -> "text/csv"."""
    return content_type.split(";")[0].strip().lower()


def is_json(content_type):
    mt = media_type(content_type)
    return mt == "application/json" or mt.endswith("+json")


def find_media(content, content_type):
    """The content entry documented for `content_type`, or None."""
    if not content:
        return None
    if content_type in content:
        return content[content_type]
    wanted = media_type(content_type)
    for key, value in content.items():
        if media_type(key) == wanted:
            return value
    major = wanted.split("/")[0]
    for key in (major + "/*", "*/*"):
        if key in content:
            return content[key]
    return None


def find_response(responses, status):
    """The response documented for `status`: exact, "4XX" range, "default"."""
    for key in (str(status), "%dXX" % (status // 100), "default"):
        if key in responses:
            return responses[key]
    return None


class Checker:
    def __init__(self, spec):
        self.spec = spec
        self.passed = 0
        self.failed = 0

    def report(self, what, problems):
        if problems:
            self.failed += 1
            for p in problems:
                print("FAIL %s: %s" % (what, p))
        else:
            self.passed += 1

    def check_routes(self, routes):
        ops = self.spec.operations()
        table = set()
        for r in routes:
            key = (r["method"].upper(), r["pattern"])
            table.add(key)
            what = "route %s %s" % key
            if key not in ops:
                self.report(what, ["no operation in the document"])
                continue
            item, op = ops[key]
            problems = []
            if op.get("x-crowd-scope") != r["scope"]:
                problems.append("x-crowd-scope is %r, the route's scope is %r" % (op.get("x-crowd-scope"), r["scope"]))
            params = self.spec.parameters(item, op)
            in_query = sorted(p.get("name") for p in params if p.get("in") == "query")
            if in_query != sorted(r["params"]):
                problems.append("query parameters %s, the route reads %s" % (in_query, sorted(r["params"])))
            in_path = sorted(p.get("name") for p in params if p.get("in") == "path")
            if in_path != sorted(re.findall(r"{([^}]+)}", r["pattern"])):
                problems.append("path parameters %s do not match the pattern" % in_path)
            if not op.get("operationId") or not op.get("description"):
                problems.append("operationId and description are required")
            self.report(what, problems)
        for key in sorted(ops):
            if key not in table:
                self.report("operation %s %s" % key, ["no route serves it"])

    def check_body(self, media, content_type, body, label):
        """Problems of `body` (text) against a content entry."""
        schema = media.get("schema")
        if is_json(content_type):
            try:
                value = json.loads(body)
            except ValueError as e:
                return ["%s is not JSON: %s" % (label, e)]
            return ["%s %s" % (label, m) for m in self.spec.errors(schema, value)] if schema is not None else []
        line_schema = media.get("x-crowd-line-schema")
        if line_schema is not None:
            problems = []
            for n, line in enumerate(body.split("\n"), 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as e:
                    problems.append("%s line %d is not JSON: %s" % (label, n, e))
                    continue
                problems += ["%s line %d %s" % (label, n, m) for m in self.spec.errors(line_schema, value)]
            return problems
        if media_type(content_type) == "application/octet-stream":
            return []  # printed as "" by crowd-route-samples
        if schema is not None:
            return ["%s %s" % (label, m) for m in self.spec.errors(schema, body)]
        return []

    def check_sample(self, s, ops):
        what = "%s %s -> %d" % (s["method"], s["target"], s["status"])
        status = s["status"]
        op = None
        if s["pattern"] is None:
            response = self.spec.components.get("responses", {}).get(str(status))
            if response is None:
                return self.report(what, ["no route matched, and components/responses has no %d" % status])
        else:
            key = (s["method"].upper(), s["pattern"])
            if key not in ops:
                return self.report(what, ["no operation %s %s in the document" % key])
            op = ops[key][1]
            response = find_response(op.get("responses", {}), status)
            if response is None:
                return self.report(what, ["status %d is not documented for %s %s" % ((status,) + key)])
        problems = []
        try:
            response = self.spec.resolve(response)
            content = response.get("content", {})
            if s["body"] or content:
                media = find_media(content, s["content_type"])
                if media is None:
                    problems.append("content type %r is not documented for status %d (documented: %s)"
                                    % (s["content_type"], status, sorted(content) or "none"))
                else:
                    problems += self.check_body(self.spec.resolve(media), s["content_type"], s["body"], "response")
            # A request body is held to the document only when the server
            # took it: error samples send bad bodies on purpose.
            if op is not None and s.get("request_body") and status < 400:
                request = op.get("requestBody")
                if request is None:
                    problems.append("a request body was accepted, but the operation declares none")
                else:
                    request = self.spec.resolve(request)
                    rtype = s.get("request_content_type") or "application/json"
                    media = find_media(request.get("content", {}), rtype)
                    if media is None:
                        problems.append("request content type %r is not documented" % rtype)
                    else:
                        problems += self.check_body(self.spec.resolve(media), rtype, s["request_body"], "request")
        except Exception as e:  # a dangling $ref or a bad schema: the error types vary by jsonschema version
            problems.append("the document is broken here: %s: %s" % (type(e).__name__, e))
        self.report(what, problems)

    def check_samples(self, samples):
        ops = self.spec.operations()
        for s in samples:
            self.check_sample(s, ops)


def structure_problems(doc):
    """The document against the OpenAPI 3.1 schema itself, where the
    openapi-spec-validator package is installed (it is not in Debian 12,
    so this is a bonus, never a requirement); None when it is not."""
    try:
        from openapi_spec_validator import OpenAPIV31SpecValidator
    except ImportError:
        return None
    try:
        return ["structure: " + e.message for e in OpenAPIV31SpecValidator(doc).iter_errors()]
    except Exception as e:  # it raises, rather than reports, a dangling $ref
        return ["structure: the document is broken: %s: %s" % (type(e).__name__, str(e)[:200])]


def read_lines(path):
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    with stream:
        return [json.loads(line) for line in stream if line.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", required=True, help="the OpenAPI document (docs/openapi.json)")
    parser.add_argument("--samples", required=True, help="crowd-route-samples output, or - for stdin")
    args = parser.parse_args(argv)
    with open(args.spec, encoding="utf-8") as f:
        spec = Spec(json.load(f))
    lines = read_lines(args.samples)
    checker = Checker(spec)
    problems = [] if str(spec.doc.get("openapi", "")).startswith("3.1.") else ["\"openapi\" is not 3.1.x"]
    structure = structure_problems(spec.doc)
    if structure is None:
        print("note: openapi-spec-validator is not installed; the document's structure is not checked")
    checker.report("document", problems + (structure or []))
    routes = [x for x in lines if x.get("kind") == "route"]
    samples = [x for x in lines if x.get("kind") == "sample"]
    if not routes or not samples:
        print("FAIL %s: no route lines or no sample lines to check" % args.samples)
        checker.failed += 1
    checker.check_routes(routes)
    checker.check_samples(samples)
    print("%d passed, %d failed" % (checker.passed, checker.failed))
    return 1 if checker.failed else 0


if __name__ == "__main__":
    sys.exit(main())

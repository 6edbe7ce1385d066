#!/usr/bin/env python3
"""Checks the checker: check_openapi.py must pass a small correct document
with its samples, and fail each doctored copy that carries one defect. A
checker that passes everything would make the openapi.responses test
worthless, so this runs beside it (ctest openapi.checker_selftest).

Each case writes a spec and a samples file to a temporary directory and runs
the checker as a subprocess, as ctest does.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_openapi.py")


def error_response(code):
    return {
        "description": code,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


# Two routes, one with a URL parameter and a path parameter, one with a body.
SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "mini", "version": "1"},
    "paths": {
        "/v1/things/{name}": {
            "get": {
                "operationId": "getThing",
                "description": "A thing.",
                "x-crowd-scope": "read",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                    },
                    "404": {"$ref": "#/components/responses/404"},
                },
            }
        },
        "/v1/things": {
            "post": {
                "operationId": "addThing",
                "description": "Adds a thing.",
                "x-crowd-scope": "write",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"name": {"type": "string"}},
                                "required": ["name"],
                                "additionalProperties": False,
                            }
                        },
                        "application/x-ndjson": {
                            "schema": {"type": "string"},
                            "x-crowd-line-schema": {"$ref": "#/components/schemas/Thing"},
                        },
                    }
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                    },
                    "400": {"$ref": "#/components/responses/400"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "size": {"type": "integer", "minimum": 0}},
                "required": ["name", "size"],
                "additionalProperties": False,
            },
            "Error": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                        "required": ["code", "message"],
                    }
                },
                "required": ["error"],
            },
        },
        "responses": {"400": error_response("bad"), "404": error_response("not found"),
                      "405": error_response("method")},
    },
}

ERROR_BODY = json.dumps({"error": {"code": "not_found", "message": "no"}})

LINES = [
    {"kind": "route", "method": "GET", "pattern": "/v1/things/{name}", "scope": "read", "params": ["verbose"],
     "body_limit": 0},
    {"kind": "route", "method": "POST", "pattern": "/v1/things", "scope": "write", "params": [], "body_limit": 1024},
    {"kind": "sample", "method": "GET", "pattern": "/v1/things/{name}", "target": "/v1/things/a?verbose=1",
     "status": 200, "content_type": "application/json", "body": json.dumps({"name": "a", "size": 3}),
     "request_body": "", "request_content_type": ""},
    {"kind": "sample", "method": "GET", "pattern": "/v1/things/{name}", "target": "/v1/things/zz",
     "status": 404, "content_type": "application/json", "body": ERROR_BODY, "request_body": "",
     "request_content_type": ""},
    {"kind": "sample", "method": "POST", "pattern": "/v1/things", "target": "/v1/things", "status": 201,
     "content_type": "application/json", "body": json.dumps({"name": "b", "size": 0}),
     "request_body": json.dumps({"name": "b"}), "request_content_type": "application/json"},
    {"kind": "sample", "method": "POST", "pattern": "/v1/things", "target": "/v1/things?many", "status": 201,
     "content_type": "application/json", "body": json.dumps({"name": "c", "size": 2}),
     "request_body": "{\"name\": \"c\", \"size\": 1}\n\n{\"name\": \"d\", \"size\": 1}\n",
     "request_content_type": "application/x-ndjson"},
    # A bad body refused: not held to the request schema.
    {"kind": "sample", "method": "POST", "pattern": "/v1/things", "target": "/v1/things", "status": 400,
     "content_type": "application/json", "body": json.dumps({"error": {"code": "bad_request", "message": "x"}}),
     "request_body": "{\"nme\": 1}", "request_content_type": "application/json"},
    {"kind": "sample", "method": "GET", "pattern": None, "target": "/v1/nothing", "status": 404,
     "content_type": "application/json", "body": ERROR_BODY, "request_body": "", "request_content_type": ""},
]


def run(spec, lines):
    """The checker's exit code and output on `spec` and `lines`."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = os.path.join(tmp, "spec.json")
        samples_path = os.path.join(tmp, "samples.jsonl")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(spec, f)
        with open(samples_path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(x) + "\n" for x in lines)
        done = subprocess.run([sys.executable, CHECKER, "--spec", spec_path, "--samples", samples_path],
                              capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout + done.stderr


def sample(lines, target, status):
    return next(x for x in lines if x.get("kind") == "sample" and x["target"] == target and x["status"] == status)


def defects():
    """(name, spec, lines, text the failure output must contain) per defect."""
    out = []

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    del spec["paths"]["/v1/things/{name}"]["get"]["responses"]["404"]
    out.append(("undocumented status", spec, lines, "status 404 is not documented"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    sample(lines, "/v1/things/a?verbose=1", 200)["body"] = json.dumps({"name": "a", "size": "3"})
    out.append(("wrong type in a body", spec, lines, "size"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    sample(lines, "/v1/things", 201)["body"] = json.dumps({"name": "b"})
    out.append(("missing required field", spec, lines, "'size' is a required property"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    sample(lines, "/v1/things/a?verbose=1", 200)["body"] = json.dumps({"name": "a", "size": 3, "extra": 1})
    out.append(("undocumented field", spec, lines, "extra"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    spec["paths"]["/v1/things"]["post"]["x-crowd-scope"] = "read"
    out.append(("scope mismatch", spec, lines, "x-crowd-scope"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    spec["paths"]["/v1/things/{name}"]["get"]["parameters"][1]["name"] = "loud"
    out.append(("query parameter mismatch", spec, lines, "query parameters"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    lines[0]["params"] = ["verbose", "limit"]
    out.append(("route reads a parameter the document lacks", spec, lines, "query parameters"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    lines.insert(0, {"kind": "route", "method": "DELETE", "pattern": "/v1/things/{name}", "scope": "write",
                     "params": [], "body_limit": 0})
    out.append(("route without operation", spec, lines, "no operation in the document"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    spec["paths"]["/v1/gone"] = {"get": copy.deepcopy(spec["paths"]["/v1/things/{name}"]["get"])}
    spec["paths"]["/v1/gone"]["get"]["parameters"] = [{"name": "verbose", "in": "query"}]
    out.append(("operation without route", spec, lines, "no route serves it"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    sample(lines, "/v1/things/a?verbose=1", 200)["content_type"] = "text/csv"
    sample(lines, "/v1/things/a?verbose=1", 200)["body"] = "a,3\n"
    out.append(("undocumented content type", spec, lines, "content type 'text/csv'"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    sample(lines, "/v1/things", 201)["request_body"] = json.dumps({"name": "b", "colour": "red"})
    out.append(("accepted request body off its schema", spec, lines, "request"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    sample(lines, "/v1/things?many", 201)["request_body"] = "{\"name\": \"c\", \"size\": 1}\n{\"name\": \"d\"}\n"
    out.append(("accepted NDJSON line off its schema", spec, lines, "request line 2"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    sample(lines, "/v1/things/a?verbose=1", 200)["request_body"] = "{}"
    out.append(("request body on an operation that declares none", spec, lines, "declares none"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    del spec["components"]["responses"]["404"]
    spec["paths"]["/v1/things/{name}"]["get"]["responses"]["404"] = error_response("not found")
    out.append(("unrouted status not in components/responses", spec, lines, "components/responses has no 404"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    spec["paths"]["/v1/things/{name}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/Nothing"}
    out.append(("dangling reference", spec, lines, "broken"))

    spec, lines = copy.deepcopy(SPEC), copy.deepcopy(LINES)
    spec["openapi"] = "3.0.3"
    out.append(("not OpenAPI 3.1", spec, lines, "3.1"))

    spec, lines = copy.deepcopy(SPEC), [x for x in LINES if x["kind"] == "route"]
    out.append(("no samples at all", spec, lines, "no route lines or no sample lines"))
    return out


def main():
    failures = []
    code, output = run(SPEC, LINES)
    if code != 0 or "0 failed" not in output:
        failures.append("the correct document failed (exit %d):\n%s" % (code, output))
    for name, spec, lines, expected in defects():
        code, output = run(spec, lines)
        if code == 0:
            failures.append("%s: the checker passed it:\n%s" % (name, output))
        elif expected not in output:
            failures.append("%s: the checker failed, but not saying %r:\n%s" % (name, expected, output))
    for f in failures:
        print("SELFTEST FAIL " + f)
    print("checker selftest: %d cases, %d failed" % (len(defects()) + 1, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

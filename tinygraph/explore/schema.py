"""The JSON Schema of the graph an explorer page embeds (documented in ``docs/exploring.md``).

The tests validate every payload against it; power users can too (``jsonschema.validate``).
"""

from __future__ import annotations

from typing import Any

_NUMBER = {"anyOf": [{"type": "number"}, {"enum": ["nan", "inf", "-inf"]}]}
_OPT_NUMBER = {"type": ["number", "null"]}

ARRAY: dict[str, Any] = {
    "type": "object",
    "required": ["shape", "dtype", "text"],
    "properties": {
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "dtype": {"type": "string"},
        "text": {"type": "string"},
        "values": {"type": "array", "items": _NUMBER, "maxItems": 64},
        "stats": {
            "type": "object",
            "required": ["min", "max", "mean", "std", "nonfinite"],
            "properties": {
                "min": _OPT_NUMBER,
                "max": _OPT_NUMBER,
                "mean": _OPT_NUMBER,
                "std": _OPT_NUMBER,
                "nonfinite": {"type": "integer"},
            },
        },
        "heat": {
            "type": "object",
            "required": ["tiles", "h", "w", "scale", "data"],
            "properties": {
                "tiles": {"type": "integer", "minimum": 1},
                "h": {"type": "integer", "minimum": 1},
                "w": {"type": "integer", "minimum": 1},
                "scale": {"type": "number"},
                "data": {"type": "array", "items": {"type": "integer", "minimum": -999, "maximum": 999}},
            },
        },
    },
    "oneOf": [{"required": ["values"]}, {"required": ["stats", "heat"]}],
}

#: An encoded array: the object above, or, for a 0-d float array of the dtype of the node it
#: belongs to (a value) or reaches (a gradient), the bare number.
ENCODED: dict[str, Any] = {"anyOf": [_NUMBER, ARRAY]}

_ID = {"type": "string", "pattern": "^[nb][0-9]+$"}
_EDGE_ID = {"type": "string", "pattern": "^e[0-9]+$"}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "tinygraph explorer graph",
    "type": "object",
    "required": ["version", "title", "roots", "nodes", "edges", "steps", "chains", "ops", "budget"],
    "properties": {
        "version": {"const": 2},
        "title": {"type": "string"},
        "roots": {"type": "array", "items": _ID},
        "budget": {"type": "integer"},
        "nodes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "op", "name", "kind", "parent", "shape", "dtype"],
                "properties": {
                    "id": _ID,
                    "op": {"type": ["string", "null"]},
                    "name": {"type": "string"},
                    "kind": {
                        "enum": ["parameter", "input", "constant", "op", "module", "composite", "repeat"]
                    },
                    "parent": {"anyOf": [_ID, {"type": "null"}]},
                    "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    "dtype": {"type": "string"},
                    "value": {"$ref": "#/$defs/array"},
                    "scope": {"type": "string"},
                    "attrs": {"type": "string"},
                    "position": {"type": "integer", "minimum": 1},
                    "outputs": {"type": "array", "items": _ID},
                    "size": {"type": "integer", "minimum": 0},
                    "count": {"type": "integer", "minimum": 1},
                },
            },
        },
        "edges": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "src", "dst", "index", "grad"],
                "properties": {
                    "id": _EDGE_ID,
                    "src": _ID,
                    "dst": _ID,
                    "index": {"type": "integer", "minimum": 0},
                    "grad": {"type": "boolean"},
                },
            },
        },
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "grad", "contributions"],
                "properties": {
                    "id": _ID,
                    "grad": {"$ref": "#/$defs/array"},
                    "contributions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["edge", "to", "grad"],
                            "properties": {
                                "edge": _EDGE_ID,
                                "to": _ID,
                                "grad": {"$ref": "#/$defs/array"},
                                "sum": {"anyOf": [{"$ref": "#/$defs/array"}, {"type": "null"}]},
                                "k": {"type": "integer", "minimum": 1},
                                "n": {"type": "integer", "minimum": 1},
                            },
                        },
                    },
                },
            },
        },
        "chains": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["edges", "nodes", "total", "paths", "sum", "grad"],
                "properties": {
                    "edges": {"type": "array", "items": _EDGE_ID},
                    "nodes": {"type": "array", "items": _ID},
                    "total": {"type": "integer", "minimum": 0},
                    "sum": {"type": ["string", "null"]},
                    "grad": {"type": ["string", "null"]},
                    "paths": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["nodes", "length", "factors", "product"],
                            "properties": {
                                "nodes": {"type": "array", "items": _ID},
                                "length": {"type": "integer", "minimum": 0},
                                "product": {"type": ["string", "null"]},
                                "factors": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["of", "wrt", "op", "value"],
                                        "properties": {
                                            "of": _ID,
                                            "wrt": _ID,
                                            "op": {"type": ["string", "null"]},
                                            "value": {"type": ["string", "null"]},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "ops": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["formula", "derivative"],
                "properties": {"formula": {"type": "string"}, "derivative": {"type": "string"}},
            },
        },
    },
    "$defs": {"array": ENCODED},
}

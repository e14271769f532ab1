"""The project's EventBridge matcher against a corpus of cases, each citing where AWS says so.

Sources: the EventBridge User Guide pages (by their file name: ``eb-create-pattern``, the
"Comparison operators" page ``eb-create-pattern-operators``, ``eb-event-patterns-arrays``,
``eb-event-patterns-null-values``, ``eb-filtering-data-types``, the 2023 "Content filtering" page
``eb-event-patterns-content-based-filtering``) and aws/event-ruler, AWS's published matcher: its
README (by section), its tests (class and method), and its ``correctness-cases.json`` (by case
name; the expected result is what its README's "JSON Array Matching" rule gives). Pure: no moto,
no endpoint, the whole corpus runs in milliseconds.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.delivery.event_patterns import (
    MAX_OR_COMBINATIONS,
    PatternError,
    check_pattern,
    matches,
    parse_pattern,
)

UG_CREATE = "User Guide eb-create-pattern"
UG_OPS = "User Guide eb-create-pattern-operators"
UG_ARRAYS = "User Guide eb-event-patterns-arrays"
UG_NULL = "User Guide eb-event-patterns-null-values"
UG_VALUES = "User Guide eb-filtering-data-types"
UG_FILTERING = "User Guide eb-event-patterns-content-based-filtering"
README = "event-ruler README"
CASES_JSON = "event-ruler correctness-cases.json"
RULER_TEST = "event-ruler RulerTest"
MACHINE_TEST = "event-ruler MachineTest"
COMPILER_TEST = "event-ruler JsonRuleCompilerTest"

#: The README's and the User Guide's sample EC2 event.
EC2 = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
    },
}


def ec2(**detail: Any) -> dict[str, Any]:
    """The sample event with some ``detail`` fields replaced."""
    return {**EC2, "detail": {**EC2["detail"], **detail}}


def d(**fields: Any) -> dict[str, Any]:
    return {"detail": fields}


#: (source, pattern, event, expected)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # --- exact values, AND / OR ---------------------------------------------------------------
    (f"{README} Simple matching", {"detail-type": ["EC2 Instance State-change Notification"]}, EC2, True),
    (f"{README} Simple matching", {"detail": {"state": ["initializing", "running"]}}, EC2, True),
    (f"{README} Simple matching", {"detail": {"state": ["initializing", "stopped"]}}, EC2, False),
    (f"{UG_CREATE} Matching event values", {"source": ["aws.ec2", "aws.fargate"]}, EC2, True),
    (f"{UG_CREATE} (all named fields must be present)", {"source": ["aws.ec2"], "nothere": ["x"]}, EC2, False),
    (f"{UG_CREATE} (same nesting structure)", {"state": ["running"]}, EC2, False),
    (f"{UG_OPS} And", {"source": ["aws.ec2"], "detail": {"state": ["running"]}}, EC2, True),
    (f"{UG_OPS} And", {"source": ["aws.s3"], "detail": {"state": ["running"]}}, EC2, False),
    (f"{UG_CREATE} Considerations (exact, case-sensitive strings)", {"source": ["AWS.EC2"]}, EC2, False),
    (f"{UG_CREATE} Considerations (fields not in the pattern ignored)", {"region": ["us-east-1"]}, EC2, True),
    # --- arrays -------------------------------------------------------------------------------
    (f"{UG_ARRAYS} (non-empty intersection)", {"resources": ["arn:x", EC2["resources"][0]]}, EC2, True),
    (f"{UG_ARRAYS} (empty intersection)", {"resources": ["arn:x", "arn:y"]}, EC2, False),
    (f"{README} Simple matching (resources)", {"resources": [EC2["resources"][0]]}, EC2, True),
    (f"{CASES_JSON} primarray: exact match", {"tags": ["admin"]}, {"tags": ["user", "admin"]}, True),
    (f"{CASES_JSON} primarray: no match", {"tags": ["superadmin"]}, {"tags": ["user", "admin"]}, False),
    (
        f"{README} JSON Array Matching",
        {"employees": {"firstName": ["Anna"]}},
        {"employees": [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}]},
        True,
    ),
    (
        f"{README} JSON Array Matching (multi-level arrays)",
        {"employees": {"firstName": ["Peter"]}},
        {"employees": [[{"firstName": "John"}, {"firstName": "Anna"}], [{"firstName": "Peter", "lastName": "Jones"}]]},
        True,
    ),
    (
        f"{README} JSON Array Matching (fields of different elements never combine)",
        {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
        {
            "employees": [
                [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
                [{"firstName": "Peter", "lastName": "Jones"}],
            ]
        },
        False,
    ),
    (
        f"{CASES_JSON} objarray: same element",
        {"d": {"a": [{"exists": True}], "b": [{"exists": True}]}},
        {"d": [{"a": 1, "b": 2}]},
        True,
    ),
    (
        f"{CASES_JSON} objarray: split",
        {"d": {"a": [{"exists": True}], "b": [{"exists": True}]}},
        {"d": [{"a": 1}, {"b": 2}]},
        False,
    ),
    (
        f"{CASES_JSON} objarray: 3 elem, last valid",
        {"d": {"a": [{"exists": True}], "b": [{"exists": True}]}},
        {"d": [{"a": 1}, {"b": 2}, {"a": 3, "b": 4}]},
        True,
    ),
    (
        f"{CASES_JSON} objarray: exact split",
        {"d": {"name": ["alice"], "status": ["active"]}},
        {"d": [{"name": "alice"}, {"status": "active"}]},
        False,
    ),
    (
        f"{CASES_JSON} nested: inner same",
        {"u": {"t": {"k": ["color"], "v": ["blue"]}}},
        {"u": [{"t": [{"k": "color", "v": "blue"}]}]},
        True,
    ),
    (
        f"{CASES_JSON} nested: inner split",
        {"u": {"t": {"k": ["color"], "v": ["blue"]}}},
        {"u": [{"t": [{"k": "color"}, {"v": "blue"}]}]},
        False,
    ),
    (
        f"{CASES_JSON} nested: outer split",
        {"d": {"name": [{"exists": True}], "info": {"x": ["1"]}}},
        {"d": [{"name": "alice"}, {"info": {"x": "1"}}]},
        False,
    ),
    (
        f"{CASES_JSON} nested2: same leaf",
        {"a": {"b": {"x": [{"exists": True}], "y": [{"exists": True}]}}},
        {"a": [{"b": [{"x": 1, "y": 2}]}]},
        True,
    ),
    (
        f"{CASES_JSON} mixed: array+scalar fail",
        {"users": {"name": [{"exists": True}]}, "version": ["2"]},
        {"users": [{"name": "alice"}], "version": "1"},
        False,
    ),
    (
        f"{CASES_JSON} many elem one valid",
        {"d": {"a": ["target"], "b": ["found"]}},
        {"d": [{"a": "x"}, {"a": "target", "b": "found"}, {"a": "z"}]},
        True,
    ),
    (
        f"{CASES_JSON} numeric+exists array",
        {"i": {"p": [{"numeric": [">", 0, "<", 100]}], "n": [{"exists": True}]}},
        {"i": [{"n": "w", "p": 50}, {"n": "g", "p": 200}]},
        True,
    ),
    (
        f"{CASES_JSON} anything-but array",
        {"u": {"s": [{"anything-but": "banned"}], "n": [{"exists": True}]}},
        {"u": [{"n": "alice", "s": "banned"}, {"n": "bob", "s": "active"}]},
        True,
    ),
    (
        f"{CASES_JSON} primarray: numeric in array",
        {"d": {"vals": [{"numeric": [">", 0, "<", 10]}]}},
        {"d": {"vals": [100, 5, 200]}},
        True,
    ),
    (
        f"{CASES_JSON} primarray: anything-but in array",
        {"d": {"tags": [{"anything-but": "banned"}]}},
        {"d": {"tags": ["banned", "ok"]}},
        True,
    ),
    (
        f"{CASES_JSON} suffix match split",
        {"d": {"name": [{"suffix": "ice"}], "type": [{"exists": True}]}},
        {"d": [{"name": "alice"}, {"type": "user"}]},
        False,
    ),
    (
        f"{CASES_JSON} N emails, only last element has name",
        {"detail": {"email": [{"exists": True}], "name": [{"exists": True}]}},
        {"detail": [{"email": "a@x"}, {"email": "b@x"}, {"email": "e@x", "name": "eve"}]},
        True,
    ),
    (f"{README} JSON Array Matching (arrays within arrays of values)", {"m": ["x"]}, {"m": [["a", ["x"]], "b"]}, True),
    # --- exists and empty values --------------------------------------------------------------
    (f"{UG_OPS} Exists", {"detail": {"state": [{"exists": True}]}}, EC2, True),
    (f"{UG_OPS} Does not exist", {"detail": {"state": [{"exists": False}]}}, EC2, False),
    (f"{UG_OPS} Does not exist", {"detail": {"nope": [{"exists": False}]}}, EC2, True),
    (
        f"{UG_FILTERING} Exists matching (not on an intermediate node)",
        {"detail": {"c-count": [{"exists": True}]}},
        d(**{"c-count": {"c1": 100}}),
        False,
    ),
    (
        f"{README} Exists matching (an object is not a leaf)",
        {"detail": {"c-count": [{"exists": False}]}},
        d(**{"c-count": {"c1": 100}}),
        True,
    ),
    (f"{CASES_JSON} empty array", {"d": {"a": [{"exists": True}]}}, {"d": []}, False),
    (f"{CASES_JSON} empty object", {"d": {"a": [{"exists": True}]}}, {}, False),
    (f"{CASES_JSON} primarray: empty prim array", {"d": {"name": [{"exists": True}]}}, {"d": {"name": []}}, False),
    (
        f"{README} Exists matching (leaf values only: [] is none)",
        {"d": {"name": [{"exists": False}]}},
        {"d": {"name": []}},
        True,
    ),
    (f"{README} Exists matching (leaf values only: {{}} is none)", {"d": [{"exists": True}]}, {"d": {}}, False),
    (f"{README} Exists matching (leaf values only: {{}} is none)", {"d": [{"exists": False}]}, {"d": {}}, True),
    (
        f"{CASES_JSON} exists-false: absent",
        {"d": {"a": [{"exists": True}], "b": [{"exists": False}]}},
        {"d": [{"a": 1}]},
        True,
    ),
    (
        f"{CASES_JSON} exists-false: present",
        {"d": {"a": [{"exists": True}], "b": [{"exists": False}]}},
        {"d": [{"a": 1, "b": 2}]},
        False,
    ),
    (
        "event-ruler NameState.getNameTransitions (presence only in the matched element)",
        {"d": {"a": [{"exists": True}], "b": [{"exists": False}]}},
        {"d": [{"a": 1}, {"b": 2}]},
        True,
    ),
    (
        "event-ruler NameState.getNameTransitions (absent from every element)",
        {"d": {"b": [{"exists": False}]}},
        {"d": [{"a": 1}, {"b": 2}]},
        False,
    ),
    (f"{RULER_TEST} WHEN_WeTryToMatchExistsRules_THEN_TheyWork 2/1", {"b": [{"exists": False}]}, {"a": 1}, True),
    (f"{RULER_TEST} WHEN_WeTryToMatchExistsRules_THEN_TheyWork 2/2", {"b": [{"exists": False}]}, {"b": 2}, False),
    (f"{MACHINE_TEST} testExists", {"abc": [{"exists": True}]}, {"abc": "xyz"}, True),
    (f"{README} JSON text matching (null is a value)", {"x": [{"exists": True}]}, {"x": None}, True),
    (f"{UG_NULL} (an empty string is a value)", {"x": [{"exists": True}]}, {"x": ""}, True),
    # --- null and empty strings ---------------------------------------------------------------
    (f"{UG_NULL} (empty string)", {"detail": {"eventVersion": [""]}}, d(eventVersion="", responseElements=None), True),
    (f"{UG_NULL} (null)", {"detail": {"responseElements": [None]}}, d(eventVersion="", responseElements=None), True),
    (
        f"{UG_NULL} Note (null is not an empty string)",
        {"detail": {"responseElements": [""]}},
        d(responseElements=None),
        False,
    ),
    (f"{UG_NULL} Note (an empty string is not null)", {"detail": {"eventVersion": [None]}}, d(eventVersion=""), False),
    (f"{UG_NULL} (null is not an absent field)", {"detail": {"missing": [None]}}, d(), False),
    # --- JSON types -----------------------------------------------------------------------------
    (f"{RULER_TEST} WHEN_WeTryReallySimpleRules_THEN_TheyWork 4/1", {"a": [1]}, {"a": True}, False),
    (f"{UG_CREATE} Considerations (JSON values: true is no number)", {"a": [True]}, {"a": 1}, False),
    (f"{UG_CREATE} Considerations (JSON values: 0 is not false)", {"a": [0]}, {"a": False}, False),
    (f"{UG_CREATE} Considerations (JSON values: false is not 0)", {"a": [False]}, {"a": 0}, False),
    (f"{UG_CREATE} Considerations (JSON values)", {"a": [True]}, {"a": True}, True),
    (f"{UG_CREATE} Considerations (JSON values: a quoted number is a string)", {"a": ["5"]}, {"a": 5}, False),
    (f"{UG_CREATE} Considerations (JSON values: a number is not its string)", {"a": [5]}, {"a": "5"}, False),
    (f'{UG_CREATE} Considerations (JSON values: "true" is a string)', {"a": ["true"]}, {"a": True}, False),
    (f"{UG_CREATE} Considerations (JSON values: null)", {"a": [None]}, {"a": False}, False),
    (
        f"{UG_VALUES} Value matching",
        {"detail": {"risk-score": [80], "trigger": {"risk": [8]}}},
        d(**{"risk-score": 80, "trigger": {"risk": 8}}),
        True,
    ),
    (f"{COMPILER_TEST} testBigNumbers", {"account": [123456789012]}, {"account": 123456789012}, True),
    # --- numbers: exact matching keeps the JSON form, numeric compares values --------------------
    (
        f'{UG_CREATE} Considerations ("300, 300.0, and 3.0e2 are not considered equal")',
        {"a": [300]},
        {"a": 300.0},
        False,
    ),
    (
        f'{UG_CREATE} Considerations ("300, 300.0, and 3.0e2 are not considered equal")',
        {"a": [3.0e2]},
        {"a": 300},
        False,
    ),
    (f"{UG_CREATE} Considerations (the same number in the same form)", {"a": [300]}, {"a": 300}, True),
    (f"{UG_CREATE} Considerations (the same number in the same form)", {"a": [300.5]}, {"a": 300.5}, True),
    (f"{COMPILER_TEST} testCompile (another number)", {"a": [300]}, {"a": 301}, False),
    (f"{UG_CREATE} Considerations (anything-but keeps the form)", {"a": [{"anything-but": [300]}]}, {"a": 300.0}, True),
    (
        "event-ruler ByteMachineTest WHEN_NumericEQIsAdded_THEN_ItMatchesMultipleNumericForms",
        {"a": [{"numeric": ["=", 300.0]}]},
        {"a": 300},
        True,
    ),
    (
        f"{README} Numeric matching (x-limit = 3.018e2)",
        {"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}},
        EC2,
        True,
    ),
    # --- numeric ----------------------------------------------------------------------------------
    (
        f"{README} Numeric matching",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}]}},
        EC2,
        True,
    ),
    (
        f"{UG_OPS} Numeric (range): upper bound inclusive",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        ec2(**{"c-count": 5}),
        True,
    ),
    (
        f"{UG_OPS} Numeric (range): upper bound exclusive",
        {"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}},
        ec2(**{"c-count": 5}),
        False,
    ),
    (
        f"{UG_OPS} Numeric (range): lower bound exclusive",
        {"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}},
        ec2(**{"c-count": 0}),
        False,
    ),
    (
        f"{UG_OPS} Numeric (range): lower bound inclusive",
        {"detail": {"c-count": [{"numeric": [">=", 0, "<", 5]}]}},
        ec2(**{"c-count": 0}),
        True,
    ),
    (f"{UG_OPS} Numeric (equals)", {"detail": {"c-count": [{"numeric": ["=", 5]}]}}, EC2, True),
    (f"{UG_OPS} Numeric", {"detail": {"c-count": [{"numeric": [">=", 6]}]}}, EC2, False),
    (
        f"{UG_FILTERING} Numeric matching (JSON numbers only: never a string)",
        {"detail": {"c-count": [{"numeric": [">", 0]}]}},
        ec2(**{"c-count": "5"}),
        False,
    ),
    (
        f"{UG_FILTERING} Numeric matching (JSON numbers only: never a boolean)",
        {"a": [{"numeric": [">", 0]}]},
        {"a": True},
        False,
    ),
    (
        f"{UG_FILTERING} Numeric matching (JSON numbers only: never a boolean)",
        {"a": [{"numeric": ["=", 0]}]},
        {"a": False},
        False,
    ),
    (f"{README} Numeric matching (IEEE 754 binary64 range)", {"a": [{"numeric": ["<", -1e300]}]}, {"a": -1e301}, True),
    (
        f"{RULER_TEST} WHEN_WeTryAnythingButRules_THEN_Theywork (z: 0 < 0.999999 < 1)",
        {"z": [{"numeric": [">", 0, "<", 1]}]},
        {"z": 0.999999},
        True,
    ),
    (
        f"{RULER_TEST} WHEN_WeTryAnythingButRules_THEN_Theywork (z: 1.01)",
        {"z": [{"numeric": [">", 0, "<", 1]}]},
        {"z": 1.01},
        False,
    ),
    # --- prefix / suffix / equals-ignore-case -----------------------------------------------------
    (f"{UG_OPS} Begins with", {"time": [{"prefix": "2017-10-02"}]}, EC2, True),
    (f"{UG_OPS} Begins with", {"region": [{"prefix": "eu-"}]}, EC2, False),
    (f"{UG_OPS} Begins with (case-sensitive)", {"source": [{"prefix": "AWS."}]}, EC2, False),
    (f"{UG_OPS} Begins with (ignore case)", {"source": [{"prefix": {"equals-ignore-case": "AWS.E"}}]}, EC2, True),
    (f"{README} Prefix matching (string-valued fields only)", {"a": [{"prefix": "1"}]}, {"a": 123}, False),
    (f"{UG_OPS} Ends with", {"detail": {"instance-id": [{"suffix": "00000"}]}}, EC2, True),
    (f"{UG_OPS} Ends with", {"detail": {"instance-id": [{"suffix": ".png"}]}}, EC2, False),
    (
        f"{UG_OPS} Ends with (ignore case)",
        {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]},
        {"FileName": "photo.PNG"},
        True,
    ),
    (
        f"{README} Suffix equals-ignore-case matching",
        {"source": [{"suffix": {"equals-ignore-case": "EC2"}}]},
        EC2,
        True,
    ),
    (f"{UG_OPS} Equals (ignore case)", {"detail": {"state": [{"equals-ignore-case": "RUNNING"}]}}, EC2, True),
    (f"{UG_OPS} Equals (ignore case)", {"detail": {"state": [{"equals-ignore-case": "RUNNINGX"}]}}, EC2, False),
    (
        f"{README} Equals-ignore-case matching (string-valued fields only)",
        {"a": [{"equals-ignore-case": "true"}]},
        {"a": True},
        False,
    ),
    (f"{UG_OPS} Empty", {"LastName": [""]}, {"LastName": ""}, True),
    # --- wildcard ---------------------------------------------------------------------------------
    (f"{UG_OPS} Wildcard", {"detail": {"instance-id": [{"wildcard": "i-*00000"}]}}, EC2, True),
    (f"{MACHINE_TEST} testWildcardMatching (* matches nothing too)", {"a": [{"wildcard": "*bc"}]}, {"a": "bc"}, True),
    (f"{MACHINE_TEST} testWildcardMatching", {"b": [{"wildcard": "d*f"}]}, {"b": "dexef"}, True),
    (f"{MACHINE_TEST} testWildcardMatching", {"b": [{"wildcard": "d*ff"}]}, {"b": "dexef"}, False),
    (f"{MACHINE_TEST} testWildcardMatching", {"d": [{"wildcard": "12*4*"}]}, {"d": "1235"}, False),
    (f"{RULER_TEST} WHEN_WeTryWildcardRules_THEN_TheyWork", {"b": [{"wildcard": "d*f"}]}, {"b": "deeeefx"}, False),
    (f"{README} Wildcard matching (escaped asterisk is literal)", {"a": [{"wildcard": "a\\*c"}]}, {"a": "a*c"}, True),
    (f"{README} Wildcard matching (escaped asterisk is literal)", {"a": [{"wildcard": "a\\*c"}]}, {"a": "abc"}, False),
    (f"{README} Wildcard matching (escaped backslash)", {"a": [{"wildcard": "a\\\\*"}]}, {"a": "a\\xyz"}, True),
    (f"{README} Wildcard matching (string-valued fields only)", {"a": [{"wildcard": "1*"}]}, {"a": 12}, False),
    # --- anything-but -----------------------------------------------------------------------------
    (f"{UG_OPS} Anything-but", {"detail": {"state": [{"anything-but": "initializing"}]}}, EC2, True),
    (f"{UG_OPS} Anything-but", {"detail": {"state": [{"anything-but": "running"}]}}, EC2, False),
    (
        f"{README} Anything-but list (strings)",
        {"detail": {"state": [{"anything-but": ["stopped", "running"]}]}},
        EC2,
        False,
    ),
    (f"{README} Anything-but list (numbers)", {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}, EC2, True),
    (
        f"{UG_CREATE} Considerations (anything-but: 100.0 is not 100)",
        {"x": [{"anything-but": [100, 200]}]},
        {"x": 100.0},
        True,
    ),
    (f"{README} Anything-but list (numbers)", {"x": [{"anything-but": [100, 200]}]}, {"x": 100}, False),
    (
        f'{RULER_TEST} WHEN_WeTryAnythingButRules_THEN_Theywork (b: "444" is no number)',
        {"b": [{"anything-but": [111, 222, 333]}]},
        {"b": "444"},
        True,
    ),
    (
        f"{RULER_TEST} WHEN_WeTryAnythingButRules_THEN_Theywork (b: 111)",
        {"b": [{"anything-but": [111, 222, 333]}]},
        {"b": 111},
        False,
    ),
    (
        f"{MACHINE_TEST} testDeleteMixedOperatorShapeWithSharedWildcard (anything-but needs a value)",
        {"detail": {"nope": [{"anything-but": "x"}]}},
        EC2,
        False,
    ),
    (
        f"{MACHINE_TEST} testDeleteMixedOperatorShapeWithSharedWildcard (anything-but or absent)",
        {"t": [{"anything-but": ["gold"]}, {"exists": False}]},
        {},
        True,
    ),
    (
        f"{UG_OPS} Anything-but (begins with)",
        {"Region": [{"anything-but": {"prefix": "us-"}}]},
        {"Region": "eu-west-1"},
        True,
    ),
    (
        f"{UG_OPS} Anything-but (begins with)",
        {"Region": [{"anything-but": {"prefix": "us-"}}]},
        {"Region": "us-east-1"},
        False,
    ),
    (
        f"{README} Anything-but prefix list",
        {"s": [{"anything-but": {"prefix": ["init", "error"]}}]},
        {"s": "error-3"},
        False,
    ),
    (
        f"{UG_OPS} Anything-but (ends with)",
        {"FileName": [{"anything-but": {"suffix": ".png"}}]},
        {"FileName": "a.png"},
        False,
    ),
    (
        f"{README} Anything-but suffix list",
        {"i": [{"anything-but": {"suffix": ["1234", "6789"]}}]},
        {"i": "i-0000"},
        True,
    ),
    (
        f"{RULER_TEST} WHEN_WeTryAnythingButRules_THEN_Theywork (o: camelcase)",
        {"o": [{"anything-but": {"equals-ignore-case": "CamelCase"}}]},
        {"o": "camelcase"},
        False,
    ),
    (
        f"{RULER_TEST} WHEN_WeTryAnythingButRules_THEN_Theywork (p: abc)",
        {"p": [{"anything-but": {"equals-ignore-case": ["CamelCase", "AbC"]}}]},
        {"p": "abc"},
        False,
    ),
    (
        f"{UG_OPS} Anything-but using a wildcard",
        {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
        {"FilePath": "/usr/lib/x.so"},
        False,
    ),
    (
        f"{UG_OPS} Anything-but using a wildcard",
        {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
        {"FilePath": "/usr/bin/x"},
        True,
    ),
    (
        f"{README} Anything-but wildcard list",
        {"s": [{"anything-but": {"wildcard": ["*/bin/*.jar", "*/bin/*.class"]}}]},
        {"s": "/a/bin/b.class"},
        False,
    ),
    # --- cidr and IP addresses --------------------------------------------------------------------
    (f"{UG_OPS} IP address matching", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, EC2, True),
    (f"{UG_OPS} IP address matching", {"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, EC2, False),
    (
        f"{README} IP Address Matching (IPv6)",
        {"ip": [{"cidr": "2001:db8::/32"}]},
        {"ip": "2001:db8::ff00:42:8329"},
        True,
    ),
    (
        f"{README} IP Address Matching (an IP address is a string: cidr never matches a number)",
        {"ip": [{"cidr": "0.0.0.0/1"}]},
        {"ip": 10},
        False,
    ),
    (
        f"{MACHINE_TEST} testCIDRRuleWithNumericRule (an IP string is no number)",
        {"ip": [{"numeric": [">", 0, "<=", 5]}]},
        {"ip": "10.0.1.200"},
        False,
    ),
    (f"{MACHINE_TEST} testCIDRRuleWithNumericRule", {"ip": ["10.0.1.200"]}, {"ip": "10.0.1.200"}, True),
    (
        f"{MACHINE_TEST} testIpExactMatch (one address, another spelling)",
        {"ip": ["2001:db8::ff00:42:8329"]},
        {"ip": "2001:0db8:0000:0000:0000:ff00:0042:8329"},
        True,
    ),
    (f"{MACHINE_TEST} testIpExactMatch", {"ip": ["2001:db8::ff00:42:8329"]}, {"ip": "2001:db8::ff00:42:832a"}, False),
    # --- $or ----------------------------------------------------------------------------------------
    (f"{UG_OPS} Or", {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["running"]}}]}, EC2, True),
    (f"{UG_OPS} Or", {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["stopped"]}}]}, EC2, False),
    (
        f'{README} The "$or" Primitive (normal Or)',
        {"source": ["aws.ec2"], "$or": [{"metricName": ["CPUUtilization"]}, {"region": ["us-east-1"]}]},
        EC2,
        True,
    ),
    (
        f'{README} The "$or" Primitive (nested Or and And)',
        {
            "source": ["aws.ec2"],
            "$or": [
                {"metricName": ["CPUUtilization"]},
                {"region": ["us-east-1"], "$or": [{"account": ["1"]}, {"detail": {"c-count": [5]}}]},
            ],
        },
        EC2,
        True,
    ),
    (
        f'{README} The "$or" Primitive (parallel Or)',
        {"$or": [{"source": ["aws.ec2"]}, {"a": ["b"]}], "detail": {"$or": [{"state": ["x"]}, {"d-count": [4]}]}},
        EC2,
        False,
    ),
    (
        f"{COMPILER_TEST} testOrFieldCanKeepWorkingInLegacyRuleCompiler ($or as a field name)",
        {"$or": [{"cidr": "10.0.0.0/24"}]},
        {"$or": "10.0.0.7"},
        True,
    ),
    (
        f"{COMPILER_TEST} testOrFieldCanKeepWorkingInLegacyRuleCompiler ($or object as a field name)",
        {"source": ["aws.cloudwatch"], "$or": {"metricType": ["MetricType"]}},
        {"source": "aws.cloudwatch", "$or": {"metricType": "MetricType"}},
        True,
    ),
]

#: (source, pattern, part of EventBridge's reason)
REFUSALS: list[tuple[str, Any, str]] = [
    (
        f"{UG_OPS} Anything-but (only strings or only numbers)",
        {"a": [{"anything-but": ["x", 1]}]},
        "mixed type is not supported",
    ),
    (
        f"{README} Anything-but matching (entirely strings or entirely numerics)",
        {"a": [{"anything-but": [1, "1"]}]},
        "mixed type is not supported",
    ),
    (
        "event-ruler JsonRuleCompiler.processAnythingButListMatchExpression",
        {"a": [{"anything-but": [True]}]},
        "start|null|boolean is not supported",
    ),
    (
        "event-ruler JsonRuleCompiler (Value of anything-but)",
        {"a": [{"anything-but": None}]},
        "must be an array or single string/number value",
    ),
    (
        "event-ruler JsonRuleCompiler.processAnythingButValuesSetSingleValueMatchExpression",
        {"a": [{"anything-but": {"prefix": ""}}]},
        "Null prefix/suffix not allowed",
    ),
    (
        "event-ruler JsonRuleCompiler.processAnythingButValuesSetSingleValueMatchExpression",
        {"a": [{"anything-but": {"suffix": ""}}]},
        "Null prefix/suffix not allowed",
    ),
    (
        "event-ruler JsonRuleCompiler.processAnythingButValuesSetMatchExpression",
        {"a": [{"anything-but": {"prefix": ["ok", ""]}}]},
        "Null prefix/suffix not allowed",
    ),
    (
        "event-ruler JsonRuleCompiler.processAnythingButValuesSetMatchExpression",
        {"a": [{"anything-but": {"equals-ignore-case": [1]}}]},
        "number|start|null|boolean is not supported",
    ),
    (
        f"{COMPILER_TEST} testWildcardConsecutiveWildcards",
        {"key": [{"wildcard": "abc**def"}]},
        "Consecutive wildcard characters at pos 4",
    ),
    (
        "event-ruler WildcardParser (backslash escapes only * and \\)",
        {"key": [{"wildcard": "a*c\\def"}]},
        "Invalid escape character at pos 4",
    ),
    (
        "event-ruler WildcardParser (trailing backslash)",
        {"key": [{"wildcard": "abc\\"}]},
        "Invalid escape character at pos 4",
    ),
    (
        "event-ruler JsonRuleCompiler (anything-but wildcard is parsed too)",
        {"key": [{"anything-but": {"wildcard": "a**"}}]},
        "Consecutive wildcard characters at pos 2",
    ),
    (f"{COMPILER_TEST} testNumericExpressions bads", {"x": [{"numeric": ["=", 1e309]}]}, "Cannot compare number"),
    (f"{COMPILER_TEST} testNumericExpressions bads", {"x": [{"numeric": ["<", -2.0e422]}]}, "Cannot compare number"),
    (f"{COMPILER_TEST} testNumericExpressions bads", {"x": [{"numeric": [">", 1, "<", 1]}]}, "Bottom must be less"),
    (f"{COMPILER_TEST} testNumericExpressions bads", {"x": [{"numeric": ["<", 1, ">", 0]}]}, "Too many elements"),
    (
        f"{COMPILER_TEST} testNumericExpressions bads",
        {"x": [{"numeric": ["<>", 1, ">", 0]}]},
        "Unrecognized numeric range operator: <>",
    ),
    (
        f"{COMPILER_TEST} testNumericExpressions bads",
        {"x": [{"numeric": [">", 1, "<", 30, False]}]},
        "Too many terms in numeric range expression",
    ),
    (
        f"{COMPILER_TEST} testNumericExpressions bads",
        {"x": [{"numeric": ["=", True]}]},
        "Value of equals must be numeric",
    ),
    (f"{COMPILER_TEST} testNumericExpressions bads", {"x": [{"numeric": [">="]}]}, "Value of >= must be numeric"),
    ("event-ruler CIDR.cidr", {"ip": [{"cidr": "10.0.0.1"}]}, "Malformed CIDR, one '/' required"),
    ("event-ruler CIDR.cidr", {"ip": [{"cidr": "10.0.0.0/x"}]}, "mask bits must be an integer"),
    ("event-ruler CIDR.cidr", {"ip": [{"cidr": "10.0.0.0/32"}]}, "IPv4 mask bits must be < 32"),
    ("event-ruler CIDR.cidr", {"ip": [{"cidr": "::/128"}]}, "IPv6 mask bits must be < 128"),
    ("event-ruler CIDR.cidr", {"ip": [{"cidr": "hostname/8"}]}, "Nonstandard IP address: hostname"),
    (
        "event-ruler JsonRuleCompiler (cidr must be a string)",
        {"ip": [{"cidr": 10}]},
        "prefix match pattern must be a string",
    ),
    (
        f'{README} The "$or" Primitive (2+ objects; read again without $or)',
        {"$or": [{"source": ["a"]}]},
        "Unrecognized match type source",
    ),
    (
        "event-ruler wrongOrRelationshipRules.json",
        {"detail": {"$or": [{"source": ["a"]}, [{"foo": ["x"]}]]}},
        "Unrecognized match type source",
    ),
    (
        f"{UG_OPS} Or (a reserved name inside $or)",
        {"$or": [{"numeric": [">", 1]}, {"b": ["c"]}]},
        "Unrecognized match type b",
    ),
    (f"{UG_OPS} Unrecognized operator", {"source": [{"exist": True}]}, "Unrecognized match type exist"),
    (f"{COMPILER_TEST} testExistsExpression bads", {"x": [{"exists": "badString"}]}, "either true or false"),
    (f"{COMPILER_TEST} testCompile (values must be in an array)", {"a": 1}, '"a" must be an object or an array'),
    (f"{COMPILER_TEST} testCompile (top level must be an object)", [1, 2, 3], "Filter is not an object"),
    (f"{COMPILER_TEST} testCompile (objects must not be empty)", {"foo": {}}, "Empty objects are not allowed"),
    (f"{COMPILER_TEST} testCompile (arrays must not be empty)", {"foo": []}, "Empty arrays are not allowed"),
    (f"{COMPILER_TEST} testCompile (array values must be primitives)", {"a": [{"x": 2}]}, "Unrecognized match type x"),
    (
        "event-ruler JsonRuleCompiler.processPrefixEqualsIgnoreCaseExpression",
        {"a": [{"prefix": {"equals-ignore-case": 1}}]},
        "equals-ignore-case match pattern must be a string",
    ),
    (
        "event-ruler JsonRuleCompiler.processSuffixEqualsIgnoreCaseExpression",
        {"a": [{"suffix": {"exactly": "x"}}]},
        "Unsupported suffix pattern: exactly",
    ),
]


def _case_id(index: int, source: str) -> str:
    return f"{index:03d}-{source.split(' ', 2)[-1][:50]}"


@pytest.mark.parametrize(
    ("source", "pattern", "event", "expected"), CASES, ids=[_case_id(i, c[0]) for i, c in enumerate(CASES)]
)
def test_a_case_of_the_corpus_matches_as_its_source_says(
    source: str, pattern: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    # GIVEN a pattern EventBridge accepts and an event WHEN matched THEN the result its source gives
    check_pattern(pattern)
    assert matches(pattern, event) is expected, source


@pytest.mark.parametrize(
    ("source", "pattern", "reason"), REFUSALS, ids=[_case_id(i, c[0]) for i, c in enumerate(REFUSALS)]
)
def test_a_refused_case_of_the_corpus_is_refused_with_eventbridges_reason(
    source: str, pattern: Any, reason: str
) -> None:
    # GIVEN a pattern EventBridge refuses WHEN checked or matched THEN PatternError with its reason
    with pytest.raises(PatternError) as refused:
        check_pattern(pattern)
    assert reason in str(refused.value), source
    if isinstance(pattern, dict):
        with pytest.raises(PatternError):
            matches(pattern, EC2)


def _or_pattern(branches: int, depth: int) -> dict[str, Any]:
    """``depth`` nested objects, each with an ``$or`` of ``branches`` alternatives: branches**depth combinations."""
    pattern: dict[str, Any] = {}
    node = pattern
    for level in range(depth):
        node["$or"] = [{f"f{level}-{b}": ["v"]} for b in range(branches)]
        node[f"n{level}"] = {}
        node = node[f"n{level}"]
    node["leaf"] = ["v"]
    return pattern


def test_or_combinations_are_counted_and_capped() -> None:
    # GIVEN $or nested so that 10 * 10 * 10 alternatives arise WHEN checked THEN accepted (the limit itself)
    check_pattern(_or_pattern(10, 3))
    # GIVEN one alternative more in each of two levels (11 * 10 * 10) WHEN checked THEN refused, naming the count
    over = _or_pattern(10, 3)
    over["$or"].append({"extra": ["v"]})
    with pytest.raises(PatternError, match=rf"1100 \$or combinations; at most {MAX_OR_COMBINATIONS}"):
        check_pattern(over)


def test_a_number_beyond_a_double_is_refused_in_numeric_but_kept_as_an_exact_value() -> None:
    # GIVEN a bound beyond IEEE double, or with more digits than a double holds, read from JSON text
    # WHEN parsed as PutRule does THEN refused as event-ruler's ComparableNumber refuses it
    for bound in ("1E309", "1E-325", "1.00000000000000001"):
        with pytest.raises(PatternError, match=f"Cannot compare number : {bound}"):
            parse_pattern('{"x": [{"numeric": [">", ' + bound + "]}]}")
    # GIVEN the same number as an exact value WHEN parsed THEN accepted (event-ruler keeps its text then)
    assert parse_pattern('{"x": [1E-325]}') == {"x": [0.0]}


def test_the_corpus_is_big_enough_and_every_case_names_its_source() -> None:
    # GIVEN the corpus WHEN counted THEN at least 100 cases, each with a source, and no duplicate
    assert len(CASES) + len(REFUSALS) >= 100
    assert all(source.split()[0] in ("User", "event-ruler") for source, *_ in CASES + REFUSALS)
    keys = [json.dumps([p, e], sort_keys=True) for _s, p, e, _x in CASES]
    assert len(keys) == len(set(keys))

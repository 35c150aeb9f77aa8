#!/usr/bin/env python3
"""Checks that ntc-templates' `cisco_asa_show_failover` TextFSM template reads
our `show failover` output right, for several states of the sample pair.

    cargo run -p fover-protocol --example show_samples -- target/show-samples
    python3 tools/textfsm_check.py target/show-samples

Needs `textfsm` and `ntc-templates` (`pip install textfsm ntc-templates`; CI
pins the versions). Exit status 0 when every sample parses to the expected
fields.

The template's `Group N State:` rules are anchored at column 0, so our output
prints those lines there (the appliance indents them). The check parses each
output as printed, and again with each line's leading whitespace stripped (as
in the template's own Active/Active fixture); both parses must succeed and
read the right fields.

See docs/DECISIONS.md, "show failover: the appliance's indentation and TextFSM".
"""

import os
import sys

import textfsm
from ntc_templates.parse import parse_output

VERSION = "7.2(4)"
CONTEXT_IFACES = [
    ("admin", "outside"), ("admin", "inside"),
    ("ctx1", "outside"), ("ctx1", "inside"),
    ("ctx2", "outside"), ("ctx2", "inside"),
]
NORMAL6 = ["Normal"] * 6
MONITORED6 = ["Monitored"] * 6

# sample -> unit -> expected fields (only the ones listed are compared).
EXPECTED = {
    "steady": {
        "primary": {"service_state": ["Active", "Standby Ready"], "service_state_mate": ["Standby Ready", "Active"]},
        "secondary": {"service_state": ["Standby Ready", "Active"], "service_state_mate": ["Active", "Standby Ready"]},
    },
    "both_on_primary": {
        "primary": {"service_state": ["Active", "Active"], "service_state_mate": ["Standby Ready", "Standby Ready"]},
        "secondary": {
            "service_state": ["Standby Ready", "Standby Ready"],
            "service_state_mate": ["Active", "Active"],
        },
    },
    "failed_group": {
        "primary": {
            "service_state": ["Failed", "Standby Ready"],
            "service_state_mate": ["Active", "Active"],
            "interfaces_status": ["Link Down"] + ["Normal"] * 5,
        },
        "secondary": {
            "service_state": ["Active", "Active"],
            "service_state_mate": ["Failed", "Standby Ready"],
            "interfaces_status_mate": ["Link Down"] + ["Normal"] * 5,
        },
    },
    "peer_down": {
        "primary": {
            "service_state": ["Active", "Active"],
            "service_state_mate": ["Failed", "Failed"],
            "interfaces_status_mate": ["Unknown"] * 6,
            "interfaces_state_mate": ["Waiting"] * 6,
        },
    },
}


def common_expectations(unit):
    role = unit.capitalize()
    return {
        "state": "On",
        "role": role,
        "lan_intf_name": "folink",
        "lan_intf": "Ethernet3",
        "lan_intf_state": "up",
        "sw_version": VERSION,
        "sw_version_mate": VERSION,
        "failover_group": ["1", "2"],
        "last_failover_timezone": ["UTC", "UTC"],
        "last_failover_year": ["2026", "2026"],
        "interfaces_context": [c for c, _ in CONTEXT_IFACES],
        "interfaces": [i for _, i in CONTEXT_IFACES],
        "interfaces_status": NORMAL6,
        "interfaces_state": MONITORED6,
        "interfaces_context_mate": [c for c, _ in CONTEXT_IFACES],
        "interfaces_mate": [i for _, i in CONTEXT_IFACES],
        "interfaces_status_mate": NORMAL6,
        "interfaces_state_mate": MONITORED6,
    }


def parse(text):
    return parse_output(platform="cisco_asa", command="show failover", data=text)


def compare(where, rows, expected):
    if len(rows) != 1:
        return [f"{where}: expected one record, got {len(rows)}: {rows!r}"]
    got = rows[0]
    errors = []
    for key, want in expected.items():
        if got.get(key) != want:
            errors.append(f"{where}: {key} = {got.get(key)!r}, expected {want!r}")
    return errors


def check(path, expected):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    errors = []
    try:
        errors += compare(f"{path} (as printed)", parse(text), expected)
    except textfsm.TextFSMError as e:
        errors.append(f"{path} (as printed): {e}")
    stripped = "\n".join(line.lstrip() for line in text.splitlines()) + "\n"
    try:
        errors += compare(f"{path} (stripped)", parse(stripped), expected)
    except textfsm.TextFSMError as e:
        errors.append(f"{path} (stripped): {e}")
    return errors


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    root = sys.argv[1]
    errors = []
    checked = 0
    for sample, units in EXPECTED.items():
        for unit, fields in units.items():
            path = os.path.join(root, sample, unit, "show_failover.txt")
            if not os.path.exists(path):
                errors.append(f"{path}: missing (run the show_samples example first)")
                continue
            expected = common_expectations(unit)
            expected.update(fields)
            errors += check(path, expected)
            checked += 1
    for e in errors:
        print("FAIL", e)
    print(f"textfsm check: {checked} outputs, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

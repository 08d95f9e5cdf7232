"""Run @medplum/core's FHIR R4 validator (tests/interop/validate_r4.js) under node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("validate_r4.js")
ROOT = SCRIPT.parents[2]


def validate(resources: list[dict]) -> list[dict]:
    """One result per resource: {resourceType, id, issues}."""
    node = shutil.which("node")
    assert node, "node is needed for the FHIR validator (make test installs the npm packages)"
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(resources).encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return json.loads(done.stdout)


def errors(results: list[dict]) -> list[str]:
    """Every error, as "Type/id: expression: text"."""
    return [
        f"{r['resourceType']}/{r['id']}: {','.join(i.get('expression') or [])}: {i['text']}"
        for r in results
        for i in r["issues"]
        if i["severity"] in {"error", "fatal"}
    ]

"""Schemathesis over the live API: requests generated from /api/v1/openapi.json for every
operation, sent to a real ``parlour serve`` with an admin's API token, on each database.
None may answer with a server error, whatever it sends.

Bounded so the suite stays quick: a few examples per operation, in the fuzzing phase, with
a fixed seed (a failure is the same failure when run again). What the requests may contain
is not narrowed: NUL and other control characters, huge numbers, odd Unicode.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from tests.services import Serve, parlour

# A deeper run by hand: PARLOUR_FUZZ_EXAMPLES=200 PARLOUR_FUZZ_SEED=1
# PARLOUR_FUZZ_PHASES=examples,coverage,fuzzing,stateful pytest tests/test_api_fuzz.py
EXAMPLES = int(os.environ.get("PARLOUR_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("PARLOUR_FUZZ_SEED", "20261203"))
PHASES = os.environ.get("PARLOUR_FUZZ_PHASES", "fuzzing")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def test_no_generated_request_gets_a_server_error(fresh_url: str) -> None:
    # A database of its own: what the fuzzer creates (numbers, webhooks, workflows) stays
    # out of the other tests' way.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
    env |= {"PARLOUR_DATABASE_URL": fresh_url, "PARLOUR_SECRET_KEY": "fuzz-secret"}
    parlour("migrate", env=env)
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    parlour(
        "user", "create", "--email", email, "--password", "fuzz-password-1", "--role", "admin",
        "--account", f"Fuzz {email}", env=env,
    )  # fmt: skip
    token = parlour("token", "create", "--email", email, env=env).split()[-1]
    server = Serve(env)
    try:
        server.wait_up()
        run = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run",
                f"{server.base}/api/v1/openapi.json",
                "--header", f"Authorization: Bearer {token}",
                "--checks", CHECKS,
                "--phases", PHASES,
                "--max-examples", str(EXAMPLES),
                "--seed", str(SEED),
                "--workers", "1",
                # Revoking its own token (a small id is soon guessed) would leave the rest
                # of the run unauthenticated.
                "--exclude-path", "/api/v1/tokens/{token_id}",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900 * max(1, EXAMPLES // 10),
        )  # fmt: skip
        log = server.output()
    finally:
        server.stop()
    report = run.stdout + run.stderr
    if run.returncode != 0:
        pytest.fail(
            f"schemathesis found problems:\n{report[-40000:]}\n--- server log:\n{log[-4000:]}"
        )
    assert "passed" in report and " 0 passed" not in report, report[-2000:]

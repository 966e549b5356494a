"""Per-language pools end to end: the API with Redis, and `codebattle worker --languages`
processes. A Python pool judges Python and leaves a C++ submission queued (the backlog and
the fleet say so, with the pool's image), until a C++ pool starts and judges it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from codebattle.app import create_app
from codebattle.config import Settings
from codebattle.services import Services
from tests.judge.test_redis_workers import CODEBATTLE, Workers, poll, submit
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401
from tests.support.site import import_problems, settings_for, sign_in, wait_done

CPP_SUM = '#include <cstdio>\nint main(){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'
PY_SUM = "a, b = map(int, input().split())\nprint(a + b)\n"


class Pools(Workers):
    def start_pool(self, languages: str, image: str = "") -> subprocess.Popen[bytes]:
        env = {
            "PATH": os.environ["PATH"],
            "REDIS_URL": str(self.settings.REDIS_URL),
            "DATA_DIR": str(self.settings.DATA_DIR),
            "QUEUE_REDELIVERY_SECONDS": str(self.settings.QUEUE_REDELIVERY_SECONDS),
            "ENVIRONMENT": "test",
            "SANDBOX_DOCKER_IMAGE_PY": image,
        }
        proc = subprocess.Popen([CODEBATTLE, "worker", "--languages", languages], env=env,
                                start_new_session=True,
                                cwd=self.settings.DATA_DIR.parent)  # fmt: skip
        self.procs.append(proc)
        return proc


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, private_redis: RedisServer) -> Settings:  # noqa: F811
    """A Redis of its own: the heartbeats and streams seen are only this test's."""
    result = settings_for(tmp_path, DATABASE_URL=pg_url, REDIS_URL=private_redis.url)
    import_problems(result, "hello-battle")
    return result


@pytest.fixture
def pools(settings: Settings) -> Iterator[Pools]:
    started = Pools(settings)
    yield started
    started.stop_all()


def test_a_cpp_submission_waits_for_the_cpp_pool(settings: Settings, pools: Pools) -> None:
    pools.start_pool("python,pypy", image="registry.example/judge-py:9")
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        csrf = sign_in(client)
        cpp = submit(client, csrf, CPP_SUM, "cpp")
        python = submit(client, csrf, PY_SUM)  # queued after the C++ one
        assert wait_done(client, python)["verdict"] == "AC"
        assert client.get(f"/api/submissions/{cpp}").json()["status"] == "queued"
        backlog = client.portal.call(services.queue.backlog)  # type: ignore[union-attr]
        assert (backlog["cpp"].depth, backlog["cpp"].taken) == (1, 0)
        assert (backlog["python"].depth, backlog["python"].taken) == (0, 0)
        fleet = client.portal.call(services.queue.fleet)  # type: ignore[union-attr]
        assert [(w.languages, w.image) for w in fleet] == [
            (("pypy", "python"), "registry.example/judge-py:9")
        ]
        pools.start_pool("cpp")
        final = poll(client, cpp, lambda s: s["status"] == "done")
        assert final["verdict"] == "AC", final

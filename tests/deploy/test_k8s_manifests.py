"""The Kubernetes example in deploy/k8s parses and agrees with the code: every lane has a worker
Deployment and a KEDA ScaledObject on that lane's stream and consumer group, settings are real
settings, and no pod is killed before its graceful shutdown can finish."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from domain.tasks import Lane
from providers.redis_streams import GROUP, StreamKeys
from providers.settings import Settings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
Manifest = dict[str, Any]


def load(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


@pytest.fixture(scope="module")
def manifests() -> list[Manifest]:
    kustomization = load(K8S / "kustomization.yaml")[0]
    return [doc for name in kustomization["resources"] for doc in load(K8S / name)]


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def config(manifests: list[Manifest]) -> dict[str, str]:
    return of_kind(manifests, "ConfigMap")["errand-config"]["data"]  # type: ignore[no-any-return]


def container(deployment: Manifest) -> Manifest:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only  # type: ignore[no-any-return]


def lanes_of(deployment: Manifest) -> list[str] | None:
    """The --lanes of a `python -m workers` container; None for any other process."""
    command = container(deployment).get("command", [])
    if command[:3] != ["python", "-m", "workers"]:
        return None
    args = command[3:]
    return args[args.index("--lanes") + 1].split(",")


def worker_for(manifests: list[Manifest], lane: Lane) -> Manifest:
    found = [d for d in of_kind(manifests, "Deployment").values() if lanes_of(d) == [lane.value]]
    assert len(found) == 1, f"{lane.value}: {len(found)} worker Deployments"
    return found[0]


def scaler_of(manifests: list[Manifest], deployment: Manifest) -> Manifest:
    name = deployment["metadata"]["name"]
    found = [
        s for s in of_kind(manifests, "ScaledObject").values() if s["spec"]["scaleTargetRef"]["name"] == name
    ]
    assert len(found) == 1, f"{name}: {len(found)} ScaledObjects"
    return found[0]


def test_every_file_parses_and_is_deployed() -> None:
    files = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    listed = load(K8S / "kustomization.yaml")[0]["resources"]
    assert sorted(listed) == sorted(files)
    for name in files:
        for doc in load(K8S / name):
            assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], name


@pytest.mark.parametrize("lane", list(Lane))
def test_each_lane_has_a_worker_scaled_on_its_own_stream(manifests: list[Manifest], lane: Lane) -> None:
    worker = worker_for(manifests, lane)
    spec = scaler_of(manifests, worker)["spec"]
    assert "replicas" not in worker["spec"], "KEDA owns the replica count"
    assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    (trigger,) = spec["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "redis-streams"
    assert meta["stream"] == StreamKeys(config(manifests)["ERRAND_REDIS_PREFIX"]).stream(lane)
    assert meta["stream"] == StreamKeys("errand").stream(lane)
    assert meta["consumerGroup"] == GROUP
    assert int(meta["lagCount"]) > 0
    assert int(meta.get("activationLagCount", "0")) >= 0


@pytest.mark.parametrize("lane", list(Lane))
def test_keda_reaches_the_redis_the_workers_use(manifests: list[Manifest], lane: Lane) -> None:
    worker = worker_for(manifests, lane)
    scaled = scaler_of(manifests, worker)
    trigger = scaled["spec"]["triggers"][0]
    env = {e["name"]: e for e in container(worker)["env"]}
    url = urlsplit(env["ERRAND_REDIS_URL"]["value"])
    address_var = trigger["metadata"]["addressFromEnv"]
    assert f"$({address_var})" in url.netloc and address_var in config(manifests)
    assert {"configMapRef": {"name": "errand-config"}} in container(worker)["envFrom"]
    assert trigger["metadata"]["databaseIndex"] == url.path.strip("/")
    auth = of_kind(manifests, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    (password,) = auth["spec"]["secretTargetRef"]
    assert password["parameter"] == "password"
    assert password["key"] in of_kind(manifests, "Secret")[password["name"]]["stringData"]
    # The pods' password is the very one KEDA uses.
    pod_password = env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert (pod_password["name"], pod_password["key"]) == (password["name"], password["key"])
    assert "$(REDIS_PASSWORD)" in url.netloc


def test_the_answer_lane_stays_single_while_its_vector_store_is_local(manifests: list[Manifest]) -> None:
    worker = worker_for(manifests, Lane.ANSWER)
    scaled = scaler_of(manifests, worker)
    if "ERRAND_QDRANT_URL" not in config(manifests):
        assert scaled["spec"]["maxReplicaCount"] == 1
        assert worker["spec"]["strategy"]["type"] == "Recreate", "a rollout must not run two at once"


def test_no_worker_is_killed_before_its_graceful_shutdown(manifests: list[Manifest]) -> None:
    grace = float(config(manifests).get("ERRAND_SHUTDOWN_GRACE_SECONDS", Settings().shutdown_grace_seconds))
    runners = [d for d in of_kind(manifests, "Deployment").values() if d["metadata"]["name"] != "errand-api"]
    assert len(runners) == len(Lane) + 1  # a worker per lane and the scheduler
    for deployment in runners:
        period = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert period > grace, deployment["metadata"]["name"]


def test_the_api_is_probed_and_served(manifests: list[Manifest]) -> None:
    api = of_kind(manifests, "Deployment")["errand-api"]
    api_container = container(api)
    ports = {p["name"]: p["containerPort"] for p in api_container["ports"]}
    assert api_container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api_container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api_container["readinessProbe"]["httpGet"]["port"] in ports
    service = of_kind(manifests, "Service")["errand-api"]
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports)


def test_deployments_select_their_own_pods(manifests: list[Manifest]) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), name


def test_the_settings_in_the_config_map_are_real_settings(manifests: list[Manifest]) -> None:
    names = {f"ERRAND_{field.upper()}" for field in Settings.model_fields}
    given = {key for key in config(manifests) if key.startswith("ERRAND_")}
    secrets = of_kind(manifests, "Secret")["errand-secrets"]["stringData"]
    env_names = {
        e["name"]
        for d in of_kind(manifests, "Deployment").values()
        for e in container(d).get("env", [])
        if e["name"].startswith("ERRAND_")
    }
    assert given | set(secrets) | env_names <= names
    # Settings the ConfigMap gives are read back as those types.
    Settings(
        **{
            key.removeprefix("ERRAND_").lower(): value
            for key, value in config(manifests).items()
            if key in given
        }
    )


def test_worker_commands_parse_as_the_cli_expects(manifests: list[Manifest]) -> None:
    from workers.__main__ import lanes_from, parse_args

    for lane in Lane:
        command = container(worker_for(manifests, lane))["command"]
        args = parse_args(command[3:])
        assert lanes_from(args.lanes) == [lane], shlex.join(command)
        assert args.metrics_port == 9100

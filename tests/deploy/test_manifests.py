"""deploy/k8s: every overlay renders with `kubectl kustomize` and every object validates against
the Kubernetes and Strimzi schemas with unknown fields rejected (deploy/k8s/validate); the
manifests carry what running pairflow safely needs; the copies of the pipeline and the topics
agree with deploy/."""

import pathlib
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
VALIDATE = K8S / "validate" / "validate.mjs"
OVERLAYS = ["base", "overlays/dev", "overlays/production"]

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None,
                                   reason="kubectl is not installed: kustomize cannot render")
needs_validator = pytest.mark.skipif(
    not (K8S / "validate" / "node_modules").exists() or shutil.which("node") is None,
    reason="node or deploy/k8s/validate/node_modules (npm ci) missing")


def render(overlay):
    r = subprocess.run(["kubectl", "kustomize", str(K8S / overlay)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


@needs_kubectl
@needs_validator
def test_every_overlay_renders_and_validates():
    r = subprocess.run(["node", str(VALIDATE)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("problems") and ", 0 problems" in r.stdout
    print(r.stdout.strip().splitlines()[-1])


@needs_kubectl
@needs_validator
def test_the_validator_rejects_unknown_fields_and_bad_types(tmp_path):
    docs = render("overlays/dev")
    bars = next(d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "bars")
    bars["spec"]["template"]["spec"]["terminationGracePeriodSecond"] = 5  # a typo
    topic = next(d for d in docs if d["kind"] == "KafkaTopic")
    topic["spec"]["partitions"] = "four"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump_all(docs))
    r = subprocess.run(["node", str(VALIDATE), str(bad)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 1
    assert "StatefulSet/bars" in r.stdout and "terminationGracePeriodSecond" in r.stdout
    assert f"KafkaTopic/{topic['metadata']['name']}" in r.stdout and "integer" in r.stdout


@needs_kubectl
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_are_safe_to_run(overlay):
    docs = render(overlay)
    topics = {d["metadata"]["name"]: d["spec"]["partitions"] for d in docs
              if d["kind"] == "KafkaTopic"}
    workloads = [d for d in docs if d["kind"] in ("StatefulSet", "Deployment")]
    assert {w["metadata"]["name"] for w in workloads} == {"bars", "trader", "execution", "ui"}
    budgets = {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for d in docs
               if d["kind"] == "PodDisruptionBudget"}
    for w in workloads:
        name = w["metadata"]["name"]
        pod = w["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["terminationGracePeriodSeconds"] >= 30
        (c,) = pod["containers"]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert probe in c, f"{name}: no {probe}"
        assert {"requests", "limits"} <= set(c["resources"])
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/etc/pairflow", "/var/lib/pairflow", "/tmp"} <= mounts
        assert name in budgets
        annotations = w["spec"]["template"]["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/scrape") == "true"
        # A consumer group has at most as many busy members as its input has partitions.
        if name == "bars":
            assert w["spec"]["replicas"] <= topics["ticks"]
        elif name != "ui":
            assert w["spec"].get("replicas", 1) == 1
    pools = [d for d in docs if d["kind"] == "KafkaNodePool"]
    assert len(pools) == 1 and set(pools[0]["spec"]["roles"]) == {"controller", "broker"}
    if overlay == "overlays/dev":
        assert pools[0]["spec"]["replicas"] == 1
        assert all(d["spec"]["replicas"] == 1 for d in docs if d["kind"] == "KafkaTopic")


def test_copies_agree_with_deploy():
    assert (K8S / "base" / "pipeline.toml").read_text() == (
        ROOT / "deploy" / "pipeline.toml").read_text()
    listed = {}
    for line in (ROOT / "deploy" / "topics.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, partitions = line.split(":")
            listed[name] = int(partitions)
    declared = {d["metadata"]["name"]: d["spec"]["partitions"]
                for d in yaml.safe_load_all((K8S / "base" / "kafka" / "topics.yaml").read_text())
                if d}
    assert declared == listed

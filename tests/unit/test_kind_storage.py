"""hack/kind_storage.py: kind's default storage manifest, read from kind's Go source, our images in it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import kind_storage

SOURCE = """package nodeimage

const storageProvisionerImage = "docker.io/kindest/local-path-provisioner:v1"
const storageHelperImage = "docker.io/kindest/local-path-helper:v2"

var defaultStorageImages = []string{storageProvisionerImage, storageHelperImage}

const defaultStorageManifest = `
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - image: ` + storageProvisionerImage + `
          command: [start, --helper-image, ` + storageHelperImage + `]
---
kind: ConfigMap
data:
  helperPod.yaml: |-
    image: ` + storageHelperImage + `
`
"""
NEW = {
    "docker.io/kindest/local-path-provisioner:v1": "docker.io/mo-local/local-path-provisioner:v0.0.30",
    "docker.io/kindest/local-path-helper:v2": "docker.io/mo-local/local-path-helper:bookworm-abc",
}


def test_joins_the_image_constants_into_the_raw_string() -> None:
    text = kind_storage.manifest(SOURCE)
    deployment, config = yaml.safe_load_all(text)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "docker.io/kindest/local-path-provisioner:v1"
    assert container["command"] == ["start", "--helper-image", "docker.io/kindest/local-path-helper:v2"]
    assert yaml.safe_load(config["data"]["helperPod.yaml"]) == {
        "image": "docker.io/kindest/local-path-helper:v2"
    }
    assert text.startswith("apiVersion: apps/v1\n")


def test_puts_our_images_in_place_of_kinds_everywhere() -> None:
    text = kind_storage.manifest(SOURCE, images=NEW)
    assert "kindest" not in text
    assert text.count("docker.io/mo-local/local-path-helper:bookworm-abc") == 2
    assert text.count("docker.io/mo-local/local-path-provisioner:v0.0.30") == 1


def test_an_image_must_occur_whole_to_be_replaced() -> None:
    with pytest.raises(kind_storage.ManifestError, match="does not occur"):
        kind_storage.manifest(SOURCE, images={"docker.io/kindest/local-path-helper:v": "x"})


def test_lists_kinds_images() -> None:
    assert kind_storage.images(SOURCE) == list(NEW)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("package x\n", "no `const defaultStorageManifest"),
        ("const defaultStorageManifest = `a: b\n", "unterminated"),
        ("const defaultStorageManifest = `image: ` + missingImage + `\n`\n", "missingImage"),
    ],
)
def test_rejects_a_source_of_another_shape(source: str, error: str) -> None:
    with pytest.raises(kind_storage.ManifestError, match=error):
        kind_storage.manifest(source)


def test_cli_writes_the_manifest_and_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    go = tmp_path / "const_storage.go"
    go.write_text(SOURCE)
    old, new = next(iter(NEW.items()))
    assert kind_storage.main([str(go), "--image", f"{old}={new}"]) == 0
    assert new in capsys.readouterr().out
    assert kind_storage.main([str(go), "--images"]) == 0
    assert capsys.readouterr().out.split() == list(NEW)
    assert kind_storage.main([str(go), "--image", "docker.io/other:1=x"]) == 1
    assert "docker.io/other:1 does not occur" in capsys.readouterr().err

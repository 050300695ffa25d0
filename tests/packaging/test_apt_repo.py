"""packaging/apt-repo: a signed apt repository that apt can verify, with the key from the env."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("reprepro") is None or shutil.which("gpg") is None or shutil.which("gpgv") is None,
    reason="needs reprepro, gpg and gpgv (apt-get install reprepro gpg gpgv)",
)


def gpg(home: Path, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["gpg", "--batch", "--homedir", str(home), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        **kw,  # type: ignore[call-overload]
    )


def new_key(home: Path, name: str) -> tuple[str, Path]:
    """An armoured secret key and its public keyring file (binary, as apt's signed-by wants)."""
    home.mkdir(mode=0o700)
    gpg(
        home,
        "--passphrase",
        "",
        "--quick-gen-key",
        f"{name} <{name}@example.com>",
        "ed25519",
        "sign",
        "never",
    )
    secret = gpg(home, "--armor", "--export-secret-keys").stdout
    public = home / "public.gpg"
    gpg(home, "--output", str(public), "--export")
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
    return secret, public


def tiny_deb(tmp: Path) -> Path:
    stage = tmp / "stage"
    (stage / "DEBIAN").mkdir(parents=True)
    (stage / "DEBIAN" / "control").write_text(
        "Package: packbench-service\nVersion: 0.1.0\nArchitecture: amd64\n"
        "Maintainer: t <t@example.com>\nSection: net\nPriority: optional\nDescription: test\n"
    )
    deb = tmp / "packbench-service_0.1.0_amd64.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(stage), str(deb)],
        check=True,
        capture_output=True,
    )
    return deb


def apt_repo(out: Path, *debs: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(out.parent)}
    if key is not None:
        env["PACKBENCH_APT_SIGNING_KEY"] = key
    return subprocess.run(
        [str(ROOT / "packaging" / "apt-repo"), str(out), *map(str, debs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_repository_is_signed_and_verifies_only_with_its_key(tmp_path: Path) -> None:
    secret, public = new_key(tmp_path / "signer", "signer")
    _other_secret, other_public = new_key(tmp_path / "other", "other")
    out = tmp_path / "repo"
    done = apt_repo(out, tiny_deb(tmp_path), key=secret)
    assert done.returncode == 0, done.stderr
    assert "packbench-service 0.1.0" in done.stdout
    in_release = out / "dists" / "stable" / "InRelease"
    assert (
        subprocess.run(
            ["gpgv", "--keyring", str(public), str(in_release)], capture_output=True
        ).returncode
        == 0
    )
    assert (
        subprocess.run(
            ["gpgv", "--keyring", str(other_public), str(in_release)], capture_output=True
        ).returncode
        != 0
    )
    tampered = tmp_path / "InRelease.tampered"
    tampered.write_text(in_release.read_text().replace("Packbench", "Evilbench", 1))
    assert (
        subprocess.run(
            ["gpgv", "--keyring", str(public), str(tampered)], capture_output=True
        ).returncode
        != 0
    )
    packages = (out / "dists/stable/main/binary-amd64/Packages").read_text()
    assert (
        "Package: packbench-service" in packages
        and "Filename: pool/main/p/packbench-service/" in packages
    )
    assert "PUBLIC KEY BLOCK" in (out / "packbench-archive-keyring.asc").read_text()
    for path in out.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path


def test_without_a_usable_key_it_stops_with_one_line(tmp_path: Path) -> None:
    deb = tiny_deb(tmp_path)
    for key, line in (
        (None, "apt-repo: PACKBENCH_APT_SIGNING_KEY is not set"),
        ("not a key", "apt-repo: PACKBENCH_APT_SIGNING_KEY "),
    ):
        done = apt_repo(tmp_path / "repo", deb, key=key)
        assert done.returncode == 1
        assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(line), done.stderr
    assert not (tmp_path / "repo" / "dists").exists()

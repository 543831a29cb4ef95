"""Image checks that need no container engine (CI has none): the runtime packages the
Dockerfile installs are derived from the built binaries by scripts/runtime-packages.sh,
so check that derivation, and the Dockerfile's shape (multi-stage, non-root, both
binaries). Building and running the image itself: scripts/image-from-build.sh, buildah."""
import os
import re
import subprocess
import unittest

import chart_lib as lib

BUILD = os.environ.get("KEEL_BUILD_DIR", os.path.join(lib.ROOT, "build", "ci"))
SCRIPT = os.path.join(lib.ROOT, "scripts", "runtime-packages.sh")


def packages(*binaries):
    r = subprocess.run([SCRIPT, *binaries], capture_output=True, text=True)
    return r.returncode, r.stdout.split(), r.stderr


class RuntimePackages(unittest.TestCase):
    def test_dataplane_gets_boringssl_and_no_openssl(self):
        rc, pkgs, err = packages(os.path.join(BUILD, "dataplane", "keel-dataplane"))
        self.assertEqual(rc, 0, err)
        self.assertIn("android-libboringssl", pkgs)  # found through the RPATH
        self.assertIn("libnghttp2-14", pkgs)
        self.assertNotIn("libssl3", pkgs)
        self.assertEqual([p for p in pkgs if p.endswith("-dev")], [])

    def test_controller_gets_openssl_and_cpprest(self):
        rc, pkgs, err = packages(os.path.join(BUILD, "controller", "keel-controller"))
        self.assertEqual(rc, 0, err)
        self.assertIn("libssl3", pkgs)
        self.assertIn("libcpprest2.10", pkgs)
        self.assertNotIn("android-libboringssl", pkgs)

    def test_unresolvable_binary_fails(self):
        rc, _, err = packages("/nonexistent/keel-dataplane")
        self.assertNotEqual(rc, 0)


class Dockerfile(unittest.TestCase):
    def test_shape(self):
        with open(os.path.join(lib.ROOT, "Dockerfile")) as f:
            text = f.read()
        froms = re.findall(r"^FROM (\S+)(?: AS (\S+))?", text, re.M)
        self.assertEqual(froms, [("docker.io/library/debian:bookworm-slim", "build"),
                                 ("docker.io/library/debian:bookworm-slim", "")])
        runtime = text.split("\nFROM ")[2]
        self.assertRegex(runtime, r"\nUSER 65532:65532\n")
        self.assertIn("keel-runtime-packages.txt", runtime)
        self.assertIn("/usr/local/bin/keel-controller /usr/local/bin/keel-dataplane", runtime)
        self.assertNotIn("ENTRYPOINT", runtime)  # the role is chosen by the command
        # No compiler or -dev package reaches the runtime stage.
        self.assertNotRegex(runtime, r"\b(g\+\+|cmake|[a-z0-9.+-]+-dev)\b")


if __name__ == "__main__":
    unittest.main(verbosity=2)

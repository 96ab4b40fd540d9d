#!/usr/bin/env bash
# gantry's own image, built by gantry (scripts/build-self-image), run by runc as
# its non-root user: `gantry --version` and a small build inside it, the build's
# output checked by oci_check.py. The Kubernetes Job that runs it (gantry
# build-job) validated by kubernetes-validate and read back with Python's yaml.
# The image is built once for the file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

SHARED=$(mktemp -d /tmp/gantry-self-shared.XXXXXX)
trap 'rm -rf "$SHARED"' EXIT
chmod 755 "$SHARED"
"$REPO_ROOT/scripts/build-self-image" --store "$SHARED/store" --output "oci:$SHARED/self:gantry" > "$SHARED/digest" 2> "$SHARED/build.err" \
  || { cat "$SHARED/build.err" >&2; exit 1; }

# run_in_image SCRIPT: runs /bin/sh -c SCRIPT in the image under runc (its own user,
# namespaces and no network), output in $RUN_OUT, exit code in $RUN_RC.
run_in_image() {
  [ -d "$T/bundle" ] || umoci unpack --image "$SHARED/self:gantry" "$T/bundle" > /dev/null
  python3 - "$T/bundle/config.json" "$1" <<'PY'
import json, sys
path, script = sys.argv[1], sys.argv[2]
config = json.load(open(path))
config["process"]["terminal"] = False
config["process"]["args"] = ["/bin/sh", "-c", script]
json.dump(config, open(path, "w"))
PY
  set +e
  RUN_OUT=$(runc run --bundle "$T/bundle" "gantry-self-$$-$RANDOM" < /dev/null 2>&1); RUN_RC=$?
  set -e
}

test_the_image_is_valid_and_runs_as_a_non_root_user() {
  python3 "$REPO_ROOT/../shared/tools/oci_check.py" "$SHARED/self" > check.txt || fail "oci_check: $(cat check.txt)"
  skopeo inspect --config "oci:$SHARED/self:gantry" > config.json
  assert_eq "$(json config.json 'd["config"]["User"]')" "65532:65532"
  assert_eq "$(json config.json 'd["config"]["Entrypoint"]')" "['/usr/local/bin/gantry']"
  assert_eq "$(json config.json 'd["architecture"]')" "$(dpkg --print-architecture)"
  run_in_image 'id -u; id -g; gantry --version'
  assert_eq "$RUN_RC" 0 "gantry --version in the image: $RUN_OUT"
  assert_eq "$(printf '%s\n' "$RUN_OUT" | sed -n 1p)" 65532 "uid"
  assert_eq "$(printf '%s\n' "$RUN_OUT" | sed -n 2p)" 65532 "gid"
  # The same version as the gantry under test (both built from this tree).
  assert_contains "$RUN_OUT" "$("$GANTRY" --version | head -1 | cut -d' ' -f1-2)"
  assert_contains "$RUN_OUT" "libcurl/"
}

test_a_build_inside_the_image_as_its_user_writes_a_valid_layout() {
  # No network in the container: a base from a file, a layer of files, no pip.
  run_in_image 'set -e
    mkdir -p /tmp/ctx/app && echo "print(1)" > /tmp/ctx/app/main.py
    gantry build -q --base scratch --layer /tmp/ctx/app:/app --entrypoint "[\"python3\", \"/app/main.py\"]" --output oci:/tmp/out:app
    python3 -m pip --version > /dev/null && echo pip-ok
    ls -ld "$HOME/.cache/gantry" | cut -d" " -f3'
  assert_eq "$RUN_RC" 0 "a build in the image: $RUN_OUT"
  assert_contains "$RUN_OUT" "sha256:"
  assert_contains "$RUN_OUT" "pip-ok"
  # The store went under the user's HOME, created on first use.
  assert_eq "$(printf '%s\n' "$RUN_OUT" | tail -1)" 65532 "owner of the store"
  python3 "$REPO_ROOT/../shared/tools/oci_check.py" "$T/bundle/rootfs/tmp/out" > check.txt || fail "oci_check of the build made inside: $(cat check.txt)"
  assert_eq "$(skopeo inspect --config "oci:$T/bundle/rootfs/tmp/out:app" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["Entrypoint"])')" "['python3', '/app/main.py']"
}

test_the_build_job_needs_no_privileges_and_validates() {
  local digest; digest=$(cat "$SHARED/digest")
  run_gantry build-job --gantry-image "registry.example.test/gantry@$digest" --git https://git.example.test/team/flask-app.git \
    --revision v1.2 --recipe app/gantry.yaml --push registry.example.test/team/flask-app:1 --push-tag latest --env-secret model-storage
  assert_eq "$RC" 0 "build-job ($ERR)"
  printf '%s' "$OUT" > job.yaml
  for version in 1.30.0 1.31.0 1.32.0; do
    kubernetes-validate -k "$version" --strict --quiet job.yaml || fail "kubernetes-validate $version rejected the Job"
  done
  python3 - job.yaml "$digest" <<'PY' || fail "the Job: $(cat job.yaml)"
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
spec = job["spec"]["template"]["spec"]
assert job["kind"] == "Job" and spec["restartPolicy"] == "Never"
assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 65532
assert spec["automountServiceAccountToken"] is False
assert not any("hostPath" in volume for volume in spec["volumes"]), spec["volumes"]
for container in spec["initContainers"] + spec["containers"]:
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"] and "privileged" not in context
build = spec["containers"][0]
assert build["image"] == "registry.example.test/gantry@" + sys.argv[2]
assert build["args"] == ["build", "--file", "/workspace/src/app/gantry.yaml", "--push",
                         "registry.example.test/team/flask-app:1", "--push-tag", "latest"], build["args"]
assert build["envFrom"] == [{"secretRef": {"name": "model-storage"}}]
secret = next(v for v in spec["volumes"] if v["name"] == "registry")["secret"]
assert secret == {"secretName": "gantry-registry", "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}
assert {"name": "DOCKER_CONFIG", "value": "/etc/gantry/registry"} in build["env"]
assert spec["initContainers"][0]["args"][:4] == ["clone", "--depth=1", "--branch", "v1.2"]
PY
  # gantry deploy renders the same directory and leaves the Job out.
  assert_eq "$(grep -c '{{#job}}' "$REPO_ROOT/templates/k8s/build-job.yaml.mustache")" 1
  expect_failure 64 "is not a Kubernetes name" build-job --gantry-image "x/gantry@$digest" --git https://g.test/r.git --push r.test/team_app:1
  expect_failure 64 "must be a path inside the repository" build-job --gantry-image "x/gantry@$digest" --git https://g.test/r.git --push r.test/app:1 --recipe ../x.yaml
}

run_tests

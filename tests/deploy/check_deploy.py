#!/usr/bin/env python3
# Copyright 2026 The Weightserver Authors.
#
# tests/deploy/check_deploy.py: static checks of deploy/ that need no
# cluster and no container engine (deploy/test-image.sh runs the image).
#
#   python3 tests/deploy/check_deploy.py [REPO_ROOT]
#
# 1. every YAML file under deploy/ parses (PyYAML), and `kubectl kustomize`
#    renders deploy/kubernetes and deploy/kubernetes/cache into the kinds
#    expected, when kubectl is installed; without kubectl that is a note,
#    or a failure when the environment says CI (CI set, not "false"/"0");
# 2. the Deployment and the compose service: each --tls_cert / --tls_key /
#    --tls_client_ca / --auth_file argument, and each file a health check
#    reads, lies in a read-only directory mount (a Secret volume in
#    Kubernetes, mounted without subPath so that rotation reaches it); no
#    probe is a plaintext `grpc` probe against a TLS daemon;
# 3. scripts/dev-pki.sh makes certificates that openssl verifies and a policy
#    that is JSON naming its token's SHA-256;
# 4. the shell scripts of deploy/, tests/gpu/ and scripts/dev-pki.sh pass
#    `bash -n`, and
#    shellcheck when it is installed;
# 5. metrics: the Deployment turns on --metrics_listen, exposes its port and
#    annotates its pods for scraping (prometheus.io/scrape, port, path); the
#    Grafana dashboard (deploy/grafana/*.json) has Grafana's fields (title,
#    uid, schemaVersion, panels with type, targets and gridPos) and queries
#    only metrics that server/metrics.cc's kMetricNames declares (whose
#    every name tests/integration/metrics_test.cc finds in a real scrape);
# 6. the cache tier (deploy/kubernetes/cache): a DaemonSet on GPU nodes whose
#    args carry --upstream (the origin's Service and port), --cache_dir and
#    --cache_size, whose --cache_dir is a hostPath volume, whose upstream
#    files lie in a read-only Secret directory; a Service with
#    internalTrafficPolicy Local that selects the DaemonSet's pods and not
#    the origin's (nor the origin's Services the cache's).
# Exit 0: all passed; 1: a failure (each printed), PyYAML missing included
# (a check that CI skipped would prove nothing).
import glob
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("FAILED: PyYAML is not importable by %s (pip install pyyaml)" % sys.executable)
    sys.exit(1)

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
FILE_FLAGS = ("--tls_cert", "--tls_key", "--tls_client_ca", "--auth_file")
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def file_args(args):
    """The file paths of FILE_FLAGS and weightctl's --tls-* flags in args."""
    out = {}
    for i, a in enumerate(args):
        flag, eq, value = a.partition("=")
        if flag in FILE_FLAGS + ("--tls-ca", "--tls-cert", "--tls-key"):
            out[flag] = value if eq else (args[i + 1] if i + 1 < len(args) else "")
    return out


def under(path, mounts):
    """The mount (container path) that holds path directly, or None."""
    return next((m for m in mounts if posixpath.dirname(path) == m.rstrip("/")), None)


def load_all():
    docs = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "**", "*.yaml"),
                                 recursive=True)):
        try:
            with open(path) as f:
                docs[os.path.relpath(path, ROOT)] = [d for d in yaml.safe_load_all(f) if d]
        except yaml.YAMLError as e:
            check(False, "%s: not YAML: %s" % (path, e))
    check(len(docs) >= 5, "expected the compose file and 4 Kubernetes files, "
          "found %s" % sorted(docs))
    return docs


def check_kubernetes(docs):
    deployments = [d for name, ds in docs.items() if "kubernetes" in name
                   for d in ds if d.get("kind") == "Deployment"]
    check(len(deployments) == 1, "one Deployment in deploy/kubernetes")
    if not deployments:
        return
    pod = deployments[0]["spec"]["template"]["spec"]
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    c = pod["containers"][0]
    mounts = {}
    for m in c.get("volumeMounts", []):
        if m["name"] in secrets:
            check("subPath" not in m and "subPathExpr" not in m,
                  "k8s: Secret volume %s mounted with subPath (rotation never reaches it)" % m["name"])
            check(m.get("readOnly") is True, "k8s: Secret volume %s not readOnly" % m["name"])
            mounts[m["mountPath"]] = m["name"]
    daemon = file_args(c.get("args", []))
    for flag in ("--tls_cert", "--tls_key", "--auth_file"):
        check(flag in daemon, "k8s: the daemon has no %s" % flag)
    for flag, path in daemon.items():
        check(under(path, mounts) is not None,
              "k8s: %s=%s is not in a Secret volume's directory %s" % (flag, path, sorted(mounts)))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        p = c.get(probe)
        check(p is not None, "k8s: no %s" % probe)
        if not p:
            continue
        check("grpc" not in p, "k8s: %s is a grpc probe, which cannot speak TLS" % probe)
        if "exec" in p:
            cmd = p["exec"]["command"]
            check(cmd[0] == "weightctl" and "health" in cmd, "k8s: %s: not weightctl health" % probe)
            for flag, path in file_args(cmd).items():
                check(under(path, mounts) is not None,
                      "k8s: %s: %s=%s is not in a Secret volume" % (probe, flag, path))
            check("--tls-ca" in file_args(cmd), "k8s: %s does not verify the server (--tls-ca)" % probe)
            check(p.get("timeoutSeconds", 1) >= 2, "k8s: %s: exec probe timeout under 2 s" % probe)


def check_compose(docs):
    compose = docs.get(os.path.join("deploy", "compose.yaml"), [None])[0]
    check(compose is not None, "deploy/compose.yaml missing")
    if not compose:
        return
    svc = compose["services"]["weightserver"]
    mounts = {}
    for v in svc.get("volumes", []):
        parts = v.rsplit(":", 2)  # The source may hold ${VAR:-default}.
        if len(parts) == 3 and "ro" in parts[2].split(","):
            mounts[parts[1]] = parts[0]
    daemon = file_args(svc.get("command", []))
    for flag in ("--tls_cert", "--tls_key", "--auth_file"):
        check(flag in daemon, "compose: the daemon has no %s" % flag)
    for flag, path in daemon.items():
        check(under(path, mounts) is not None,
              "compose: %s=%s is not in a read-only directory mount %s" % (flag, path, sorted(mounts)))
    test = (svc.get("healthcheck") or {}).get("test", [])
    check("weightctl" in test and "health" in test, "compose: no weightctl health check "
          "(the image's own speaks plaintext)")
    hc = file_args(test)
    check("--tls-ca" in hc, "compose: the health check does not speak TLS")
    for flag, path in hc.items():
        check(under(path, mounts) is not None, "compose: health check %s=%s not mounted" % (flag, path))


RENDERED_KINDS = {
    os.path.join("deploy", "kubernetes"): ["Deployment", "PersistentVolumeClaim", "Service",
                                           "Service"],
    os.path.join("deploy", "kubernetes", "cache"): ["DaemonSet", "Service"],
}


def in_ci():
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def check_kustomize():
    kubectl = shutil.which("kubectl")
    if not kubectl:
        # A CI runner without kubectl would pass without rendering anything.
        check(not in_ci(), "kubectl not installed and CI is set: kustomize rendering "
              "not checked (Debian: apt-get install kubernetes-client)")
        if not in_ci():
            print("note: kubectl not installed; kustomize rendering not checked")
        return
    for folder, expected in sorted(RENDERED_KINDS.items()):
        r = subprocess.run([kubectl, "kustomize", os.path.join(ROOT, folder)],
                           capture_output=True, text=True)
        check(r.returncode == 0, "kubectl kustomize %s: %s" % (folder, r.stderr.strip()))
        if r.returncode == 0:
            kinds = sorted(d["kind"] for d in yaml.safe_load_all(r.stdout) if d)
            check(kinds == expected, "kubectl kustomize %s rendered %s, expected %s"
                  % (folder, kinds, expected))


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_cache(docs):
    """The node-local cache tier against the origin's Service (item 6)."""
    folder = os.path.join("deploy", "kubernetes", "cache")
    cache = [d for name, ds in docs.items() if os.path.dirname(name) == folder for d in ds]
    origin = [d for name, ds in docs.items()
              if os.path.dirname(name) == os.path.join("deploy", "kubernetes") for d in ds]
    sets = [d for d in cache if d.get("kind") == "DaemonSet"]
    services = [d for d in cache if d.get("kind") == "Service"]
    check(len(sets) == 1 and len(services) == 1,
          "cache: expected one DaemonSet and one Service in %s, found %s"
          % (folder, sorted(d.get("kind") for d in cache)))
    if len(sets) != 1 or len(services) != 1:
        return
    template = sets[0]["spec"]["template"]
    pod = template["spec"]
    labels = template["metadata"]["labels"]
    check(matches(sets[0]["spec"]["selector"]["matchLabels"], labels),
          "cache: the DaemonSet's selector does not match its pods")
    check(bool(pod.get("nodeSelector") or pod.get("affinity")),
          "cache: the DaemonSet is not limited to GPU nodes (nodeSelector or affinity)")
    check(any(t.get("key") == "nvidia.com/gpu" for t in pod.get("tolerations", [])),
          "cache: no toleration for the nvidia.com/gpu taint")
    c = next(c for c in pod["containers"] if c["name"] == "weightserver")
    args = {}
    for a in c.get("args", []):
        flag, _, value = a.partition("=")
        args[flag] = value
    for flag in ("--upstream", "--cache_dir", "--cache_size"):
        check(bool(args.get(flag)), "cache: the daemon has no %s=VALUE" % flag)
    # The image's entrypoint passes --repo=/models: a cache replaces it.
    check("--repo" not in args and c.get("command", [None])[0] == "weightserver" and
          not any(a.startswith("--repo") for a in c["command"]),
          "cache: the daemon gets --repo (replace the image's entrypoint: command: [weightserver])")
    check(re.fullmatch(r"\d+[KMGT]?", args.get("--cache_size", "")) is not None,
          "cache: --cache_size=%s is not BYTES[K|M|G|T]" % args.get("--cache_size"))
    # --upstream names the origin's Service and its port.
    origin_ports = {s["metadata"]["name"]: [p["port"] for p in s["spec"]["ports"]]
                    for s in origin if s.get("kind") == "Service"}
    for target in filter(None, args.get("--upstream", "").split(",")):
        host, _, port = target.rpartition("/")[2].rpartition(":")
        name = host.split(".")[0]
        check(name in origin_ports and port.isdigit() and int(port) in origin_ports[name],
              "cache: --upstream %s is not an origin Service and port %s" % (target, origin_ports))
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"].rstrip("/"): m for m in c.get("volumeMounts", [])}
    dir_mount = mounts.get(args.get("--cache_dir", "").rstrip("/"))
    check(dir_mount is not None, "cache: --cache_dir=%s is not a volume mount %s"
          % (args.get("--cache_dir"), sorted(mounts)))
    if dir_mount:
        v = volumes.get(dir_mount["name"], {})
        check("hostPath" in v, "cache: the --cache_dir volume %s is not a hostPath" % dir_mount["name"])
        check(not dir_mount.get("readOnly"), "cache: the --cache_dir mount is readOnly")
    secret_dirs = {p for p, m in mounts.items()
                   if "secret" in volumes.get(m["name"], {}) and m.get("readOnly") is True
                   and "subPath" not in m and "subPathExpr" not in m}
    for flag, path in sorted(args.items()):
        if flag.startswith("--upstream_") and flag.endswith("_file"):
            check(under(path, secret_dirs) is not None,
                  "cache: %s=%s is not in a read-only Secret directory %s"
                  % (flag, path, sorted(secret_dirs)))
    # kubelet's grpc probes speak plaintext only.
    if "--tls_cert" in args:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            check("grpc" not in (c.get(probe) or {}), "cache: %s is a grpc probe against TLS" % probe)
    for probe in ("readinessProbe", "livenessProbe"):
        check(c.get(probe) is not None, "cache: no %s" % probe)
    svc = services[0]["spec"]
    check(svc.get("internalTrafficPolicy") == "Local",
          "cache: the Service's internalTrafficPolicy is %r, not Local"
          % svc.get("internalTrafficPolicy"))
    check(matches(svc.get("selector"), labels), "cache: the Service does not select the cache pods")
    for s in origin:
        if s.get("kind") == "Service":
            check(not matches(s["spec"].get("selector"), labels),
                  "cache: origin Service %s selects the cache pods" % s["metadata"]["name"])
        if s.get("kind") == "Deployment":
            check(not matches(svc.get("selector"), s["spec"]["template"]["metadata"]["labels"]),
                  "cache: the cache Service selects the origin's pods")


def check_dev_pki():
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "dev-pki.sh"), d, "weightserver"],
                           capture_output=True, text=True)
        check(r.returncode == 0, "scripts/dev-pki.sh: " + r.stderr.strip())
        if r.returncode != 0:
            return
        for leaf in ("tls.crt", "client.crt"):
            v = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(d, "ca.crt"),
                                os.path.join(d, leaf)], capture_output=True, text=True)
            check(v.returncode == 0, "openssl verify %s: %s" % (leaf, v.stdout + v.stderr))
        san = subprocess.run(["openssl", "x509", "-in", os.path.join(d, "tls.crt"), "-noout",
                              "-ext", "subjectAltName"], capture_output=True, text=True).stdout
        for name in ("DNS:localhost", "IP Address:127.0.0.1", "DNS:weightserver"):
            check(name in san, "dev-pki.sh: tls.crt lacks %s (%s)" % (name, san.strip()))
        token = open(os.path.join(d, "token")).read()
        policy = json.load(open(os.path.join(d, "policy.json")))
        digests = [h for i in policy["identities"] for h in i.get("token_sha256", [])]
        check(hashlib.sha256(token.encode()).hexdigest() in digests,
              "dev-pki.sh: policy.json lacks the token's SHA-256")
        check(oct(os.stat(os.path.join(d, "tls.key")).st_mode & 0o777) == "0o600",
              "dev-pki.sh: tls.key is not 0600")


def check_shell():
    scripts = sorted(glob.glob(os.path.join(ROOT, "deploy", "*.sh"))) + [
        os.path.join(ROOT, "scripts", "dev-pki.sh")] + sorted(
        glob.glob(os.path.join(ROOT, "tests", "gpu", "*.sh")))
    for s in scripts:
        r = subprocess.run(["bash", "-n", s], capture_output=True, text=True)
        check(r.returncode == 0, "bash -n %s: %s" % (s, r.stderr.strip()))
    if shutil.which("shellcheck"):
        r = subprocess.run(["shellcheck", "-S", "warning"] + scripts, capture_output=True, text=True)
        check(r.returncode == 0, "shellcheck:\n" + r.stdout)
    else:
        print("note: shellcheck not installed")


def metric_names():
    """kMetricNames of server/metrics.cc: every family the server exports."""
    text = open(os.path.join(ROOT, "server", "metrics.cc")).read()
    block = re.search(r"kMetricNames = \{(.*?)\};", text, re.S)
    check(block is not None, "server/metrics.cc: no kMetricNames")
    return set(re.findall(r'"(weightserver_[a-z0-9_]+)"', block.group(1) if block else ""))


def check_metrics(docs):
    deployments = [d for name, ds in docs.items() if "kubernetes" in name
                   for d in ds if d.get("kind") == "Deployment"]
    if not deployments:
        return
    template = deployments[0]["spec"]["template"]
    c = template["spec"]["containers"][0]
    listen = [a.partition("=")[2] for a in c.get("args", []) if a.startswith("--metrics_listen=")]
    check(len(listen) == 1, "k8s: the daemon has no --metrics_listen=HOST:PORT")
    if not listen:
        return
    port = int(listen[0].rsplit(":", 1)[1])
    check(any(p.get("containerPort") == port for p in c.get("ports", [])),
          "k8s: metrics port %d is not a containerPort" % port)
    notes = (template.get("metadata") or {}).get("annotations") or {}
    check(notes.get("prometheus.io/scrape") == "true", "k8s: pods not annotated prometheus.io/scrape")
    check(notes.get("prometheus.io/port") == str(port),
          "k8s: prometheus.io/port is %r, not %d" % (notes.get("prometheus.io/port"), port))
    check(notes.get("prometheus.io/path") == "/metrics", "k8s: prometheus.io/path is not /metrics")


def check_dashboards():
    known = metric_names()
    check(len(known) >= 20, "kMetricNames lists %d metrics" % len(known))
    paths = sorted(glob.glob(os.path.join(ROOT, "deploy", "grafana", "*.json")))
    check(len(paths) >= 1, "no Grafana dashboard in deploy/grafana/")
    for path in paths:
        name = os.path.relpath(path, ROOT)
        try:
            d = json.load(open(path))
        except ValueError as e:
            check(False, "%s: not JSON: %s" % (name, e))
            continue
        for field, kind in (("title", str), ("uid", str), ("schemaVersion", int), ("panels", list)):
            check(isinstance(d.get(field), kind), "%s: no %s (%s)" % (name, field, kind.__name__))
        check(len(d.get("panels") or []) >= 10, "%s: fewer than 10 panels" % name)
        ids = set()
        queried = set()
        for p in d.get("panels") or []:
            what = "%s: panel %r" % (name, p.get("title"))
            check(isinstance(p.get("type"), str) and isinstance(p.get("title"), str),
                  what + ": no type or title")
            check(p.get("id") not in ids, what + ": duplicate id")
            ids.add(p.get("id"))
            grid = p.get("gridPos") or {}
            check(all(isinstance(grid.get(k), int) for k in "hwxy") and
                  grid.get("x", 0) + grid.get("w", 0) <= 24, what + ": bad gridPos %s" % grid)
            targets = p.get("targets") or []
            check(len(targets) >= 1, what + ": no targets")
            for t in targets:
                check(bool(t.get("expr")) and bool(t.get("refId")), what + ": a target without expr or refId")
                for m in re.findall(r"\b(weightserver_[a-z0-9_]+)", t.get("expr", "")):
                    queried.add(re.sub(r"_(bucket|sum|count)$", "", m))
        for m in sorted(queried - known):
            check(False, "%s queries %s, which the server does not export" % (name, m))
        check(len(queried) >= 15, "%s queries only %d metrics" % (name, len(queried)))


def main():
    docs = load_all()
    check_kubernetes(docs)
    check_metrics(docs)
    check_dashboards()
    check_compose(docs)
    check_cache(docs)
    check_kustomize()
    check_dev_pki()
    check_shell()
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("deploy: %d YAML files, Kubernetes and compose mounts and probes, the cache "
          "tier, metrics scraping, Grafana dashboards, dev-pki.sh, shell scripts: OK" % len(docs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

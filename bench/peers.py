# Copyright 2026 The Weightserver Authors.
#
# bench/peers.py: `weightctl load` against the loaders an inference team
# would pick instead, the same model into fresh CPU memory, each load in its
# own fresh process, alternated in one run (run_bench.py --phases peers; in
# the full run too):
#   weightctl   `weightctl load MODEL` (every chunk's CRC32C verified);
#   ws-np/ws-pt `weightserver.load(uri, framework="np"/"pt")`, the Python SDK;
#   tensorizer  Tensorizer's TensorDeserializer over HTTP from nginx
#               (bench/nginx.conf.in), from a .tensors file serialized once
#               from the model; tensorizer-verify: the same, verify_hash=True;
#   runai       the Run:ai model streamer reading the local .safetensors
#               files (page cache warm);
#   curl-safetensors  curl from the same nginx into tmpfs (/dev/shm), then
#               the reference safetensors.torch.load_file, timed together.
# The Python loaders run in the venv of the Python SDK's tests
# (tests/python/make_venv.sh, BUILD/python-venv), with tensorizer and
# runai-model-streamer pip-installed into it from PyPI; a loader that cannot
# be installed fails the phase, it is never skipped. Each load reports the
# bytes it holds, checked against the model's tensor bytes.
#
# Timing, the same for every loader: the wall time of the load inside its own
# fresh process, interpreter start-up and imports excluded (bench/peer_load.py
# says where each clock starts and stops); for weightctl, the time it reports
# (after its connection and GetModel, which take a few ms on loopback, to
# the last tensor verified in memory). Order A/B/C... rotated every round;
# medians and min-max over --runs.
import json
import os
import re
import shutil
import statistics
import subprocess

from common import GB, Nginx, Server, model_files, model_tensor_bytes, run_load, run_timed, warm

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_LOAD = os.path.join(HERE, "peer_load.py")
# What peers.py pip-installs into the venv, by import name and PyPI name.
PEER_PACKAGES = {"tensorizer": "tensorizer", "runai_model_streamer": "runai-model-streamer"}
LOADERS = ("weightctl", "ws-np", "ws-pt", "tensorizer", "tensorizer-verify", "runai",
           "curl-safetensors")
LABELS = {
    "weightctl": "weightctl load (CRC32C verified)",
    "ws-np": "ws.load, framework=np",
    "ws-pt": "ws.load, framework=pt",
    "tensorizer": "Tensorizer over HTTP (nginx)",
    "tensorizer-verify": "Tensorizer over HTTP, verify_hash",
    "runai": "Run:ai streamer, local file",
    "curl-safetensors": "curl to tmpfs + safetensors load_file",
}
CHART_LABELS = {
    "weightctl": "weightctl load\\n(verified)",
    "ws-np": "ws.load\\nnumpy",
    "ws-pt": "ws.load\\ntorch",
    "tensorizer": "Tensorizer\\nHTTP",
    "tensorizer-verify": "Tensorizer\\nHTTP, verify_hash",
    "runai": "Run:ai streamer\\nlocal file",
    "curl-safetensors": "curl to tmpfs\\n+ load_file",
}


def ensure_venv(venv):
    """Makes `venv` (tests/python/make_venv.sh: torch, safetensors, this
    checkout's weightserver package) and pip-installs the peers into it.
    Raises RuntimeError, naming what failed, when anything cannot be
    installed: the peers phase never runs without its peers."""
    script = os.path.join(HERE, "..", "tests", "python", "make_venv.sh")
    py = os.path.join(venv, "bin", "python")
    missing = [pip for mod, pip in PEER_PACKAGES.items()
               if not os.path.exists(py) or subprocess.run(
                   [py, "-c", "import " + mod], capture_output=True).returncode != 0]
    print("peers: preparing %s (%s) ..." % (venv, ", ".join(missing) or "peers installed"),
          flush=True)
    r = subprocess.run(["bash", script, venv] + missing, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("peers: could not prepare the venv %s with %s from PyPI "
                           "(tests/python/make_venv.sh exited %d):\n%s" % (
                               venv, " ".join(missing) or "the SDK", r.returncode,
                               r.stdout[-3000:]))
    return py


def tool_versions(py):
    v = json.loads(subprocess.run([py, PEER_LOAD, "versions"], capture_output=True,
                                  text=True, check=True).stdout)
    v["curl"] = subprocess.run(["curl", "--version"], capture_output=True,
                               text=True).stdout.split()[1]
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    m = re.search(r"nginx/(\S+)", subprocess.run([nginx, "-v"], capture_output=True,
                                                 text=True).stderr)
    v["nginx"] = m.group(1) if m else None
    return v


def tensorizer_file(py, out, name, files, tensor_bytes):
    """out/tensorizer/NAME.tensors, serialized once (with Tensorizer's
    per-tensor hashes) from the model's files; reused while it exists."""
    path = os.path.join(out, "tensorizer", name + ".tensors")
    if not os.path.exists(path):
        print("peers: serializing %s with Tensorizer ..." % name, flush=True)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        got = json.loads(run_timed([py, PEER_LOAD, "serialize", path] + files)[2])
        if got["bytes"] != tensor_bytes:
            os.unlink(path)
            raise RuntimeError("peers: the .tensors file holds %d tensor bytes, the model %d"
                               % (got["bytes"], tensor_bytes))
    return path


def bench_peers(a, build, out, models, big, work, res):
    """The peers phase: adds peers_* keys to res (per loader: median, min and
    max GB/s, CPU seconds per GB; the versions)."""
    py = ensure_venv(os.path.abspath(a.venv or os.path.join(build, "python-venv")))
    res["peers_versions"] = tool_versions(py)
    files = model_files(os.path.join(models, big))
    header_bytes = sum(os.path.getsize(f) for f in files)
    ctl = os.path.join(build, "cli", "weightctl")
    server = Server(os.path.join(build, "server", "weightserver"), models,
                    os.path.join(work, "server-peers.log"))
    try:
        tensor_bytes = model_tensor_bytes(ctl, server.addr, big)
        tz = tensorizer_file(py, out, big, files, tensor_bytes)
        warm(files + [tz])
        with Nginx(out, work) as web:
            uri = "weightserver://%s/%s" % (server.addr, big)
            shm = os.path.join("/dev/shm", "ws-bench-%d" % os.getpid())
            cmds = {
                "weightctl": [ctl, "--server", server.addr, "load", big],
                "ws-np": [py, PEER_LOAD, "ws-np", uri],
                "ws-pt": [py, PEER_LOAD, "ws-pt", uri],
                "tensorizer": [py, PEER_LOAD, "tensorizer", web.url(out, tz)],
                "tensorizer-verify": [py, PEER_LOAD, "tensorizer-verify", web.url(out, tz)],
                "runai": [py, PEER_LOAD, "runai"] + files,
                "curl-safetensors": [py, PEER_LOAD, "curl-safetensors", shm] +
                                    [web.url(out, f) for f in files],
            }
            for k in LOADERS:  # Warm-up: pools, connections, the first import.
                one_load(k, cmds[k], tensor_bytes)
            got = {k: {"gbps": [], "cpu": []} for k in LOADERS}
            print("peers: %d rounds of %s ..." % (a.runs, ", ".join(LOADERS)), flush=True)
            for r in range(a.runs):
                order = LOADERS[r % len(LOADERS):] + LOADERS[:r % len(LOADERS)]
                for k in order:
                    seconds, cpu = one_load(k, cmds[k], tensor_bytes)
                    got[k]["gbps"].append(tensor_bytes / seconds / GB)
                    got[k]["cpu"].append(cpu / (tensor_bytes / GB))
    finally:
        res["peers_server_exit"] = server.stop()
    res["peers_tensor_bytes"] = tensor_bytes
    res["peers_file_bytes"] = header_bytes
    for k in LOADERS:
        g = got[k]["gbps"]
        res["peers_" + k] = {"gbps": statistics.median(g), "min_gbps": min(g),
                             "max_gbps": max(g), "all_gbps": g,
                             "cpu_s_per_gb": statistics.median(got[k]["cpu"])}


def one_load(loader, cmd, tensor_bytes):
    """Runs one load in a fresh process; returns (seconds, CPU seconds) of
    the load itself. Raises RuntimeError when the loader held other than
    the model's tensor bytes. Every loader's load starts SETTLE_S after
    the previous one's process exited (common.run_load: why)."""
    wall, child_cpu, text = run_load(cmd, native=loader == "weightctl")
    if loader == "weightctl":
        # "loaded 291 tensors, 256.0 MiB in 0.130 s (...)": the CPU is the
        # whole process's (its start-up is a few ms of it).
        m = re.search(r"loaded \d+ tensors?, ([\d.]+) MiB in ([\d.]+) s", text)
        if not m or abs(float(m.group(1)) - tensor_bytes / (1 << 20)) > 0.05:
            raise RuntimeError("peers: weightctl load: unexpected output: " + text)
        return float(m.group(2)), child_cpu
    got = json.loads(text.strip().splitlines()[-1])  # A loader may log above it.
    if got["bytes"] != tensor_bytes:
        raise RuntimeError("peers: %s loaded %d tensor bytes, the model has %d"
                           % (loader, got["bytes"], tensor_bytes))
    return got["seconds"], got["cpu_s"]


def peer_rows(r):
    """Rows (measure, value, note) of the peer table."""
    v = r["peers_versions"]
    base = r["peers_weightctl"]
    tz, tzv, ra = r["peers_tensorizer"], r["peers_tensorizer-verify"], r["peers_runai"]
    goals = {
        "tensorizer": "weightctl %.2fx; goal >= 1.2x" % (base["gbps"] / tz["gbps"]),
        "tensorizer-verify": "weightctl %.2fx; goal >= 2x" % (base["gbps"] / tzv["gbps"]),
        "runai": "weightctl %.2fx; goal >= 1.5x" % (base["gbps"] / ra["gbps"]),
    }
    names = {
        "weightctl": "weightctl load",
        "ws-np": "weightserver %s, numpy %s" % (v["weightserver"], v["numpy"]),
        "ws-pt": "weightserver %s, torch %s" % (v["weightserver"], v["torch"]),
        "tensorizer": "tensorizer %s, nginx %s" % (v["tensorizer"], v["nginx"]),
        "tensorizer-verify": "tensorizer %s, nginx %s" % (v["tensorizer"], v["nginx"]),
        "runai": "runai-model-streamer %s" % v["runai-model-streamer"],
        "curl-safetensors": "curl %s, safetensors %s" % (v["curl"], v["safetensors"]),
    }
    rows = []
    for k in LOADERS:
        p = r["peers_" + k]
        rows.append((LABELS[k], "%.2f GB/s" % p["gbps"],
                     "%.2f-%.2f" % (p["min_gbps"], p["max_gbps"]),
                     "%.2f" % p["cpu_s_per_gb"], names[k],
                     goals.get(k, "%.2fx weightctl" % (p["gbps"] / base["gbps"]))))
    return rows


def print_peers(r):
    print("\nPeers: %.2f GiB model (%d tensor bytes) into fresh CPU memory, each load "
          "in a fresh process, median of %d (min-max)" % (
              r["size_gib"], r["peers_tensor_bytes"], r["runs"]))
    fmt = "%-38s %-11s %-11s %-8s %-34s %s"
    print(fmt % ("loader", "median", "min-max", "CPU/GB", "version", "ratio / goal"))
    print("-" * 130)
    for row in peer_rows(r):
        print(fmt % row)
    print("CPU/GB: core-seconds per GB of the loading process (and its children); the "
          "server's (weightserver, nginx) is not included. Time: the load inside its own "
          "process, start-up and imports excluded (bench/peers.py).")


def plot_peers(r, out):
    """peers.png: each loader's median GB/s with its min-max as an error bar."""
    if not shutil.which("gnuplot"):
        print("(gnuplot not found: no peers chart)")
        return
    data = os.path.join(out, "peers.dat")
    with open(data, "w") as f:
        for k in LOADERS:
            p = r["peers_" + k]
            f.write('"%s" %f %f %f\n' % (CHART_LABELS[k], p["gbps"], p["min_gbps"],
                                         p["max_gbps"]))
    png = os.path.join(out, "peers.png")
    script = """
set terminal pngcairo size 980,500 font "sans,10"
set bmargin 5
set output '%s'
set title "Into fresh CPU memory, loopback, page cache warm, %g GiB model, %d cores (median of %d, bars: min-max)"
set ylabel "GB/s"
set style fill solid 0.8 border -1
set boxwidth 0.6
set yrange [0:*]
set grid ytics
set xtics noenhanced
unset key
plot '%s' using 0:2:xtic(1) with boxes lc rgb "#3a7bd5", \\
     '' using 0:2:3:4 with yerrorbars lc rgb "black" pt -1, \\
     '' using 0:4:(sprintf("%%.2f", $2)) with labels offset 0,1
""" % (png, r["size_gib"], r["nproc"], r["runs"], data)
    subprocess.run(["gnuplot"], input=script, text=True, check=False)
    print("chart: %s" % png)

"""What the Python benches in scripts/bench share: running and timing a step,
a fresh docker-registry on a loopback port, free ports."""
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# The bench's name, the prefix of its error lines.
NAME = "bench"


def fail(message):
    print(f"{NAME}: {message}", file=sys.stderr)
    sys.exit(1)


def run(args, **kwargs):
    """Runs a set-up command (not measured); its output only shows on failure."""
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        fail(f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def loopback_bytes():
    return int(Path("/sys/class/net/lo/statistics/tx_bytes").read_text())


def measure(args, timing_file):
    """One step: (seconds, peak RSS in KiB, bytes on loopback). Peak RSS is
    /usr/bin/time -v's: the largest process of the step."""
    before = loopback_bytes()
    start = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-v", "-o", str(timing_file), *map(str, args)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    wire = loopback_bytes() - before
    if done.returncode != 0:
        fail(f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stderr}")
    rss = next(int(line.split(":")[1]) for line in Path(timing_file).read_text().splitlines()
               if "Maximum resident set size" in line)
    return seconds, rss, wire


def stop_process(process):
    """SIGTERM, then SIGKILL after 10 s: a server wedged by a failed step (a full
    disk) must not keep the bench from ending."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, what):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    fail(f"{what} did not start")


class Registry:
    """A fresh docker-registry on PORT, its storage in DIRECTORY (removed by
    `stop`). Benches reuse one port: a registry base's name (host:port) is part
    of the image gantry builds, so its digest stays the same across rounds."""

    def __init__(self, directory, port):
        self.directory = directory
        directory.mkdir(parents=True)
        self.address = f"127.0.0.1:{port}"
        config = directory / "registry.yml"
        config.write_text(
            "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
            f"storage: {{filesystem: {{rootdirectory: {directory}/data}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: {self.address}}}\n")
        self.process = subprocess.Popen(["docker-registry", "serve", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port, "docker-registry")

    def stop(self):
        stop_process(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)

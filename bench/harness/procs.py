"""Process plumbing for the side-by-side benchmarks: spawn pinned processes, stop them,
and read the CPU time and RSS of a process tree from /proc.

CPU per request is the figure our goals are set on (issue 10): utime+stime of every
process of the proxy (nginx master+worker, varnish manager+child, all keel threads),
sampled right before and right after a load run.
"""
import ctypes
import os
import signal
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PROXY_CORE = "1"  # the system under test
LOAD_CORE = "0"   # backend + load generator (+ keel-controller)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def _children():
    """pid -> list of child pids, from one scan of /proc."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(pids):
    """Sum of utime+stime (all threads) over `pids`; processes gone since are skipped."""
    ticks = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError):
            pass
    return ticks / CLK_TCK


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _die_with_parent():
    # A harness killed by a timeout must not leave proxies holding ports and cores.
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Proc:
    """One spawned process (and its children), pinned to `core`, output to a log file."""

    def __init__(self, name, argv, workdir, core, env=None):
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        with open(self.log_path, "wb") as log:
            self.p = subprocess.Popen(["taskset", "-c", core, *argv], stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                                      preexec_fn=_die_with_parent)
        self.pid = self.p.pid  # taskset execs the program: same pid

    def alive(self):
        return self.p.poll() is None

    def log_tail(self, n=5):
        try:
            with open(self.log_path, errors="replace") as f:
                return " | ".join(l.strip() for l in f.readlines()[-n:])
        except OSError:
            return ""

    def cpu(self):
        return cpu_seconds(tree(self.pid))

    def send(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.alive():
            try:
                os.killpg(self.pid, sig)  # its own session: the whole tree, nothing else
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.p.wait()
            except ProcessLookupError:
                pass
        else:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # stray children of a dead leader
            except (ProcessLookupError, PermissionError):
                pass

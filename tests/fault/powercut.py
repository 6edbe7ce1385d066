#!/usr/bin/env python3
"""Power-cut test: what acknowledged writes survive a simulated power loss?

For each --fsync policy and round: start crowdd with the LD_PRELOAD shim
tests/fault/powercut_shim.c (it journals every successful fsync/fdatasync of
a file or directory in the data directory), run writers that ingest users
with sequence-numbered IDs and note which writes were acknowledged (HTTP 200),
take a snapshot now and then, and SIGKILL crowdd at a random moment. Then
"cut the power": every file in the data directory is truncated to the size its
last sync made durable (0 if never synced), and every entry that the last
sync of the directory did not hold (created or renamed in since) is removed.
Restart crowdd without the shim and count the acknowledged IDs that are still
there.

`always` and `batch` acknowledge a write only after the fdatasync that covers
it (docs/operations.md), so both must lose nothing acknowledged. `off`
acknowledges after write(2) and is expected to lose what came after its last
sync: the negative control showing that the simulation does discard unsynced
data (with --require-off-loss the run fails if it lost nothing).

Exit status 0 when every expectation holds. Prints one line per round and a
table per policy: acknowledged, survived, lost.
"""
import argparse
import http.client
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


def start(crowdd, data, extra_env=None, args=()):
    env = dict(os.environ)
    env.update(extra_env or {})
    p = subprocess.Popen([crowdd, "--port", "0", "--threads", "2", "--data-dir", data, *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = p.stdout.readline()
    m = re.search(r"http://([\d.]+):(\d+)", line)
    if not m:
        p.wait(timeout=30)
        return p, None, p.stderr.read()
    return p, (m.group(1), int(m.group(2))), None


def writer(addr, wid, stop, acked, lock):
    seq = 0
    try:
        c = http.client.HTTPConnection(*addr, timeout=10)
        while not stop.is_set():
            seq += 1
            uid = wid * 1_000_000_000 + seq
            body = '{"id": %d, "tags": ["pc"]}\n' % uid
            c.request("POST", "/v1/ingest", body, {"Content-Type": "application/x-ndjson"})
            r = c.getresponse()
            r.read()
            if r.status == 200:
                with lock:
                    acked.add(uid)
    except Exception:
        pass  # the kill: a write in flight is neither acknowledged nor counted


def snapshotter(addr, stop, every):
    try:
        while not stop.wait(every):
            c = http.client.HTTPConnection(*addr, timeout=30)
            c.request("POST", "/v1/admin/snapshot", "")
            c.getresponse().read()
            c.close()
    except Exception:
        pass


def cut_power(data, journal):
    """Drops what the journal says was never made durable. Returns a summary."""
    synced = {}
    listing = None
    st_dir = os.stat(data)
    with open(journal) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "F" and len(parts) == 4:
                synced[(int(parts[1]), int(parts[2]))] = int(parts[3])
            elif parts[0] == "D" and (int(parts[1]), int(parts[2])) == (st_dir.st_dev, st_dir.st_ino):
                listing = {}
                for entry in parts[3:]:
                    name, _, ino = entry.rpartition("/")
                    listing[name] = int(ino)
    dropped_bytes = removed = restored = 0
    prev = re.compile(r"(.*)\.powercut-prev-(\d+)$")  # kept by the shim's rename()
    names = sorted(os.listdir(data))
    kept = {(m.group(1), int(m.group(2))): n for n in names if (m := prev.match(n))}
    for name in names:
        path = os.path.join(data, name)
        if prev.match(name) or not os.path.isfile(path):
            continue
        st = os.lstat(path)
        if listing is None or listing.get(name) != st.st_ino:
            # Its directory entry never became durable: a rename over an older
            # file comes undone (the older file is back), a creation vanishes.
            old = kept.pop((name, listing.get(name) if listing else -1), None)
            if old is not None:
                os.replace(os.path.join(data, old), path)
                restored += 1
                st = os.lstat(path)
            else:
                os.remove(path)
                removed += 1
                continue
        keep = synced.get((st.st_dev, st.st_ino), 0)
        if st.st_size > keep:
            dropped_bytes += st.st_size - keep
            os.truncate(path, keep)
    for old in kept.values():
        os.remove(os.path.join(data, old))
    return (f"dropped {dropped_bytes} unsynced bytes, removed {removed} entries never synced into the directory, "
            f"undid {restored} renames")


def present_ids(addr):
    c = http.client.HTTPConnection(*addr, timeout=60)
    c.request("GET", "/v1/ids?q=pc&format=csv&lenient=true")
    r = c.getresponse()
    body = r.read().decode()
    if r.status != 200:
        raise RuntimeError(f"/v1/ids answered {r.status}: {body[:200]}")
    return {int(x) for x in body.split() if x.strip().isdigit()}


def one_round(a, policy, rnd, rng):
    root = tempfile.mkdtemp(prefix=f"crowd-powercut-{policy}-")
    data = os.path.realpath(os.path.join(root, "data"))
    journal = os.path.join(root, "journal")
    try:
        env = {"LD_PRELOAD": os.path.realpath(a.shim), "CROWD_POWERCUT_DIR": data, "CROWD_POWERCUT_JOURNAL": journal}
        p, addr, err = start(a.crowdd, data, env, ["--fsync", policy])
        if addr is None:
            print(f"  {policy} round {rnd}: crowdd did not start: {err}")
            return None
        stop = threading.Event()
        acked, lock = set(), threading.Lock()
        threads = [threading.Thread(target=writer, args=(addr, w + 1, stop, acked, lock)) for w in range(a.writers)]
        threads.append(threading.Thread(target=snapshotter, args=(addr, stop, a.seconds / 3)))
        for t in threads:
            t.start()
        time.sleep(a.seconds * rng.uniform(0.5, 1.0))
        p.send_signal(signal.SIGKILL)
        p.wait()
        stop.set()
        for t in threads:
            t.join()
        summary = cut_power(data, journal)
        p, addr, err = start(a.crowdd, data, args=["--fsync", policy])
        if addr is None:
            print(f"  {policy} round {rnd}: REFUSED to restart after the cut ({summary}): {err.strip()}")
            return {"acked": len(acked), "survived": 0, "lost": len(acked), "refused": True}
        try:
            present = present_ids(addr)
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
        lost = acked - present
        unacked = present - acked
        print(f"  {policy} round {rnd}: acknowledged {len(acked)}, survived {len(acked) - len(lost)}, "
              f"lost {len(lost)}, present but not acknowledged (in flight at the kill) {len(unacked)}; {summary}")
        return {"acked": len(acked), "survived": len(acked) - len(lost), "lost": len(lost), "refused": False}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crowdd", required=True)
    ap.add_argument("--shim", required=True, help="the built powercut_shim .so")
    ap.add_argument("--policies", default="always,batch,off")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0, help="longest run before the kill")
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--require-off-loss", action="store_true",
                    help="fail unless `off` lost something (shows that the cut discards unsynced data)")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print(f"powercut: seed {seed}")
    rng = random.Random(seed)
    ok = True
    table = []
    for policy in a.policies.split(","):
        total = {"acked": 0, "survived": 0, "lost": 0, "refused": 0}
        for rnd in range(1, a.rounds + 1):
            r = one_round(a, policy, rnd, rng)
            if r is None:
                ok = False
                continue
            for k in ("acked", "survived", "lost"):
                total[k] += r[k]
            total["refused"] += int(r["refused"])
        table.append((policy, total))
        if policy in ("always", "batch") and (total["lost"] > 0 or total["refused"] > 0):
            ok = False
        if policy == "off" and a.require_off_loss and total["lost"] == 0:
            print("  off lost nothing: the simulated cut did not discard unsynced writes")
            ok = False
    print("| --fsync | rounds | acknowledged | survived | lost | refused restarts |")
    print("|---|---:|---:|---:|---:|---:|")
    for policy, t in table:
        print(f"| {policy} | {a.rounds} | {t['acked']} | {t['survived']} | {t['lost']} | {t['refused']} |")
    print("powercut: " + ("OK" if ok else "FAILED") + f" (seed {seed})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

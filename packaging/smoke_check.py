"""The smoke check of ``make package``: the built program, installed from its tarball into a
temporary folder outside the source tree, run with a bare environment (``env -i``: no PATH, so
no Python; only HOME, pointed at an empty temporary home).

1. ``--version`` says this version;
2. ``demo --calls 52000`` fills a temporary store: more than one chunk of the demo
   (CHUNK_CALLS, 50,000), so its second process is spawned, and seen running;
3. ``report --format json`` counts them all, with Python's time-zone path pointed nowhere
   (PYTHONTZPATH), so Europe/London comes from the bundled tzdata, as on Windows;
4. ``report --format pdf`` writes a PDF (reportlab and its fonts are inside);
5. ``export --rows`` writes the funder files, its row extract through numpy;
6. ``--smoke`` under QT_QPA_PLATFORM=offscreen: the window opens the store, signs in, shows
   the calls in the history and takes a key in the call form.

It also installs the tarball with its install.sh and validates the installed menu entry and
AppStream file where desktop-file-validate and appstreamcli are present (saying so where not).

    python packaging/smoke_check.py dist/advice-desk-VERSION-linux-x86_64.tar.gz
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advice_desk import __version__  # noqa: E402
from advice_desk.demo.synthetic import CHUNK_CALLS  # noqa: E402

APP_ID = "org.advicedesk.AdviceDesk"
# Two chunks (of whole days): the second is made by the spawned producer.
DEMO_CALLS = CHUNK_CALLS + 2_000


class Failed(Exception):
    pass


def bare(home: Path, *extra: str) -> list[str]:
    """``env -i`` with a home of its own and nothing else (no PATH: no Python to find)."""
    return ["env", "-i", f"HOME={home}", *extra]


def run(step: str, command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    took = time.monotonic() - started
    if done.returncode != 0:
        raise Failed(f"{step}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    print(f"  ok  {step} ({took:.1f} s)")
    return done


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(
                    b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError, IndexError):
            continue
    return found


def demo_with_producer(program: Path, home: Path, data: Path) -> str:
    """The demo run, watching for the producer process it spawns."""
    started = time.monotonic()
    demo = subprocess.Popen([*bare(home), str(program), "--data-dir", str(data), "demo",
                             "--calls", str(DEMO_CALLS)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, set[str]] = {}
    while demo.poll() is None:
        # Every command line a child showed: between its fork and its exec a spawned child
        # still shows its parent's, and one that has ended reads as ''.
        for pid, cmd in children(demo.pid).items():
            seen.setdefault(pid, set()).add(cmd)

        time.sleep(0.02)  # polling another process: nothing to wait on instead
    out, err = demo.communicate()
    if demo.returncode != 0:
        raise Failed(f"demo: exit {demo.returncode}\n{out}{err}")
    producers = [cmd for cmds in seen.values() for cmd in cmds if "multiprocessing" in cmd
                 and "resource_tracker" not in cmd]
    if not producers:
        raise Failed(f"demo: no producer process was seen (children: {seen or 'none'})")
    print(f"  ok  demo --calls {DEMO_CALLS}: {out.strip()} "
          f"({time.monotonic() - started:.1f} s, producer seen: ...{producers[0][-60:]})")
    return out


def validate(installed: Path) -> None:
    desktop = installed / "share" / "applications" / f"{APP_ID}.desktop"
    metainfo = installed / "share" / "metainfo" / f"{APP_ID}.metainfo.xml"
    checks = [("desktop-file-validate", desktop, []),
              ("appstreamcli", metainfo, ["validate", "--no-net"])]
    for tool, file, args in checks:
        if shutil.which(tool) is None:
            print(f"  --  {tool} is not installed: {file.name} was not validated")
            continue
        done = subprocess.run([tool, *args, str(file)], capture_output=True, text=True)
        said = " ".join((done.stdout + done.stderr).split()) or "no remarks"
        if done.returncode != 0:
            raise Failed(f"{tool}: exit {done.returncode}: {said}")
        print(f"  ok  {tool} {file.name}: {said}")


def main(argv: list[str]) -> int:
    tarball = Path(argv[0]).resolve()
    work = Path(tempfile.mkdtemp(prefix="advice-desk-package-"))
    print(f"smoke check of {tarball.name} in {work} (outside the source tree)")
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(work / "unpacked", filter="tar")
        (unpacked,) = (work / "unpacked").iterdir()
        installed = work / "installed"
        run("install.sh --prefix", ["sh", str(unpacked / "install.sh"), "--prefix",
                                    str(installed)])
        validate(installed)
        program = installed / "opt" / "advice-desk" / "advice-desk"
        home, data = work / "home", work / "data"
        home.mkdir()
        version = run("--version", [*bare(home), str(program), "--version"]).stdout.strip()
        if version != f"advice-desk {__version__}":
            raise Failed(f"--version said {version!r}, not advice-desk {__version__}")
        demo_with_producer(program, home, data)
        today = date.today()
        period = ["--from", (today - timedelta(days=400)).isoformat(), "--to",
                  (today + timedelta(days=1)).isoformat()]
        report = run("report --format json (bundled tzdata)",
                     [*bare(home, "PYTHONTZPATH=/nonexistent"), str(program), "--data-dir",
                      str(data), "report", *period, "--format", "json"])
        total = json.loads(report.stdout)["total_calls"]
        if total != DEMO_CALLS:
            raise Failed(f"report: total_calls {total}, not {DEMO_CALLS}")
        print(f"      total_calls {total:,}")
        pdf = work / "report.pdf"
        run("report --format pdf", [*bare(home), str(program), "--data-dir", str(data),
                                    "report", *period, "--format", "pdf", "--out", str(pdf)])
        if not pdf.read_bytes().startswith(b"%PDF"):
            raise Failed("report --format pdf: the file is not a PDF")
        exported = work / "export"
        run("export --rows", [*bare(home), str(program), "--data-dir", str(data), "export",
                              *period, "--rows", "--out", str(exported)])
        if not (exported / "calls.csv").read_text(encoding="utf-8").startswith("month,"):
            raise Failed("export --rows: calls.csv has no header")
        smoke = run("--smoke (offscreen)", [*bare(home, "QT_QPA_PLATFORM=offscreen"),
                                            str(program), "--data-dir", str(data), "--smoke"])
        print(f"      {smoke.stdout.strip()}")
        if f"{DEMO_CALLS:,} calls" not in smoke.stdout:
            raise Failed(f"--smoke did not show {DEMO_CALLS:,} calls: {smoke.stdout}")
    except Failed as failed:
        print(f"smoke check FAILED: {failed}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("smoke check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

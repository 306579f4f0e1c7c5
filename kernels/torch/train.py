"""topoflow's torch training kernel: trains one classifier for the `train`
stage with `backend: torch`. Started by ml/torchKernel.ts as a child process:
reads one job (JSON) on stdin, writes one JSON message per line on stdout
(README.md beside this file has the protocol), writes its output files into
the job's `outDir`, and exits 0 after `done`, or 1 after `error`.

Data, checkpoints and outputs follow the TypeScript trainer (ml/trainer.ts):
the same row order (stream.py), checkpoints every `checkpointSteps` steps,
every `checkpointSeconds` and after every epoch in the pipeline's storage,
resumed from the newest; data order and dropout masks are functions of
(seed, epoch, step) and Adam's state is saved whole, so a resumed run ends
with the same weights as one that was never interrupted (bit for bit on the
CPU)."""

import json
import os
import sys
import time
import threading
import traceback

PROTOCOL = 1
_out = sys.stdout
sys.stdout = sys.stderr  # stray prints must not corrupt the protocol


def emit(message_type: str, **fields) -> None:
    _out.write(json.dumps({"type": message_type, **fields}) + "\n")
    _out.flush()


class BadInput(Exception):
    """A problem with the job or the data: the stage fails without retries."""


def watch_parent() -> None:
    """The kernel must not outlive its worker (a killed worker's retry starts a
    new kernel on the same checkpoints): on Linux the kernel asks for SIGKILL
    when its parent dies; anywhere, stdin reaching EOF (the worker's end of
    the pipe closed) ends it."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def wait_for_eof() -> None:
        while sys.stdin.readline():
            pass
        os._exit(3)

    threading.Thread(target=wait_for_eof, name="topoflow-parent-watch", daemon=True).start()


def main() -> int:
    line = sys.stdin.readline()
    watch_parent()
    try:
        job = json.loads(line)
    except ValueError as err:
        raise BadInput(f"the job on stdin is not JSON ({err})") from err
    if job.get("protocol") != PROTOCOL:
        raise BadInput(f"job protocol {job.get('protocol')!r}; this kernel speaks {PROTOCOL}")
    from runner import run  # imports torch: after the job is known to be readable

    run(job, emit, BadInput)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BadInput as err:
        emit("error", kind="bad-input", message=str(err))
        sys.exit(1)
    except ModuleNotFoundError as err:
        emit("error", kind="failed", message=f"{sys.executable} has no module {err.name!r}: bash infra/python-torch.sh makes .venv-torch with torch, numpy and pyarrow")
        sys.exit(1)
    except KeyboardInterrupt:
        emit("error", kind="failed", message="interrupted")
        sys.exit(1)
    except Exception as err:  # a clear line for the stage; the traceback goes to stderr (the worker's log)
        if type(err).__name__ == "StoreError":  # storage or a damaged part: the message names the object
            emit("error", kind="failed", message=str(err))
            sys.exit(1)
        traceback.print_exc(file=sys.stderr)
        where = traceback.extract_tb(err.__traceback__)[-1]
        emit("error", kind="failed", message=f"{type(err).__name__}: {err} (at {os.path.basename(where.filename)}:{where.lineno})")
        sys.exit(1)

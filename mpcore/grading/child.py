"""The student's side of an exercise check, run in the sandbox as ``python -I child.py IN_FD OUT_FD``.

It cannot import mpcore (the sandbox does not contain it): the grader sends the solution cell's
source and the names of the helpers the exercise allows (say ``cells.rnn.step_forward`` for
BPTT); each helper here is a proxy that asks the grader to compute it. Then, for every call the
grader's comparison makes, it runs the student's function and sends the value back.

Requests (grader -> here) and replies (here -> grader), one :mod:`wire` message each::

    {"op": "define", "source", "name", "helpers"}   -> {"op": "ready"} or {"op": "error", ...}
    {"op": "call", "args", "kwargs"}                -> {"op": "result", "value"}, {"op": "not_implemented"}
      (a function among the arguments arrives as a key and is called back like a helper)
                                                       or {"op": "error", "type", "message"}
    (during a call)                                 <- {"op": "helper", "name", "args", "kwargs"}
    {"op": "helper_result", "value"} / {"op": "helper_error", "message"} -> back into the student's code

Whatever this process sends is only the student's own answer: the grader compares it with the
reference and decides the score where the student's code cannot reach.
"""

import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import wire  # noqa: E402

IN, OUT = int(sys.argv[1]), int(sys.argv[2])


def helper(name):
    def call(*args, **kwargs):
        try:
            message = wire.encode({"op": "helper", "name": name, "args": args, "kwargs": kwargs})
        except wire.WireError as e:
            raise TypeError(f"{name} cannot be given {e}") from None
        wire.write(OUT, message)
        reply = wire.receive(IN)
        if reply.get("op") != "helper_result":
            raise RuntimeError(f"{name}: {reply.get('message', 'the grader refused the call')}")
        return reply["value"]

    call.__name__ = name.rpartition(".")[2]
    return call


def namespace(helpers):
    """The solution cell's globals: numpy as ``np`` and each allowed helper under its dotted name."""
    ns = {"np": np, "__name__": "__main__"}
    for dotted in helpers:
        *path, last = dotted.split(".")
        scope = ns
        for part in path:
            if part not in scope:
                scope[part] = types.SimpleNamespace()
            scope = vars(scope[part])
        scope[last] = helper(dotted)
    return ns


def error(e):
    return {"op": "error", "type": type(e).__name__, "message": str(e)[:500]}


def main():
    request = wire.receive(IN)
    ns = namespace(request["helpers"])
    sys.stdout = open(os.devnull, "w")  # the student's prints go nowhere: fd OUT carries only replies
    try:
        exec(compile(request["source"], "<your solution cell>", "exec"), ns)
        fn = ns[request["name"]]
    except KeyError:
        wire.send(OUT, {"op": "error", "type": "NameError",
                        "message": f"the solution cell defines no function named {request['name']!r}"})
        return
    except BaseException as e:  # noqa: BLE001 -- whatever the cell does, the grader gets a reply
        wire.send(OUT, error(e))
        return
    wire.send(OUT, {"op": "ready"})
    while True:
        try:
            call = wire.receive(IN, callback=helper)
        except EOFError:
            return
        try:
            reply = {"op": "result", "value": fn(*call["args"], **call["kwargs"])}
            message = wire.encode(reply)
        except NotImplementedError:
            message = wire.encode({"op": "not_implemented"})
        except BaseException as e:  # noqa: BLE001
            message = wire.encode(error(e) if not isinstance(e, wire.WireError) else
                                  {"op": "error", "type": "TypeError", "message": f"your function returned {e}"})
        wire.write(OUT, message)


if __name__ == "__main__":
    main()

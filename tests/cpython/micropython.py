# CPython stand-in for MicroPython's micropython module: const() is the
# identity (MicroPython's compiler folds it away). Not shipped.


def const(value):
    return value

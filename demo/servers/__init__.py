"""Private servers on loopback, each in its own folder: started by the demo, the tests and the benches.

A missing program raises `MissingProgram` naming the Debian package to install; callers never skip.
"""

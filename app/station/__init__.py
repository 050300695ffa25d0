"""The station runtime: glue between devices, the pack session, the local store and the views.

Nothing here imports Qt widgets; the views render `ScreenModel` values and call the runtime.
"""

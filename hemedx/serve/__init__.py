"""``hemedx serve``: a live classroom server (teacher on the projector, students on their phones).

Layers inside this package, each with one job: :mod:`store` keeps sessions and answers (SQLite, durable
before acknowledgement); :mod:`deck` turns a case into per-stage engine material; :mod:`views` decides
what a teacher or a student may see at the current step (the server withholds, not the page);
:mod:`export` writes gradebook files; :mod:`app` is the Starlette web layer and :mod:`guard` its limits.
Only :mod:`app` and :mod:`guard` need the optional ``serve`` extra.
"""

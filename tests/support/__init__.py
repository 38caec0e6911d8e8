"""Code the tests share: helpers, classroom-server helpers, the docs-example runner, the reference evaluator.

Importable from every test folder as ``support`` (pytest's ``pythonpath`` puts ``tests/`` on ``sys.path``).
"""

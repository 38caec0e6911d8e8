"""Committed JSON Schemas of pack and case files (``hemedx rules schema --out hemedx/schema``).

A package (not just a folder) so the ``*.json`` files ship in the wheel for editors to point at.
"""

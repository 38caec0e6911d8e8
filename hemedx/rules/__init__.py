"""Knowledge: the rule pack schema, its loader and the default pack (data under ``pack/``)."""

from hemedx.rules.loader import default_pack_path, load_pack
from hemedx.rules.model import Pack

__all__ = ["Pack", "default_pack_path", "load_pack"]

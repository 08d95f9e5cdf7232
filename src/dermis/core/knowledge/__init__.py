"""The clinical knowledge base: versioned data with a citation on every rule."""

from dermis.core.knowledge.loader import build_knowledge, load_knowledge
from dermis.core.knowledge.schema import KnowledgeBase, Severity, Thickness

__all__ = ["KnowledgeBase", "Severity", "Thickness", "build_knowledge", "load_knowledge"]

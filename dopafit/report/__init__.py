"""Figures and the HTML report (matplotlib is imported only here, lazily)."""

"""Figures and the HTML report (matplotlib is imported only here, lazily).

Modules
-------
:mod:`dopafit.report.figures`
    Publication figures (each function returns a matplotlib Figure) and
    :func:`~dopafit.report.figures.save_figures` (PNG/SVG/PDF files).
:mod:`dopafit.report.html`
    :func:`~dopafit.report.html.write_report`: one self-contained HTML page.
:mod:`dopafit.report.data`
    Reading fit outputs, per-unit response tables, mapping the axis to reward, decoding.

Importing this package imports neither matplotlib nor scipy; the modules above do so inside
their functions.
"""

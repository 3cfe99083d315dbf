"""Sphinx's settings for the course website, the same for every language (`python -m tools.site` runs it).

The notebooks arrive executed (`tools.site.outputs`), so MyST-NB only renders them. Nothing may come from
the network: MathJax is served from the site (`mathjax_path`, copied by `tools.site.assets`), and the
JavaScript that would draw ipywidgets lives only on a CDN, so widgets show their static text instead.
"""

from pathlib import Path

HERE = Path(__file__).parent

extensions = ["myst_nb", "tools.site.extension"]
html_theme = "furo"
templates_path = [str(HERE / "templates")]
html_static_path = [str(HERE / "static")]
html_favicon = str(HERE / "static" / "favicon.svg")
html_use_index = False
html_copy_source = False
html_show_sourcelink = False
html_show_sphinx = False
html_last_updated_fmt = None

nb_execution_mode = "off"
nb_ipywidgets_js = {}  # the widget manager's scripts would load from a CDN
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]  # show the text
nb_render_markdown_format = "myst"  # a cell's Markdown output (the lessons' tables) as in Jupyter, math included
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True  # $$...$$ inside a paragraph is display math, as in Jupyter
myst_heading_anchors = 3

# MathJax is copied once for all languages to the site's root (build/site/_mathjax/); Sphinx puts this
# path under each language's _static/, two folders below the root.
mathjax_path = "../../_mathjax/tex-chtml.js"

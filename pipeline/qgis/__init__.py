"""QGIS side of the publication: default layer styles and the QGIS project.

Nothing here needs QGIS at run time. The styles are QGIS's own ``.qml``/``.sld``
files in ``pipeline/styles/`` (made by QGIS with ``build_styles.py``); they are
copied into the ``layer_styles`` tables QGIS reads its default styles from
(:mod:`pipeline.qgis.styles`), and into a QGIS project written as XML from the
same files (:mod:`pipeline.qgis.project`). The tests open all of it with PyQGIS.
"""

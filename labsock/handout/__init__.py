"""The instructor's tools: the student version of the notebooks, and nbval's cell tags.

    python -m labsock.handout student                writes student/ to hand out
    python -m labsock.handout.nbval_tags             moves NBVAL comments into cell tags

They read and write notebooks with nbformat (it comes with JupyterLab); nothing here is imported
by `import labsock` or by the notebooks.
"""

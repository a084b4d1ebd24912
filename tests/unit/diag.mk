# Unit tests of diag/ (see Makefile.am)

# Unit tests of media/ (see Makefile.am)

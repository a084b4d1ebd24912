# Unit tests of provisioning/ (see Makefile.am)

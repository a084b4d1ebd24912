# Unit tests of media/ (see Makefile.am)
check_PROGRAMS += test_media_g711 test_media_tone test_media_srtp test_media_rtp test_media_audio
TESTS += test_media_g711 test_media_tone test_media_srtp test_media_rtp test_media_audio
EXTRA_DIST += data/media/gen-srtp-kat.py
test_media_g711_SOURCES = test_media_g711.c
test_media_g711_LDADD = $(UNIT_LIBS)
test_media_tone_SOURCES = test_media_tone.c
test_media_tone_LDADD = $(UNIT_LIBS)
test_media_srtp_SOURCES = test_media_srtp.c
test_media_srtp_LDADD = $(UNIT_LIBS)
test_media_rtp_SOURCES = test_media_rtp.c
test_media_rtp_LDADD = $(UNIT_LIBS)
test_media_audio_SOURCES = test_media_audio.c
test_media_audio_LDADD = $(UNIT_LIBS)

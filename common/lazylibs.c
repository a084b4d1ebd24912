/* lazylibs.c - the tables of common/lazylibs.h. Nothing is closed again: libcurl
 * and libxml2 are opened only in job processes, libsrtp2 and ALSA stay once
 * the self-test used them (see DESIGN.md, "Resident core"). */
#include "config.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <srtp2/srtp.h>
#ifdef HAVE_ALSA
#include <alsa/asoundlib.h>
#endif
#include <stddef.h>

#define DSA_LAZY_DEFINE
#include "common/lazylibs.h"

struct lazy_curl_syms lazy_curl;
/* the names, NUL-separated, in the order of the table's slots */
static const char curl_names[] =
#define X(n) #n "\0"
	LAZY_CURL_SYMS(X)
#undef X
	;
_Static_assert(sizeof(struct lazy_curl_syms) % sizeof(void (*)(void)) == 0, "a table holds pointers only");

struct lazy_lib lazy_curl_lib = {
	.soname = "libcurl.so.4", .package = "libcurl4",
	.names = curl_names, .nsyms = sizeof(lazy_curl) / sizeof(void (*)(void)),
	.table = &lazy_curl, .table_size = sizeof(lazy_curl),
	/* opened only in job processes (fetch, upload, the self-test's probes) */
};

struct lazy_xml_syms lazy_xml;
/* the names, NUL-separated, in the order of the table's slots */
static const char xml_names[] =
#define X(n) #n "\0"
	LAZY_XML_SYMS(X)
#undef X
	;
_Static_assert(sizeof(struct lazy_xml_syms) % sizeof(void (*)(void)) == 0, "a table holds pointers only");

struct lazy_lib lazy_xml_lib = {
	.soname = "libxml2.so.2", .package = "libxml2",
	.names = xml_names, .nsyms = sizeof(lazy_xml) / sizeof(void (*)(void)),
	.table = &lazy_xml, .table_size = sizeof(lazy_xml),
};

struct lazy_srtp_syms lazy_srtp;
/* the names, NUL-separated, in the order of the table's slots */
static const char srtp_names[] =
#define X(n) #n "\0"
	LAZY_SRTP_SYMS(X)
#undef X
	;
_Static_assert(sizeof(struct lazy_srtp_syms) % sizeof(void (*)(void)) == 0, "a table holds pointers only");

struct lazy_lib lazy_srtp_lib = {
	.soname = "libsrtp2.so.1", .package = "libsrtp2-1",
	.names = srtp_names, .nsyms = sizeof(lazy_srtp) / sizeof(void (*)(void)),
	.table = &lazy_srtp, .table_size = sizeof(lazy_srtp),
	/* once the self-test used it (with NSS under it in Debian), it stays:
	 * srtp_shutdown leaves ~6.5 kB of state, lost at every dlclose */
};
#ifdef HAVE_ALSA

struct lazy_alsa_syms lazy_alsa;
/* the names, NUL-separated, in the order of the table's slots */
static const char alsa_names[] =
#define X(n) #n "\0"
	LAZY_ALSA_SYMS(X)
#undef X
	;
_Static_assert(sizeof(struct lazy_alsa_syms) % sizeof(void (*)(void)) == 0, "a table holds pointers only");

struct lazy_lib lazy_alsa_lib = {
	.soname = "libasound.so.2", .package = "libasound2",
	.names = alsa_names, .nsyms = sizeof(lazy_alsa) / sizeof(void (*)(void)),
	.table = &lazy_alsa, .table_size = sizeof(lazy_alsa),
};
#endif

static struct lazy_lib *const all[] = {
	&lazy_curl_lib, &lazy_xml_lib, &lazy_srtp_lib,
#ifdef HAVE_ALSA
	&lazy_alsa_lib,
#endif
};

/* Every slot starts at the trap. */
__attribute__((constructor)) static void lazy_traps_all(void)
{
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		lazy_traps(all[i]);
}

unsigned lazy_open_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		n += lazy_loaded(all[i]);
	return n;
}

/* lazylibs.h - libcurl, libxml2, libsrtp2 and ALSA through common/lazy.h.
 *
 * Include it after the library's own header (and after every other include):
 * each listed function then goes through a pointer of lazy_<lib>; the
 * module's entry points call lazy_need(&lazy_<lib>_lib) first. A new function of these libraries must be added to the list
 * here, else the link fails (the executable does not link the library).
 * Generated in this shape on purpose: one X-list per library.
 */
#include "common/lazy.h"

#if defined(CURLINC_CURL_H) && !defined(DSA_LAZY_CURL_H)
#define DSA_LAZY_CURL_H
#define LAZY_CURL_SYMS(X) \
	X(curl_easy_init) \
	X(curl_easy_perform) \
	X(curl_easy_cleanup) \
	X(curl_easy_setopt) \
	X(curl_easy_getinfo) \
	X(curl_easy_strerror) \
	X(curl_slist_append) \
	X(curl_slist_free_all)
struct lazy_curl_syms {
#define X(n) __typeof__(&n) n;
	LAZY_CURL_SYMS(X)
#undef X
};
extern struct lazy_curl_syms lazy_curl;
extern struct lazy_lib lazy_curl_lib;
#ifndef DSA_LAZY_DEFINE
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init (*lazy_curl.curl_easy_init)
#define curl_easy_perform (*lazy_curl.curl_easy_perform)
#define curl_easy_cleanup (*lazy_curl.curl_easy_cleanup)
#define curl_easy_setopt (*lazy_curl.curl_easy_setopt)
#define curl_easy_getinfo (*lazy_curl.curl_easy_getinfo)
#define curl_easy_strerror (*lazy_curl.curl_easy_strerror)
#define curl_slist_append (*lazy_curl.curl_slist_append)
#define curl_slist_free_all (*lazy_curl.curl_slist_free_all)
#endif
#endif

#if defined(LIBXML_DOTTED_VERSION) && !defined(DSA_LAZY_XML_H)
#define DSA_LAZY_XML_H
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#define LAZY_XML_SYMS(X) \
	X(xmlFree) \
	X(xmlDocGetRootElement) \
	X(xmlFreeDoc) \
	X(xmlGetLineNo) \
	X(xmlGetNoNsProp) \
	X(xmlReadMemory) \
	X(xmlRelaxNGFree) \
	X(xmlRelaxNGFreeParserCtxt) \
	X(xmlRelaxNGFreeValidCtxt) \
	X(xmlRelaxNGNewMemParserCtxt) \
	X(xmlRelaxNGNewValidCtxt) \
	X(xmlRelaxNGParse) \
	X(xmlRelaxNGSetParserStructuredErrors) \
	X(xmlRelaxNGSetValidStructuredErrors) \
	X(xmlRelaxNGValidateDoc) \
	X(xmlSetStructuredErrorFunc)
struct lazy_xml_syms {
#define X(n) __typeof__(&n) n;
	LAZY_XML_SYMS(X)
#undef X
};
extern struct lazy_xml_syms lazy_xml;
extern struct lazy_lib lazy_xml_lib;
#ifndef DSA_LAZY_DEFINE
#undef xmlFree
#define xmlFree (*lazy_xml.xmlFree)
#define xmlDocGetRootElement (*lazy_xml.xmlDocGetRootElement)
#define xmlFreeDoc (*lazy_xml.xmlFreeDoc)
#define xmlGetLineNo (*lazy_xml.xmlGetLineNo)
#define xmlGetNoNsProp (*lazy_xml.xmlGetNoNsProp)
#define xmlReadMemory (*lazy_xml.xmlReadMemory)
#define xmlRelaxNGFree (*lazy_xml.xmlRelaxNGFree)
#define xmlRelaxNGFreeParserCtxt (*lazy_xml.xmlRelaxNGFreeParserCtxt)
#define xmlRelaxNGFreeValidCtxt (*lazy_xml.xmlRelaxNGFreeValidCtxt)
#define xmlRelaxNGNewMemParserCtxt (*lazy_xml.xmlRelaxNGNewMemParserCtxt)
#define xmlRelaxNGNewValidCtxt (*lazy_xml.xmlRelaxNGNewValidCtxt)
#define xmlRelaxNGParse (*lazy_xml.xmlRelaxNGParse)
#define xmlRelaxNGSetParserStructuredErrors (*lazy_xml.xmlRelaxNGSetParserStructuredErrors)
#define xmlRelaxNGSetValidStructuredErrors (*lazy_xml.xmlRelaxNGSetValidStructuredErrors)
#define xmlRelaxNGValidateDoc (*lazy_xml.xmlRelaxNGValidateDoc)
#define xmlSetStructuredErrorFunc (*lazy_xml.xmlSetStructuredErrorFunc)
#endif
#endif

#if defined(SRTP_SRTP_H) && !defined(DSA_LAZY_SRTP_H)
#define DSA_LAZY_SRTP_H
#define LAZY_SRTP_SYMS(X) \
	X(srtp_init) \
	X(srtp_create) \
	X(srtp_dealloc) \
	X(srtp_protect) \
	X(srtp_unprotect) \
	X(srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32) \
	X(srtp_crypto_policy_set_rtp_default) \
	X(srtp_crypto_policy_set_aes_gcm_128_16_auth)
struct lazy_srtp_syms {
#define X(n) __typeof__(&n) n;
	LAZY_SRTP_SYMS(X)
#undef X
};
extern struct lazy_srtp_syms lazy_srtp;
extern struct lazy_lib lazy_srtp_lib;
#ifndef DSA_LAZY_DEFINE
#define srtp_init (*lazy_srtp.srtp_init)
#define srtp_create (*lazy_srtp.srtp_create)
#define srtp_dealloc (*lazy_srtp.srtp_dealloc)
#define srtp_protect (*lazy_srtp.srtp_protect)
#define srtp_unprotect (*lazy_srtp.srtp_unprotect)
#define srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32 (*lazy_srtp.srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32)
#define srtp_crypto_policy_set_rtp_default (*lazy_srtp.srtp_crypto_policy_set_rtp_default)
#define srtp_crypto_policy_set_aes_gcm_128_16_auth (*lazy_srtp.srtp_crypto_policy_set_aes_gcm_128_16_auth)
#endif
#endif

#if defined(__ASOUNDLIB_H) && !defined(DSA_LAZY_ALSA_H)
#define DSA_LAZY_ALSA_H
#define LAZY_ALSA_SYMS(X) \
	X(snd_config_delete) \
	X(snd_config_load) \
	X(snd_config_top) \
	X(snd_input_close) \
	X(snd_input_stdio_open) \
	X(snd_lib_error_set_handler) \
	X(snd_pcm_avail_update) \
	X(snd_pcm_close) \
	X(snd_pcm_drop) \
	X(snd_pcm_open) \
	X(snd_pcm_open_lconf) \
	X(snd_pcm_prepare) \
	X(snd_pcm_readi) \
	X(snd_pcm_set_params) \
	X(snd_pcm_start) \
	X(snd_pcm_writei) \
	X(snd_strerror)
struct lazy_alsa_syms {
#define X(n) __typeof__(&n) n;
	LAZY_ALSA_SYMS(X)
#undef X
};
extern struct lazy_alsa_syms lazy_alsa;
extern struct lazy_lib lazy_alsa_lib;
#ifndef DSA_LAZY_DEFINE
#define snd_config_delete (*lazy_alsa.snd_config_delete)
#define snd_config_load (*lazy_alsa.snd_config_load)
#define snd_config_top (*lazy_alsa.snd_config_top)
#define snd_input_close (*lazy_alsa.snd_input_close)
#define snd_input_stdio_open (*lazy_alsa.snd_input_stdio_open)
#define snd_lib_error_set_handler (*lazy_alsa.snd_lib_error_set_handler)
#define snd_pcm_avail_update (*lazy_alsa.snd_pcm_avail_update)
#define snd_pcm_close (*lazy_alsa.snd_pcm_close)
#define snd_pcm_drop (*lazy_alsa.snd_pcm_drop)
#define snd_pcm_open (*lazy_alsa.snd_pcm_open)
#define snd_pcm_open_lconf (*lazy_alsa.snd_pcm_open_lconf)
#define snd_pcm_prepare (*lazy_alsa.snd_pcm_prepare)
#define snd_pcm_readi (*lazy_alsa.snd_pcm_readi)
#define snd_pcm_set_params (*lazy_alsa.snd_pcm_set_params)
#define snd_pcm_start (*lazy_alsa.snd_pcm_start)
#define snd_pcm_writei (*lazy_alsa.snd_pcm_writei)
#define snd_strerror (*lazy_alsa.snd_strerror)
#endif
#endif

/* bench_sip.c - cost of the agent's checked SIP parsing against bare libosip2.
 *
 * The peer is libosip2's own osip_message_parse on the same bytes, in the
 * same process and run: the ratio says what the sanity checks, null checks
 * and field extraction of sip_msg_parse cost on top of the library.
 * Prints one line; never fails on a time.
 */
#include "config.h"

#include <osipparser2/osip_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sip/msg.h"

static const char reply[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 192.168.50.122:5060;branch=z9hG4bK-5a1f9c0e;rport=52252;received=203.0.113.2\r\n"
	"From: <sip:1001@dialstack.ai>;tag=8d1b2c3e\r\n"
	"To: <sip:1001@dialstack.ai>;tag=1f2e3d4c5b6a\r\n"
	"Call-ID: 3c4d5e6f7a8b9c0d@192.168.50.122\r\n"
	"CSeq: 4539 REGISTER\r\n"
	"Contact: <sip:1001@192.168.50.122:5060;ob>;expires=3600;+sip.instance=\"<urn:uuid:02516bdc-db5c-5913-87cb-69cbd35b242e>\";reg-id=1\r\n"
	"Server: kamailio (5.6.3 (x86_64/linux))\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000, i;
	size_t len = sizeof(reply) - 1;
	double t0, ours, peer;

	parser_init();
	t0 = now();
	for (i = 0; i < n; i++) {
		struct sip_msg m;
		const char *why;

		if (sip_msg_parse(reply, len, false, &m, &why) < 0) {
			fprintf(stderr, "bench_sip: our parser refused the sample: %s\n", why);
			return 1;
		}
		sip_msg_free(&m);
	}
	ours = now() - t0;
	t0 = now();
	for (i = 0; i < n; i++) {
		osip_message_t *m;

		if (osip_message_init(&m) != 0 || osip_message_parse(m, reply, len) != 0) {
			fprintf(stderr, "bench_sip: libosip2 refused the sample\n");
			return 1;
		}
		osip_message_free(m);
	}
	peer = now() - t0;
	printf("sip-parse: %d REGISTER replies: agent %.2f us/msg, libosip2 alone %.2f us/msg, ratio %.2f\n",
	       n, ours * 1e6 / n, peer * 1e6 / n, ours / peer);
	return 0;
}

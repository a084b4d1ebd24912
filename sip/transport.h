/* transport.h - SIP signalling transports on the event loop: UDP, TCP, TLS.
 *
 * One struct sip_tp is one flow to one registrar address. Sockets are
 * non-blocking and marked with the signalling DSCP (sys_set_dscp). Streams
 * are framed by Content-Length with the caps of msg.h; TLS verifies the
 * registrar's certificate against the provisioned CA bundle, checks the host
 * name and sends SNI. Keepalives (RFC 5626): CRLFCRLF ping / CRLF pong on
 * TCP/TLS; on UDP a STUN binding request (RFC 5389) whose answer gives the
 * public mapping (common/stun.h), or CRLFCRLF when the registrar does not answer STUN.
 */
#ifndef DSA_SIP_TRANSPORT_H
#define DSA_SIP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum sip_tp_kind { SIP_TP_UDP = 0, SIP_TP_TCP, SIP_TP_TLS };

struct sip_tp;

struct sip_tp_cbs {
	/* the flow is up (streams: connected and, for TLS, verified); UDP: at once */
	void (*up)(struct sip_tp *tp, void *arg);
	/* one whole SIP message; from is its source address */
	void (*msg)(struct sip_tp *tp, const char *buf, size_t len,
		    const struct sockaddr_storage *from, void *arg);
	/* a keepalive answer: CRLF pong, or a STUN binding response with the mapped address */
	void (*pong)(struct sip_tp *tp, const struct sockaddr_storage *mapped, void *arg);
	/* the flow failed (err negative errno, why in words); the transport is dead, close it */
	void (*error)(struct sip_tp *tp, int err, const char *why, void *arg);
};

struct sip_tp_opts {
	enum sip_tp_kind kind;
	struct sockaddr_storage peer;   /* registrar address and port */
	const char *host;               /* registrar name, for TLS SNI and certificate check */
	const char *ca_file;            /* TLS: PEM bundle of the provisioned CA (required) */
	int dscp;                       /* DSCP for every packet (0-63) */
	int connect_timeout_ms;         /* streams: give up connecting after this (default 10 s) */
	int local_port;                 /* UDP: bind to this port when free (keeps one source port
					   across attempts, like a phone on 5060); 0: any */
};

/* Open a flow; callbacks start once the loop runs. 0 or -errno. */
int sip_tp_open(const struct sip_tp_opts *o, const struct sip_tp_cbs *cbs, void *arg,
		struct sip_tp **out);

/* Close the flow and free it (safe from inside its own callbacks: freed later). */
void sip_tp_close(struct sip_tp *tp);

/* Send one message (queued on streams until connected). 0 or -errno. */
int sip_tp_send(struct sip_tp *tp, const char *buf, size_t len);

/* Send one message to a given address on UDP (a response goes back to the
 * request's source); streams ignore to and use the connection. 0 or -errno. */
int sip_tp_send_to(struct sip_tp *tp, const char *buf, size_t len, const struct sockaddr_storage *to);

/* Send a keepalive: CRLFCRLF on streams; on UDP a STUN binding request
 * (stun=true) or CRLFCRLF. 0 or -errno. */
int sip_tp_ping(struct sip_tp *tp, bool stun);

/* Our local address of the flow as text and port. 0 or -errno. */
int sip_tp_local(const struct sip_tp *tp, char *host, size_t size, int *port);

/* Whether the flow is up (connected and verified). */
bool sip_tp_is_up(const struct sip_tp *tp);

/* The transport's kind. */
enum sip_tp_kind sip_tp_kind_of(const struct sip_tp *tp);

/* "UDP", "TCP", "TLS". */
const char *sip_tp_name(enum sip_tp_kind kind);

/* Whether two addresses are equal (family, address, port). */
bool sip_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* Format an address as "ip:port" ("[v6]:port"). */
void sip_sockaddr_str(const struct sockaddr_storage *a, char *buf, size_t size);

#endif

/* bootstrap.h - the device's bootstrap settings (/etc/dialstack-agent/bootstrap.conf).
 *
 * What the phone knows before it has a configuration: its identity (client
 * certificate and key, MAC, model), whom to trust (CA bundle, optional key
 * pin), which interface to use, and optionally the provisioning server.
 * Format: "key = value" lines, '#' comments. Parsing is pure (no I/O) and
 * every error names file:line, the key and what is allowed.
 */
#ifndef DSA_AGENT_BOOTSTRAP_H
#define DSA_AGENT_BOOTSTRAP_H

#include <stddef.h>
#include <stdio.h>

#define BST_PATH_MAX 256

struct bst_config {
	char server[BST_PATH_MAX];     /* provisioning URL; empty: DHCP, then the default */
	char ca[BST_PATH_MAX];         /* CA bundle for the provisioning server and SIP TLS */
	char cert[BST_PATH_MAX];       /* device certificate (mutual TLS identity) */
	char key[BST_PATH_MAX];        /* its private key (0600) */
	char pin[BST_PATH_MAX];        /* optional curl public-key pin "sha256//..." */
	char iface[32];                /* network interface; empty: the default route's */
	char mac[18];                  /* aa:bb:cc:dd:ee:ff; empty: the interface's */
	char model[64];                /* phone model for User-Agent and status */
	char dhcp_url_file[BST_PATH_MAX]; /* where the DHCP hook writes option 66/160 */
	unsigned boot_delay_max;       /* s; random first-contact delay 0..this */
};

/* Fill c with the defaults (paths under sysconfdir and runstatedir). */
void bst_defaults(struct bst_config *c);

/* Parse text (len bytes) named `name` into c; errors, one a line, go to err.
 * Returns the number of errors (0: c is complete and valid). */
int bst_parse(const char *text, size_t len, const char *name, struct bst_config *c, FILE *err);

/* Read and parse a file; a missing file is not an error (defaults stay).
 * Returns the number of errors, or -1 when the file exists but cannot be read. */
int bst_load(const char *path, struct bst_config *c, FILE *err);

/* Whether s is a well-formed MAC address "aa:bb:cc:dd:ee:ff" (either case). */
int bst_mac_valid(const char *s);

/* The MAC as 12 lowercase hex digits (out: 13 bytes) for file names. */
void bst_mac_hex(const char *mac, char *out);

#endif

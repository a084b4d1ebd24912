/* report.c - rendering and keeping the self-test report. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "diag/report.h"
#include "diag/runner.h"

/* Short tokens for the summary, by check. */
static const char tokens[DIAG_C_COUNT][6] = {
	[DIAG_C_LINK] = "link", [DIAG_C_ADDRESS] = "addr", [DIAG_C_CLOCK] = "clock",
	[DIAG_C_DNS] = "dns", [DIAG_C_HTTPS] = "https", [DIAG_C_EAST_UDP] = "eu",
	[DIAG_C_EAST_TCP] = "et", [DIAG_C_EAST_TLS] = "es", [DIAG_C_WEST_UDP] = "wu",
	[DIAG_C_WEST_TCP] = "wt", [DIAG_C_WEST_TLS] = "ws", [DIAG_C_RTP_PORTS] = "rtp",
	[DIAG_C_NAT] = "nat", [DIAG_C_SIP_ALG] = "alg", [DIAG_C_VOICE] = "voice",
	[DIAG_C_DSCP] = "dscp", [DIAG_C_MTU] = "mtu", [DIAG_C_UDP_LIFETIME] = "udpto",
	[DIAG_C_CALL] = "call", [DIAG_C_AUDIO] = "audio", [DIAG_C_SRTP] = "srtp",
	[DIAG_C_FAMILY] = "fam",
};

void diag_report_compute(struct diag_report *rep)
{
	enum diag_verdict v = DIAG_SKIP;

	for (int i = 0; i < DIAG_C_COUNT; i++)
		if (rep->present[i] && rep->results[i].done)
			v = diag_verdict_worst(v, rep->results[i].verdict);
	rep->overall = v == DIAG_SKIP ? DIAG_PASS : v;
}

const char *diag_result_value(const struct diag_result *r, const char *name)
{
	for (unsigned i = 0; i < r->nvalues; i++)
		if (!strcmp(r->values[i].name, name))
			return r->values[i].value;
	return NULL;
}

static const char *lower_verdict(enum diag_verdict v)
{
	static const char n[][13] = { "pass", "warn", "fail", "skip", "inconclusive" };   /* no pointers */

	return n[v];
}

/* Written by hand (common/util.h utl_xml_put: text escaped, printable ASCII
 * only, as values may come from servers): no libxml2 in the agent. */
int diag_report_xml(const struct diag_report *rep, char **out, size_t *len)
{
	char ts[32], sum[DIAG_SUMMARY_MAX];
	struct tm tm;
	size_t n;
	FILE *f = open_memstream(out, &n);

	if (!f)
		return -ENOMEM;
	gmtime_r(&rep->started, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (diag_report_summary(rep, sum, sizeof(sum)) < 0)
		sum[0] = '\0';
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<selftest xmlns=\"" DIAG_REPORT_NS
		"\" version=\"1\" run=\"%llu\" started=\"%s\" duration-ms=\"%llu\" verdict=\"%s\" complete=\"%s\">\n",
		(unsigned long long)rep->run_id, ts, (unsigned long long)rep->duration_ms,
		diag_verdict_name(rep->overall), rep->complete ? "true" : "false");
	utl_xml_put(f, " <summary>", sum, "</summary>\n");
	for (int i = 0; i < DIAG_C_COUNT; i++) {
		const struct diag_result *r = &rep->results[i];

		if (!rep->present[i])
			continue;
		utl_xml_put(f, " <check id=\"", r->id ? r->id : diag_check_id_name((enum diag_check_id)i), "\"");
		utl_xml_put(f, " title=\"", r->title, "\"");
		fprintf(f, " verdict=\"%s\" duration-ms=\"%llu\"%s>\n", r->done ? diag_verdict_name(r->verdict) : "PENDING",
			(unsigned long long)r->duration_ms, r->background ? " background=\"true\"" : "");
		for (unsigned v = 0; v < r->nvalues; v++) {
			const struct diag_value *dv = &r->values[v];

			utl_xml_put(f, "  <value name=\"", dv->name, "\"");
			if (dv->unit[0])
				utl_xml_put(f, " unit=\"", dv->unit, "\"");
			utl_xml_put(f, ">", dv->value, "</value>\n");
		}
		if (r->threshold[0])
			utl_xml_put(f, "  <threshold>", r->threshold, "</threshold>\n");
		utl_xml_put(f, "  <advice>", r->advice, "</advice>\n </check>\n");
	}
	fputs("</selftest>\n", f);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	if (len)
		*len = n;
	return 0;
}

static int append(char *buf, size_t cap, size_t *pos, const char *fmt, ...) DSA_PRINTF(4, 5);
static int append(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *pos) {
		buf[*pos] = '\0';
		return -ENOSPC;
	}
	*pos += (size_t)n;
	return 0;
}

int diag_report_summary(const struct diag_report *rep, char *buf, size_t cap)
{
	const struct diag_result *voice = &rep->results[DIAG_C_VOICE];
	static const struct {
		char key[5], value[8];           /* inline: a pointer costs a relocation too */
	} nums[] = { { "mos", "mos" }, { "rtt", "rtt_avg" }, { "jit", "jitter" }, { "loss", "loss" } };
	static const unsigned char lists[] = { DIAG_FAIL, DIAG_WARN, DIAG_INCONCLUSIVE };
	static const char list_key[][7] = { ";fail=", ";warn=", ";inc=" };
	size_t pos = 0;

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (append(buf, cap, &pos, "v=1;r=%s", lower_verdict(rep->overall)) < 0)
		return -ENOSPC;
	if (rep->present[DIAG_C_VOICE] && voice->done && voice->verdict != DIAG_SKIP) {
		for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
			const char *v = diag_result_value(voice, nums[i].value);

			if (v && append(buf, cap, &pos, ";%s=%s", nums[i].key, v) < 0)
				return -ENOSPC;
		}
	}
	/* the test call's MOS (its verdict is in fail=/warn= like every check) */
	if (rep->present[DIAG_C_CALL] && rep->results[DIAG_C_CALL].done &&
	    rep->results[DIAG_C_CALL].verdict != DIAG_SKIP) {
		const char *cmos = diag_result_value(&rep->results[DIAG_C_CALL], "mos");

		if (cmos && append(buf, cap, &pos, ";call=%s", cmos) < 0)
			return -ENOSPC;
	}
	/* the IP family used for the platform: fam=4 / fam=6 */
	if (rep->present[DIAG_C_FAMILY] && rep->results[DIAG_C_FAMILY].done) {
		const char *fam = diag_result_value(&rep->results[DIAG_C_FAMILY], "uses");

		if (fam && (!strcmp(fam, "IPv4") || !strcmp(fam, "IPv6")) &&
		    append(buf, cap, &pos, ";fam=%c", fam[3]) < 0)
			return -ENOSPC;
	}
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		bool first = true;

		for (int i = 0; i < DIAG_C_COUNT; i++) {
			const struct diag_result *r = &rep->results[i];

			if (!rep->present[i] || !r->done || r->verdict != lists[l])
				continue;
			/* keep room: a list that would not fit is cut (the XML has everything) */
			if (pos + strlen(tokens[i]) + 8 >= cap || pos + strlen(tokens[i]) + 8 >= DIAG_SUMMARY_MAX)
				break;
			append(buf, cap, &pos, "%s%s", first ? list_key[l] : ",", tokens[i]);
			first = false;
		}
	}
	if (!rep->complete && rep->present[DIAG_C_UDP_LIFETIME])
		append(buf, cap, &pos, ";part=1");
	return (int)pos;
}

void diag_result_line(const struct diag_result *r, char *buf, size_t cap)
{
	char line[128];
	const char *v = r->done ? diag_verdict_short(r->verdict) : "....";

	snprintf(line, sizeof(line), "%-4s %-13.13s %s", v, r->title ? r->title : "", r->brief);
	line[DIAG_LINE_COLS] = '\0'; /* a phone display line */
	utl_strlcpy(buf, line, cap);
}

int diag_report_text(const struct diag_report *rep, char *buf, size_t cap)
{
	size_t pos = 0;
	char line[DIAG_LINE_COLS + 1];

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (int i = 0; i < DIAG_C_COUNT; i++) {
		if (!rep->present[i])
			continue;
		diag_result_line(&rep->results[i], line, sizeof(line));
		if (append(buf, cap, &pos, "%s\n", line) < 0)
			return -ENOSPC;
	}
	if (append(buf, cap, &pos, "%-4s %-13s %s\n", diag_verdict_short(rep->overall), "Overall",
		   rep->complete ? "" : "(lifetime pending)") < 0)
		return -ENOSPC;
	return (int)pos;
}

int diag_report_exit_status(const struct diag_report *rep)
{
	switch (rep->overall) {
	case DIAG_FAIL:
		return 2;
	case DIAG_WARN:
	case DIAG_INCONCLUSIVE:
		return 1;
	default:
		return 0;
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define KEEP_MAX 64

int diag_report_save(const struct diag_report *rep, const char *dir, unsigned keep)
{
	char path[512], *xml = NULL, *names[KEEP_MAX * 2];
	size_t len, n = 0;
	struct dirent *de;
	DIR *d = NULL;
	int err;

	if (keep == 0 || keep > KEEP_MAX)
		return -EINVAL;
	if ((err = utl_mkdir_p(dir, 0755)) < 0)
		return err;
	if ((err = diag_report_xml(rep, &xml, &len)) < 0)
		return err;
	snprintf(path, sizeof(path), "%s/selftest-%010lld-%06llu.xml", dir, (long long)rep->started,
		 (unsigned long long)rep->run_id);
	if ((err = utl_write_atomic(path, xml, len, 0644)) < 0)
		goto out;
	d = opendir(dir);
	if (!d) {
		err = -errno;
		goto out;
	}
	while ((de = readdir(d)) && n < ARRAY_SIZE(names)) {
		size_t l = strlen(de->d_name);

		if (strncmp(de->d_name, "selftest-", 9) || l < 4 || strcmp(de->d_name + l - 4, ".xml"))
			continue;
		if (!(names[n] = strdup(de->d_name))) {
			err = -ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i + keep < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	err = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	if (d)
		closedir(d);
	free(xml);
	return err;
}

/* fuzz_job.c - the answers of job processes (common/job.c), which the agent
 * treats as untrusted: job_decode on the bytes as they arrive (every prefix,
 * as the agent's reader sees them), then what the agent does with a decoded
 * answer: the numbers of an HTTP answer, the struct of a config check
 * (cfg_sane), the SRTP check's result (diag_srtp_take: what it takes must
 * fit struct diag_result). A decoded message must lie inside the input,
 * every field end in its NUL ('u': 4 bytes), and encode back to the same
 * bytes.
 * Byte 0 is the chunk size of the arrival (1-256), the rest the stream. */
#include "config.h"

#include <errno.h>

#include "fuzz.h"
#include "common/job.h"
#include "diag/runner.h"
#include "provisioning/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t len, step, n, used = 0;
	struct job_msg m;
	struct job_buf b = { 0 };
	int r = -EAGAIN;

	if (size < 1)
		return 0;
	len = size - 1;
	step = (size_t)data[0] + 1;
	/* as the reader: more bytes until a message, a refusal or the end */
	for (n = step < len ? step : len; ; n = n + step < len ? n + step : len) {
		r = job_decode(p, n, &m, &used);
		if (r != -EAGAIN || n == len)
			break;
	}
	if (r < 0) {
		if (r != -EAGAIN && r != -EBADMSG && r != -EPROTO)
			abort();
		return 0;
	}
	if (used > n || m.type == 0 || m.type >= JOB_NTYPES || m.n > JOB_MAX_FIELDS)
		abort();
	for (unsigned i = 0; i < m.n; i++) {
		const struct job_field *f = &m.f[i];

		if (f->p < p || f->p + f->len > p + used || (f->len != 4 && (!f->len || f->p[f->len - 1])))
			abort();
	}
	/* what the agent reads from an answer */
	if (m.type == JOB_HTTP_REPLY)
		(void)(job_u32(&m, 0) + job_u32(&m, 1) + job_u32(&m, 2) + job_u32(&m, 6) + job_u32(&m, 7));
	if (m.type == JOB_PARSE_REPLY && m.f[3].len == sizeof(struct cfg_config) + 1) {
		static struct cfg_config c;

		memcpy(&c, m.f[3].p, sizeof(c));
		(void)cfg_sane(&c);
	}
	if (m.type == JOB_SRTP_REPLY) {
		static struct diag_result res;

		memset(&res, 0, sizeof(res));
		if (diag_srtp_take(&res, &m) == 0) {
			if (res.verdict > DIAG_INCONCLUSIVE || res.nvalues > DIAG_MAX_VALUES ||
			    strnlen(res.brief, sizeof(res.brief)) == sizeof(res.brief) ||
			    strnlen(res.advice, sizeof(res.advice)) == sizeof(res.advice))
				abort();
			for (unsigned i = 0; i < res.nvalues; i++) {
				const struct diag_value *v = &res.values[i];

				if (strnlen(v->name, sizeof(v->name)) == sizeof(v->name) ||
				    strnlen(v->value, sizeof(v->value)) == sizeof(v->value) ||
				    strnlen(v->unit, sizeof(v->unit)) == sizeof(v->unit))
					abort();
			}
		}
	}
	/* the same message, encoded again: the same bytes (a 4-byte field with a
	 * last byte not NUL can only be a 'u'; any other field re-encodes as bytes) */
	job_begin(&b, m.type);
	for (unsigned i = 0; i < m.n; i++) {
		if (m.f[i].len == 4 && m.f[i].p[3])
			job_put_u32(&b, job_u32(&m, i));
		else
			job_put(&b, m.f[i].p, m.f[i].len - 1);
	}
	if (job_end(&b) != 0 || b.len != used || memcmp(b.p, p, used) != 0)
		abort();
	job_buf_free(&b);
	return 0;
}

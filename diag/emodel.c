/* emodel.c - simplified ITU-T G.107 E-model (pure arithmetic). */
#include "config.h"

#include "diag/emodel.h"

#define JB_MIN_MS 20.0

const struct emodel_codec emodel_g711_plc = { "PCMU/PCMA (G.711, PLC)", 0.0, 25.1, 20.0 };

double emodel_delay_ms(double rtt_ms, double jitter_ms, double frame_ms)
{
	double jb = 2.0 * jitter_ms;

	if (jb < JB_MIN_MS)
		jb = JB_MIN_MS;
	if (rtt_ms < 0)
		rtt_ms = 0;
	return rtt_ms / 2.0 + jb + frame_ms;
}

double emodel_id(double d)
{
	double id = 0.024 * d;

	if (d > 177.3)
		id += 0.11 * (d - 177.3);
	return id;
}

double emodel_ie_eff(double ie, double bpl, double ppl, double burstr)
{
	if (ppl <= 0)
		return ie;
	if (burstr <= 0)
		burstr = 1.0;
	return ie + (95.0 - ie) * ppl / (ppl / burstr + bpl);
}

double emodel_r(double id, double ie_eff)
{
	return 93.2 - id - ie_eff;
}

double emodel_mos_from_r(double r)
{
	if (r <= 0)
		return 1.0;
	if (r >= 100)
		return 4.5;
	return 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r);
}

double emodel_mos(const struct emodel_codec *c, double rtt_ms, double jitter_ms,
		  double loss_pct, double burstr, double *r_out)
{
	double d = emodel_delay_ms(rtt_ms, jitter_ms, c->frame_ms);
	double r = emodel_r(emodel_id(d), emodel_ie_eff(c->ie, c->bpl, loss_pct, burstr));

	if (r_out)
		*r_out = r;
	return emodel_mos_from_r(r);
}

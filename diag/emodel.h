/* emodel.h - ITU-T G.107 E-model, simplified as in the field notes (pure arithmetic).
 *
 *   R = 93.2 - Id - Ie_eff
 *   Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)       d: one-way mouth-to-ear delay, ms
 *   Ie_eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)   Ppl: packet loss, %
 *   MOS = 1 + 0.035 R + 7e-6 R (R - 60)(100 - R)         (1 for R <= 0, 4.5 for R >= 100)
 *
 * Delay model (emodel_delay_ms): d = RTT/2 + jitter buffer + packetisation, with
 * the jitter buffer sized at twice the measured jitter but never below 20 ms (a
 * desk phone's smallest adaptive buffer), and packetisation one frame (20 ms for
 * G.711 at 20 ms ptime; G.711 has no look-ahead). This reproduces the field notes'
 * references: RTT 100 / jitter 20 / loss 0.5 % gives MOS 4.31, 150 / 30 / 1 % gives 4.22.
 */
#ifndef DSA_DIAG_EMODEL_H
#define DSA_DIAG_EMODEL_H

struct emodel_codec {
	const char *name;
	double ie;        /* equipment impairment factor */
	double bpl;       /* packet-loss robustness factor */
	double frame_ms;  /* packetisation delay */
};

/* G.711 with packet-loss concealment: Ie 0, Bpl 25.1, 20 ms frames. */
extern const struct emodel_codec emodel_g711_plc;

/* One-way delay in ms from RTT, interarrival jitter and the frame length (model above). */
double emodel_delay_ms(double rtt_ms, double jitter_ms, double frame_ms);

/* Delay impairment Id for one-way delay d (ms). */
double emodel_id(double d_ms);

/* Effective equipment impairment for loss ppl (%) with burst ratio burstr (1 = random). */
double emodel_ie_eff(double ie, double bpl, double ppl_pct, double burstr);

/* Rating factor R = 93.2 - Id - Ie_eff. */
double emodel_r(double id, double ie_eff);

/* MOS (1-4.5) from R. */
double emodel_mos_from_r(double r);

/* MOS for codec c from measured RTT, jitter (ms), loss (%) and burst ratio; r_out optional. */
double emodel_mos(const struct emodel_codec *c, double rtt_ms, double jitter_ms,
		  double loss_pct, double burstr, double *r_out);

#endif

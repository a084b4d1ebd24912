/* g711.h - ITU-T G.711 PCMU (mu-law) and PCMA (A-law), pure functions.
 *
 * Linear samples are 16-bit signed; the codecs carry 14 (mu-law) or 13
 * (A-law) significant bits, so the low bits are quantised away.
 */
#ifndef DSA_MEDIA_G711_H
#define DSA_MEDIA_G711_H

#include <stddef.h>
#include <stdint.h>

enum g711_law {
	G711_ULAW = 0,          /* PCMU, RTP payload type 0 */
	G711_ALAW = 8,          /* PCMA, RTP payload type 8 */
};

/* One 16-bit linear sample to a mu-law byte (0 -> 0xFF). */
uint8_t g711_ulaw_encode(int16_t pcm);

/* One mu-law byte to a 16-bit linear sample. */
int16_t g711_ulaw_decode(uint8_t code);

/* One 16-bit linear sample to an A-law byte (0 -> 0xD5). */
uint8_t g711_alaw_encode(int16_t pcm);

/* One A-law byte to a 16-bit linear sample. */
int16_t g711_alaw_decode(uint8_t code);

/* Encode n samples with law into out (n bytes). */
void g711_encode(enum g711_law law, const int16_t *pcm, size_t n, uint8_t *out);

/* Decode n bytes with law into out (n samples). */
void g711_decode(enum g711_law law, const uint8_t *in, size_t n, int16_t *out);

/* The law for an RTP payload type (0 or 8); -EINVAL for any other. */
int g711_law_from_pt(int pt, enum g711_law *law);

#endif

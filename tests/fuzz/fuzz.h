/* fuzz.h - shared helpers of the libFuzzer targets (tests/fuzz, docs/fuzzing.md). */
#ifndef DSA_FUZZ_H
#define DSA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data with a NUL after it (as utl_read_file gives a file). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split data at the first "\n----\n" into two parts (b empty when absent). */
static inline void fuzz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *alen,
			      const uint8_t **b, size_t *blen)
{
	static const char sep[] = "\n----\n";
	size_t sl = sizeof(sep) - 1;

	*a = data;
	*alen = size;
	*b = data + size;
	*blen = 0;
	for (size_t i = 0; i + sl <= size; i++) {
		if (!memcmp(data + i, sep, sl)) {
			*alen = i;
			*b = data + i + sl;
			*blen = size - i - sl;
			return;
		}
	}
}

#endif

#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "ckiln_support.h"

#if defined(__x86_64__)
#include <immintrin.h>

void ckiln_stream_floats(float *destination, const float *source, size_t count) {
    // Plain stores up to a 16-byte boundary, then non-temporal 16-byte stores, then the tail.
    while (count > 0 && ((uintptr_t)destination & 15) != 0) {
        *destination++ = *source++;
        count--;
    }
    size_t vectors = count / 4;
    for (size_t i = 0; i < vectors; i++) _mm_stream_ps(destination + 4 * i, _mm_loadu_ps(source + 4 * i));
    for (size_t i = vectors * 4; i < count; i++) destination[i] = source[i];
}

void ckiln_stream_fence(void) { _mm_sfence(); }

#else
void ckiln_stream_floats(float *destination, const float *source, size_t count) {
    memcpy(destination, source, count * sizeof(float));
}

void ckiln_stream_fence(void) {}

#endif

void ckiln_advise_huge_pages(void *address, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(address, bytes, MADV_HUGEPAGE);
#else
    (void)address;
    (void)bytes;
#endif
}

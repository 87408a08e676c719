// Byte table lookups: AVX-512 VBMI has a 128-entry byte permute (two of them cover 256 entries),
// which Swift cannot ask for.
#include "ckiln_support.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw,avx512vbmi,bmi2")))
static void lookup_vbmi(const uint8_t *source, uint8_t *target, size_t count, const uint8_t *table) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    size_t i = 0;
    for (; i + 64 <= count; i += 64) {
        const __m512i x = _mm512_loadu_si512(source + i);
        // Index bits 0-6 pick among 128 entries; bit 7 (the sign) picks the upper half.
        const __m512i low = _mm512_permutex2var_epi8(t0, x, t1), high = _mm512_permutex2var_epi8(t2, x, t3);
        _mm512_storeu_si512(target + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), low, high));
    }
    if (i < count) {
        const __mmask64 tail = _bzhi_u64(~0ULL, (unsigned)(count - i));
        const __m512i x = _mm512_maskz_loadu_epi8(tail, source + i);
        const __m512i low = _mm512_permutex2var_epi8(t0, x, t1), high = _mm512_permutex2var_epi8(t2, x, t3);
        _mm512_mask_storeu_epi8(target + i, tail, _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), low, high));
    }
}
#endif

int32_t ckiln_lookup_is_vectorised(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2");
#else
    return 0;
#endif
}

void ckiln_lookup_bytes(const uint8_t *source, uint8_t *target, size_t count, const uint8_t *table) {
#if defined(__x86_64__)
    if (ckiln_lookup_is_vectorised()) {
        lookup_vbmi(source, target, count, table);
        return;
    }
#endif
    for (size_t i = 0; i < count; i++) target[i] = table[source[i]];
}

// Copies bytes and marks where either of two byte values occurs: the CSV tokenizer's search
// for field ends (delimiters and line feeds), 64 bytes a step with AVX-512BW mask compares.
#include "ckiln_support.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw,bmi2")))
static void copy_marking_avx512(const uint8_t *source, uint8_t *target, size_t count, uint8_t first, uint8_t second,
                                uint64_t *marks) {
    const __m512i a = _mm512_set1_epi8((char)first), b = _mm512_set1_epi8((char)second);
    size_t i = 0, word = 0;
    for (; i + 64 <= count; i += 64, word++) {
        const __m512i x = _mm512_loadu_si512(source + i);
        _mm512_storeu_si512(target + i, x);
        marks[word] = _mm512_cmpeq_epi8_mask(x, a) | _mm512_cmpeq_epi8_mask(x, b);
    }
    if (i < count) {
        // The lanes past the end load as zeros, which must not count as a match of a zero byte.
        const __mmask64 tail = _bzhi_u64(~0ULL, (unsigned)(count - i));
        const __m512i x = _mm512_maskz_loadu_epi8(tail, source + i);
        _mm512_mask_storeu_epi8(target + i, tail, x);
        marks[word] = (_mm512_cmpeq_epi8_mask(x, a) | _mm512_cmpeq_epi8_mask(x, b)) & tail;
    }
}
#endif

int32_t ckiln_byte_marks_are_vectorised(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2");
#else
    return 0;
#endif
}

void ckiln_copy_marking_bytes(const uint8_t *source, uint8_t *target, size_t count, uint8_t first, uint8_t second,
                              uint64_t *marks) {
#if defined(__x86_64__)
    if (ckiln_byte_marks_are_vectorised()) {
        copy_marking_avx512(source, target, count, first, second, marks);
        return;
    }
#endif
    memcpy(target, source, count);
    memset(marks, 0, (count + 63) / 64 * sizeof(uint64_t));
    for (size_t i = 0; i < count; i++) {
        if (source[i] == first || source[i] == second) marks[i / 64] |= 1ULL << (i % 64);
    }
}

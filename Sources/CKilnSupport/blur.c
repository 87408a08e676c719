// OpenCV's bit-exact 8-bit Gaussian blur arithmetic (GaussianBlurFixedPoint): a kernel of 8-bit
// fractions summing to 256, rows summed in 16 bits (exact: at most 255 · 256), columns in 32 bits
// (here exact float sums: below 2^24), rounded as (sum + 2^15) >> 16.
#include "ckiln_support.h"

static void blur_row_scalar(const uint8_t *padded, size_t count, size_t step, const uint16_t *kernel, size_t taps,
                            float *out) {
    for (size_t i = 0; i < count; i++) {
        uint32_t sum = 0;
        for (size_t t = 0; t < taps; t++) sum += (uint32_t)kernel[t] * padded[i + t * step];
        out[i] = (float)sum;
    }
}

static void blur_narrow_scalar(const float *sums, size_t count, uint8_t *out) {
    for (size_t i = 0; i < count; i++) {
        const uint32_t level = ((uint32_t)sums[i] + (1u << 15)) >> 16;
        out[i] = (uint8_t)(level > 255 ? 255 : level);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw,avx512vl,bmi2"))) static inline void blur32(const uint8_t *source, __mmask32 lanes,
                                                                          size_t step, const uint16_t *kernel,
                                                                          size_t taps, float *out) {
    __m512i sum = _mm512_setzero_si512();
    for (size_t t = 0; t < taps; t++) {
        const __m512i bytes = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(lanes, source + t * step));
        sum = _mm512_add_epi16(sum, _mm512_mullo_epi16(bytes, _mm512_set1_epi16((short)kernel[t])));
    }
    const __m512 low = _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(sum)));
    const __m512 high = _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(sum, 1)));
    _mm512_mask_storeu_ps(out, (__mmask16)lanes, low);
    _mm512_mask_storeu_ps(out + 16, (__mmask16)(lanes >> 16), high);
}

__attribute__((target("avx512f,avx512bw,avx512vl,bmi2"))) static void blur_row_avx512(const uint8_t *padded, size_t count,
                                                                             size_t step, const uint16_t *kernel,
                                                                             size_t taps, float *out) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) blur32(padded + i, 0xFFFFFFFFu, step, kernel, taps, out + i);
    if (i < count) blur32(padded + i, (__mmask32)_bzhi_u32(0xFFFFFFFFu, (unsigned)(count - i)), step, kernel, taps, out + i);
}

__attribute__((target("avx512f,avx512bw,avx512vl,bmi2"))) static void blur_narrow_avx512(const float *sums, size_t count,
                                                                                uint8_t *out) {
    const __m512i half = _mm512_set1_epi32(1 << 15);
    size_t i = 0;
    for (; i < count; i += 16) {
        const __mmask16 lanes = count - i >= 16 ? 0xFFFF : (__mmask16)_bzhi_u32(0xFFFFu, (unsigned)(count - i));
        const __m512i level = _mm512_srli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(_mm512_maskz_loadu_ps(lanes, sums + i)), half), 16);
        _mm512_mask_cvtusepi32_storeu_epi8(out + i, lanes, level);
    }
}
#endif

static int blur_is_vectorised(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2");
#else
    return 0;
#endif
}

void ckiln_blur_row(const uint8_t *padded, size_t count, size_t step, const uint16_t *kernel, size_t taps, float *out) {
#if defined(__x86_64__)
    if (blur_is_vectorised()) {
        blur_row_avx512(padded, count, step, kernel, taps, out);
        return;
    }
#endif
    blur_row_scalar(padded, count, step, kernel, taps, out);
}

void ckiln_blur_narrow(const float *sums, size_t count, uint8_t *out) {
#if defined(__x86_64__)
    if (blur_is_vectorised()) {
        blur_narrow_avx512(sums, count, out);
        return;
    }
#endif
    blur_narrow_scalar(sums, count, out);
}

void ckiln_blur_row_scalar(const uint8_t *padded, size_t count, size_t step, const uint16_t *kernel, size_t taps,
                           float *out) {
    blur_row_scalar(padded, count, step, kernel, taps, out);
}

void ckiln_blur_narrow_scalar(const float *sums, size_t count, uint8_t *out) { blur_narrow_scalar(sums, count, out); }

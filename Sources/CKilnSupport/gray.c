// RGB to gray as cv2.COLOR_RGB2GRAY computes 8-bit images (14-bit fixed point:
// (r·4899 + g·9617 + b·1868 + 8192) >> 14), the gray written to all three channels (ToGray).
#include "ckiln_support.h"

static inline uint8_t gray(const uint8_t *pixel) {
    return (uint8_t)(((uint32_t)pixel[0] * 4899 + (uint32_t)pixel[1] * 9617 + (uint32_t)pixel[2] * 1868 + 8192) >> 14);
}

#if defined(__x86_64__)
#include <immintrin.h>

/// 16 pixels (48 bytes) a step: one byte permute puts each pixel's red and green in two 16-bit
/// lanes and its blue beside a 1, two multiply-adds of 16-bit pairs give `r·4899 + g·9617` and
/// `b·1868 + 8192`, and a last permute writes each gray byte three times.
__attribute__((target("avx512f,avx512bw,avx512vbmi,bmi2")))
static void rgb_to_gray_vbmi(const uint8_t *source, uint8_t *target, size_t count) {
    uint8_t gather_index[64], spread_index[64];
    for (int j = 0; j < 16; j++) {
        // 32-bit lane j of `red_green` (below): pixel j's red and green as two 16-bit words.
        gather_index[4 * j] = (uint8_t)(3 * j);
        gather_index[4 * j + 2] = (uint8_t)(3 * j + 1);
        gather_index[4 * j + 1] = gather_index[4 * j + 3] = 0;
    }
    for (int i = 0; i < 64; i++) spread_index[i] = (uint8_t)(4 * (i / 3 < 16 ? i / 3 : 15));
    uint8_t blue_index[64];
    for (int j = 0; j < 16; j++) {
        // 32-bit lane j of `blue_one`: pixel j's blue, then the 1 that `ones` leaves above it.
        blue_index[4 * j] = (uint8_t)(3 * j + 2);
        blue_index[4 * j + 1] = blue_index[4 * j + 2] = blue_index[4 * j + 3] = 0;
    }
    const __m512i gather = _mm512_loadu_si512(gather_index), blue = _mm512_loadu_si512(blue_index);
    const __m512i spread = _mm512_loadu_si512(spread_index);
    // Only the low byte of each 16-bit lane is taken from the pixels; the rest stays as `ones`
    // (blue's partner) or zero.
    const __mmask64 low_bytes = 0x5555555555555555ULL, blue_bytes = 0x1111111111111111ULL;
    const __m512i ones = _mm512_set1_epi32(1 << 16);
    const __m512i red_green_weights = _mm512_set1_epi32(4899 | 9617 << 16), blue_weights = _mm512_set1_epi32(1868 | 8192 << 16);
    size_t i = 0;
    for (; i < count; i += 16) {
        const size_t pixels = count - i < 16 ? count - i : 16;
        const __mmask64 bytes = _bzhi_u64(~0ULL, (unsigned)(3 * pixels));
        const __m512i x = _mm512_maskz_loadu_epi8(bytes, source + 3 * i);
        const __m512i red_green = _mm512_maskz_permutexvar_epi8(low_bytes, gather, x);
        const __m512i blue_one = _mm512_mask_permutexvar_epi8(ones, blue_bytes, blue, x);
        const __m512i sum = _mm512_add_epi32(_mm512_madd_epi16(red_green, red_green_weights), _mm512_madd_epi16(blue_one, blue_weights));
        _mm512_mask_storeu_epi8(target + 3 * i, bytes, _mm512_permutexvar_epi8(spread, _mm512_srli_epi32(sum, 14)));
    }
}
#endif

void ckiln_rgb_to_gray(const uint8_t *source, uint8_t *target, size_t count) {
#if defined(__x86_64__)
    if (ckiln_lookup_is_vectorised()) {
        rgb_to_gray_vbmi(source, target, count);
        return;
    }
#endif
    for (size_t i = 0; i < count; i++) {
        const uint8_t value = gray(source + 3 * i);
        target[3 * i] = target[3 * i + 1] = target[3 * i + 2] = value;
    }
}

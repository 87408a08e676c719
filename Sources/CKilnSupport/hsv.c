// HueSaturationValue on packed RGB: into HSV as cv2.COLOR_RGB2HSV computes 8-bit images (12-bit
// fixed point; its division tables as rounded float divisions, equal to the tables for every
// level: no quotient is within float error of a half), the shifts in float, back with
// cv2.COLOR_HSV2RGB's sector formula in float. 16 pixels a step with AVX-512 VBMI, without
// branches or table lookups (what `Color.hueSaturationValue`'s per-pixel path looks up is
// computed, with the same float operations), so the same bytes as that path (its tests compare
// them over every red and green level).
#include "ckiln_support.h"

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

#define KERNEL __attribute__((target("avx512f,avx512bw,avx512dq,avx512vbmi,bmi2")))

/// Integers of magnitude below 2^22 as floats (exact).
KERNEL static inline __m512 exact_floats(__m512i x) { return _mm512_cvtepi32_ps(x); }

/// Rounded half to even, for magnitudes below 2^22: 1.5 · 2^23 added puts the integer in the low
/// mantissa bits.
KERNEL static inline __m512i rounded_integers(__m512 x) {
    return _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(x, _mm512_set1_ps(12582912.0f))), _mm512_set1_epi32(0x4B400000));
}

/// round(numerator / divisor) for divisors 0...255, 0 where the divisor is 0.
KERNEL static inline __m512i divided(float numerator, __m512i divisor) {
    const __m512i quotient = rounded_integers(_mm512_div_ps(_mm512_set1_ps(numerator), exact_floats(divisor)));
    return _mm512_maskz_mov_epi32(_mm512_test_epi32_mask(divisor, divisor), quotient);
}

/// min(max(x, 0), 255) for finite x, on the bit patterns (negative values, -0 included, become +0).
KERNEL static inline __m512 clamped(__m512 x) {
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i positive = _mm512_andnot_si512(_mm512_srai_epi32(bits, 31), bits);
    return _mm512_castsi512_ps(_mm512_min_epi32(positive, _mm512_set1_epi32(0x437F0000)));  // 255.0f
}

/// Lanes whose sign bit is set.
KERNEL static inline __mmask16 negative(__m512 x) { return _mm512_movepi32_mask(_mm512_castps_si512(x)); }

KERNEL static void hsv_shift_vbmi(const uint8_t *source, uint8_t *target, size_t count, float hue_shift,
                                  float saturation_shift, float value_shift) {
    uint8_t channel_index[3][64] = {{0}}, pack_index[64] = {0};
    for (int j = 0; j < 16; j++) {
        for (int c = 0; c < 3; c++) channel_index[c][4 * j] = (uint8_t)(3 * j + c);
        for (int c = 0; c < 3; c++) pack_index[3 * j + c] = (uint8_t)(4 * j + c);
    }
    const __m512i red_index = _mm512_loadu_si512(channel_index[0]), green_index = _mm512_loadu_si512(channel_index[1]);
    const __m512i blue_index = _mm512_loadu_si512(channel_index[2]), pack = _mm512_loadu_si512(pack_index);
    const __mmask64 low_bytes = 0x1111111111111111ULL;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < count; i += 16) {
        const size_t pixels = count - i < 16 ? count - i : 16;
        const __mmask64 bytes = _bzhi_u64(~0ULL, (unsigned)(3 * pixels));
        const __m512i x = _mm512_maskz_loadu_epi8(bytes, source + 3 * i);
        const __m512i r = _mm512_maskz_permutexvar_epi8(low_bytes, red_index, x);
        const __m512i g = _mm512_maskz_permutexvar_epi8(low_bytes, green_index, x);
        const __m512i b = _mm512_maskz_permutexvar_epi8(low_bytes, blue_index, x);
        // cv2's RGB2HSV_b.
        const __m512i v = _mm512_max_epi32(r, _mm512_max_epi32(g, b));
        const __m512i difference = _mm512_sub_epi32(v, _mm512_min_epi32(r, _mm512_min_epi32(g, b)));
        const __m512i s = _mm512_srai_epi32(
            _mm512_add_epi32(_mm512_mullo_epi32(difference, divided(1044480.0f, v)), _mm512_set1_epi32(1 << 11)), 12);
        const __mmask16 is_red = _mm512_cmpeq_epi32_mask(v, r), is_green = _mm512_cmpeq_epi32_mask(v, g);
        const __m512i twice = _mm512_add_epi32(difference, difference);
        __m512i h = _mm512_add_epi32(_mm512_sub_epi32(r, g), _mm512_add_epi32(twice, twice));
        h = _mm512_mask_mov_epi32(h, is_green, _mm512_add_epi32(_mm512_sub_epi32(b, r), twice));
        h = _mm512_mask_mov_epi32(h, is_red, _mm512_sub_epi32(g, b));
        h = _mm512_srai_epi32(_mm512_add_epi32(_mm512_mullo_epi32(h, divided(122880.0f, difference)), _mm512_set1_epi32(1 << 11)), 12);
        h = _mm512_mask_add_epi32(h, _mm512_movepi32_mask(h), h, _mm512_set1_epi32(180));
        // The shifts (HSVShift), then cv2's HSV2RGB_f.
        __m512 hue = _mm512_add_ps(exact_floats(h), _mm512_set1_ps(hue_shift));
        hue = _mm512_mask_add_ps(hue, negative(hue), hue, _mm512_set1_ps(180.0f));
        hue = _mm512_mask_add_ps(hue, (__mmask16)~negative(_mm512_sub_ps(hue, _mm512_set1_ps(180.0f))), hue, _mm512_set1_ps(-180.0f));
        __m512 sector = _mm512_mul_ps(hue, _mm512_set1_ps(1.0f / 30.0f));
        sector = _mm512_maskz_mov_ps(negative(_mm512_sub_ps(sector, _mm512_set1_ps(6.0f))), sector);  // 6 or more -> 0
        const __m512 saturation =
            _mm512_mul_ps(clamped(_mm512_add_ps(exact_floats(s), _mm512_set1_ps(saturation_shift))), _mm512_set1_ps(1.0f / 255.0f));
        const __m512 value = clamped(_mm512_add_ps(exact_floats(v), _mm512_set1_ps(value_shift)));
        // floor(sector) and what is left: rounded to nearest, then one taken off where that went up.
        const __m512i nearest = rounded_integers(sector);
        const __m512 below = _mm512_sub_ps(sector, exact_floats(nearest));  // exact, in [-0.5, 0.5]
        const __m512i down = _mm512_srai_epi32(_mm512_castps_si512(below), 31);
        const __m512i whole = _mm512_add_epi32(nearest, down);
        const __m512 fraction = _mm512_sub_ps(below, exact_floats(down));
        const __m512 p = _mm512_mul_ps(value, _mm512_sub_ps(one, saturation));
        const __m512 q = _mm512_mul_ps(value, _mm512_sub_ps(one, _mm512_mul_ps(saturation, fraction)));
        const __m512 t = _mm512_mul_ps(value, _mm512_sub_ps(one, _mm512_mul_ps(saturation, _mm512_sub_ps(one, fraction))));
        const __mmask16 s1 = _mm512_cmpeq_epi32_mask(whole, _mm512_set1_epi32(1)), s2 = _mm512_cmpeq_epi32_mask(whole, _mm512_set1_epi32(2));
        const __mmask16 s3 = _mm512_cmpeq_epi32_mask(whole, _mm512_set1_epi32(3)), s4 = _mm512_cmpeq_epi32_mask(whole, _mm512_set1_epi32(4));
        const __mmask16 s0 = _mm512_cmpeq_epi32_mask(whole, _mm512_setzero_si512());
        const __mmask16 s5 = (__mmask16)~(s0 | s1 | s2 | s3 | s4);
        // Sector 0: (v, t, p); 1: (q, v, p); 2: (p, v, t); 3: (p, q, v); 4: (t, p, v); 5: (v, p, q).
        __m512 red = _mm512_mask_mov_ps(_mm512_mask_mov_ps(_mm512_mask_mov_ps(value, s1, q), s2 | s3, p), s4, t);
        __m512 green = _mm512_mask_mov_ps(_mm512_mask_mov_ps(_mm512_mask_mov_ps(p, s0, t), s1 | s2, value), s3, q);
        __m512 blue = _mm512_mask_mov_ps(_mm512_mask_mov_ps(_mm512_mask_mov_ps(q, s0 | s1, p), s2, t), s3 | s4, value);
        const __m512i packed = _mm512_or_si512(
            rounded_integers(clamped(red)),
            _mm512_or_si512(_mm512_slli_epi32(rounded_integers(clamped(green)), 8), _mm512_slli_epi32(rounded_integers(clamped(blue)), 16)));
        _mm512_mask_storeu_epi8(target + 3 * i, bytes, _mm512_permutexvar_epi8(pack, packed));
    }
}
#endif

int32_t ckiln_hsv_shift(const uint8_t *source, uint8_t *target, size_t count, float hue, float saturation, float value) {
#if defined(__x86_64__)
    if (ckiln_lookup_is_vectorised() && __builtin_cpu_supports("avx512dq")) {
        hsv_shift_vbmi(source, target, count, hue, saturation, value);
        return 1;
    }
#endif
    (void)source, (void)target, (void)count, (void)hue, (void)saturation, (void)value;
    return 0;
}

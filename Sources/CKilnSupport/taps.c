// OpenCV's bilinear taps (cv2.resize, INTER_LINEAR, 8-bit): per destination coordinate the first
// source tap and two 11-bit weights, from the pixel centres' map computed in doubles. In C so the
// loop vectorises (it runs twice per sample of the training pipeline); the same operations in
// the same order as the scalar formula, none fused.
#include <math.h>

#include "ckiln_support.h"

#pragma clang fp contract(off)

/// Destination coordinate `d`'s tap, with `scale` = 1 / (target / source).
static inline __attribute__((always_inline)) void linear_tap(size_t d, double scale, int64_t last, int32_t *index,
                                                             int32_t *weight0, int32_t *weight1) {
    double f = ((double)d + 0.5) * scale - 0.5;
    int64_t i = (int64_t)floor(f);
    f -= (double)i;
    if (i < 0) { f = 0; i = 0; }
    if (i >= last) { f = 0; i = last; }
    index[d] = (int32_t)i;
    weight0[d] = (int32_t)nearbyintf((float)(1 - f) * 2048);
    weight1[d] = (int32_t)nearbyintf((float)f * 2048);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq,avx512vl")))
static void linear_taps_avx512(size_t target, double scale, int64_t last, int32_t *index, int32_t *weight0, int32_t *weight1) {
    for (size_t d = 0; d < target; d++) linear_tap(d, scale, last, index, weight0, weight1);
}
#endif

void ckiln_linear_taps(size_t source, size_t target, int32_t *index, int32_t *weight0, int32_t *weight1) {
    if (source == 0 || target == 0) return;
    const double scale = 1.0 / ((double)target / (double)source);
    const int64_t last = (int64_t)source - 1;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        linear_taps_avx512(target, scale, last, index, weight0, weight1);
        return;
    }
#endif
    for (size_t d = 0; d < target; d++) linear_tap(d, scale, last, index, weight0, weight1);
}

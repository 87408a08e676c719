// Bilinear resampling of packed RGB rows into planar 32-bit sums: the horizontal pass of
// Resize's fixed-point bilinear arithmetic. With AVX-512 VBMI, each block of 16 output pixels
// gathers each channel's 2 × 16 taps from the 128 source bytes at the block's base with one
// zero-masked byte permute (bytes into 16-bit lanes) and multiplies them by the weights in pairs
// (vpmaddwd): 48 sums from two loads, three permutes and three multiply-adds.
// The vertical pass then blends two such rows and maps the levels to floats on 16 lanes.

// Products are rounded before sums, as in the scalar formulas the results must equal.
#pragma STDC FP_CONTRACT OFF
#include <math.h>
#include <string.h>

#include "ckiln_support.h"

int32_t ckiln_rgb_blocks_prepare(const int32_t *left, const int32_t *right, const int32_t *weight0,
                                 const int32_t *weight1, size_t count, ckiln_rgb_block *blocks) {
    for (size_t first = 0; first < count; first += 16) {
        const size_t n = count - first < 16 ? count - first : 16;
        int32_t low = left[first], high = right[first];
        for (size_t i = 1; i < n; i++) {
            if (left[first + i] < low) low = left[first + i];
            if (right[first + i] > high) high = right[first + i];
        }
        for (size_t i = 0; i < n; i++) {
            if (left[first + i] > right[first + i] || weight0[first + i] < 0 || weight0[first + i] > INT16_MAX ||
                weight1[first + i] < 0 || weight1[first + i] > INT16_MAX) return 0;
        }
        if (low < 0 || (int64_t)(high - low) * 3 + 2 > 127) return 0;
        ckiln_rgb_block *block = &blocks[first / 16];
        memset(block, 0, sizeof *block);
        block->base = (int64_t)low * 3;
        for (size_t i = 0; i < n; i++) {
            const uint8_t l = (uint8_t)((left[first + i] - low) * 3), r = (uint8_t)((right[first + i] - low) * 3);
            for (uint8_t c = 0; c < 3; c++) {
                block->taps[c][4 * i] = l + c;
                block->taps[c][4 * i + 2] = r + c;
            }
            block->weights[2 * i] = (int16_t)weight0[first + i];
            block->weights[2 * i + 1] = (int16_t)weight1[first + i];
        }
    }
    return 1;
}

static void resample_scalar(const uint8_t *row, const ckiln_rgb_block *blocks, size_t count, int32_t *red,
                            int32_t *green, int32_t *blue) {
    // Through the last block's unused lanes too: their weights are zero.
    for (size_t x = 0; x < (count + 15) / 16 * 16; x++) {
        const ckiln_rgb_block *block = &blocks[x / 16];
        const size_t i = x % 16;
        const uint8_t *l = row + block->base + block->taps[0][4 * i], *r = row + block->base + block->taps[0][4 * i + 2];
        const int32_t a = block->weights[2 * i], b = block->weights[2 * i + 1];
        red[x] = l[0] * a + r[0] * b;
        green[x] = l[1] * a + r[1] * b;
        blue[x] = l[2] * a + r[2] * b;
    }
}

static inline int32_t clamp_level(int32_t v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

static void blend_scalar(const int32_t *top, const int32_t *bottom, size_t plane_stride, int32_t weight0, int32_t weight1,
                         size_t count, const ckiln_rgb_levels *levels, float *const out[3]) {
    for (size_t c = 0; c < 3; c++) {
        const int32_t *t = top + c * plane_stride, *b = bottom + c * plane_stride;
        for (size_t i = 0; i < count; i++) {
            int32_t level = clamp_level((int32_t)(((int64_t)weight0 * t[i] + (int64_t)weight1 * b[i] + (1 << 21)) >> 22));
            if (levels->adjust) {
                float adjusted = (float)level * levels->alpha;
                adjusted = adjusted + levels->beta;
                level = clamp_level((int32_t)lrintf(adjusted));
            }
            float value = (float)level * levels->scale[c];
            value = value + levels->offset[c];
            out[c][i] = value;
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static inline __m512 blend_vectors(__m512i top, __m512i bottom, __m512i weight0,
                                                                       __m512i weight1, int32_t adjust, __m512 alpha,
                                                                       __m512 beta, __m512 scale, __m512 offset) {
    const __m512i zero = _mm512_setzero_si512(), white = _mm512_set1_epi32(255);
    const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(_mm512_mullo_epi32(top, weight0), _mm512_mullo_epi32(bottom, weight1)),
                                         _mm512_set1_epi32(1 << 21));
    __m512i level = _mm512_min_epi32(_mm512_max_epi32(_mm512_srai_epi32(sum, 22), zero), white);
    if (adjust) {
        const __m512 adjusted = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(level), alpha), beta);
        level = _mm512_cvt_roundps_epi32(adjusted, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        level = _mm512_min_epi32(_mm512_max_epi32(level, zero), white);
    }
    return _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(level), scale), offset);
}

__attribute__((target("avx512f"))) static inline __m512 blend16(const int32_t *top, const int32_t *bottom, __m512i weight0,
                                                                 __m512i weight1, int32_t adjust, __m512 alpha, __m512 beta,
                                                                 __m512 scale, __m512 offset) {
    return blend_vectors(_mm512_loadu_si512(top), _mm512_loadu_si512(bottom), weight0, weight1, adjust, alpha, beta, scale,
                         offset);
}

/// `blend16` of the values at `top` and `bottom` expanded into the lanes of `lanes` (the first
/// value into its lowest lane): the lanes of an aligned line a row starts inside.
__attribute__((target("avx512f"))) static inline __m512 blend16_into(__mmask16 lanes, const int32_t *top,
                                                                      const int32_t *bottom, __m512i weight0, __m512i weight1,
                                                                      int32_t adjust, __m512 alpha, __m512 beta, __m512 scale,
                                                                      __m512 offset) {
    return blend_vectors(_mm512_maskz_expandloadu_epi32(lanes, top), _mm512_maskz_expandloadu_epi32(lanes, bottom), weight0,
                         weight1, adjust, alpha, beta, scale, offset);
}

__attribute__((target("avx512f"))) static void flush_carry(ckiln_rgb_stream *stream, size_t c) {
    if (stream->line[c] == NULL) return;
    _mm512_mask_storeu_ps(stream->line[c], (__mmask16)((1u << stream->lanes[c]) - 1), _mm512_loadu_ps(stream->carry[c]));
    stream->line[c] = NULL;
}

__attribute__((target("avx512f"))) static void blend_avx512(const int32_t *top, const int32_t *bottom, size_t plane_stride,
                                                             int32_t weight0, int32_t weight1, size_t count,
                                                             const ckiln_rgb_levels *levels, ckiln_rgb_stream *stream,
                                                             float *const out[3]) {
    const __m512i w0 = _mm512_set1_epi32(weight0), w1 = _mm512_set1_epi32(weight1);
    const __m512 alpha = _mm512_set1_ps(levels->alpha), beta = _mm512_set1_ps(levels->beta);
    const int32_t adjust = levels->adjust;
    for (size_t c = 0; c < 3; c++) {
        const int32_t *t = top + c * plane_stride, *b = bottom + c * plane_stride;
        const __m512 scale = _mm512_set1_ps(levels->scale[c]), offset = _mm512_set1_ps(levels->offset[c]);
        float *target = out[c];
        size_t i = 0;
        if (stream == NULL || count < 32 || ((uintptr_t)target & 3) != 0) {
            // Ordinary stores.
            if (stream != NULL) flush_carry(stream, c);
            for (; i + 16 <= count; i += 16) {
                _mm512_storeu_ps(target + i, blend16(t + i, b + i, w0, w1, adjust, alpha, beta, scale, offset));
            }
            if (i < count) {
                _mm512_mask_storeu_ps(target + i, (__mmask16)((1u << (count - i)) - 1),
                                      blend16(t + i, b + i, w0, w1, adjust, alpha, beta, scale, offset));
            }
            continue;
        }
        // Whole lines, non-temporal: the line the row starts inside completes the previous
        // row's last line when the rows are contiguous; the row's own last partial line is held.
        const size_t lead = ((uintptr_t)target & 63) / sizeof(float);
        if (lead > 0) {
            float *line = target - lead;
            const __mmask16 lanes = (__mmask16)(0xFFFFu << lead);
            __m512 values = blend16_into(lanes, t, b, w0, w1, adjust, alpha, beta, scale, offset);
            if (stream->line[c] == line && stream->lanes[c] == lead) {
                _mm512_stream_ps(line, _mm512_mask_blend_ps(lanes, _mm512_loadu_ps(stream->carry[c]), values));
                stream->line[c] = NULL;
            } else {
                flush_carry(stream, c);
                _mm512_mask_storeu_ps(line, lanes, values);
            }
            i = 16 - lead;
        } else {
            flush_carry(stream, c);
        }
        for (; i + 16 <= count; i += 16) {
            _mm512_stream_ps(target + i, blend16(t + i, b + i, w0, w1, adjust, alpha, beta, scale, offset));
        }
        if (i < count) {
            // A masked read: the row's values need not be readable to a multiple of 16 from here.
            const __mmask16 rest = (__mmask16)((1u << (count - i)) - 1);
            _mm512_storeu_ps(stream->carry[c], blend16_into(rest, t + i, b + i, w0, w1, adjust, alpha, beta, scale, offset));
            stream->line[c] = target + i;
            stream->lanes[c] = (uint32_t)(count - i);
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vbmi,bmi2")))
static void resample_vbmi(const uint8_t *row, size_t row_bytes, const ckiln_rgb_block *blocks, size_t count,
                          int32_t *red, int32_t *green, int32_t *blue) {
    for (size_t first = 0; first < count; first += 16) {
        const ckiln_rgb_block *block = &blocks[first / 16];
        const uint8_t *source = row + block->base;
        const size_t available = row_bytes - (size_t)block->base;
        __m512i low, high;
        if (available >= 128) {
            low = _mm512_loadu_si512(source);
            high = _mm512_loadu_si512(source + 64);
        } else {
            // Masked loads never touch the bytes past the row (which may be past the image).
            low = _mm512_maskz_loadu_epi8(_bzhi_u64(~0ULL, (unsigned)available), source);
            high = available > 64 ? _mm512_maskz_loadu_epi8(_bzhi_u64(~0ULL, (unsigned)(available - 64)), source + 64)
                                  : _mm512_setzero_si512();
        }
        // Each tap byte into the low byte of a 16-bit lane (the odd bytes zeroed by the mask).
        const __mmask64 low_bytes = 0x5555555555555555ULL;
        const __m512i weights = _mm512_loadu_si512(block->weights);
        int32_t *const out[3] = {red, green, blue};
        for (int c = 0; c < 3; c++) {
            const __m512i taps = _mm512_maskz_permutex2var_epi8(low_bytes, low, _mm512_loadu_si512(block->taps[c]), high);
            _mm512_storeu_si512(out[c] + first, _mm512_madd_epi16(taps, weights));
        }
    }
}
#endif

int32_t ckiln_rgb_resample_is_vectorised(void) { return ckiln_lookup_is_vectorised(); }

void ckiln_rgb_blend_rows(const int32_t *top, const int32_t *bottom, size_t plane_stride, int32_t weight0, int32_t weight1,
                          size_t count, const ckiln_rgb_levels *levels, ckiln_rgb_stream *stream, float *red, float *green,
                          float *blue) {
    float *const out[3] = {red, green, blue};
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        blend_avx512(top, bottom, plane_stride, weight0, weight1, count, levels, stream, out);
        return;
    }
#endif
    blend_scalar(top, bottom, plane_stride, weight0, weight1, count, levels, out);
}

void ckiln_rgb_stream_finish(ckiln_rgb_stream *stream) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        for (size_t c = 0; c < 3; c++) flush_carry(stream, c);
        _mm_sfence();
    }
#endif
    (void)stream;
}

void ckiln_rgb_blend_rows_scalar(const int32_t *top, const int32_t *bottom, size_t plane_stride, int32_t weight0,
                                 int32_t weight1, size_t count, const ckiln_rgb_levels *levels, float *red, float *green,
                                 float *blue) {
    float *const out[3] = {red, green, blue};
    blend_scalar(top, bottom, plane_stride, weight0, weight1, count, levels, out);
}

void ckiln_rgb_resample_row(const uint8_t *row, size_t row_bytes, const ckiln_rgb_block *blocks, size_t count,
                            int32_t *red, int32_t *green, int32_t *blue) {
#if defined(__x86_64__)
    if (ckiln_rgb_resample_is_vectorised()) {
        resample_vbmi(row, row_bytes, blocks, count, red, green, blue);
        return;
    }
#endif
    (void)row_bytes;
    resample_scalar(row, blocks, count, red, green, blue);
}

void ckiln_rgb_resample_row_scalar(const uint8_t *row, const ckiln_rgb_block *blocks, size_t count, int32_t *red,
                                   int32_t *green, int32_t *blue) {
    resample_scalar(row, blocks, count, red, green, blue);
}

// Bilinear resampling of a window of packed RGB bytes straight into three float planes (the CHW
// tensor of the training pipeline), with OpenCV's fixed-point arithmetic (cv2.resize, 8-bit,
// INTER_LINEAR, as its SIMD code computes it):
//   horizontal  h = (row[left]·weight0 + row[right]·weight1) >> 4     (11-bit weights, 15-bit h)
//   vertical    level = (((h_top·w0) >> 16) + ((h_bottom·w1) >> 16) + 2) >> 2
// then a 256-byte map of the levels (brightness/contrast) and `level · scale + offset` per
// channel, one fused multiply-add (Normalize).
//
// With AVX-512 VBMI, each block of 16 output pixels gathers its taps from the 128 source bytes
// at the block's base with byte permutes (channels 0 and 1 in one, channel 2 in another) and
// multiplies them by the weights' high and low parts as bytes (vpmaddubsw); the vertical pass
// runs on 16-bit lanes, 64 levels a step packed to bytes with saturation (the clamp), the byte
// map is two 128-byte permutes over all 64, one byte permute a vector spreads them to 32-bit
// lanes, and the floats go out with non-temporal stores of whole cache lines. The horizontal
// sums of the source rows the next output row needs are computed between the channels of this
// row's vertical pass, so that the stores (and the reads of the source) are spread over the
// computing instead of arriving in bursts. (Spreading them finer, a few blocks between the
// vertical pass's steps, was 20% slower.)

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ckiln_support.h"

// The kernels read the blocks' fields at these offsets (`blocks_prepare_avx512` writes them so).
_Static_assert(offsetof(ckiln_rgb_block, taps2) == 64 && offsetof(ckiln_rgb_block, weights_high) == 96 &&
                   offsetof(ckiln_rgb_block, weights_low) == 128 && offsetof(ckiln_rgb_block, base) == 160 &&
                   offsetof(ckiln_rgb_block, weights) == 192 && sizeof(ckiln_rgb_block) == 256,
               "ckiln_rgb_block's layout");

int32_t ckiln_rgb_blocks_prepare_scalar(const int32_t *left, const int32_t *right, const int32_t *weight0,
                                        const int32_t *weight1, size_t count, ckiln_rgb_block *blocks) {
    for (size_t first = 0; first < count; first += 16) {
        const size_t n = count - first < 16 ? count - first : 16;
        int32_t low = left[first], high = right[first];
        for (size_t i = 1; i < n; i++) {
            if (left[first + i] < low) low = left[first + i];
            if (right[first + i] > high) high = right[first + i];
        }
        for (size_t i = 0; i < n; i++) {
            if (left[first + i] > right[first + i] || weight0[first + i] < 0 || weight0[first + i] > 2048 ||
                weight1[first + i] < 0 || weight1[first + i] > 2048 || weight0[first + i] + weight1[first + i] > 2056) return 0;
        }
        if (low < 0 || (int64_t)(high - low) * 3 + 2 > 127) return 0;
        ckiln_rgb_block *block = &blocks[first / 16];
        memset(block, 0, sizeof *block);
        block->base = (int64_t)low * 3;
        for (size_t i = 0; i < n; i++) {
            const uint8_t l = (uint8_t)((left[first + i] - low) * 3), r = (uint8_t)((right[first + i] - low) * 3);
            for (uint8_t c = 0; c < 3; c++) {
                uint8_t *pair = c < 2 ? &block->taps[32 * c + 2 * i] : &block->taps2[2 * i];
                pair[0] = l + c;
                pair[1] = r + c;
            }
            for (size_t t = 0; t < 2; t++) {
                const int32_t weight = t == 0 ? weight0[first + i] : weight1[first + i];
                const int32_t high = weight >> 4 < 127 ? weight >> 4 : 127;
                block->weights[2 * i + t] = (int16_t)weight;
                block->weights_high[2 * i + t] = (int8_t)high;
                block->weights_low[2 * i + t] = (int8_t)(weight - 16 * high);
            }
        }
    }
    return 1;
}

static inline int32_t clamp_level(int32_t v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

/// OpenCV's vertical step on two horizontal sums (each 0...32640): the products' high halves.
static inline int32_t vertical_level(int32_t top, int32_t bottom, int32_t weight0, int32_t weight1) {
    return clamp_level((((top * weight0) >> 16) + ((bottom * weight1) >> 16) + 2) >> 2);
}

void ckiln_rgb_resample_scalar(const ckiln_rgb_resample_job *job) {
    const size_t width = job->width;
    for (size_t k = 0; k < job->height; k++) {
        const int32_t y0 = job->rows[k], y1 = y0 + 1 < (int32_t)job->window_height ? y0 + 1 : y0;
        const uint8_t *top = job->source + (ptrdiff_t)y0 * job->row_stride,
                      *bottom = job->source + (ptrdiff_t)y1 * job->row_stride;
        const int32_t b0 = job->row_weights[2 * k], b1 = job->row_weights[2 * k + 1];
        for (size_t x = 0; x < width; x++) {
            const ckiln_rgb_block *block = &job->blocks[x / 16];
            const size_t i = x % 16;
            const size_t l = (size_t)block->base + block->taps[2 * i], r = (size_t)block->base + block->taps[2 * i + 1];
            const int32_t a0 = block->weights[2 * i], a1 = block->weights[2 * i + 1];
            for (size_t c = 0; c < 3; c++) {
                const int32_t h0 = (top[l + c] * a0 + top[r + c] * a1) >> 4, h1 = (bottom[l + c] * a0 + bottom[r + c] * a1) >> 4;
                int32_t level = vertical_level(h0, h1, b0, b1);
                if (job->levels != NULL) level = job->levels[level];
                job->planes[c][k * width + x] = fmaf((float)level, job->scale[c], job->offset[c]);
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define KERNEL __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,bmi2,fma")))

/// `ckiln_rgb_blocks_prepare` 16 pixels a step: the checks as masks, each pixel's two taps (and
/// two weights) as one 16- or 32-bit lane, narrowed to the pairs of bytes the kernel reads.
KERNEL static int32_t blocks_prepare_avx512(const int32_t *left, const int32_t *right, const int32_t *weight0,
                                            const int32_t *weight1, size_t count, ckiln_rgb_block *blocks) {
    for (size_t first = 0; first < count; first += 16) {
        const __mmask16 lanes = (__mmask16)_bzhi_u32(0xFFFF, (unsigned)(count - first < 16 ? count - first : 16));
        const __m512i l = _mm512_maskz_loadu_epi32(lanes, left + first), r = _mm512_maskz_loadu_epi32(lanes, right + first);
        const __m512i w0 = _mm512_maskz_loadu_epi32(lanes, weight0 + first), w1 = _mm512_maskz_loadu_epi32(lanes, weight1 + first);
        const __m512i zero = _mm512_setzero_si512(), most = _mm512_set1_epi32(2048);
        const __mmask16 bad = _mm512_mask_cmpgt_epi32_mask(lanes, l, r) | _mm512_cmplt_epi32_mask(w0, zero) |
                              _mm512_cmpgt_epi32_mask(w0, most) | _mm512_cmplt_epi32_mask(w1, zero) |
                              _mm512_cmpgt_epi32_mask(w1, most) |
                              _mm512_cmpgt_epi32_mask(_mm512_add_epi32(w0, w1), _mm512_set1_epi32(2056));
        const int32_t low = _mm512_mask_reduce_min_epi32(lanes, l), high = _mm512_mask_reduce_max_epi32(lanes, r);
        if (bad != 0 || low < 0 || (int64_t)(high - low) * 3 + 2 > 127) return 0;
        ckiln_rgb_block *block = &blocks[first / 16];
        // Channel 0's pairs (left, right byte index from the base); channels 1 and 2 are one and
        // two bytes on. Unused lanes stay zero.
        const __m512i base = _mm512_set1_epi32(low), three = _mm512_set1_epi32(3);
        const __m512i pairs32 = _mm512_maskz_or_epi32(lanes, _mm512_mullo_epi32(_mm512_sub_epi32(l, base), three),
                                                      _mm512_slli_epi32(_mm512_mullo_epi32(_mm512_sub_epi32(r, base), three), 8));
        const __m256i pairs = _mm512_cvtepi32_epi16(pairs32);
        const __m256i pairs1 = _mm256_maskz_add_epi16(lanes, pairs, _mm256_set1_epi16(0x0101));
        const __m256i pairs2 = _mm256_maskz_add_epi16(lanes, pairs, _mm256_set1_epi16(0x0202));
        // The weights as 16-bit pairs, and split, `w = 16·high + low` with high ≤ 127, as byte pairs.
        const __m512i high0 = _mm512_min_epi32(_mm512_srai_epi32(w0, 4), _mm512_set1_epi32(127));
        const __m512i high1 = _mm512_min_epi32(_mm512_srai_epi32(w1, 4), _mm512_set1_epi32(127));
        const __m512i low0 = _mm512_sub_epi32(w0, _mm512_slli_epi32(high0, 4)), low1 = _mm512_sub_epi32(w1, _mm512_slli_epi32(high1, 4));
        const __m256i highs = _mm512_cvtepi32_epi16(_mm512_or_epi32(high0, _mm512_slli_epi32(high1, 8)));
        const __m256i lows = _mm512_cvtepi32_epi16(_mm512_or_epi32(low0, _mm512_slli_epi32(low1, 8)));
        const __m512i weights = _mm512_or_epi32(_mm512_and_epi32(w0, _mm512_set1_epi32(0xFFFF)), _mm512_slli_epi32(w1, 16));
        uint8_t *bytes = (uint8_t *)block;
        _mm512_storeu_si512(bytes, _mm512_inserti64x4(_mm512_castsi256_si512(pairs), pairs1, 1));
        _mm512_storeu_si512(bytes + 64, _mm512_inserti64x4(_mm512_castsi256_si512(pairs2), highs, 1));
        // weights_low, then `base`, then the padding.
        _mm512_storeu_si512(bytes + 128, _mm512_mask_set1_epi64(_mm512_zextsi256_si512(lows), 0x10, (int64_t)low * 3));
        _mm512_storeu_si512(bytes + 192, weights);
    }
    return 1;
}

/// Lines of a row wanted later (`line` ..< `end`, addresses), asked for a few at a time as the
/// row `offset` bytes before it is read.
typedef struct {
    uintptr_t line, end;
    ptrdiff_t offset;
} row_prefetch;

#define PREFETCH_UNTIL(ahead, reach, locality)                                                 \
    for (; (ahead)->line < (ahead)->end && (ahead)->line < (reach); (ahead)->line += 64)        \
        __builtin_prefetch((const void *)(ahead)->line, 0, locality)

/// The horizontal sums of one source row (three planes of `stride` 16-bit values, from the
/// window row at `row` with `row_bytes` readable): 16 output pixels per block. Each pair of taps
/// is gathered as two bytes (channels 0 and 1 in one permute, channel 2 in another) and
/// multiplied by the weights' high and low parts as bytes (vpmaddubsw): `(a·w0 + b·w1) >> 4`
/// is `(a·h0 + b·h1) + ((a·l0 + b·l1) >> 4)` exactly, as `w = 16·h + l`, with no product or
/// sum overflowing 16 bits (h0 + h1 ≤ 128, l ≤ 31). The rows `far` and `near` ahead are asked
/// for as it goes, each block as far into them as it reads into its own.
KERNEL static void horizontal_row(const uint8_t *row, size_t row_bytes, const ckiln_rgb_block *blocks, size_t count,
                                  int16_t *sums, size_t stride, row_prefetch *far, row_prefetch *near) {
    for (size_t first = 0; first < count; first += 16) {
        const ckiln_rgb_block *block = &blocks[first / 16];
        const uint8_t *source = row + block->base;
        const size_t available = row_bytes - (size_t)block->base;
        PREFETCH_UNTIL(far, (uintptr_t)source + 128 + far->offset, 2);
        PREFETCH_UNTIL(near, (uintptr_t)source + 128 + near->offset, 3);
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
        // The loads limit this loop: the weights are read once as 32 bytes and broadcast (the
        // same pairs serve channels 0 and 1), and held in registers, which the compiler would
        // otherwise fold into the first multiplies and load again for channel 2 (together 11%
        // faster with everything in cache).
        __m512i weights_high = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)block->weights_high));
        __m512i weights_low = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)block->weights_low));
        __asm__("" : "+v"(weights_high), "+v"(weights_low));
        const __m512i taps01 = _mm512_permutex2var_epi8(low, _mm512_loadu_si512(block->taps), high);
        const __m512i sums01 = _mm512_add_epi16(_mm512_maddubs_epi16(taps01, weights_high),
                                                _mm512_srli_epi16(_mm512_maddubs_epi16(taps01, weights_low), 4));
        _mm256_store_si256((__m256i *)(sums + first), _mm512_castsi512_si256(sums01));
        _mm256_store_si256((__m256i *)(sums + stride + first), _mm512_extracti64x4_epi64(sums01, 1));
        const __m512i taps2_index = _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)block->taps2));
        const __m256i taps2 = _mm512_castsi512_si256(_mm512_permutex2var_epi8(low, taps2_index, high));
        const __m256i sums2 = _mm256_add_epi16(_mm256_maddubs_epi16(taps2, _mm512_castsi512_si256(weights_high)),
                                               _mm256_srli_epi16(_mm256_maddubs_epi16(taps2, _mm512_castsi512_si256(weights_low)), 4));
        _mm256_store_si256((__m256i *)(sums + 2 * stride + first), sums2);
    }
}

/// One plane written front to back in whole cache lines with non-temporal stores. Each row's
/// values are computed in vectors that line up with the lines (their inputs read from an offset
/// instead), so only a row's first and last vectors are partial: the last is held until the next
/// row's first completes its line. The plane's first and last lines, shared with other memory,
/// are written with masked ordinary stores.
typedef struct {
    float *line;       // the line a partial vector is held for, or NULL
    __m512 pending;    // its lanes below `filled`
    uint32_t filled;
} plane_carry;

KERNEL static void carry_finish(plane_carry *carry) {
    if (carry->line != NULL) _mm512_mask_storeu_ps(carry->line, (__mmask16)((1u << carry->filled) - 1), carry->pending);
    carry->line = NULL;
}

/// Writes lanes `from` ..< `to` of `values` to the line at `line`: lanes below `from` belong
/// before the row (to the held vector, if it is for this line), lanes from `to` on after it
/// (the vector is then held for the next row).
KERNEL static void put_partial(plane_carry *carry, float *line, __m512 values, uint32_t from, uint32_t to) {
    __mmask16 lanes = (__mmask16)(((1u << to) - 1) & (0xFFFFu << from));
    if (carry->line != NULL && carry->line != line) carry_finish(carry);
    if (carry->line == line) {
        values = _mm512_mask_blend_ps(lanes, carry->pending, values);
        lanes |= (__mmask16)((1u << carry->filled) - 1);
        carry->line = NULL;
    }
    if (lanes == 0xFFFF) {
        _mm512_stream_ps(line, values);
    } else if (to < 16 && (lanes & 1) != 0) {
        // A line begun here or before: the next row completes it (or the plane ends here).
        carry->line = line;
        carry->pending = values;
        carry->filled = to;
    } else {
        _mm512_mask_storeu_ps(line, lanes, values);
    }
}

/// 32 levels from the horizontal sums at `top` and `bottom`, in signed 16-bit lanes (not yet
/// clamped to 0...255: the pack to bytes saturates).
KERNEL static inline __m512i vertical32(const int16_t *top, const int16_t *bottom, __m512i weight0, __m512i weight1) {
    const __m512i sum = _mm512_add_epi16(_mm512_mulhi_epi16(_mm512_loadu_si512(top), weight0),
                                         _mm512_mulhi_epi16(_mm512_loadu_si512(bottom), weight1));
    return _mm512_srai_epi16(_mm512_add_epi16(sum, _mm512_set1_epi16(2)), 2);
}

/// Levels 0...31 (`first`) and 32...63 (`second`) of a step, saturated to bytes and mapped. The
/// pack interleaves them by 128-bit lanes: bytes 16j ... 16j + 7 are levels 8j ... 8j + 7 of
/// `first`, bytes 16j + 8 ... 16j + 15 the same of `second`; `spread` undoes that.
KERNEL static inline __m512i level_bytes(__m512i first, __m512i second, const __m512i *table) {
    const __m512i bytes = _mm512_packus_epi16(first, second);
    if (table == NULL) return bytes;
    // The byte map: entries 0...127 and 128...255 from two permutes, chosen by bit 7.
    const __m512i lower = _mm512_permutex2var_epi8(table[0], bytes, table[1]);
    const __m512i upper = _mm512_permutex2var_epi8(table[2], bytes, table[3]);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(bytes), lower, upper);
}

/// Which byte of `level_bytes` holds level `16·quarter + j` of a step, at byte `4j` (the low
/// byte of 32-bit lane `j`).
KERNEL static inline __m512i spread_index(int quarter) {
    uint8_t index[64] = {0};
    for (int j = 0; j < 16; j++) {
        const int level = 16 * quarter + j, word = level % 32;
        index[4 * j] = (uint8_t)(16 * (word / 8) + 8 * (level / 32) + word % 8);
    }
    return _mm512_loadu_si512(index);
}

/// 16 levels of a step's bytes as floats, `level · scale + offset`.
KERNEL static inline __m512 spread(__m512i bytes, __m512i index, __m512 scale, __m512 offset) {
    const __m512i values = _mm512_maskz_permutexvar_epi8(0x1111111111111111ULL, index, bytes);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(values), scale, offset);
}

/// The vertical step on 16 pairs of 15-bit sums: 16 levels, 0...255, in 16-bit lanes.
KERNEL static inline __m256i vertical_levels16(__m256i top, __m256i bottom, __m256i weight0, __m256i weight1) {
    const __m256i level = _mm256_add_epi16(_mm256_mulhi_epi16(top, weight0), _mm256_mulhi_epi16(bottom, weight1));
    return _mm256_min_epi16(_mm256_max_epi16(_mm256_srai_epi16(_mm256_add_epi16(level, _mm256_set1_epi16(2)), 2),
                                             _mm256_setzero_si256()),
                            _mm256_set1_epi16(255));
}

/// Vector `index` of a row (values `16·index - lead` ...) to the line it lines up with.
KERNEL static inline void put_vector(plane_carry *carry, float *line, size_t index, __m512 values, uint32_t lead, size_t count) {
    const size_t start = 16 * index;  // of the vector, in values from `line`
    const uint32_t from = start < lead ? lead - (uint32_t)start : 0;
    const uint32_t to = start + 16 <= count + lead ? 16 : (uint32_t)(count + lead - start);
    if (from == 0 && to == 16) {
        _mm512_stream_ps(line + start, values);
    } else {
        put_partial(carry, line + start, values, from, to);
    }
}

/// The bytes of a step of a row (levels from `top` and `bottom` on): 64 levels, or only the
/// first 32 unless `whole` (the sums have room past the row for a whole step either way).
KERNEL static inline __m512i step_bytes(const int16_t *top, const int16_t *bottom, int whole, __m512i weight0, __m512i weight1,
                                        const __m512i *table) {
    const __m512i second = whole ? vertical32(top + 32, bottom + 32, weight0, weight1) : _mm512_setzero_si512();
    return level_bytes(vertical32(top, bottom, weight0, weight1), second, table);
}

/// The vertical pass and the mapping of one channel of one output row (`count` values into
/// `target`), 64 values a step, the steps lined up with `target`'s cache lines.
KERNEL static void vertical_row(const int16_t *top, const int16_t *bottom, size_t count, __m512i weight0, __m512i weight1,
                                const __m512i *table, const __m512i *spreads, __m512 scale, __m512 offset, float *target,
                                plane_carry *carry) {
    const uint32_t lead = (uint32_t)(((uintptr_t)target & 63) / sizeof(float));
    float *line = target - lead;
    // Vector i covers values 16i - lead ... 16i - lead + 15 (the sums have room on both sides).
    const size_t vectors = (count + lead + 15) / 16;
    size_t i = 0;
    if (lead == 0 && count % 16 == 0 && carry->line == NULL) {
        // Whole lines only (the training pipeline's 224 values): the steps run without a branch
        // between their stores, so the next step's loads and products start early (12% faster
        // than through `put_vector`, with everything in cache).
        for (; i + 4 <= vectors; i += 4) {
            const __m512i bytes = step_bytes(top + 16 * i, bottom + 16 * i, 1, weight0, weight1, table);
            for (size_t q = 0; q < 4; q++) _mm512_stream_ps(line + 16 * (i + q), spread(bytes, spreads[q], scale, offset));
        }
        if (i < vectors) {
            const __m512i bytes = step_bytes(top + 16 * i, bottom + 16 * i, i + 2 < vectors, weight0, weight1, table);
            for (size_t q = 0; i + q < vectors; q++) {
                _mm512_stream_ps(line + 16 * (i + q), spread(bytes, spreads[q], scale, offset));
            }
        }
        return;
    }
    if (count % 16 == 0 && lead != 0 && (carry->line == NULL || carry->line == line)) {
        // Whole vectors of rows that start `lead` values into a line (an output 16 or 32 bytes
        // past a line boundary): the values are computed as above, lined up with the row, and
        // each line joins the end of one vector to the start of the next (one two-source
        // permute); the row's first line completes the one the row before began, its last
        // begins one (held, as `put_partial` does).
        const __m512i join = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32(16 - (int)lead));
        const __mmask16 own = (__mmask16)(0xFFFFu << lead);
        const size_t whole = count / 16;
        __m512 previous = _mm512_setzero_ps();
        for (; i < whole; i += 4) {
            const __m512i bytes = step_bytes(top + 16 * i, bottom + 16 * i, i + 2 < whole, weight0, weight1, table);
            for (size_t q = 0; q < 4 && i + q < whole; q++) {
                const __m512 values = spread(bytes, spreads[q], scale, offset);
                if (i + q > 0) {
                    _mm512_stream_ps(line + 16 * (i + q), _mm512_permutex2var_ps(previous, join, values));
                } else if (carry->line == line) {
                    _mm512_stream_ps(line, _mm512_mask_blend_ps(own, carry->pending, _mm512_permutex2var_ps(values, join, values)));
                    carry->line = NULL;
                } else {
                    _mm512_mask_storeu_ps(line, own, _mm512_permutex2var_ps(values, join, values));
                }
                previous = values;
            }
        }
        carry->line = line + 16 * whole;
        carry->pending = _mm512_permutex2var_ps(previous, join, previous);
        carry->filled = lead;
        return;
    }
    for (; i < vectors; i += 4) {
        const __m512i bytes = step_bytes(top + 16 * i - lead, bottom + 16 * i - lead, i + 2 < vectors, weight0, weight1, table);
        for (size_t q = 0; q < 4 && i + q < vectors; q++) {
            put_vector(carry, line, i + q, spread(bytes, spreads[q], scale, offset), lead, count);
        }
    }
}

/// Source rows are strided short reads the hardware prefetcher does not see coming: each row
/// is asked for twice ahead of the horizontal pass, into L2 from far ahead (many lines in
/// flight), then into L1 shortly before (from L2, quickly). Measured on the training pipeline:
/// 16 and 3 rows ahead beat 8 into L1 alone by 5–10%. The lines are asked for a block at a
/// time through the horizontal pass of the row 24 (or 3) before, not all at once: a prefetch
/// into a page the TLB does not hold waits for its page walk (with the source in 4 KiB pages,
/// a fifth of the kernel's cpu-clock samples sat on these prefetches), and spread out the walks
/// overlap the computing (2–5% faster). So spread, 24 rows ahead beat 16 by 3% (7% with the source in
/// huge pages); 20 was the same as 24, 32 and 5 into L1 slower.
enum { L2_AHEAD = 24, L1_AHEAD = 3 };

/// The window of the row `rows` on from `source_row` (nothing past the window), to be asked for
/// as `source_row` is read.
static inline row_prefetch row_ahead(const uint8_t *row0, ptrdiff_t row_stride, int32_t source_row, int32_t rows,
                                     int32_t last_row, size_t window_bytes) {
    const int32_t ahead = source_row + rows;
    if (ahead < 0 || ahead > last_row) return (row_prefetch){0, 0, 0};
    const uintptr_t row = (uintptr_t)row0 + (uintptr_t)((ptrdiff_t)ahead * row_stride);
    return (row_prefetch){row & ~(uintptr_t)63, row + window_bytes, rows * row_stride};
}

KERNEL static int32_t resample_avx512(const ckiln_rgb_resample_job *job) {
    // Four rows of horizontal sums: the two this output row blends, and the (up to) two the
    // next one needs that it does not share. Each plane of sums has 16 values of room before it
    // and 48 after (the vertical pass reads from up to 15 values before a row to up to 31 past it).
    const size_t width = job->width, stride = (width + 15) / 16 * 16 + 64;
    int16_t *sums = aligned_alloc(64, 4 * 3 * stride * sizeof(int16_t));
    if (sums == NULL) return 0;
    memset(sums, 0, 4 * 3 * stride * sizeof(int16_t));
    int32_t held[4] = {-1, -1, -1, -1};
    const int32_t last_row = (int32_t)job->window_height - 1;
    const size_t window_bytes = job->row_bytes < job->window_width * 3 ? job->row_bytes : job->window_width * 3;
    // Source rows advance the way the output rows go through memory (down, or up when flipped).
    const int32_t direction = job->height > 1 && job->rows[job->height - 1] < job->rows[0] ? -1 : 1;
    const uint8_t *row0 = job->source;
    const ptrdiff_t row_stride = job->row_stride;
#define SLOT(s) (sums + (size_t)(s) * 3 * stride + 16)
#define PREFETCH(source_row, into_l1)                                           \
    do {                                                                        \
        const int32_t ahead = (source_row);                                     \
        if (ahead < 0 || ahead > last_row) break;                               \
        const uint8_t *row = row0 + (ptrdiff_t)ahead * row_stride;              \
        if (into_l1) ckiln_prefetch(row, window_bytes);                         \
        else ckiln_prefetch_l2(row, window_bytes);                              \
    } while (0)
#define COMPUTE(source_row, s)                                                                                  \
    do {                                                                                                        \
        row_prefetch far = row_ahead(row0, row_stride, (source_row), direction * L2_AHEAD, last_row, window_bytes); \
        row_prefetch near = row_ahead(row0, row_stride, (source_row), direction * L1_AHEAD, last_row, window_bytes); \
        horizontal_row(row0 + (ptrdiff_t)(source_row) * row_stride, job->row_bytes, job->blocks, width, SLOT(s), \
                       stride, &far, &near);                                                                    \
        PREFETCH_UNTIL(&far, far.end, 2);                                                                       \
        PREFETCH_UNTIL(&near, near.end, 3);                                                                     \
        held[s] = (source_row);                                                                                 \
    } while (0)
    const __m512i spreads[4] = {spread_index(0), spread_index(1), spread_index(2), spread_index(3)};
    __m512i table[4];
    if (job->levels != NULL) {
        for (int i = 0; i < 4; i++) table[i] = _mm512_loadu_si512(job->levels + 64 * i);
    }
    plane_carry carries[3] = {{0}};
    // One line of each 32 KiB of the window, all at once, so that the page walks this sample
    // needs start together rather than one at a time as the rows are reached (a line of 4 KiB
    // pages' table entries maps 32 KiB; one line of every page instead gained nothing more).
    // With source images in 4 KiB pages, 3% faster; in huge pages, no different.
    const ptrdiff_t row_distance = row_stride < 0 ? -row_stride : row_stride;
    const int32_t rows_per_32k = row_distance >= 32768 ? 1 : (int32_t)(32768 / (row_distance > 0 ? row_distance : 1));
    for (int32_t r = 0; r <= last_row; r += rows_per_32k) __builtin_prefetch(row0 + (ptrdiff_t)r * row_stride, 0, 2);
    // The first output row's source rows.
    for (int32_t i = 0; i < L2_AHEAD; i++) PREFETCH(job->rows[0] + direction * i, i < L1_AHEAD);
    {
        const int32_t y0 = job->rows[0], y1 = y0 < last_row ? y0 + 1 : y0;
        COMPUTE(y0, 0);
        if (y1 != y0) COMPUTE(y1, 1);
    }
    const size_t next_from = job->height > L2_AHEAD ? job->height - L2_AHEAD : 0;
    for (size_t k = 0; k < job->height; k++) {
        const int32_t y0 = job->rows[k], y1 = y0 < last_row ? y0 + 1 : y0;
        int s0 = -1, s1 = -1;
        for (int s = 0; s < 4; s++) {
            if (held[s] == y0) s0 = s;
            if (held[s] == y1) s1 = s;
        }
        // What the next row needs and no slot holds, into slots that neither this row nor the
        // next reads.
        int32_t wanted[2];
        int into[2], pending = 0;
        if (k + 1 < job->height) {
            const int32_t n0 = job->rows[k + 1], n1 = n0 < last_row ? n0 + 1 : n0;
            int kept = 1 << s0 | 1 << s1;
            for (int s = 0; s < 4; s++) kept |= (held[s] == n0 || held[s] == n1) << s;
            for (int j = 0; j < (n1 == n0 ? 1 : 2); j++) {
                const int32_t row = j == 0 ? n0 : n1;
                int present = 0;
                for (int s = 0; s < 4; s++) present |= held[s] == row;
                if (present) continue;
                int slot = 0;
                while (kept >> slot & 1) slot++;
                kept |= 1 << slot;
                wanted[pending] = row;
                into[pending++] = slot;
            }
        }
        // The next job's first rows, one an output row over the last L2_AHEAD.
        if (job->next_source != NULL && k >= next_from && k - next_from < job->next_rows) {
            ckiln_prefetch_l2(job->next_source + (ptrdiff_t)(k - next_from) * job->next_row_stride, job->next_row_bytes);
        }
        const __m512i w0 = _mm512_set1_epi16(job->row_weights[2 * k]), w1 = _mm512_set1_epi16(job->row_weights[2 * k + 1]);
        for (int c = 0; c < 3; c++) {
            vertical_row(SLOT(s0) + c * stride, SLOT(s1) + c * stride, width, w0, w1, job->levels != NULL ? table : NULL, spreads,
                         _mm512_set1_ps(job->scale[c]), _mm512_set1_ps(job->offset[c]), job->planes[c] + k * width,
                         &carries[c]);
            if (c < pending) COMPUTE(wanted[c], into[c]);
        }
    }
#undef COMPUTE
#undef PREFETCH
#undef SLOT
    for (int c = 0; c < 3; c++) carry_finish(&carries[c]);
    _mm_sfence();
    free(sums);
    return 1;
}

/// 16 levels from 16 pairs of 32-bit sums: cut to 15 bits and saturated to 16 (cv2's v_pack).
KERNEL static inline __m128i vertical16(__m512i top, __m512i bottom, __m256i weight0, __m256i weight1) {
    const __m256i t = _mm512_cvtsepi32_epi16(_mm512_srai_epi32(top, 4)), b = _mm512_cvtsepi32_epi16(_mm512_srai_epi32(bottom, 4));
    return _mm256_cvtepi16_epi8(vertical_levels16(t, b, weight0, weight1));
}

KERNEL static void vertical_bytes_avx512(const int32_t *top, const int32_t *bottom, size_t count, int16_t weight0,
                                         int16_t weight1, uint8_t *out) {
    const __m256i w0 = _mm256_set1_epi16(weight0), w1 = _mm256_set1_epi16(weight1);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        _mm_storeu_si128((__m128i *)(out + i), vertical16(_mm512_loadu_si512(top + i), _mm512_loadu_si512(bottom + i), w0, w1));
    }
    if (i < count) {
        // Masked loads and stores (slow on some CPUs) for the last few only.
        const __mmask16 lanes = (__mmask16)((1u << (count - i)) - 1);
        _mm_mask_storeu_epi8(out + i, lanes, vertical16(_mm512_maskz_loadu_epi32(lanes, top + i),
                                                        _mm512_maskz_loadu_epi32(lanes, bottom + i), w0, w1));
    }
}
#endif

void ckiln_resize_vertical(const int32_t *top, const int32_t *bottom, size_t count, int16_t weight0, int16_t weight1,
                           uint8_t *out) {
#if defined(__x86_64__)
    if (ckiln_rgb_resample_is_vectorised()) {
        vertical_bytes_avx512(top, bottom, count, weight0, weight1, out);
        return;
    }
#endif
    for (size_t i = 0; i < count; i++) {
        const int32_t t = top[i] >> 4, b = bottom[i] >> 4;
        out[i] = (uint8_t)vertical_level(t < -32768 ? -32768 : t > 32767 ? 32767 : t, b < -32768 ? -32768 : b > 32767 ? 32767 : b,
                                         weight0, weight1);
    }
}

int32_t ckiln_rgb_resample_is_vectorised(void) {
#if defined(__x86_64__)
    return ckiln_lookup_is_vectorised() && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

void ckiln_rgb_resample(const ckiln_rgb_resample_job *job) {
    if (job->width == 0 || job->height == 0) return;
#if defined(__x86_64__)
    if (ckiln_rgb_resample_is_vectorised() && resample_avx512(job)) return;
#endif
    ckiln_rgb_resample_scalar(job);
}

int32_t ckiln_rgb_blocks_prepare(const int32_t *left, const int32_t *right, const int32_t *weight0, const int32_t *weight1,
                                 size_t count, ckiln_rgb_block *blocks) {
#if defined(__x86_64__)
    if (ckiln_rgb_resample_is_vectorised()) return blocks_prepare_avx512(left, right, weight0, weight1, count, blocks);
#endif
    return ckiln_rgb_blocks_prepare_scalar(left, right, weight0, weight1, count, blocks);
}

// Small C helpers for KilnCore: what Swift cannot ask the compiler directly.
// Names carry the `ckiln_` prefix so that they never mix with the public `kiln_` C ABI.
#ifndef CKILN_SUPPORT_H
#define CKILN_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// The `-target-cpu` the package was built for (`native`, `x86-64-v3`, ...).
const char *ckiln_build_target_cpu(void);

/// The number of cores this process may run on (its affinity mask), at least 1.
int32_t ckiln_available_cores(void);

/// The CPU the calling thread runs on now, or -1.
int32_t ckiln_current_cpu(void);

/// Moves the calling thread to another CPU of its affinity mask, then restores the mask (so it
/// is free to move again later): a nudge, not a pin. 0 on success, -1 if there is nowhere to go.
int32_t ckiln_move_off_cpu(int32_t cpu);

/// Copies `count` floats with non-temporal stores where the CPU has them: for output that is
/// written once and not read again soon (a batch tensor larger than the caches), which then
/// neither evicts the working set nor reads each destination line before writing it. Call
/// `ckiln_stream_fence` before another thread may read what was written.
void ckiln_stream_floats(float *destination, const float *source, size_t count);

/// Orders the non-temporal stores made so far before any later store (`sfence`).
void ckiln_stream_fence(void);

/// Asks the kernel to back `bytes` bytes at `address` (2 MiB aligned) with huge pages where it
/// can (Linux's transparent huge pages in `madvise` mode; a hint, as numpy gives for its large
/// arrays): a tensor streamed through once then costs a TLB miss per 2 MiB instead of per 4 KiB.
void ckiln_advise_huge_pages(void *address, size_t bytes);

/// Asks for the `bytes` bytes at `start` to be brought into the caches (prefetches, one per
/// line): for rows read in an order the hardware prefetchers do not follow (they follow
/// ascending streams; a row read backwards, or rows taken bottom to top, wait on every line).
/// Inline: called per row from the kernels' loops.
static inline void ckiln_prefetch(const void *start, size_t bytes) {
    const char *line = (const char *)((uintptr_t)start & ~(uintptr_t)63), *end = (const char *)start + bytes;
    for (; line < end; line += 64) __builtin_prefetch(line, 0, 3);
}

/// `ckiln_prefetch` into the level-2 cache only: for rows wanted many rows from now (many lines
/// in flight without crowding the level-1 cache).
static inline void ckiln_prefetch_l2(const void *start, size_t bytes) {
    const char *line = (const char *)((uintptr_t)start & ~(uintptr_t)63), *end = (const char *)start + bytes;
    for (; line < end; line += 64) __builtin_prefetch(line, 0, 2);
}

/// Rows of `row_bytes` bytes in reverse order: output row y is source row `height - 1 - y`
/// (a vertical flip), in pairs from both ends; the rows read bottom to top are prefetched a
/// row ahead.
void ckiln_copy_rows_reversed(const uint8_t *source, uint8_t *target, size_t row_bytes, size_t height);

/// `target[i] = table[source[i]]` for i < count (`table`: 256 bytes): 64 bytes a step with
/// AVX-512 VBMI's byte permutes where the CPU has them, else one byte at a time. `source` and
/// `target` may be the same.
void ckiln_lookup_bytes(const uint8_t *source, uint8_t *target, size_t count, const uint8_t *table);

/// Whether `ckiln_lookup_bytes` takes the AVX-512 VBMI path on this CPU (1) or not (0).
int32_t ckiln_lookup_is_vectorised(void);

/// Copies `count` bytes from `source` to `target` (which must not overlap) and sets bit i % 64
/// of `marks[i / 64]` exactly when `source[i]` is `first` or `second`; the `(count + 63) / 64`
/// words of `marks` are all written, bits past `count` clear. 64 bytes a step with AVX-512BW
/// where the CPU has it, else a byte at a time.
void ckiln_copy_marking_bytes(const uint8_t *source, uint8_t *target, size_t count, uint8_t first, uint8_t second,
                              uint64_t *marks);

/// Whether `ckiln_copy_marking_bytes` takes the AVX-512BW path on this CPU (1) or not (0).
int32_t ckiln_byte_marks_are_vectorised(void);

/// `count` packed RGB pixels to gray as cv2.COLOR_RGB2GRAY computes 8-bit images,
/// `(r·4899 + g·9617 + b·1868 + 8192) >> 14`, written to all three channels of `target` (which
/// must not overlap `source`): 16 pixels a step with AVX-512 VBMI where the CPU has it.
void ckiln_rgb_to_gray(const uint8_t *source, uint8_t *target, size_t count);

/// HueSaturationValue on `count` packed RGB pixels into `target` (not overlapping `source`): into
/// HSV as cv2.COLOR_RGB2HSV computes 8-bit images, hue (0...179 half degrees, wrapped),
/// saturation and value (0...255, clamped) shifted in float, back with cv2.COLOR_HSV2RGB's sector
/// formula. 16 pixels a step with AVX-512 VBMI where the CPU has it (1); else nothing is done and
/// the caller takes its per-pixel path (0), which gives the same bytes.
int32_t ckiln_hsv_shift(const uint8_t *source, uint8_t *target, size_t count, float hue, float saturation, float value);

/// OpenCV's bilinear taps (cv2.resize, INTER_LINEAR, 8-bit) for a `source`-long axis resampled
/// to `target`: per destination coordinate d < target, the first source tap `index[d]` (the
/// second is the next, or the last when that is past the axis) and its 11-bit weights
/// `weight0[d]`, `weight1[d]` (each 0...2048). Vectorised with AVX-512 where the CPU has it; the
/// same values either way.
void ckiln_linear_taps(size_t source, size_t target, int32_t *index, int32_t *weight0, int32_t *weight1);

/// One block of 16 output pixels of a bilinear resample of packed RGB bytes (see
/// `ckiln_rgb_resample`): the byte indices, from `base`, of each pixel's left and right tap in
/// pairs — channel 0's 16 pairs then channel 1's in `taps`, channel 2's in `taps2` — and the two
/// weights per pixel, whole (`weights`) and split for byte multiplies: `weight = 16 · high + low`
/// with high ≤ 127 (`weights_high`, `weights_low`). Unused lanes of a last partial block are
/// zero. Four cache lines; blocks allocated on a line boundary have each field in one line (with
/// the earlier six-line layout that was about 5% faster than blocks 16-byte aligned).
typedef struct {
    uint8_t taps[64];
    uint8_t taps2[32];
    int8_t weights_high[32];
    int8_t weights_low[32];
    int64_t base;
    uint8_t padding[24];
    int16_t weights[32];
} ckiln_rgb_block;

/// Fills `(count + 15) / 16` blocks from per-pixel taps — source pixel indices `left[x]` and
/// `right[x]` (from the window's first pixel) and weights 0...2048 summing to at most 2056 (the
/// horizontal sums then fit 15 bits) — in output order. 0 (blocks unusable) when a block of 16
/// output pixels spans more than 42 source pixels (a downscale by more than about 2.6) or a tap
/// or weight is out of range; else 1.
int32_t ckiln_rgb_blocks_prepare(const int32_t *left, const int32_t *right, const int32_t *weight0,
                                 const int32_t *weight1, size_t count, ckiln_rgb_block *blocks);

/// `ckiln_rgb_blocks_prepare` one pixel at a time, whatever the CPU (the other takes 16 at a time
/// with AVX-512 where `ckiln_rgb_resample` does): the reference for tests. The same blocks.
int32_t ckiln_rgb_blocks_prepare_scalar(const int32_t *left, const int32_t *right, const int32_t *weight0,
                                        const int32_t *weight1, size_t count, ckiln_rgb_block *blocks);

/// A window of packed RGB bytes resampled bilinearly into three float planes (a CHW tensor).
/// Output row k (in memory order: a vertical flip is a reversed `rows`) blends source rows
/// `rows[k]` and `min(rows[k] + 1, window_height - 1)` with `row_weights[2k]`,
/// `row_weights[2k + 1]` (0...2048); output pixel x takes the taps of `blocks` (a horizontal flip
/// is mirrored taps). With OpenCV's 8-bit fixed-point arithmetic, as its SIMD code computes it:
/// `h = (row[left]·weight0 + row[right]·weight1) >> 4` per source row, then
/// `level = min((((h_top·w0) >> 16) + ((h_bottom·w1) >> 16) + 2) >> 2, 255)`, then
/// `levels[level]` when `levels` is not NULL (brightness/contrast), then per channel
/// `level · scale + offset` as one fused multiply-add (Normalize, as `Normalize.tables`).
typedef struct {
    const uint8_t *source;          // the window's first pixel
    ptrdiff_t row_stride;           // bytes from one source row to the next (negative: bottom-up)
    size_t row_bytes;               // bytes readable from each window row's first byte
    size_t window_width;            // pixels
    size_t window_height;           // rows
    const ckiln_rgb_block *blocks;  // (width + 15) / 16, from `ckiln_rgb_blocks_prepare`
    const int32_t *rows;            // height
    const int16_t *row_weights;     // 2 · height
    size_t width;
    size_t height;
    const uint8_t *levels;          // 256 bytes, or NULL
    float scale[3];
    float offset[3];
    float *planes[3];               // width · height floats each
    // Optional, for batches: the first rows the next job will read, `next_row_bytes` from
    // `next_source` on and every `next_row_stride` bytes (negative when it reads upwards), of
    // `next_rows` in its window. Up to 16 are asked into the level-2 cache over this job's last
    // rows (only ever prefetched, never read), so that the next job does not begin by waiting on
    // memory (its start took 2.9% of the kernel's time, 1.4% with this). NULL: none.
    const uint8_t *next_source;
    ptrdiff_t next_row_stride;
    size_t next_row_bytes;
    size_t next_rows;
} ckiln_rgb_resample_job;

/// Runs `job`: with AVX-512 VBMI where the CPU has it (non-temporal stores of whole lines: the
/// output is written once; the stores are ordered before return), else `ckiln_rgb_resample_scalar`.
/// The same floats either way.
void ckiln_rgb_resample(const ckiln_rgb_resample_job *job);

/// `ckiln_rgb_resample` one value at a time, whatever the CPU: the reference for tests.
void ckiln_rgb_resample_scalar(const ckiln_rgb_resample_job *job);

/// The vertical step of the same arithmetic for any layout (`Resize`): `out[i]` is the level of
/// the 32-bit horizontal sums `top[i]` and `bottom[i]` (each cut to 15 bits, saturated to 16)
/// with the weights, for i < count. 16 values a step with AVX-512 where the CPU has it.
void ckiln_resize_vertical(const int32_t *top, const int32_t *bottom, size_t count, int16_t weight0, int16_t weight1,
                           uint8_t *out);

/// Whether `ckiln_rgb_resample` takes the AVX-512 VBMI path on this CPU (1) or not (0).
int32_t ckiln_rgb_resample_is_vectorised(void);

/// The horizontal pass of OpenCV's 8-bit Gaussian blur: `out[i] = Σ_t kernel[t] ·
/// padded[i + t·step]` for i < count (`step`: the channels), summed in 16 bits — exact when the
/// kernel sums to at most 257 (OpenCV's sums to 256) — and stored as floats. 32 values a step
/// with AVX-512 BW where the CPU has it.
void ckiln_blur_row(const uint8_t *padded, size_t count, size_t step, const uint16_t *kernel, size_t taps, float *out);

/// The rounding of OpenCV's 8-bit Gaussian blur: `out[i] = min((sums[i] + 2^15) >> 16, 255)` for
/// sums that are whole numbers in [0, 2^24).
void ckiln_blur_narrow(const float *sums, size_t count, uint8_t *out);

/// `ckiln_blur_row` and `ckiln_blur_narrow` one value at a time, whatever the CPU: the
/// references for tests.
void ckiln_blur_row_scalar(const uint8_t *padded, size_t count, size_t step, const uint16_t *kernel, size_t taps,
                           float *out);
void ckiln_blur_narrow_scalar(const float *sums, size_t count, uint8_t *out);

/// Makes OpenBLAS compute on the calling thread only and stops the idle threads it started when
/// it was loaded (they would otherwise spin on a core for a tenth of a second).
void ckiln_openblas_single_threaded(void);

/// Bit set of the SIMD features the running CPU has (see `ckiln_cpu_feature`).
uint32_t ckiln_cpu_features(void);

enum ckiln_cpu_feature {
    CKILN_CPU_SSE42 = 1u << 0,
    CKILN_CPU_AVX = 1u << 1,
    CKILN_CPU_AVX2 = 1u << 2,
    CKILN_CPU_FMA = 1u << 3,
    CKILN_CPU_AVX512F = 1u << 4,
    CKILN_CPU_AVX512BW = 1u << 5,
    CKILN_CPU_AVX512VL = 1u << 6,
    CKILN_CPU_AVX512VNNI = 1u << 7,
    CKILN_CPU_AVX512BF16 = 1u << 8,
    CKILN_CPU_F16C = 1u << 9,
};

#endif

/* C ABI tests: compiled with -std=c11 -Wall -Wextra -Werror -pedantic against include/kiln.h
 * and linked to libkiln.so. Prints one line per failure and "N passed, N failed" at the end. */
#include "kiln.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0;
static int failed = 0;

#define CHECK(condition)                                                                   \
    do {                                                                                   \
        if (condition) {                                                                   \
            passed++;                                                                      \
        } else {                                                                           \
            failed++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #condition, \
                    kiln_last_error());                                                    \
        }                                                                                  \
    } while (0)

#define CHECK_STATUS(call, expected)                                                       \
    do {                                                                                   \
        kiln_status got_ = (call);                                                         \
        CHECK(got_ == (expected));                                                         \
        if ((expected) != KILN_OK) CHECK(strlen(kiln_last_error()) > 0);                   \
    } while (0)

static uint32_t lcg_state = 12345u;
static float random_float(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)(lcg_state >> 8) / 16777216.0f - 0.5f;
}

/* Scalar reference, in double: C = alpha op(A) op(B) + beta C. */
static void reference_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                            const float *b, int ldb, float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int p = 0; p < k; p++) {
                double x = ta ? a[p * lda + i] : a[i * lda + p];
                double y = tb ? b[j * ldb + p] : b[p * ldb + j];
                sum += x * y;
            }
            c[i * ldc + j] = (float)(alpha * sum + beta * c[i * ldc + j]);
        }
    }
}

static void test_versions(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", KILN_VERSION_MAJOR, KILN_VERSION_MINOR, KILN_VERSION_PATCH);
    CHECK(strcmp(kiln_version(), expected) == 0);
    CHECK(kiln_abi_version() == KILN_ABI_VERSION);
}

static void test_status_strings(void) {
    CHECK(strcmp(kiln_status_string(KILN_OK), "ok") == 0);
    CHECK(strcmp(kiln_status_string(KILN_ERR_INVALID_ARGUMENT), "invalid argument") == 0);
    CHECK(strcmp(kiln_status_string(KILN_ERR_NULL_POINTER), "null pointer") == 0);
    CHECK(strcmp(kiln_status_string(12345), "unknown status") == 0);
    CHECK(strcmp(kiln_status_string(-1), "unknown status") == 0);
    kiln_free(NULL);
}

static void test_threads_and_info(void) {
    int32_t before = kiln_get_num_threads();
    CHECK(before >= 1);
    CHECK_STATUS(kiln_set_num_threads(1), KILN_OK);
    CHECK(kiln_get_num_threads() == 1);
    CHECK_STATUS(kiln_set_num_threads(-1), KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "thread count") != NULL);
    CHECK_STATUS(kiln_set_num_threads(100000), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_set_num_threads(0), KILN_OK);
    CHECK(kiln_get_num_threads() >= 1);

    char *json = (char *)0x1;
    CHECK_STATUS(kiln_info_json(&json), KILN_OK);
    CHECK(json != NULL && json[0] == '{');
    CHECK(json != NULL && strstr(json, "\"openblas\"") != NULL);
    CHECK(json != NULL && strstr(json, "\"build_target_cpu\"") != NULL);
    kiln_free(json);
    CHECK_STATUS(kiln_info_json(NULL), KILN_ERR_NULL_POINTER);
}

static void check_sgemm_case(int ta, int tb, int m, int n, int k, float alpha, float beta, int pad) {
    int a_rows = ta ? k : m, a_cols = ta ? m : k;
    int b_rows = tb ? n : k, b_cols = tb ? k : n;
    int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    float *a = malloc(sizeof(float) * (size_t)(a_rows * lda));
    float *b = malloc(sizeof(float) * (size_t)(b_rows * ldb));
    float *c = malloc(sizeof(float) * (size_t)(m * ldc));
    float *expected = malloc(sizeof(float) * (size_t)(m * ldc));
    for (int i = 0; i < a_rows * lda; i++) a[i] = random_float();
    for (int i = 0; i < b_rows * ldb; i++) b[i] = random_float();
    for (int i = 0; i < m * ldc; i++) c[i] = expected[i] = random_float();
    reference_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
    CHECK_STATUS(kiln_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), KILN_OK);
    double worst = 0;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < ldc; j++) {
            double error = fabs((double)c[i * ldc + j] - (double)expected[i * ldc + j]);
            double scale = 1e-5 * (1.0 + sqrt((double)k));
            if (error / scale > worst) worst = error / scale;
        }
    }
    if (worst > 1.0) fprintf(stderr, "sgemm ta=%d tb=%d m=%d n=%d k=%d: error ratio %g\n", ta, tb, m, n, k, worst);
    CHECK(worst <= 1.0);
    free(a);
    free(b);
    free(c);
    free(expected);
}

static void test_sgemm_values(void) {
    const int sizes[][3] = {{1, 1, 1}, {2, 3, 4}, {7, 5, 3}, {16, 16, 16}, {17, 33, 65}, {64, 100, 31}, {128, 7, 257}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int ta = 0; ta < 2; ta++) {
            for (int tb = 0; tb < 2; tb++) {
                check_sgemm_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f, 0);
                check_sgemm_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], -0.5f, 2.0f, 3);
            }
        }
    }
}

static void test_sgemm_bad_input(void) {
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 2, 3, 4, 5, 6}, c[4] = {0};
    /* A valid 2x3 * 3x2 call first. */
    CHECK_STATUS(kiln_sgemm(KILN_NO_TRANS, KILN_NO_TRANS, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_OK);
    CHECK(c[0] == 22 && c[1] == 28 && c[2] == 49 && c[3] == 64);

    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, NULL, 3, b, 2, 0, c, 2), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 3, NULL, 2, 0, c, 2), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 3, b, 2, 0, NULL, 2), KILN_ERR_NULL_POINTER);
    CHECK(strstr(kiln_last_error(), "C is NULL") != NULL);
    CHECK_STATUS(kiln_sgemm(0, 0, 0, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "m must be positive") != NULL);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, -1, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, -3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, (int64_t)1 << 40, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "lda") != NULL);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 3, b, 1, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, -3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, INT64_MAX, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(2, 0, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, -1, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    /* Nothing was written by the failed calls. */
    CHECK(c[0] == 22 && c[1] == 28 && c[2] == 49 && c[3] == 64);
}

int main(void) {
    test_versions();
    test_status_strings();
    test_threads_and_info();
    test_sgemm_values();
    test_sgemm_bad_input();
    printf("c: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

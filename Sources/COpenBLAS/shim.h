// OpenBLAS's CBLAS (with openblas_get_corename/config) and LAPACKE, from
// Debian's libopenblas-dev and liblapacke-dev.
#include <cblas.h>
#include <lapacke.h>

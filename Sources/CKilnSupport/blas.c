// OpenBLAS's thread server, which Kiln does not use (see KilnCore's Threads).
#include "ckiln_support.h"

// From OpenBLAS (cblas.h and common.h); both are exported by every threaded build.
void openblas_set_num_threads(int);
int blas_thread_shutdown_(void);

void ckiln_openblas_single_threaded(void) {
    openblas_set_num_threads(1);
    // The server threads OpenBLAS started when it was loaded spin for ~2^28 cycles (a tenth of
    // a second of CPU) before they sleep; single-threaded calls never wake them, so stop them.
    // OpenBLAS starts them again by itself if a threaded call ever needs them.
    blas_thread_shutdown_();
}

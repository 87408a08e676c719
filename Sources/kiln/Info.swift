import ArgumentParser
import KilnCore

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the build, the CPU features, the threads and the OpenBLAS core in use.")

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let info = SystemInfo.current
        if json {
            print(info.json.text)
            return
        }
        let avx512 = info.cpuFeatures.contains("avx512f")
        print("""
            kiln \(info.version) (C ABI \(info.abiVersion))
            build target CPU   \(info.buildTargetCPU)
            CPU features       \(info.cpuFeatures.joined(separator: " "))\(avx512 ? "" : "  (no AVX-512: SIMD kernels run narrower)")
            cores              \(info.cores)
            threads            \(info.threads)\(info.threadsFromEnvironment.map { "  (KILN_NUM_THREADS=\($0))" } ?? "  (default: cores)")
            OpenBLAS core      \(info.blas.coreName)\(info.blas.coreTypeOverride.map { "  (OPENBLAS_CORETYPE=\($0))" } ?? "")
            OpenBLAS config    \(info.blas.config)
            OpenBLAS threads   \(info.blas.threads) (\(info.blas.parallelism) build; products split over Kiln's threads)
            """)
        if let l2 = info.blas.l2SizeOverride { print("OpenBLAS L2 size    \(l2)  (OPENBLAS_L2_SIZE)") }
    }
}

import CKilnSupport

/// What a user debugging performance needs to know: the build, the CPU, the threads and the
/// BLAS that runs. `kiln info` prints it; `kiln_info_json` returns it through the C ABI.
public struct SystemInfo: Sendable {
    public let version: String
    public let abiVersion: Int
    /// The `-target-cpu` the SIMD code was compiled for (`KILN_TARGET_CPU`, default `native`).
    public let buildTargetCPU: String
    /// SIMD features of the running CPU, e.g. `avx2`, `fma`, `avx512f`.
    public let cpuFeatures: [String]
    public let cores: Int
    public let threads: Int
    /// `KILN_NUM_THREADS` as set in the environment, if any.
    public let threadsFromEnvironment: String?
    public let blas: BLAS.Info

    public static var current: SystemInfo {
        let bits = ckiln_cpu_features()
        let names: [(UInt32, String)] = [
            (CKILN_CPU_SSE42.rawValue, "sse4.2"), (CKILN_CPU_AVX.rawValue, "avx"), (CKILN_CPU_AVX2.rawValue, "avx2"),
            (CKILN_CPU_FMA.rawValue, "fma"), (CKILN_CPU_F16C.rawValue, "f16c"),
            (CKILN_CPU_AVX512F.rawValue, "avx512f"), (CKILN_CPU_AVX512BW.rawValue, "avx512bw"),
            (CKILN_CPU_AVX512VL.rawValue, "avx512vl"), (CKILN_CPU_AVX512VNNI.rawValue, "avx512vnni"),
            (CKILN_CPU_AVX512BF16.rawValue, "avx512bf16"),
        ]
        return SystemInfo(
            version: KilnVersion.string, abiVersion: KilnVersion.abi,
            buildTargetCPU: String(cString: ckiln_build_target_cpu()),
            cpuFeatures: names.filter { bits & $0.0 != 0 }.map(\.1),
            cores: Threads.availableCores, threads: Threads.count,
            threadsFromEnvironment: environment("KILN_NUM_THREADS"),
            blas: BLAS.info)
    }

    public var json: JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            ("version", .string(version)), ("abi_version", .int(abiVersion)),
            ("build_target_cpu", .string(buildTargetCPU)),
            ("cpu_features", .array(cpuFeatures.map(JSONValue.string))),
            ("cores", .int(cores)), ("threads", .int(threads)),
            ("kiln_num_threads_env", optional(threadsFromEnvironment)),
            ("openblas", .object([
                ("core", .string(blas.coreName)), ("config", .string(blas.config)),
                ("threads", .int(blas.threads)), ("parallelism", .string(blas.parallelism)),
                ("openblas_coretype_env", optional(blas.coreTypeOverride)),
                ("openblas_l2_size_env", optional(blas.l2SizeOverride)),
            ])),
        ])
    }
}

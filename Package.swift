// swift-tools-version: 6.0
// Kiln: a production-ML toolkit with a fast native core.
import PackageDescription

/// The CPU the SIMD kernels are compiled for. `native` by default (AVX-512 on the build machine);
/// set `KILN_TARGET_CPU` (an LLVM CPU name, e.g. `haswell`) for a portable build.
let targetCPU = Context.environment["KILN_TARGET_CPU"] ?? "native"

let swiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", targetCPU]),
]

let package = Package(
    name: "Kiln",
    products: [
        .library(name: "kiln", type: .dynamic, targets: ["KilnC"]),
        .library(name: "KilnCore", targets: ["KilnCore"]),
        .library(name: "KilnTabular", targets: ["KilnTabular"]),
        .library(name: "KilnTransform", targets: ["KilnTransform"]),
        .library(name: "KilnValidation", targets: ["KilnValidation"]),
        .library(name: "KilnVision", targets: ["KilnVision"]),
        .library(name: "KilnLoad", targets: ["KilnLoad"]),
        .executable(name: "kiln-cli", targets: ["kiln"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(name: "CKilnHeader"),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .target(
            name: "CKilnSupport",
            cSettings: [.define("KILN_TARGET_CPU_NAME", to: "\"\(targetCPU)\"")]
        ),
        .target(
            name: "KilnCore",
            dependencies: ["COpenBLAS", "CKilnSupport"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KilnNN",
            dependencies: ["KilnCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KilnTabular",
            dependencies: ["KilnCore", "CKilnSupport"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KilnTransform",
            dependencies: ["KilnCore", "KilnTabular", "COpenBLAS"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KilnValidation",
            dependencies: ["KilnCore", "KilnTabular"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KilnServe",
            dependencies: [
                "KilnCore", "KilnNN", "KilnTabular", "KilnTransform", "KilnVision",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KilnVision",
            dependencies: ["KilnCore", "CKilnSupport", "CTurboJPEG", "CPNG"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KilnLoad",
            dependencies: [
                "KilnCore", "KilnTabular", "CKilnSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            // The per-request path touches loop-confined class state only: the dynamic exclusivity
            // checks cost about a tenth of the generator's user time (perf), and buy nothing here.
            swiftSettings: swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .target(
            name: "KilnBenchmarks",
            dependencies: ["CKilnSupport", "KilnCore", "KilnNN", "KilnTabular", "KilnTransform", "KilnValidation", "KilnVision"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KilnC",
            dependencies: ["CKilnHeader", "KilnCore", "KilnNN", "KilnTabular", "KilnTransform", "KilnValidation", "KilnVision"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "kiln",
            dependencies: [
                "KilnCore", "KilnNN", "KilnTabular", "KilnTransform", "KilnValidation", "KilnVision", "KilnServe", "KilnLoad", "KilnBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnCoreTests",
            dependencies: ["KilnCore"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnTabularTests",
            dependencies: ["KilnTabular", "CKilnSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnTransformTests",
            dependencies: ["KilnTransform"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnValidationTests",
            dependencies: ["KilnValidation"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnVisionTests",
            dependencies: ["KilnVision", "CKilnSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnLoadTests",
            dependencies: [
                "KilnLoad",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnServeTests",
            dependencies: [
                "KilnServe", "KilnCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnNNTests",
            dependencies: ["KilnNN"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
